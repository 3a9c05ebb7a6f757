"""Kernel (pairwise-distance) bounds on I(X;T) and I(T;Y) for T = h(X) + N(0, noise_var I).

Saxe et al. (ICLR 2018, Sec. 2 and App.) treat the layer as if Gaussian noise of VARIANCE ``noise_var`` (0.1 in
the paper) were added to the activity ``h_i`` of each equiprobable sample ``i``; T is then a Gaussian mixture and
Kolchinsky & Tracey's bounds (:mod:`analytic.pairwise_bounds`) give, with ``D_ij = ||h_i - h_j||^2``,

    I(X;T)_upper = -(1/N) sum_i ln[(1/N) sum_j exp(-D_ij / (2 noise_var))]
    I(X;T)_lower = the same with 8 noise_var.

``I(T;Y) = H(T) - sum_y p(y) H(T|y)``, each entropy replaced by the same bound on the class's mixture; the Gaussian
constants cancel, leaving ``I(T;Y) = (1/N) sum_i ln[ m_i(y_i) / m_i ]`` with ``m_i = (1/N) sum_j K_ij`` and
``m_i(y) = (1/N_y) sum_{j: y_j = y} K_ij``. It is a difference of two bounds, so NOT itself a bound (Kolchinsky
& Tracey 2017 bound entropies, not their differences).

One blocked pass over the pairs (each unordered pair once) yields both kernels and every class's sums (one
matrix product per block with the class indicator columns), so upper and lower bounds on both quantities cost
one distance computation: :func:`analytic.pairwise_bounds.kernel_row_sums`, the loop of the analytic bounds, with
distances from :mod:`analytic.pairwise_distances`: scaled and centred (finite for
any finite activity, e.g. 1e300), by the Gram expansion when its rounding is negligible against the noise and from
direct differences when it is not (activity near 1e6 with a tiny noise variance), and computed once, independent
of ``noise_var``, so the bounds never increase with the noise variance. BLAS runs with ``threads`` threads
(default 1; ``None`` leaves it as configured): these products are small and repeated, and extra BLAS threads on
a busy machine made them 7-30x slower. Results follow the range policy of :mod:`sims.estimators._common`:
``I(X;T)`` in ``[0, ln S]``, ``I(T;Y)`` in ``[0, min(I(X;T), H(Y))]`` (the KDE ``I(T;Y)`` can be negative raw).

>>> import numpy as np
>>> h = np.random.default_rng(0).normal(size=(3, 200, 4))       # (epochs, samples, units)
>>> y = np.arange(200) % 2
>>> up_xt, up_ty = kde(h, y, noise_var=0.1)
>>> lo_xt, lo_ty = kde(h, y, noise_var=0.1, bound="lower")
>>> bool(np.all(lo_xt <= up_xt) and np.all(up_xt <= np.log(200)))
True
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic.checks import positive
from analytic.pairwise_bounds import kernel_row_sums
from sims.estimators import _common
from sims.estimators._common import check_activity, enforce_range, label_codes, label_entropy

__all__ = ["kde", "kde_bounds"]


def _noise_var(noise_var, batch):
    var = np.asarray(positive(noise_var, "noise_var"))
    try:
        return np.broadcast_to(var, batch).reshape(-1)
    except ValueError:
        raise ValueError(f"noise_var of shape {var.shape} does not broadcast to the batch shape {batch}") from None


def _kernel_sums(activity, labels, noise_var, chunk_size, threads, kernels):
    """Validated inputs and the class-column kernel sums: (batch, n, codes, p, sums_kl, sums_bh)."""
    act, y, batch = check_activity(activity, labels)
    var = _noise_var(noise_var, batch)
    codes, C, p = label_codes(y)
    n = act.shape[-2]
    counts = np.bincount(codes, minlength=C)
    cols = np.zeros((n, C))
    cols[np.arange(n), codes] = 1.0 / counts[codes]          # column c: uniform weights on class c
    with _common.blas_threads(threads):
        sums = kernel_row_sums(act, var.reshape(batch), cols, chunk_size=chunk_size, kernels=kernels)
    sums_kl, sums_bh = (None if s is None else s.reshape(-1, n, C) for s in sums)
    return batch, n, codes, p, sums_kl, sums_bh


def _estimates(sums, codes, p, n, batch, name):
    """(I(X;T), I(T;Y)) in nats from one kernel's class-column sums (B, n, C), range-checked."""
    full = sums @ p                                         # (1/N) sum_j K_ij  = sum_c p_c m_i(c)
    own = np.take_along_axis(sums, codes[None, :, None], axis=-1)[..., 0]
    i_xt = -np.mean(np.log(full), axis=-1)
    i_ty = np.mean(np.log(own) - np.log(full), axis=-1)
    i_xt, i_ty = enforce_range(i_xt, i_ty, n, label_entropy(p), name)
    return i_xt.reshape(batch)[()], i_ty.reshape(batch)[()]


def kde_bounds(activity: ArrayLike, labels: ArrayLike, noise_var: ArrayLike, chunk_size: int | None = None,
               threads: int | None = 1) -> tuple[float | NDArray[np.float64], ...]:
    """All four numbers in one pass: ``(lower_xt, lower_ty, upper_xt, upper_ty)``, nats, leading axes kept.

    ``noise_var``: a variance > 0, scalar or broadcastable to the leading axes. ``chunk_size``: rows per distance
    block (None: automatic, memory bounded). ``threads``: BLAS threads for the products (None: unchanged).
    """
    batch, n, codes, p, sums_kl, sums_bh = _kernel_sums(activity, labels, noise_var, chunk_size, threads, "both")
    return (_estimates(sums_bh, codes, p, n, batch, "kde lower")
            + _estimates(sums_kl, codes, p, n, batch, "kde upper"))


def kde(activity: ArrayLike, labels: ArrayLike, noise_var: ArrayLike, bound: Literal["upper", "lower"] = "upper",
        chunk_size: int | None = None, threads: int | None = 1
        ) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """``(I(X;T), I(T;Y))`` in nats from the KL (``bound="upper"``) or Bhattacharyya (``"lower"``) kernel.

    ``activity`` (..., samples, units), ``labels`` (samples,), ``noise_var`` the VARIANCE of the assumed noise,
    ``threads`` BLAS threads (default 1, None: unchanged).
    """
    if bound not in ("upper", "lower"):
        raise ValueError(f"bound must be 'upper' or 'lower', got {bound!r}")
    kernels = "kl" if bound == "upper" else "bhat"                 # only the kernel asked for is summed
    batch, n, codes, p, sums_kl, sums_bh = _kernel_sums(activity, labels, noise_var, chunk_size, threads, kernels)
    if bound == "upper":
        return _estimates(sums_kl, codes, p, n, batch, "kde upper")
    return _estimates(sums_bh, codes, p, n, batch, "kde lower")
