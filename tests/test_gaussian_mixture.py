"""analytic.gaussian_mixture: 1-D exact entropy vs mpmath, limits, KT bounds, d-dim Monte Carlo."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytic.gaussian_mixture import (hermite_rule, mixture_entropy, mixture_entropy_bounds, mixture_entropy_mc,
                                       mixture_mi, mixture_mi_mc, mixture_mi_mp)

LN2, LN4 = np.log(2.0), np.log(4.0)


@pytest.mark.parametrize("delta", [0.0, 1e-9, 0.7, 3.0, 7.5, 8.7, 14.0, 45.0])
@pytest.mark.parametrize("c0", [0.5, 0.1])
def test_two_components_match_mpmath(delta, c0):
    """The hardest pair separations for Gauss-Hermite (kink of width 1/delta at U ~ -delta/2), to 1e-12 nats."""
    s = 0.01
    ref = float(mixture_mi_mp([0.0, delta * s], s, [c0, 1 - c0], dps=30))
    assert abs(mixture_mi([0.0, delta * s], s, [c0, 1 - c0]) - ref) < 1e-12


def test_random_mixtures_match_mpmath():
    rng = np.random.default_rng(3)
    for n, s in ((3, 1e-3), (5, 0.02), (6, 0.3)):
        mu = rng.uniform(-1, 1, n) * (0.05 if s == 1e-3 else 1.0)   # sigma 1e-3: components at ~1..30 sigma
        c = rng.dirichlet(np.ones(n))
        ref = float(mixture_mi_mp(mu, s, c, dps=30))
        assert abs(mixture_mi(mu, s, c) - ref) < 1e-12


def test_node_count_is_converged():
    """1000 nodes (the default) agree with 2000 to 1e-14 over a sweep of separations and weights;
    400 nodes are visibly worse, so the default is not an arbitrary choice."""
    d = np.linspace(0.0, 30.0, 301)
    means = np.stack([np.zeros_like(d), d], axis=-1)
    for c in ([0.5, 0.5], [0.2, 0.8]):
        a = mixture_mi(means, 1.0, c)
        b = mixture_mi(means, 1.0, c, n_nodes=2000)
        lo = mixture_mi(means, 1.0, c, n_nodes=400)
        assert np.max(np.abs(a - b)) < 1e-14
        assert np.max(np.abs(lo - b)) > 1e-13
    u, w = hermite_rule()
    assert u.size < 300 and abs(w.sum() - 1) < 1e-15 and abs(w @ u ** 2 - 1) < 1e-13


def test_limits_merged_and_separated():
    # tanh(19) == 1.0 in float64: exactly merged means, no NaN
    mu = np.tanh(np.array([-3.0, -1.0, 1.0, 3.0]) * 19.0)
    assert np.tanh(19.0) == 1.0
    assert abs(mixture_mi(mu, 1e-3) - LN2) < 1e-12
    assert abs(mixture_mi(np.zeros(4), 1e-3)) == 0.0
    far = np.array([0.0, 1.0, 2.0, 3.0]) * 1e3
    c = np.array([0.1, 0.2, 0.3, 0.4])
    assert abs(mixture_mi(far, 1e-3, c) + np.sum(c * np.log(c))) < 1e-14
    # one zero weight: it does not count
    assert abs(mixture_mi(far, 1e-3, [0.0, 0.5, 0.25, 0.25]) - 1.5 * LN2) < 1e-14
    # entropy of a single Gaussian
    assert abs(mixture_entropy([0.3], 0.2) - 0.5 * np.log(2 * np.pi * np.e * 0.04)) < 1e-14


def test_batch_axes_and_noise_broadcast():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(3, 5, 4))
    s = np.array([0.01, 0.1, 1.0])[:, None]
    out = mixture_mi(mu, s)
    assert out.shape == (3, 5)
    for i in range(3):
        for j in range(5):
            assert out[i, j] == pytest.approx(mixture_mi(mu[i, j], float(s[i, 0])), abs=1e-15)


def test_kolchinsky_tracey_bounds_bracket_the_exact_entropy():
    rng = np.random.default_rng(1)
    n_mix, n = 400, 6
    mu = rng.normal(size=(n_mix, n)) * rng.uniform(0.01, 3, (n_mix, 1))
    c = rng.dirichlet(np.ones(n) * 0.7, size=n_mix)
    s = rng.uniform(0.01, 1.0, n_mix)
    h = mixture_entropy(mu, s, c)
    lower, upper = mixture_entropy_bounds(mu[..., None], s ** 2, c)
    assert np.all(lower <= h + 1e-12) and np.all(h <= upper + 1e-12)
    assert np.mean(upper - lower) > 1e-3           # the bounds are not trivially tight: a real check


def test_monte_carlo_1d_within_4_standard_errors():
    mu = np.tanh(np.array([-3.0, -1.0, 1.0, 3.0]) * 0.7 - 0.4)
    est, se = mixture_mi_mc(mu[:, None], 0.1, n_samples=20_000, seed=5)
    exact = mixture_mi(mu, 0.1)
    assert 0 < se < 5e-3 and abs(est - exact) < 4 * se


def test_monte_carlo_2d_product_mixture():
    """Means on the grid {a1, a2} x {b1, b2} with product weights: coordinates are independent, so
    h(T) = h(T_1) + h(T_2) exactly; the 2-D Monte Carlo must agree within 4 standard errors."""
    a, b = np.array([-0.2, 0.1]), np.array([0.0, 0.25])
    ca, cb = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    means = np.array([[x, y] for x in a for y in b])
    c = np.outer(ca, cb).ravel()
    s = 0.1
    exact = mixture_entropy(a, s, ca) + mixture_entropy(b, s, cb)
    est, se = mixture_entropy_mc(means, s, c, n_samples=20_000, seed=2)
    assert abs(est - exact) < 4 * se
    # a batch of two copies gives two estimates of the right shape
    est2, se2 = mixture_mi_mc(np.stack([means, means]), s, np.stack([c, c]), n_samples=1000)
    assert est2.shape == (2,) and se2.shape == (2,)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=6), st.floats(1e-3, 2.0), st.integers(0, 10 ** 6))
def test_mi_between_zero_and_label_entropy(means, s, seed):
    c = np.random.default_rng(seed).dirichlet(np.ones(len(means)))
    i = mixture_mi(np.array(means), s, c)
    assert -1e-13 <= i <= -np.sum(c * np.log(c)) + 1e-13


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="noise_std"):
        mixture_mi([0.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="noise_std"):
        mixture_mi([0.0, 1.0], -1.0)
    with pytest.raises(ValueError, match="means"):
        mixture_mi([0.0, np.nan], 0.1)
    with pytest.raises(ValueError, match="weights"):
        mixture_mi([0.0, 1.0], 0.1, [0.5, 0.6])
    with pytest.raises(ValueError, match="weights"):
        mixture_mi([0.0, 1.0], 0.1, [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="n_samples"):
        mixture_mi_mc(np.zeros((2, 1)), 0.1, n_samples=0)
