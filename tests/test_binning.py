"""analytic.binning: edge conventions, the digitize convention, exact binned MI vs a 10^7-sample Monte Carlo."""
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from analytic.activations import ACTIVATION_NAMES
from analytic.binning import (bin_index, bin_probabilities_gaussian, binned_entropy_gaussian, equal_edges,
                              minmax_edges, n_bins, net_input_edges, tishby_edges)
from analytic.units import to_bits

N_MC = 10_000_000


def test_edge_conventions():
    e = tishby_edges()
    assert e.size == 30 and e[0] == -1 and e[-1] == 1 and not np.any(e == 0.0)
    assert np.any(tishby_edges(31) == 0.0)
    np.testing.assert_allclose(equal_edges(0, 5, 10), np.linspace(0, 5, 11))
    ni = net_input_edges("tanh", 30)
    assert np.all(np.diff(ni) > 0) and ni[0] == -1 and ni[-1] == 1   # float64 repeats of +-1 dropped
    np.testing.assert_allclose(ni, np.unique(np.tanh(np.linspace(-50, 50, 30))))
    np.testing.assert_allclose(minmax_edges([3.0, -1.0, 2.0], 4), np.linspace(-1, 3, 5))
    assert n_bins(e) == 29


def test_bin_index_is_clipped_digitize():
    rng = np.random.default_rng(1)
    e = np.sort(rng.normal(size=12))
    v = rng.normal(scale=3, size=10_000)
    v[:12] = e                                    # values exactly on edges: left-closed bins
    expect = np.clip(np.digitize(v, e, right=False) - 1, 0, e.size - 2)
    np.testing.assert_array_equal(bin_index(v, e), expect)
    assert bin_index([-1e300, 1e300], e).tolist() == [0, e.size - 2]   # beyond the outer edges: outer bins
    assert bin_index(e[1], e) == 1 and bin_index(np.nextafter(e[1], -np.inf), e) == 0


CASES = [  # activation, params, w, edges, mu, sd
    ("tanh", {}, 0.87, tishby_edges(), 0.0, 1.0),
    ("tanh", {}, 3.0, tishby_edges(), 0.0, 1.0),
    ("relu", {}, 2.5, equal_edges(0.0, 10.0, 50), 0.0, 1.0),                # atom at 0 in bin 0
    ("hardtanh", {}, 1.7, tishby_edges(), 0.3, 1.0),                       # two atoms, shifted input
    ("leaky_relu", {"slope": 0.2}, -1.3, equal_edges(-3.0, 3.0, 25), 0.5, 0.8),   # negative w
    ("relu", {}, 1.0, np.array([-0.5, 0.0, 0.4, 1.1, 2.0]), 0.0, 1.0),      # 0 is an edge: atom in [0, 0.4)
]


@pytest.fixture(scope="module")
def normal_draws():
    return np.random.default_rng(20180101).standard_normal(N_MC)


@pytest.mark.parametrize("name,params,w,edges,mu,sd", CASES)
def test_exact_bins_match_monte_carlo(normal_draws, name, params, w, edges, mu, sd):
    """Per-bin counts within 4 binomial SE of n p_k; plug-in entropy within 4 SE (+ its (K-1)/2n bias)."""
    from analytic.activations import get_activation
    f = get_activation(name, **params)
    x = mu + sd * normal_draws
    counts = np.bincount(bin_index(f.value(w * x), edges), minlength=edges.size - 1)
    p = bin_probabilities_gaussian(name, w, edges, mu=mu, sd=sd, **params)
    assert p.shape == (edges.size - 1,) and abs(p.sum() - 1) < 1e-12
    se = np.sqrt(N_MC * p * (1 - p))
    assert np.all(np.abs(counts - N_MC * p) <= 4 * se + 1e-9), np.max(np.abs(counts - N_MC * p) / (se + 1e-300))
    h = binned_entropy_gaussian(name, w, edges, mu=mu, sd=sd, **params)
    q = counts[counts > 0] / N_MC
    h_mc = -np.sum(q * np.log(q))
    nz = p[p > 0]
    se_h = np.sqrt((np.sum(nz * np.log(nz) ** 2) - h ** 2) / N_MC)
    bias = (np.count_nonzero(p > 0) - 1) / (2 * N_MC)
    assert abs(h_mc + bias - h) <= 4 * se_h + 1e-12


