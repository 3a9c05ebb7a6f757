"""Layered networks (convolutional or not) with an ensemble axis, trained by :func:`sims.train` like an MLP.

A :class:`Sequential` is a *specification*: the layers of :mod:`sims.layers` (``Conv2D``, ``MaxPool2D``,
``Flatten``, ``Dense``), the shape of one input sample (channels first, (C, H, W)), the hidden activation, the
output nonlinearity of the last layer (a ``Dense``) and the initialization. Parameters live outside it, in ONE flat
array theta (E, P) (per parameterized layer its weights, then its biases), exactly as for :class:`sims.mlp.MLP`
(one layout for both, :mod:`sims.parameters`); ``views(theta)`` gives, per layer, (W, b) views into it
(``(None, None)`` for a layer without parameters).
Every layer is a layer of the network: it is recorded, counted in ``n_layers`` and has a row in the gradient
statistics (zero weights for pooling and flattening). Layer l computes::

    z_l = layer_l(a_{l-1}),   a_l = f_l(z_l) + noise_std * xi_l   (f_l the activation of Conv2D / Dense layers,
                                                                    the identity for MaxPool2D / Flatten)
    a_L = out(z_L)                                                 (the last Dense layer: softmax, sigmoid, linear)

the same equations as :class:`sims.mlp.MLP` (Goldfeld et al. 2019, Sec. 2 for the noise), with the same losses
(the MLP's ``loss_per_member`` / ``loss_per_sample``, cross-entropy or mean squared error, batch means) and
hand-written backprop through every layer (:mod:`sims.conv_ops` for the convolution and pooling adjoints).

**Layout.** Images are channels first. Inside a step, activities have the logical axes (E, S, C, H, W) (E members,
S samples); the output layer hands the trainer (E, k, S), as the MLP does. The recorded activity of every layer
(``forward_arrays``, the consumers, ``run.activity(l)``) is flattened per sample, (E, S, C H W) in channels-first
order (``a.reshape(E, S, *net.layer_shapes[l])`` restores the image axes; channel c of a conv layer is the
contiguous block ``[c H W, (c + 1) H W)``). Data come flattened, (n, C H W), or as images (n, C, H, W) /
(n, H, W) for one channel.

**Memory.** A forward pass over many samples (evaluation of a split, the analysis set at a logged epoch) runs in
chunks of samples so that its temporaries stay below :data:`CHUNK_BYTES`; a training step whose cached
intermediate arrays would exceed :data:`CACHE_BYTES` (full-batch training on a large set) recomputes the forward
pass chunk by chunk in backprop and sums the chunks' gradients. What is returned (the activity of every layer on
all samples) is the caller's: a conv layer of 10,000 MNIST test images is 10,000 x 21,632 floats per member.

Examples
--------
The thesis CNN (Keras's mnist_cnn without dropout; Adadelta, batch 128):

>>> from sims.layers import Conv2D, MaxPool2D, Flatten, Dense
>>> net = Sequential([Conv2D(32, 3), Conv2D(64, 3), MaxPool2D(2), Flatten(), Dense(128), Dense(10)],
...                  input_shape=(1, 28, 28), activation="relu", output="softmax")
>>> net.layer_shapes, net.n_params
(((32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,)), 1199882)
>>> import numpy as np
>>> params = net.init_params(ensemble=2, seed=0)
>>> [a.shape for a in net.forward(params, np.zeros((3, 784)))][:2]
[(2, 3, 21632), (2, 3, 36864)]
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, positive, positive_int
from analytic.checks import rng as make_rng
from sims.backend import NumpyBackend, backend_of, is_torch
from sims.conv_ops import conv_ops
from sims.layers import Dense, Layer, layer_from_spec
from sims.mlp import MLP, network_options, targets_from_labels
from sims.parameters import FlatParameters, ParameterLayout

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from sims.backend import Backend

__all__ = ["Sequential", "network_from_spec", "INITS", "CHUNK_BYTES", "CACHE_BYTES"]

INITS = ("glorot", "truncated_normal", "normal", "zeros")
CHUNK_BYTES = 256 * 2**20     # bound on the temporaries of a forward pass without backprop (per member group)
CACHE_BYTES = 4 * 2**30       # bound on the arrays a training step caches for backprop before it recomputes


class Sequential(FlatParameters):
    """A stack of :mod:`sims.layers` layers (see the module docstring for the math and the layout).

    Parameters
    ----------
    layers : sequence of :class:`sims.layers.Layer`; the last one a ``Dense`` with one unit per class/output.
    input_shape : shape of one sample, channels first: (C, H, W) for images (an int or (d,) for vectors).
    activation : name or :class:`~analytic.activations.Activation` of the hidden Conv2D/Dense layers that set none.
    output : ``"softmax"``, ``"sigmoid"`` or ``"linear"`` (the last layer's nonlinearity).
    init : ``"glorot"`` (uniform on +-init_scale sqrt(6 / (fan_in + fan_out)), fan_in = C kh kw and fan_out =
        O kh kw for a convolution: the Keras default ``glorot_uniform``), ``"truncated_normal"`` (std
        init_scale / sqrt(fan_in), truncated at 2 std), ``"normal"`` (N(0, init_scale^2), init_scale required) or
        ``"zeros"``. Biases start at zero (Keras's default).
    init_scale : multiplies the default scale (None = 1); for ``"normal"`` it is the std itself.
    bias : False keeps all biases fixed at zero.
    """

    # The output layer's losses are those of the MLP (same formulas, same (E, k, S) layout of the output).
    check_loss = MLP.check_loss
    loss_per_member = MLP.loss_per_member
    loss_per_sample = MLP.loss_per_sample
    _output = MLP._output
    _output_delta = MLP._output_delta

    def __init__(self, layers: Sequence[Layer], input_shape: int | Sequence[int], activation: str | Activation = "relu",
                 output: str = "softmax", init: str = "glorot", init_scale: float | None = None,
                 bias: bool = True) -> None:
        try:
            layers = list(layers)
        except TypeError:
            raise ValueError(f"layers must be a sequence of sims.layers layers, got {layers!r}") from None
        if not layers:
            raise ValueError("layers: a network needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"layers[{i}] must be a sims.layers layer (Conv2D, MaxPool2D, Flatten, Dense), "
                                 f"got {type(layer).__name__}")
        if not isinstance(layers[-1], Dense):
            raise ValueError("layers: the last layer must be a Dense layer (the output layer)")
        if layers[-1].activation is not None:
            raise ValueError("layers: the last Dense layer takes its nonlinearity from output=..., not activation")
        if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
            input_shape = (input_shape,)
        try:
            input_shape = tuple(positive_int(n, "input_shape") for n in input_shape)
        except TypeError:
            raise ValueError(f"input_shape must be a tuple of sizes, e.g. (1, 28, 28), got {input_shape!r}") from None
        if len(input_shape) not in (1, 3):
            raise ValueError(f"input_shape must be (C, H, W) or (d,), got {input_shape!r}")
        self.layers = tuple(layers)
        self.input_shape = input_shape
        shapes = [input_shape]
        for layer in layers:
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        self.in_shapes, self.layer_shapes = tuple(shapes[:-1]), tuple(shapes[1:])
        default = get_activation(activation)
        self.activation = default
        self.activations: tuple[Activation | None, ...] = tuple(
            (layer.activation or default) if layer.has_params and l < len(layers) - 1 else None
            for l, layer in enumerate(layers))
        self.output, self.init, self.init_scale = network_options(output, init, init_scale, INITS)
        self.bias = bool(bias)
        # flat layout (sims.parameters): per layer its W then its b; an empty slot for a layer without parameters
        self.param_layout = ParameterLayout.from_shapes(
            [layer.param_shapes(ins) for layer, ins in zip(layers, self.in_shapes)],
            [layer.fans(ins) for layer, ins in zip(layers, self.in_shapes)], [layer.kind for layer in layers])
        self.widths = (math.prod(input_shape),) + tuple(math.prod(s) for s in self.layer_shapes)
        # floats per sample and member: kept for backprop (im2col patches, activities) / live in a plain forward
        patches = [math.prod(s[1:]) * layer.kernel_size ** 2 * ins[0] if layer.kind == "conv2d" else math.prod(s)
                   for layer, ins, s in zip(layers, self.in_shapes, self.layer_shapes)]
        self._cache_floats = sum(patches) + 3 * sum(self.widths)
        self._forward_floats = max(patches) + 4 * max(self.widths)

    # ------------------------------------------------------------------ description
    @property
    def n_layers(self) -> int:
        """Number of layers (every layer is recorded)."""
        return len(self.layers)

    @property
    def layer_widths(self) -> tuple[int, ...]:
        """Units per layer: the flattened size C H W of each layer's output."""
        return self.widths[1:]

    def spec(self) -> dict:
        """JSON-able description (saved with runs and checkpoints; :func:`network_from_spec` reads it back)."""
        return {"type": "sequential", "input_shape": list(self.input_shape),
                "layers": [layer.spec() for layer in self.layers], "activation": self.activation.name,
                "activation_params": [list(p) for p in self.activation.params], "output": self.output,
                "init": self.init, "init_scale": self.init_scale, "bias": self.bias, "widths": list(self.widths),
                "layer_shapes": [list(s) for s in self.layer_shapes]}

    @classmethod
    def from_spec(cls, spec: dict) -> "Sequential":
        act = get_activation(spec["activation"], **dict(spec.get("activation_params") or []))
        return cls([layer_from_spec(s) for s in spec["layers"]], tuple(spec["input_shape"]), act, spec["output"],
                   spec["init"], spec["init_scale"], spec["bias"])

    def __repr__(self):
        inner = ", ".join(map(repr, self.layers))
        return (f"Sequential([{inner}], input_shape={self.input_shape}, activation={self.activation.name}, "
                f"output={self.output})")

    # ------------------------------------------------------------------ parameters
    # init_flat, init_params, views, flatten, flat_mask, weight_slices, layout, n_params: sims.parameters.
    # FlatParameters on ``param_layout``; its orthonormality step acts on the hidden Dense layers only.

    # ------------------------------------------------------------------ forward / backward
    def _images(self, x, lead: int):
        """Flattened samples (..., d) as (..., *input_shape) (``lead`` leading axes)."""
        return x.reshape(*x.shape[:lead], *self.input_shape)

    def _run(self, be, ops, Ws, bs, x, noise, keep):
        """Forward through every layer from ``x`` ((S, *in) shared or (E, S, *in)); ``noise(l)``: None or the
        layer's noise (E, S, *shape). Returns caches, noiseless values f, activities a (internal layout; the last
        layer's z and a are (E, S, k))."""
        caches, fs, acts = [], [], []
        a = x
        L = self.n_layers
        for l, (layer, ins) in enumerate(zip(self.layers, self.in_shapes)):
            z, cache = layer.forward(ops, Ws[l], bs[l], a, ins, keep)
            if l == L - 1:
                caches.append(cache)
                fs.append(None)
                acts.append(z)
                break
            act = self.activations[l]
            f = z if act is None else be.cast(act.value(z, xp=be))
            del z
            nz = noise(l) if noise is not None else None
            a = f if nz is None else f + nz
            caches.append(cache)
            fs.append(f if keep else None)
            acts.append(a)
        return caches, fs, acts

    def _chunks(self, be, x, noises, E, floats, limit, samples_last=True):
        """The chunks of samples of a pass whose temporaries (``floats`` per sample and member) stay below
        ``limit`` bytes: per chunk ``(s0, s1, inputs, noise)``, ``noise`` as :meth:`_run` takes it. ``x``: images
        (S, *in) shared or (E, S, *in); ``noises``: None or per hidden layer None / (E, units, S) (``samples_last``)
        / (E, S, units)."""
        itemsize = 4 if be.dtype_name == "float32" else 8
        n = max(1, int(limit // max(1, E * floats * itemsize)))
        shared = x.ndim == len(self.input_shape) + 1
        S = x.shape[0 if shared else 1]
        for s0 in range(0, S, n):
            s1 = min(S, s0 + n)

            def noise(l, s0=s0, s1=s1):
                if noises[l] is None:
                    return None
                nz = be.mT(noises[l][:, :, s0:s1]) if samples_last else noises[l][:, s0:s1]
                return nz.reshape(E, s1 - s0, *self.layer_shapes[l])

            yield s0, s1, (x[s0:s1] if shared else x[:, s0:s1]), (None if noises is None else noise)

    def _members(self, Ws) -> int:
        return next(W.shape[0] for W in Ws if W is not None)

    def propagate(self, be: Backend, Ws: Sequence[Any], bs: Sequence[Any], xT: Any, noises: Sequence[Any] | None = None,
                  keep_pre: bool = True) -> tuple[list, list, list] | list:
        """Forward pass of a training step or an evaluation, for the backend ``be``.

        ``xT``: inputs (d, S) shared or (E, d, S) (samples last, as the trainer holds them); ``noises``: None or a
        list over the hidden layers of (E, units, S) arrays. Returns ``(zs, fs, acts)`` whose last entries are
        the output pre-activation and output (E, k, S) (all the trainer reads); the other entries are this
        network's own (caches, values, activities for :meth:`backprop_into`). When the cache would exceed
        :data:`CACHE_BYTES` only the output is kept (computed in chunks), and backprop recomputes."""
        ops = conv_ops(be)
        E = self._members(Ws)
        x = be.mT(xT)
        S = x.shape[-2]
        x = self._images(x, x.ndim - 1)
        itemsize = 4 if be.dtype_name == "float32" else 8
        if E * S * self._cache_floats * itemsize <= CACHE_BYTES:
            noise = None if noises is None else (
                lambda l: None if noises[l] is None else be.mT(noises[l]).reshape(E, S, *self.layer_shapes[l]))
            caches, fs, acts = self._run(be, ops, Ws, bs, x, noise, keep=True)
            zT = be.mT(acts[-1])
            aT = self._output(be, zT)
            acts[-1] = aT
            zs = caches + [zT]
            return (zs, fs, acts) if keep_pre else acts
        zT, aT = self._output_chunks(be, ops, Ws, bs, x, noises, E, S)
        zs = [_Recompute(bs, noises)] + [None] * (self.n_layers - 1) + [zT]
        acts = [None] * (self.n_layers - 1) + [aT]
        return (zs, [None] * self.n_layers, acts) if keep_pre else acts

    def _output_chunks(self, be, ops, Ws, bs, x, noises, E, S):
        """(z, out) (E, k, S) of the output layer, computed in chunks of samples (no caches)."""
        zT = be.empty((E, self.widths[-1], S))
        for s0, s1, xc, noise in self._chunks(be, x, noises, E, self._forward_floats, CHUNK_BYTES):
            _, _, acts = self._run(be, ops, Ws, bs, xc, noise, keep=False)
            be.assign(zT[:, :, s0:s1], be.mT(acts[-1]))
        return zT, self._output(be, zT)

    def backprop_into(self, be: Backend, Ws: Sequence[Any], zs: Sequence[Any], fs: Sequence[Any], acts: Sequence[Any],
                      xT: Any, t: Any, loss: str, gWs: Sequence[Any], gbs: Sequence[Any]) -> None:
        """Write dL/dW, dL/db of every layer (batch-mean loss, per member) into the views ``gWs``, ``gbs``.

        delta_L = dL/dz_L at the output (the MLP's formula); then layer by layer down: dL/dz_l = dL/da_l *
        f_l'(z_l) (from the noiseless value f_l), and the layer's adjoint gives dL/dW_l, dL/db_l, dL/da_{l-1}.
        ``xT``: (d, B) or (E, d, B); ``t``: (k, B) or (E, k, B). After a :meth:`propagate` that kept no cache the
        forward pass is recomputed chunk by chunk and the chunks' gradients summed."""
        ops = conv_ops(be)
        if not isinstance(zs[0], _Recompute):
            delta = be.mT(self._output_delta(zs[-1], acts[-1], t, loss))
            self._backward(be, ops, Ws, zs[:-1], fs, delta, gWs, gbs, accumulate=False)
            return
        bs, noises = zs[0].bs, zs[0].noises
        E = self._members(Ws)
        B = xT.shape[-1]
        x = be.mT(xT)
        x = self._images(x, x.ndim - 1)
        chunks = self._chunks(be, x, noises, E, self._cache_floats, CHUNK_BYTES * 4)
        for i, (s0, s1, xc, noise) in enumerate(chunks):
            caches, f_c, acts_c = self._run(be, ops, Ws, bs, xc, noise, keep=True)
            zT = be.mT(acts_c[-1])
            aT = self._output(be, zT)
            tc = t[..., s0:s1]
            delta = be.mT(self._output_delta(zT, aT, tc, loss))
            delta *= (s1 - s0) / B              # the chunk's share of the batch mean
            self._backward(be, ops, Ws, caches, f_c, delta, gWs, gbs, accumulate=i > 0)

    def _backward(self, be, ops, Ws, caches, fs, dz, gWs, gbs, accumulate):
        """From dL/dz of the output layer (E, S, k) down to the first layer's parameter gradients."""
        for l in range(self.n_layers - 1, -1, -1):
            layer = self.layers[l]
            if l < self.n_layers - 1 and self.activations[l] is not None:
                dz = dz * be.cast(self.activations[l].derivative_from_value(fs[l], xp=be))
            dx, dW, db = layer.backward(ops, Ws[l], dz, caches[l], l > 0)
            if dW is not None:
                if accumulate:
                    gW, gb = gWs[l], gbs[l]
                    gW += dW.reshape(gW.shape)
                    gb += db
                else:
                    be.assign(gWs[l], dW.reshape(gWs[l].shape))
                    be.assign(gbs[l], db)
            dz = dx

    def forward_arrays(self, be: Backend, Ws: Sequence[Any], bs: Sequence[Any], x: Any,
                       noises: Sequence[Any] | None = None) -> tuple[Any, list]:
        """Forward pass over samples-first inputs, in chunks of samples (:data:`CHUNK_BYTES`).

        Returns ``(z_L, acts)``: the output pre-activation (E, S, k) and every layer's activity flattened per
        sample, (E, S, units) C-contiguous (the last: the output nonlinearity). ``x``: (S, d) shared or
        (E, S, d); ``noises``: None or a list over hidden layers of (E, S, units) arrays."""
        ops = conv_ops(be)
        E = self._members(Ws)
        S = x.shape[-2]
        x = self._images(x, x.ndim - 1)
        outs = [be.empty((E, S, w)) for w in self.layer_widths]
        z_out = be.empty((E, S, self.widths[-1]))
        for s0, s1, xc, noise in self._chunks(be, x, noises, E, self._forward_floats, CHUNK_BYTES, samples_last=False):
            _, _, acts = self._run(be, ops, Ws, bs, xc, noise, keep=False)
            for l, a in enumerate(acts[:-1]):
                be.assign(outs[l][:, s0:s1], a.reshape(E, s1 - s0, -1))
            be.assign(z_out[:, s0:s1], acts[-1])
        outs[-1] = be.contiguous(be.mT(self._output(be, be.mT(z_out))))
        return z_out, outs

    # ------------------------------------------------------------------ convenience (NumPy or torch)
    def _check_x(self, x, be):
        x = be.asarray(x)
        d = self.widths[0]
        shape = tuple(x.shape)
        if shape[-len(self.input_shape):] == self.input_shape and len(shape) in (len(self.input_shape) + 1,
                                                                                len(self.input_shape) + 2):
            x = x.reshape(*shape[:-len(self.input_shape)], d)
        elif len(self.input_shape) == 3 and self.input_shape[0] == 1 and shape[-2:] == self.input_shape[1:] \
                and len(shape) in (3, 4):
            x = x.reshape(*shape[:-2], d)
        if x.ndim not in (2, 3) or x.shape[-1] != d:
            raise ValueError(f"x must hold samples of shape {self.input_shape} (or flattened, {d} values): shape "
                             f"(S, {d}), (S, {', '.join(map(str, self.input_shape))}) or with a leading ensemble "
                             f"axis; got {shape}")
        if not be.all_finite(x):
            raise ValueError("x contains NaN or inf")
        return x

    def forward(self, params: Sequence[tuple[Any, Any]], x: Any, noise_std: float = 0.0,
                rng: np.random.Generator | None = None) -> list:
        """Activities of every layer, each (E, S, units) (flattened per sample); the last is the output.

        ``x``: (S, d) / ``(S, *input_shape)`` shared by all members, or with a leading E axis. ``noise_std`` adds
        N(0, noise_std^2) after every hidden layer, drawn from ``rng``. The backend follows ``params``."""
        be = backend_of(next(W for W, _ in params if W is not None))
        if not is_torch(x) and np.iscomplexobj(x):
            raise TypeError("x must be real, got a complex array")
        x = self._check_x(x, be)
        theta = be.asarray(self.flatten(params))
        Ws, bs = zip(*self.views(theta))
        noises = None
        if noise_std:
            noise_std = positive(noise_std, "noise_std")
            rng = make_rng(rng, "rng")
            E, S = theta.shape[0], x.shape[-2]
            noises = [be.asarray(noise_std * rng.standard_normal((E, S, w))) for w in self.layer_widths[:-1]]
        return self.forward_arrays(be, Ws, bs, x, noises)[1]

    def loss_and_grads(self, params: Sequence[tuple[Any, Any]], x: Any, y: ArrayLike, loss: str = "cross_entropy",
                       noise: Sequence[Any | None] | None = None, backend: Backend | None = None
                       ) -> tuple[Any, list[tuple[Any, Any]]]:
        """Batch-mean loss per member (E,) and exact gradients per layer ``[(dL/dW, dL/db) or (None, None)]``.

        ``y``: integer labels (S,) or targets (S, k); ``noise``: None or a list over the hidden layers of fixed
        (E, S, units) noise arrays; ``backend``: a :class:`sims.backend.Backend` (default NumPy float64)."""
        self.check_loss(loss)
        be = backend or NumpyBackend()
        theta = be.asarray(self.flatten(params))
        Ws, bs = zip(*self.views(theta))
        x = self._check_x(x if is_torch(x) else finite_array(x, "x"), be)
        t = targets_from_labels(y, self.widths[-1])
        if t.shape[0] != x.shape[-2]:
            raise ValueError(f"y: {t.shape[0]} labels for {x.shape[-2]} samples")
        xT, tT = be.mT(x), be.asarray(t.T)
        noiseT = None if noise is None else [None if n is None else be.mT(be.asarray(n)) for n in noise]
        zs, fs, acts = self.propagate(be, Ws, bs, xT, noiseT)
        grad = be.zeros(tuple(theta.shape))
        gW, gb = zip(*self.views(grad))
        self.backprop_into(be, Ws, zs, fs, acts, xT, tT, loss, gW, gb)
        return self.loss_per_member(be, zs[-1], acts[-1], tT, loss), self.views(grad)


class _Recompute:
    """What :meth:`Sequential.backprop_into` needs to recompute a forward pass that kept no cache."""

    def __init__(self, bs, noises):
        self.bs, self.noises = bs, noises


def network_from_spec(spec: dict) -> Sequential | MLP:
    """The network (:class:`Sequential` or :class:`sims.mlp.MLP`) described by its ``spec()``."""
    if not isinstance(spec, dict):
        raise ValueError(f"spec must be a dict (a network's spec()), got {type(spec).__name__}")
    if spec.get("type") == "sequential":
        return Sequential.from_spec(spec)
    return MLP.from_spec(spec)
