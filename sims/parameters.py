"""The flat parameter axis of a network: one layout for :class:`sims.mlp.MLP` and :class:`sims.network.Sequential`.

The parameters of an ensemble of E networks live in ONE float array ``theta: (E, P)``: per layer l with parameters,
its weights W_l (``w_shape`` per member, row-major) on ``[w0, w1)`` and then its biases b_l (``b_shape``) on
``[w1, b1)``; a layer without parameters (pooling, flattening) has the empty slot ``w0 = w1 = b1``. ``(W_l, b_l)``
are views into ``theta``, so that an optimizer step is a few array operations on the whole (E, P) array.
A :class:`ParameterLayout` describes that axis (immutable); :class:`FlatParameters` gives a network the methods
built on it (``init_flat``, ``init_params``, ``views``, ``flatten``, ``flat_mask``, ``weight_slices``,
``layout``, ``orthonormality_step``).

Initial weights (biases start at zero, as in Keras), with the layer's fans (fan_in, fan_out) -- for a dense layer
(d_in, units), for a convolution (C kh kw, O kh kw) -- and ``s`` = init_scale (None = 1):

* ``"truncated_normal"``: N(0, (s / sqrt(fan_in))^2) redrawn outside 2 std (``tf.truncated_normal``, the code of
  Shwartz-Ziv & Tishby 2017);
* ``"glorot"``: uniform on +-s sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010, Eq. 16; Keras
  ``glorot_uniform``);
* ``"orthogonal"``: the Q of a QR decomposition of a Gaussian matrix, signs fixed by diag(R), times s (Saxe,
  McClelland & Ganguli 2014; Keras ``Orthogonal``); matrix weights only;
* ``"normal"``: N(0, s^2), s required;
* ``"zeros"``.

The draws run layer by layer, each layer's weights for the whole ensemble at once (one ``(E, *w_shape)`` draw), so
the numbers depend only on the generator, E and the layer shapes.

Example
-------
>>> layout = ParameterLayout.from_shapes([((3, 4), (4,)), None, ((4, 2), (2,))], [(3, 4), None, (4, 2)],
...                                      ["dense", "flatten", "dense"])
>>> layout.n_params, layout.weight_slices
(26, [(0, 12), (16, 16), (16, 24)])
>>> theta = layout.init("glorot", None, ensemble=5, seed=0)
>>> [None if W is None else W.shape for W, b in layout.views(theta)]
[(5, 3, 4), None, (5, 4, 2)]
>>> bool((layout.flatten(layout.views(theta)) == theta).all())
True
"""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from analytic.checks import finite_array, positive_int, positive_scalar
from analytic.checks import rng as make_rng
from sims.backend import is_torch

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from sims.backend import Backend

__all__ = ["ParameterSlot", "ParameterLayout", "FlatParameters", "INITS", "truncated_normal", "to_numpy"]

#: the initializations :meth:`ParameterLayout.init` draws (see the module docstring)
INITS = ("truncated_normal", "glorot", "orthogonal", "normal", "zeros")


def truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    """N(0, std^2) redrawn outside [-2 std, 2 std] (as ``tf.truncated_normal`` / Keras TruncatedNormal).

    ``std`` is the std *before* truncation; the drawn values have std ~ 0.8796 * std. The entries outside are
    redrawn together, in row-major order, until none is left.

    >>> x = truncated_normal(np.random.default_rng(0), (1000,), 0.5)
    >>> bool(np.abs(x).max() <= 1.0)
    True
    """
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2.0
    while bad.any():
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2.0
    return std * x


