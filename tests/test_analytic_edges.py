"""Measured failures of the exact (analytic) routes at their numerical edges (issue 14, items 3, 5, 6, 7).

Each test reproduces a case that returned a wrong number (or NaN/inf, or was silently accepted) before its fix.
"""
import numpy as np
import pytest

from analytic import noisy_mi
from analytic.noisy_chain import GaussianInput, chain_information, layer_information

# ---------------------------------------------------------------------------------------------------------
# item 3: the two-layer chain's one-layer case vs noisy_mi (X ~ N(0, 0.25), noise_std 0.05)
# ---------------------------------------------------------------------------------------------------------

STEEP_W = [50.0, 100.0, 1000.0]


@pytest.mark.parametrize("w", STEEP_W)
def test_chain_first_layer_matches_noisy_mi_for_steep_tanh(w):
    """Was off by -1.06e-3 (w = 50) and -1.55e-3 nats (w = 100): the x-rule missed tanh's last approach to +-1."""
    ref = noisy_mi("tanh", w, 0.05, sd=0.5)
    r = chain_information(GaussianInput(0.0, 0.5), "tanh", w, 0.0, "tanh", 1.0, 0.0, noise_std=0.05)
    i, _ = layer_information(GaussianInput(0.0, 0.5), "tanh", w, 0.0, 0.05)
    assert abs(r.i_xt1 - ref) < 1e-8 and abs(i - ref) < 1e-8, (r.i_xt1 - ref, i - ref)


@pytest.mark.parametrize("f, w, b, s, sd", [
    ("hardtanh", 58.3, 0.51, 0.0299, 0.69),      # kinks at w x + b = +-1 were not breakpoints: -9.5e-5
    ("softsign", -257.0, -1.37, 0.0916, 0.28),   # slow (1/u) saturation: -2.0e-6
    ("sigmoid", -702.0, -0.35, 0.296, 0.83),     # trapezoid at grid = 1/2 with clusters a few s apart: 1.7e-7
])
def test_layer_information_matches_noisy_mi_at_other_edges(f, w, b, s, sd):
    i, _ = layer_information(GaussianInput(0.0, sd), f, w, b, s)
    assert abs(i - noisy_mi(f, w, s, mu=b / w, sd=sd)) < 1e-8


def test_coarse_chain_resolution_within_its_documented_accuracy():
    """panel = 2, nodes = 4, grid = 1 (documented 6e-5) was off by 1.3e-2 nats at w = 50."""
    for w in (20.0, 50.0, 100.0):
        r = chain_information(GaussianInput(0.0, 0.5), "tanh", w, 0.0, "tanh", 1.0, 0.0, noise_std=0.05,
                              panel=2.0, nodes=4, grid=1.0)
        assert abs(r.i_xt1 - noisy_mi("tanh", w, 0.05, sd=0.5)) < 6e-5


@pytest.mark.slow
@pytest.mark.parametrize("w", [50.0, 100.0])
def test_chain_first_layer_matches_mpmath_for_steep_tanh(w):
    """The same one-layer case against the mpmath route (20 digits, its own panels)."""
    ref = noisy_mi("tanh", w, 0.05, sd=0.5, precision="mp")
    i, _ = layer_information(GaussianInput(0.0, 0.5), "tanh", w, 0.0, 0.05)
    assert abs(i - ref) < 1e-8


