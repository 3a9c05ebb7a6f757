"""Exact I(X; T) for the noisy scalar channel T = f(wX) + Z, X ~ N(mu, sd^2), Z ~ N(0, noise_std^2).

Math (Saxe et al. 2018, Sec. 2 and Fig. 2)
---------------------------------------------
I(X;T) = h(T) - h(T|X) = h(T) - 1/2 ln(2 pi e noise_std^2), with the output density

    p(t) = E_X[ phi_sigma(t - f(wX)) ] = int phi(z) phi_sigma(t - f(m + s z)) dz,   m = w mu, s = |w| sd,

(u = wX has the law of m + s Z' for standard normal Z'), and h(T) = -int p ln p dt. Linear f has the closed
form I = 1/2 ln(1 + w^2 sd^2 / noise_std^2) (Saxe's printed Eq. 21 drops the 1/2).

Numerics (``precision="double"``): two nested fixed-node Gauss-Legendre rules on panels chosen from the
structure of the problem, evaluated as batched array operations over a chunk of w values:

* outer t-panels: images f(m + s z_k) of a uniform z-grid (resolves the bulk of Y = f(wX)); clusters of width
  ~noise_std around the ends of the support, the atoms, f(0) (kinks) and finite asymptotes; and geometric levels
  sup - noise_std 2^k toward finite asymptotes (tanh's output density grows like 1/(1 - y) there);
* inner integral for each t only over the window |f(u) - t| <= 9 noise_std (the rest is below e^{-40}),
  split at y-levels t + 1.5 j noise_std, at the kinks, on a uniform z-grid, and at levels
  sup - noise_std 3^{-i} approaching a saturating asymptote, so that no panel hides a narrow peak: tanh at
  noise_std = 1e-3 and w = 100 is as accurate as at noise_std = 1.

``precision="mp"`` is an independent check: mpmath at 20 significant digits, Gauss-Legendre nodes refined to that
precision, its own (differently placed) panels. It is slow (tens of seconds per point): verification only.

Limits (derived with sympy in :func:`small_w_coefficient`, :func:`saturating_large_w_limit`,
:func:`relu_growth_constant`): I ~ w^2 Var(g(X)) / (2 noise_std^2) as w -> 0 with g(x) = lim f(wx)/w
(small-signal law); bounded f tends to the two-point channel I(S; S + Z), S in {inf f, sup f}, which -> ln 2 as
noise_std -> 0 for tanh with mu = 0; ReLU grows like 1/2 ln(w / noise_std) + 1/2 ln 2.

Example
-------
>>> from analytic.scalar_channel import noisy_mi, linear_noisy_mi
>>> abs(noisy_mi("linear", 2.0, 0.5) - linear_noisy_mi(2.0, 0.5)) < 1e-10
True
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import entr, ndtr

from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, positive, positive_scalar, real_scalar
from analytic.gaussian import gaussian_entropy_std

if TYPE_CHECKING:  # sympy is imported where it is used (an optional, slow import)
    import sympy as sp

__all__ = ["noisy_mi", "linear_noisy_mi", "noise_entropy", "kink_inputs", "output_variance_bound",
           "small_w_coefficient",
           "small_w_noisy_mi", "saturating_large_w_limit", "two_point_channel_mi", "relu_growth_constant",
           "relu_large_w_noisy_mi"]

_LZ = 9.0            # standard-normal range kept: P(|Z| > 9) = 2.3e-19
_KW = 9.0            # kernel window in units of noise_std: phi(9)/phi(0) = 2.6e-18
_GL_T = np.polynomial.legendre.leggauss(12)
_GL_Z = np.polynomial.legendre.leggauss(10)
_ZGRID = np.linspace(-_LZ, _LZ, 37)                        # spacing 0.5 (outer: images of this grid)
_ZGRID_INNER = np.linspace(-_LZ, _LZ, 19)                  # spacing 1 (inner: resolves phi(z) for GL-10)
_T_CLUSTER = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 9.0])
_T_CLUSTER = np.concatenate([-_T_CLUSTER[:0:-1], _T_CLUSTER])
_Y_LEVELS = np.arange(-6, 7) * 1.5                         # inner split levels, units of noise_std
_GEOM_INNER = 3.0 ** -np.arange(30)                        # sup - noise_std * 3^-i
_H_STD_NORMAL = 0.5 * float(np.log(2 * np.pi * np.e))     # h(N(0, 1)) in nats
_RESOLUTION = 1e-9   # noise_std below this times the output scale max |f(w x)| is rejected (float64 spacing)
_CHUNK_ELEMENTS = 6_000_000     # nodes per batch (t-nodes x inner nodes x w): ~50 MB per array


def noise_entropy(noise_std: ArrayLike) -> float | NDArray[np.float64]:
    """h(Z) = 1/2 ln(2 pi e noise_std^2) in nats, Z ~ N(0, noise_std^2)."""
    return gaussian_entropy_std(positive(noise_std, "noise_std"))


def linear_noisy_mi(w: ArrayLike, noise_std: ArrayLike, sd: float = 1.0) -> float | NDArray[np.float64]:
    """Closed form for linear f: I(X; wX + Z) = 1/2 ln(1 + w^2 sd^2 / noise_std^2) nats (any mu).

    >>> round(linear_noisy_mi(1.0, 1.0), 12) == round(0.5 * float(np.log(2.0)), 12)
    True
    """
    w = finite_array(w, "w", allow_bool=False)
    s = positive(noise_std, "noise_std")
    sd = positive(sd, "sd")
    with np.errstate(divide="ignore"):
        lr = np.log(np.abs(w)) + np.log(sd) - np.log(s)       # ln(|w| sd / s), finite or -inf (w = 0)
    # 1/2 ln(1 + r^2) without overflowing r^2 (w = 1e200 gives 460.5 nats, not inf)
    with np.errstate(over="ignore"):
        out = np.where(lr > 0, lr + 0.5 * np.log1p(np.exp(-2.0 * np.abs(lr))), 0.5 * np.log1p(np.exp(2.0 * lr)))
    return float(out) if out.ndim == 0 else out


def output_variance_bound(activation: str | Activation, w: ArrayLike, noise_std: float, **activation_params: float
                          ) -> float | NDArray[np.float64]:
    """An upper bound on I(X;T) that needs no quadrature, or inf where none is cheap.

    Gaussian maximum entropy: h(T) <= 1/2 ln(2 pi e (Var f(wX) + noise_std^2)), and Var f(wX) <= R^2/4 for a
    bounded activation of range length R, so I <= 1/2 ln(1 + R^2 / (4 noise_std^2)). Unbounded: inf.
    """
    f = get_activation(activation, **activation_params)
    w = finite_array(w, "w", allow_bool=False)
    s = positive_scalar(noise_std, "noise_std")
    lo, hi = f.range
    out = np.full(w.shape, np.inf) if not f.bounded else np.full(w.shape, 0.5 * np.log1p((hi - lo) ** 2 / (4 * s * s)))
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------------------------
# double precision: nested panel Gauss-Legendre, batched over w
# ----------------------------------------------------------------------------------------------------------

def kink_inputs(f: Activation) -> NDArray[np.float64]:
    """Net inputs where f has a kink or the edge of a flat piece (0 always; atoms' preimage ends)."""
    pts = [0.0]
    for a in f.atoms:
        for y in (a, np.nextafter(a, np.inf)):
            g = float(f.generalized_inverse(y))
            if np.isfinite(g):
                pts.append(g)
    return np.unique(pts)


def _panel_nodes(breaks, rule):
    """Gauss-Legendre nodes/weights on consecutive panels of sorted ``breaks`` (..., B) -> (..., (B-1)*n)."""
    x, wt = rule
    a, b = breaks[..., :-1, None], breaks[..., 1:, None]
    half = 0.5 * (b - a)
    nodes = (a + b) * 0.5 + half * x
    weights = half * wt
    shp = breaks.shape[:-1] + (-1,)
    return nodes.reshape(shp), weights.reshape(shp)


def _t_breaks(f, m, s, sigma):
    """Outer breakpoints, shape (n_w, B), sorted."""
    lo, hi = f.range
    y_grid = f.value(m[:, None] + s[:, None] * _ZGRID)                  # (n_w, 37)
    specials = [y_grid[:, :1], y_grid[:, -1:], f.value(m[:, None] + 0 * s[:, None])]
    for u in kink_inputs(f):
        specials.append(np.broadcast_to(f.value(u), (m.size, 1)))
    for a in (lo, hi):
        if np.isfinite(a):
            specials.append(np.full((m.size, 1), a))
    spec = np.concatenate(specials, axis=1)                              # (n_w, S)
    clusters = (spec[:, :, None] + sigma * _T_CLUSTER).reshape(m.size, -1)
    parts = [y_grid, clusters]
    if f.bounded:
        k = np.arange(int(np.ceil(np.log2((hi - lo) / sigma))) + 1)
        geo = sigma * 2.0 ** k
        geo = geo[geo < hi - lo]
        parts.append(np.broadcast_to(np.concatenate([hi - geo, lo + geo]), (m.size, 2 * geo.size)))
    else:
        for a in (lo, hi):
            if np.isfinite(a):   # one-sided asymptote (softplus at 0, relu's atom): geometric away from it
                span = max(np.max(np.abs(y_grid - a)), sigma)
                k = np.arange(int(np.ceil(np.log2(span / sigma))) + 1)
                geo = a + np.sign(hi - a if np.isfinite(hi) else 1.0) * sigma * 2.0 ** k
                parts.append(np.broadcast_to(geo, (m.size, geo.size)))
    b = np.concatenate(parts, axis=1)
    t_lo = y_grid[:, :1] - _KW * sigma
    t_hi = y_grid[:, -1:] + _KW * sigma
    b = np.clip(b, t_lo, t_hi)
    return np.sort(np.concatenate([b, t_lo, t_hi], axis=1), axis=1)


def _density(f, t, m, s, sigma):
    """sigma * p(t) (the density of T / sigma) for t of shape (n_w, N) and per-w m, s of shape (n_w,)."""
    lo, hi = f.range
    mm, ss = m[:, None, None], s[:, None, None]
    tt = t[..., None]

    def z_of(y):
        with np.errstate(over="ignore", divide="ignore"):   # tiny |w|: +-inf, clipped
            return np.clip((f.generalized_inverse(y) - mm) / ss, -_LZ, _LZ)

    zlo = z_of(tt - _KW * sigma)
    zhi = z_of(tt + _KW * sigma)
    parts = [z_of(tt + sigma * _Y_LEVELS), np.broadcast_to(_ZGRID_INNER, tt.shape[:-1] + (_ZGRID_INNER.size,))]
    ku = kink_inputs(f)
    with np.errstate(over="ignore", divide="ignore"):
        parts.append(np.clip((ku - mm) / ss, -_LZ, _LZ) + 0 * tt)
    for a, sign in ((hi, -1.0), (lo, 1.0)):   # both asymptotes: a wide window can reach both
        if np.isfinite(a):
            parts.append(np.broadcast_to(z_of(a + sign * sigma * _GEOM_INNER[None, None, :]),
                                         tt.shape[:-1] + (_GEOM_INNER.size,)))
    br = np.concatenate(parts, axis=-1)
    br = np.clip(br, zlo, zhi)
    br = np.sort(np.concatenate([br, zlo, zhi], axis=-1), axis=-1)
    z, wz = _panel_nodes(br, _GL_Z)
    y = f.value(mm + ss * z)
    d = (tt - y) / sigma
    return np.sum(wz * np.exp(-0.5 * (z * z + d * d)), axis=-1) / (2 * np.pi)


def _noisy_mi_double(f, w, sigma, mu, sd):
    w = w.ravel()
    out = np.zeros(w.shape)
    nz = np.flatnonzero(w != 0.0)
    if nz.size == 0:
        return out
    m_all, s_all = w[nz] * mu, np.abs(w[nz]) * sd
    # batch as many w as fit in _CHUNK_ELEMENTS nodes (memory bound; ~2.5e6 nodes per w at small noise_std)
    tb = _t_breaks(f, m_all[:1], s_all[:1], sigma)
    per_w = tb.shape[1] * _GL_T[0].size * 110 * _GL_Z[0].size
    chunk = max(1, _CHUNK_ELEMENTS // per_w)
    for start in range(0, nz.size, chunk):
        sl = slice(start, start + chunk)
        m, s = m_all[sl], s_all[sl]
        t, wt = _panel_nodes(_t_breaks(f, m, s, sigma), _GL_T)
        p = _density(f, t, m, s, sigma)                       # density of T / sigma at t / sigma
        wts = wt / sigma
        # -int p ln p = h(T / sigma) + (mass) ln sigma; the noise term subtracts 1/2 ln(2 pi e) + ln sigma.
        # Written so that nothing scales like sigma^2 (no overflow at 1e200, no underflow at 1e-200); the
        # quadrature mass (1 - O(1e-9) at the smallest noise) multiplies ln sigma as in -int p ln p itself.
        mass = np.sum(wts * p, axis=-1)
        h = np.sum(wts * entr(p), axis=-1)
        out[nz[sl]] = h + (mass - 1.0) * np.log(sigma) - _H_STD_NORMAL
    return out


# ----------------------------------------------------------------------------------------------------------
# mpmath route (verification)
# ----------------------------------------------------------------------------------------------------------

def _noisy_mi_mp(f, w, sigma, mu, sd, dps=20):
    """mpmath route at ``dps`` digits with Gauss-Legendre nodes refined to working precision: 20 points per
    t-panel (split at the images of a unit z-grid, at -+(1..10) noise_std around the support's ends, kinks and
    asymptotes, and at 3^k-geometric levels toward asymptotes); 12 points per inner panel (window of -+10 noise_std
    split every 2 noise_std in output space, at 10x-geometric levels toward saturating asymptotes, at kinks and
    every unit of z). Rules and panels differ from the double route's."""
    import mpmath as mp
    import sympy as sp

    xs = sp.Symbol("x", real=True)
    f_mp = sp.lambdify(xs, f.sympy(xs), "mpmath")
    lo, hi = f.range
    out = np.zeros(w.size)
    with mp.workdps(dps):
        gx, gw = zip(*[(mp.mpf(a), mp.mpf(b)) for a, b in zip(*np.polynomial.legendre.leggauss(20))])
        # refine the float nodes to working precision with Newton steps on P_20
        gx = [mp.findroot(lambda x: mp.legendre(20, x), x0) for x0 in gx]
        gw = [2 / ((1 - x * x) * mp.diff(lambda y: mp.legendre(20, y), x) ** 2) for x in gx]
        ix, iw = zip(*[(mp.mpf(a), mp.mpf(b)) for a, b in zip(*np.polynomial.legendre.leggauss(12))])
        ix = [mp.findroot(lambda x: mp.legendre(12, x), x0) for x0 in ix]
        iw = [2 / ((1 - x * x) * mp.diff(lambda y: mp.legendre(12, y), x) ** 2) for x in ix]
        sig = mp.mpf(sigma)
        norm = 1 / (2 * mp.pi * sig)
        for i, wi in enumerate(w.ravel()):
            if wi == 0.0:
                continue
            m, s = mp.mpf(float(wi)) * mu, abs(mp.mpf(float(wi))) * sd
            ku = [(u - float(m)) / float(s) for u in kink_inputs(f)]
            zmax = 10.0

            def z_of(y):
                g = float(f.generalized_inverse(float(y)))
                return min(max((g - float(m)) / float(s), -zmax), zmax)

            def p(t):
                a, b = z_of(t - 10 * sig), z_of(t + 10 * sig)
                if not b > a:
                    return mp.mpf(0)
                pts = {a, b}
                pts.update(z_of(t + j * sig) for j in range(-8, 9, 2))
                pts.update(k for k in ku + list(np.arange(-zmax, zmax + 0.5, 1.0)) if a < k < b)
                for a_, sgn in ((lo, 1), (hi, -1)):
                    if np.isfinite(a_):
                        pts.update(z_of(a_ + sgn * float(sigma) * 10.0 ** -e) for e in range(0, 17))
                pts = sorted(z for z in pts if a <= z <= b)
                acc = mp.mpf(0)
                for za, zb in zip(pts[:-1], pts[1:]):
                    if zb <= za:
                        continue
                    c, h = (mp.mpf(za) + zb) / 2, (mp.mpf(zb) - za) / 2
                    for x, wt in zip(ix, iw):
                        z = c + h * x
                        d = (t - f_mp(m + s * z)) / sig
                        acc += h * wt * mp.exp(-(z * z + d * d) / 2)
                return acc * norm

            y_lo, y_hi = f_mp(m - s * zmax), f_mp(m + s * zmax)
            tp = {y_lo - 10 * sig, y_hi + 10 * sig}
            tp.update(f_mp(m + s * mp.mpf(z)) for z in np.arange(-zmax, zmax + 0.5, 1.0))
            specs = [y_lo, y_hi] + [mp.mpf(float(f.value(u))) for u in kink_inputs(f)]
            specs += [mp.mpf(a_) for a_ in (lo, hi) if np.isfinite(a_)]
            for c in specs:
                tp.update(c + j * sig for j in (-10, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 10))
            for a_, sgn in ((lo, 1), (hi, -1)):
                if np.isfinite(a_):
                    k = 0
                    while sig * 3 ** k < y_hi - y_lo:
                        tp.add(a_ + sgn * sig * 3 ** k)
                        k += 1
            t_lo, t_hi = y_lo - 10 * sig, y_hi + 10 * sig
            tp = sorted(t for t in tp if t_lo <= t <= t_hi)

            h = mp.mpf(0)
            for ta, tb in zip(tp[:-1], tp[1:]):
                if not tb > ta:
                    continue
                c, hw = (ta + tb) / 2, (tb - ta) / 2
                for x, wt in zip(gx, gw):
                    pt = p(c + hw * x)
                    if pt > 0:
                        h -= hw * wt * pt * mp.log(pt)
            out[i] = float(h - mp.log(2 * mp.pi * mp.e * sig * sig) / 2)
    return out


def _check_scales(f, w, sigma, mu, sd):
    """Reject inputs whose channel float64 cannot represent: ``w * (|mu| + 9 sd)`` overflowing, or a noise
    below ``_RESOLUTION`` times the output scale (max |f| over mu +- 9 sd), where the spacing of float64
    values of f is no longer small against the noise (``noisy_mi('tanh', 1, 1e-300)`` returned inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        reach = np.abs(w) * (abs(mu) + _LZ * sd)
        if not np.all(np.isfinite(reach)):
            raise ValueError(f"w: |w| * (|mu| + {_LZ:g} sd) must be finite (below 1.8e308); got w up to "
                             f"{np.max(np.abs(w)):.3g} with mu = {mu:.3g}, sd = {sd:.3g}")
        ends = np.concatenate([np.ravel(w) * mu + np.ravel(np.abs(w)) * sd * z for z in (-_LZ, 0.0, _LZ)])
        scale = float(np.max(np.abs(f.value(ends)))) if ends.size else 0.0
    if sigma < _RESOLUTION * scale:
        raise ValueError(f"noise_std must be >= {_RESOLUTION:g} times the output scale max |f(w x)| = {scale:.3g} "
                         f"(i.e. >= {_RESOLUTION * scale:.3g}), got {sigma!r}: below that float64 cannot resolve "
                         "the output distribution against the noise")


def noisy_mi(activation: str | Activation, w: ArrayLike, noise_std: float, mu: float = 0.0, sd: float = 1.0,
             precision: Literal["double", "mp"] = "double", **activation_params: float) -> float | NDArray[np.float64]:
    """Exact I(X; f(wX) + Z) in nats, X ~ N(mu, sd^2), Z ~ N(0, noise_std^2); vectorized over ``w``.

    ``precision="double"`` (fast, batched) or ``"mp"`` (mpmath, 30 digits, slow; for verification).
    Results are accurate to about 1e-10 nats; round-off below 1e-12 nats at w -> 0 is clipped to 0.
    The density is integrated in units of ``noise_std`` (h(T / noise_std)), so any noise level from the float
    range works above the resolution limit: ``noise_std`` must be at least 1e-9 times the output scale
    max |f(w x)| over mu +- 9 sd (measured for tanh, w = 1: within 2.3e-10 nats of the small-noise asymptote
    h(f(wX)) - h(Z) down to 1e-9, 2.4e-7 off at 1e-12), and ``|w| (|mu| + 9 sd)`` must be finite; otherwise
    ``ValueError`` names the argument and the bound.

    >>> import numpy as np
    >>> round(noisy_mi("tanh", 1e4, 1e-2) / float(np.log(2)), 3)  # saturated: two clusters, ~1 bit
    1.003
    """
    f = get_activation(activation, **activation_params)
    w = finite_array(w, "w", allow_bool=False)
    sigma = positive(noise_std, "noise_std")
    if np.ndim(sigma) != 0:
        raise ValueError("noise_std must be a scalar (loop over noise levels)")
    mu = real_scalar(mu, "mu")
    sd = positive(sd, "sd")
    if np.ndim(sd) != 0:
        raise ValueError("sd must be a scalar")
    _check_scales(f, w, sigma, mu, sd)
    if precision == "double":
        out = _noisy_mi_double(f, w, sigma, mu, sd)
    elif precision == "mp":
        out = _noisy_mi_mp(f, w, sigma, mu, sd)
    else:
        raise ValueError(f"precision must be 'double' or 'mp', got {precision!r}")
    if np.any(out < -1e-10):
        raise ArithmeticError(f"noisy_mi: negative mutual information {out.min()!r}: quadrature failed")
    out = np.maximum(out.reshape(w.shape), 0.0)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------------------------
# limits, derived with sympy
# ----------------------------------------------------------------------------------------------------------

def small_w_coefficient(activation: str | Activation, **activation_params: float) -> sp.Expr:
    """Var(g(X)) for X ~ N(0,1), g(x) = lim_{w->0+} (f(wx) - f(0))/w = f'(0-) x or f'(0+) x,
    as an exact sympy number.

    Small-signal law (Guo, Shamai & Verdu 2005, I-MMSE): I(X; wV + Z) = w^2 Var(V)/(2 noise_std^2) + o(w^2), so
    I(X; f(wX) + Z) ~ w^2 Var(g(X)) / (2 noise_std^2). tanh, linear, softsign, hardtanh: 1; sigmoid: 1/16;
    softplus: 1/4; relu: 1/2 - 1/(2 pi).

    >>> small_w_coefficient("relu")
    (-1 + pi)/(2*pi)
    """
    import sympy as sp
    f = get_activation(activation, **activation_params)
    x = sp.Symbol("x", real=True)
    pieces = []   # one-sided slopes f'(0-) x, f'(0+) x
    for h, d in ((sp.Symbol("h", negative=True), "-"), (sp.Symbol("h", positive=True), "+")):
        quotient = (f.sympy(h) - f.sympy(sp.Integer(0))) / h
        try:
            slope = sp.limit(quotient, h, 0, d)
        except (NotImplementedError, ValueError):
            slope = sp.limit(quotient.rewrite(sp.Piecewise), h, 0, d)
        pieces.append(slope * x)
    g = sp.Piecewise((pieces[0], x < 0), (pieces[1], True))
    pdf = sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)
    mean = sp.integrate(g * pdf, (x, -sp.oo, sp.oo))
    second = sp.integrate(g ** 2 * pdf, (x, -sp.oo, sp.oo))
    return sp.simplify(second - mean ** 2)


def small_w_noisy_mi(activation: str | Activation, w: ArrayLike, noise_std: float, **activation_params: float
                     ) -> float | NDArray[np.float64]:
    """Leading term w^2 Var(g(X)) / (2 noise_std^2) of I as w -> 0 (mu = 0, sd = 1), nats."""
    c = float(small_w_coefficient(activation, **activation_params))
    w = finite_array(w, "w", allow_bool=False)
    s = positive(noise_std, "noise_std")
    out = c * np.square(w) / (2 * s * s)
    return float(out) if out.ndim == 0 else out


def two_point_channel_mi(a: float, b: float, prob_b: float, noise_std: float) -> float:
    """I(S; S + Z) nats for S = b w.p. prob_b else a, Z ~ N(0, noise_std^2) (scipy quad, split at the peaks).

    Written as H-minus-conditional in the smooth form
    I = -sum_i pi_i E_U ln sum_j pi_j exp(-d_ij^2/2 - d_ij U), d_ij = (s_i - s_j)/noise_std
    (as in :mod:`analytic.gaussian_mixture`).
    """
    from scipy.integrate import quad
    from scipy.special import logsumexp
    s = positive_scalar(noise_std, "noise_std")
    a, b, prob_b = real_scalar(a, "a"), real_scalar(b, "b"), real_scalar(prob_b, "prob_b")
    if not 0.0 <= prob_b <= 1.0:
        raise ValueError(f"prob_b must be a probability in [0, 1], got {prob_b!r}")
    pts, pis = np.array([a, b], float), np.array([1 - prob_b, prob_b], float)
    d = (pts[:, None] - pts[None, :]) / s
    total = 0.0
    for i in range(2):
        if pis[i] == 0:
            continue

        def g(u, i=i):
            return logsumexp(-0.5 * d[i] ** 2 - d[i] * u, b=pis) * np.exp(-0.5 * u * u) / np.sqrt(2 * np.pi)
        brk = sorted({-d[i][j] / 2 for j in range(2) if j != i} | {0.0})
        brk = [x for x in brk if -40 < x < 40]
        total -= pis[i] * quad(g, -40, 40, points=brk, limit=400, epsabs=1e-14, epsrel=1e-13)[0]
    return max(total, 0.0)


def saturating_large_w_limit(activation: str | Activation, noise_std: float, mu: float = 0.0, sd: float = 1.0,
                             **activation_params: float) -> float:
    """lim_{w->+inf} I(X; f(wX) + Z) for bounded f: the two-point channel on {inf f, sup f} with
    P(sup) = P(X > 0) = Phi(mu/sd). Its noise_std -> 0 limit is the binary entropy (ln 2 for mu = 0), by
    sympy: ln(1/2 + exp(-d^2/2 - d u)/2) -> -ln 2 as d -> inf, for every u.
    """
    f = get_activation(activation, **activation_params)
    if not f.bounded:
        raise ValueError(f"activation: {f.name!r} is unbounded; I grows without limit")
    mu, sd = real_scalar(mu, "mu"), positive_scalar(sd, "sd")
    return two_point_channel_mi(f.range[0], f.range[1], float(ndtr(mu / sd)), noise_std)


def relu_growth_constant() -> sp.Expr:
    """The constant C in I(X; relu(wX) + Z) = 1/2 ln(w / noise_std) + C + o(1), w -> inf, X ~ N(0,1): 1/2 ln 2.

    Derivation (sympy): for w >> noise_std the atom N(0, noise_std^2) (mass 1/2) and the continuous part
    (half-normal scaled by w, mass 1/2) no longer overlap, so by the grouping rule
    h(T) = ln 2 + 1/2 h(Z) + 1/2 (ln w + h(|X|)), h(|X|) = 1/2 ln(pi e / 2); subtract h(Z) = 1/2 ln(2 pi e s^2).

    >>> relu_growth_constant()
    log(2)/2
    """
    import sympy as sp
    x, w, s = sp.symbols("x w s", positive=True)
    half_normal = 2 * sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi)
    h_abs = sp.simplify(-sp.integrate(half_normal * sp.expand_log(sp.log(half_normal), force=True), (x, 0, sp.oo)))
    h_z = sp.log(2 * sp.pi * sp.E * s ** 2) / 2
    h_t = sp.log(2) + h_z / 2 + (sp.log(w) + h_abs) / 2
    const = sp.simplify(sp.expand_log(h_t - h_z - sp.log(w / s) / 2, force=True))
    return const


def relu_large_w_noisy_mi(w: ArrayLike, noise_std: float) -> float | NDArray[np.float64]:
    """The large-w asymptote 1/2 ln(w / noise_std) + 1/2 ln 2 = 1/2 ln(2 w / noise_std) (X ~ N(0,1)), nats."""
    w = positive(w, "w")
    s = positive(noise_std, "noise_std")
    return 0.5 * np.log(2 * np.asarray(w) / s)
