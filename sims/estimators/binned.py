"""Binning estimators of I(X;T) and I(T;Y) (Shwartz-Ziv & Tishby 2017; Saxe et al. ICLR 2018).

Each unit's activity is mapped to a bin index; a layer's symbol T is the tuple of its units' bins. The samples
are the distinct inputs X, equiprobable, so T is a deterministic function of X and

    I(X;T) = H(T),      I(T;Y) = H(T) - sum_y p(y) H(T | Y=y)

(plug-in entropies over the samples, nats). Both are exact for the binned network on that sample set, and
``I(X;T) <= ln(samples)``, ``I(T;Y) <= H(Y)``.

Bin conventions (exactly one of ``edges``, ``width``, ``n_bins``; default Tishby's edges):

* ``edges``: ``K`` edges make ``K - 1`` left-closed bins with the outer two extended to -+inf, i.e. the bin index is
  :func:`analytic.binning.bin_index` (``clip(np.digitize(h, edges) - 1, 0, K - 2)``), the same convention as the
  exact binned entropy :func:`analytic.binning.binned_entropy_gaussian`, so sampled and exact numbers are
  comparable. Edges made by ``np.linspace`` (Tishby's, ``n_bins``) are found by arithmetic, ``floor((h - e_0) / step)``;
  only the values that rounding could put on the wrong side of an edge (within 1e-7 bins of one) go through
  ``np.digitize``, so the codes are identical to the edge-based path (tested on values on and next to every edge)
  at a fraction of ``np.digitize``'s binary-search cost (:func:`edge_codes`).
  Tishby's tanh bins: ``analytic.binning.tishby_edges()`` = ``np.linspace(-1, 1, 30)`` (29 bins; 0 is
  not an edge).
* ``width``: bin index ``floor(h / width)`` (Saxe's MNIST: width 0.5). Codes are dense ranks per unit, so no
  integer cast can overflow; where ``h / width`` overflows float64 every distinct value is its own bin (two
  values that far apart in units of ``width`` are always in different bins).
* ``n_bins``: equal bins between ``value_range = (lo, hi)`` (:func:`analytic.binning.equal_edges`); without
  ``value_range`` between the min and max of the WHOLE ``activity`` array passed
  (:func:`analytic.binning.minmax_edges`; pass a layer's whole run — all epochs and ensemble members — for Saxe's
  ReLU rule, 100 bins). Values outside an explicit range fall into the outer bins.

>>> import numpy as np
>>> act = np.tanh(np.random.default_rng(0).normal(size=(2, 4096, 3)))   # (epochs, samples, units)
>>> labels = np.arange(4096) % 2
>>> i_xt, i_ty = binned(act, labels, edges=np.linspace(-1, 1, 30))
>>> i_xt.shape, bool(np.all(i_xt <= np.log(4096)))
((2,), True)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic.binning import equal_edges, minmax_edges, tishby_edges
from analytic.checks import sorted_edges
from sims.estimators._common import (check_activity, count, discrete_mi, enforce_range, label_codes, label_entropy,
                                     real_array, real_positive, value_range_of)

__all__ = ["binned", "bin_codes", "edge_codes", "TISHBY_EDGES"]

#: Tishby's tanh bins: 30 evenly spaced edges on [-1, 1] (``np.linspace(-1, 1, 30)``).
TISHBY_EDGES = tishby_edges(30)


def _linspace_step(e):
    """The step if ``e`` are exactly the edges ``np.linspace`` makes (``e_j = j * step + e_0``), else None."""
    K = e.size
    step = (e[-1] - e[0]) / (K - 1)
    if not (np.isfinite(step) and step > 0) or max(abs(e[0]), abs(e[-1])) / step > 1e6:
        return None
    return step if np.array_equal(np.arange(K - 1) * step + e[0], e[:-1]) else None


#: A value whose position ``(h - e_0) / step`` is this close to an inner edge is re-binned exactly.
_NEAR = 1e-7
_CHUNK = 2 ** 17


def edge_codes(values: ArrayLike, edges: ArrayLike) -> NDArray[np.int64]:
    """Bin of each value under the module's convention: ``clip(np.digitize(v, edges) - 1, 0, K - 2)``, int64.

    Edges as ``np.linspace`` makes them (Tishby's, ``n_bins``): ``t = (v - e_0) / step`` clipped to
    ``[0.5, K - 1.5]`` (the outer bins extend to infinity, so clipping there cannot change a bin) and floored; the
    rounding of ``t`` is < 1e-9 bins (``|e| / step <= 1e6``), so only values with ``t`` within ``1e-7`` of an inner
    edge can differ from ``np.digitize``, and exactly those are binned by ``np.digitize``. Other edges:
    ``np.digitize`` throughout.
    """
    e = sorted_edges(edges, "edges")
    if e.size < 2:
        raise ValueError("edges must contain at least two edges (one bin)")
    v = np.asarray(values, dtype=float)
    K = e.size
    if K == 2:
        return np.zeros(v.shape, dtype=np.int64)
    step = _linspace_step(e)
    if step is None or v.size == 0:
        return np.clip(np.digitize(v, e, right=False) - 1, 0, K - 2).astype(np.int64)
    vf = v.reshape(-1)
    out = np.empty(vf.size, dtype=np.int64)
    m = min(vf.size, _CHUNK)
    t, r, near = np.empty(m), np.empty(m), np.empty(m, dtype=bool)
    fix = []
    with np.errstate(over="ignore", invalid="ignore"):
        for s0 in range(0, vf.size, _CHUNK):                   # cache-sized chunks: ~2x faster than whole arrays
            x = vf[s0:s0 + _CHUNK]
            n = x.size
            tc, rc, nc = t[:n], r[:n], near[:n]
            np.subtract(x, e[0], out=tc)
            tc *= 1.0 / step
            np.clip(tc, 0.5, K - 1.5, out=tc)
            np.rint(tc, out=rc)
            rc -= tc
            np.abs(rc, out=rc)
            np.less(rc, _NEAR, out=nc)
            if nc.any():
                fix.append(s0 + np.flatnonzero(nc))
            out[s0:s0 + n] = tc                                  # floor (t > 0)
    if fix:
        idx = np.concatenate(fix)
        out[idx] = np.clip(np.digitize(vf[idx], e, right=False) - 1, 0, K - 2)
    return out.reshape(v.shape)


def _width_codes(act, w):
    """Codes of ``floor(act / w)`` as dense ranks per unit (no float -> int overflow)."""
    with np.errstate(over="ignore"):
        q = np.floor(act / w)
    if np.all(np.abs(q) < 2.0 ** 52):                      # exact integers, differences exact in int64
        qi = q.astype(np.int64)
        return qi - qi.min()
    U = act.shape[-1]
    a2 = np.moveaxis(act, -1, 0).reshape(U, -1)
    q2 = np.moveaxis(q, -1, 0).reshape(U, -1)
    order = np.argsort(a2, axis=-1)                        # q is non-decreasing in the value
    xs = np.take_along_axis(a2, order, axis=-1)
    qs = np.take_along_axis(q2, order, axis=-1)
    new = np.zeros(xs.shape, dtype=np.int64)
    new[:, 1:] = (qs[:, 1:] != qs[:, :-1]) | (~np.isfinite(qs[:, 1:]) & (xs[:, 1:] != xs[:, :-1]))
    ranks = np.empty_like(new)
    np.put_along_axis(ranks, order, np.cumsum(new, axis=-1), axis=-1)
    return np.moveaxis(ranks.reshape((U,) + act.shape[:-1]), 0, -1)


def bin_codes(activity: ArrayLike, edges: ArrayLike | None = None, width: float | None = None,
              n_bins: int | None = None, value_range: tuple[float, float] | None = None) -> NDArray[np.int64]:
    """Non-negative integer bin index of every entry of ``activity`` under one of the conventions above."""
    return _bin(real_array(activity, "activity"), edges, width, n_bins, value_range)[0]


def _bin(act, edges, width, n_bins, value_range):
    """(codes, number of codes or None) for checked activity."""
    given = [a is not None for a in (edges, width, n_bins)]
    if sum(given) > 1:
        raise ValueError("edges, width and n_bins are alternatives: give at most one")
    if width is not None:
        return _width_codes(act, real_positive(width, "width")), None
    if n_bins is not None:
        nb = count(n_bins, "n_bins")
        lo, hi = value_range_of(value_range, act)
        if hi <= lo:                                   # constant activity: one bin
            return np.zeros(act.shape, dtype=np.int64), 1
        if not np.isfinite(hi - lo):                   # range wider than float64: halve everything (exact)
            return edge_codes(act * 0.5, equal_edges(lo * 0.5, hi * 0.5, nb)), nb
        e = equal_edges(lo, hi, nb) if value_range is not None else minmax_edges(act, nb)
    else:
        e = TISHBY_EDGES if edges is None else real_array(edges, "edges")
    return edge_codes(act, e), max(1, np.size(e) - 1)


def binned(activity: ArrayLike, labels: ArrayLike, edges: ArrayLike | None = None, width: float | None = None,
           n_bins: int | None = None, value_range: tuple[float, float] | None = None
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Binned ``(I(X;T), I(T;Y))`` in nats; activity (..., samples, units), labels (samples,).

    Returns two arrays with the leading axes of ``activity``. See the module docstring for the conventions.
    """
    act, y, batch = check_activity(activity, labels)
    codes, n_codes = _bin(act, edges, width, n_bins, value_range)
    S, U = act.shape[-2:]
    h_t, i_ty = discrete_mi(codes.reshape(-1, S, U), y, n_codes)
    h_t, i_ty = enforce_range(h_t, i_ty, S, label_entropy(label_codes(y)[2]), "binned")
    return h_t.reshape(batch), i_ty.reshape(batch)
