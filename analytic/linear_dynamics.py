"""Closed-form learning dynamics of the input-output modes of deep linear networks.

Saxe, McClelland & Ganguli (ICLR 2014), "Exact solutions to the nonlinear dynamics of learning in deep
linear neural networks". With whitened inputs (Sigma_x = I) and input-output correlation
Sigma_yx = U S V^T, a network whose weights are aligned with the singular vectors ("decoupled" initial
conditions) learns each mode alpha independently. Its strength u = (product of the layer strengths) obeys,
under gradient flow tau dW/dt = -dL/dW on L = 1/2 E||y - W_tot x||^2:

* two weight layers, strengths a (input->hidden) and b (hidden->output), u = a b::

      tau da/dt = b (s - a b),   tau db/dt = a (s - a b)          (SMG eq. 6-7)

  so tau du/dt = (a^2 + b^2)(s - u) and c = a^2 - b^2 is conserved;
* balanced (a = b): tau du/dt = 2u (s - u), the logistic curve (SMG eq. 8)::

      u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0)

  reaching u_f after t = (tau / 2s) ln[u_f (s - u0) / (u0 (s - u_f))]   (SMG eq. 9);
* unbalanced (c != 0): with p = a + b, q = a - b one has p q = c and P = p^2 obeys the Riccati equation
  tau dP/dt = 2 s P - P^2/2 + c^2/2 = -(P - P+)(P - P-)/2, roots P+- = 2s +- r, r = sqrt(4 s^2 + c^2).
  Hence (P - P+)/(P - P-) = K0 e^{-r t/tau} and u = (P - c^2/P)/4, a = (p + c/p)/2, b = (p - c/p)/2.
  (Equivalently u = (|c|/2) sinh(theta) with tau dtheta/dt = 2s - |c| sinh(theta).) Derived here; the
  test-suite checks with sympy that it solves the ODE exactly;
* D = N_l - 1 weight layers of equal strength a, u = a^D (SMG eq. 10)::

      tau du/dt = D u^{2 - 2/D} (s - u)

  The time to go from u0 to u is elementary (derived here by partial fractions over the D-th roots of
  unity, z = (u/s)^{1/D}, omega_k = e^{2 pi i k / D})::

      t = tau/(D s) [ G(u) - G(u0) ],
      G(u) = u^{2/D - 1}/(2/D - 1) + s^{2/D - 1} F(z)     (D != 2; the first term is ln u for D = 2),
      F(z) = -Re sum_k omega_k^2 Log(z - omega_k),   F'(z) = D z / (1 - z^D),

  and u(t) is its inverse, found by vectorized bisection (no closed form exists for D > 2).

Example
-------
>>> import numpy as np
>>> smg_mode(np.array([0.0, 1.0, 10.0]), 2.0, 1e-3).round(6).tolist()
[0.001, 0.053173, 2.0]
>>> round(smg_learning_time(2.0, 1e-3, 1.0), 6)
1.900101
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analytic import checks

__all__ = ["smg_mode", "smg_learning_time", "smg_unbalanced", "smg_unbalanced_u", "deep_mode",
           "deep_learning_time", "linear_flow"]


def _broadcast(*arrays):
    out = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in arrays])
    return [np.array(a, dtype=float) for a in out]


def smg_mode(t: ArrayLike, s: ArrayLike, u0: ArrayLike, tau: float = 1.0) -> float | NDArray[np.float64]:
    """Balanced two-layer mode strength u(t) (SMG 2014 eq. 8), broadcast over ``t``, ``s``, ``u0``.

    ``u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0)``, evaluated in the overflow-free form
    ``u = u0 / (u0 g + e^{-2st/tau})`` with ``g = (1 - e^{-2st/tau})/s`` (``g = 2t/tau`` at s = 0,
    where u = u0 / (1 + 2 u0 t / tau), the exact solution of tau du/dt = -2u^2).

    Parameters: ``t`` >= 0 (time), ``s`` >= 0 (singular value of Sigma_yx), ``u0`` > 0 (initial strength
    a0 b0 with a0 = b0), ``tau`` > 0. Broadcasting: pass ``t[:, None]`` and ``s[None, :]`` for a time x mode
    grid.

    >>> smg_mode([0.0, 100.0], 3.0, 0.01).round(6).tolist()
    [0.01, 3.0]
    """
    t = checks.nonnegative(t, "t")
    s = checks.nonnegative(s, "s")
    u0 = checks.positive(u0, "u0")
    tau = checks.positive(tau, "tau")
    t, s, u0 = _broadcast(t, s, u0)
    x = 2.0 * s * t / tau
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(s > 0, -np.expm1(-x) / np.where(s > 0, s, 1.0), 2.0 * t / tau)
    u = u0 / (u0 * g + np.exp(-x))
    return u if u.ndim else float(u)


def smg_learning_time(s: ArrayLike, u0: ArrayLike, uf: ArrayLike, tau: float = 1.0) -> float | NDArray[np.float64]:
    """Time for a balanced mode to grow from ``u0`` to ``uf`` (SMG 2014 eq. 9), 0 < u0, uf < s.

    ``t = (tau / 2s) ln[uf (s - u0) / (u0 (s - uf))]`` (negative if uf < u0).

    >>> round(smg_learning_time(1.0, 0.01, 0.5), 6)
    2.29756
    """
    s = checks.positive(s, "s")
    u0 = checks.positive(u0, "u0")
    uf = checks.positive(uf, "uf")
    tau = checks.positive(tau, "tau")
    s, u0, uf = _broadcast(s, u0, uf)
    if np.any(u0 >= s):
        raise ValueError("u0 must be < s (a mode never reaches s in finite time)")
    if np.any(uf >= s):
        raise ValueError("uf must be < s (a mode never reaches s in finite time)")
    out = tau / (2.0 * s) * (np.log(uf / u0) + np.log((s - u0) / (s - uf)))
    return out if out.ndim else float(out)


def smg_unbalanced(t: ArrayLike, s: ArrayLike, a0: ArrayLike, b0: ArrayLike, tau: float = 1.0
                   ) -> tuple[float, float] | tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Layer strengths ``(a(t), b(t))`` of a two-layer mode from any initial (a0, b0) (c = a0^2 - b0^2 kept).

    Solves tau da/dt = b (s - a b), tau db/dt = a (s - a b) in closed form through P = (a + b)^2, which
    obeys tau dP/dt = -(P - P+)(P - P-)/2 with P+- = 2s +- r, r = sqrt(4 s^2 + c^2)::

        P(t) = [P+ (P0 - P-) - P- (P0 - P+) E] / [(P0 - P-) - (P0 - P+) E],  E = e^{-r t / tau}
             = [P+ (P0 - P-) h + 2 P0 E] / [(P0 - P-) h + 2 E],  h = (1 - E)/r   (evaluated form),
        p = sign(a0 + b0) sqrt(P),  a = (p + c/p)/2,  b = (p - c/p)/2,  u = a b = (P - c^2/P)/4.

    Requires a0 + b0 != 0 unless a0 = b0 = 0 (the fixed point u = 0). ``s`` may be any real (a negative s
    is learned with a negative product). Broadcast over all arguments.

    >>> a, b = smg_unbalanced(50.0, 2.0, 0.3, 0.1)
    >>> round(float(a * b), 9), round(float(a**2 - b**2), 9)
    (2.0, 0.08)
    """
    t = checks.nonnegative(t, "t")
    s = checks.finite_array(s, "s", allow_bool=False)
    a0 = checks.finite_array(a0, "a0", allow_bool=False)
    b0 = checks.finite_array(b0, "b0", allow_bool=False)
    tau = checks.positive(tau, "tau")
    t, s, a0, b0 = _broadcast(t, s, a0, b0)
    # a0 = -b0 != 0 keeps p = a + b = 0 forever; the symmetry (a, b, s) -> (a, -b, -s) of the ODE maps it
    # to a case with p != 0, which the formula below covers.
    swap = (a0 + b0 == 0) & (a0 != 0)
    s = np.where(swap, -s, s)
    b0 = np.where(swap, -b0, b0)
    p0 = a0 + b0
    c = (a0 - b0) * p0
    zero = p0 == 0  # only a0 = b0 = 0: the fixed point
    r = np.sqrt(4.0 * s * s + c * c)
    # roots without cancellation: P+ P- = -c^2, P+ >= 0 >= P-
    root = np.where(s >= 0, 2.0 * s + r, 2.0 * s - r)
    with np.errstate(divide="ignore", invalid="ignore"):
        other = np.where(root == 0, 0.0, -c * c / np.where(root == 0, 1.0, root))
        p_plus = np.where(s >= 0, root, other)
        p_minus = np.where(s >= 0, other, root)
        # P = [P+ (P0 - P-) h + 2 P0 E] / [(P0 - P-) h + 2 E],  h = (1 - E)/r  (-> t/tau as r -> 0):
        # every term is >= 0, so nothing cancels.
        rt = r * t / tau
        e = np.exp(-rt)
        h = np.where(r > 0, -np.expm1(-rt) / np.where(r > 0, r, 1.0), t / tau)
        big_p0 = p0 * p0
        big_p = np.where(zero, 0.0, (p_plus * (big_p0 - p_minus) * h + 2.0 * big_p0 * e)
                         / np.where(zero, 1.0, (big_p0 - p_minus) * h + 2.0 * e))
        p = np.sign(p0) * np.sqrt(big_p)
        cp = np.where(zero, 0.0, c / np.where(zero, 1.0, p))
    a = 0.5 * (p + cp)
    b = 0.5 * (p - cp)
    b = np.where(swap, -b, b)
    if a.ndim == 0:
        return float(a), float(b)
    return a, b