# ---------------------------------------------------------------------------------------------------------
# item 5: the Monte Carlo mixture information and its standard error
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("delta", [2.0, 6.0, 8.3, 10.0, 12.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixture_mi_mc_exact_value_within_four_standard_errors(delta, seed):
    """Was 0.6931395 +- 4.4e-6 against the exact 0.6930988 at delta = 8.3 (9 SE), ~1000 SE at delta = 10:
    plain sampling missed the rare decision-boundary region and its sample variance with it."""
    from analytic import mixture_mi, mixture_mi_mc
    est, se = mixture_mi_mc(np.array([[0.0], [delta]]), 1.0, n_samples=10_000, seed=seed)
    exact = mixture_mi([0.0, delta], 1.0)
    assert se > 0 and abs(est - exact) < 4 * se, (est, exact, se, (est - exact) / se)


def test_mixture_mi_mc_unequal_weights_in_two_dimensions():
    """Product mixture (independent coordinates, far apart: delta up to 16): h adds up, so I does too."""
    from analytic import mixture_mi, mixture_mi_mc
    a, b = np.array([-8.0, 4.0]), np.array([0.0, 10.0])
    ca, cb = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    means = np.array([[x, y] for x in a for y in b])
    exact = mixture_mi(a, 1.0, ca) + mixture_mi(b, 1.0, cb)
    for seed in range(3):
        est, se = mixture_mi_mc(means, 1.0, np.outer(ca, cb).ravel(), n_samples=5000, seed=seed)
        assert abs(est - exact) < 4 * se


# ---------------------------------------------------------------------------------------------------------
# item 6: non-finite results from finite input
# ---------------------------------------------------------------------------------------------------------

def test_mixture_mi_at_the_float_limit():
    """mixture_mi([-1e308, 1e308], 0.1) was NaN (the difference of the means overflowed)."""
    from analytic import mixture_mi, mixture_mi_mc
    assert mixture_mi([-1e308, 1e308], 0.1) == pytest.approx(np.log(2), abs=1e-14)
    # means and noise both huge: delta = 2, the same as ([-1, 1], 1)
    assert mixture_mi([-1e308, 1e308], 1e308) == pytest.approx(mixture_mi([-1.0, 1.0], 1.0), abs=1e-14)
    assert mixture_mi([0.0, 1.0], 1e-300) == pytest.approx(np.log(2), abs=1e-14)
    est, se = mixture_mi_mc(np.array([[-1e308], [1e308]]), 0.1)
    assert est == pytest.approx(np.log(2), abs=1e-14) and se == 0.0


def test_noisy_mi_below_float_resolution_is_rejected_naming_noise_std():
    """noisy_mi('tanh', 1, 1e-300) returned inf; float64 cannot resolve tanh's output against such noise."""
    with pytest.raises(ValueError, match=r"noise_std must be >= 1e-09 times the output scale"):
        noisy_mi("tanh", 1.0, 1e-300)
    with pytest.raises(ValueError, match=r"^w: "):
        noisy_mi("relu", 1e305, 1.0, sd=1e10)


def test_noisy_mi_at_extreme_but_resolvable_scales():
    """Huge noise, tiny w, huge w: finite and right (computed in units of noise_std)."""
    from analytic import linear_noisy_mi
    from analytic.scalar_channel import noise_entropy
    assert noisy_mi("tanh", 1.0, 1e300) == 0.0                                   # was ArithmeticError (-inf)
    assert noisy_mi("tanh", 1e-20, 1e-25) == pytest.approx(linear_noisy_mi(1e-20, 1e-25), abs=1e-9)
    from analytic.scalar_channel import saturating_large_w_limit
    assert noisy_mi("tanh", 1e300, 0.1) == pytest.approx(saturating_large_w_limit("tanh", 0.1), abs=1e-12)
    assert linear_noisy_mi(1e200, 1.0) == pytest.approx(200 * np.log(10), abs=1e-12)   # was inf
    assert noise_entropy(1e300) == pytest.approx(0.5 * np.log(2 * np.pi * np.e) + 300 * np.log(10))


def test_gaussian_channel_mi_with_huge_weights_is_finite():
    """gaussian_channel_mi(ones((1, 2)) * 1e200, eye(2), 1) was inf; exactly 1/2 ln(1 + 2e400) = 460.86."""
    from analytic import gaussian_channel_mi
    assert gaussian_channel_mi(np.ones((1, 2)) * 1e200, np.eye(2), 1.0) == pytest.approx(
        0.5 * (np.log(2) + 400 * np.log(10)), rel=1e-14)
    assert gaussian_channel_mi(np.ones((1, 2)), np.eye(2), 1e-300) == pytest.approx(
        0.5 * (np.log(2) + 300 * np.log(10)), rel=1e-14)


# ---------------------------------------------------------------------------------------------------------
# item 7: unvalidated input (the shared layer analytic.checks and its users)
# ---------------------------------------------------------------------------------------------------------

def test_gaussian_entropy_rejects_bad_variance_and_dimension():
    """gaussian_entropy(-1) was NaN, (0) -inf, dim=-2 and dim=2.5 were accepted."""
    from analytic import gaussian_entropy
    for var in (-1.0, 0.0):
        with pytest.raises(ValueError, match=r"^var must be > 0"):
            gaussian_entropy(var)
    for dim in (-2, 0, 2.5):
        with pytest.raises(ValueError, match=r"^dim must be"):
            gaussian_entropy(1.0, dim=dim)
    with pytest.raises(TypeError, match=r"^dim must be an integer"):
        gaussian_entropy(1.0, dim=True)
    assert gaussian_entropy(np.e ** -1 / (2 * np.pi), dim=2.0) == pytest.approx(0.0, abs=1e-15)


def test_to_bits_rejects_nan_and_non_numbers():
    from analytic import to_bits, to_nats
    with pytest.raises(ValueError, match=r"^nats contains NaN"):
        to_bits(float("nan"))
    for bad in (1 + 0j, "1.0", True):
        with pytest.raises(TypeError, match=r"^nats must be"):
            to_bits(bad)
    with pytest.raises(TypeError, match=r"^bits must be"):
        to_nats(np.array([1.0 + 2j]))
    assert to_bits(np.inf) == np.inf
    np.testing.assert_array_equal(to_bits(np.array([np.log(2), np.nan])), [1.0, np.nan])   # missing values


HOSTILE_NUMBERS = [
    (True, TypeError, "boolean"), (np.bool_(False), TypeError, "boolean"), ("0.1", TypeError, "string"),
    (b"0.1", TypeError, "string"), (0.1 + 0j, TypeError, "complex"), (np.array([0.1 + 0.5j]), TypeError, "complex"),
    (np.nan, ValueError, "NaN|finite"), (np.inf, ValueError, "NaN|finite"), ([0.1, None], TypeError, "real numbers"),
    (object(), TypeError, "real numbers"),
]


@pytest.mark.parametrize("value, exc, words", HOSTILE_NUMBERS)
def test_shared_checks_reject_hostile_numbers_naming_the_argument(value, exc, words):
    """Complex lost its imaginary part, '0.1' and True were taken as numbers; now each check names the argument."""
    from analytic import checks
    for fn in (lambda v: checks.finite_array(v, "noise_var"), lambda v: checks.positive(v, "noise_var"),
               lambda v: checks.nonnegative(v, "noise_var"), lambda v: checks.real_scalar(v, "noise_var")):
        with pytest.raises(exc, match=rf"^noise_var .*({words})"):
            fn(value)


def test_shared_checks_keep_legitimate_input():
    from analytic import checks
    assert checks.finite_array(np.array([True, False]), "mask").tolist() == [1.0, 0.0]      # masks stay usable
    assert checks.positive(np.float32(0.5), "s") == 0.5 and checks.real_scalar(np.int64(3), "lr") == 3.0
    assert checks.positive_int(4.0, "n") == 4
    assert checks.labels_for(np.array([0, 1, 1]), 3).dtype.kind == "i"                       # integer labels pass
    with pytest.raises(TypeError, match="^labels must be real"):
        checks.labels_for(np.array([0j, 1j]), 2)
    with pytest.raises(TypeError, match="^mask must be real"):
        checks.finite_array(np.array([True]), "mask", allow_bool=False)
    # the error is a TypeError that is also a ValueError (callers catching the earlier ValueError still do)
    with pytest.raises(ValueError):
        checks.positive("0.1", "noise_var")


@pytest.mark.parametrize("call, name", [
    (lambda: __import__("analytic").noisy_mi("tanh", 1 + 1j, 0.1), "w"),
    (lambda: __import__("analytic").noisy_mi("tanh", 1.0, True), "noise_std"),
    (lambda: __import__("analytic").noisy_mi("tanh", 1.0, 0.1, mu="0"), "mu"),
    (lambda: __import__("analytic").mixture_mi([0.0, 1.0 + 1j], 0.1), "means"),
    (lambda: __import__("analytic").mixture_mi([0.0, 1.0], "0.1"), "noise_std"),
    (lambda: __import__("analytic").gaussian_channel_mi(np.eye(2) * (1 + 0j), np.eye(2), 1.0), "W"),
    (lambda: __import__("analytic").gaussian_channel_mi(np.eye(2), np.eye(2), True), "noise_var"),
    (lambda: __import__("analytic").linear_noisy_mi(1.0, "1"), "noise_std"),
    (lambda: __import__("analytic").binned_entropy_gaussian("tanh", 1.0, np.array([-1, 0, 1 + 0j])), "edges"),
    (lambda: __import__("analytic").binned_entropy_gaussian("tanh", 1.0, [-1.0, 1.0], mu=True), "mu"),
    (lambda: __import__("analytic").mixture_mi([True, False], 0.1), "means"),
    (lambda: __import__("analytic.noisy_chain").noisy_chain.GaussianInput(mean=True), "means"),
    (lambda: __import__("analytic.scalar_channel").scalar_channel.two_point_channel_mi(-1.0, "1", 0.5, 0.1), "b"),
    (lambda: __import__("analytic.scalar_channel").scalar_channel.saturating_large_w_limit("tanh", 0.1, mu=1j),
     "mu"),
])
def test_public_analytic_functions_reject_bad_types_naming_the_argument(call, name):
    with pytest.raises(TypeError, match=rf"^{name} "):
        call()


def test_pairwise_bounds_far_from_the_origin_match_direct_differences():
    """The Gram form |a|^2 + |b|^2 - 2 a.b cancels for two tight clusters far apart (the KDE failure of issue 14,
    item 2, in the analytic bounds): compare with direct pairwise differences."""
    from analytic import pairwise_mi_bounds
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)) * 1e-2 + 1e6 + np.repeat(rng.normal(size=(2, 3)) * 1e4, 32, axis=0)
    lo, up = pairwise_mi_bounds(x, 1e-6)
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    assert lo == pytest.approx(-np.mean(np.log(np.mean(np.exp(-d / 8e-6), 1))), abs=1e-9)
    assert up == pytest.approx(-np.mean(np.log(np.mean(np.exp(-d / 2e-6), 1))), abs=1e-9)


