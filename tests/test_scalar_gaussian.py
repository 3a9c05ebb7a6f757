"""Scalar Gaussian minimal model: exact noisy MI (closed form, mpmath route, limits), API, bounds, bad input."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from analytic import scalar_channel as sc
from analytic.binning import binned_entropy_gaussian, tishby_edges
from minimal_models import ScalarGaussian


@pytest.mark.parametrize("noise_std", [1e-3, 0.1, 1.0, 10.0])
def test_linear_matches_closed_form(noise_std):
    w = np.array([-5.0, 0.0, 1e-3, 0.5, 3.0, 100.0])
    for mu, sd in ((0.0, 1.0), (1.5, 0.4)):
        got = ScalarGaussian("linear", mu=mu, sd=sd).noisy_mi(w, noise_std)
        np.testing.assert_allclose(got, sc.linear_noisy_mi(w, noise_std, sd=sd), rtol=0, atol=1e-10)


def test_double_matches_mpmath_relu():
    """The mpmath route (20 digits, its own panels) agrees to 1e-9 nats at a ReLU point (atom + kink)."""
    m = ScalarGaussian("relu")
    assert abs(m.noisy_mi(2.0, 0.1) - m.noisy_mi(2.0, 0.1, precision="mp")) <= 1e-9


MP_GRID = [("tanh", 10.0, 1e-3), ("tanh", 100.0, 1e-3), ("tanh", 1.0, 0.1), ("sigmoid", 5.0, 1e-2),
           ("hardtanh", 3.0, 1e-2), ("softplus", 2.0, 0.05), ("leaky_relu", -2.0, 1e-2), ("relu", 50.0, 1e-3)]


@pytest.mark.slow
@pytest.mark.parametrize("name,w,noise_std", MP_GRID)
def test_double_matches_mpmath_grid(name, w, noise_std):
    m = ScalarGaussian(name)
    assert abs(m.noisy_mi(w, noise_std) - m.noisy_mi(w, noise_std, precision="mp")) <= 1e-9


@pytest.mark.slow
def test_double_matches_mpmath_shifted_input():
    m = ScalarGaussian("tanh", mu=0.7, sd=1.5)
    assert abs(m.noisy_mi(-3.0, 0.02) - m.noisy_mi(-3.0, 0.02, precision="mp")) <= 1e-9


def test_node_refinement_converged():
    """Self-check: 1.5x the Gauss-Legendre orders on the same panels changes nothing above 1e-10 nats."""
    w = np.array([0.5, 20.0, 300.0])
    cases = [("tanh", 1e-3), ("softsign", 0.3), ("relu", 1e-3)]
    coarse = [sc.noisy_mi(n, w, s) for n, s in cases]
    saved = sc._GL_T, sc._GL_Z
    try:
        sc._GL_T = np.polynomial.legendre.leggauss(18)
        sc._GL_Z = np.polynomial.legendre.leggauss(14)
        for (n, s), v in zip(cases, coarse):
            np.testing.assert_allclose(v, sc.noisy_mi(n, w, s), rtol=0, atol=1e-10)
    finally:
        sc._GL_T, sc._GL_Z = saved


def test_sympy_limits():
    assert sc.relu_growth_constant() == sp.log(2) / 2
    assert sc.small_w_coefficient("tanh") == 1
    assert sp.simplify(sc.small_w_coefficient("relu") - (sp.Rational(1, 2) - 1 / (2 * sp.pi))) == 0
    assert sc.small_w_coefficient("sigmoid") == sp.Rational(1, 16)


def test_limits_are_approached():
    # w -> 0: small-signal law, relative error O(w^2)
    for name in ("tanh", "relu", "sigmoid", "linear"):
        w = np.array([1e-3, 1e-2])
        np.testing.assert_allclose(sc.noisy_mi(name, w, 1.0), sc.small_w_noisy_mi(name, w, 1.0), rtol=2e-3)
    # w -> inf, tanh: the two-point channel, -> ln 2 as the clusters separate
    lim = sc.saturating_large_w_limit("tanh", 0.1)
    assert abs(lim - np.log(2)) < 1e-12
    gaps = [sc.noisy_mi("tanh", w, 0.1) - lim for w in (1e2, 1e3, 1e4)]
    assert gaps[0] > gaps[1] > gaps[2] > 0 and gaps[2] < 1e-3
    assert sc.saturating_large_w_limit("tanh", 1.0) < np.log(2) - 0.3          # noisy clusters overlap
    # relu: 1/2 ln(w / noise_std) + 1/2 ln 2
    ws = np.array([1e2, 1e3, 1e4])
    gap = np.abs(sc.noisy_mi("relu", ws, 0.1) - sc.relu_large_w_noisy_mi(ws, 0.1))
    assert np.all(np.diff(gap) < 0) and gap[-1] < 5e-4


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(["tanh", "relu", "sigmoid", "linear", "softsign", "hardtanh", "softplus",
                             "leaky_relu"]),
       w=st.one_of(st.floats(-300, 300, allow_nan=False), st.sampled_from([0.0, 1e-300, -5e-200])),
       log_noise=st.floats(-3, 1))
def test_noisy_mi_within_bounds(name, w, log_noise):
    s = 10.0 ** log_noise
    i = sc.noisy_mi(name, w, s)
    assert np.isfinite(i) and i >= 0
    assert i <= sc.output_variance_bound(name, w, s) + 1e-10
    if name == "relu":   # Gaussian max-entropy bound with Var(relu(wX)) = w^2 (1/2 - 1/(2 pi))
        assert i <= 0.5 * np.log1p(w * w * (0.5 - 0.5 / np.pi) / (s * s)) + 1e-10
    if name == "linear":
        assert abs(i - sc.linear_noisy_mi(w, s)) <= 1e-10


def test_model_api_and_sampling():
    m = ScalarGaussian("leaky_relu", slope=0.2, mu=0.3, sd=2.0)
    w = np.linspace(-3, 3, 7).reshape(7, 1)
    assert m.binned_mi(w, tishby_edges()).shape == (7, 1)
    np.testing.assert_array_equal(m.binned_mi(w, tishby_edges()),
                                  binned_entropy_gaussian("leaky_relu", w, tishby_edges(), mu=0.3, sd=2.0, slope=0.2))
    x, h = m.sample(1000, [0.5, -1.0], rng=3)
    assert x.shape == (1000,) and h.shape == (2, 1000)
    np.testing.assert_allclose(h[1], np.where(-x > 0, -x, -0.2 * x))
    assert m.noisy_mi(np.zeros(3), 0.1).tolist() == [0.0, 0.0, 0.0]
    assert "leaky_relu" in repr(m)


def test_bad_input_names_the_argument():
    m = ScalarGaussian("tanh")
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="^noise_std"):
            m.noisy_mi(1.0, bad)
    with pytest.raises(ValueError, match="^w"):
        m.noisy_mi([1.0, np.nan], 0.1)
    with pytest.raises(ValueError, match="^w"):
        m.binned_mi(np.nan, tishby_edges())
    with pytest.raises(ValueError, match="^edges"):
        m.binned_mi(1.0, [1.0, 0.5])
    with pytest.raises(ValueError, match="^activation"):
        ScalarGaussian("sigmoidd")
    with pytest.raises(ValueError, match="^precision"):
        m.noisy_mi(1.0, 0.1, precision="quad")
    with pytest.raises(ValueError, match="^sd"):
        ScalarGaussian("tanh", sd=-1.0)
