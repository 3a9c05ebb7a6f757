"""analytic.linear_flow: the least-squares gradient flow in closed form, against the matrix exponential."""
import numpy as np
import pytest
from scipy.linalg import expm

from analytic import linear_flow


def _expm_route(x, y, w0, t, rate):
    """Independent route: d/dt [w; 1] = [[-rate C, rate X^T y], [0, 0]] [w; 1], solved by scipy's expm."""
    n = x.shape[1]
    a = np.zeros((n + 1, n + 1))
    a[:n, :n] = -rate * x.T @ x
    a[:n, n] = rate * x.T @ y
    return np.stack([(expm(a * s) @ np.append(w0, 1.0))[:n] for s in t])


@pytest.mark.parametrize("p, n, rate", [(12, 5, 1.0), (12, 5, 1 / 12), (3, 7, 0.5)])   # (3, 7): null space
def test_matches_the_matrix_exponential(p, n, rate):
    rng = np.random.default_rng(p * n)
    x = rng.standard_normal((2, p, n)) / np.sqrt(n)
    y = rng.standard_normal((2, p))
    w0 = rng.standard_normal((2, n))
    t = np.array([0.0, 0.3, 2.0, 40.0])
    got = linear_flow(x, y, w0, t, rate=rate)
    assert got.shape == (2, t.size, n)
    for e in range(2):
        np.testing.assert_allclose(got[e], _expm_route(x[e], y[e], w0[e], t, rate), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(got[:, 0], w0, rtol=0, atol=1e-14)


def test_matrix_targets_are_columns_of_vector_flows():
    rng = np.random.default_rng(1)
    x, y, w0 = rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), rng.standard_normal((4, 3))
    t = [0.5, 3.0]
    both = linear_flow(x, y, w0, t)
    for k in range(3):
        np.testing.assert_allclose(both[..., k], linear_flow(x, y[:, k], w0[:, k], t), rtol=1e-12, atol=1e-14)


def test_long_time_limit_is_least_squares_plus_null_space_start():
    rng = np.random.default_rng(2)
    x, y, w0 = rng.standard_normal((3, 6)), rng.standard_normal(3), rng.standard_normal(6)
    w_inf = linear_flow(x, y, w0, [1e6])[0]
    pinv = np.linalg.pinv(x)
    np.testing.assert_allclose(w_inf, pinv @ y + (np.eye(6) - pinv @ x) @ w0, atol=1e-10)


def test_bad_input_names_the_argument():
    x, y, w0 = np.ones((3, 2)), np.ones(3), np.zeros(2)
    for kw, name in ((dict(t=[-1.0]), "t"), (dict(rate=0.0), "rate"), (dict(rate=True), "rate")):
        with pytest.raises((ValueError, TypeError), match=name):
            linear_flow(x, y, w0, **{"t": [1.0], **kw})
    with pytest.raises(ValueError, match="y"):
        linear_flow(x, np.ones(4), w0, [1.0])
    with pytest.raises(ValueError, match="w0"):
        linear_flow(x, y, np.zeros(3), [1.0])
    with pytest.raises(ValueError, match="x"):
        linear_flow(np.full((3, 2), np.nan), y, w0, [1.0])
