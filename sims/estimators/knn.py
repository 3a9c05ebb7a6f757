"""k-nearest-neighbour estimators: the Kozachenko-Leonenko entropy of noisy activity, and the Kraskov-Stoegbauer-
Grassberger (KSG) mutual-information estimator.

Kozachenko-Leonenko (Kozachenko & Leonenko 1987; in the form of Kraskov, Stoegbauer & Grassberger 2004, Eq. 20),
used with k = 2 by Saxe et al. (ICLR 2018, App. B.3) on noisy hidden activity. For n points in d dimensions with
``eps_i`` the Euclidean distance from point i to its k-th nearest neighbour,

    H_hat = psi(n) - psi(k) + ln V_d + (d/n) sum_i ln eps_i,     V_d = pi^(d/2) / Gamma(d/2 + 1).

Deterministic activity of distinct inputs has infinite I(X;T); as for the KDE estimator, the layer is read as
``T = h + N(0, noise_var I)`` (``noise_var`` a VARIANCE, 0.1 like Saxe's KDE), one noise draw per sample
(``seed``), and :func:`kozachenko_leonenko` returns

    I(X;T) = H_hat(T) - (d/2) ln(2 pi e noise_var),      I(T;Y) = H_hat(T) - sum_y p(y) H_hat(T | y),

with H_hat(T|y) the same estimator on class y's points. It is an entropy difference, not the KSG estimator;
:func:`kraskov` is its former (misleading) name, kept as a deprecated alias.

KSG (Kraskov, Stoegbauer & Grassberger 2004, algorithm 1, their Eq. 8): in the joint space Z = (X, T) with the
max-norm, ``r_i`` is the distance from point i to its k-th neighbour in Z (their ``eps(i)/2``), ``n_x(i)`` and
``n_t(i)`` the numbers of OTHER points strictly within ``r_i`` in the X and T marginals, and

    I_hat(X;T) = psi(k) + psi(n) - < psi(n_x + 1) + psi(n_t + 1) >.

:func:`ksg_mi` applies it to any two sample arrays; :func:`ksg` to a layer: ``I(X;T)`` between the ``inputs`` and
the noisy activity, ``I(T;Y)`` with the labels' discrete metric (distance 0 within a class, infinite across, so
the joint k-th neighbour is the k-th neighbour within the class and ``n_y + 1 = N_y``; the same formula, as in
Ross, PLoS ONE 2014, Eq. 2). Points are scaled by one power of two (exact, the estimate unchanged) so huge
activity does not overflow a distance. Neighbours come from ``scipy.spatial.cKDTree``; batch axes are looped.
All results follow the range policy of :mod:`sims.estimators._common` (clipped to ``[0, ln S]`` and
``[0, min(I(X;T), H(Y))]`` with a :class:`~sims.estimators.BoundWarning`; :func:`ksg_mi` only to ``>= 0``). Nats.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(20000, 1))
>>> bool(abs(kl_entropy(x, k=2) - 0.5 * np.log(2 * np.pi * np.e)) < 0.02)
True
>>> rng = np.random.default_rng(1)
>>> a = rng.normal(size=(4000, 1)); b = 0.8 * a + 0.6 * rng.normal(size=(4000, 1))
>>> bool(abs(ksg_mi(a, b, k=3) - (-0.5 * np.log(1 - 0.8 ** 2))) < 0.05)
True
"""
from __future__ import annotations

import warnings

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from analytic.checks import rng as as_rng
from analytic.gaussian import gaussian_entropy
from analytic.pairwise_distances import scaled_centred
from sims.estimators._common import (check_activity, clip_to_range, count, enforce_range, label_codes,
                                     label_entropy, real_array, real_positive)

__all__ = ["kozachenko_leonenko", "kl_entropy", "ksg_mi", "ksg", "kraskov", "kraskov_entropy"]


def _pow2_scale(points):
    """Centred points (n, d) divided by one power of two: ``(v, e)`` with ``points - mean = v 2**e``, |v| <= 1.

    Exact (k-NN ranks and distance ratios unchanged) and overflow-free for any finite input."""
    v, e = scaled_centred(points[None])
    return v[0], int(e[0])


