"""Exact mutual information of linear Gaussian channels: the information plane of linear networks.

Saxe et al. (ICLR 2018) Sec. 5 and Appendix C, with three corrections of its printed formulas (the factor 1/2,
a general input covariance Sigma_x, identity matrices of the right size). A layer of a linear network computes
T = Wbar X + xi, Wbar the product of the weight matrices up to that layer, X ~ N(0, Sigma_x) and the analysis
noise xi ~ N(0, noise_var I) (added only to measure information, never in training). The teacher gives
Y = W_o X + eps, eps ~ N(0, label_noise_var I). Then, in nats::

    I(T;X) = 1/2 ln det(I + Wbar Sigma_x Wbar^T / noise_var)                              (gaussian_channel_mi)
    I(T;Y) = 1/2 ln[det C_T det C_Y / det C_joint],                                        (gaussian_channel_mi_ty)
    C_T = Wbar Sigma_x Wbar^T + noise_var I, C_Y = W_o Sigma_x W_o^T + label_noise_var I,
    C_TY = Wbar Sigma_x W_o^T, C_joint = [[C_T, C_TY], [C_TY^T, C_Y]].

Since T - X - Y is a Markov chain, 0 <= I(T;Y) <= min(I(T;X), I(X;Y)) with I(X;Y) = 1/2 ln det(I + W_o Sigma_x
W_o^T / label_noise_var): the continuous-variable counterparts of the bounds I(T;Y) <= H(Y), I(T;X) <= H(X)
(those entropies are infinite here).

Subspaces (Saxe et al. Fig. 6; inputs split into a subset S, e.g. the task-relevant ones, and the rest R),
:func:`subspace_mi` offers both readings:

* ``definition="marginal"``: I(T; X_S), the other inputs X_R acting as extra noise in T. By the chain rule
  I(T;X) = I(T;X_S) + I(T;X_R | X_S), so I(T;X_S) = I(T;X) - 1/2 ln det(I + W_R Sigma_{R|S} W_R^T / noise_var),
  Sigma_{R|S} = Sigma_RR - Sigma_RS Sigma_SS^+ Sigma_SR.
* ``definition="submap"``: the information of the sub-map alone, I(W_S X_S + xi; X_S) = 1/2 ln det(I + W_S
  Sigma_SS W_S^T / noise_var). For independent blocks (Sigma_x block diagonal, as in the student-teacher task)
  this is the conditional information I(T; X_S | X_R).

For independent blocks marginal(S) + submap(R) = I(T;X) exactly; marginal <= submap always holds there.

Example
-------
>>> import numpy as np
>>> round(gaussian_channel_mi(np.eye(2), np.diag([3.0, 1.0]), noise_var=1.0), 6)   # (ln 4 + ln 2)/2
1.039721
"""
from __future__ import annotations

from typing import Literal
import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic import checks

__all__ = ["gaussian_channel_mi", "gaussian_channel_mi_ty", "gaussian_mi_from_cov", "subspace_mi"]


def _matrix(x, name):
    return checks.finite_array(x, name, min_ndim=2, allow_bool=False)


