"""Estimators at numerical edges: the measured failures of the robustness review, each reproduced.

Every case here failed before its fix (integer overflow in symbol keys, Gram cancellation, non-finite results
from finite input, silently accepted complex / boolean / string input) and names its exact value or the argument
that must be named by the error.
"""
import re
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from sims import estimators
from sims.estimators import BoundWarning

Y2 = np.arange(64) % 2


# ---------------------------------------------------------------- 1. integer overflow in symbol keys
def test_binned_tiny_width_separates_every_sample():
    """floor(h / 1e-20) reaches 1e20 > int64: each of 5000 distinct values is its own bin, I(X;T) = ln 5000."""
    x = np.linspace(0, 1, 5000)[:, None]
    i_xt, i_ty = estimators.binned(x, np.arange(5000) % 2, width=1e-20)
    assert i_xt == pytest.approx(np.log(5000), abs=1e-12)
    assert i_ty == pytest.approx(np.log(2), abs=1e-12)


def test_binned_huge_values_do_not_wrap():
    i_xt, _ = estimators.binned([[1e300], [-1e300], [0.0], [1.0]], [0, 1, 0, 1], width=0.5)
    assert i_xt == pytest.approx(np.log(4), abs=1e-12)


def test_binned_overflowing_quotient_keeps_distinct_values_apart():
    """h / width overflows to inf for h = +-1e300, width = 1e-20: the two huge values stay in distinct bins."""
    h = np.array([[1e300], [1.5e300], [-1e300], [-1.5e300], [0.0], [1e-20]])
    i_xt, _ = estimators.binned(h, np.zeros(6, int), width=1e-20)
    assert i_xt == pytest.approx(np.log(6), abs=1e-12)


def test_quantized_52_bits_radix_does_not_overflow_after_ranking():
    """8192 distinct levels in unit 0 and one level in unit 1: key = rank * 2**52 overflowed int64 (ln 4096)."""
    act = np.column_stack([np.linspace(0, 1, 8192), np.zeros(8192)])
    i_xt, _ = estimators.quantized(act, np.arange(8192) % 2, bits=52, value_range=(0, 1))
    assert i_xt == pytest.approx(np.log(8192), abs=1e-12)
    assert i_xt == pytest.approx(9.011, abs=1e-3)


def test_row_keys_many_wide_units():
    """20 units with codes up to 2**60: tuples equal iff keys equal, keys below their stated bound."""
    from sims.estimators._common import row_keys
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2 ** 60, size=(50, 20))
    codes = base[rng.integers(0, 50, size=(2, 400))]          # (2, 400, 20), <= 50 distinct tuples
    keys, bound = row_keys(codes)
    assert keys.min() >= 0 and keys.max() < bound <= 2 ** 62
    for b in range(2):
        _, inv = np.unique(codes[b], axis=0, return_inverse=True)
        pairs = np.unique(np.column_stack([inv.ravel(), keys[b]]), axis=0)
        assert len(pairs) == np.unique(inv).size == np.unique(keys[b]).size      # a bijection tuple <-> key


# ---------------------------------------------------------------- fast equal-width binning == digitize path
def _edge_hitting_values(e, rng, n=20_000):
    """Random values plus every edge, its float neighbours, and values a few ulps and 1e-9 bins around it."""
    step = e[1] - e[0]
    near = np.concatenate([e, np.nextafter(e, np.inf), np.nextafter(e, -np.inf), e + 1e-9 * step, e - 1e-9 * step,
                           e + 4e-16 * np.abs(e), e - 4e-16 * np.abs(e)])
    wide = rng.uniform(e[0] - 3 * step, e[-1] + 3 * step, n)
    return np.concatenate([near, wide, [e[0] - 1e300, e[-1] + 1e300, -0.0, 0.0]])


