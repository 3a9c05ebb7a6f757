r"""Information-plane methods for convolutional layers, the KDE noise-variance tuning and the sample-size check.

A convolutional layer's activity for S equiprobable samples has shape (S, C, H, W): C channels ("depth") of
H x W maps. The fully connected estimators of :mod:`sims.estimators` take one vector per sample. The 2019 thesis
"Information Bottleneck Theory: extensions to convolutional neural networks and the stochastic gradient
hypothesis" (Sec. 3.1) proposes two ways to apply them:

* ``"concat"``: all channels flattened into one vector of C·H·W units per sample,
  :math:`I_\text{concat} = I(X; \mathrm{vec}(T))`;
* ``"mean"``: the estimate of each channel's H·W-unit map, averaged over channels,
  :math:`I_\text{mean} = \frac1C \sum_{c=1}^{C} I(X; T_c)` (and the same for I(T;Y)).

For a dense layer (depth 1) both are the same number (the thesis: "by definition of the methods"). ``mean`` is
a pseudo-information: it can break the data-processing inequality. Both use one estimator call: ``mean`` moves
the channels into the estimator's batch axes, so all channels (and ensemble members, epochs) are one vectorized
call.

:func:`tune_kde_noise_var` finds the KDE noise variance at which a KDE estimate equals a target (the thesis
tunes it "so the KDE values matched the analytical entropy of the MNIST labels (log2 10)" and reports 0.0735);
it scans a log-spaced grid for the sign change and refines it with Brent's method, and reports the grid, the
root and whether the quantity was monotone on the grid. ``quantity="h_t"`` is Kolchinsky & Tracey's (2017) KL
upper bound on the entropy of the Gaussian mixture T + N(0, noise_var I) in d dimensions,

.. math::  \hat H(T) = \tfrac d2 \ln(2\pi e\,\sigma^2) + \hat I_\text{upper}(X;T),

the "estimated entropy" of the activity (e.g. the one-hot labels or the softmax output).

:func:`sample_size_curve` repeats an estimate on random subsets of increasing size (the thesis's check that
"the information quantities stabilise for sample size > 100"), and :func:`stable_sample_size` reads off the
smallest size from which the mean estimate stays within a tolerance of the largest-size value.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> act = rng.normal(size=(200, 3, 4, 4))                 # (samples, channels, H, W)
>>> y = np.arange(200) % 2
>>> same = np.repeat(act[:, :1], 3, axis=1)               # three copies of channel 0
>>> m = conv_info(same, y, "mean", noise_var=0.1)[0]
>>> one = conv_info(same[:, :1], y, "concat", noise_var=0.1)[0]
>>> bool(np.isclose(m, one))
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from analytic import checks
from sims.estimators._common import real_array
from sims.estimators.adaptive import adaptive
from sims.estimators.binned import binned
from sims.estimators.kde import kde

__all__ = ["METHODS", "conv_info", "channel_info", "ConvInfoPlaneConsumer", "kde_entropy", "tune_kde_noise_var",
           "NoiseVarTuning", "sample_size_curve", "SampleSizeCurve", "stable_sample_size", "one_hot"]

METHODS = ("concat", "mean")
_NAMED = {"kde": kde, "binned": binned, "adaptive": adaptive}


def _estimator(estimator) -> Callable:
    if callable(estimator):
        return estimator
    if estimator not in _NAMED:
        raise ValueError(f"estimator must be one of {sorted(_NAMED)} or a callable, got {estimator!r}")
    return _NAMED[estimator]


def _as_maps(activity, shape, batch_ndim):
    """``activity`` as (..., S, C, H*W): image activity (batch..., S, C, H, W) as it is, flattened activity
    (batch..., S, C*H*W) reshaped by ``shape`` = (C, H, W) (channel-first order), dense (batch..., S, units)
    with ``shape=None`` as one channel."""
    act = real_array(activity, "activity", min_ndim=2 + batch_ndim)
    core = act.shape[batch_ndim:]
    lead = act.shape[:batch_ndim]
    shp = None if shape is None else tuple(checks.positive_int(s, "shape") for s in np.atleast_1d(shape))
    if shp is not None and len(shp) == 1:                    # a dense layer's shape (units,)
        if len(core) != 2 or core[1] != shp[0]:
            raise ValueError(f"activity of shape {act.shape} does not hold a dense layer of {shp[0]} units")
        return act[..., None, :]
    if shp is not None:
        if len(shp) != 3:
            raise ValueError(f"shape must be (channels, height, width) or (units,), got {shape!r}")
        if len(core) == 2 and core[1] == int(np.prod(shp)):
            return act.reshape(lead + (core[0], shp[0], shp[1] * shp[2]))
        if core[1:] == shp:
            return act.reshape(lead + (core[0], shp[0], shp[1] * shp[2]))
        raise ValueError(f"activity of shape {act.shape} does not hold {batch_ndim} batch axes, samples and a "
                         f"layer of shape {shp}")
    if len(core) == 2:
        return act[..., None, :]
    if len(core) == 4:
        return act.reshape(lead + (core[0], core[1], core[2] * core[3]))
    raise ValueError(f"activity must be (..., samples, units) or (..., samples, channels, height, width) after "
                     f"{batch_ndim} batch axes, got shape {act.shape}")


def channel_info(activity: ArrayLike, labels: ArrayLike, *, shape: tuple[int, int, int] | None = None,
                 batch_ndim: int | None = None, estimator: Literal["kde", "binned", "adaptive"] | Callable = "kde",
                 **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel estimates ``(i_xt, i_ty)``, each (..., C), nats: the estimator on each channel's map.

    ``activity``: (..., S, C, H, W), or (..., S, C*H*W) with ``shape=(C, H, W)`` (channel-first flattening), or a
    dense (..., S, units) (one channel). ``batch_ndim``: the number of leading batch axes (default: all axes
    before the samples, inferred as ``ndim - 2`` with ``shape`` given or for 2-D/3-D arrays, else ``ndim - 4``:
    a 4-D array without ``shape`` is taken as images (S, C, H, W); pass ``batch_ndim`` for dense (E, L, S, units)).
    ``estimator``: ``"kde"`` (default), ``"binned"``, ``"adaptive"`` or a callable with the estimators'
    signature; ``options`` go to it (e.g. ``noise_var=0.1``).
    """
    fn = _estimator(estimator)
    if batch_ndim is None:
        nd = np.ndim(activity)
        batch_ndim = max(0, nd - (4 if (shape is None and nd >= 4) else 2))
    batch_ndim = checks.positive_int(batch_ndim, "batch_ndim", minimum=0)
    maps = _as_maps(activity, shape, batch_ndim)               # (..., S, C, HW)
    per_channel = np.moveaxis(maps, -2, -3)                    # (..., C, S, HW)
    i_xt, i_ty = fn(per_channel, labels, **options)
    return np.asarray(i_xt, float), np.asarray(i_ty, float)