def _orthogonal(rng, E, rows, cols, gain):
    """Keras ``Orthogonal`` (E, rows, cols): QR of a Gaussian matrix, columns sign-fixed by diag(R), times gain."""
    a = rng.standard_normal((E, max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
    if rows < cols:
        q = q.swapaxes(-1, -2)
    return gain * q


def to_numpy(a: Any) -> Any:
    """NumPy view of a torch tensor (detached, on the CPU); anything else is returned as it is."""
    if is_torch(a):
        return a.detach().cpu().numpy()
    return a


class ParameterSlot(namedtuple("ParameterSlot", ["w0", "w1", "b1", "w_shape", "b_shape"])):
    """One layer's place on the flat axis, a tuple ``(w0, w1, b1, w_shape, b_shape)``: weights (int offsets) on
    ``[w0, w1)``, biases on ``[w1, b1)``, and the per-member shapes (tuples of int; None for a layer without
    parameters, whose slot is empty)."""

    __slots__ = ()


@dataclass(frozen=True)
class ParameterLayout:
    """The flat (E, P) parameter axis of a network (see the module docstring): one :class:`ParameterSlot`, one
    ``(fan_in, fan_out)`` (or None) and one name per layer.

    Parameters
    ----------
    slots : tuple of ParameterSlot
        Consecutive slots starting at 0 (build them with :meth:`from_shapes`).
    fans : tuple of (int, int) or None
        The fans of each layer's weights, for the initializers (None for a layer without parameters).
    names : tuple of str
        Each layer's kind (``"dense"``, ``"conv2d"``, ``"maxpool2d"``, ...), for error messages.
    unit : str
        What one entry of a params / mask list stands for in error messages (``"layer"``, ``"weight layer"``).
    """

    slots: tuple[ParameterSlot, ...]
    fans: tuple[tuple[int, int] | None, ...]
    names: tuple[str, ...]
    unit: str = "layer"

    @classmethod
    def from_shapes(cls, shapes: Sequence[tuple[tuple[int, ...], tuple[int, ...]] | None],
                    fans: Sequence[tuple[int, int] | None], names: Sequence[str] | None = None,
                    unit: str = "layer") -> "ParameterLayout":
        """The layout of layers with per-member ``(W shape, b shape)`` (None: no parameters), in order.

        >>> ParameterLayout.from_shapes([((2, 3), (3,))], [(2, 3)]).slots
        (ParameterSlot(w0=0, w1=6, b1=9, w_shape=(2, 3), b_shape=(3,)),)
        """
        shapes, fans = list(shapes), list(fans)
        names = ["dense"] * len(shapes) if names is None else list(names)
        if not len(shapes) == len(fans) == len(names):
            raise ValueError(f"fans / names: one entry per layer of shapes ({len(shapes)}), got {len(fans)} fans "
                             f"and {len(names)} names")
        slots, off = [], 0
        for l, (ps, fan) in enumerate(zip(shapes, fans)):
            if (ps is None) != (fan is None):
                raise ValueError(f"fans[{l}]: a layer has fans exactly when it has parameters (shapes[{l}])")
            if ps is None:
                slots.append(ParameterSlot(off, off, off, None, None))
                continue
            ws, bs = tuple(int(n) for n in ps[0]), tuple(int(n) for n in ps[1])
            nw, nb = math.prod(ws), math.prod(bs)
            slots.append(ParameterSlot(off, off + nw, off + nw + nb, ws, bs))
            off += nw + nb
        return cls(tuple(slots), tuple(None if f is None else (int(f[0]), int(f[1])) for f in fans), tuple(names),
                   unit)

    @property
    def n_params(self) -> int:
        """P, the length of the flat axis."""
        return self.slots[-1].b1 if self.slots else 0

    @property
    def n_layers(self) -> int:
        """Number of layers (slots), with or without parameters."""
        return len(self.slots)

    @property
    def weight_slices(self) -> list[tuple[int, int]]:
        """(start, stop) of each layer's weights on the flat axis (biases excluded; empty without parameters)."""
        return [(s.w0, s.w1) for s in self.slots]

    # ------------------------------------------------------------------ initial values
    def init(self, init: str, init_scale: float | None = None, ensemble: int = 1,
             rng: np.random.Generator | int | None = None, seed: np.random.Generator | int | None = None
             ) -> np.ndarray:
        """Initial parameters (E, P) float64, biases zero, weights drawn by ``init`` (module docstring).

        Randomness from ``rng`` or else ``seed`` (:func:`analytic.checks.rng`: None, an int >= 0 or a
        Generator), drawn layer by layer, the whole ensemble at once.
        """
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        if init_scale is not None:
            init_scale = positive_scalar(init_scale, "init_scale")
        elif init == "normal":
            raise ValueError("init_scale: init='normal' needs an explicit std (init_scale)")
        E = positive_int(ensemble, "ensemble")
        gen = make_rng(seed, "seed") if rng is None else make_rng(rng, "rng")
        theta = np.zeros((E, self.n_params))
        s = 1.0 if init_scale is None else init_scale
        for l, (slot, fan) in enumerate(zip(self.slots, self.fans)):
            if slot.w_shape is None:
                continue
            fi, fo = fan
            shape = (E, *slot.w_shape)
            if init == "truncated_normal":
                W = truncated_normal(gen, shape, s / math.sqrt(fi))
            elif init == "glorot":
                lim = s * math.sqrt(6.0 / (fi + fo))
                W = gen.uniform(-lim, lim, shape)
            elif init == "orthogonal":
                if len(slot.w_shape) != 2:
                    raise ValueError(f"init: 'orthogonal' needs matrix weights; layer {l} ({self.names[l]}) has "
                                     f"weights of shape {slot.w_shape}")
                W = _orthogonal(gen, E, *slot.w_shape, s)
            elif init == "normal":
                W = s * gen.standard_normal(shape)
            else:
                continue
            theta[:, slot.w0:slot.w1] = W.reshape(E, -1)
        return theta

    # ------------------------------------------------------------------ views and conversions
    def views(self, theta: Any) -> list[tuple[Any, Any]]:
        """Per layer ``(W, b)``, views ``(E, *w_shape)``, ``(E, *b_shape)`` into the flat (E, P) array or tensor
        ``theta`` (``(None, None)`` for a layer without parameters)."""
        E = theta.shape[0]
        return [(None, None) if s.w_shape is None else (theta[:, s.w0:s.w1].reshape(E, *s.w_shape), theta[:, s.w1:s.b1])
                for s in self.slots]

    def flatten(self, params: Sequence[tuple[Any, Any]], ensemble: int | None = None) -> np.ndarray:
        """Flat float64 (E, P) NumPy array from per-layer ``(W, b)`` (NumPy arrays or torch tensors; an unbatched
        W / b is broadcast over E; ``(None, None)`` for a layer without parameters).

        E is ``ensemble``, else the largest leading axis of a batched W, else 1. Errors name ``params[l]``.
        """
        if len(params) != self.n_layers:
            raise ValueError(f"params: expected {self.n_layers} (W, b) pairs (one per {self.unit}), got {len(params)}")
        Ws = [None if W is None else np.asarray(to_numpy(W), dtype=float) for W, _ in params]
        E = ensemble or max((W.shape[0] for W, s in zip(Ws, self.slots)
                             if W is not None and s.w_shape is not None and W.ndim == len(s.w_shape) + 1), default=1)
        theta = np.zeros((E, self.n_params))
        for l, ((W, b), s) in enumerate(zip(params, self.slots)):
            if s.w_shape is None:
                if W is not None or b is not None:
                    raise ValueError(f"params[{l}]: layer {l} ({self.names[l]}) has no parameters; give (None, None)")
                continue
            W = finite_array(to_numpy(W), f"params[{l}][0]")
            b = finite_array(to_numpy(b), f"params[{l}][1]")
            try:
                theta[:, s.w0:s.w1] = np.broadcast_to(W, (E, *s.w_shape)).reshape(E, -1)
                theta[:, s.w1:s.b1] = np.broadcast_to(b, (E, *s.b_shape))
            except ValueError:
                raise ValueError(f"params[{l}]: W must have shape {(E, *s.w_shape)} and b {(E, *s.b_shape)}, got "
                                 f"{W.shape} and {b.shape}") from None
        return theta

    def flat_mask(self, mask: Sequence[ArrayLike | None] | None, ensemble: int, bias: bool = True
                  ) -> np.ndarray | None:
        """Multiplier (E, P) with 0 at fixed-zero weights (and at every bias when ``bias`` is False), or None
        when nothing is fixed.

        ``mask``: None or a list over layers of None (all trainable) or a 0/1 (False/True) array of the layer's
        weight shape, with or without the E axis: 1 = trainable, 0 = fixed at zero. Errors name ``mask[l]``.
        """
        if mask is None and bias:
            return None
        m = np.ones((ensemble, self.n_params))
        if mask is not None:
            if len(mask) != self.n_layers:
                raise ValueError(f"mask: expected one entry per {self.unit} ({self.n_layers}), got {len(mask)}")
            for l, (ml, s) in enumerate(zip(mask, self.slots)):
                if ml is None:
                    continue
                if s.w_shape is None:
                    raise ValueError(f"mask[{l}]: layer {l} ({self.names[l]}) has no weights; give None")
                ml = finite_array(ml, f"mask[{l}]")
                if np.any((ml != 0) & (ml != 1)):
                    raise ValueError(f"mask[{l}] must contain only 0/1 (False/True)")
                try:
                    m[:, s.w0:s.w1] = np.broadcast_to(ml, (ensemble, *s.w_shape)).reshape(ensemble, -1)
                except ValueError:
                    raise ValueError(f"mask[{l}] must have shape {s.w_shape} or {(ensemble, *s.w_shape)}, got "
                                     f"{ml.shape}") from None
        if not bias:
            for s in self.slots:
                m[:, s.w1:s.b1] = 0.0
        return m

    def orthonormality_step(self, be: Backend, Ws: Sequence[Any], alpha: float) -> None:
        """Goldfeld et al.'s (2019) orthonormality step (after Cisse et al. 2017) W <- W - alpha (W W^T W - W), in
        place, on the weight matrix ``Ws[l]`` (a view, (E, d_in, units)) of every hidden layer with matrix weights
        (dense layers; convolution kernels, layers without parameters and the output layer are left alone)."""
        for s, W in zip(self.slots[:-1], Ws[:-1]):
            if s.w_shape is not None and len(s.w_shape) == 2:
                W -= alpha * (be.matmul(be.matmul(W, be.mT(W)), W) - W)


class FlatParameters:
    """The flat-parameter methods of a network, built on its :class:`ParameterLayout` ``param_layout``.

    A network class (:class:`sims.mlp.MLP`, :class:`sims.network.Sequential`) derives from it and sets
    ``param_layout``, ``init`` (one of :data:`INITS`), ``init_scale`` (None or > 0) and ``bias``.
    """

    param_layout: ParameterLayout
    init: str
    init_scale: float | None
    bias: bool

    @property
    def layout(self) -> tuple[ParameterSlot, ...]:
        """Per layer ``(w0, w1, b1, W shape, b shape)`` on the flat axis (:class:`ParameterSlot`)."""
        return self.param_layout.slots

    @property
    def n_params(self) -> int:
        """P, the number of parameters (weights and biases) of one member."""
        return self.param_layout.n_params

    @property
    def weight_slices(self) -> list[tuple[int, int]]:
        """(start, stop) of each layer's weights W on the flat parameter axis (biases excluded; empty for a layer
        without parameters)."""
        return self.param_layout.weight_slices

    def init_flat(self, ensemble: int = 1, rng: np.random.Generator | int | None = None,
                  seed: np.random.Generator | int | None = None) -> np.ndarray:
        """Initial parameters as a flat float64 array (E, P), drawn from ``rng`` or else ``seed`` (a Generator,
        an int >= 0 or None) layer by layer, the whole ensemble at once (:meth:`ParameterLayout.init`)."""
        return self.param_layout.init(self.init, self.init_scale, ensemble, rng=rng, seed=seed)

    def init_params(self, ensemble: int = 1, seed: np.random.Generator | int | None = None,
                    rng: np.random.Generator | int | None = None, mask: Sequence[ArrayLike | None] | None = None
                    ) -> list[tuple[Any, Any]]:
        """Initial per-layer ``[(W, b), ...]`` as NumPy arrays (masked weights and, without bias, the biases set to
        zero; ``(None, None)`` for a layer without parameters)."""
        theta = self.init_flat(ensemble, rng=rng, seed=seed)
        m = self.flat_mask(mask, theta.shape[0])
        if m is not None:
            theta *= m
        return self.views(theta)

    def views(self, theta: Any) -> list[tuple[Any, Any]]:
        """Per layer ``(W, b)`` views into the flat (E, P) array or tensor ``theta`` (``(None, None)`` for a layer
        without parameters)."""
        return self.param_layout.views(theta)

    def flatten(self, params: Sequence[tuple[Any, Any]], ensemble: int | None = None) -> np.ndarray:
        """Flat float64 (E, P) NumPy array from per-layer ``(W, b)`` (unbatched W / b broadcast over E)."""
        return self.param_layout.flatten(params, ensemble)

    def flat_mask(self, mask: Sequence[ArrayLike | None] | None, ensemble: int) -> np.ndarray | None:
        """Multiplier (E, P) with 0 at fixed-zero weights (and at the biases when ``bias=False``), or None.

        ``mask`` is None or a list over layers of None / 0-1 (boolean-like) arrays of the layer's weight shape,
        with or without the E axis: 1 (True) = trainable, 0 (False) = fixed at zero.
        """
        return self.param_layout.flat_mask(mask, ensemble, self.bias)

    def orthonormality_step(self, be: Backend, Ws: Sequence[Any], alpha: float) -> None:
        """Goldfeld et al.'s (2019) orthonormality step W <- W - alpha (W W^T W - W), in place, on every hidden
        dense layer's W (the views ``Ws``; convolution kernels and the output layer are left alone)."""
        self.param_layout.orthonormality_step(be, Ws, alpha)
