"""Advani-Saxe errors: mpmath quadrature, exact limits, the sqrt(t) law at alpha = 1, finite-N simulation."""
import mpmath as mp
import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from analytic import advani_saxe_errors
from analytic.advani_saxe import (advani_saxe_best_time, advani_saxe_limits, advani_saxe_optimal_stopping_error,
                                  mp_density, mp_edges, optimal_stopping_time)
from minimal_models.linear_student_teacher import advani_saxe_simulation


def _mp_reference(t, alpha, snr, init_var):
    """Independent route: mpmath quadrature directly in lambda (no substitution), 30 digits."""
    mp.mp.dps = 30
    lo, hi = (1 - mp.sqrt(alpha)) ** 2, (1 + mp.sqrt(alpha)) ** 2
    sig2, amp = mp.mpf(1) / snr, 1 + mp.mpf(init_var)

    def rho(lam):
        return mp.sqrt((hi - lam) * (lam - lo)) / (2 * mp.pi * lam)

    pts = [lo] + [lo + (hi - lo) * f for f in (1e-6, 1e-4, 1e-2, 0.1, 0.5)] + [hi]
    test = sig2 + max(0, 1 - alpha) * amp + mp.quad(
        lambda l: rho(l) * (amp * mp.exp(-2 * l * t) + sig2 * (1 - mp.exp(-l * t)) ** 2 / l), pts)
    train = sig2 * max(0, 1 - 1 / mp.mpf(alpha)) + mp.quad(
        lambda l: rho(l) * mp.exp(-2 * l * t) * (sig2 + l * amp), pts) / alpha
    return float(train), float(test)


@pytest.mark.parametrize("t,alpha,snr,init_var", [(0.5, 0.5, 1.0, 0.0), (3.0, 2.0, 4.0, 0.3),
                                                 (20.0, 1.0, 1.0, 0.0), (1000.0, 1.0, 2.0, 0.1),
                                                 (7.0, 0.8, 0.5, 1.0)])
def test_matches_mpmath(t, alpha, snr, init_var):
    train, test = advani_saxe_errors(t, alpha, snr, init_var)
    ref_train, ref_test = _mp_reference(t, alpha, snr, init_var)
    assert train == pytest.approx(ref_train, rel=1e-8)
    assert test == pytest.approx(ref_test, rel=1e-8)


def test_mp_density_mass_and_edges():
    for alpha in (0.3, 1.0, 2.5):
        lo, hi = mp_edges(alpha)
        mass = mp.quad(lambda l: mp.sqrt(max(0, (hi - l) * (l - lo))) / (2 * mp.pi * l), [lo, (lo + hi) / 2, hi])
        assert float(mass) == pytest.approx(min(1.0, alpha), abs=1e-6)
    assert mp_density(0.5 * (mp_edges(2.0)[0]), 2.0) == 0.0


@pytest.mark.parametrize("alpha,init_var", [(0.5, 0.0), (2.0, 0.0), (1.7, 0.5), (0.25, 2.0)])
def test_initial_value_and_limits(alpha, init_var):
    snr = 2.0
    train0, test0 = advani_saxe_errors(0.0, alpha, snr, init_var)
    assert train0 == pytest.approx(1 + init_var + 1 / snr, rel=1e-9)
    assert test0 == pytest.approx(1 + init_var + 1 / snr, rel=1e-9)
    lim_train, lim_test = advani_saxe_limits(alpha, snr, init_var)
    train, test = advani_saxe_errors(1e4, alpha, snr, init_var)   # lambda_- t >= 1e4 * 0.08: converged
    assert train == pytest.approx(lim_train, abs=1e-9)
    assert test == pytest.approx(lim_test, rel=1e-9)


def test_frozen_subspace_below_alpha_one():
    """alpha < 1: a fraction 1 - alpha of weight space never moves, so E_g(inf) >= (1 - alpha)(1 + init_var)."""
    _, test = advani_saxe_limits(0.4, 1e6, init_var=1.0)
    assert test == pytest.approx(0.6 * 2.0, rel=1e-5)


def test_sqrt_t_divergence_at_alpha_one():
    """Near lambda = 0, rho ~ 1/(pi sqrt(lambda)); hence E_g ~ (2 (2 - sqrt 2)/sqrt(pi)) sigma^2 sqrt(t)."""
    snr = 2.0
    t = np.array([1e6, 4e6])
    _, test = advani_saxe_errors(t, 1.0, snr)
    coeff = 2 * (2 - np.sqrt(2)) / np.sqrt(np.pi) / snr
    np.testing.assert_allclose(test / np.sqrt(t), coeff, rtol=2e-3)  # corrections O(1/sqrt(t)) and O(1/t)
    assert advani_saxe_limits(1.0, snr)[1] == np.inf


def test_per_mode_optimal_stopping():
    lam, snr, init_var = np.array([0.05, 0.7, 3.0]), 1.5, 0.2
    amp, sig2 = 1 + init_var, 1 / snr
    t_star = optimal_stopping_time(lam, snr, init_var)
    for l, ts in zip(lam, t_star):
        err = lambda t: amp * np.exp(-2 * l * t) + sig2 / l * (1 - np.exp(-l * t)) ** 2  # noqa: E731
        grid = np.geomspace(1e-3, 1e3, 2001) / l                  # locate the minimum, then refine it
        i = int(np.argmin(err(grid)))
        res = minimize_scalar(err, bounds=(grid[i - 1], grid[i + 1]), method="bounded", options={"xatol": 1e-12})
        assert ts == pytest.approx(res.x, rel=1e-5)
    assert optimal_stopping_time(1.0, 1.0) == pytest.approx(np.log(2.0))   # (tau/lambda) ln(1 + lambda SNR)
    # stopping every mode at its own t* beats any single stopping time
    e_star = advani_saxe_optimal_stopping_error(1.0, 1.0)
    t_best, e_best = advani_saxe_best_time(1.0, 1.0)
    assert e_star == pytest.approx((1 + np.sqrt(5)) / 2, rel=1e-9)   # alpha = snr = 1: the golden ratio
    assert e_star <= e_best <= advani_saxe_errors(t_best * 1.5, 1.0, 1.0)[1]


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_finite_n_simulation_agrees(alpha):
    """N = 100, 60 trials of exact finite-N gradient flow. Tolerance: 4 standard errors of the trial mean plus
    3/N for the O(1/N) finite-size bias of Wishart spectral averages (the N = 400 benchmark checks 3%)."""
    n, trials = 100, 60
    t = np.array([0.3, 1.0, 3.0, 10.0])
    train, test = advani_saxe_simulation(t, alpha, 1.0, n, trials, seed=3)
    th_train, th_test = advani_saxe_errors(t, alpha, 1.0)
    for sim, th in ((test, th_test), (train, th_train)):
        se = sim.std(axis=0, ddof=1) / np.sqrt(trials)
        tol = 4 * se + 3.0 / n * th
        np.testing.assert_array_less(np.abs(sim.mean(axis=0) - th), tol)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="alpha"):
        advani_saxe_errors(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        advani_saxe_errors(1.0, -2.0, 1.0)
    with pytest.raises(ValueError, match="snr"):
        advani_saxe_errors(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="init_var"):
        advani_saxe_errors(1.0, 1.0, 1.0, init_var=-1.0)
    with pytest.raises(ValueError, match="t"):
        advani_saxe_errors([-1.0], 1.0, 1.0)