def test_pairwise_bounds_and_mixture_entropy_at_the_float_limit():
    """Means of +-1e308 overflowed (RuntimeWarning, NaN); noise from 1e-300 to 1e300 is scale-aware."""
    from analytic import mixture_entropy, mixture_entropy_bounds, pairwise_mi_bounds
    for var in (0.1, 1e300):
        lo, up = pairwise_mi_bounds(np.array([[-1e308], [1e308]]), var)
        assert lo == pytest.approx(np.log(2), abs=1e-14) and up == pytest.approx(np.log(2), abs=1e-14)
    # D / (8 var) = 1/8 with a subnormal variance (3 significant digits): was ln 2 (1 / (8 var) overflowed)
    lo, _ = pairwise_mi_bounds(np.array([[0.0], [1e-160]]), 1e-320)
    assert lo == pytest.approx(-np.log((1 + np.exp(-0.125)) / 2), rel=1e-3)
    lo, _ = pairwise_mi_bounds(np.array([[0.0], [1e-150]]), 1e-300)
    assert lo == pytest.approx(-np.log((1 + np.exp(-0.125)) / 2), rel=1e-12)
    h = 0.5 * np.log(2 * np.pi * np.e)
    assert mixture_entropy([0.0, 1.0], 1e300) == pytest.approx(h + 300 * np.log(10), rel=1e-14)
    assert mixture_entropy([0.0, 1.0], 1e-300) == pytest.approx(np.log(2) + h - 300 * np.log(10), rel=1e-14)
    lo, up = mixture_entropy_bounds(np.array([[0.0], [1.0]]), 1e-310)
    assert np.isfinite(lo) and lo == up