def smg_unbalanced_u(t: ArrayLike, s: ArrayLike, a0: ArrayLike, b0: ArrayLike, tau: float = 1.0
                     ) -> float | NDArray[np.float64]:
    """Mode strength u = a b of :func:`smg_unbalanced` (tau du/dt = sqrt(c^2 + 4u^2)(s - u))."""
    a, b = smg_unbalanced(t, s, a0, b0, tau)
    return np.multiply(a, b)


def _deep_g(u, s, dist, depth):
    """G(u) of the module docstring; ``dist`` = |s - u| passed separately to keep its relative precision."""
    beta = 2.0 / depth
    z = (u / s) ** (1.0 / depth)
    k = np.arange(1, depth)
    omega = np.exp(2j * np.pi * k / depth)
    # F(z) = -Re sum_k omega_k^2 Log(z - omega_k); the k = 0 root (omega = 1) gives -ln|z - 1|, written as
    # -ln(|s - u|/s) + ln(1 + z + ... + z^{D-1}) because z^D - 1 = (z - 1)(1 + z + ... + z^{D-1}).
    f = -np.real(np.sum(omega ** 2 * np.log(z[..., None] - omega), axis=-1))
    f -= np.log(dist / s) - np.log(np.sum(z[..., None] ** np.arange(depth), axis=-1))
    if depth == 2:
        first = np.log(u)
    else:
        first = u ** (beta - 1.0) / (beta - 1.0)
    return first + s ** (beta - 1.0) * f