@pytest.mark.parametrize("seed", range(30))
def test_arithmetic_binning_identical_to_digitize(seed):
    from analytic.binning import bin_index, tishby_edges
    from sims.estimators.binned import edge_codes
    rng = np.random.default_rng(seed)
    if seed == 0:
        e = tishby_edges(30)                                  # Tishby's [-1, 1], 30 edges
    elif seed == 1:
        e = tishby_edges(31)
    else:
        lo = rng.normal() * 10 ** rng.uniform(-3, 3)
        e = np.linspace(lo, lo + 10 ** rng.uniform(-3, 3), int(rng.integers(3, 200)))
    v = _edge_hitting_values(e, rng)
    assert np.array_equal(edge_codes(v, e), bin_index(v, e))
    assert np.array_equal(edge_codes(v.reshape(-1, 1, 1), e)[:, 0, 0], bin_index(v, e))


def test_binned_nbins_and_tishby_equal_the_edge_based_reference():
    """The estimator's numbers on edge-hitting activity are those of np.digitize codes + np.unique rows."""
    from analytic.binning import bin_index, equal_edges, tishby_edges
    rng = np.random.default_rng(3)
    e = tishby_edges()
    act = rng.choice(_edge_hitting_values(e, rng, 200), size=(3, 500, 3))
    y = rng.integers(0, 3, size=500)

    def ref(codes):
        def H(c):
            _, n = np.unique(c, axis=0, return_counts=True)
            return -np.sum(n / n.sum() * np.log(n / n.sum()))
        h = H(codes)
        return h, h - sum(np.mean(y == c) * H(codes[y == c]) for c in np.unique(y))
    got = estimators.binned(act, y, edges=e)
    for b in range(3):
        assert (got[0][b], got[1][b]) == pytest.approx(ref(bin_index(act[b], e)), abs=1e-12)
    got = estimators.binned(act, y, n_bins=17, value_range=(-0.5, 0.75))
    e2 = equal_edges(-0.5, 0.75, 17)
    for b in range(3):
        assert (got[0][b], got[1][b]) == pytest.approx(ref(bin_index(act[b], e2)), abs=1e-12)