def conv_info(activity: ArrayLike, labels: ArrayLike, method: Literal["concat", "mean"] = "concat", *,
              shape: tuple[int, int, int] | None = None, batch_ndim: int | None = None,
              estimator: Literal["kde", "binned", "adaptive"] | Callable = "kde", **options: Any
              ) -> tuple[np.ndarray, np.ndarray]:
    """``(I(X;T), I(T;Y))`` of a (convolutional) layer by ``method`` ``"concat"`` or ``"mean"`` (see the module
    docstring), nats, batch axes kept. Arguments as for :func:`channel_info`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "mean":
        i_xt, i_ty = channel_info(activity, labels, shape=shape, batch_ndim=batch_ndim, estimator=estimator,
                                  **options)
        return i_xt.mean(axis=-1), i_ty.mean(axis=-1)
    fn = _estimator(estimator)
    if batch_ndim is None:
        nd = np.ndim(activity)
        batch_ndim = max(0, nd - (4 if (shape is None and nd >= 4) else 2))
    batch_ndim = checks.positive_int(batch_ndim, "batch_ndim", minimum=0)
    maps = _as_maps(activity, shape, batch_ndim)
    flat = maps.reshape(maps.shape[:-2] + (maps.shape[-2] * maps.shape[-1],))
    i_xt, i_ty = fn(flat, labels, **options)
    return np.asarray(i_xt, float), np.asarray(i_ty, float)


class ConvInfoPlaneConsumer:
    """Streaming information-plane consumer for ``train(..., consumers={name: ...})`` with conv layers.

    At each logged epoch it receives the analysis-set activity of every layer (arrays (E, S, units) or
    (E, S, C, H, W)) and returns (E, n_layers, 2) = (member, layer, quantity): I(X;T), I(T;Y) in nats by
    ``method``. ``shapes``: per layer None (dense, or image activity), (units,) or (C, H, W) for flattened conv
    activity in channel-first order, e.g. ``Sequential.layer_shapes`` of :mod:`sims.network`.
    """

    dims = ("member", "layer", "quantity")

    def __init__(self, method: Literal["concat", "mean"], labels: ArrayLike,
                 shapes: Sequence[tuple[int, ...] | None] | None = None, layers: Sequence[int] | None = None,
                 estimator: Literal["kde", "binned", "adaptive"] | Callable = "kde", **options: Any) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        _estimator(estimator)
        self.method, self.labels, self.shapes, self.layers = method, checks.labels(labels), shapes, layers
        self.estimator, self.options = estimator, options

    def __call__(self, epoch: int, activities: Sequence[np.ndarray]) -> np.ndarray:
        idx = range(len(activities)) if self.layers is None else self.layers
        out = []
        for l in idx:
            shape = None if self.shapes is None else self.shapes[l]
            out.append(conv_info(activities[l], self.labels, self.method, shape=shape, batch_ndim=1,
                                 estimator=self.estimator, **self.options))
        return np.stack([np.stack([o[0] for o in out], -1), np.stack([o[1] for o in out], -1)], -1)


def one_hot(labels: ArrayLike) -> np.ndarray:
    """Labels (S,) as one-hot rows (S, C) over the C distinct labels (sorted)."""
    y = checks.labels(labels)
    _, codes = np.unique(y, return_inverse=True)
    return np.eye(int(codes.max()) + 1)[codes.reshape(-1)]


def kde_entropy(activity: ArrayLike, noise_var: float, labels: ArrayLike | None = None) -> np.ndarray:
    """Kolchinsky & Tracey's KL upper bound on h(T + N(0, noise_var I)) for the equiprobable points ``activity``
    (..., S, d): ``d/2 ln(2 pi e noise_var) + I_upper(X;T)``, nats (a differential entropy: may be negative)."""
    act = real_array(activity, "activity", min_ndim=2)
    var = checks.positive_scalar(noise_var, "noise_var")
    y = np.zeros(act.shape[-2], int) if labels is None else labels
    i_xt, _ = kde(act, y, noise_var=var)
    return 0.5 * act.shape[-1] * np.log(2 * np.pi * np.e * var) + np.asarray(i_xt, float)


@dataclass(frozen=True)
class NoiseVarTuning:
    """Result of :func:`tune_kde_noise_var`: the ``noise_var`` found, the ``estimate`` there, the ``target``,
    the ``quantity`` tuned, the scanned ``grid`` and ``values`` (nats), ``monotone`` (on the grid) and
    ``crossings`` (how many sign changes the grid showed; the root refines the one nearest the target's side
    given by ``pick``)."""

    noise_var: float
    estimate: float
    target: float
    quantity: str
    grid: np.ndarray
    values: np.ndarray
    monotone: bool
    crossings: int

    def __repr__(self):
        return (f"NoiseVarTuning(noise_var={self.noise_var:.6g}, quantity={self.quantity!r}, "
                f"estimate={self.estimate:.6g}, target={self.target:.6g}, monotone={self.monotone}, "
                f"crossings={self.crossings})")


def _kde_quantity(act, y, quantity, bound):
    if quantity == "h_t":
        return lambda v: float(kde_entropy(act, v, y))
    k = 0 if quantity == "i_xt" else 1
    return lambda v: float(kde(act, y, noise_var=v, bound=bound)[k])


def tune_kde_noise_var(activity: ArrayLike, labels: ArrayLike, target: float, *,
                       quantity: Literal["i_xt", "i_ty", "h_t"] = "i_ty", bound: Literal["upper", "lower"] = "upper",
                       bracket: tuple[float, float] = (1e-4, 10.0), n_grid: int = 41,
                       pick: Literal["largest", "smallest"] = "largest", xtol: float = 1e-10) -> NoiseVarTuning:
    """The KDE noise variance at which ``quantity`` of ``activity`` (S, d) equals ``target`` (nats).

    ``quantity``: ``"i_xt"`` or ``"i_ty"`` (the KDE ``bound``, upper or lower), or ``"h_t"``
    (:func:`kde_entropy`). A log-spaced grid of ``n_grid`` variances over ``bracket`` is scanned for sign
    changes of ``quantity - target``; the one at the largest (``pick="largest"``) or smallest (``"smallest"``)
    variance is refined by Brent's method (``xtol`` relative in log variance). Raises ValueError naming
    ``target`` if the grid shows no crossing.
    """
    act = real_array(activity, "activity", min_ndim=2)
    if act.ndim != 2:
        raise ValueError(f"activity must be (samples, units), got shape {act.shape}")
    y = checks.labels(labels, act.shape[0])
    t = checks.real_scalar(target, "target")
    if quantity not in ("i_xt", "i_ty", "h_t"):
        raise ValueError(f"quantity must be 'i_xt', 'i_ty' or 'h_t', got {quantity!r}")
    if pick not in ("largest", "smallest"):
        raise ValueError(f"pick must be 'largest' or 'smallest', got {pick!r}")
    lo, hi = checks.interval(bracket, "bracket")
    if lo <= 0:
        raise ValueError(f"bracket must be positive variances, got {bracket!r}")
    f = _kde_quantity(act, y, quantity, bound)
    grid = np.geomspace(lo, hi, checks.positive_int(n_grid, "n_grid", minimum=3))
    values = np.array([f(v) for v in grid])
    d = values - t
    sign_change = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)[0]
    if sign_change.size == 0:
        raise ValueError(f"target {t:g} nats is not reached by {quantity} over noise_var in [{lo:g}, {hi:g}] "
                         f"(range {values.min():g} .. {values.max():g})")
    k = int(sign_change[-1] if pick == "largest" else sign_change[0])
    if d[k] == 0:
        root = grid[k]
    elif d[k + 1] == 0:
        root = grid[k + 1]
    else:
        root = float(np.exp(brentq(lambda u: f(np.exp(u)) - t, np.log(grid[k]), np.log(grid[k + 1]),
                                   xtol=xtol)))
    steps = np.diff(values)
    monotone = bool(np.all(steps <= 1e-12) or np.all(steps >= -1e-12))
    return NoiseVarTuning(float(root), f(root), t, quantity, grid, values, monotone, int(sign_change.size))


@dataclass(frozen=True)
class SampleSizeCurve:
    """Estimates on random subsets: ``sizes`` (K,), ``i_xt`` and ``i_ty`` (..., K, repeats) in nats."""

    sizes: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray


def sample_size_curve(activity: ArrayLike, labels: ArrayLike, sizes: Sequence[int], *, repeats: int = 3,
                      seed: np.random.Generator | int | None = 0,
                      estimator: Literal["kde", "binned", "adaptive"] | Callable = "kde", **options: Any
                      ) -> SampleSizeCurve:
    """The estimator on ``repeats`` random subsets (without replacement) of each size in ``sizes``.

    ``activity`` (..., S, units) with ``labels`` (S,); the leading axes are kept. Subsets are stratified: each
    holds the classes in the proportions of the whole set (largest-remainder rounding), so every repeat has the
    same label vector and each size is one vectorized call (the repeats are a batch axis).
    ``seed``: None / int / Generator (the subsets).
    """
    act = real_array(activity, "activity", min_ndim=2)
    S = act.shape[-2]
    y = checks.labels(labels, S)
    sz = np.array([checks.positive_int(s, "sizes", minimum=2) for s in np.atleast_1d(sizes)])
    if sz.max() > S:
        raise ValueError(f"sizes: {sz.max()} samples asked for, the activity has {S}")
    R = checks.positive_int(repeats, "repeats")
    g = checks.rng(seed, "seed")
    fn = _estimator(estimator)
    codes = np.unique(y, return_inverse=True)[1].reshape(-1)
    members = [np.nonzero(codes == c)[0] for c in range(codes.max() + 1)]
    frac = np.array([len(m) for m in members]) / S
    xt, ty = [], []
    for n in sz:
        counts = _allocate(n, frac)
        idx = np.concatenate([np.stack([g.choice(m, k, replace=False) for _ in range(R)]) if k else
                              np.zeros((R, 0), int) for m, k in zip(members, counts)], axis=1)   # (R, n)
        i_xt, i_ty = fn(act[..., idx, :], y[idx[0]], **options)           # (..., R); same labels in each row
        xt.append(np.asarray(i_xt, float))
        ty.append(np.asarray(i_ty, float))
    return SampleSizeCurve(sz, np.stack(xt, -2), np.stack(ty, -2))


def _allocate(n, frac):
    """Integer counts summing to ``n`` proportional to ``frac`` (largest remainder)."""
    raw = n * frac
    counts = np.floor(raw).astype(int)
    counts[np.argsort(raw - counts)[::-1][: n - counts.sum()]] += 1
    return counts


def stable_sample_size(curve: SampleSizeCurve, tol: float, quantity: Literal["i_xt", "i_ty"] = "i_ty") -> int | None:
    """The smallest size from which the repeat-mean of ``quantity`` stays within ``tol`` (nats) of its value at
    the largest size, for every later size (None if only the largest does). Leading axes: the worst case."""
    tol = checks.nonnegative(checks.real_scalar(tol, "tol"), "tol")
    if quantity not in ("i_xt", "i_ty"):
        raise ValueError(f"quantity must be 'i_xt' or 'i_ty', got {quantity!r}")
    m = getattr(curve, quantity).mean(axis=-1)                            # (..., K)
    dev = np.abs(m - m[..., -1:]).reshape(-1, m.shape[-1]).max(axis=0)    # (K,)
    ok = dev <= tol
    bad = np.nonzero(~ok)[0]
    first = 0 if bad.size == 0 else int(bad[-1]) + 1
    if bad.size and first >= len(curve.sizes) - 1:
        return None
    return int(curve.sizes[first])
