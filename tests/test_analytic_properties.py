"""Property-based checks of the exact (analytic) public API: finite results inside their information-theoretic
bounds, monotone where theory says, and every exact route against a second exact route where two exist.

Bounded time: every ``@given`` sets ``max_examples`` and ``deadline=None``; the file runs in ~30 s on one core.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytic import (binned_entropy_gaussian, gaussian_channel_mi, gaussian_entropy, linear_noisy_mi,
                      mixture_entropy_bounds, mixture_mi, mixture_mi_mc, noisy_mi, pairwise_mi_bounds, to_bits,
                      to_nats)
from analytic.binning import bin_probabilities_gaussian
from analytic.gaussian_channel import gaussian_channel_mi_ty, gaussian_mi_from_cov
from analytic.noisy_chain import DiscreteInput, GaussianInput, chain_information, layer_information
from analytic.scalar_channel import output_variance_bound

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOWER = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIVATIONS = ["tanh", "sigmoid", "softsign", "hardtanh", "relu", "leaky_relu", "softplus", "linear"]
BOUNDED = ["tanh", "sigmoid", "softsign", "hardtanh"]
log_uniform = lambda lo, hi: st.floats(lo, hi).map(lambda e: 10.0 ** e)             # noqa: E731
signed_w = st.tuples(log_uniform(-1, 3), st.sampled_from([-1.0, 1.0])).map(lambda t: t[0] * t[1])
seeds = st.integers(0, 2 ** 32 - 1)


def _mixture(seed, max_n=6):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, max_n + 1))
    mu = rng.normal(size=n) * 10 ** rng.uniform(-2, 1.5)
    c = rng.dirichlet(np.ones(n) * rng.uniform(0.3, 3))
    return mu, c


# ---------------------------------------------------------------------------------------------------------
# discrete input, Gaussian noise: mixtures
# ---------------------------------------------------------------------------------------------------------

@FAST
@given(seeds, log_uniform(-3, 1))
def test_mixture_mi_between_zero_and_label_entropy_and_inside_pairwise_bounds(seed, s):
    mu, c = _mixture(seed)
    i = mixture_mi(mu, s, c)
    h_c = -np.sum(c * np.log(c))
    assert np.isfinite(i) and -1e-13 <= i <= h_c + 1e-12
    lower, upper = pairwise_mi_bounds(mu[:, None], s * s, c)
    assert lower - 1e-12 <= i <= upper + 1e-12 and lower <= upper + 1e-15


@FAST
@given(seeds, log_uniform(-2, 0.5), st.floats(1.01, 4.0))
def test_mixture_mi_decreases_with_noise(seed, s, factor):
    """Adding independent noise is a channel after T: I(K; T + Z') <= I(K; T)."""
    mu, c = _mixture(seed)
    assert mixture_mi(mu, s * factor, c) <= mixture_mi(mu, s, c) + 1e-12


@SLOWER
@given(seeds, log_uniform(-1, 0.5))
def test_mixture_mi_monte_carlo_route_agrees_within_five_standard_errors(seed, s):
    """The d-dimensional Monte Carlo route (importance sampled) on 1-D mixtures vs Gauss-Hermite."""
    mu, c = _mixture(seed, max_n=4)
    est, se = mixture_mi_mc(mu[:, None], s, c, n_samples=4000, seed=seed)
    exact = mixture_mi(mu, s, c)
    assert abs(est - exact) <= 5 * se + 1e-12


@FAST
@given(seeds, st.integers(1, 3), log_uniform(-2, 1))
def test_mixture_entropy_bounds_ordered_in_d_dimensions(seed, d, var):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    means = rng.normal(size=(n, d)) * 10 ** rng.uniform(-2, 1)
    lower, upper = mixture_entropy_bounds(means, var)
    h_cond = gaussian_entropy(var, d)
    assert np.isfinite(lower) and np.isfinite(upper)
    assert h_cond - 1e-12 <= lower <= upper + 1e-12 <= h_cond + np.log(n) + 2e-12


# ---------------------------------------------------------------------------------------------------------
# continuous input through a nonlinearity
# ---------------------------------------------------------------------------------------------------------

@FAST
@given(st.sampled_from(ACTIVATIONS), signed_w, log_uniform(-2, 0), st.floats(1.05, 3.0))
def test_noisy_mi_finite_nonnegative_bounded_and_decreasing_in_noise(act, w, s, factor):
    i1, i2 = noisy_mi(act, w, s), noisy_mi(act, w, s * factor)
    assert np.isfinite(i1) and i1 >= 0.0 and i2 <= i1 + 1e-9
    assert i1 <= output_variance_bound(act, w, s) + 1e-9


@FAST
@given(signed_w, log_uniform(-2, 0), log_uniform(-1, 0.3))
def test_noisy_mi_linear_equals_closed_form(w, s, sd):
    assert abs(noisy_mi("linear", w, s, sd=sd) - linear_noisy_mi(w, s, sd)) < 1e-9


@FAST
@given(st.sampled_from(["relu", "leaky_relu", "linear"]), signed_w, log_uniform(-2, 0), log_uniform(-3, 3))
def test_noisy_mi_positively_homogeneous_activations_are_scale_free(act, w, s, c):
    """f(c u) = c f(u) for c > 0: scaling w and noise_std together leaves I unchanged."""
    assert abs(noisy_mi(act, w, s) - noisy_mi(act, c * w, c * s)) < 2e-9


@SLOWER
@given(st.sampled_from(ACTIVATIONS), signed_w, st.floats(-2, 2), log_uniform(-2, -0.5), st.floats(0.2, 1.5))
def test_chain_first_layer_equals_noisy_mi(act, w, b, s, sd):
    """Second exact route: the chain's x-rule quadrature vs noisy_mi's nested rule (f(w X + b), X ~ N(0, sd^2),
    is noisy_mi at mean b / w); the chain's documented accuracy is 1e-8 (1e-7 for softsign's algebraic
    saturation: 4.2e-8 found here at w = -10, s = 0.1, sd = 1.5)."""
    i, _ = layer_information(GaussianInput(0.0, sd), act, w, b, s)
    assert abs(i - noisy_mi(act, w, s, mu=b / w, sd=sd)) < (1e-7 if act == "softsign" else 1e-8)


@SLOWER
@given(st.sampled_from(["tanh", "leaky_relu", "sigmoid"]), st.sampled_from(["tanh", "leaky_relu"]),
       st.floats(-6, 6), st.floats(-1, 1), st.floats(-4, 4), st.floats(-1, 1), st.booleans())
def test_chain_data_processing_and_bounds(f1, f2, w1, b1, w2, b2, discrete):
    """0 <= I(X;T2) <= I(X;T1) (data processing) and, for X on 8 points, I(X;T1) <= ln 8."""
    x = DiscreteInput(range(1, 9)) if discrete else GaussianInput(0.0, 0.5)
    r = chain_information(x, f1, w1 * (0.3 if discrete else 1.0), b1, f2, w2, b2, noise_std=0.1)
    assert -1e-9 <= r.i_xt2 <= r.i_xt1 + 1e-8
    if discrete:
        assert r.i_xt1 <= np.log(8) + 1e-12


@FAST
@given(st.floats(-2, 2), st.floats(-2, 2), log_uniform(-1.5, 0))
def test_linear_chain_equals_closed_form(w1, w2, s):
    v = 0.25
    r = chain_information(GaussianInput(0.0, np.sqrt(v)), "linear", w1, 0.1, "linear", w2, -0.2, noise_std=s)
    assert abs(r.i_xt1 - 0.5 * np.log1p(w1 ** 2 * v / s ** 2)) < 1e-8
    assert abs(r.i_xt2 - 0.5 * np.log1p(w1 ** 2 * w2 ** 2 * v / (s ** 2 * (1 + w2 ** 2)))) < 1e-8


@FAST
@given(st.sampled_from(ACTIVATIONS), signed_w, st.integers(2, 40), st.floats(-1, 1), log_uniform(-1, 0.5))
def test_binned_entropy_between_zero_and_log_bins(act, w, n_bins, mu, sd):
    edges = np.linspace(-1.0, 1.0, n_bins + 1)
    p = bin_probabilities_gaussian(act, w, edges, mu=mu, sd=sd)
    h = binned_entropy_gaussian(act, w, edges, mu=mu, sd=sd)
    assert np.isfinite(h) and -1e-15 <= h <= np.log(n_bins) + 1e-12
    assert abs(p.sum() - 1.0) < 1e-9 or act not in BOUNDED[:2]       # tanh, sigmoid: all mass in [-1, 1]


# ---------------------------------------------------------------------------------------------------------
# linear Gaussian channels
# ---------------------------------------------------------------------------------------------------------

def _psd(rng, n):
    a = rng.normal(size=(n, n))
    return a @ a.T + 0.1 * np.eye(n)


@FAST
@given(seeds, st.integers(1, 4), st.integers(1, 4), log_uniform(-2, 1))
def test_gaussian_channel_mi_equals_joint_covariance_route(seed, n_t, n_x, v):
    """1/2 ln det(I + W S W^T / v) (eigenvalues of the smaller Gram matrix) vs the three-log-det route on the
    joint covariance of (X, T) (Cholesky)."""
    rng = np.random.default_rng(seed)
    W, S = rng.normal(size=(n_t, n_x)), _psd(rng, n_x)
    joint = np.block([[S, S @ W.T], [W @ S, W @ S @ W.T + v * np.eye(n_t)]])
    i = gaussian_channel_mi(W, S, v)
    assert np.isfinite(i) and i >= 0
    assert abs(i - gaussian_mi_from_cov(joint, n_x)) < 1e-9 * max(1.0, i)
    assert gaussian_channel_mi(W, S, 2 * v) <= i + 1e-12                          # decreasing in the noise


@FAST
@given(seeds, st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), log_uniform(-1, 1), log_uniform(-1, 1))
def test_gaussian_channel_ty_below_both_markov_bounds(seed, n_t, n_x, n_y, v, lv):
    rng = np.random.default_rng(seed)
    W, Wo, S = rng.normal(size=(n_t, n_x)), rng.normal(size=(n_y, n_x)), _psd(rng, n_x)
    i_ty = gaussian_channel_mi_ty(W, Wo, S, v, lv)
    assert -1e-12 <= i_ty <= min(gaussian_channel_mi(W, S, v), gaussian_channel_mi(Wo, S, lv)) + 1e-9
    # second route: the three-log-det formula on the joint covariance of (T, Y)
    joint = np.block([[W @ S @ W.T + v * np.eye(n_t), W @ S @ Wo.T], [Wo @ S @ W.T, Wo @ S @ Wo.T + lv * np.eye(n_y)]])
    assert abs(i_ty - gaussian_mi_from_cov(joint, n_t)) < 1e-9 * max(1.0, i_ty)


