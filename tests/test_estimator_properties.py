"""Property suite of the estimators (hypothesis): on random activity of any scale, offset and tie pattern, every
estimator returns finite numbers inside its information-theoretic range, and monotone where theory says so.

Ranges (S equiprobable samples, U units): ``0 <= I(X;T) <= min(ln S, U ln #bins)`` and
``0 <= I(T;Y) <= min(I(X;T), H(Y))``. The plug-in estimators (binned, adaptive, quantized) and the KDE I(X;T)
bounds satisfy them before clipping (no :class:`~sims.estimators.BoundWarning` may be raised); Monte Carlo and k-NN
estimates are clipped by the range policy, so their returned values are checked. Monotone: coarser bins (width
doubled, every other edge) never raise the plug-in I(X;T) or I(T;Y) (data processing on the empirical law);
more noise never raises either KDE bound; the KDE upper bound is >= the lower bound. Bounded time: ~20 s.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import xlogy

from sims import estimators
from sims.estimators import BoundWarning

SETTINGS = settings(max_examples=200, deadline=None)
EPS = 1e-12


@st.composite
def layers(draw, max_samples=80, max_units=5):
    """(activity (B, S, U), labels (S,)) with random scale 1e-6..1e6, offset up to 1e6, optional ties."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    S = draw(st.integers(4, max_samples))
    U = draw(st.integers(1, max_units))
    B = draw(st.integers(1, 3))
    scale = 10.0 ** draw(st.floats(-6, 6))
    offset = draw(st.sampled_from([0.0, 1.0, -3.5, 1e6]))
    digits = draw(st.sampled_from([None, 0, 1, 3]))            # rounding -> ties
    n_classes = draw(st.integers(1, 4))
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(B, S, U))
    if digits is not None:
        z = np.round(z, digits)
    act = offset + scale * z
    y = np.arange(S) % n_classes
    rng.shuffle(y)
    return act, y


def h_y(y):
    p = np.bincount(y) / y.size
    return -np.sum(xlogy(p, p))


def assert_in_range(i_xt, i_ty, S, hy, upper=np.inf):
    i_xt, i_ty = np.asarray(i_xt), np.asarray(i_ty)
    assert np.all(np.isfinite(i_xt)) and np.all(np.isfinite(i_ty))
    assert np.all(i_xt >= 0) and np.all(i_xt <= min(np.log(S), upper) + EPS)
    assert np.all(i_ty >= 0) and np.all(i_ty <= np.minimum(i_xt, hy) + EPS)


# ---------------------------------------------------------------- plug-in estimators: in range without clipping
@SETTINGS
@given(layers(), st.sampled_from(["tishby", "nbins", "width", "range"]))
def test_binned_in_range(layer, convention):
    act, y = layer
    S, U = act.shape[-2:]
    spread = float(np.ptp(act)) or 1.0
    opts, n = {"tishby": ({}, 29), "nbins": ({"n_bins": 10}, 10), "width": ({"width": spread / 7}, np.inf),
               "range": ({"n_bins": 30, "value_range": (act.min(), act.min() + spread / 2 + 1e-300)}, 30)}[convention]
    if convention == "range" and not opts["value_range"][1] > opts["value_range"][0]:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        i_xt, i_ty = estimators.binned(act, y, **opts)
    assert_in_range(i_xt, i_ty, S, h_y(y), U * np.log(n))


@SETTINGS
@given(layers(), st.integers(1, 40))
def test_adaptive_in_range(layer, n_bins):
    act, y = layer
    S, U = act.shape[-2:]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        i_xt, i_ty = estimators.adaptive(act, y, n_bins=n_bins)
    assert_in_range(i_xt, i_ty, S, h_y(y), U * np.log(n_bins))


@SETTINGS
@given(layers(), st.integers(1, 52))
def test_quantized_in_range(layer, bits):
    act, y = layer
    S, U = act.shape[-2:]
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        i_xt, i_ty = estimators.quantized(act, y, bits=bits)
    assert_in_range(i_xt, i_ty, S, h_y(y), U * bits * np.log(2))