def test_tishby_peak():
    """Saxe Fig. 2C: tanh with 30 edges on [-1, 1] peaks at 4.851 bits near w = 0.8685 (exact + Brent)."""
    from minimal_models import ScalarGaussian
    w_star, i_star = ScalarGaussian("tanh").binned_mi_peak(tishby_edges())
    assert abs(w_star - 0.86850669) < 1e-6
    assert abs(to_bits(i_star) - 4.851044347) < 1e-8
    assert to_bits(i_star) < np.log2(29)


def test_peak_value_matches_mpmath():
    """Independent 30-digit route for the peak value: 4.851044347196029 bits (digits trusted: w* to ~1e-8)."""
    import mpmath as mp
    with mp.workdps(30):
        w = mp.mpf("0.86850669")
        e = [mp.mpf(-1) + 2 * mp.mpf(k) / 29 for k in range(30)]
        cdf = [mp.mpf(0)] + [mp.ncdf(mp.atanh(x) / w) for x in e[1:-1]] + [mp.mpf(1)]
        h = -mp.fsum(q * mp.log(q) for q in (b - a for a, b in zip(cdf[:-1], cdf[1:])))
    assert abs(binned_entropy_gaussian("tanh", 0.86850669, tishby_edges()) - float(h)) < 1e-13


def test_limits_and_special_w():
    e = tishby_edges()
    assert binned_entropy_gaussian("tanh", 0.0, e) == 0.0                        # w = 0: one bin
    assert abs(to_bits(binned_entropy_gaussian("tanh", 1e-9, tishby_edges(31))) - 1.0) < 1e-6   # 0 an edge
    assert binned_entropy_gaussian("tanh", 1e-9, e) < 1e-6                        # 0 not an edge
    assert abs(to_bits(binned_entropy_gaussian("tanh", 1e7, e)) - 1.0) < 1e-5    # saturated: 1 bit
    w = np.linspace(0.3, 10, 200)
    for name in ("tanh", "relu", "sigmoid", "softsign"):   # symmetric X: sign of w does not matter
        np.testing.assert_allclose(binned_entropy_gaussian(name, -w, e), binned_entropy_gaussian(name, w, e),
                                   atol=1e-12)
    relu = binned_entropy_gaussian("relu", np.linspace(0.01, 10, 500), equal_edges(0, 40, 100))
    assert np.all(np.diff(relu) > 0)                                               # ReLU never compresses


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(ACTIVATION_NAMES),
       w=st.floats(-1e3, 1e3, allow_nan=False),
       raw_edges=st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=40, unique=True),
       mu=st.floats(-2, 2), sd=st.floats(0.1, 3))
def test_binned_mi_within_bounds(name, w, raw_edges, mu, sd):
    edges = np.sort(np.array(raw_edges))
    if np.any(np.diff(edges) <= 0):
        return
    h = binned_entropy_gaussian(name, w, edges, mu=mu, sd=sd)
    assert np.isfinite(h) and -1e-15 <= h <= np.log(edges.size - 1) + 1e-12


def test_bad_input_names_the_argument():
    e = tishby_edges()
    with pytest.raises(ValueError, match="^w"):
        binned_entropy_gaussian("tanh", [1.0, np.nan], e)
    with pytest.raises(ValueError, match="^edges"):
        binned_entropy_gaussian("tanh", 1.0, [0.0, -1.0, 1.0])
    with pytest.raises(ValueError, match="^edges"):
        binned_entropy_gaussian("tanh", 1.0, [-1.0, 0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="^activation"):
        binned_entropy_gaussian("tanhh", 1.0, e)
    with pytest.raises(ValueError, match="^sd"):
        binned_entropy_gaussian("tanh", 1.0, e, sd=0.0)
    with pytest.raises(ValueError, match="^values"):
        minmax_edges([1.0, 1.0], 3)
    with pytest.raises(ValueError, match="^n_bins"):
        equal_edges(0, 1, 0)


def test_ten_thousand_w_well_under_a_second():
    w = np.linspace(0, 10, 10_000)
    binned_entropy_gaussian("tanh", w, tishby_edges())
    t0 = time.perf_counter()
    out = binned_entropy_gaussian("tanh", w, tishby_edges())
    assert out.shape == (10_000,) and time.perf_counter() - t0 < 0.5