def _deep_args(s, u0, n_layers, tau):
    s = checks.positive(s, "s")
    u0 = checks.positive(u0, "u0")
    n_layers = checks.positive_int(n_layers, "n_layers", minimum=3)
    tau = checks.positive(tau, "tau")
    return s, u0, n_layers, tau


def deep_learning_time(s: ArrayLike, u0: ArrayLike, uf: ArrayLike, n_layers: int, tau: float = 1.0
                       ) -> float | NDArray[np.float64]:
    """Time for a deep equal-init mode to go from ``u0`` to ``uf`` (exact, elementary; module docstring).

    ``n_layers`` = N_l counts the layers of units, so there are D = N_l - 1 weight layers and
    tau du/dt = D u^{2-2/D}(s - u) (SMG 2014 eq. 10). u0 and uf must lie on the same side of s.
    For N_l = 3 this is :func:`smg_learning_time`.

    >>> round(deep_learning_time(1.0, 0.01, 0.5, 3), 6)
    2.29756
    """
    s, u0, n_layers, tau = _deep_args(s, u0, n_layers, tau)
    uf = checks.positive(uf, "uf")
    s, u0, uf = _broadcast(s, u0, uf)
    if np.any((u0 - s) * (uf - s) <= 0):
        raise ValueError("uf must lie strictly on the same side of s as u0 (s is reached only as t -> inf)")
    depth = n_layers - 1
    out = tau / (depth * s) * (_deep_g(uf, s, np.abs(s - uf), depth) - _deep_g(u0, s, np.abs(s - u0), depth))
    return out if out.ndim else float(out)