def kl_entropy(points: ArrayLike, k: int = 2) -> float | NDArray[np.float64]:
    """Kozachenko-Leonenko entropy (nats) of points (..., n, d); leading axes kept."""
    k = count(k, "k")
    pts = real_array(points, "points", min_ndim=2)
    n, d = pts.shape[-2:]
    if n <= k:
        raise ValueError(f"k must be smaller than the number of points ({n}), got {k}")
    flat = pts.reshape(-1, n, d)
    log_vd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)
    out = np.empty(flat.shape[0])
    for b, p in enumerate(flat):
        p, e = _pow2_scale(p)
        dist, _ = cKDTree(p).query(p, k=k + 1)
        eps = dist[:, -1]
        if np.any(eps <= 0):
            raise ValueError("points: duplicate points (zero k-NN distance); add noise or raise k")
        out[b] = digamma(n) - digamma(k) + log_vd + d * (np.mean(np.log(eps)) + e * np.log(2.0))
    return out.reshape(pts.shape[:-2])[()]


def _noisy(act, noise_var, seed):
    var = real_positive(noise_var, "noise_var")
    gen = as_rng(seed, "seed")
    return act + np.sqrt(var) * gen.standard_normal(act.shape), var


def kozachenko_leonenko(activity: ArrayLike, labels: ArrayLike, k: int = 2, noise_var: float = 0.1,
                        seed: np.random.Generator | int | None = 0
                        ) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """Kozachenko-Leonenko ``(I(X;T), I(T;Y))`` in nats on ``activity + N(0, noise_var I)``; leading axes kept."""
    act, y, batch = check_activity(activity, labels)
    k = count(k, "k")
    codes, C, p = label_codes(y)
    counts = np.bincount(codes, minlength=C)
    if counts.min() <= k:
        raise ValueError(f"k must be smaller than every class's sample count (smallest {counts.min()}), got {k}")
    t, var = _noisy(act, noise_var, seed)
    S, d = act.shape[-2:]
    h = kl_entropy(t, k)
    h_cond = sum(p[c] * kl_entropy(t[..., codes == c, :], k) for c in range(C))
    i_xt = np.asarray(h - gaussian_entropy(var, d))
    i_xt, i_ty = enforce_range(i_xt, np.asarray(h - h_cond), S, label_entropy(p), "kozachenko_leonenko")
    return i_xt.reshape(batch)[()], i_ty.reshape(batch)[()]


def _as_points(x, name):
    a = real_array(x, name, min_ndim=1)
    return a[..., None] if a.ndim == 1 else a


def _ksg_one(x, t, k):
    """KSG algorithm 1 for one sample set: x (n, dx), t (n, dt)."""
    n = x.shape[0]
    joint, _ = _pow2_scale(np.concatenate([x, t], axis=1))
    xs, ts = joint[:, :x.shape[1]], joint[:, x.shape[1]:]
    dist, _ = cKDTree(joint).query(joint, k=k + 1, p=np.inf)
    r = dist[:, -1]
    if np.any(r <= 0):
        raise ValueError("x, z: duplicate joint points (zero k-NN distance); add noise or raise k")
    r_in = np.nextafter(r, 0)                               # strictly inside r_i
    nx = cKDTree(xs).query_ball_point(xs, r_in, p=np.inf, return_length=True) - 1
    nt = cKDTree(ts).query_ball_point(ts, r_in, p=np.inf, return_length=True) - 1
    return digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(nt + 1))


def ksg_mi(x: ArrayLike, z: ArrayLike, k: int = 3) -> float | NDArray[np.float64]:
    """KSG estimate (algorithm 1) of I(X;Z) in nats from paired samples x (..., n, dx), z (..., n, dz).

    1-D arrays are read as (n, 1). Leading axes are batch axes (broadcast). The estimate is clipped at 0 (with a
    :class:`~sims.estimators.BoundWarning` beyond rounding). The estimate depends on the relative scaling of X and
    Z (max-norm); standardize them first if their units are unrelated.
    """
    k = count(k, "k")
    xa, za = _as_points(x, "x"), _as_points(z, "z")
    if xa.shape[-2] != za.shape[-2]:
        raise ValueError(f"x and z must have the same number of samples, got {xa.shape[-2]} and {za.shape[-2]}")
    n = xa.shape[-2]
    if n <= k:
        raise ValueError(f"k must be smaller than the number of samples ({n}), got {k}")
    try:
        batch = np.broadcast_shapes(xa.shape[:-2], za.shape[:-2])
    except ValueError:
        raise ValueError(f"x and z batch shapes {xa.shape[:-2]} and {za.shape[:-2]} do not broadcast") from None
    xb = np.broadcast_to(xa, batch + xa.shape[-2:]).reshape((-1,) + xa.shape[-2:])
    zb = np.broadcast_to(za, batch + za.shape[-2:]).reshape((-1,) + za.shape[-2:])
    raw = np.array([_ksg_one(a, b, k) for a, b in zip(xb, zb)])
    out = clip_to_range(raw, 0.0, np.inf, estimator="ksg_mi", quantity="I(X;Z)", bound_name="inf")
    return out.reshape(batch)[()]


