"""Shared machinery of the estimators: input checks, the range policy, BLAS pinning, and exact entropies of
discrete symbols.

Symbols. A layer's symbol is the tuple of its units' integer codes. Tuples become one integer key per sample by a
mixed-radix combination ``key = key * radix + code``; before a product could leave int64 the running keys (and
any column whose codes are larger than the sample count) are replaced by their dense ranks within each batch
item (``< samples``), so any number of units and any code size works without overflow. Counting is either a
``np.bincount`` over the key range (when the range is at most a few times the sample count) or sort-based: sort
each row, mark where the key changes, and take the run lengths. Everything is batched over the flattened
``(batch, samples)`` view; there is no loop over samples or batch items. Ranks come from the default (unstable)
sort: tied keys get equal ranks whatever their order.

Entropies are plug-in entropies of the empirical distribution with every sample weighted 1/S (the samples are the
equiprobable inputs of the analysis set): ``H = ln S - (1/S) sum_k n_k ln n_k``.

Range policy (every estimator). An information estimate has a range fixed by information theory: for S
equiprobable inputs and labels Y, ``0 <= I(X;T) <= ln S`` and ``0 <= I(T;Y) <= min(I(X;T), H(Y))`` (data
processing, since Y - X - T). Plug-in entropies satisfy this exactly up to rounding; Monte Carlo, k-NN and
kernel-difference estimates need not. Every estimator returns values CLIPPED to this range. A raw value outside it
by more than rounding (``TOLERANCE`` = 1e-9 nats) additionally emits a :class:`BoundWarning` naming the estimator,
the quantity, the bound and the worst raw value; excursions within rounding are clipped without a warning.

>>> import numpy as np
>>> keys, bound = row_keys(np.array([[[0, 1], [0, 1], [2, 0]]]))
>>> bool(np.isclose(entropy_of_keys(keys, bound)[0], -(2/3) * np.log(2/3) - (1/3) * np.log(1/3)))
True
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
from scipy.special import xlogy

from analytic import checks

__all__ = ["BoundWarning", "TOLERANCE", "real_array", "real_positive", "count", "check_labels", "check_activity",
           "value_range_of", "label_codes", "label_entropy", "row_keys", "dense_rank", "entropy_of_keys", "discrete_mi",
           "clip_to_range", "enforce_range", "blas_threads"]

_KEY_LIMIT = 2 ** 62
TOLERANCE = 1e-9


class BoundWarning(RuntimeWarning):
    """A raw estimate left its information-theoretic range and was clipped to it (see the range policy)."""


# ---------------------------------------------------------------- input checks (estimator layer)
# The generic checks are analytic.checks (the one validation layer); these names are the estimators' use of them.
def real_array(x, name: str, *, min_ndim: int | None = None) -> np.ndarray:
    """``x`` as a finite float array: :func:`analytic.checks.finite_array` with booleans refused."""
    return checks.finite_array(x, name, min_ndim=min_ndim, allow_bool=False)


real_positive = checks.positive_scalar
count = checks.positive_int
check_labels = checks.labels


def check_activity(activity, labels, name: str = "activity"):
    """Validate ``activity`` (..., samples, units) and ``labels`` (samples,); return (array, labels, batch shape)."""
    act = real_array(activity, name, min_ndim=2)
    if act.shape[-2] < 1 or act.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one sample and one unit, got shape {act.shape}")
    y = check_labels(labels, act.shape[-2], "labels")
    return act, y, act.shape[:-2]


def value_range_of(value_range, act):
    """``(lo, hi)`` from ``value_range`` (a real pair with lo < hi) or the min and max of ``act``."""
    if value_range is None:
        return float(act.min()), float(act.max())
    return checks.interval(value_range, "value_range")


def label_codes(labels):
    """Labels -> (integer codes 0..C-1, C, class probabilities p(y))."""
    uniq, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1).astype(np.int64)
    p = np.bincount(codes, minlength=uniq.size) / codes.size
    return codes, uniq.size, p


def label_entropy(p) -> float:
    """H(Y) in nats of class probabilities ``p``."""
    return float(-np.sum(xlogy(p, p)))


# ---------------------------------------------------------------- range policy
def clip_to_range(value, lower, upper, *, estimator: str, quantity: str, bound_name: str):
    """Clip ``value`` to ``[lower, upper]`` (broadcast); warn with :class:`BoundWarning` beyond ``TOLERANCE``."""
    v = np.asarray(value, dtype=float)
    lo = np.broadcast_to(np.asarray(lower, dtype=float), v.shape)
    hi = np.broadcast_to(np.asarray(upper, dtype=float), v.shape)
    above, below = v - hi, lo - v
    if v.size and np.max(above) > TOLERANCE:
        k = int(np.argmax(above))
        warnings.warn(f"{estimator}: raw {quantity} estimate {v.flat[k]:.6g} nats is above its bound "
                      f"{bound_name} = {hi.flat[k]:.6g}; clipped to the bound", BoundWarning, stacklevel=3)
    if v.size and np.max(below) > TOLERANCE:
        k = int(np.argmax(below))
        warnings.warn(f"{estimator}: raw {quantity} estimate {v.flat[k]:.6g} nats is below its bound "
                      f"{lo.flat[k]:.6g}; clipped to the bound", BoundWarning, stacklevel=3)
    return np.minimum(np.maximum(v, lo), hi)


def enforce_range(i_xt, i_ty, n_samples: int, h_y: float, estimator: str):
    """The range policy for one estimator's ``(I(X;T), I(T;Y))``: ``[0, ln S]`` and ``[0, min(I(X;T), H(Y))]``."""
    i_xt = clip_to_range(i_xt, 0.0, np.log(n_samples), estimator=estimator, quantity="I(X;T)",
                         bound_name="ln(samples)")
    i_ty = clip_to_range(i_ty, 0.0, np.minimum(i_xt, h_y), estimator=estimator, quantity="I(T;Y)",
                         bound_name="min(I(X;T), H(Y))")
    return i_xt, i_ty