def _cov(cov, name, n=None):
    c = _matrix(cov, name)
    if c.shape[-1] != c.shape[-2]:
        raise ValueError(f"{name} must be square in its last two axes, got shape {c.shape}")
    if n is not None and c.shape[-1] != n:
        raise ValueError(f"{name} must be {n} x {n} to match the weight matrix, got shape {c.shape}")
    if not np.allclose(c, np.swapaxes(c, -1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    ev = np.linalg.eigvalsh(c)
    if np.any(ev[..., 0] < -1e-10 * np.maximum(np.abs(ev[..., -1]), 1e-300)):
        raise ValueError(f"{name} must be positive semidefinite")
    return c


def _noise(noise_var, name, batch_shape):
    v = checks.positive(noise_var, name)
    v = np.asarray(v, dtype=float)
    try:
        np.broadcast_shapes(v.shape, batch_shape)
    except ValueError:
        raise ValueError(f"{name} of shape {v.shape} does not broadcast against batch shape {batch_shape}") from None
    return v


def _sym_sqrt(c):
    ev, vec = np.linalg.eigh(c)
    return (vec * np.sqrt(np.clip(ev, 0.0, None))[..., None, :]) @ np.swapaxes(vec, -1, -2)


def _logdet_pd(c, name):
    try:
        chol = np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name}: covariance is singular (not positive definite)") from None
    return 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def _pow2_scale(x, axes):
    """The exponent k with max |x| over ``axes`` < 2^k (0 for all-zero blocks), for exact rescaling by ldexp."""
    return np.frexp(np.max(np.abs(x), axis=axes))[1]


def _half_log1p_sum(w, cov, noise_var=None, *, log_noise_var=None):
    """1/2 sum_i log1p(mu_i / noise_var), mu_i the eigenvalues of W Sigma W^T (via the smaller Gram matrix).

    Scale-aware: W and Sigma are first scaled by exact powers of two into [-1, 1] (so the Gram matrix neither
    overflows at W = 1e200 nor underflows at 1e-200) and the ratio mu_i / noise_var is formed in logs, so the
    result is finite whenever it is representable (W = 1e200 * ones((1, 2)), Sigma = I, noise_var = 1:
    1/2 ln(1 + 2e400) = 460.86 nats).
    """
    m, n = w.shape[-2], w.shape[-1]
    kw = _pow2_scale(w, (-2, -1))
    kc = _pow2_scale(cov, (-2, -1))
    w = np.ldexp(w, -kw[..., None, None])
    cov = np.ldexp(cov, -kc[..., None, None])
    if m <= n:
        gram = w @ cov @ np.swapaxes(w, -1, -2)
    else:
        root = _sym_sqrt(cov)
        gram = root @ np.swapaxes(w, -1, -2) @ w @ root
    gram = 0.5 * (gram + np.swapaxes(gram, -1, -2))
    mu = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    if log_noise_var is None:
        log_noise_var = np.log(np.asarray(noise_var, dtype=float))
    with np.errstate(divide="ignore"):
        # ln(mu_i / noise_var) of the unscaled problem: mu_i 2^(2 kw + kc) / noise_var
        log_ratio = (np.log(mu) + ((2 * kw + kc) * np.log(2.0))[..., None]
                     - np.asarray(log_noise_var, dtype=float)[..., None])
    return 0.5 * np.sum(np.logaddexp(0.0, log_ratio), axis=-1)


def gaussian_channel_mi(W: ArrayLike, cov_x: ArrayLike, noise_var: ArrayLike) -> float | NDArray[np.float64]:
    """I(T;X) in nats for T = W X + N(0, noise_var I), X ~ N(0, cov_x): 1/2 ln det(I + W cov_x W^T / noise_var).

    ``W`` (..., n_t, n_x), ``cov_x`` (..., n_x, n_x) (symmetric PSD), ``noise_var`` > 0 scalar or array; leading
    axes broadcast (e.g. W of shape (epochs, trials, n_t, n_x) against one cov_x). Computed as
    1/2 sum log1p(mu_i / noise_var) over the eigenvalues mu_i of W cov_x W^T, accurate for tiny and huge SNR.

    >>> import numpy as np
    >>> round(float(gaussian_channel_mi(np.ones((1, 1)), np.eye(1), 1.0)), 6)   # 1/2 ln 2
    0.346574
    """
    w = _matrix(W, "W")
    c = _cov(cov_x, "cov_x", w.shape[-1])
    batch = np.broadcast_shapes(w.shape[:-2], c.shape[:-2])
    v = _noise(noise_var, "noise_var", batch)
    out = _half_log1p_sum(w, c, v)
    return out if np.ndim(out) else float(out)


def gaussian_mi_from_cov(cov: ArrayLike, n_first: int) -> float | NDArray[np.float64]:
    """I(A;B) in nats of a jointly Gaussian vector (A, B) with covariance ``cov``, A the first ``n_first`` entries.

    1/2 [ln det C_AA + ln det C_BB - ln det C] (Cholesky log-determinants; batched over leading axes).
    Works for exact and for sample covariances (the plug-in Gaussian estimate).

    >>> import numpy as np
    >>> round(float(gaussian_mi_from_cov(np.array([[1.0, 0.5], [0.5, 1.0]]), 1)), 6)   # -1/2 ln(1 - 0.25)
    0.143841
    """
    c = _cov(cov, "cov")
    n = c.shape[-1]
    k = checks.positive_int(n_first, "n_first")
    if k >= n:
        raise ValueError(f"n_first must be < {n} (both blocks non-empty), got {k}")
    mi = 0.5 * (_logdet_pd(c[..., :k, :k], "cov") + _logdet_pd(c[..., k:, k:], "cov") - _logdet_pd(c, "cov"))
    mi = np.maximum(mi, 0.0)  # clip round-off below 0 only (at most ~1e-15)
    return mi if np.ndim(mi) else float(mi)


def gaussian_channel_mi_ty(W: ArrayLike, W_o: ArrayLike, cov_x: ArrayLike, noise_var: ArrayLike,
                           label_noise_var: ArrayLike) -> float | NDArray[np.float64]:
    """I(T;Y) in nats for T = W X + N(0, noise_var I), Y = W_o X + N(0, label_noise_var I), X ~ N(0, cov_x).

    1/2 ln[det C_T det C_Y / det C_joint] with the covariances of the module docstring (the corrected
    formula of Saxe et al. 2018, Sec. 5 and App. C). ``W`` (..., n_t, n_x), ``W_o`` (..., n_y, n_x);
    ``label_noise_var`` >= 0 (0 is
    allowed when W_o cov_x W_o^T is non-singular).

    >>> import numpy as np
    >>> round(float(gaussian_channel_mi_ty(np.eye(1), np.eye(1), np.eye(1), 1.0, 1.0)), 6)  # -1/2 ln(1 - 1/4)
    0.143841
    """
    w = _matrix(W, "W")
    wo = _matrix(W_o, "W_o")
    if wo.shape[-1] != w.shape[-1]:
        raise ValueError(f"W_o must have {w.shape[-1]} columns to match W, got shape {wo.shape}")
    c = _cov(cov_x, "cov_x", w.shape[-1])
    batch = np.broadcast_shapes(w.shape[:-2], wo.shape[:-2], c.shape[:-2])
    v = _noise(noise_var, "noise_var", batch)
    lv = checks.nonnegative(label_noise_var, "label_noise_var")
    lv = np.asarray(lv, dtype=float)
    try:
        batch = np.broadcast_shapes(batch, v.shape, lv.shape)      # noise arrays are batch axes too
    except ValueError:
        raise ValueError(f"label_noise_var of shape {lv.shape} does not broadcast against noise_var {v.shape} and "
                         f"the batch shape {batch}") from None
    if np.all(lv > 0):
        return _ty_from_channels(w, wo, c, v, lv, batch)
    n_t, n_y = w.shape[-2], wo.shape[-2]
    wt = np.swapaxes(w, -1, -2)
    wot = np.swapaxes(wo, -1, -2)
    c_t = w @ c @ wt + v[..., None, None] * np.eye(n_t)
    c_y = wo @ c @ wot + lv[..., None, None] * np.eye(n_y)
    c_ty = w @ c @ wot
    c_t, c_y, c_ty = _bcast_blocks(c_t, c_y, c_ty)
    joint = np.concatenate([np.concatenate([c_t, c_ty], axis=-1),
                            np.concatenate([np.swapaxes(c_ty, -1, -2), c_y], axis=-1)], axis=-2)
    try:
        ld_y = _logdet_pd(c_y, "label_noise_var")
    except ValueError:
        raise ValueError("label_noise_var: W_o cov_x W_o^T + label_noise_var I is singular; use label_noise_var > 0")
    mi = 0.5 * (_logdet_pd(c_t, "noise_var") + ld_y - _logdet_pd(joint, "label_noise_var"))
    mi = np.maximum(mi, 0.0)
    return mi if np.ndim(mi) else float(mi)


def _ty_from_channels(w, wo, c, v, lv, batch):
    """I(T;Y) = I(T;X) + I(X;Y) - I((T, Y); X) (T - X - Y is a Markov chain, so I(Y; X | T) = I(X;Y) - I(T;Y)),
    each term a channel information 1/2 ln det(I + M Sigma M^T) of the noise-whitened map, computed scale-aware.

    The joint map stacks W / sqrt(noise_var) and W_o / sqrt(label_noise_var), scaled by a common factor formed
    in logs, so weights of 1e200 or noise of 1e-300 neither overflow nor lose the T-Y correlation to cancellation
    (the covariance route gave 36.4 instead of 690 nats for Sigma_x = 1e300 I)."""
    w = np.broadcast_to(w, batch + w.shape[-2:])
    wo = np.broadcast_to(wo, batch + wo.shape[-2:])
    v, lv = np.broadcast_to(v, batch), np.broadcast_to(lv, batch)
    with np.errstate(divide="ignore"):
        la = -0.5 * np.log(v) + np.log(np.max(np.abs(w), axis=(-2, -1)))          # ln max |W / sqrt(v)|
        lb = -0.5 * np.log(lv) + np.log(np.max(np.abs(wo), axis=(-2, -1)))
    lg = np.maximum(la, lb)
    lg = np.where(np.isfinite(lg), lg, 0.0)                                          # both maps zero
    a = np.exp(-0.5 * np.log(v) - lg)[..., None, None]
    b = np.exp(-0.5 * np.log(lv) - lg)[..., None, None]
    joint = np.concatenate([w * a, wo * b], axis=-2)
    i_tx = _half_log1p_sum(w, c, v)
    i_xy = _half_log1p_sum(wo, c, lv)
    i_joint = _half_log1p_sum(joint, c, log_noise_var=-2.0 * lg)
    mi = np.maximum(i_tx + i_xy - i_joint, 0.0)
    return mi if np.ndim(mi) else float(mi)


def _bcast_blocks(c_t, c_y, c_ty):
    batch = np.broadcast_shapes(c_t.shape[:-2], c_y.shape[:-2], c_ty.shape[:-2])
    return (np.broadcast_to(c_t, batch + c_t.shape[-2:]), np.broadcast_to(c_y, batch + c_y.shape[-2:]),
            np.broadcast_to(c_ty, batch + c_ty.shape[-2:]))


def subspace_mi(W: ArrayLike, cov_x: ArrayLike, noise_var: ArrayLike, subset: ArrayLike,
                definition: Literal["marginal", "submap"] = "marginal") -> float | NDArray[np.float64]:
    """Information of T = W X + N(0, noise_var I) about the inputs in ``subset`` (nats); two definitions.

    ``subset``: integer indices or a boolean mask over the inputs (the last axis of ``W``).
    ``definition="marginal"``: I(T; X_S), the remaining inputs acting as noise.
    ``definition="submap"``: I(W_S X_S + xi; X_S), the sub-map alone (= I(T; X_S | X_rest) for independent
    blocks). See the module docstring for formulas.

    >>> import numpy as np
    >>> w, c = np.array([[1.0, 1.0]]), np.eye(2)
    >>> round(subspace_mi(w, c, 1.0, [0]), 6), round(subspace_mi(w, c, 1.0, [0], "submap"), 6)
    (0.202733, 0.346574)
    """
    w = _matrix(W, "W")
    n = w.shape[-1]
    c = _cov(cov_x, "cov_x", n)
    sub = np.asarray(subset)
    if sub.dtype == bool:
        if sub.shape != (n,):
            raise ValueError(f"subset as a mask must have shape ({n},), got {sub.shape}")
        mask = sub
    else:
        if sub.ndim != 1 or sub.size == 0 or sub.dtype.kind not in "iu" or np.any(sub < 0) or np.any(sub >= n):
            raise ValueError(f"subset must be a non-empty 1-D array of input indices in [0, {n})")
        if np.unique(sub).size != sub.size:
            raise ValueError("subset must not repeat indices")
        mask = np.zeros(n, bool)
        mask[sub] = True
    if not mask.any():
        raise ValueError("subset must select at least one input")
    s_idx, r_idx = np.flatnonzero(mask), np.flatnonzero(~mask)
    batch = np.broadcast_shapes(w.shape[:-2], c.shape[:-2])
    v = _noise(noise_var, "noise_var", batch)
    w_s = w[..., s_idx]
    c_ss = c[..., s_idx[:, None], s_idx]
    if definition == "submap":
        out = _half_log1p_sum(w_s, c_ss, v)
    elif definition == "marginal":
        if r_idx.size == 0:
            out = _half_log1p_sum(w, c, v)
        else:
            c_rs = c[..., r_idx[:, None], s_idx]
            c_rr = c[..., r_idx[:, None], r_idx]
            c_r_given_s = c_rr - c_rs @ np.linalg.pinv(c_ss, hermitian=True) @ np.swapaxes(c_rs, -1, -2)
            c_r_given_s = 0.5 * (c_r_given_s + np.swapaxes(c_r_given_s, -1, -2))
            out = _half_log1p_sum(w, c, v) - _half_log1p_sum(w[..., r_idx], c_r_given_s, v)
            out = np.maximum(out, 0.0)
    else:
        raise ValueError(f"definition must be 'marginal' or 'submap', got {definition!r}")
    return out if np.ndim(out) else float(out)