@FAST
@given(log_uniform(-300, 300), st.integers(1, 50))
def test_gaussian_entropy_scales_and_units_round_trip(var, dim):
    h = gaussian_entropy(var, dim)
    assert np.isfinite(h) and abs(h - dim * gaussian_entropy(var)) < 1e-9 * max(1.0, abs(h))
    assert abs(to_nats(to_bits(h)) - h) <= 1e-12 * max(1.0, abs(h))


@FAST
@given(log_uniform(-300, 300), log_uniform(-300, 300))
def test_gaussian_channel_mi_finite_at_any_representable_scale(w, v):
    """Scale-aware: the scalar channel is exactly 1/2 ln(1 + w^2 / v), computed without overflow."""
    i = gaussian_channel_mi(np.array([[w]]), np.eye(1), v)
    expect = linear_noisy_mi(w, np.sqrt(v))
    assert np.isfinite(i) and abs(i - expect) <= 1e-12 * max(1.0, expect)


@pytest.mark.parametrize("act", BOUNDED)
def test_noisy_mi_bounded_activation_below_its_large_w_ceiling(act):
    """A bounded f carries at most 1/2 ln(1 + R^2 / (4 s^2)) at every w, and is finite up to w = 1e300."""
    w = np.array([0.1, 1.0, 10.0, 1e3, 1e300])
    i = noisy_mi(act, w, 0.05)
    assert np.all(np.isfinite(i)) and np.all(i <= output_variance_bound(act, w, 0.05) + 1e-9)


