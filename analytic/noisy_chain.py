"""Exact I(X;T1) and I(X;T2) of a two-layer noisy chain of scalar neurons, by nested quadrature.

The chain (Goldfeld et al. 2019, Sec. 2; Kong 2019, Sec. 2.3) is

    T1 = f1(w1 X + b1) + Z1,    T2 = f2(w2 T1 + b2) + Z2,    Z1, Z2 ~ N(0, s^2) independent

(``s`` = ``noise_std``, a STANDARD DEVIATION). Write ``m(x) = f1(w1 x + b1)`` and ``g(t1) = f2(w2 t1 + b2)``. Then

    p(t1 | x) = N(t1; m(x), s^2),      p(t2 | x) = int N(t1; m(x), s^2) N(t2; g(t1), s^2) dt1,

so ``T2 | X = x`` is NOT Gaussian, and

    I(X;T1) = h(T1) - 1/2 ln(2 pi e s^2),     I(X;T2) = h(T2) - E_X h(T2 | X).

The input X is discrete (:class:`DiscreteInput`) or continuous (:class:`GaussianMixtureInput`, with
:func:`GaussianInput` for one component); for continuous X, ``h(T1 | X)`` is still ``1/2 ln(2 pi e s^2)``.

Quadrature (all rules are fixed-shape, so many parameter sets are evaluated at once):

* the expectation over X (continuous X) uses Gauss-Legendre rules of ``nodes`` points on panels whose
  breakpoints are the union of a uniform grid in x (step ``panel * std``), the preimages of a uniform grid in
  ``m`` (step ``panel * s``: every panel moves ``m`` by at most ``panel * s``), the kinks of f1, and the
  preimages of levels ``a -+ panel * s / r^k`` (r = 2^panel, k = 1, 2, ... down to 2^-32 of the step) toward
  each finite asymptote ``a`` of f1 that the support comes near. Without these last levels a steep tanh
  (w1 = 100) does its last approach to +-1 inside a sliver of one panel that no Gauss-Legendre rule resolves
  (the former rule was off by -1.55e-3 nats at w1 = 100 and -1.06e-3 at w1 = 50 for X ~ N(0, 0.25),
  s = 0.05; tests/test_analytic_edges.py);
* the expectation over ``T1 | X = x`` uses the same construction around each ``m(x)`` on
  ``m(x) +- 8.5 s`` (step ``panel * s`` in t1 and in ``g``, kinks and asymptote levels of the second layer),
  weighted by the Gaussian density;
* ``h(T1)``, ``h(T2)`` and each ``h(T2 | X = x)`` integrate ``-p ln p`` by the trapezoidal rule on uniform grids
  of step ``grid * s`` covering the support +- 8.5 s. For these smooth (Gaussian-convolved) densities the rule
  converges geometrically, at a rate set by the complex zeros of p, which come closest to the real axis
  when clusters of T sit a few s apart; ``grid = 1/2`` then errs by up to ~2e-7 nats, ``grid = 1/4`` by < 1e-8.

Accuracy, measured against :func:`analytic.scalar_channel.noisy_mi` (itself checked against mpmath) on the
one-layer case (``f(w X + b) + Z`` with X ~ N(mu, sd^2) is ``noisy_mi`` at mean mu + b / w) for 56 random
(activation, w, b, s, sd) with |w| up to 1e3, s from 0.01 to 0.3 (tests/test_analytic_properties.py checks
random draws of these; tests/test_analytic_edges.py the cases above): the defaults
(``panel = 1``, ``nodes = 5``, ``grid = 1/4``) are within 1e-8 nats (softsign, whose saturation is algebraic,
within 1e-7: 4.2e-8 at w = -10, s = 0.1, sd = 1.5; ``nodes = 7`` gives 5e-11 there), ``grid = 1/2`` within 3e-7, and
``panel = 2``, ``nodes = 4``, ``grid = 1`` (~6x faster, for plots) within 6e-5. The two-layer results agree
with a run at ``panel = 1/2``, ``nodes = 6``, ``grid = 1/8`` to 3e-10 nats, and with a large Monte Carlo within
its standard error (tests/test_noisy_chain.py). For discrete X, ``I(X;T1)`` is returned from
:func:`analytic.gaussian_mixture.mixture_mi` (1e-14). Cost grows with (range of T1) / noise_std.

Example
-------
>>> import numpy as np
>>> x = DiscreteInput([1, 2, 3, 4, 5, 6, 7, 8])
>>> r = chain_information(x, "leaky_relu", 0.0, 4.5, "leaky_relu", -1.0, 0.0, noise_std=0.05)
>>> float(r.i_xt1), abs(float(r.i_xt2)) < 1e-8          # w1 = 0: nothing about X gets through
(0.0, True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import roots_legendre

from analytic.activations import Activation, get_activation
from analytic.checks import ArgumentTypeError, finite_array, positive, positive_int, probability_vector
from analytic.gaussian import gaussian_entropy_std
from analytic.gaussian_mixture import mixture_mi
from analytic.scalar_channel import kink_inputs

__all__ = ["DiscreteInput", "GaussianMixtureInput", "GaussianInput", "ChainInformation", "chain_information",
           "layer_information", "layer_means", "panel_rule"]

_L = 8.5                  # half-width (in noise_std) of every Gaussian window; tail mass < 2e-17
_CHUNK = 2 ** 22          # elements of one work array
_GEOM_FLOOR = 2.0 ** -32  # levels toward an asymptote stop at this fraction of the m-step (_asymptote_levels)


@dataclass(frozen=True)
class DiscreteInput:
    """X uniform (or with ``probs``) on finitely many ``points``."""

    points: tuple
    probs: tuple | None = None

    def __post_init__(self):
        x = finite_array(self.points, "points", ndim=1, allow_bool=False)
        if x.size < 1 or np.unique(x).size != x.size:
            raise ValueError("points must be distinct and non-empty")
        p = np.full(x.size, 1.0 / x.size) if self.probs is None else probability_vector(self.probs, "probs")
        if p.shape != x.shape:
            raise ValueError(f"probs must have shape {x.shape} to match points, got {p.shape}")
        object.__setattr__(self, "points", tuple(float(v) for v in x))
        object.__setattr__(self, "probs", tuple(float(v) for v in p))

    discrete = True

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        return rng.choice(np.array(self.points), size=n, p=np.array(self.probs))


@dataclass(frozen=True)
class GaussianMixtureInput:
    """X ~ sum_k weights_k N(means_k, stds_k^2) (``stds`` are STANDARD DEVIATIONS)."""

    means: tuple
    stds: tuple
    weights: tuple | None = None

    def __post_init__(self):
        mu = finite_array(self.means, "means", ndim=1, allow_bool=False)
        if mu.size < 1:
            raise ValueError("means must hold at least one component")
        sd = np.asarray(positive(self.stds, "stds"), dtype=float)
        if sd.ndim > 1 or sd.size not in (1, mu.size):
            raise ValueError(f"stds must be one standard deviation or one per component ({mu.size}, matching "
                             f"means), got shape {sd.shape}")
        sd = np.broadcast_to(sd, mu.shape).astype(float)
        c = np.full(mu.size, 1.0 / mu.size) if self.weights is None else probability_vector(self.weights, "weights")
        if c.shape != mu.shape:
            raise ValueError(f"weights must have shape {mu.shape} to match means, got {c.shape}")
        object.__setattr__(self, "means", tuple(float(v) for v in mu))
        object.__setattr__(self, "stds", tuple(float(v) for v in sd))
        object.__setattr__(self, "weights", tuple(float(v) for v in c))

    discrete = False

    def pdf(self, x: ArrayLike) -> NDArray[np.float64]:
        mu, sd, c = (np.array(v) for v in (self.means, self.stds, self.weights))
        z = (np.asarray(x)[..., None] - mu) / sd
        return np.exp(-0.5 * z * z) / (sd * np.sqrt(2 * np.pi)) @ c

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
        k = rng.choice(len(self.means), size=n, p=np.array(self.weights))
        return np.array(self.means)[k] + np.array(self.stds)[k] * rng.standard_normal(n)

    @property
    def support(self) -> tuple[float, float, float]:
        mu, sd = np.array(self.means), np.array(self.stds)
        return float(np.min(mu - _L * sd)), float(np.max(mu + _L * sd)), float(sd.min())


def GaussianInput(mean: float = 0.0, std: float = 1.0) -> GaussianMixtureInput:
    """X ~ N(mean, std^2) (Kong: mean 0, variance 0.25, i.e. std 0.5)."""
    return GaussianMixtureInput((mean,), (std,))


@dataclass(frozen=True)
class ChainInformation:
    """Result of :func:`chain_information`: nats, arrays of the parameters' broadcast shape.

    ``h_t2_given_x`` is E_X h(T2 | X). Densities (when requested) are on the given grids, shape (..., G).
    """

    i_xt1: np.ndarray
    i_xt2: np.ndarray
    h_t1: np.ndarray
    h_t2: np.ndarray
    h_t2_given_x: np.ndarray
    t1_grid: np.ndarray | None = None
    p_t1: np.ndarray | None = None
    t2_grid: np.ndarray | None = None
    p_t2: np.ndarray | None = None


def layer_means(activation: str | Activation, w: NDArray[np.float64], b: NDArray[np.float64],
                x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``f(w x + b)`` with w, b of shape (B,) and x of shape (B, N) -> (B, N)."""
    return get_activation(activation).value(w[:, None] * x + b[:, None])


