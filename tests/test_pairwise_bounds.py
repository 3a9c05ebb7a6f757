"""Kolchinsky-Tracey bounds against independent routes: closed-form limits, 1-D quadrature, Monte Carlo,
and a brute-force broadcast-difference + logsumexp reference."""
import numpy as np
import pytest
from scipy import integrate
from scipy.special import logsumexp

from analytic.gaussian import gaussian_entropy
from analytic.pairwise_bounds import (kernel_row_sums, mixture_entropy_bounds,
                                      pairwise_mi_bounds)


def brute_force_bounds(means, noise_var, weights=None):
    """Reference: explicit differences, scipy logsumexp, one mixture at a time."""
    n, d = means.shape
    c = np.full(n, 1.0 / n) if weights is None else weights
    dist = ((means[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    out = []
    for kappa in (8.0, 2.0):
        lse = logsumexp(-dist / (kappa * noise_var), b=c[None, :], axis=1)
        out.append(gaussian_entropy(noise_var, d) - np.sum(c * lse))
    return tuple(out)


def quad_entropy_1d(mu, noise_var, c):
    """h(sum_i c_i N(mu_i, s2)) by adaptive quadrature with breakpoints at every centre +- k sigma."""
    s = np.sqrt(noise_var)
    pts = np.unique(np.concatenate([mu + k * s for k in (-12, -6, -3, -1, 0, 1, 3, 6, 12)]))

    def integrand(t):
        logp = logsumexp(-0.5 * (t - mu) ** 2 / noise_var, b=c) - 0.5 * np.log(2 * np.pi * noise_var)
        return -np.exp(logp) * logp

    return sum(integrate.quad(integrand, a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
               for a, b in zip(pts[:-1], pts[1:]))


def test_single_component_equals_gaussian_entropy():
    for d, var in [(1, 0.3), (5, 2.0), (12, 1e-4)]:
        lo, up = mixture_entropy_bounds(np.random.default_rng(d).normal(size=(1, d)), var)
        exact = 0.5 * d * np.log(2 * np.pi * np.e * var)
        assert lo == pytest.approx(exact, abs=1e-12) and up == pytest.approx(exact, abs=1e-12)


def test_far_separated_components_give_weight_entropy_plus_gaussian():
    c = np.array([0.5, 0.2, 0.2, 0.1])
    means = np.array([[0.0, 0.0], [1e3, 0.0], [0.0, 1e3], [1e3, 1e3]])
    lo, up = mixture_entropy_bounds(means, 1.0, weights=c)
    exact = -np.sum(c * np.log(c)) + gaussian_entropy(1.0, 2)
    assert lo == pytest.approx(exact, abs=1e-12) and up == pytest.approx(exact, abs=1e-12)
    mlo, mup = pairwise_mi_bounds(means, 1.0, weights=c)
    assert mlo == pytest.approx(-np.sum(c * np.log(c)), abs=1e-12)


@pytest.mark.parametrize("mu,var,c", [
    (np.array([-3.0, -1.0, 1.0, 3.0]), 0.5, None),
    (np.tanh(np.array([-3.0, -1.0, 1.0, 3.0])), 0.05 ** 2, None),
    (np.array([0.0, 0.3, 2.0]), 0.2, np.array([0.6, 0.3, 0.1])),
    (np.array([0.0, 1.0]), 4.0, None),
])
def test_bounds_bracket_quadrature_entropy_1d(mu, var, c):
    c = np.full(mu.size, 1 / mu.size) if c is None else c
    exact = quad_entropy_1d(mu, var, c)
    lo, up = mixture_entropy_bounds(mu[:, None], var, weights=c)
    assert lo <= exact + 1e-10 <= up + 2e-10
    assert up - lo <= np.log(mu.size) + 1e-12


def test_bounds_bracket_monte_carlo_entropy_3d():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(6, 3))
    var = 0.4
    n = 400_000
    comp = rng.integers(0, 6, size=n)
    t = mu[comp] + np.sqrt(var) * rng.normal(size=(n, 3))
    d2 = ((t[:, None, :] - mu[None]) ** 2).sum(-1)
    logp = logsumexp(-d2 / (2 * var), axis=1) - np.log(6) - 1.5 * np.log(2 * np.pi * var)
    h, se = -logp.mean(), logp.std() / np.sqrt(n)
    lo, up = mixture_entropy_bounds(mu, var)
    assert lo < h - 5 * se and h + 5 * se < up  # the gaps here are far larger than the MC error


def test_matches_brute_force_reference_with_weights_and_batch():
    rng = np.random.default_rng(1)
    means = rng.normal(size=(3, 2, 50, 4))
    w = rng.random(size=(3, 2, 50))
    w /= w.sum(-1, keepdims=True)
    lo, up = mixture_entropy_bounds(means, 0.7, weights=w)
    assert lo.shape == up.shape == (3, 2)
    for idx in np.ndindex(3, 2):
        rlo, rup = brute_force_bounds(means[idx], 0.7, w[idx])
        assert lo[idx] == pytest.approx(rlo, rel=1e-12, abs=1e-12)
        assert up[idx] == pytest.approx(rup, rel=1e-12, abs=1e-12)


def test_noise_var_broadcasts_over_batch():
    means = np.random.default_rng(2).normal(size=(3, 20, 2))
    var = np.array([0.1, 1.0, 10.0])
    lo, up = pairwise_mi_bounds(means, var)
    for b in range(3):
        l1, u1 = pairwise_mi_bounds(means[b], var[b])
        assert lo[b] == pytest.approx(l1, rel=1e-13) and up[b] == pytest.approx(u1, rel=1e-13)


@pytest.mark.parametrize("chunk", [1, 7, 64, 149])
def test_chunked_equals_unchunked(chunk):
    rng = np.random.default_rng(3)
    means = rng.normal(size=(2, 150, 5)) * 3
    full = mixture_entropy_bounds(means, 0.1, chunk_size=150)
    part = mixture_entropy_bounds(means, 0.1, chunk_size=chunk)
    np.testing.assert_allclose(part, full, rtol=1e-12, atol=1e-12)


def test_mi_bounds_in_range_and_ordered():
    rng = np.random.default_rng(4)
    means = rng.normal(size=(10, 40, 3))
    for var in (1e-4, 0.1, 100.0):
        lo, up = pairwise_mi_bounds(means, var)
        assert np.all(lo >= -1e-12) and np.all(up <= np.log(40) + 1e-12) and np.all(lo <= up + 1e-12)


def test_kernel_row_sums_shared_columns():
    means = np.random.default_rng(5).normal(size=(4, 30, 2))
    cols = np.eye(30)[:, :3]
    kl, bh = kernel_row_sums(means, 0.5, cols)
    d2 = ((means[:, :, None] - means[:, None]) ** 2).sum(-1)
    np.testing.assert_allclose(kl, np.exp(-d2 / 1.0) @ cols, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(bh, np.exp(-d2 / 4.0) @ cols, rtol=1e-12, atol=1e-300)


def test_large_wide_input_runs_bounded():
    # 2,000 x 1,024 in a few blocks: the row sums equal the single-block result
    means = np.random.default_rng(6).normal(size=(2000, 1024)) * 0.05
    a = pairwise_mi_bounds(means, 0.1, chunk_size=512)
    b = pairwise_mi_bounds(means, 0.1, chunk_size=2000)
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("kwargs,name", [
    (dict(means=np.zeros((3, 2)), noise_var=0.0), "noise_var"),
    (dict(means=np.zeros((3, 2)), noise_var=-1.0), "noise_var"),
    (dict(means=np.array([[np.nan, 0.0]]), noise_var=1.0), "means"),
    (dict(means=np.zeros(3), noise_var=1.0), "means"),
    (dict(means=np.zeros((3, 2)), noise_var=1.0, weights=np.ones(2) / 2), "weights"),
    (dict(means=np.zeros((3, 2)), noise_var=1.0, weights=np.array([0.5, 0.6, -0.1])), "weights"),
    (dict(means=np.zeros((3, 2)), noise_var=1.0, weights=np.array([0.5, 0.5, 0.5])), "weights"),
    (dict(means=np.zeros((3, 2)), noise_var=1.0, chunk_size=0), "chunk_size"),
    (dict(means=np.zeros((2, 3, 2)), noise_var=np.ones(3)), "noise_var"),
])
def test_bad_input_names_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        mixture_entropy_bounds(**kwargs)


@pytest.mark.parametrize("d,n", [(40, 60), (600, 30)])
def test_precise_path_skips_only_underflowing_pairs(d, n):
    """Activity spread far beyond the noise (the precise path): skipping the pairs whose kernel is certainly 0.0
    (``floor=EXP_UNDERFLOW``) gives exactly the kernels of the full difference computation, near pairs included."""
    from analytic.pairwise_distances import (EXP_UNDERFLOW, gram_is_precise, neg_scaled_sq_dists,
                                             scaled_centred)
    rng = np.random.default_rng(d)
    h = 1e3 * rng.normal(size=(1, n, d))
    h[0, 1] = h[0, 0] + 1e-5 * rng.normal(size=d)             # a near pair inside a spread of 1e3
    h[0, 3] = h[0, 2] + 0.3 * rng.normal(size=d) / np.sqrt(d)
    v, e = scaled_centred(h)
    log_c = np.array([-np.log(2.0 * 0.1)])
    assert not gram_is_precise(v, e, log_c)
    full = neg_scaled_sq_dists(v, v, e, log_c, precise=True)
    fast = neg_scaled_sq_dists(v, v, e, log_c, precise=True, floor=EXP_UNDERFLOW)
    assert np.array_equal(np.exp(full), np.exp(fast))
    assert np.isneginf(fast).sum() > 0.9 * n * n - 3 * n        # nearly every pair skipped
    exact = -np.sum((h[0, :, None, :] - h[0, None, :, :]) ** 2, axis=-1) / (2.0 * 0.1)
    near = exact > -700
    assert np.allclose(fast[0][near], exact[near], rtol=1e-12, atol=1e-12)
