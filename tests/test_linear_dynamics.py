"""SMG closed forms (balanced, unbalanced, deep) against high-accuracy ODE solutions, sympy and discrete GD."""
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from analytic import smg_mode
from analytic.linear_dynamics import (deep_learning_time, deep_mode, smg_learning_time, smg_unbalanced,
                                      smg_unbalanced_u)
from minimal_models.linear_student_teacher import deep_linear_gd

T = np.linspace(0.0, 8.0, 41)


def _ode(rhs, y0, t=T):
    sol = solve_ivp(rhs, (0.0, t[-1]), y0, t_eval=t, method="DOP853", rtol=1e-12, atol=1e-14)
    assert sol.success
    return sol.y


def test_balanced_matches_ode_vectorized_over_time_and_modes():
    s = np.array([0.0, 0.3, 1.0, 2.5])
    u0 = 1e-3
    tau = 0.7
    u = smg_mode(T[:, None], s[None, :], u0, tau)            # (times, modes) in one call
    assert u.shape == (T.size, s.size)
    ref = _ode(lambda t, y: 2.0 * y * (s - y) / tau, np.full(s.size, u0)).T
    np.testing.assert_allclose(u, ref, rtol=1e-9, atol=0)


def test_learning_time_inverts_the_trajectory():
    s, u0 = np.array([0.5, 1.0, 4.0]), 1e-4
    uf = 0.9 * s
    t_learn = smg_learning_time(s, u0, uf, tau=2.0)
    np.testing.assert_allclose(smg_mode(t_learn, s, u0, tau=2.0), uf, rtol=1e-12)
    # modes are learned in order of singular value: t ~ (tau/2s) ln(...), larger s first
    assert np.all(np.diff(t_learn) < 0)


@pytest.mark.parametrize("a0,b0,s", [(0.3, 0.1, 2.0), (0.01, 0.5, 1.0), (-0.2, 0.3, 1.5), (0.4, -0.4, 2.0),
                                     (0.5, -0.1, -1.0), (0.2, 0.2, 0.0), (0.7, 0.05, 1e-9)])
def test_unbalanced_matches_ode(a0, b0, s):
    tau = 1.3
    ref = _ode(lambda t, y: [y[1] * (s - y[0] * y[1]) / tau, y[0] * (s - y[0] * y[1]) / tau], [a0, b0])
    a, b = smg_unbalanced(T, s, a0, b0, tau)
    scale = np.maximum(np.abs(ref), 1e-3)
    np.testing.assert_array_less(np.abs(a - ref[0]) / scale[0], 1e-9)
    np.testing.assert_array_less(np.abs(b - ref[1]) / scale[1], 1e-9)
    np.testing.assert_allclose(a ** 2 - b ** 2, a0 ** 2 - b0 ** 2, atol=1e-12)   # conserved
    np.testing.assert_allclose(smg_unbalanced_u(T, s, a0, b0, tau), a * b, rtol=0, atol=0)


def test_unbalanced_reduces_to_balanced():
    a, b = smg_unbalanced(T, 2.0, 0.1, 0.1)
    np.testing.assert_allclose(a * b, smg_mode(T, 2.0, 0.01), rtol=1e-13)


def test_unbalanced_closed_form_solves_the_ode_symbolically():
    """P(t) solves the Riccati equation and (a, b) built from P solve the two-layer ODE: residuals simplify to 0."""
    t, tau, s, r, p0 = sp.symbols("t tau s r P0", positive=True)
    c = sp.sqrt(r ** 2 - 4 * s ** 2)              # r = sqrt(4 s^2 + c^2)
    pp, pm = 2 * s + r, 2 * s - r
    e = sp.exp(-r * t / tau)
    big_p = (pp * (p0 - pm) - pm * (p0 - pp) * e) / ((p0 - pm) - (p0 - pp) * e)
    riccati = tau * sp.diff(big_p, t) - (2 * s * big_p - big_p ** 2 / 2 + c ** 2 / 2)
    assert sp.simplify(riccati) == 0
    assert sp.simplify(big_p.subs(t, 0) - p0) == 0
    # p = sqrt(P) with tau dp/dt = (tau dP/dt)/(2p); a = (p + c/p)/2, b = (p - c/p)/2
    p, cc = sp.symbols("p c", positive=True)
    pdot = (2 * s * p ** 2 - p ** 4 / 2 + cc ** 2 / 2) / (2 * p * tau)
    a, b = (p + cc / p) / 2, (p - cc / p) / 2
    adot, bdot = sp.diff(a, p) * pdot, sp.diff(b, p) * pdot
    assert sp.simplify(tau * adot - b * (s - a * b)) == 0
    assert sp.simplify(tau * bdot - a * (s - a * b)) == 0
    assert sp.simplify(a ** 2 - b ** 2 - cc) == 0