@SETTINGS
@given(layers())
def test_coarser_bins_never_raise_information(layer):
    """T_coarse is a function of T_fine: plug-in I(X;T) and I(T;Y) can only drop (data processing)."""
    act, y = layer
    w = (float(np.ptp(act)) or 1.0) / 13
    fine = estimators.binned(act, y, width=w)
    coarse = estimators.binned(act, y, width=2 * w)
    assert np.all(coarse[0] <= fine[0] + EPS) and np.all(coarse[1] <= fine[1] + EPS)
    e = np.linspace(act.min() - 1e-9, act.max() + 1e-9, 41)
    fine, coarse = estimators.binned(act, y, edges=e), estimators.binned(act, y, edges=e[::2])
    assert np.all(coarse[0] <= fine[0] + EPS) and np.all(coarse[1] <= fine[1] + EPS)


# ---------------------------------------------------------------- KDE: bounds ordered, in range, monotone in noise
@SETTINGS
@given(layers(max_samples=60), st.floats(-8, 2), st.floats(0.01, 3))
def test_kde_bounds_ordered_in_range_and_monotone_in_noise(layer, log_var, log_step):
    act, y = layer
    S = act.shape[-2]
    var = 10.0 ** log_var
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)           # the KDE I(T;Y) (a difference) may be clipped at 0
        lo_xt, lo_ty, up_xt, up_ty = estimators.kde_bounds(act, y, var)
        lo2, _, up2, _ = estimators.kde_bounds(act, y, var * 10.0 ** log_step)
    assert_in_range(up_xt, up_ty, S, h_y(y))
    assert_in_range(lo_xt, lo_ty, S, h_y(y))
    assert np.all(lo_xt <= up_xt + EPS)
    # exact within one distance path; across the Gram / direct switch the two differ by < 1e-9
    # (analytic.pairwise_distances, GRAM_TOL)
    assert np.all(up2 <= up_xt + 1e-9) and np.all(lo2 <= lo_xt + 1e-9)


@SETTINGS
@given(layers(max_samples=60))
def test_kde_xt_bounds_need_no_clipping(layer):
    """I(X;T) bounds lie in [0, ln S] analytically: the raw values must, so no BoundWarning for I(X;T)."""
    act, y = layer
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        estimators.kde_bounds(act, y, 0.1)
    assert not [w for w in rec if issubclass(w.category, BoundWarning) and "I(X;T)" in str(w.message)]


# ---------------------------------------------------------------- Monte Carlo and k-NN: clipped into range
@settings(max_examples=80, deadline=None)
@given(layers(max_samples=50, max_units=3), st.floats(-4, 1), st.integers(1, 3))
def test_goldfeld_in_range(layer, log_std, n_noise):
    act, y = layer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)
        i_xt, i_ty = estimators.goldfeld(act, y, 10.0 ** log_std, n_noise=n_noise, seed=0)
    assert_in_range(i_xt, i_ty, act.shape[-2], h_y(y))


@settings(max_examples=80, deadline=None)
@given(layers(max_samples=60, max_units=3), st.floats(-6, 1))
def test_knn_estimators_in_range(layer, log_var):
    act, _ = layer
    S = act.shape[-2]
    y = np.arange(S) % 2 if S >= 8 else np.zeros(S, int)
    inputs = np.random.default_rng(S).normal(size=(S, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)
        kl = estimators.kozachenko_leonenko(act, y, k=2, noise_var=10.0 ** log_var, seed=1)
        ks = estimators.ksg(act, y, inputs=inputs, k=2, noise_var=10.0 ** log_var, seed=1)
    assert_in_range(*kl, S, h_y(y))
    assert_in_range(*ks, S, h_y(y))


@pytest.mark.parametrize("est", ["binned", "adaptive", "quantized", "kde", "goldfeld", "kozachenko_leonenko"])
def test_every_registered_estimator_follows_the_range_policy(est):
    """A sanity anchor for the suite: each name in ESTIMATORS returns in-range values on a plain layer."""
    act = np.tanh(np.random.default_rng(0).normal(size=(2, 64, 3)))
    y = np.arange(64) % 2
    opts = {"kde": {"noise_var": 0.1}, "goldfeld": {"noise_std": 0.1, "seed": 0}}.get(est, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)
        i_xt, i_ty = estimators.ESTIMATORS[est](act, y, **opts)
    assert_in_range(i_xt, i_ty, 64, np.log(2))
