"""Adaptive binning (Chelombiev, Houghton & O'Donnell, ICLR 2019): bin edges at quantiles of the distinct
activity values of a layer, recomputed for every layer and epoch (every batch item).

For each batch item all ``samples x units`` values of the layer are pooled; the distinct values are ranked
``r = 0..K-1`` and value ``v`` gets bin ``floor(r(v) * n_bins / K)``: each bin holds (within one) the same number of
distinct activity levels, i.e. the edges sit at the ``k/n_bins`` quantiles of the distinct values. Then, as for
fixed binning, T = tuple of bins, ``I(X;T) = H(T)``, ``I(T;Y) = H(T) - sum_y p(y) H(T|y)`` (nats). Fully batched:
the ranks come from one (unstable) sort per batch row: tied values get equal ranks whatever their order, so a
stable sort (5x slower) buys nothing.

>>> import numpy as np
>>> act = np.random.default_rng(0).normal(size=(5, 1000, 4))
>>> i_xt, i_ty = adaptive(act, np.arange(1000) % 3, n_bins=10)
>>> i_xt.shape
(5,)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.estimators._common import (check_activity, count, discrete_mi, enforce_range, label_codes, label_entropy,
                                     real_array)

__all__ = ["adaptive", "adaptive_codes"]


def _sortable_bits(flat):
    """Order-preserving int64 image of float64 values (-0.0 and 0.0 map to the same integer)."""
    b = (flat + 0.0).view(np.int64)                      # + 0.0: -0.0 -> 0.0
    m = b >> 63
    m &= np.int64(0x7FFFFFFFFFFFFFFF)
    b ^= m                                               # negative floats: flip the magnitude bits
    return b


def _dense_ranks_sorted(flat):
    """Per row of ``flat`` (B, N): ``(order, ranks)``, ``order`` a sorting permutation and ``ranks`` (int32) the
    dense rank (0..K-1 among the row's distinct values) at each sorted position (``N <= 2**30``; a cumulative sum
    in int32 is ~25x faster than one in float64 here).

    One ``np.sort`` of packed int64 keys: the value's order-preserving bits with the low ``nb`` bits replaced by the
    position (``N <= 2**nb``). Sorting them orders by value up to those low bits; values equal in the kept bits
    (true ties, or values within ~2**-(52-nb) relative of each other) form runs, which are re-sorted exactly by their
    dropped bits. Exactly the ranks of a full argsort; about half its time (no ``argsort``, no full gather).
    """
    B, N = flat.shape
    nb = max(1, int(N - 1).bit_length())
    mask = np.int64((1 << nb) - 1)
    key = _sortable_bits(flat)
    key &= ~mask
    key |= np.arange(N, dtype=np.int64)
    key.sort(axis=-1)
    order = key & mask
    key >>= nb                                           # the kept (high) bits, sorted
    new = np.empty((B, N), dtype=bool)
    new[:, 0] = False                                    # ranks start at 0
    np.not_equal(key[:, 1:], key[:, :-1], out=new[:, 1:])
    del key
    if not new[:, 1:].all():                             # runs equal in the kept bits: check the dropped ones
        same = ~new
        same[:, 0] = False
        member = same.copy()
        member[:, :-1] |= same[:, 1:]
        pos = np.flatnonzero(member.ravel())
        oflat = order.ravel()
        low = _sortable_bits(np.take(flat.ravel(), (pos // N) * N + oflat[pos])) & mask
        first = ~same.ravel()[pos]                       # a run starts where the kept bits change
        differs = np.ones(pos.size, dtype=bool)
        np.not_equal(low[1:], low[:-1], out=differs[1:])
        if np.any(differs & ~first):                     # near-ties: order each run exactly by its dropped bits
            run = np.cumsum(first)
            resort = np.argsort((run << nb) | low)       # run < 2**(62 - nb): N <= 2**30 values per row
            oflat[pos] = oflat[pos][resort]
            low = low[resort]
            np.not_equal(low[1:], low[:-1], out=differs[1:])
            nflat = new.ravel()
            nflat[pos] = np.where(first, nflat[pos], differs)   # run starts keep their flag; inside: new value?
    return order, np.cumsum(new, axis=-1, dtype=np.int32)


def adaptive_codes(activity: ArrayLike, n_bins: int = 30) -> NDArray[np.int64]:
    """Bins (..., samples, units) of equal counts of distinct values, per leading-axes item.

    ``bin = floor(r n_bins / K)`` for dense rank r of K distinct values, in float64: ``r n_bins`` is an exact
    integer, and a correctly rounded quotient of two integers below 2**53 floors exactly (an integer quotient is
    exact, any other is at least 1/K from an integer while the rounding error is ~1e-16 of it).
    """
    return _codes(real_array(activity, "activity", min_ndim=2), count(n_bins, "n_bins"))


def _codes(act, nb):
    """adaptive_codes on checked activity."""
    S, U = act.shape[-2:]
    flat = act.reshape(-1, S * U)
    if flat.shape[1] > 2 ** 30:
        raise ValueError(f"activity: at most 2**30 values per item, got {flat.shape[1]}")
    order, r32 = _dense_ranks_sorted(flat)
    K = r32[:, -1:] + 1.0                                # (B, 1) float64, exact
    ranks = np.multiply(r32, float(nb))                  # float64, exact integers (< 2**53)
    del r32
    ranks /= K                                           # one rounding: floor is exact (adaptive_codes)
    order += (np.arange(flat.shape[0], dtype=np.int64) * flat.shape[1])[:, None]
    # floor (>= 0) by the cast, then back to the original positions: cast first (a casting scatter is ~4x slower),
    # in the narrowest integer type that holds the codes 0..nb-1 (the scatter's random writes are the cost)
    small = np.int8 if nb <= 127 else np.int16 if nb <= 32767 else np.int64
    codes = np.empty(ranks.size, dtype=small)
    codes[order.ravel()] = ranks.ravel().astype(small)
    return codes.reshape(act.shape).astype(np.int64, copy=False)


def adaptive(activity: ArrayLike, labels: ArrayLike, n_bins: int = 30
             ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Adaptive-binning ``(I(X;T), I(T;Y))`` in nats, leading axes of ``activity`` kept."""
    act, y, batch = check_activity(activity, labels)
    nb = count(n_bins, "n_bins")
    codes = _codes(act, nb)
    S, U = act.shape[-2:]
    h_t, i_ty = discrete_mi(codes.reshape(-1, S, U), y, nb)
    h_t, i_ty = enforce_range(h_t, i_ty, S, label_entropy(label_codes(y)[2]), "adaptive")
    return h_t.reshape(batch), i_ty.reshape(batch)
