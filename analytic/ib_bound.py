r"""The information-bottleneck bound of a discrete joint p(x, y): the largest I(T;Y) for each I(X;T).

For an encoder p(t|x) (T - X - Y a Markov chain) the IB curve is

.. math::  R(r) = \max \{ I(T;Y) : I(X;T) \le r \},

concave and non-decreasing in r, with R(r) <= min(r, I(X;Y)) (data processing) and R(r) = I(X;Y) once r reaches
the entropy of the minimal sufficient statistic of X for Y. No representation T of X, in particular no layer of a
network (a deterministic or noisy function of X), can lie above it.

Algorithm (Tishby, Pereira & Bialek 1999, Eqs. 28-30): for a trade-off beta > 0 the stationary points of
I(X;T) - beta I(T;Y) satisfy the self-consistent equations

.. math::

    p(t|x) = \frac{p(t)}{Z(x,\beta)} \exp\!\big(-\beta\, D_{KL}[p(y|x) \,\|\, p(y|t)]\big), \quad
    p(t) = \sum_x p(x) p(t|x), \quad p(y|t) = \frac{1}{p(t)} \sum_x p(y|x) p(t|x) p(x),

iterated to a fixed point (each step does not increase the Lagrangian). Here every beta of a grid and several
random restarts run at once (arrays (beta x restart, x, t)), in the log domain (scipy.special.logsumexp); the
point of lowest Lagrangian per beta is kept. Rows x with the same p(y|x) are merged first: an optimal encoder
never needs to tell them apart (averaging p(t|x) over them keeps I(T;Y) and does not increase I(X;T), by the
convexity of mutual information in the channel), so the curve of (X, Y) is that of (S(X), Y), S the minimal
sufficient statistic. The bound returned is the upper concave envelope of all points found, with (0, 0): any point
on a chord between two achievable points is achievable by time-sharing (T' = (T_Q, Q), Q a coin independent of
X), so the envelope is itself achievable and lies below the true curve only where the iteration missed it.

Closed forms used by the tests:

* doubly symmetric binary source (X uniform on {0, 1}, Y = X xor Bernoulli(p)): by Mrs. Gerber's lemma
  (Wyner & Ziv 1973; Witsenhausen & Wyner 1975), R(r) = ln 2 - h(p * h^{-1}(ln 2 - r)) for 0 <= r <= ln 2, with
  h the binary entropy (nats), h^{-1} its inverse on [0, 1/2] and a * b = a(1 - b) + b(1 - a)
  (:func:`binary_symmetric_curve`);
* Y a deterministic function of X: R(r) = min(r, H(Y)) (Kolchinsky, Tracey & Van Kuyk 2019, Theorem 1), a
  straight line whose interior the Lagrangian misses (only its corner is a strict optimum): the envelope of the
  iterated points recovers it.

All information in nats.

>>> import numpy as np
>>> p = 0.1
>>> pxy = 0.5 * np.array([[1 - p, p], [p, 1 - p]])
>>> c = ib_curve(pxy, beta=np.geomspace(1.2, 100, 60), n_t=2, seed=0)
>>> r = np.linspace(0.05, 0.65, 5)
>>> bool(np.max(np.abs(c.bound(r) - binary_symmetric_curve(p, r))) < 1e-3)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq
from scipy.special import logsumexp, xlogy

from analytic.checks import finite_array, positive_int, rng as as_rng

__all__ = ["IBCurve", "ib_curve", "ib_fixed_points", "binary_entropy", "binary_symmetric_curve", "upper_envelope",
           "merge_rows"]


@dataclass(frozen=True)
class IBCurve:
    """Result of :func:`ib_curve` (nats).

    ``beta`` (B,), ``i_xt`` and ``i_ty`` (B,): the best fixed point found for each beta; ``env_i_xt`` and
    ``env_i_ty``: the vertices of the upper concave envelope (with (0, 0)), increasing in both; ``i_xy`` and
    ``h_s`` (entropy of the minimal sufficient statistic, where R reaches I(X;Y)). :meth:`bound` evaluates it.
    """

    beta: NDArray[np.float64]
    i_xt: NDArray[np.float64]
    i_ty: NDArray[np.float64]
    env_i_xt: NDArray[np.float64]
    env_i_ty: NDArray[np.float64]
    i_xy: float
    h_s: float

    def bound(self, i_xt: ArrayLike) -> NDArray[np.float64]:
        """The envelope R(r) at ``i_xt`` (any shape; beyond the last vertex it stays at its value)."""
        r = finite_array(i_xt, "i_xt")
        return np.interp(r, self.env_i_xt, self.env_i_ty)


def _joint(pxy):
    p = finite_array(pxy, "pxy", ndim=2)
    if np.any(p < 0):
        raise ValueError("pxy must be non-negative")
    s = p.sum()
    if not abs(s - 1.0) < 1e-9:
        raise ValueError(f"pxy must sum to 1, got {s!r}")
    return p


def merge_rows(pxy: ArrayLike, decimals: int = 12) -> NDArray[np.float64]:
    """p(s, y) of the minimal sufficient statistic S: rows x with the same p(y|x) (to ``decimals``) merged;
    rows with p(x) = 0 dropped."""
    p = _joint(pxy)
    px = p.sum(axis=1)
    keep = px > 0
    p, px = p[keep], px[keep]
    cond = np.round(p / px[:, None], decimals)
    _, inv = np.unique(cond, axis=0, return_inverse=True)
    out = np.zeros((inv.max() + 1, p.shape[1]))
    np.add.at(out, inv.ravel(), p)
    return out


def _mi(pab):
    """I(A;B) in nats of joints (..., a, b)."""
    pa, pb = pab.sum(-1, keepdims=True), pab.sum(-2, keepdims=True)
    return (xlogy(pab, pab).sum((-2, -1)) - xlogy(pa, pa).sum((-2, -1)) - xlogy(pb, pb).sum((-2, -1)))


def ib_fixed_points(pxy: ArrayLike, beta: ArrayLike, n_t: int, *, restarts: int = 4, n_iter: int = 3000,
                    tol: float = 1e-10, seed: np.random.Generator | int | None = 0
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Iterate the IB equations (module docstring) from random encoders for every beta and restart at once.

    Returns ``(i_xt, i_ty)``, arrays (B, restarts) in nats. ``pxy`` (nx, ny), used as given (no merging).
    """
    p = _joint(pxy)
    b = finite_array(beta, "beta", ndim=1)
    if np.any(b <= 0):
        raise ValueError("beta must be > 0")
    n_t = positive_int(n_t, "n_t")
    R = positive_int(restarts, "restarts")
    n_iter = positive_int(n_iter, "n_iter")
    g = as_rng(seed, "seed")
    px = p.sum(axis=1)
    p = p[px > 0]
    px = px[px > 0]
    pyx = p / px[:, None]                                          # (x, y)
    log_px, log_pyx = np.log(px), np.log(np.where(pyx > 0, pyx, 1.0))
    neg_h = xlogy(pyx, pyx).sum(axis=1)                            # sum_y p(y|x) ln p(y|x), (x,)
    support = (pyx > 0).astype(float)
    bb = np.repeat(b, R)[:, None, None]                            # (B R, 1, 1)
    log_q = np.log(g.dirichlet(np.ones(n_t), size=(b.size * R, px.size)))   # ln p(t|x), (BR, x, t)
    for _ in range(n_iter):
        log_pt = logsumexp(log_q + log_px[None, :, None], axis=1)  # (BR, t)
        # ln p(y|t) = logsumexp_x [ln p(y|x) + ln p(t|x) + ln p(x)] - ln p(t)
        a = log_q + log_px[None, :, None]                          # (BR, x, t)
        m = a.max(axis=1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        pyt = np.einsum("xy,bxt->bty", pyx, np.exp(a - m)) * np.exp(m[:, 0, :, None])    # p(t, y)
        with np.errstate(divide="ignore"):
            log_pyt = np.log(pyt) - log_pt[..., None]                 # (BR, t, y), -inf where p(y|t) = 0
        finite = np.isfinite(log_pyt)
        cross = np.einsum("xy,bty->bxt", pyx, np.where(finite, log_pyt, 0.0))
        cross = np.where(np.einsum("xy,bty->bxt", support, (~finite).astype(float)) > 0, -np.inf, cross)
        kl = neg_h[None, :, None] - cross                          # D_KL[p(y|x) || p(y|t)], (BR, x, t)
        new = log_pt[:, None, :] - bb * kl
        new = new - logsumexp(new, axis=2, keepdims=True)
        done = np.nanmax(np.abs(np.exp(new) - np.exp(log_q))) < tol
        log_q = new
        if done:
            break
    q = np.exp(log_q)                                              # p(t|x)
    pxt = px[None, :, None] * q                                    # (BR, x, t)
    pty = np.einsum("bxt,xy->bty", q, p)                           # (BR, t, y)
    i_xt, i_ty = np.maximum(_mi(pxt), 0.0), np.maximum(_mi(pty), 0.0)     # rounding below 0 -> 0
    return i_xt.reshape(b.size, R), i_ty.reshape(b.size, R)


def upper_envelope(x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vertices of the upper concave envelope of the points (x, y) together with (0, 0), non-decreasing part only
    (the hull is cut at its highest point, the IB curve being non-decreasing)."""
    xs = np.concatenate([[0.0], finite_array(x, "x").ravel()])
    ys = np.concatenate([[0.0], finite_array(y, "y").ravel()])
    order = np.lexsort((-ys, xs))
    xs, ys = xs[order], ys[order]
    hull: list = []
    for px_, py_ in zip(xs, ys):                                   # Andrew's monotone chain, upper part
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (py_ - y1) - (y2 - y1) * (px_ - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append((px_, py_))
    hx, hy = map(np.asarray, zip(*hull))
    top = int(np.argmax(hy))
    return hx[:top + 1], hy[:top + 1]


def ib_curve(pxy: ArrayLike, beta: ArrayLike | None = None, n_t: int | None = None, *, restarts: int = 4,
             n_iter: int = 3000, tol: float = 1e-10, seed: np.random.Generator | int | None = 0, merge: bool = True) -> IBCurve:
    """The IB bound of the discrete joint ``pxy`` (nx, ny; sums to 1) over ``beta`` (default 60 values from 0.5
    to 1e4, log-spaced) with ``n_t`` representation values (default: the number of distinct rows, enough to
    reach I(X;Y)), ``restarts`` random encoders per beta; ``merge`` the identical rows first (exact, see the
    module docstring). Returns an :class:`IBCurve`.
    """
    p = _joint(pxy)
    ps = merge_rows(p)
    work = ps if merge else p
    b = np.geomspace(0.5, 1e4, 60) if beta is None else finite_array(beta, "beta", ndim=1)
    n_t = ps.shape[0] if n_t is None else positive_int(n_t, "n_t")
    i_xt, i_ty = ib_fixed_points(work, b, n_t, restarts=restarts, n_iter=n_iter, tol=tol, seed=seed)
    lag = i_xt - b[:, None] * i_ty
    k = np.argmin(lag, axis=1)
    bx, by = i_xt[np.arange(b.size), k], i_ty[np.arange(b.size), k]
    ex, ey = upper_envelope(i_xt, i_ty)
    ss = ps.sum(axis=1)
    return IBCurve(b, bx, by, ex, ey, float(_mi(p)), float(-xlogy(ss, ss).sum()))


def binary_entropy(q: ArrayLike) -> NDArray[np.float64]:
    """h(q) = -q ln q - (1 - q) ln(1 - q), nats."""
    q = finite_array(q, "q")
    return -xlogy(q, q) - xlogy(1 - q, 1 - q)


def binary_symmetric_curve(p: float, r: ArrayLike) -> NDArray[np.float64]:
    """Closed-form IB curve of the doubly symmetric binary source with crossover ``p`` at I(X;T) = ``r`` (nats,
    clipped to [0, ln 2]): ln 2 - h(p * h^{-1}(ln 2 - r)) (Mrs. Gerber's lemma; module docstring)."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    r = np.clip(finite_array(r, "r"), 0.0, np.log(2.0))
    target = np.log(2.0) - r

    def hinv(v):
        if v <= 0:
            return 0.0
        if v >= np.log(2.0) - 1e-15:
            return 0.5
        return brentq(lambda q: float(binary_entropy(q)) - v, 0.0, 0.5, xtol=1e-15)

    q = np.vectorize(hinv, otypes=[float])(target)
    conv = p * (1 - q) + q * (1 - p)
    return np.log(2.0) - binary_entropy(conv)