def deep_mode(t: ArrayLike, s: ArrayLike, u0: ArrayLike, n_layers: int, tau: float = 1.0, iterations: int = 200
              ) -> float | NDArray[np.float64]:
    """Mode strength u(t) of a network with N_l = ``n_layers`` layers (D = N_l - 1 equal weight layers).

    Inverts :func:`deep_learning_time` by bisection in r, where u = s + (u0 - s) e^{-r}; t(r) is increasing
    and t <= tau r / (D max(s, u0)^{2-2/D}) bounds the bracket. Vectorized over ``t``, ``s``, ``u0``.
    Relative accuracy ~1e-15 (``iterations`` bisection steps on a bracket of width r_max).

    >>> round(float(deep_mode(2.0, 1.0, 0.01, 4)), 9)
    0.051436375
    """
    t = checks.nonnegative(t, "t")
    s, u0, n_layers, tau = _deep_args(s, u0, n_layers, tau)
    t, s, u0 = _broadcast(t, s, u0)
    if np.any(u0 == s):
        raise ValueError("u0 must differ from s (u0 = s is the fixed point; pass it separately)")
    depth = n_layers - 1
    g0 = _deep_g(u0, s, np.abs(s - u0), depth)
    lo = np.zeros_like(t)
    hi = t * depth * np.maximum(s, u0) ** (2.0 - 2.0 / depth) / tau + 1.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        dist = np.abs(s - u0) * np.exp(-mid)
        u = s + (u0 - s) * np.exp(-mid)
        tm = tau / (depth * s) * (_deep_g(u, s, dist, depth) - g0)
        below = tm < t
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.all(hi - lo <= 4e-16 * np.maximum(hi, 1.0)):
            break
    r = 0.5 * (lo + hi)
    u = s + (u0 - s) * np.exp(-r)
    return u if u.ndim else float(u)


