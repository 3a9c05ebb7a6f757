"""Estimators against exact values and independent reference routes."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp, xlogy

from analytic.binning import binned_entropy_gaussian, bin_index, equal_edges, tishby_edges
from analytic.gaussian_mixture import mixture_mi
from analytic.pairwise_bounds import pairwise_mi_bounds
from sims import estimators
from sims.estimators._common import discrete_mi

POINTS = np.array([-3.0, -1.0, 1.0, 3.0])


def ref_entropy_rows(codes):
    """Reference: np.unique(axis=0) on the rows of one (S, U) code matrix."""
    _, counts = np.unique(codes, axis=0, return_counts=True)
    p = counts / counts.sum()
    return -np.sum(p * np.log(p))


def ref_discrete(codes, y):
    h_t = ref_entropy_rows(codes)
    h_cond = sum(np.mean(y == c) * ref_entropy_rows(codes[y == c]) for c in np.unique(y))
    return h_t, h_t - h_cond


# ---------------------------------------------------------------- discrete machinery / binning
@pytest.mark.parametrize("U,nbins", [(1, 5), (3, 30), (12, 2), (20, 100)])  # (20, 100): dense-rank path
def test_discrete_mi_matches_unique_rows(U, nbins):
    rng = np.random.default_rng(U)
    codes = rng.integers(0, nbins, size=(3, 500, U))
    codes[:, 250:] = codes[:, :250]            # force repeated symbols
    y = rng.integers(0, 3, size=500)
    h, ity = discrete_mi(codes, y)
    for b in range(3):
        rh, rity = ref_discrete(codes[b], y)
        assert h[b] == pytest.approx(rh, abs=1e-12) and ity[b] == pytest.approx(rity, abs=1e-12)


def test_binned_leading_axes_kept_and_equal_per_item():
    act = np.tanh(np.random.default_rng(0).normal(size=(2, 3, 300, 4)))
    y = np.arange(300) % 2
    i_xt, i_ty = estimators.binned(act, y, edges=tishby_edges())
    assert i_xt.shape == i_ty.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        r = ref_discrete(bin_index(act[idx], tishby_edges()), y)
        assert (i_xt[idx], i_ty[idx]) == pytest.approx(r, abs=1e-12)


@pytest.mark.parametrize("activation,w,edges", [
    ("tanh", 0.87, tishby_edges()), ("tanh", 4.0, tishby_edges()), ("relu", 2.0, equal_edges(0.0, 8.0, 100)),
])
def test_binned_on_scalar_model_equals_exact_binned_mi(activation, w, edges):
    """Plug-in H of n samples vs exact H(T): difference within 4 SE plus the Miller-Madow bias (K-1)/(2n)."""
    from analytic.activations import get_activation
    n = 200_000
    x = np.random.default_rng(1).normal(size=(n, 1))
    act = get_activation(activation).value(w * x)
    i_xt, _ = estimators.binned(act, np.zeros(n, int), edges=edges)
    exact = binned_entropy_gaussian(activation, w, edges)
    p = np.bincount(bin_index(act[:, 0], edges), minlength=edges.size - 1) / n
    se = np.sqrt((np.sum(xlogy(p, p) * np.log(np.where(p > 0, p, 1))) - np.sum(xlogy(p, p)) ** 2) / n)
    bias = (np.count_nonzero(p) - 1) / (2 * n)
    assert abs(i_xt - exact) <= 4 * se + bias


def test_binned_width_and_minmax_conventions():
    act = np.random.default_rng(2).normal(size=(2, 400, 2)) * 3
    y = np.arange(400) % 2
    a = estimators.binned(act, y, width=0.5)
    b = ref_discrete(np.floor(act[1] / 0.5).astype(int), y)
    assert (a[0][1], a[1][1]) == pytest.approx(b, abs=1e-12)
    mm = estimators.binned(act, y, n_bins=100)               # min-max over the WHOLE array (both items)
    edges = np.linspace(act.min(), act.max(), 101)
    for i in range(2):
        assert (mm[0][i], mm[1][i]) == pytest.approx(ref_discrete(bin_index(act[i], edges), y), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(2, 300), U=st.integers(1, 6), scale=st.floats(0.01, 30.0),
       n_classes=st.integers(1, 4))
def test_binned_within_bounds(seed, S, U, scale, n_classes):
    rng = np.random.default_rng(seed)
    act = np.tanh(scale * rng.normal(size=(2, S, U)))
    y = rng.integers(0, n_classes, size=S)
    p = np.bincount(y) / S
    h_y = -np.sum(xlogy(p, p))
    for est in (estimators.binned(act, y), estimators.adaptive(act, y, n_bins=8),
                estimators.quantized(act, y, bits=3, value_range=(-1, 1))):
        i_xt, i_ty = est
        assert np.all(i_xt <= np.log(S) + 1e-12) and np.all(i_xt >= -1e-12)
        assert np.all(i_ty <= h_y + 1e-12) and np.all(i_ty >= -1e-12) and np.all(i_ty <= i_xt + 1e-12)
    for bound in ("upper", "lower"):                      # KDE: I(X;T) <= ln S and I(T;Y) <= H(Y) too
        i_xt, i_ty = estimators.kde(act, y, noise_var=scale / 100, bound=bound)
        assert np.all(i_xt <= np.log(S) + 1e-12) and np.all(i_xt >= -1e-12) and np.all(i_ty <= h_y + 1e-12)


# ---------------------------------------------------------------- adaptive, quantized
def test_adaptive_bins_are_quantiles_of_distinct_values():
    rng = np.random.default_rng(3)
    act = np.round(rng.normal(size=(3, 200, 3)), 2)            # many repeated values
    y = np.arange(200) % 2
    nb = 7
    i_xt, i_ty = estimators.adaptive(act, y, n_bins=nb)
    for b in range(3):
        u = np.unique(act[b])
        K = u.size
        edges = u[np.ceil(np.arange(1, nb) * K / nb).astype(int)]   # first distinct value of bins 1..nb-1
        codes = np.digitize(act[b], edges)
        assert (i_xt[b], i_ty[b]) == pytest.approx(ref_discrete(codes, y), abs=1e-12)


def test_quantized_is_exact_entropy_of_levels():
    rng = np.random.default_rng(4)
    act = np.tanh(rng.normal(size=(300, 3)))
    y = np.arange(300) % 3
    i_xt, i_ty = estimators.quantized(act, y, bits=4, value_range=(-1, 1))
    levels = np.rint((act + 1) / 2 * 15).astype(int)
    assert (i_xt, i_ty) == pytest.approx(ref_discrete(levels, y), abs=1e-12)
    i8, _ = estimators.quantized(act, y, bits=8)
    assert i8 == pytest.approx(np.log(300), abs=1e-12)          # 8 bits separate all 300 samples here


# ---------------------------------------------------------------- KDE
def test_kde_true_centres_bracket_exact_single_neuron():
    for w, b, s in [(0.5, 0.0, 0.1), (1.0, 0.5, 0.3), (3.0, -1.0, 0.05), (0.2, 0.0, 0.5)]:
        mu = np.tanh(w * POINTS + b)
        exact = mixture_mi(mu, noise_std=s)
        up, _ = estimators.kde(mu[:, None], np.array([0, 0, 0, 1]), noise_var=s ** 2)
        lo, _ = estimators.kde(mu[:, None], np.array([0, 0, 0, 1]), noise_var=s ** 2, bound="lower")
        assert lo - 1e-12 <= exact <= up + 1e-12


def brute_kde(h, y, var, kappa):
    d2 = ((h[:, None] - h[None]) ** 2).sum(-1)
    a = -d2 / (kappa * var)
    full = -np.mean(logsumexp(a, axis=1) - np.log(len(h)))
    cond = 0.0
    for c in np.unique(y):
        m = y == c
        cond += m.mean() * -np.mean(logsumexp(a[np.ix_(m, m)], axis=1) - np.log(m.sum()))
    return full, full - cond


def test_kde_matches_brute_force_reference():
    rng = np.random.default_rng(5)
    h = rng.normal(size=(2, 300, 5))
    y = rng.integers(0, 3, size=300)
    lo_xt, lo_ty, up_xt, up_ty = estimators.kde_bounds(h, y, noise_var=0.1, chunk_size=64)
    for b in range(2):
        assert (up_xt[b], up_ty[b]) == pytest.approx(brute_kde(h[b], y, 0.1, 2.0), rel=1e-11, abs=1e-12)
        assert (lo_xt[b], lo_ty[b]) == pytest.approx(brute_kde(h[b], y, 0.1, 8.0), rel=1e-11, abs=1e-12)
    np.testing.assert_allclose(up_xt, pairwise_mi_bounds(h, 0.1)[1], rtol=1e-12)


# ---------------------------------------------------------------- Goldfeld
def test_goldfeld_converges_to_exact_single_neuron():
    w, b, s = 0.5, 0.0, 0.1
    exact = mixture_mi(np.tanh(w * POINTS + b), noise_std=s)
    rng = np.random.default_rng(6)
    errs = []
    for n in (30, 300, 3000):
        reps = []
        for r in range(6):
            x = rng.choice(POINTS, size=n)
            reps.append(estimators.goldfeld(np.tanh(w * x + b)[:, None], (x == 3).astype(int), s, seed=r)[0])
        errs.append(np.sqrt(np.mean((np.array(reps) - exact) ** 2)))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.01


def test_goldfeld_conditional_of_deterministic_layer_is_zero_and_se_reported():
    rng = np.random.default_rng(7)
    h = rng.normal(size=(50, 2))
    y = np.arange(50) % 2
    plain = estimators.goldfeld(h, y, 0.2, seed=3)
    cond = np.repeat(h[:, None, :], 5, axis=1)                   # 5 identical "passes" per input
    with_c = estimators.goldfeld(h, y, 0.2, conditional=cond, seed=3, return_stderr=True)
    assert with_c[0] == pytest.approx(plain[0], abs=1e-12) and with_c[2] > 0


def test_mlp_conditional_repeated_passes():
    from sims import MLP
    net = MLP([3, 4, 2, 2], activation="tanh")
    params = net.init_params(ensemble=2, seed=0)
    x = np.random.default_rng(9).normal(size=(20, 3))
    y = np.arange(20) % 2
    first = estimators.mlp_conditional(net, params, x, layer=0, noise_std=0.1, reps=3)(np.random.default_rng(0))
    assert first.shape == (2, 20, 3, 4) and np.all(first == first[:, :, :1])      # deterministic given X
    second = estimators.mlp_conditional(net, params, x, layer=1, noise_std=0.1, reps=5)(np.random.default_rng(0))
    assert second.shape == (2, 20, 5, 2) and np.all(second.std(axis=2) > 0)        # noise of layer 0 propagates
    s0 = net.forward(params, x)[1]
    i_xt, i_ty = estimators.goldfeld(s0, y, 0.1, conditional=second, seed=1)
    plain = estimators.goldfeld(s0, y, 0.1, seed=1)[0]
    assert i_xt.shape == (2,) and np.all(i_xt < plain)     # the conditional entropy term lowers I(X;T)
    with pytest.raises(ValueError, match="layer"):
        estimators.mlp_conditional(net, params, x, layer=2, noise_std=0.1)


# ---------------------------------------------------------------- Kozachenko-Leonenko
def test_kl_entropy_of_gaussian_and_linear_channel_mi():
    rng = np.random.default_rng(8)
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    pts = rng.multivariate_normal([0, 0], cov, size=20_000)
    exact_h = 0.5 * np.log((2 * np.pi * np.e) ** 2 * np.linalg.det(cov))
    assert estimators.kl_entropy(pts, k=2) == pytest.approx(exact_h, abs=0.03)
    w, var = 2.0, 0.5
    x = rng.normal(size=(20_000, 1))
    i_xt, _ = estimators.kozachenko_leonenko(w * x, np.zeros(20_000, int), k=2, noise_var=var, seed=1)
    assert i_xt == pytest.approx(0.5 * np.log(1 + w ** 2 / var), abs=0.03)


# ---------------------------------------------------------------- bad input
GOOD = np.zeros((10, 2)) + np.arange(10)[:, None]
Y = np.arange(10) % 2


@pytest.mark.parametrize("call,name", [
    (lambda: estimators.kde(GOOD, Y, noise_var=0.0), "noise_var"),
    (lambda: estimators.kde(GOOD, Y, noise_var=-1.0, bound="lower"), "noise_var"),
    (lambda: estimators.kde(GOOD, Y, noise_var=1.0, bound="middle"), "bound"),
    (lambda: estimators.goldfeld(GOOD, Y, noise_std=0.0), "noise_std"),
    (lambda: estimators.goldfeld(GOOD, Y, noise_std=1.0, conditional=np.zeros((10, 3, 5))), "conditional"),
    (lambda: estimators.kozachenko_leonenko(GOOD, Y, k=0), "k"),
    (lambda: estimators.kozachenko_leonenko(GOOD, Y, k=5), "k"),
    (lambda: estimators.kozachenko_leonenko(GOOD, Y, k=2, noise_var=0.0), "noise_var"),
    (lambda: estimators.binned(GOOD, Y[:-1]), "labels"),
    (lambda: estimators.kde(GOOD, Y[:-1], noise_var=1.0), "labels"),
    (lambda: estimators.binned(np.where(GOOD > 5, np.nan, GOOD), Y), "activity"),
    (lambda: estimators.goldfeld(np.where(GOOD > 5, np.nan, GOOD), Y, noise_std=1.0), "activity"),
    (lambda: estimators.binned(GOOD, Y, width=0.0), "width"),
    (lambda: estimators.binned(GOOD, Y, edges=[0.0, 0.0, 1.0]), "edges"),
    (lambda: estimators.binned(GOOD, Y, edges=[0.0, 1.0], width=1.0), "edges"),
    (lambda: estimators.adaptive(GOOD, Y, n_bins=0), "n_bins"),
    (lambda: estimators.quantized(GOOD, Y, bits=0), "bits"),
    (lambda: estimators.quantized(GOOD, Y, value_range=(1.0, 0.0)), "value_range"),
    (lambda: estimators.binned(np.zeros(5), Y[:5]), "activity"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