def _asymptote_levels(f, s_lo, s_hi, s_step, ratio):
    """Levels ``a -+ s_step / ratio^k`` (k = 1, 2, ...) toward each finite asymptote ``a`` of f that is not an atom
    and that the interval images ``s_lo``, ``s_hi`` (B,) come closer to than ``s_step``.

    A steep saturating f (tanh(w x) at large w) changes its last ``s_step`` along a panel in a sliver of width
    ~1/w at one end, which a Gauss-Legendre panel cannot resolve. Preimages of these levels split the sliver
    geometrically (each panel moves f by a fixed fraction of its distance to ``a``), down to the smaller of the
    images' closest approach and ``_GEOM_FLOOR * s_step`` (where the kernel no longer feels the difference).
    """
    out = []
    ends = np.concatenate([np.ravel(s_lo), np.ravel(s_hi)])
    n = int(np.ceil(np.log(1.0 / _GEOM_FLOOR) / np.log(ratio)))
    for a, sign in ((f.range[1], -1.0), (f.range[0], 1.0)):
        if not np.isfinite(a) or a in f.atoms:
            continue
        gap = float(np.min(np.abs(ends - a)))
        if gap >= s_step:
            continue
        lev = a + sign * s_step * ratio ** -np.arange(1.0, n + 1)
        out.append(lev[(np.abs(lev - a) * ratio >= gap) & (lev != a)])
    return np.concatenate(out) if out else np.empty(0)