def test_gaussian_channel_ty_scale_aware():
    """I(T;Y) through the covariance route overflowed at W = 1e200 (RuntimeWarning, inf) and lost the T-Y
    correlation to cancellation at Sigma_x = 1e300 I (36.4 instead of ln(0.5e300) = 690.08 nats)."""
    from analytic.gaussian_channel import gaussian_channel_mi_ty
    e = np.eye(2)
    assert gaussian_channel_mi_ty(e * 1e200, e, e, 1.0, 1.0) == pytest.approx(np.log(2), abs=1e-12)
    assert gaussian_channel_mi_ty(e, e, e * 1e300, 1.0, 1.0) == pytest.approx(np.log(0.5e300), rel=1e-13)
    assert gaussian_channel_mi_ty(e, e, e, 1e-300, 1.0) == pytest.approx(np.log(2), abs=1e-12)


# every public analytic function, every numeric argument: a boolean, a string, a complex number, NaN and a
# negative value (where the argument must be positive) are refused with an error that starts with its name
def _public_calls():
    import analytic as A
    from analytic import binning, gaussian_channel as gc, noisy_chain as nc, scalar_channel as sc
    e2 = np.eye(2)
    return {
        "noisy_mi": (A.noisy_mi, dict(activation="tanh", w=1.0, noise_std=0.1, mu=0.0, sd=1.0)),
        "linear_noisy_mi": (A.linear_noisy_mi, dict(w=1.0, noise_std=0.1, sd=1.0)),
        "mixture_mi": (A.mixture_mi, dict(means=[0.0, 1.0], noise_std=0.1, weights=[0.5, 0.5], n_nodes=100)),
        "mixture_entropy": (A.mixture_entropy, dict(means=[0.0, 1.0], noise_std=0.1)),
        "mixture_mi_mc": (A.mixture_mi_mc, dict(means=[[0.0], [1.0]], noise_std=0.1, n_samples=100, seed=0)),
        "pairwise_mi_bounds": (A.pairwise_mi_bounds, dict(means=[[0.0], [1.0]], noise_var=0.1)),
        "mixture_entropy_bounds": (A.mixture_entropy_bounds, dict(means=[[0.0], [1.0]], noise_var=0.1)),
        "gaussian_channel_mi": (A.gaussian_channel_mi, dict(W=e2, cov_x=e2, noise_var=1.0)),
        "gaussian_channel_mi_ty": (gc.gaussian_channel_mi_ty, dict(W=e2, W_o=e2, cov_x=e2, noise_var=1.0,
                                                                   label_noise_var=1.0)),
        "gaussian_mi_from_cov": (gc.gaussian_mi_from_cov, dict(cov=e2, n_first=1)),
        "subspace_mi": (gc.subspace_mi, dict(W=e2, cov_x=e2, noise_var=1.0, subset=[0])),
        "gaussian_entropy": (A.gaussian_entropy, dict(var=1.0, dim=1)),
        "gaussian_entropy_std": (A.gaussian_entropy_std, dict(std=1.0, dim=1)),
        "binned_entropy_gaussian": (A.binned_entropy_gaussian, dict(activation="tanh", w=1.0, edges=[-1.0, 0.0, 1.0],
                                                                    mu=0.0, sd=1.0)),
        "tishby_edges": (A.tishby_edges, dict(n_edges=30)),
        "equal_edges": (binning.equal_edges, dict(lo=0.0, hi=1.0, n_bins=3)),
        "layer_information": (nc.layer_information, dict(x_input=nc.DiscreteInput((1, 2)), f="tanh", w=1.0, b=0.0,
                                                         noise_std=0.1)),
        "GaussianInput": (nc.GaussianInput, dict(mean=0.0, std=1.0)),
        "noise_entropy": (sc.noise_entropy, dict(noise_std=0.1)),
        "output_variance_bound": (sc.output_variance_bound, dict(activation="tanh", w=1.0, noise_std=0.1)),
        "two_point_channel_mi": (sc.two_point_channel_mi, dict(a=-1.0, b=1.0, prob_b=0.5, noise_std=0.1)),
        "saturating_large_w_limit": (sc.saturating_large_w_limit, dict(activation="tanh", noise_std=0.1, mu=0.0,
                                                                       sd=1.0)),
        "relu_large_w_noisy_mi": (sc.relu_large_w_noisy_mi, dict(w=1.0, noise_std=0.1)),
        "small_w_noisy_mi": (sc.small_w_noisy_mi, dict(activation="tanh", w=1.0, noise_std=0.1)),
    }


_SIGNED = {"w", "mu", "means", "a", "b", "lo", "W", "W_o", "edges", "mean", "cov", "cov_x"}


def test_every_public_analytic_function_names_the_bad_argument():
    bad_values = [("bool", True), ("str", "0.1"), ("complex", 0.5 + 0.5j), ("nan", np.nan), ("negative", -1.0)]
    problems = []
    for fname, (fn, kwargs) in _public_calls().items():
        fn(**kwargs)                                                          # the valid call works
        for arg, good in kwargs.items():
            if isinstance(good, str) or arg == "x_input":
                continue
            for label, bad in bad_values:
                if label == "negative" and arg in _SIGNED:
                    continue
                try:
                    with np.errstate(all="raise"):
                        result = fn(**dict(kwargs, **{arg: bad}))
                    problems.append(f"{fname}({arg}={label}) accepted -> {result!r}")
                except (TypeError, ValueError) as exc:
                    if not str(exc).startswith(arg):
                        problems.append(f"{fname}({arg}={label}): message does not start with {arg!r}: {exc}")
    assert not problems, "\n".join(problems)