@FAST
@given(seeds, st.integers(1, 3), log_uniform(-3, 6), log_uniform(-4, 2))
def test_pairwise_bounds_equal_direct_pairwise_formula_at_any_offset(seed, d, offset, var):
    """Second route: Kolchinsky-Tracey bounds from direct differences; means shifted far from the origin
    (up to 1e6) with tight clusters, where a Gram-form distance would cancel."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    x = offset + rng.normal(size=(n, d)) * 10 ** rng.uniform(-3, 1) + rng.integers(0, 2, (n, 1)) * rng.normal(size=d)
    lo, up = pairwise_mi_bounds(x, var)
    D = ((x[:, None] - x[None]) ** 2).sum(-1)
    ref_lo = -np.mean(np.log(np.mean(np.exp(-D / (8 * var)), 1)))
    ref_up = -np.mean(np.log(np.mean(np.exp(-D / (2 * var)), 1)))
    assert abs(lo - ref_lo) < 1e-9 and abs(up - ref_up) < 1e-9
    assert -1e-15 <= lo <= up + 1e-15 <= np.log(n) + 1e-12


@settings(max_examples=4, deadline=None)
@given(seeds, log_uniform(-2, 0))
def test_mixture_mi_equals_mpmath_route(seed, s):
    """Gauss-Hermite in the smooth form vs mpmath tanh-sinh of -int p ln p in the original variable."""
    from analytic.gaussian_mixture import mixture_mi_mp
    mu, c = _mixture(seed, max_n=4)
    assert abs(mixture_mi(mu, s, c) - float(mixture_mi_mp(mu, s, c))) < 1e-11