def linear_flow(x: ArrayLike, y: ArrayLike, w0: ArrayLike, t: ArrayLike, rate: float = 1.0, zero_tol: float = 1e-10
                ) -> NDArray[np.float64]:
    """Exact gradient flow of least squares, ``dw/dt = rate X^T (y - X w)``, at the times ``t``.

    The flow of the loss ``(rate/2) |y - X w|^2`` (``rate`` = 1: the summed loss of Advani & Saxe 2017,
    Sec. 2; ``rate`` = 1/P: the mean loss over P samples). In the eigenbasis of ``C = X^T X = V diag(lambda) V^T``,
    ``z = V^T w`` and ``b = V^T X^T y`` decouple::

        dz_i/dt = -rate (lambda_i z_i - b_i)
        z_i(t) = z_i(0) e^{-rate lambda_i t} + b_i (1 - e^{-rate lambda_i t}) / lambda_i      (lambda_i > 0)
        z_i(t) = z_i(0) + b_i rate t                                                        (lambda_i = 0)

    and ``w(t) = V z(t)``. ``1 - e^{-u}`` is evaluated as ``-expm1(-u)`` (no cancellation at small u).
    Eigenvalues at or below ``zero_tol * lambda_max`` are rounding noise of exact zeros (the null space of X when
    P < N; there ``b_i`` vanishes up to rounding) and take the lambda = 0 branch; negative rounding is clipped.

    Parameters
    ----------
    x : (..., P, N) design matrices (leading axes: an ensemble of independent problems).
    y : (..., P) or (..., P, K) targets.
    w0 : (..., N) or (..., N, K) initial weights (a vector ``y`` needs a vector ``w0``).
    t : times >= 0, scalar or 1-D (T,).
    rate : > 0, the factor of the loss (see above).

    Returns ``w(t)`` of shape (..., T, N) or (..., T, N, K).

    Example: one sample, one weight, ``dw/dt = 2 (3 - 2 w)`` from w = 0: ``w(t) = 1.5 (1 - e^{-4t})``.

    >>> import numpy as np
    >>> w = linear_flow(np.array([[2.0]]), np.array([3.0]), np.array([0.0]), [0.0, 0.25, 100.0])
    >>> bool(np.allclose(w[:, 0], 1.5 * (1 - np.exp(-4 * np.array([0.0, 0.25, 100.0])))))
    True
    """
    x = checks.finite_array(x, "x", min_ndim=2)
    y = checks.finite_array(y, "y", min_ndim=1)
    w0 = checks.finite_array(w0, "w0", min_ndim=1)
    t = np.atleast_1d(checks.nonnegative(t, "t"))
    if t.ndim != 1:
        raise ValueError(f"t must be a scalar or 1-D, got shape {t.shape}")
    rate = checks.positive(checks.real_scalar(rate, "rate"), "rate")
    zero_tol = checks.nonnegative(checks.real_scalar(zero_tol, "zero_tol"), "zero_tol")
    p, n = x.shape[-2:]
    vector = y.ndim == x.ndim - 1
    if vector != (w0.ndim == x.ndim - 1):
        raise ValueError(f"y and w0 must both be vectors or both matrices (x {x.shape}, y {y.shape}, "
                         f"w0 {w0.shape})")
    ys = y[..., None] if vector else y
    ws = w0[..., None] if vector else w0
    if ys.shape[-2] != p:
        raise ValueError(f"y must have {p} samples (rows of x) along axis -{1 if vector else 2}, got {y.shape}")
    if ws.shape[-2] != n or ws.shape[-1] != ys.shape[-1]:
        raise ValueError(f"w0 must have shape (..., {n}{'' if vector else ', ' + str(ys.shape[-1])}), "
                         f"got {w0.shape}")
    xt = np.swapaxes(x, -1, -2)
    lam, vec = np.linalg.eigh(xt @ x)
    lam = np.clip(lam, 0.0, None)
    vt = np.swapaxes(vec, -1, -2)
    z0 = vt @ ws                                                   # (..., N, K)
    zb = vt @ (xt @ ys)                                            # (..., N, K)
    arg = rate * lam[..., None, :] * t[:, None]                    # (..., T, N)
    nonzero = lam > zero_tol * lam[..., -1:]
    growth = np.where(nonzero[..., None, :], -np.expm1(-arg) / np.where(nonzero, lam, 1.0)[..., None, :],
                      rate * t[:, None])
    z = z0[..., None, :, :] * np.exp(-arg)[..., None] + zb[..., None, :, :] * growth[..., None]
    w = vec[..., None, :, :] @ z                                   # (..., T, N, K)
    return w[..., 0] if vector else w
