"""minimal_models.SingleNeuron: exact I(X;T) vs mpmath, cluster limits, bounds, training trajectory."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minimal_models import SingleNeuron

LN2, LN4 = np.log(2.0), np.log(4.0)
H14 = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))   # H(1/4, 3/4) = 0.5623 nats

#: (w, b) grid: generic, saturated (20, -20) (tanh(20) rounds to 1 - 8e-18 in float64) and (5, -4).
GRID = [(5.0, -4.0), (20.0, -20.0), (1.5, -3.2)]


@pytest.mark.parametrize("noise_std", [0.005, 0.01, 0.05, 0.1])
def test_exact_matches_mpmath_30_digits(noise_std):
    """tanh and the entropy integral in mpmath at 30 digits (t-space tanh-sinh) vs Gauss-Hermite: 1e-10 required,
    ~1e-15 observed."""
    n = SingleNeuron(noise_std=noise_std)
    for w, b in GRID:
        ref = float(n.mi_mp(w, b, dps=30))
        assert abs(n.mi(w, b) - ref) < 1e-10, (w, b)


@pytest.mark.slow
@pytest.mark.parametrize("noise_std", [0.005, 0.01, 0.05, 0.1, 0.5])
def test_exact_matches_mpmath_full_grid(noise_std):
    n = SingleNeuron(noise_std=noise_std)
    for w in (0.0, 0.05, 0.3, 1.0, 2.0, 5.0, 20.0):
        for b in (-20.0, -4.0, -1.0, 0.0, 0.7):
            assert abs(n.mi(w, b) - float(n.mi_mp(w, b))) < 1e-10, (w, b)


def test_four_cluster_limits():
    n = SingleNeuron(noise_std=0.005)
    lv = n.cluster_levels()
    assert lv[((-3.0,), (-1.0,), (1.0,), (3.0,))] == pytest.approx(LN4, abs=1e-15)
    assert lv[((-3.0, -1.0), (1.0,), (3.0,))] == pytest.approx(1.5 * LN2, abs=1e-15)
    assert lv[((-3.0, -1.0), (1.0, 3.0))] == pytest.approx(LN2, abs=1e-15)
    assert lv[((-3.0, -1.0, 1.0), (3.0,))] == pytest.approx(H14, abs=1e-15)
    assert len(lv) == 8 and lv[((-3.0, -1.0, 1.0, 3.0),)] == 0.0
    # parameters realizing each cluster structure (symbols >= 60 sigma apart or merged to < 1e-7 sigma)
    assert abs(n.mi(0.3, 0.1) - LN4) < 1e-12              # four separate symbols
    assert abs(n.mi(8.0, -9.0) - 1.5 * LN2) < 1e-12       # {-3,-1} merged at -1; 1 and 3 apart
    assert abs(n.mi(20.0, 0.0) - LN2) < 1e-12             # {-3,-1}, {1,3}
    assert abs(n.mi(20.0, -40.0) - H14) < 1e-12           # {-3,-1,1}, {3}
    assert n.mi(0.0, 0.7) == 0.0                          # one cluster


def test_vectorized_over_w_and_b():
    n = SingleNeuron(noise_std=0.05)
    w = np.linspace(0, 5, 7)[:, None]
    b = np.linspace(-4, 1, 5)[None, :]
    grid = n.mi(w, b)
    assert grid.shape == (7, 5)
    assert grid[3, 2] == pytest.approx(n.mi(float(w[3, 0]), float(b[0, 2])), abs=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.floats(-30, 30), st.floats(-30, 30), st.floats(1e-3, 3.0))
def test_mi_between_zero_and_ln4(w, b, s):
    i = SingleNeuron(noise_std=s).mi(w, b)
    assert -1e-13 <= i <= LN4 + 1e-13


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=7, unique=True), st.floats(-3, 3), st.floats(0.01, 1))
def test_mi_at_most_input_entropy_for_any_points(points, w, s):
    probs = np.random.default_rng(len(points)).dirichlet(np.ones(len(points)))
    n = SingleNeuron(points, np.sign(points), s, probs=probs)
    assert -1e-13 <= n.mi(w, 0.1) <= -np.sum(probs * np.log(probs)) + 1e-13


def test_density_integrates_to_one():
    n = SingleNeuron(noise_std=0.05)
    t = np.linspace(-1.5, 1.5, 3001)
    p = n.density(np.array([0.3, 4.0]), -1.0, t)
    assert p.shape == (2, t.size)
    np.testing.assert_allclose(np.trapezoid(p, t), 1.0, atol=1e-10)


def test_trained_neuron_passes_cluster_levels():
    """Kong's setting: w = b = 0, noise_std 0.05, MSE, lr 1e-3 for the 1/2-MSE (= Kong's 5e-4 with PyTorch's
    MSELoss), population gradient flow (the small-lr limit of full-batch GD; t = lr * epoch) for 1e8 epochs.
    I(X;T) rises to ln 4, sits near 1.5 ln 2 = 1.04 (-3 and -1 merged) and settles at H(1/4,3/4) = 0.562."""
    n = SingleNeuron(noise_std=0.05)
    run = n.train(10 ** 8, lr=1e-3, method="flow", log_epochs=400)
    assert run.epochs[0] == 0 and run.mi[0] == 0.0
    assert run.mi.max() > LN4 - 1e-3
    near = np.abs(run.mi - 1.5 * LN2) < 0.005
    assert near.any()
    mu = n.means(run.w[near], run.b[near])
    assert np.all(mu[:, 1] - mu[:, 0] < 0.5 * 0.05)        # at the 1.04 plateau: -3 and -1 within sigma/2 ...
    assert np.all(np.diff(mu[:, 1:], axis=1) > 5 * 0.05)   # ... while -1, 1, 3 are > 5 sigma apart
    assert abs(run.mi[-1] - H14) < 1e-3
    assert np.all(np.diff(run.mi[run.epochs > 10 ** 5]) < 1e-9)   # compression phase: monotone decrease
    assert run.density.shape == (run.epochs.size, run.t_grid.size)
    np.testing.assert_allclose(np.trapezoid(run.density, run.t_grid, axis=-1), 1.0, atol=1e-6)


def test_kong_sgd_passes_cluster_levels():
    """Kong's training as in his code: 30 sampled points, batch 25, lr 1e-3 (1/2-MSE), noise 0.05 in the forward
    pass, gradients accumulated (never zeroed), seed 0, 400 epochs: ln 4, then ~1.04, then H(1/4,3/4)."""
    n = SingleNeuron(noise_std=0.05)
    run = n.train(400, lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=0, accumulate_grad=True,
                  log_epochs=60)
    assert run.mi.max() > LN4 - 5e-3
    k = int(np.argmax(run.mi))
    assert np.any(np.abs(run.mi[k:] - 1.5 * LN2) < 0.01)
    assert abs(run.mi[-1] - H14) < 1e-3


def test_gradient_descent_follows_the_flow():
    """Discrete full-batch GD vs gradient flow at equal lr * epoch: the gap is O(lr) (halves with lr) and
    below 1e-2 nats at lr 0.1, so the fast "flow" method stands for Kong-scale learning rates."""
    n = SingleNeuron(noise_std=0.05)
    fl = n.train(500_000, lr=1e-3, method="flow", log_epochs=[0, 5000, 50_000, 500_000])
    gaps = []
    for lr in (0.1, 0.05):
        k = int(round(0.1 / lr))
        gd = n.train(5000 * k, lr=lr, method="gd", log_epochs=[0, 50 * k, 500 * k, 5000 * k])
        gaps.append(np.max(np.abs(gd.mi - fl.mi)))
    assert gaps[0] < 1e-2
    assert 1.6 < gaps[0] / gaps[1] < 2.4
    # the population gradient is the closed form: check against central finite differences
    w, b = np.array([0.4, 2.0]), np.array([-0.3, -3.0])
    gw, gb = n.gradient(w, b)
    h = 1e-6
    np.testing.assert_allclose(gw, (n.loss(w + h, b) - n.loss(w - h, b)) / (2 * h), atol=1e-8)
    np.testing.assert_allclose(gb, (n.loss(w, b + h) - n.loss(w, b - h)) / (2 * h), atol=1e-8)


def test_sgd_as_kong_is_reproducible_and_ensembles():
    n = SingleNeuron(noise_std=0.05)
    a = n.train(300, lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=4, accumulate_grad=True, log_epochs=20)
    b = n.train(300, lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=4, accumulate_grad=True, log_epochs=20)
    np.testing.assert_array_equal(a.w, b.w)
    assert a.mi.max() > LN4 - 0.01 and np.all(a.mi <= LN4 + 1e-13)
    ens = n.train(50, lr=np.array([1e-3, 2e-3, 4e-3]), method="sgd", seed=1, log_epochs=5)
    assert ens.w.shape == (3, ens.epochs.size) and ens.density.shape[:2] == (3, ens.epochs.size)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="noise_std"):
        SingleNeuron(noise_std=0.0)
    with pytest.raises(ValueError, match="noise_std"):
        SingleNeuron(noise_std=-0.1)
    with pytest.raises(ValueError, match="labels"):
        SingleNeuron(points=(-3, -1, 1, 3), labels=(-1, 1))
    with pytest.raises(ValueError, match="probs"):
        SingleNeuron(probs=(0.5, 0.5))
    with pytest.raises(ValueError, match="points"):
        SingleNeuron(points=(1, 1, 2, 3))
    n = SingleNeuron()
    with pytest.raises(ValueError, match="w"):
        n.mi(np.nan, 0.0)
    with pytest.raises(ValueError, match="b"):
        n.mi(1.0, np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="lr"):
        n.train(10, lr=-1.0)
    with pytest.raises(ValueError, match="method"):
        n.train(10, method="adam")


def test_goldfeld_proposition_1_deterministic_neuron():
    """Deterministic tanh neuron: I(X;T) = H(X) = ln 4 for every w != 0, while the binned "MI" (Tishby's 30 edges)
    moves with w, and float64 rounding alone (tanh(19.1) == 1.0) merges symbols only at saturation."""
    from minimal_models.deterministic import DeterministicNeuron
    d = DeterministicNeuron()
    w = np.logspace(-3, 2, 60)
    np.testing.assert_array_equal(d.mi(w, 0.3), LN4)
    assert d.mi(0.0, 0.3) == 0.0
    binned = d.binned_mi(w, 0.0)
    assert binned.min() == 0.0 and binned.max() == pytest.approx(LN4) and binned[-1] == pytest.approx(LN2)
    assert np.all(binned <= LN4 + 1e-15)
    assert d.float64_mi(1.0, 0.0) == pytest.approx(LN4) and d.float64_mi(20.0, 0.0) == pytest.approx(LN2)
    with pytest.raises(ValueError, match="activation"):
        DeterministicNeuron(activation="relu")
    with pytest.raises(ValueError, match="w"):
        d.mi(np.nan, 0.0)


def test_kong_accuracy_drop_available_for_the_single_neuron():
    """Kong's lr / 20 at 99% test accuracy (which Kong 2019, Sec. 2.4 did NOT use for this network): the test
    accuracy reaches 1 by epoch 30 (seed 0), long before the clusters merge, so with the drop the run is still at
    the 1.5 ln 2 plateau after 400 epochs where the fixed-rate run has reached H(1/4, 3/4). Training draws are
    the same with and without the drop up to the drop."""
    n = SingleNeuron(noise_std=0.05)
    kw = dict(lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=0, accumulate_grad=True,
              log_epochs=[0, 10, 29, 30, 31, 400])
    plain = n.train(400, **kw)
    kong = n.train(400, accuracy_threshold=0.99, **kw)
    assert plain.lr is not None and np.all(plain.lr == 1e-3) and plain.test_accuracy is None
    k = int(np.argmax(kong.lr < 1e-3))
    assert kong.epochs[k] <= 30 and kong.test_accuracy[k] >= 0.99 and np.all(kong.lr[k:] == 1e-3 / 20)
    np.testing.assert_array_equal(kong.w[:k + 1], plain.w[:k + 1])
    assert abs(plain.mi[-1] - H14) < 1e-3 and abs(kong.mi[-1] - 1.5 * LN2) < 0.01
    with pytest.raises(ValueError, match="accuracy_threshold"):
        n.train(10, method="flow", accuracy_threshold=0.99)
