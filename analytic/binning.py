"""Bin edges, the digitize convention, and the exact binned entropy of f(wX) for Gaussian X.

Binning convention (used by the exact computation *and* by every sampled one)
------------------------------------------------------------------------------
``K = len(edges)`` edges ``e_0 < e_1 < ... < e_{K-1}`` define ``n_bins = K - 1`` bins, left-closed as in
``np.digitize(values, edges, right=False)``, **with the two outer bins extended to infinity**:

    bin 0        = (-inf,    e_1)
    bin k        = [e_k,     e_{k+1})      for 0 < k < K-2
    bin K-2      = [e_{K-2}, +inf)

i.e. ``bin_index(v, edges) = clip(np.digitize(v, edges) - 1, 0, K - 2)``. Values beyond the outer edges fall in
the outer bins; no extra "overflow" bins exist, so ``n_bins = len(edges) - 1`` and ``H(T) <= ln(n_bins)``.

Why merge: float64 ``tanh(u)`` is exactly ``1.0`` for ``u > 19.06``. Under plain ``np.digitize`` such values get
a symbol of their own (``K`` bins + underflow), which in Tishby's code (``bins[np.digitize(h, bins) - 1]`` with
``bins = linspace(-1, 1, 30)``) even shares its label with the never-populated underflow bin. The exact
(real-valued) tanh never reaches +-1, so the merged convention is the one in which sampled and exact
computations agree; for Tishby's tanh edges the two conventions differ only by that float64 artifact.

Exact binned information (Saxe et al. 2018, Sec. 2 and Fig. 2)
--------------------------------------------------------------
For X ~ N(mu, sd^2), u = wX ~ N(w mu, w^2 sd^2) and a non-decreasing f, T = bin(f(u)) is a deterministic
function of X, so I(X;T) = H(T). With the generalized inverse g(y) = inf{x : f(x) >= y}
(:meth:`analytic.activations.Activation.generalized_inverse`), ``f(u) < y  <=>  u < g(y)``, hence

    P(T = k) = Phi(z_{k+1}) - Phi(z_k),     z_k = (g(e_k) - w mu) / (|w| sd),   z_0 = -inf, z_{K-1} = +inf,

for either sign of w (u's law only depends on w mu and |w| sd). Atoms are exact: ReLU's mass P(u <= 0) sits in
the bin holding 0 because g(y) = -inf for y <= 0; hardtanh's atoms at -+1 likewise. For w = 0, f(u) = f(0)
surely and H(T) = 0.

>>> import numpy as np
>>> from analytic.binning import tishby_edges, binned_entropy_gaussian
>>> round(float(binned_entropy_gaussian("tanh", 0.87, tishby_edges()) / np.log(2)), 3)
4.851
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import entr, ndtr

from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, positive, positive_int, positive_scalar, real_scalar, sorted_edges

__all__ = ["tishby_edges", "equal_edges", "net_input_edges", "minmax_edges", "bin_index", "n_bins",
           "bin_probabilities_gaussian", "binned_entropy_gaussian"]


def tishby_edges(n_edges: int = 30) -> np.ndarray:
    """Shwartz-Ziv & Tishby's tanh edges ``linspace(-1, 1, n_edges)`` (30 edges -> 29 bins; 0 is no edge).

    With an odd count (e.g. 31) 0 *is* an edge and the binned MI of tanh(wX) starts at 1 bit as w -> 0+.
    """
    n_edges = positive_int(n_edges, "n_edges", minimum=2)
    return np.linspace(-1.0, 1.0, n_edges)


def equal_edges(lo: float, hi: float, n_bins: int) -> np.ndarray:
    """``n_bins`` equal bins on [lo, hi]: ``linspace(lo, hi, n_bins + 1)``."""
    n_bins = positive_int(n_bins, "n_bins")
    lo = real_scalar(lo, "lo")
    hi = real_scalar(hi, "hi")
    if not hi > lo:
        raise ValueError(f"hi must be > lo, got lo={lo!r}, hi={hi!r}")
    return np.linspace(lo, hi, n_bins + 1)


def net_input_edges(activation: str | Activation, n_edges: int, lim: float = 50.0, **activation_params: float
                    ) -> NDArray[np.float64]:
    """Edges equally spaced in *net input*: ``f(linspace(-lim, lim, n_edges))`` (Saxe et al. 2018, App. C).

    In float64 ``tanh(linspace(-50, 50, N))`` repeats +-1.0 (tanh saturates beyond |u| ~ 19.06) and ReLU repeats
    0; repeated edges only bound empty bins, so they are dropped (``np.unique``) and the binned entropy is the same
    as with the repeats. The returned array can therefore be shorter than ``n_edges``.

    These are the edges a float64 computation can see: the real-valued edges tanh(22.4), ..., tanh(50) are
    distinct and bound bins of positive mass once |w| is large (P(|wX| > 19) = 5.7% at w = 10). The
    exact-arithmetic version bins the net input itself:
    ``binned_entropy_gaussian("linear", w, np.linspace(-lim, lim, n_edges))`` (the generalized inverse of
    tanh maps the real edges back to those thresholds).
    """
    f = get_activation(activation, **activation_params)
    n_edges = positive_int(n_edges, "n_edges", minimum=2)
    lim = positive(lim, "lim")
    edges = np.unique(f.value(np.linspace(-lim, lim, n_edges)))
    if edges.size < 2:
        raise ValueError(f"n_edges: f(linspace(-lim, lim, {n_edges})) has fewer than 2 distinct values")
    return edges


def minmax_edges(values: ArrayLike, n_bins: int) -> NDArray[np.float64]:
    """``n_bins`` equal bins between the min and max of ``values`` (Saxe et al.'s rule for unbounded units).

    ``values`` is any array of activity (e.g. over all epochs and samples); NaN/inf are rejected.
    """
    v = finite_array(values, "values", allow_bool=False)
    n_bins = positive_int(n_bins, "n_bins")
    if v.size == 0:
        raise ValueError("values must not be empty")
    lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        raise ValueError(f"values must not all be equal (min = max = {lo!r}); give edges explicitly")
    return np.linspace(lo, hi, n_bins + 1)


def n_bins(edges: ArrayLike) -> int:
    """Number of bins ``len(edges) - 1`` under the module's convention (outer bins extend to -+inf)."""
    return int(sorted_edges(edges).size) - 1


def bin_index(values: ArrayLike, edges: ArrayLike) -> NDArray[np.intp]:
    """Bin of each value, in ``0 .. len(edges) - 2`` (module convention: outer bins extend to -+inf).

    Equals ``np.clip(np.digitize(values, edges, right=False) - 1, 0, len(edges) - 2)``: left-closed bins
    ``[e_k, e_{k+1})``; a value below ``e_1`` is in bin 0, a value at or above ``e_{K-2}`` in the last bin.

    >>> bin_index([-5.0, -1.0, 0.0, 0.5, 1.0, 7.0], [-1.0, 0.0, 0.5, 1.0]).tolist()
    [0, 0, 1, 2, 2, 2]
    """
    e = sorted_edges(edges)
    if e.size < 2:
        raise ValueError("edges must contain at least two edges (one bin)")
    v = np.asarray(values, dtype=float)
    if np.any(np.isnan(v)):
        raise ValueError("values contains NaN")
    return np.clip(np.digitize(v, e, right=False) - 1, 0, e.size - 2)


def _thresholds(f, edges):
    """Input-space thresholds g(e_1), ..., g(e_{K-2}) of the inner edges, padded with -+inf."""
    inner = f.generalized_inverse(edges[1:-1])
    return np.concatenate([[-np.inf], inner, [np.inf]])


def bin_probabilities_gaussian(activation: str | Activation, w: ArrayLike, edges: ArrayLike, mu: float = 0.0,
                               sd: float = 1.0, **activation_params: float) -> NDArray[np.float64]:
    """Exact P(bin(f(wX)) = k), X ~ N(mu, sd^2); shape ``w.shape + (len(edges) - 1,)``.

    Computed from Gaussian CDFs at the thresholds z_k = (g(e_k) - w mu) / (|w| sd); the upper tail uses
    Phi(-z) so that probabilities far in the right tail keep full relative precision.
    """
    f = get_activation(activation, **activation_params)
    w = finite_array(w, "w", allow_bool=False)
    e = sorted_edges(edges, "edges")
    if e.size < 2:
        raise ValueError("edges must contain at least two edges (one bin)")
    mu = real_scalar(mu, "mu")
    sd = positive_scalar(sd, "sd")
    t = _thresholds(f, e)                                   # (K,)
    ww = w[..., None]
    scale = np.abs(ww) * sd
    zero = scale == 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (t - ww * mu) / np.where(zero, 1.0, scale)      # (..., K); -+inf ends stay -+inf
    cdf, sf = ndtr(z), ndtr(-z)                             # Phi(z), 1 - Phi(z), once per threshold
    p = np.where(z[..., :-1] > 0, sf[..., :-1] - sf[..., 1:], cdf[..., 1:] - cdf[..., :-1])
    if np.any(zero):  # w = 0: f(0) surely, all mass in the bin holding f(0)
        k0 = bin_index(f.value(0.0), e)
        onehot = np.zeros(e.size - 1)
        onehot[k0] = 1.0
        p = np.where(zero, onehot, p)
    return np.clip(p, 0.0, 1.0)


def binned_entropy_gaussian(activation: str | Activation, w: ArrayLike, edges: ArrayLike, mu: float = 0.0,
                            sd: float = 1.0, **activation_params: float) -> float | NDArray[np.float64]:
    """Exact H(bin(f(wX))) = I(X; bin(f(wX))) in nats, X ~ N(mu, sd^2); vectorized over ``w``.

    Saxe et al. (2018), Sec. 2, Fig. 2C-D (there in bits; use :func:`analytic.units.to_bits`).
    Bounded by ln(len(edges) - 1).

    >>> import numpy as np
    >>> float(binned_entropy_gaussian("relu", 0.0, np.linspace(0, 5, 11)))
    0.0
    """
    p = bin_probabilities_gaussian(activation, w, edges, mu=mu, sd=sd, **activation_params)
    h = entr(p).sum(axis=-1)
    return float(h) if np.ndim(h) == 0 else h