def blas_threads(threads):
    """Context pinning BLAS to ``threads`` threads (``None``: leave BLAS as it is).

    The estimators' matrix products are small and repeated; multi-threaded OpenBLAS on them is slower, and on a
    busy machine 7-30x slower, than one thread, so they run under ``threads=1`` unless told otherwise.
    """
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=count(threads, "threads"), user_api="blas")


# ---------------------------------------------------------------- symbols and plug-in entropies
def dense_rank(keys):
    """Dense rank of each entry within its row: (B, S) int -> (B, S) int64 in 0..(#distinct - 1)."""
    keys = np.asarray(keys)
    order = np.argsort(keys, axis=-1)                    # unstable: tied keys get equal ranks in any order
    sk = np.take_along_axis(keys, order, axis=-1)
    new = np.zeros(sk.shape, dtype=np.int64)
    new[:, 1:] = sk[:, 1:] != sk[:, :-1]
    ranks = np.cumsum(new, axis=-1)
    out = np.empty_like(ranks)
    np.put_along_axis(out, order, ranks, axis=-1)
    return out


def row_keys(codes, n_codes=None):
    """Integer codes (B, S, U), each >= 0 (and ``< n_codes`` if given) -> ``(keys, bound)``: one int64 key per
    (batch, sample) identifying the U-tuple, all keys ``< bound <= 2**62``. Never overflows (module docstring)."""
    codes = np.asarray(codes)
    if codes.dtype.kind not in "iu":
        raise TypeError(f"codes must be integers, got dtype {codes.dtype}")
    B, S, U = codes.shape
    if codes.size == 0:
        return np.zeros((B, S), dtype=np.int64), 1
    if n_codes is not None and n_codes <= S and float(n_codes) ** U <= _KEY_LIMIT:
        # all codes < n_codes and the whole radix product fits: one pass, key = codes . n_codes**u
        powers = int(n_codes) ** np.arange(U - 1, -1, -1, dtype=np.int64)
        return (codes.reshape(B * S, U).astype(np.int64, copy=False) @ powers).reshape(B, S), int(n_codes) ** U
    key, bound = None, 1
    for u in range(U):
        col = codes[..., u]
        radix = int(n_codes) if n_codes is not None else int(col.max()) + 1
        if radix > S:                                     # large codes: dense ranks per item (< S)
            col, radix = dense_rank(col), S
        col = col.astype(np.int64, copy=False)
        if key is None:
            key, bound = col.copy(), radix
            continue
        if bound > _KEY_LIMIT // radix:
            key, bound = dense_rank(key), S
        key *= radix
        key += col
        bound *= radix
    return key, bound


