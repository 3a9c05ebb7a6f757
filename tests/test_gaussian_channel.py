"""Exact Gaussian-channel MI: Monte Carlo on sampled Gaussians, closed forms, bounds (hypothesis), bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytic import gaussian_channel_mi
from analytic.gaussian_channel import gaussian_channel_mi_ty, gaussian_mi_from_cov, subspace_mi


def _problem(seed, n_x=5, n_t=3, n_y=2):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n_x, n_x))
    return (rng.standard_normal((n_t, n_x)), rng.standard_normal((n_y, n_x)), a @ a.T / n_x + 0.1 * np.eye(n_x))


def test_logdet_mi_matches_monte_carlo():
    """Plug-in Gaussian MI from the sample covariance of 10^6 draws of (T, X) and (T, Y); 4 standard errors
    (from 20 independent batches) plus the plug-in bias bound n_a n_b / n."""
    w, w_o, cov = _problem(0)
    noise_var, label_noise_var = 0.7, 0.5
    rng = np.random.default_rng(1)
    n, batches = 10 ** 6, 20
    x = rng.standard_normal((n, 5)) @ np.linalg.cholesky(cov).T
    t = x @ w.T + np.sqrt(noise_var) * rng.standard_normal((n, 3))
    y = x @ w_o.T + np.sqrt(label_noise_var) * rng.standard_normal((n, 2))
    for exact, joint, k in ((gaussian_channel_mi(w, cov, noise_var), np.hstack([t, x]), 3),
                            (gaussian_channel_mi_ty(w, w_o, cov, noise_var, label_noise_var), np.hstack([t, y]), 3)):
        full = gaussian_mi_from_cov(np.cov(joint.T), k)
        parts = np.array([gaussian_mi_from_cov(np.cov(b.T), k) for b in np.split(joint, batches)])
        se = parts.std(ddof=1) / np.sqrt(batches)       # SE of the batch mean ~ SE of the full-sample estimate
        bias = k * (joint.shape[1] - k) / n
        assert abs(full - exact) < 4 * se + bias, (full, exact, se)


def test_closed_forms_and_both_gram_routes():
    assert gaussian_channel_mi(np.eye(2), np.diag([3.0, 1.0]), 1.0) == pytest.approx(0.5 * np.log(8.0), rel=1e-14)
    # tiny signal: 1/2 log1p keeps full relative precision
    assert gaussian_channel_mi(np.array([[1e-9]]), np.eye(1), 1.0) == pytest.approx(0.5e-18, rel=1e-12)
    rng = np.random.default_rng(2)
    _, _, cov = _problem(3)
    for n_t in (2, 5, 9):                                  # n_t < n_x, =, > (Sylvester route)
        w = rng.standard_normal((n_t, 5))
        direct = 0.5 * np.linalg.slogdet(np.eye(n_t) + w @ cov @ w.T / 0.3)[1]
        assert gaussian_channel_mi(w, cov, 0.3) == pytest.approx(direct, rel=1e-11)


def test_batched_leading_axes():
    rng = np.random.default_rng(4)
    _, w_o, cov = _problem(5)
    w = rng.standard_normal((4, 3, 2, 5))
    noise = np.array([0.5, 1.0, 2.0])          # broadcasts against the (4, 3) batch axes
    got = gaussian_channel_mi(w, cov, noise)
    got_ty = gaussian_channel_mi_ty(w, w_o, cov, noise, 0.4)
    assert got.shape == got_ty.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            assert got[i, j] == pytest.approx(gaussian_channel_mi(w[i, j], cov, noise[j]), rel=1e-12)
            assert got_ty[i, j] == pytest.approx(gaussian_channel_mi_ty(w[i, j], w_o, cov, noise[j], 0.4),
                                                 rel=1e-12)


def test_i_ty_scalar_closed_form():
    """Scalar: T = wX + xi, Y = X + eps, X ~ N(0, 1): I = -1/2 ln(1 - rho^2), rho^2 = w^2/((w^2 + s)(1 + e))."""
    w, s, e = 1.7, 0.6, 0.3
    rho2 = w ** 2 / ((w ** 2 + s) * (1 + e))
    assert gaussian_channel_mi_ty([[w]], [[1.0]], [[1.0]], s, e) == pytest.approx(-0.5 * np.log1p(-rho2), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10 ** 6), n_t=st.integers(1, 6), n_y=st.integers(1, 3),
       noise_var=st.floats(1e-3, 1e3), label_noise_var=st.floats(1e-3, 1e3), scale=st.floats(1e-3, 1e2))
def test_bounds_hold(seed, n_t, n_y, noise_var, label_noise_var, scale):
    """0 <= I(T;Y) <= min(I(T;X), I(X;Y)) (Markov chain T - X - Y; I(X;Y) plays the role of H(Y))."""
    rng = np.random.default_rng(seed)
    n_x = 4
    a = rng.standard_normal((n_x, n_x))
    cov = a @ a.T / n_x
    w = scale * rng.standard_normal((n_t, n_x))
    w_o = rng.standard_normal((n_y, n_x))
    i_tx = gaussian_channel_mi(w, cov, noise_var)
    i_ty = gaussian_channel_mi_ty(w, w_o, cov, noise_var, label_noise_var)
    i_xy = gaussian_channel_mi(w_o, cov, label_noise_var)
    slack = 1e-9 * (1 + i_tx + i_xy)
    assert i_tx >= 0 and i_ty >= 0
    assert i_ty <= i_tx + slack
    assert i_ty <= i_xy + slack


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10 ** 6), k=st.integers(1, 5))
def test_subspace_definitions_chain_rule(seed, k):
    """Independent blocks: I(T;X) = marginal(S) + submap(rest), and marginal(S) <= submap(S)."""
    rng = np.random.default_rng(seed)
    n_x = 6
    cov = np.diag(rng.uniform(0.2, 2.0, n_x))
    w = rng.standard_normal((3, n_x))
    s_idx, r_idx = np.arange(k), np.arange(k, n_x)
    total = gaussian_channel_mi(w, cov, 0.5)
    marg = subspace_mi(w, cov, 0.5, s_idx, "marginal")
    sub = subspace_mi(w, cov, 0.5, s_idx, "submap")
    assert marg <= sub + 1e-12
    if r_idx.size:
        assert marg + subspace_mi(w, cov, 0.5, r_idx, "submap") == pytest.approx(total, rel=1e-10)
    else:
        assert marg == pytest.approx(total, rel=1e-12)


def test_subspace_marginal_against_joint_covariance():
    """Correlated inputs: marginal definition equals the MI of the joint Gaussian (T, X_S) computed directly."""
    w, _, cov = _problem(6, n_x=5, n_t=3)
    s_idx = np.array([1, 3])
    c_t = w @ cov @ w.T + 0.8 * np.eye(3)
    c_ts = w @ cov[:, s_idx]
    joint = np.block([[c_t, c_ts], [c_ts.T, cov[np.ix_(s_idx, s_idx)]]])
    assert subspace_mi(w, cov, 0.8, s_idx) == pytest.approx(gaussian_mi_from_cov(joint, 3), rel=1e-10)
    mask = np.zeros(5, bool)
    mask[s_idx] = True
    assert subspace_mi(w, cov, 0.8, mask, "submap") == pytest.approx(
        gaussian_channel_mi(w[:, s_idx], cov[np.ix_(s_idx, s_idx)], 0.8), rel=1e-12)


def test_bad_input_names_the_argument():
    w, w_o, cov = _problem(7)
    with pytest.raises(ValueError, match="noise_var"):
        gaussian_channel_mi(w, cov, 0.0)
    with pytest.raises(ValueError, match="noise_var"):
        gaussian_channel_mi(w, cov, -1.0)
    with pytest.raises(ValueError, match="cov_x"):
        gaussian_channel_mi(w, np.eye(4), 1.0)
    with pytest.raises(ValueError, match="cov_x"):
        gaussian_channel_mi(w, -np.eye(5), 1.0)
    with pytest.raises(ValueError, match="cov_x"):
        gaussian_channel_mi(w, np.triu(np.ones((5, 5))), 1.0)
    with pytest.raises(ValueError, match="W"):
        gaussian_channel_mi(np.ones(5), cov, 1.0)
    with pytest.raises(ValueError, match="W_o"):
        gaussian_channel_mi_ty(w, np.ones((2, 4)), cov, 1.0, 1.0)
    with pytest.raises(ValueError, match="label_noise_var"):
        gaussian_channel_mi_ty(w, w_o, cov, 1.0, -0.1)
    with pytest.raises(ValueError, match="definition"):
        subspace_mi(w, cov, 1.0, [0], "other")
    with pytest.raises(ValueError, match="subset"):
        subspace_mi(w, cov, 1.0, [7])
