"""Layers of a :class:`sims.network.Sequential` network: ``Conv2D``, ``MaxPool2D``, ``Flatten``, ``Dense``.

A layer object is a *specification* (sizes, stride, padding, activation); it holds no parameters and no shapes of
its own, so one object may appear in several networks. Given the shape of one sample's input (channels first:
(C, H, W) for images, (d,) for vectors) it states its output shape and its parameter shapes, and it computes, for
all E ensemble members at once (activity axes ``(E, S, *shape)``, or ``(S, *shape)`` for an input shared by the
members),

* ``Conv2D(filters, kernel_size, stride=1, padding="valid")``: ``z = W * x + b`` (cross-correlation, Keras ``Conv2D``),
  kernels (E, O, C, kh, kw), biases (E, O); "valid" or "same" (TensorFlow's split of the padding);
* ``MaxPool2D(pool_size=2, stride=None)``: the maximum over pool_size x pool_size windows (stride defaults to the
  pool size, as Keras ``MaxPooling2D``); no parameters;
* ``Flatten()``: (C, H, W) -> (C H W,) in channels-first order; no parameters;
* ``Dense(units)``: z = x W + b, W (E, d, units), b (E, units) (the layout of :class:`sims.mlp.MLP`).

and the adjoint: from dL/dz the gradients dL/dW, dL/db and (unless it is the first layer) dL/dx. The kernels are
those of :mod:`sims.conv_ops` (NumPy im2col or Winograd F(2x2, 3x3) + BLAS; torch: one
convolution per member on CPU, one grouped convolution on CUDA). ``activation`` (a name or :class:`~analytic.activations.Activation`) applies after ``Conv2D`` /
``Dense``; None takes the network's.

>>> Conv2D(32, 3).output_shape((1, 28, 28)), MaxPool2D(2).output_shape((64, 24, 24)), Flatten().output_shape((64, 12, 12))
((32, 26, 26), (64, 12, 12), (9216,))
>>> Conv2D(8, 5, stride=2, padding="same").param_shapes((3, 9, 9))
((8, 3, 5, 5), (8,))
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from analytic.activations import get_activation
from analytic.checks import positive_int
from sims.conv_ops import conv_output_size

if TYPE_CHECKING:
    from analytic.activations import Activation
    from sims.conv_ops import NumpyConvOps, TorchConvOps

__all__ = ["Layer", "Conv2D", "MaxPool2D", "Flatten", "Dense", "layer_from_spec", "PADDINGS"]

PADDINGS = ("valid", "same")


def _pair(k, name):
    """A square window size from an int or an (n, n) pair (non-square windows are not supported)."""
    if isinstance(k, (tuple, list)):
        if len(k) != 2 or k[0] != k[1]:
            raise ValueError(f"{name} must be an int or a square (n, n) pair, got {k!r}")
        k = k[0]
    return positive_int(k, name)


def _image(in_shape, what):
    if len(in_shape) != 3:
        raise ValueError(f"input_shape: {what} needs image input (channels, height, width), got a sample shape "
                         f"{tuple(in_shape)}")
    return in_shape


class Layer:
    """Base of the layers (see the module docstring); parameter-free layers keep the defaults."""

    kind = "layer"
    activation = None
    has_params = False

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def param_shapes(self, in_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """(W shape, b shape) of one member, or None for a layer without parameters."""
        return None

    def fans(self, in_shape: tuple[int, ...]) -> tuple[int, int] | None:
        """(fan_in, fan_out) of the weights (for the initializers), or None."""
        return None

    def spec(self) -> dict:
        return {"kind": self.kind}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec().items() if k not in ("kind", "activation_params"))
        return f"{type(self).__name__}({args})"


class Conv2D(Layer):
    """2-D convolution (module docstring); ``kernel_size`` and ``stride`` ints (or square pairs)."""

    kind = "conv2d"
    has_params = True

    def __init__(self, filters: int, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] = 1,
                 padding: str = "valid", activation: str | Activation | None = None) -> None:
        self.filters = positive_int(filters, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.padding = padding
        self.activation = None if activation is None else get_activation(activation)

    def _geometry(self, in_shape):
        C, H, W = _image(in_shape, "Conv2D")
        k, s = self.kernel_size, self.stride
        if self.padding == "valid" and (k > H or k > W):
            raise ValueError(f"kernel_size: a {k}x{k} kernel does not fit the {H}x{W} input of this Conv2D "
                             "(use padding='same' or a smaller kernel)")
        Ho, pt, pb = conv_output_size(H, k, s, self.padding)
        Wo, pl, pr = conv_output_size(W, k, s, self.padding)
        return C, Ho, Wo, (pt, pb, pl, pr)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        _, Ho, Wo, _ = self._geometry(in_shape)
        return (self.filters, Ho, Wo)

    def param_shapes(self, in_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        C = _image(in_shape, "Conv2D")[0]
        return (self.filters, C, self.kernel_size, self.kernel_size), (self.filters,)

    def fans(self, in_shape: tuple[int, ...]) -> tuple[int, int]:
        kk = self.kernel_size ** 2
        return in_shape[0] * kk, self.filters * kk

    def forward(self, ops: NumpyConvOps | TorchConvOps, W: Any, b: Any, x: Any, in_shape: tuple[int, ...],
                keep: bool = True) -> tuple[Any, Any]:
        return ops.conv2d(x, W, b, self.stride, self._geometry(in_shape)[3], keep)

    def backward(self, ops: NumpyConvOps | TorchConvOps, W: Any, dz: Any, cache: Any, need_dx: bool
                 ) -> tuple[Any, Any, Any]:
        return ops.conv2d_backward(dz, W, cache, need_dx)

    def spec(self) -> dict:
        return {"kind": self.kind, "filters": self.filters, "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, **_act_spec(self.activation)}


class MaxPool2D(Layer):
    """Max-pooling over ``pool_size`` x ``pool_size`` windows, stride ``stride`` (default: the pool size)."""

    kind = "maxpool2d"

    def __init__(self, pool_size: int | tuple[int, int] = 2, stride: int | tuple[int, int] | None = None) -> None:
        self.pool_size = _pair(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else _pair(stride, "stride")

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        C, H, W = _image(in_shape, "MaxPool2D")
        p, s = self.pool_size, self.stride
        if p > H or p > W:
            raise ValueError(f"pool_size: a {p}x{p} window does not fit the {H}x{W} input of this MaxPool2D")
        return (C, (H - p) // s + 1, (W - p) // s + 1)

    def forward(self, ops: NumpyConvOps | TorchConvOps, W: Any, b: Any, x: Any, in_shape: tuple[int, ...],
                keep: bool = True) -> tuple[Any, Any]:
        self.output_shape(in_shape)
        return ops.maxpool2d(x, self.pool_size, self.stride, keep)

    def backward(self, ops: NumpyConvOps | TorchConvOps, W: Any, dz: Any, cache: Any, need_dx: bool
                 ) -> tuple[Any, Any, Any]:
        return ops.maxpool2d_backward(dz, cache), None, None

    def spec(self) -> dict:
        return {"kind": self.kind, "pool_size": self.pool_size, "stride": self.stride}


class Flatten(Layer):
    """(C, H, W) -> (C H W,), channels first (the flattened order of every recorded activity)."""

    kind = "flatten"

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(in_shape),)

    def forward(self, ops: NumpyConvOps | TorchConvOps, W: Any, b: Any, x: Any, in_shape: tuple[int, ...],
                keep: bool = True) -> tuple[Any, Any]:
        lead = x.shape[:x.ndim - len(in_shape)]
        return x.reshape(*lead, math.prod(in_shape)), (x.shape if keep else None)

    def backward(self, ops: NumpyConvOps | TorchConvOps, W: Any, dz: Any, cache: Any, need_dx: bool
                 ) -> tuple[Any, Any, Any]:
        return dz.reshape(cache), None, None


class Dense(Layer):
    """Fully connected: z = x W + b with W (E, d, units) (module docstring)."""

    kind = "dense"
    has_params = True

    def __init__(self, units: int, activation: str | Activation | None = None) -> None:
        self.units = positive_int(units, "units")
        self.activation = None if activation is None else get_activation(activation)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(in_shape) != 1:
            raise ValueError(f"input_shape: Dense needs vector input (d,), got a sample shape {tuple(in_shape)} "
                             "(put a Flatten() before it)")
        return (self.units,)

    def param_shapes(self, in_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        self.output_shape(in_shape)
        return (in_shape[0], self.units), (self.units,)

    def fans(self, in_shape: tuple[int, ...]) -> tuple[int, int]:
        return in_shape[0], self.units

    def forward(self, ops: NumpyConvOps | TorchConvOps, W: Any, b: Any, x: Any, in_shape: tuple[int, ...],
                keep: bool = True) -> tuple[Any, Any]:
        z = x @ W                      # (S, d) or (E, S, d) @ (E, d, h) -> (E, S, h)
        z += b[:, None, :]
        return z, (x if keep else None)

    def backward(self, ops: NumpyConvOps | TorchConvOps, W: Any, dz: Any, x: Any, need_dx: bool
                 ) -> tuple[Any, Any, Any]:
        dW = x.swapaxes(-1, -2) @ dz    # shared x (S, d): (d, S) @ (E, S, h) broadcasts to (E, d, h)
        db = dz.sum(1)
        dx = dz @ W.swapaxes(-1, -2) if need_dx else None
        return dx, dW, db

    def spec(self) -> dict:
        return {"kind": self.kind, "units": self.units, **_act_spec(self.activation)}


def _act_spec(act):
    if act is None:
        return {"activation": None, "activation_params": None}
    return {"activation": act.name, "activation_params": [list(p) for p in act.params]}


_KINDS = {"conv2d": Conv2D, "maxpool2d": MaxPool2D, "flatten": Flatten, "dense": Dense}


def layer_from_spec(spec: dict) -> Layer:
    """The layer described by ``Layer.spec()``."""
    spec = dict(spec)
    kind = spec.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"spec: unknown layer kind {kind!r} (known: {sorted(_KINDS)})")
    if "activation" in spec:
        name, params = spec.pop("activation"), spec.pop("activation_params")
        spec["activation"] = None if name is None else get_activation(name, **dict(params or []))
    return _KINDS[kind](**spec)