def _log_count_sum(counts):
    return xlogy(counts, counts).sum(axis=-1)


def _nlogn_table(S):
    """``n ln n`` for n = 0..S (0 ln 0 = 0)."""
    n = np.arange(S + 1, dtype=float)
    return xlogy(n, n)


def _sum_nlogn_of_runs(starts):
    """For a (B, S) boolean array marking where a run of equal sorted keys starts (column 0 always True):
    sum over runs of n ln n, per row (run lengths looked up in an ``n ln n`` table)."""
    B, S = starts.shape
    pos = np.flatnonzero(starts.ravel())                  # every row starts a run at a multiple of S
    ends = np.empty_like(pos)
    ends[:-1] = pos[1:]
    ends[-1] = B * S
    ends -= pos                                           # run lengths
    return np.add.reduceat(np.take(_nlogn_table(S), ends), np.searchsorted(pos, np.arange(B) * S))


def entropy_of_keys(keys, bound=None):
    """Plug-in entropy (nats) of each row of ``keys`` (B, S), samples weighted 1/S; keys in ``[0, bound)``."""
    keys = np.asarray(keys, dtype=np.int64)
    B, S = keys.shape
    if bound is not None and bound <= 4 * S:              # dense key range: count directly
        offs = (np.arange(B, dtype=np.int64) * bound)[:, None]
        counts = np.bincount((keys + offs).ravel(), minlength=B * bound).reshape(B, bound)
        return np.log(S) - _log_count_sum(counts.astype(float)) / S
    sk = np.sort(keys, axis=-1)
    starts = np.ones(sk.shape, dtype=bool)
    np.not_equal(sk[:, 1:], sk[:, :-1], out=starts[:, 1:])
    return np.log(S) - _sum_nlogn_of_runs(starts) / S


def discrete_mi(codes, labels, n_codes=None):
    """Exact plug-in ``(H(T), I(T;Y))`` for symbols T = tuple of codes[b, s, :] and labels Y.

    codes (B, S, U) non-negative integers (``n_codes``: optional known bound on every code); labels (S,).
    ``I(T;Y) = H(T) + H(Y) - H(T,Y)``. One sort of the joint keys ``(key << c) | y`` (``2**c >= C``) serves both
    entropies: the runs of equal ``key`` are unions of runs of equal joint keys.
    """
    y, C, p = label_codes(labels)
    keys, bound = row_keys(codes, n_codes)
    h_y = label_entropy(p)
    B, S = keys.shape
    cb = max(0, int(C - 1).bit_length())                  # joint key = (key << cb) | y: T recovered by a shift
    if bound > _KEY_LIMIT >> cb:
        keys, bound = dense_rank(keys), S
    joint = keys << cb
    joint |= y[None, :]
    if bound << cb <= 4 * S:                              # dense range: two bincounts
        h_t = entropy_of_keys(keys, bound)
        return h_t, h_t + h_y - entropy_of_keys(joint, bound << cb)
    joint.sort(axis=-1)
    starts = np.ones(joint.shape, dtype=bool)
    np.not_equal(joint[:, 1:], joint[:, :-1], out=starts[:, 1:])
    h_ty = np.log(S) - _sum_nlogn_of_runs(starts) / S
    if C > 1:
        joint >>= cb
        np.not_equal(joint[:, 1:], joint[:, :-1], out=starts[:, 1:])
    h_t = np.log(S) - _sum_nlogn_of_runs(starts) / S
    return h_t, h_t + h_y - h_ty
