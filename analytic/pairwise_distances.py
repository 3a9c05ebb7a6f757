"""Pairwise squared distances that neither cancel nor overflow: the one routine behind every Gaussian-kernel sum of
the toolkit (the Kolchinsky-Tracey bounds of :mod:`analytic.pairwise_bounds`, and through them the KDE estimator,
and Goldfeld's estimator in :mod:`sims.estimators`).

Scale. Each batch item's points are divided by a power of two ``2**e0 > max |h|`` (exact), centred, and divided
by a second power of two, giving ``v`` with ``|v| <= 1`` and ``h - mean = v * 2**e`` (``e`` an integer, kept as
such), so ``|h|`` up to the float64 maximum never overflows a square. A kernel exponent is ``-D_ij c`` with
``D_ij = ||h_i - h_j||^2`` and ``c = 1 / (kappa s2)``, formed from ``ln c`` (no overflow for tiny noise).

Precision. The Gram expansion ``|v_i|^2 + |v_j|^2 - 2 v_i . v_j`` (one matrix product of augmented vectors) has an
absolute error of at most ``4 (d + 2) eps max|v|^2`` (eps = 2**-52) — harmless unless multiplied by the large
factor ``2**(2e) c``: activity whose spread is large compared with the noise, e.g. close pairs 1e-5 apart inside a
spread of 1e3, where the Gram error of a near pair is as large as the pair's distance. Where that bound times the
factor exceeds ``GRAM_TOL`` (1e-9 in the exponent, so at most ~1e-9 nats in any estimate) the exponent is computed
from the differences directly: ``-sum_k ((v_ik - v_jk) 2**e sqrt(c))^2``, each difference exact, scaled back to
the original units (an overflow there means "infinitely far": ``exp(-inf) = 0``), full relative precision.
Only the pairs that can matter pay for it: with ``floor=EXP_UNDERFLOW`` a pair whose Gram exponent, plus twice
the error bound, is below the float64 underflow of ``exp`` is returned as ``-inf`` (its kernel is exactly 0.0
either way), so for activity spread far beyond the noise (e.g. a trained ReLU conv layer of thousands of units)
only the near pairs are computed from differences, and every kernel equals the full difference path's.

Monotone in the noise: ``D`` (or ``D'``) does not depend on it and ``c`` enters through monotone operations only,
so within one path a kernel can only grow with the noise; the two paths agree to ``GRAM_TOL``.

>>> import numpy as np
>>> h = np.array([[[1e6], [1e6 + 1e-3]]])                    # one item: two points 1e-3 apart, at 1e6
>>> v, e = scaled_centred(h)
>>> d = -neg_scaled_sq_dists(v, v, e, np.zeros(1), precise=True)   # c = 1: the squared distances
>>> bool(np.isclose(d[0, 0, 1], (h[0, 1, 0] - h[0, 0, 0]) ** 2, rtol=1e-12, atol=0)), float(abs(d[0, 0, 0]))
(True, 0.0)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["scaled_centred", "gram_is_precise", "neg_scaled_sq_dists", "GRAM_TOL", "EXP_UNDERFLOW"]

GRAM_TOL = 1e-9
#: An exponent whose exp is exactly 0.0 in float64 (1 below the log of the smallest subnormal, ~ -745.13).
EXP_UNDERFLOW = float(np.log(np.finfo(float).smallest_subnormal)) - 1.0
_EPS = np.finfo(float).eps
_LN2 = float(np.log(2.0))


def scaled_centred(points: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """points (B, n, d) finite -> ``(v, e)``: ``points - mean = v * 2**e`` per item, ``|v| <= 1``, e int (B,)."""
    m0 = np.max(np.abs(points), axis=(1, 2))
    e0 = np.frexp(m0)[1].astype(np.int64)                # m0 < 2**e0 (0 for m0 = 0)
    u = np.ldexp(points, -e0[:, None, None])
    u -= u.mean(axis=1, keepdims=True)
    m1 = np.max(np.abs(u), axis=(1, 2))
    e1 = np.frexp(m1)[1].astype(np.int64)
    return np.ldexp(u, -e1[:, None, None]), e0 + e1


def _gram_error(v: np.ndarray, e: np.ndarray, log_c: np.ndarray) -> np.ndarray:
    """Bound on the absolute error of Gram exponents, ``4 (d + 2) eps max|v|^2 2**(2e) c`` per item (B,)."""
    d = v.shape[-1]
    m2 = np.max(np.einsum("bnd,bnd->bn", v, v), axis=-1) if v.size else np.zeros(v.shape[0])
    with np.errstate(divide="ignore", over="ignore"):
        return np.exp(np.log(4.0 * (d + 2) * _EPS * m2) + 2.0 * _LN2 * e + log_c)


def gram_is_precise(v: np.ndarray, e: np.ndarray, log_c: np.ndarray, tol: float = GRAM_TOL) -> bool:
    """Whether Gram distances of ``v`` (B, n, d), times ``2**(2e) c`` (``ln c`` per item), err by < ``tol``."""
    return bool(np.all(_gram_error(v, e, log_c) <= tol))


def _scale_factors(diff, e, log_c):
    """``diff * 2**e sqrt(c)`` in place, ``e``, ``log_c`` broadcast against ``diff``; overflow -> inf."""
    log_f = _LN2 * e + 0.5 * log_c                       # ln(2**e sqrt(c))
    if np.all(log_f < 700.0):
        diff *= np.exp(log_f)
        return diff
    with np.errstate(over="ignore"):
        diff = np.ldexp(diff, e)
        f = np.exp(0.25 * log_c)                         # sqrt(c) as two finite factors (0 * f = 0)
        diff *= f
        diff *= f
    return diff


def _gram_exponents(a, b, e, log_c):
    """Gram kernel exponents ``-max(|a|^2 + |b|^2 - 2 a.b, 0) 2**(2e) c`` (g, r, c)."""
    sa = np.einsum("grd,grd->gr", a, a)[..., None]
    sb = np.einsum("gcd,gcd->gc", b, b)[..., None]
    left = np.concatenate([-2.0 * a, sa, np.ones_like(sa)], axis=-1)     # [-2 a, |a|^2, 1] . [b, 1, |b|^2]
    right = np.concatenate([b, np.ones_like(sb), sb], axis=-1)
    out = np.matmul(left, np.swapaxes(right, 1, 2))
    np.maximum(out, 0.0, out=out)
    with np.errstate(over="ignore"):
        out *= -np.exp(2.0 * _LN2 * e + log_c)[:, None, None]
    return out


#: Elements of the (pairs, d) difference blocks of the precise path (32 MiB of float64).
_PAIR_BLOCK = 2 ** 22


def neg_scaled_sq_dists(a: np.ndarray, b: np.ndarray, e: np.ndarray, log_c: np.ndarray, precise: bool,
                        floor: float | None = None) -> np.ndarray:
    """Kernel exponents ``-||h_i - h_j||^2 c`` (g, r, c) for rows of ``a`` (g, r, d), ``b`` (g, c, d) in scaled
    units (``h - mean = v 2**e``, e (g,)), ``c = exp(log_c)`` (g,). ``precise``: from the differences; else Gram.

    ``floor`` (precise path only): exponents that are certainly below it are returned as ``-inf`` without being
    computed. A pair is skipped when its Gram exponent plus twice the Gram error bound (:func:`gram_is_precise`'s)
    plus 1 lies below ``floor``, so with ``floor =`` :data:`EXP_UNDERFLOW` (``exp(floor) == 0``) every kernel
    ``exp(.)`` is exactly what the full precise path gives; only the near pairs pay for differences (for activity
    spread far beyond the noise, a small fraction).
    """
    if not precise:
        return _gram_exponents(a, b, e, log_c)
    g, r, d = a.shape
    c = b.shape[1]
    if floor is None:
        mask = np.ones((g, r, c), dtype=bool)
    else:
        err = np.maximum(_gram_error(a, e, log_c), _gram_error(b, e, log_c))     # the bound of max(|a|, |b|)
        with np.errstate(invalid="ignore"):
            upper = _gram_exponents(a, b, e, log_c) + (2.0 * err + 1.0)[:, None, None]   # with a margin
            mask = ~(upper < floor)              # NaN (0 * inf of an overflowing factor): compute it
    out = np.full((g, r, c), -np.inf)
    gi, ri, ci = np.nonzero(mask)
    step = max(1, _PAIR_BLOCK // max(1, d))
    with np.errstate(over="ignore", invalid="ignore"):
        for p0 in range(0, gi.size, step):
            P = slice(p0, p0 + step)
            diff = a[gi[P], ri[P]] - b[gi[P], ci[P]]                      # (pairs, d), each difference exact
            diff = _scale_factors(diff, e[gi[P], None], log_c[gi[P], None])
            out[gi[P], ri[P], ci[P]] = -np.einsum("pd,pd->p", diff, diff)
    return out
