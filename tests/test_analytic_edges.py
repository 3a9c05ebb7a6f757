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