@pytest.mark.parametrize("kind", ["normal", "rounded", "saturated", "ulp-apart", "zeros-and-tiny"])
def test_adaptive_ranks_identical_to_unique_searchsorted(kind):
    """Packed-key sort ranks == rank among np.unique values, incl. ties, -0.0/0.0 and values 1 ulp apart."""
    from sims.estimators.adaptive import adaptive_codes
    rng = np.random.default_rng(len(kind))
    B, S, U = 3, 700, 4
    if kind == "normal":
        x = rng.normal(size=(B, S, U))
    elif kind == "rounded":
        x = np.round(rng.normal(size=(B, S, U)), 1)
    elif kind == "saturated":
        x = np.tanh(40 * rng.normal(size=(B, S, U)))
    elif kind == "ulp-apart":
        x = 1 + rng.integers(-3, 3, size=(B, S, U)) * np.finfo(float).eps
    else:
        x = rng.choice([0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e300, -1e300], size=(B, S, U))
    for nb in (2, 7, 30):
        codes = adaptive_codes(x, nb)
        for b in range(B):
            u = np.unique(x[b])
            assert np.array_equal(codes[b], np.searchsorted(u, x[b]) * nb // u.size)


# ---------------------------------------------------------------- 2. cancellation in Gram-based distances
def brute_kde(h, y, var, kappa):
    d2 = ((h[:, None] - h[None]) ** 2).sum(-1)
    a = -d2 / (kappa * var)
    full = -np.mean(logsumexp(a, axis=1) - np.log(len(h)))
    cond = 0.0
    for c in np.unique(y):
        m = y == c
        cond += m.mean() * -np.mean(logsumexp(a[np.ix_(m, m)], axis=1) - np.log(m.sum()))
    return full, full - cond


def clustered_near_1e6(seed):
    """Close pairs (spacing 1e-5..1e-3) inside a large spread (up to 1e3), offset 1e6: Gram loses ~all digits."""
    r = np.random.default_rng(seed)
    n, d = int(r.integers(5, 60)), int(r.integers(1, 4))
    centres = r.normal(size=(3, d)) * 10 ** r.uniform(-2, 3)
    h = 1e6 + centres[r.integers(0, 3, n)] + r.normal(size=(n, d)) * 10 ** r.uniform(-8, -3)
    return h, np.arange(n) % 2, 10 ** r.uniform(-14, -6)


def test_goldfeld_offset_activity_stays_below_ln_samples():
    """Was 4.234 > ln 64 = 4.159 (Gram cancellation). The RAW estimate must be in range: no clipping warning."""
    act = np.random.default_rng(1).normal(size=(64, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        i_xt, _ = estimators.goldfeld(act * 1e4 + 1e6, Y2, noise_std=1e-4, seed=0)
    assert i_xt == pytest.approx(np.log(64), abs=1e-9)          # 64 points 1e4 apart, noise 1e-4: separated


@pytest.mark.parametrize("seed", range(13))
def test_goldfeld_raw_estimate_never_above_ln_samples(seed):
    """Random offset / scale / noise: each Monte Carlo term is <= ln S exactly (own component exp(0))."""
    r = np.random.default_rng(100 + seed)
    act = 10 ** r.uniform(-3, 6) * r.normal(size=(2, 40, 3)) + r.choice([0.0, 1e6, -1e8])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        estimators.goldfeld(act, np.arange(40) % 2, noise_std=10 ** r.uniform(-6, 1), seed=seed)
    assert not [w for w in rec if issubclass(w.category, BoundWarning) and "above" in str(w.message)]


def test_goldfeld_offset_matches_centred():
    """Distances are translation invariant: activity + 1e6 gives the same estimate as the activity (same draws)."""
    act = np.random.default_rng(2).normal(size=(64, 3)) * 1e-3
    a = estimators.goldfeld(act, Y2, noise_std=1e-3, seed=5)
    b = estimators.goldfeld(act + 1e6, Y2, noise_std=1e-3, seed=5)
    assert a == pytest.approx(b, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("seed", range(12))
def test_kde_near_1e6_matches_direct_pairwise_formula(seed):
    h, y, var = clustered_near_1e6(seed)
    lo_xt, lo_ty, up_xt, up_ty = estimators.kde_bounds(h, y, var)
    ref_up, ref_lo = brute_kde(h, y, var, 2.0), brute_kde(h, y, var, 8.0)
    assert (up_xt, up_ty) == pytest.approx(ref_up, abs=1e-9)
    assert (lo_xt, lo_ty) == pytest.approx(ref_lo, abs=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_kde_upper_never_increases_with_noise(seed):
    h, y, var = clustered_near_1e6(seed)
    ups = [estimators.kde(h, y, v)[0] for v in var * np.array([1.0, 1.3, 2.0, 10.0])]
    assert all(b <= a for a, b in zip(ups, ups[1:])), ups


# ---------------------------------------------------------------- 4. k-NN estimators and the bound policy
def test_kozachenko_leonenko_is_clipped_to_ln_samples_with_a_warning():
    """77 samples, 10 units spread 100, tiny noise: the raw KL estimate is ~277 nats > ln 77."""
    act = np.random.default_rng(0).normal(size=(77, 10)) * 100
    with warnings.catch_warnings(record=True) as rec:      # I(X;T) clipped to ln S (and I(T;Y) to 0)
        warnings.simplefilter("always")
        i_xt, i_ty = estimators.kozachenko_leonenko(act, np.arange(77) % 2, noise_var=1e-20)
    msgs = [str(w.message) for w in rec if issubclass(w.category, BoundWarning)]
    assert any(re.search(r"ln\(samples\)|ln S", m) for m in msgs), msgs
    assert i_xt == pytest.approx(np.log(77), abs=1e-12)
    assert 0 <= i_ty <= np.log(2) + 1e-15


def test_bound_warning_names_bound_and_raw_value():
    act = np.random.default_rng(0).normal(size=(77, 10)) * 100
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        estimators.kozachenko_leonenko(act, np.arange(77) % 2, noise_var=1e-20)
    msgs = [str(w.message) for w in rec if issubclass(w.category, BoundWarning)]
    assert msgs and any("raw" in m and "4.34" in m for m in msgs), msgs
    assert issubclass(BoundWarning, RuntimeWarning)


def test_kraskov_is_a_deprecated_alias():
    act = np.random.default_rng(1).normal(size=(200, 2))
    y = np.arange(200) % 2
    with pytest.warns(DeprecationWarning, match="kozachenko_leonenko"):
        old = estimators.kraskov(act, y, noise_var=0.1, seed=3)
    new = estimators.kozachenko_leonenko(act, y, noise_var=0.1, seed=3)
    assert old == new
    with pytest.warns(DeprecationWarning):
        estimators.ESTIMATORS["kraskov"](act, y, noise_var=0.1, seed=3)


@pytest.mark.parametrize("rho,sd", [(0.0, 0.011), (0.5, 0.024), (0.9, 0.031)])
def test_ksg_correlated_gaussians(rho, sd):
    """KSG (algorithm 1, k = 3) on n = 2000 pairs vs -1/2 ln(1 - rho^2). Tolerance 4 standard deviations of the
    estimator at this n (sd measured over 30 repeats: 0.011, 0.024, 0.031 nats) plus 0.01 nats for its bias
    (measured 0.001-0.011; small for Gaussians, growing with rho, as Kraskov et al. 2004 report)."""
    rng = np.random.default_rng(int(10 * rho))
    n = 2000
    x = rng.normal(size=(n, 1))
    z = rho * x + np.sqrt(1 - rho ** 2) * rng.normal(size=(n, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)         # rho = 0: a negative raw value is clipped to 0
        est = estimators.ksg_mi(x, z, k=3)
    assert est == pytest.approx(-0.5 * np.log(1 - rho ** 2), abs=4 * sd + 0.01)


def test_ksg_mean_over_repeats_is_unbiased_to_its_stderr():
    """20 repeats at rho = 0.6, n = 1000: the mean is within 4 standard errors + 0.01 (known bias) of exact."""
    rng = np.random.default_rng(11)
    rho, n = 0.6, 1000
    vals = []
    for _ in range(20):
        x = rng.normal(size=(n, 1))
        z = rho * x + np.sqrt(1 - rho ** 2) * rng.normal(size=(n, 1))
        vals.append(estimators.ksg_mi(x, z, k=3))
    exact = -0.5 * np.log(1 - rho ** 2)
    se = np.std(vals, ddof=1) / np.sqrt(len(vals))
    assert abs(np.mean(vals) - exact) <= 4 * se + 0.01


def test_ksg_estimator_on_noisy_layer():
    """T = w X + N(0, var): I(X;T) = 1/2 ln(1 + w^2 / var) from the inputs and the noisy activity."""
    rng = np.random.default_rng(4)
    n, w, var = 3000, 2.0, 0.5
    x = rng.normal(size=(n, 1))
    i_xt, i_ty = estimators.ksg(w * x, (x[:, 0] > 0).astype(int), inputs=x, k=3, noise_var=var, seed=1)
    assert i_xt == pytest.approx(0.5 * np.log(1 + w ** 2 / var), abs=0.06)
    assert 0 < i_ty <= np.log(2)


# ---------------------------------------------------------------- 6. finite input -> finite output or ValueError
HUGE = np.random.default_rng(3).normal(size=(10, 2)) * 1e300
Y10 = np.arange(10) % 2


@pytest.mark.parametrize("call", [
    lambda: estimators.kde(HUGE, Y10, 0.1),
    lambda: estimators.kde(HUGE, Y10, 0.1, bound="lower"),
    lambda: estimators.kde_bounds(HUGE, Y10, 0.1),
    lambda: estimators.goldfeld(HUGE, Y10, 0.1, seed=0),
    lambda: estimators.kozachenko_leonenko(HUGE, Y10, noise_var=0.1),
    lambda: estimators.ksg(HUGE, Y10, inputs=HUGE[:, :1], k=2),
])
def test_huge_activity_gives_finite_results(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)
        out = call()
    assert np.all(np.isfinite(out))


def test_huge_activity_is_well_separated():
    """Ten points spread 1e300 with noise variance 0.1 are fully separated: I(X;T) = ln 10 for KDE and Goldfeld."""
    up, _ = estimators.kde(HUGE, Y10, 0.1)
    g, _ = estimators.goldfeld(HUGE, Y10, 0.1, seed=0)
    assert up == pytest.approx(np.log(10), abs=1e-12) and g == pytest.approx(np.log(10), abs=1e-12)


def test_tiny_noise_std_is_scale_aware():
    """noise_std = 1e-300 (ZeroDivisionError before): distinct centres are separated, I(X;T) = ln 10."""
    act = np.random.default_rng(5).normal(size=(10, 2))
    i_xt, _ = estimators.goldfeld(act, Y10, noise_std=1e-300, seed=0)
    assert i_xt == pytest.approx(np.log(10), abs=1e-12)
    up, _ = estimators.kde(act, Y10, noise_var=1e-300)
    assert up == pytest.approx(np.log(10), abs=1e-12)


H_MERGED = -(2 * 0.25 * np.log(0.25) + 0.5 * np.log(0.5))      # H(1/4, 1/4, 1/2)


@pytest.mark.parametrize("noise_std,noise_var,expected", [(1e-300, 1e-300, np.log(4)), (5e-324, 5e-324, np.log(4)),
                                                          (1e300, 1e300, H_MERGED)])
def test_extreme_dynamic_range(noise_std, noise_var, expected):
    """Points at -+1.7e308 and at 0 and 1: with noise 1e-300 all four are separated (ln 4); with noise 1e300 only
    the two huge ones are, 0 and 1 merge (H(1/4, 1/4, 1/2)). KDE bounds and Goldfeld agree; nothing overflows."""
    a = np.array([[-1.7e308], [1.7e308], [0.0], [1.0]])
    y = [0, 1, 0, 1]
    lo_xt, _, up_xt, _ = estimators.kde_bounds(a, y, noise_var)
    g, _ = estimators.goldfeld(a, y, noise_std, seed=0)
    assert lo_xt == pytest.approx(expected, abs=1e-12) and up_xt == pytest.approx(expected, abs=1e-12)
    assert g == pytest.approx(expected, abs=1e-12)
    for call in (lambda: estimators.binned(a, y, n_bins=10), lambda: estimators.quantized(a, y, bits=8)):
        assert call()[0] == pytest.approx(H_MERGED, abs=1e-12)


# ---------------------------------------------------------------- 7. unvalidated input
ACT = np.random.default_rng(6).normal(size=(10, 2))


@pytest.mark.parametrize("call", [
    lambda: estimators.binned(ACT * (1 + 1j), Y10),
    lambda: estimators.adaptive(ACT * (1 + 1j), Y10),
    lambda: estimators.quantized(ACT * (1 + 1j), Y10),
    lambda: estimators.kde(ACT * (1 + 1j), Y10, 0.1),
    lambda: estimators.kde_bounds(ACT * (1 + 1j), Y10, 0.1),
    lambda: estimators.goldfeld(ACT * (1 + 1j), Y10, 0.1),
    lambda: estimators.kozachenko_leonenko(ACT * (1 + 1j), Y10),
    lambda: estimators.ksg(ACT * (1 + 1j), Y10, inputs=ACT, k=2),
    lambda: estimators.ksg_mi(ACT * (1 + 1j), ACT, k=2),
])
def test_complex_activity_rejected(call):
    with pytest.raises(TypeError, match="activity|x|complex"):
        call()


@pytest.mark.parametrize("call,name", [
    (lambda: estimators.binned(ACT, Y10, width=True), "width"),
    (lambda: estimators.binned(ACT, Y10, n_bins=True), "n_bins"),
    (lambda: estimators.kde(ACT, Y10, noise_var="0.1"), "noise_var"),
    (lambda: estimators.kde(ACT, Y10, noise_var=0.1 + 0j), "noise_var"),
    (lambda: estimators.goldfeld(ACT, Y10, noise_std=True), "noise_std"),
    (lambda: estimators.kozachenko_leonenko(ACT, Y10, noise_var="1"), "noise_var"),
    (lambda: estimators.binned(ACT > 0, Y10), "activity"),
    (lambda: estimators.kde(ACT.astype(str), Y10, 0.1), "activity"),
])
def test_bool_and_string_numbers_rejected(call, name):
    with pytest.raises(TypeError, match=name):
        call()


@pytest.mark.parametrize("call,name", [
    (lambda: estimators.goldfeld(ACT, Y10, noise_std=[0.1, 0.1, 0.1]), "noise_std"),
    (lambda: estimators.goldfeld(ACT, Y10, noise_std=float("nan")), "noise_std"),
    (lambda: estimators.kde(ACT, Y10, noise_var=float("nan")), "noise_var"),
    (lambda: estimators.kde(ACT, Y10, noise_var=float("inf")), "noise_var"),
    (lambda: estimators.binned(ACT, Y10, width=float("nan")), "width"),
    (lambda: estimators.kde(np.where(ACT > 0, np.nan, ACT), Y10, 0.1), "activity"),
    (lambda: estimators.adaptive(np.where(ACT > 0, np.nan, ACT), Y10), "activity"),
    (lambda: estimators.kozachenko_leonenko(np.where(ACT > 0, np.inf, ACT), Y10), "activity"),
    (lambda: estimators.binned(ACT, np.array([1, "a", None, 2.0, 1, 1, 1, 1, 1, 1], dtype=object)), "labels"),
    (lambda: estimators.kde(ACT, np.array([0.0, np.nan] * 5), 0.1), "labels"),
])
def test_bad_values_rejected_naming_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_object_array_of_numbers_accepted_as_labels():
    y = np.array([0, 1] * 5, dtype=object)
    assert estimators.binned(ACT, y) == estimators.binned(ACT, Y10)


# ---------------------------------------------------------------- 12. BLAS threads pinned in the hot paths
def test_threads_do_not_change_results():
    h = np.random.default_rng(7).normal(size=(3, 300, 5))
    y = np.arange(300) % 3
    one = estimators.kde_bounds(h, y, 0.1)
    two = estimators.kde_bounds(h, y, 0.1, threads=2)
    default = estimators.kde_bounds(h, y, 0.1, threads=None)
    for a, b, c in zip(one, two, default):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-14)
    g1 = estimators.goldfeld(h, y, 0.3, seed=1)
    g2 = estimators.goldfeld(h, y, 0.3, seed=1, threads=2)
    np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-14)


def test_blas_is_pinned_to_one_thread_inside_kde():
    from threadpoolctl import threadpool_info

    from sims.estimators import _common
    seen = []
    orig = _common.blas_threads

    def spy(threads):
        cm = orig(threads)

        class Wrap:
            def __enter__(self):
                r = cm.__enter__()
                seen.append([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"])
                return r

            def __exit__(self, *exc):
                return cm.__exit__(*exc)
        return Wrap()
    _common.blas_threads, saved = spy, _common.blas_threads
    try:
        estimators.kde(ACT, Y10, 0.1)
    finally:
        _common.blas_threads = saved
    assert seen and all(n == 1 for s in seen for n in s)
