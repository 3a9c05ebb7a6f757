"""Pairwise squared distances that neither cancel nor overflow, for the kernel estimators (KDE, Goldfeld).

Scale. Each batch item's points are divided by a power of two ``2**e0 > max |h|`` (exact), centred, and divided
by a second power of two, giving ``v`` with ``|v| <= 1`` and ``h - mean = v * 2**e`` (``e`` an integer, kept as
such), so ``|h|`` up to the float64 maximum never overflows a square. A kernel exponent ``-D / (kappa s2)`` is
``-D' * f`` with ``D' = ||v_i - v_j||^2 <= 4 d`` and the factor ``f = 2**(2e) / (kappa s2)`` formed in logarithms
and capped at ``FACTOR_CAP`` (a pair then counts as separated unless ``D'`` itself underflows); ``f`` is a
monotone function of the noise, and ``D'`` does not depend on it, so a kernel can only grow with the noise.

Precision. The Gram expansion ``|v_i|^2 + |v_j|^2 - 2 v_i . v_j`` (one matrix product of augmented vectors) has an absolute error of
at most ``4 (d + 2) eps max|v|^2`` (eps = 2**-52) — harmless unless multiplied by a large ``f``: activity whose
spread is large compared with the noise, e.g. close pairs 1e-5 apart inside a spread of 1e3, where the Gram
error of a near pair is as large as the pair's distance. When that bound times ``f`` exceeds ``GRAM_TOL`` (1e-9
in the exponent, so at most ~1e-9 nats in any estimate) the distances are computed from the differences
``v_i - v_j`` directly (``d`` times the work, full relative precision).
"""
from __future__ import annotations

import numpy as np

__all__ = ["scaled_centred", "gram_is_precise", "sq_dists", "log_factor", "factor", "FACTOR_CAP", "GRAM_TOL"]

FACTOR_CAP = 1e299
GRAM_TOL = 1e-9
_EPS = np.finfo(float).eps


def scaled_centred(points):
    """points (B, n, d) finite -> ``(v, e)``: ``points - mean = v * 2**e`` per item, ``|v| <= 1``, e int (B,)."""
    m0 = np.max(np.abs(points), axis=(1, 2))
    e0 = np.frexp(m0)[1].astype(np.int64)                # m0 < 2**e0 (0 for m0 = 0)
    u = np.ldexp(points, -e0[:, None, None])
    u -= u.mean(axis=1, keepdims=True)
    m1 = np.max(np.abs(u), axis=(1, 2))
    e1 = np.frexp(m1)[1].astype(np.int64)
    return np.ldexp(u, -e1[:, None, None]), e0 + e1


def log_factor(e, log_denominator):
    """ln(2**(2e) / denominator) from the exponent ``e`` and ``ln(denominator)`` (no overflow)."""
    return 2.0 * np.asarray(e, dtype=float) * np.log(2.0) - log_denominator


def factor(log_f):
    """``exp(log_f)`` capped at ``FACTOR_CAP`` (monotone in ``log_f``)."""
    return np.exp(np.minimum(log_f, np.log(FACTOR_CAP)))


def gram_is_precise(v, f_max) -> bool:
    """Whether the Gram distances of ``v`` (B, n, d), times factors up to ``f_max`` (B,), err by < ``GRAM_TOL``."""
    d = v.shape[-1]
    m2 = np.max(np.einsum("bnd,bnd->bn", v, v), axis=-1) if v.size else np.zeros(v.shape[0])
    return bool(np.all(4.0 * (d + 2) * _EPS * m2 * f_max <= GRAM_TOL))


def sq_dists(a, b, precise: bool):
    """Squared distances (g, r, c) between rows of ``a`` (g, r, d) and ``b`` (g, c, d); >= 0.

    ``precise``: from the differences (exact up to one rounding per term); else the Gram expansion.
    """
    if precise:
        out = np.zeros(a.shape[:2] + (b.shape[1],))
        for k in range(a.shape[-1]):
            diff = a[:, :, None, k] - b[:, None, :, k]
            diff *= diff
            out += diff
        return out
    sa = np.einsum("grd,grd->gr", a, a)[..., None]
    sb = np.einsum("gcd,gcd->gc", b, b)[..., None]
    left = np.concatenate([-2.0 * a, sa, np.ones_like(sa)], axis=-1)     # [-2 a, |a|^2, 1] . [b, 1, |b|^2]
    right = np.concatenate([b, np.ones_like(sb), sb], axis=-1)
    out = np.matmul(left, np.swapaxes(right, 1, 2))
    return np.maximum(out, 0.0, out=out)
