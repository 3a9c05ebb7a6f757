"""The information-bottleneck bound (analytic.ib_bound) against closed forms and independent routes."""
import numpy as np
import pytest

from analytic.ib_bound import (binary_entropy, binary_symmetric_curve, ib_curve, ib_fixed_points, merge_rows,
                               upper_envelope)


def _bsc(p):
    return 0.5 * np.array([[1 - p, p], [p, 1 - p]])


@pytest.mark.parametrize("p", [0.1, 0.25])
def test_binary_symmetric_source_matches_mrs_gerber(p):
    beta = np.geomspace(0.9 / (1 - 2 * p) ** 2, 200, 60)      # from just below the critical beta 1/(1-2p)^2
    c = ib_curve(_bsc(p), beta, n_t=2, seed=1)
    r = np.linspace(0.0, np.log(2), 41)
    exact = binary_symmetric_curve(p, r)
    assert np.max(np.abs(c.bound(r) - exact)) < 1.5e-3
    assert np.all(c.env_i_ty <= binary_symmetric_curve(p, c.env_i_xt) + 1e-9)   # achievable: never above
    # every fixed point is an achievable (I(X;T), I(T;Y)) pair: on or below the exact curve
    assert np.all(c.i_ty <= binary_symmetric_curve(p, c.i_xt) + 1e-9)


def test_binary_symmetric_closed_form_ends():
    p = 0.1
    assert binary_symmetric_curve(p, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert binary_symmetric_curve(p, np.log(2)) == pytest.approx(np.log(2) - binary_entropy(p), abs=1e-12)
    assert binary_symmetric_curve(0.0, 0.3) == pytest.approx(0.3, abs=1e-9)   # noiseless: R(r) = r


def test_trivial_ends_and_data_processing():
    g = np.random.default_rng(3)
    pxy = g.dirichlet(np.ones(12)).reshape(4, 3)                  # 4 distinct rows p(y|x)
    i_xt, i_ty = ib_fixed_points(pxy, np.array([1e-3, 1e4]), n_t=4, restarts=3, seed=0)
    px, py = pxy.sum(1), pxy.sum(0)
    h_x = -(px * np.log(px)).sum()
    i_xy = (pxy * np.log(pxy / np.outer(px, py))).sum()
    assert np.all(i_xt[0] < 1e-6) and np.all(i_ty[0] < 1e-6)      # beta -> 0: T independent of X
    assert i_xt[1].max() == pytest.approx(h_x, abs=1e-3)           # beta -> inf: T = X
    assert i_ty[1].max() == pytest.approx(i_xy, abs=1e-6)
    c = ib_curve(pxy, np.geomspace(0.5, 1e3, 40), seed=0)
    assert np.all(c.i_ty <= np.minimum(c.i_xt, i_xy) + 1e-12)
    assert c.i_xy == pytest.approx(i_xy) and c.h_s == pytest.approx(h_x)


def test_envelope_is_concave_increasing_and_above_random_encoders():
    g = np.random.default_rng(5)
    pxy = g.dirichlet(np.ones(12)).reshape(4, 3)
    c = ib_curve(pxy, np.geomspace(0.5, 1e3, 50), restarts=6, seed=0)
    x, y = c.env_i_xt, c.env_i_ty
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) >= 0)
    slopes = np.diff(y) / np.diff(x)
    assert np.all(np.diff(slopes) <= 1e-9)
    # an independent route: 20000 random encoders p(t|x), |T| = 4, all lie on or below the envelope
    q = g.dirichlet(np.full(4, 0.3), size=(20000, 4))              # (n, x, t)
    pxt = pxy.sum(1)[None, :, None] * q
    pty = np.einsum("nxt,xy->nty", q, pxy)

    def mi(p):
        a, b = p.sum(-1, keepdims=True), p.sum(-2, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nansum(p * np.log(p / (a * b)), axis=(-2, -1))

    assert np.all(mi(pty) <= c.bound(mi(pxt)) + 2e-3)


def test_deterministic_label_gives_the_straight_line():
    g = np.random.default_rng(7)
    labels = g.integers(0, 3, size=20)
    pxy = np.zeros((20, 3))
    pxy[np.arange(20), labels] = 1 / 20
    py = pxy.sum(0)
    h_y = -(py[py > 0] * np.log(py[py > 0])).sum()
    r = np.linspace(0, np.log(20), 30)
    for merge in (True, False):
        c = ib_curve(pxy, np.geomspace(0.5, 100, 12), n_t=3, restarts=2, seed=0, merge=merge, n_iter=400)
        assert np.max(np.abs(c.bound(r) - np.minimum(r, h_y))) < 1e-6


def test_merge_rows_and_upper_envelope():
    pxy = np.array([[0.1, 0.1], [0.2, 0.2], [0.3, 0.1], [0.0, 0.0]])
    m = merge_rows(pxy / pxy.sum())
    assert m.shape == (2, 2) and m.sum() == pytest.approx(1.0)
    x, y = upper_envelope([1.0, 2.0, 1.5, 3.0], [1.0, 1.5, 0.5, 1.5])
    assert x.tolist() == [0.0, 1.0, 2.0] and y.tolist() == [0.0, 1.0, 1.5]


@pytest.mark.parametrize("bad, match", [(np.array([[0.5, -0.1], [0.3, 0.3]]), "non-negative"),
                                        (np.array([[0.5, 0.1], [0.3, 0.3]]), "sum to 1"),
                                        (np.array([0.5, 0.5]), "pxy"),
                                        (np.array([[np.nan, 0.5], [0.25, 0.25]]), "pxy")])
def test_bad_joint(bad, match):
    with pytest.raises(ValueError, match=match):
        ib_curve(bad)


def test_bad_beta():
    with pytest.raises(ValueError, match="beta"):
        ib_curve(_bsc(0.1), np.array([1.0, -1.0]))


def test_twelve_bit_bound_is_min_r_hy():
    from experiments.ib_bound import closed_form, twelve_bit_joint
    pxy = twelve_bit_joint()
    assert pxy.shape == (4096, 2) and pxy.sum() == pytest.approx(1.0)
    c = ib_curve(pxy, np.geomspace(0.5, 50, 12), restarts=2, seed=0)
    r = np.linspace(0, np.log(4096), 50)
    assert np.max(np.abs(c.bound(r) - closed_form(pxy, r))) < 1e-9
    assert c.i_xy == pytest.approx(closed_form(pxy, np.inf))
