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
  comparable. Tishby's tanh bins: ``analytic.binning.tishby_edges()`` = ``np.linspace(-1, 1, 30)`` (29 bins; 0 is
  not an edge).
* ``width``: bin index ``floor(h / width)`` (Saxe's MNIST: width 0.5).
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

from analytic.binning import bin_index, equal_edges, minmax_edges, tishby_edges
from analytic.checks import finite_array, positive, positive_int
from sims.estimators._common import check_activity, discrete_mi

__all__ = ["binned", "bin_codes", "TISHBY_EDGES"]

#: Tishby's tanh bins: 30 evenly spaced edges on [-1, 1] (``np.linspace(-1, 1, 30)``).
TISHBY_EDGES = tishby_edges(30)


def _range(value_range, act):
    if value_range is None:
        return float(act.min()), float(act.max())
    r = finite_array(value_range, "value_range", ndim=1)
    if r.size != 2 or not r[0] < r[1]:
        raise ValueError(f"value_range must be (lo, hi) with lo < hi, got {value_range!r}")
    return float(r[0]), float(r[1])


def bin_codes(activity, edges=None, width=None, n_bins=None, value_range=None):
    """Non-negative integer bin index of every entry of ``activity`` under one of the conventions above."""
    act = finite_array(activity, "activity")
    given = [a is not None for a in (edges, width, n_bins)]
    if sum(given) > 1:
        raise ValueError("edges, width and n_bins are alternatives: give at most one")
    if width is not None:
        w = positive(width, "width")
        codes = np.floor(act / w)
        return (codes - codes.min()).astype(np.int64)
    if n_bins is not None:
        nb = positive_int(n_bins, "n_bins")
        lo, hi = _range(value_range, act)
        if hi <= lo:                                   # constant activity: one bin
            return np.zeros(act.shape, dtype=np.int64)
        e = equal_edges(lo, hi, nb) if value_range is not None else minmax_edges(act, nb)
        return bin_index(act, e).astype(np.int64)
    e = TISHBY_EDGES if edges is None else edges
    return bin_index(act, e).astype(np.int64)


def binned(activity, labels, edges=None, width=None, n_bins=None, value_range=None):
    """Binned ``(I(X;T), I(T;Y))`` in nats; activity (..., samples, units), labels (samples,).

    Returns two arrays with the leading axes of ``activity``. See the module docstring for the conventions.
    """
    act, y, batch = check_activity(activity, labels)
    codes = bin_codes(act, edges=edges, width=width, n_bins=n_bins, value_range=value_range)
    S, U = act.shape[-2:]
    h_t, i_ty = discrete_mi(codes.reshape(-1, S, U), y)
    return h_t.reshape(batch), i_ty.reshape(batch)
