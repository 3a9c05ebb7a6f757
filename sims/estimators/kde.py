"""Kernel (pairwise-distance) bounds on I(X;T) and I(T;Y) for T = h(X) + N(0, noise_var I).

Saxe et al. (ICLR 2018, Sec. 2 and App.) treat the layer as if Gaussian noise of VARIANCE ``noise_var`` (0.1 in
the paper) were added to the activity ``h_i`` of each equiprobable sample ``i``; T is then a Gaussian mixture and
Kolchinsky & Tracey's bounds (:mod:`analytic.pairwise_bounds`) give, with ``D_ij = ||h_i - h_j||^2``,

    I(X;T)_upper = -(1/N) sum_i ln[(1/N) sum_j exp(-D_ij / (2 noise_var))]
    I(X;T)_lower = the same with 8 noise_var.

``I(T;Y) = H(T) - sum_y p(y) H(T|y)``, each entropy replaced by the same bound on the class's mixture; the Gaussian
constants cancel, leaving ``I(T;Y) = (1/N) sum_i ln[ m_i(y_i) / m_i ]`` with ``m_i = (1/N) sum_j K_ij`` and
``m_i(y) = (1/N_y) sum_{j: y_j = y} K_ij``. It is a difference of two bounds, so NOT itself a bound (as SPECS §4 says).

One blocked pass over the pairs (each unordered pair once) yields both kernels and every class's sums (one
matrix product per block with the class indicator columns), so upper and lower bounds on both quantities cost
one distance computation.

>>> import numpy as np
>>> h = np.random.default_rng(0).normal(size=(3, 200, 4))       # (epochs, samples, units)
>>> y = np.arange(200) % 2
>>> up_xt, up_ty = kde(h, y, noise_var=0.1)
>>> lo_xt, lo_ty = kde(h, y, noise_var=0.1, bound="lower")
>>> bool(np.all(lo_xt <= up_xt) and np.all(up_xt <= np.log(200)))
True
"""
from __future__ import annotations

import numpy as np

from analytic.checks import positive
from analytic.pairwise_bounds import kernel_row_sums
from sims.estimators._common import check_activity, label_codes

__all__ = ["kde", "kde_bounds"]


def kde_bounds(activity, labels, noise_var, chunk_size=None):
    """All four numbers in one pass: ``(lower_xt, lower_ty, upper_xt, upper_ty)``, nats, leading axes kept."""
    act, y, batch = check_activity(activity, labels)
    var = positive(noise_var, "noise_var")
    codes, C, p = label_codes(y)
    S = act.shape[-2]
    counts = np.bincount(codes, minlength=C)
    cols = np.zeros((S, C))
    cols[np.arange(S), codes] = 1.0 / counts[codes]          # column c: uniform weights on class c
    sums_kl, sums_bh = kernel_row_sums(act, var, cols, chunk_size=chunk_size)
    out = []
    for sums in (sums_bh, sums_kl):
        full = sums @ p                                     # (1/N) sum_j K_ij  = sum_c p_c m_i(c)
        own = np.take_along_axis(sums, np.broadcast_to(codes[:, None], sums.shape[:-1] + (1,)), axis=-1)[..., 0]
        i_xt = -np.mean(np.log(full), axis=-1)
        i_ty = np.mean(np.log(own) - np.log(full), axis=-1)
        out += [i_xt[()], i_ty[()]]
    return tuple(out)


def kde(activity, labels, noise_var, bound: str = "upper", chunk_size=None):
    """``(I(X;T), I(T;Y))`` in nats from the KL (``bound="upper"``) or Bhattacharyya (``"lower"``) kernel.

    ``activity`` (..., samples, units), ``labels`` (samples,), ``noise_var`` the VARIANCE of the assumed noise.
    """
    if bound not in ("upper", "lower"):
        raise ValueError(f"bound must be 'upper' or 'lower', got {bound!r}")
    lo_xt, lo_ty, up_xt, up_ty = kde_bounds(activity, labels, noise_var, chunk_size=chunk_size)
    return (up_xt, up_ty) if bound == "upper" else (lo_xt, lo_ty)