def _ksg_labels_one(t, codes, counts, k):
    """KSG with the labels' discrete metric: I(T;Y) for t (n, d), class codes (n,)."""
    n = t.shape[0]
    ts, _ = _pow2_scale(t)
    r = np.empty(n)
    for c in range(counts.size):
        m = codes == c
        dist, _ = cKDTree(ts[m]).query(ts[m], k=k + 1, p=np.inf)
        r[m] = dist[:, -1]
    if np.any(r <= 0):
        raise ValueError("activity: duplicate points within a class (zero k-NN distance); add noise or raise k")
    nt = cKDTree(ts).query_ball_point(ts, np.nextafter(r, 0), p=np.inf, return_length=True) - 1
    return digamma(k) + digamma(n) - np.mean(digamma(counts[codes]) + digamma(nt + 1))


def ksg(activity: ArrayLike, labels: ArrayLike, inputs: ArrayLike, k: int = 3, noise_var: float = 0.1,
        seed: np.random.Generator | int | None = 0) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """KSG ``(I(X;T), I(T;Y))`` in nats for ``T = activity + N(0, noise_var I)``; leading axes kept.

    ``inputs`` (samples, input dims) or (samples,): the X paired with each sample (shared by the batch).
    ``I(X;T)`` is KSG algorithm 1 on (inputs, T); ``I(T;Y)`` the same with the labels' discrete metric.
    """
    act, y, batch = check_activity(activity, labels)
    S = act.shape[-2]
    k = count(k, "k")
    x = _as_points(inputs, "inputs")
    if x.ndim != 2 or x.shape[0] != S:
        raise ValueError(f"inputs must have shape ({S}, input dims) or ({S},), got {np.shape(inputs)}")
    codes, C, p = label_codes(y)
    counts = np.bincount(codes, minlength=C)
    if S <= k or counts.min() <= k:
        raise ValueError(f"k must be smaller than every class's sample count (smallest {counts.min()}), got {k}")
    t, _ = _noisy(act, noise_var, seed)
    flat = t.reshape((-1,) + t.shape[-2:])
    raw_xt = np.array([_ksg_one(x, tb, k) for tb in flat])
    raw_ty = np.array([_ksg_labels_one(tb, codes, counts, k) for tb in flat])
    i_xt, i_ty = enforce_range(raw_xt, raw_ty, S, label_entropy(p), "ksg")
    return i_xt.reshape(batch)[()], i_ty.reshape(batch)[()]


def kraskov(*args: Any, **kwargs: Any) -> tuple[float | NDArray[np.float64], float | NDArray[np.float64]]:
    """Deprecated alias of :func:`kozachenko_leonenko` (the estimator was misnamed; it is not KSG, see :func:`ksg`)."""
    warnings.warn("sims.estimators.kraskov is deprecated: it is the Kozachenko-Leonenko entropy estimate, now "
                  "kozachenko_leonenko (the Kraskov-Stoegbauer-Grassberger MI estimator is ksg)",
                  DeprecationWarning, stacklevel=2)
    return kozachenko_leonenko(*args, **kwargs)


def kraskov_entropy(*args: Any, **kwargs: Any) -> float | NDArray[np.float64]:
    """Deprecated alias of :func:`kl_entropy`."""
    warnings.warn("sims.estimators.kraskov_entropy is deprecated: use kl_entropy (Kozachenko-Leonenko)",
                  DeprecationWarning, stacklevel=2)
    return kl_entropy(*args, **kwargs)
