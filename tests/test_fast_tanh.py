"""analytic.fast_tanh: the vectorized float64 tanh against mpmath at 40 digits (<= 3 ulp), its Taylor
coefficients against sympy, special values, and its use by the toolkit's tanh activation."""
import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from analytic import fast_tanh as ft
from analytic.activations import get_activation
from analytic.fast_tanh import fast_tanh


def _points(rng):
    grid = np.arange(-5200, 5201)
    return np.concatenate([
        rng.normal(size=3000) * 3, rng.uniform(-0.01, 0.01, 500), rng.uniform(18, 21, 200),
        np.logspace(-320, 1.4, 400), -np.logspace(-20, 1.4, 200),
        grid[::7] / 256,                            # table points: u = 0
        (grid[::7] + 0.5) / 256,                    # worst case of the reduction: |u| = 1/2
        (grid[::7] + 0.5) / 256 * (1 - 2e-16),      # the rounding of 256 x at the half-way points
        [1e300, -1e300, 5e-324, -5e-324, 2.0**-1022],
    ])


def test_within_3_ulp_of_mpmath():
    x = _points(np.random.default_rng(0))
    with mp.workdps(40):
        ref = np.array([float(mp.tanh(mp.mpf(float(v)))) for v in x])
    ulps = np.abs(fast_tanh(x) - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 3.0
    assert np.mean(ulps <= 1.0) > 0.95
    # exact at the table points (tanh(k/256) is stored correctly rounded and tanh(b) = 0 there)
    k = np.arange(-5120, 5121, 37) / 256
    with mp.workdps(40):
        np.testing.assert_array_equal(fast_tanh(k), [float(mp.tanh(mp.mpf(float(v)))) for v in k])


def test_taylor_coefficients_and_remainder_bound():
    """tanh(b) = b (1 + c1 b^2 + c2 b^4) + R with |R| <= 17/315 |b|^7, |b| <= 1/512 (sympy); the rounding
    constant spaces floats 1/256 apart."""
    b = sp.symbols("b")
    series = sp.series(sp.tanh(b), b, 0, 9).removeO()
    assert [series.coeff(b, k) for k in (1, 3, 5, 7)] == [1, sp.Rational(-1, 3), sp.Rational(2, 15),
                                                          sp.Rational(-17, 315)]
    N = ft._N
    assert (ft._C1, ft._C2) == (float(sp.Rational(-1, 3)), float(sp.Rational(2, 15)))
    assert np.spacing(ft._ROUND) == 1.0 / N and np.spacing(ft._ROUND + 2 * ft._XMAX) == 1.0 / N
    # the series alternates with decreasing terms for |b| <= 1/512, so the first omitted term bounds R
    assert float(sp.Rational(17, 315) * sp.Rational(1, 2 * N)**6) < 2.0**-57
    # beyond 20, tanh rounds to 1.0 in float64: the clip to [-20, 20] changes nothing
    with mp.workdps(40):
        assert float(mp.tanh(20)) == 1.0 and float(mp.tanh(19)) < 1.0


def test_special_values_sign_of_zero_and_layouts():
    out = fast_tanh(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324, -5e-324]))
    assert np.isnan(out[0]) and list(out[1:3]) == [1.0, -1.0]
    assert list(np.signbit(out[3:5])) == [False, True] and list(out[5:]) == [5e-324, -5e-324]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 20000)) * 4                       # several chunks and a remainder
    y = fast_tanh(x)
    np.testing.assert_allclose(y, np.tanh(x), rtol=8e-16, atol=0)
    # elementwise: the result does not depend on the chunking or the layout
    i = rng.integers(0, x.size, 50)
    np.testing.assert_array_equal(y.ravel()[i], fast_tanh(x.ravel()[i]))
    np.testing.assert_array_equal(fast_tanh(x[:, ::3]), y[:, ::3])
    np.testing.assert_array_equal(fast_tanh(x.T), y.T)
    z = x.copy()
    assert fast_tanh(z, out=z) is z and np.array_equal(z, y)  # in place
    assert fast_tanh(2.0).shape == () and float(fast_tanh(2.0)) == pytest.approx(np.tanh(2.0), rel=8e-16)
    assert fast_tanh([]).shape == (0,)
    with pytest.raises(ValueError, match="out"):
        fast_tanh(x, out=np.empty(3))


def test_dispatch_report_is_read():
    assert isinstance(ft.numpy_float64_tanh_is_vectorized(), bool)


def test_the_numpy_backend_uses_it_for_large_float64_arrays_when_asked():
    from sims.backend import NumpyBackend

    tanh = get_activation("tanh")
    fast, plain = NumpyBackend(fast_tanh=True), NumpyBackend(fast_tanh=False)
    x = np.random.default_rng(2).normal(size=(50, 256, 10))
    np.testing.assert_array_equal(tanh.value(x, xp=fast), fast_tanh(x))
    np.testing.assert_allclose(tanh.value(x, xp=fast), np.tanh(x), rtol=8e-16, atol=0)
    np.testing.assert_array_equal(tanh.value(x[0, :3], xp=fast), np.tanh(x[0, :3]))  # small: np.tanh
    x32 = x.astype(np.float32)
    assert tanh.value(x32, xp=NumpyBackend("float32", fast_tanh=True)).dtype == np.float32  # float32: np.tanh
    np.testing.assert_array_equal(tanh.value(x32, xp=NumpyBackend("float32", fast_tanh=True)), np.tanh(x32))
    np.testing.assert_array_equal(tanh.value(x, xp=plain), np.tanh(x))                  # AVX-512 choice: np.tanh
    np.testing.assert_array_equal(tanh.value(x), np.tanh(x))                            # no backend: np.tanh
    assert NumpyBackend().fast_tanh == (not ft.numpy_float64_tanh_is_vectorized())   # default: the dispatch report
    with pytest.raises(TypeError, match="fast_tanh"):
        NumpyBackend(fast_tanh="yes")