def panel_rule(lo: NDArray[np.float64], hi: NDArray[np.float64], step: float, f: Activation, w: NDArray[np.float64],
               b: NDArray[np.float64], s_step: float, nodes: int, extra: NDArray[np.float64] | None = None,
               ratio: float = 2.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Composite Gauss-Legendre rule on [lo, hi] (arrays (B,)) resolving both the variable and s(x) = f(w x + b).

    Breakpoints: a uniform grid of step <= ``step``; preimages under s of a uniform grid in s of step
    <= ``s_step``; preimages of levels approaching a finite asymptote of f geometrically (distance ratio
    ``ratio``, see :func:`_asymptote_levels`); the kinks of f (``w x + b = 0``, ends of flat pieces);
    ``extra`` (B, k) points. The number of panels is the same for every
    row (set by the widest row), so the rule is an array pair (x, weights), each (B, n_panels * nodes).
    """
    f = get_activation(f)
    lo, hi, w, b = (np.asarray(v, dtype=float) for v in (lo, hi, w, b))
    n_uni = int(np.ceil(np.max((hi - lo) / step)))
    frac = np.linspace(0.0, 1.0, max(n_uni, 1) + 1)
    parts = [lo[:, None] + (hi - lo)[:, None] * frac]
    s_lo, s_hi = f.value(w * lo + b), f.value(w * hi + b)
    n_s = int(np.ceil(np.max(np.abs(s_hi - s_lo)) / s_step)) if s_step is not None else 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if n_s > 0:
            u = np.minimum(s_lo, s_hi)[:, None] + np.abs(s_hi - s_lo)[:, None] * np.linspace(0, 1, n_s + 1)[1:-1]
            xs = (f.generalized_inverse(u) - b[:, None]) / w[:, None]
            parts.append(np.where(np.isfinite(xs), xs, lo[:, None]))
        kinks = (kink_inputs(f)[None, :] - b[:, None]) / w[:, None]
        parts.append(np.where(np.isfinite(kinks), kinks, lo[:, None]))
        if s_step is not None:
            levels = _asymptote_levels(f, s_lo, s_hi, s_step, ratio)
            if levels.size:
                xs = (f.generalized_inverse(levels)[None, :] - b[:, None]) / w[:, None]
                parts.append(np.where(np.isfinite(xs), xs, lo[:, None]))
    if extra is not None:
        parts.append(extra)
    bp = np.sort(np.clip(np.concatenate(parts, axis=1), lo[:, None], hi[:, None]), axis=1)
    gx, gw = roots_legendre(nodes)
    a, c = bp[:, :-1, None], bp[:, 1:, None]
    x = 0.5 * (a + c) + 0.5 * (c - a) * gx
    wt = 0.5 * (c - a) * gw
    return x.reshape(x.shape[0], -1), wt.reshape(x.shape[0], -1)


def _normal(z):
    return np.exp(-0.5 * z * z) * (1.0 / np.sqrt(2.0 * np.pi))


def _uniform_grids(lo, hi, step):
    """Per-row uniform grids (B, G) covering [lo, hi] with step <= ``step`` (same G for all rows)."""
    G = int(np.ceil(np.max(hi - lo) / step)) + 1
    frac = np.linspace(0.0, 1.0, G)
    return lo[..., None] + (hi - lo)[..., None] * frac, (hi - lo) / (G - 1)


def _neg_p_log_p(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def _entropy_trapezoid(p, dt):
    """-int p ln p by the trapezoid rule; p (..., G) vanishes at both ends (8.5 s margins)."""
    return np.sum(_neg_p_log_p(p), axis=-1) * dt


def _mixture_density(t, centers, weights, s):
    """sum_n weights_n N(t; centers_n, s^2) for t (B, G), centers/weights (B, N) -> (B, G).

    Only centers within 8.5 s of t contribute more than 1e-16 of a peak, so the sum runs over that window
    (centers sorted per row, windows found by ``searchsorted``); when windows are not much smaller than N the
    dense sum is used instead. Both are chunked to bound memory.
    """
    B, G = t.shape
    N = centers.shape[1]
    order = np.argsort(centers, axis=1)
    c = np.take_along_axis(centers, order, axis=1)
    w = np.take_along_axis(np.broadcast_to(weights, centers.shape), order, axis=1)
    # one sorted key per row: shift row r by r * span so rows never interleave (keys only, not the math)
    lo_all = min(float(c.min()), float(t.min())) - 2 * _L * s
    span = max(float(c.max()), float(t.max())) - lo_all + 4 * _L * s
    off = np.arange(B)[:, None] * span
    keys = (c - lo_all + off).ravel()
    tk = t - lo_all + off
    first = np.searchsorted(keys, (tk - _L * s).ravel())
    last = np.searchsorted(keys, (tk + _L * s).ravel(), side="right")
    W = int(np.max(last - first)) if first.size else 0
    out = np.empty(B * G)
    if W == 0:
        return np.zeros((B, G))
    if 2 * W >= N:                                   # windows as large as the whole mixture: dense sum
        step = max(1, _CHUNK // max(1, B * N))
        out = np.empty((B, G))
        for g0 in range(0, G, step):
            sl = slice(g0, g0 + step)
            z = (t[:, sl, None] - c[:, None, :]) / s
            out[:, sl] = np.einsum("bgn,bn->bg", _normal(z), w) / s
        return out
    cf, wf, tf = c.ravel(), w.ravel(), t.ravel()
    k = np.arange(W)
    step = max(1, _CHUNK // W)
    for r0 in range(0, B * G, step):
        sl = slice(r0, r0 + step)
        idx = first[sl, None] + k
        valid = idx < last[sl, None]
        idx = np.minimum(idx, cf.size - 1)
        z = (tf[sl, None] - cf[idx]) / s
        out[sl] = np.sum(np.where(valid, _normal(z) * wf[idx], 0.0), axis=1) / s
    return out.reshape(B, G)


def _input_rule(x_input, f1, w1, b1, s, panel, nodes):
    """Nodes x (B, N) and probability weights (B, N) for E_X[.] (module docstring)."""
    B = w1.size
    if x_input.discrete:
        x = np.broadcast_to(np.array(x_input.points), (B, len(x_input.points)))
        om = np.broadcast_to(np.array(x_input.probs), x.shape)
        return x, om
    lo, hi, sd = x_input.support
    x, om = panel_rule(np.full(B, lo), np.full(B, hi), panel * sd, f1, w1, b1, panel * s, nodes,
                       extra=np.broadcast_to(np.array(x_input.means), (B, len(x_input.means))), ratio=2.0 ** panel)
    om = om * x_input.pdf(x)
    return x, om / om.sum(axis=1, keepdims=True)     # remove the ~1e-10 quadrature error of the total mass


def _check_common(x_input, f, noise_std, panel, grid, nodes, named):
    if not isinstance(x_input, (DiscreteInput, GaussianMixtureInput)):
        raise ArgumentTypeError(f"x_input must be a DiscreteInput or a GaussianMixtureInput, got "
                                f"{type(x_input).__name__}")
    s = positive(noise_std, "noise_std")
    if np.ndim(s):
        raise ValueError("noise_std must be a scalar")
    positive(panel, "panel"), positive(grid, "grid"), positive_int(nodes, "nodes")
    params = [finite_array(v, n, allow_bool=False) for n, v in named.items()]
    try:
        params = np.broadcast_arrays(*params)
    except ValueError:
        raise ValueError(f"{', '.join(named)} must broadcast to one shape") from None
    return s, params[0].shape, [p.reshape(-1).astype(float) for p in params]


def layer_information(x_input: DiscreteInput | GaussianMixtureInput, f: str | Activation, w: ArrayLike, b: ArrayLike,
                      noise_std: float, *, panel: float = 1.0, nodes: int = 5, grid: float = 0.25,
                      t_grid: ArrayLike | None = None) -> tuple[float | NDArray[np.float64], NDArray[np.float64] | None]:
    """I(X;T) in nats for ONE noisy neuron ``T = f(w X + b) + Z`` (Kong's single tanh neuron on a Gaussian
    mixture), vectorized over w, b; with ``t_grid`` also the density of T there. Returns ``(i_xt, p_t)``.

    Discrete X: exact Gauss-Hermite mixture entropy; continuous X: the same rules as :func:`chain_information`.

    >>> i, _ = layer_information(GaussianMixtureInput((-1.0, 1.0), (0.5, 0.5)), "tanh", [1.0, 1e4], 0.0, 0.05)
    >>> i.round(4).tolist()              # w = 1e4: two clusters at -1 and +1 (ln 2) plus the few X near 0
    [2.0519, 0.6935]
    """
    s, shape, (w, b) = _check_common(x_input, f, noise_std, panel, grid, nodes, {"w": w, "b": b})
    f = get_activation(f)
    x, om = _input_rule(x_input, f, w, b, s, panel, positive_int(nodes, "nodes"))
    m = layer_means(f, w, b, x)
    if x_input.discrete:
        i = mixture_mi(m, s, om)
    else:
        t1, dt1 = _uniform_grids(m.min(1) - _L * s, m.max(1) + _L * s, grid * s)
        i = _entropy_trapezoid(_mixture_density(t1, m, om, s), dt1) - gaussian_entropy_std(s)
    i = np.asarray(i).reshape(shape) + 0.0
    p = None
    if t_grid is not None:
        g = finite_array(t_grid, "t_grid", ndim=1, allow_bool=False)
        p = _mixture_density(np.broadcast_to(g, (w.size, g.size)), m, om, s).reshape(shape + (g.size,))
    return (float(i) if not shape else i), p


def chain_information(x_input: DiscreteInput | GaussianMixtureInput, f1: str | Activation, w1: ArrayLike, b1: ArrayLike,
                      f2: str | Activation, w2: ArrayLike, b2: ArrayLike, noise_std: float, *, panel: float = 1.0,
                      nodes: int = 5, grid: float = 0.25, t1_grid: ArrayLike | None = None,
                      t2_grid: ArrayLike | None = None) -> ChainInformation:
    """I(X;T1) and I(X;T2) in nats of the noisy chain (module docstring), vectorized over the parameters.

    Parameters
    ----------
    x_input : :class:`DiscreteInput` or :class:`GaussianMixtureInput`.
    f1, f2 : activation names or :class:`analytic.activations.Activation` (non-decreasing).
    w1, b1, w2, b2 : floats or arrays broadcasting to one batch shape.
    noise_std : standard deviation of Z1 and Z2, > 0.
    panel, nodes, grid : quadrature resolution (module docstring: the defaults are within 1e-8 nats);
        halve ``panel``/``grid`` to check convergence.
    t1_grid, t2_grid : optional 1-D grids on which the densities of T1 and T2 are also returned.

    >>> r = chain_information(GaussianInput(0.0, 0.5), "tanh", [0.0, 1.0], 0.0, "tanh", 1.0, 0.0, noise_std=0.05)
    >>> r.i_xt1.shape, bool(abs(r.i_xt1[0]) < 1e-12), bool(0 < r.i_xt2[1] < r.i_xt1[1])
    ((2,), True, True)
    """
    s, shape, (w1, b1, w2, b2) = _check_common(x_input, f1, noise_std, panel, grid, nodes,
                                                {"w1": w1, "b1": b1, "w2": w2, "b2": b2})
    f1, f2 = get_activation(f1), get_activation(f2)
    panel, grid, nodes = float(panel), float(grid), int(nodes)
    B = w1.size
    x, om = _input_rule(x_input, f1, w1, b1, s, panel, nodes)
    m = layer_means(f1, w1, b1, x)                                            # (B, N)

    # ---- layer 1 ----
    t1, dt1 = _uniform_grids(m.min(1) - _L * s, m.max(1) + _L * s, grid * s)
    p1 = _mixture_density(t1, m, om, s)
    h1 = _entropy_trapezoid(p1, dt1)
    h_z = gaussian_entropy_std(s)
    i1 = mixture_mi(m, s, om) if x_input.discrete else h1 - h_z

    # ---- layer 2, marginal: T1 rule over the whole support, then p_T2 on a uniform grid ----
    tau, gam = panel_rule(m.min(1) - _L * s, m.max(1) + _L * s, panel * s, f2, w2, b2, panel * s, nodes,
                          ratio=2.0 ** panel)
    gam = gam * _mixture_density(tau, m, om, s)                               # gamma_q p_T1(tau_q)
    g_tau = layer_means(f2, w2, b2, tau)
    t2, dt2 = _uniform_grids(g_tau.min(1) - _L * s, g_tau.max(1) + _L * s, grid * s)
    p2 = _mixture_density(t2, g_tau, gam, s)
    h2 = _entropy_trapezoid(p2, dt2)

    # ---- layer 2, conditional: for every x-node, T1 | x ~ N(m, s^2) on m +- 8.5 s ----
    N = m.shape[1]
    hc = np.empty((B, N))
    mf = m.reshape(-1)
    w2r, b2r = np.repeat(w2, N), np.repeat(b2, N)
    # rows (B*N) in chunks sized by the local rule and grid lengths
    tl, gl = panel_rule(mf[:1] - _L * s, mf[:1] + _L * s, panel * s, f2, w2r[:1], b2r[:1], panel * s, nodes,
                        ratio=2.0 ** panel)
    rows = max(1, _CHUNK // (tl.shape[1] * int(2 * _L / grid + 8 + 2 / (grid * s))))
    hc_flat = hc.reshape(-1)
    for r0 in range(0, mf.size, rows):
        sl = slice(r0, r0 + rows)
        mm = mf[sl]
        tl, gl = panel_rule(mm - _L * s, mm + _L * s, panel * s, f2, w2r[sl], b2r[sl], panel * s, nodes,
                            ratio=2.0 ** panel)
        gl = gl * _normal((tl - mm[:, None]) / s)
        gl = gl / gl.sum(axis=1, keepdims=True)
        gt = layer_means(f2, w2r[sl], b2r[sl], tl)
        tt, dtt = _uniform_grids(gt.min(1) - _L * s, gt.max(1) + _L * s, grid * s)
        hc_flat[sl] = _entropy_trapezoid(_mixture_density(tt, gt, gl, s), dtt)
    h2x = np.sum(om * hc, axis=1)
    i2 = h2 - h2x

    out = dict(i_xt1=i1, i_xt2=i2, h_t1=h1, h_t2=h2, h_t2_given_x=h2x)
    out = {k: (v.reshape(shape) + 0.0) for k, v in out.items()}
    if not shape:
        out = {k: float(v) for k, v in out.items()}
    if t1_grid is not None:
        g = finite_array(t1_grid, "t1_grid", ndim=1, allow_bool=False)
        out["t1_grid"], out["p_t1"] = g, _mixture_density(np.broadcast_to(g, (B, g.size)), m, om, s).reshape(
            shape + (g.size,))
    if t2_grid is not None:
        g = finite_array(t2_grid, "t2_grid", ndim=1, allow_bool=False)
        out["t2_grid"], out["p_t2"] = g, _mixture_density(np.broadcast_to(g, (B, g.size)), g_tau, gam, s).reshape(
            shape + (g.size,))
    return ChainInformation(**out)
