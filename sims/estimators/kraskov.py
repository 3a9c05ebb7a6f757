"""Kozachenko-Leonenko / Kraskov k-nearest-neighbour entropy (Kraskov, Stoegbauer & Grassberger 2004, Eq. 20),
as used with k = 2 by Saxe et al. (ICLR 2018, App. B.3) on noisy hidden activity.

For n points in d dimensions with ``eps_i`` the Euclidean distance from point i to its k-th nearest neighbour,

    H_hat = psi(n) - psi(k) + ln V_d + (d/n) sum_i ln eps_i,     V_d = pi^(d/2) / Gamma(d/2 + 1).

Deterministic activity of distinct inputs has infinite I(X;T); as for the KDE estimator, the layer is read as
``T = h + N(0, noise_var I)`` (``noise_var`` a VARIANCE, 0.1 like Saxe's KDE), one noise draw per sample
(``seed``), and

    I(X;T) = H_hat(T) - (d/2) ln(2 pi e noise_var),      I(T;Y) = H_hat(T) - sum_y p(y) H_hat(T | y),

with H_hat(T|y) the same estimator on class y's points. Neighbours come from ``scipy.spatial.cKDTree``; the batch
axes are looped (one tree per item; the queries are vectorized). Nats.

>>> import numpy as np
>>> x = np.random.default_rng(0).normal(size=(20000, 1))
>>> h, _ = kraskov_entropy(x, k=2), None
>>> bool(abs(h - 0.5 * np.log(2 * np.pi * np.e)) < 0.02)
True
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, gammaln

from analytic.checks import finite_array, positive, positive_int
from analytic.gaussian import gaussian_entropy
from sims.estimators._common import check_activity, label_codes

__all__ = ["kraskov", "kraskov_entropy"]


def kraskov_entropy(points, k: int = 2):
    """Kozachenko-Leonenko entropy (nats) of points (..., n, d); leading axes kept."""
    k = positive_int(k, "k")
    pts = finite_array(points, "points", min_ndim=2)
    n, d = pts.shape[-2:]
    if n <= k:
        raise ValueError(f"k must be smaller than the number of points ({n}), got {k}")
    flat = pts.reshape(-1, n, d)
    log_vd = 0.5 * d * np.log(np.pi) - gammaln(0.5 * d + 1)
    out = np.empty(flat.shape[0])
    for b, p in enumerate(flat):
        dist, _ = cKDTree(p).query(p, k=k + 1)
        eps = dist[:, -1]
        if np.any(eps <= 0):
            raise ValueError("points: duplicate points (zero k-NN distance); add noise or raise k")
        out[b] = digamma(n) - digamma(k) + log_vd + d * np.mean(np.log(eps))
    return out.reshape(pts.shape[:-2])[()]


def kraskov(activity, labels, k: int = 2, noise_var: float = 0.1, seed=0):
    """KSG ``(I(X;T), I(T;Y))`` in nats on ``activity + N(0, noise_var I)``; leading axes kept."""
    act, y, batch = check_activity(activity, labels)
    k = positive_int(k, "k")
    var = positive(noise_var, "noise_var")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    codes, C, p = label_codes(y)
    counts = np.bincount(codes, minlength=C)
    if counts.min() <= k:
        raise ValueError(f"k must be smaller than every class's sample count (smallest {counts.min()}), got {k}")
    t = act + np.sqrt(var) * rng.standard_normal(act.shape)
    d = act.shape[-1]
    h = kraskov_entropy(t, k)
    h_cond = sum(p[c] * kraskov_entropy(t[..., codes == c, :], k) for c in range(C))
    i_xt = h - gaussian_entropy(var, d)
    return np.asarray(i_xt).reshape(batch)[()], np.asarray(h - h_cond).reshape(batch)[()]