@pytest.mark.parametrize("n_layers", [3, 4, 5, 7])
@pytest.mark.parametrize("u0", [1e-3, 0.4, 3.0])
def test_deep_matches_layer_by_layer_ode(n_layers, u0):
    """D = N_l - 1 scalar layers, tau da_i/dt = (prod_{j != i} a_j)(s - prod a), equal init a_i = u0^{1/D}."""
    d, s, tau = n_layers - 1, 1.5, 0.8

    def rhs(_, a):
        prod = np.prod(a)
        return np.array([np.prod(np.delete(a, i)) for i in range(d)]) * (s - prod) / tau

    ref = np.prod(_ode(rhs, np.full(d, u0 ** (1.0 / d))), axis=0)
    np.testing.assert_allclose(deep_mode(T, s, u0, n_layers, tau), ref, rtol=1e-9)


def test_deep_three_layers_is_the_balanced_formula_and_times_invert():
    np.testing.assert_allclose(deep_mode(T, 2.0, 1e-3, 3), smg_mode(T, 2.0, 1e-3), rtol=1e-12)
    np.testing.assert_allclose(deep_learning_time(2.0, 1e-3, 1.9, 3), smg_learning_time(2.0, 1e-3, 1.9), rtol=1e-12)
    s = np.array([0.5, 1.0, 3.0])
    tl = deep_learning_time(s, 1e-2, 0.95 * s, 6, tau=1.5)
    np.testing.assert_allclose(deep_mode(tl, s, 1e-2, 6, tau=1.5), 0.95 * s, rtol=1e-10)


def test_discrete_gd_converges_to_closed_form_linearly_in_lr():
    """Matrix net W2 W1 with decoupled balanced init: GD error at fixed time is O(lr) (ratio 2 per halving)."""
    rng = np.random.default_rng(0)
    n = 6
    u_mat, _ = np.linalg.qr(rng.standard_normal((n, n)))
    v_mat, _ = np.linalg.qr(rng.standard_normal((n, n)))
    r_mat, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = np.array([3.0, 2.0, 1.2, 0.7, 0.4, 0.2])
    u0 = 1e-3
    sigma_yx = u_mat @ np.diag(s) @ v_mat.T
    w1 = r_mat @ np.diag(np.full(n, np.sqrt(u0))) @ v_mat.T
    w2 = u_mat @ np.diag(np.full(n, np.sqrt(u0))) @ r_mat.T
    t_end = 4.0
    exact = smg_mode(t_end, s, u0)
    errors = []
    for lr in (0.02, 0.01, 0.005):
        steps = int(round(t_end / lr))
        w_tot = deep_linear_gd([w1, w2], np.eye(n), sigma_yx, lr, steps, [steps])[-1]
        modes = np.diag(u_mat.T @ w_tot @ v_mat)
        off = u_mat.T @ w_tot @ v_mat - np.diag(modes)
        assert np.max(np.abs(off)) < 1e-12                     # modes stay decoupled
        errors.append(np.max(np.abs(modes - exact)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)       # first-order (Euler) convergence
    assert errors[-1] < 0.05 * np.max(exact)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="u0"):
        smg_mode(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="s"):
        smg_mode(1.0, -1.0, 0.1)
    with pytest.raises(ValueError, match="tau"):
        smg_mode(1.0, 1.0, 0.1, tau=0.0)
    with pytest.raises(ValueError, match="uf"):
        smg_learning_time(1.0, 0.1, 1.0)
    with pytest.raises(ValueError, match="n_layers"):
        deep_mode(1.0, 1.0, 0.1, 2)
    with pytest.raises(ValueError, match="t"):
        deep_mode(-1.0, 1.0, 0.1, 4)
