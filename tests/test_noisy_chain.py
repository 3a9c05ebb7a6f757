"""analytic.noisy_chain and minimal_models.NoisyChain: closed forms, Monte Carlo, convergence, data processing."""
import numpy as np
import pytest

from analytic.noisy_chain import (DiscreteInput, GaussianInput, GaussianMixtureInput, chain_information,
                                  layer_information)
from minimal_models import NoisyChain, SingleNeuron

S = 0.05


def test_linear_chain_matches_closed_form():
    """Linear f1, f2 and X ~ N(0, v): T2 = w2 w1 X + w2 Z1 + Z2 is jointly Gaussian with X, so
    I(X;T1) = 1/2 ln(1 + w1^2 v / s^2) and I(X;T2) = 1/2 ln(1 + w1^2 w2^2 v / (s^2 (1 + w2^2)))."""
    v = 0.25
    w1, w2 = np.array([0.3, 1.0, -1.2]), np.array([1.5, -0.7, 1.2])
    r = chain_information(GaussianInput(0.0, np.sqrt(v)), "linear", w1, 0.2, "linear", w2, -0.1, noise_std=S)
    np.testing.assert_allclose(r.i_xt1, 0.5 * np.log1p(w1 ** 2 * v / S ** 2), atol=1e-8)
    np.testing.assert_allclose(r.i_xt2, 0.5 * np.log1p(w1 ** 2 * w2 ** 2 * v / (S ** 2 * (1 + w2 ** 2))), atol=1e-8)


def test_discrete_first_layer_grid_matches_gauss_hermite():
    """For discrete X, h(T1) from the trapezoid grid must equal the Gauss-Hermite mixture entropy."""
    x = DiscreteInput(range(1, 9))
    r = chain_information(x, "leaky_relu", np.array([-0.88, 0.5, 0.05]), 4.3, "leaky_relu", -0.23, 0.24, S)
    np.testing.assert_allclose(r.h_t1 - 0.5 * np.log(2 * np.pi * np.e * S ** 2), r.i_xt1, atol=1e-10)


def test_single_layer_matches_single_neuron():
    n = SingleNeuron(noise_std=S)
    w, b = np.array([0.0, 0.4, 3.0, 20.0]), np.array([0.0, 0.1, -4.0, -40.0])
    i, _ = layer_information(DiscreteInput((-3, -1, 1, 3)), "tanh", w, b, S)
    np.testing.assert_allclose(i, n.mi(w, b), atol=1e-14)


@pytest.mark.parametrize("setup", [
    (GaussianInput(0.0, 0.5), "tanh", 3.0, 0.1, "tanh", 3.0, -0.2),
    (GaussianInput(0.0, 0.5), "leaky_relu", 2.0, 0.1, "tanh", -2.0, 0.0),
    (DiscreteInput(range(1, 9)), "leaky_relu", -0.3, 2.0, "leaky_relu", -1.0, 0.5),
])
def test_quadrature_converged(setup):
    """Default resolution vs 2x finer panels, 6 instead of 5 nodes and 2x finer grids: 2e-8 nats."""
    a = chain_information(*setup, noise_std=S)
    b = chain_information(*setup, noise_std=S, panel=0.5, nodes=6, grid=0.25)
    assert abs(a.i_xt1 - b.i_xt1) < 2e-8 and abs(a.i_xt2 - b.i_xt2) < 2e-8


@pytest.mark.parametrize("ctor, params, n", [
    (NoisyChain.kong_leaky_leaky, (-0.88, 4.3, -0.23, 0.24), 200_000),   # Kong's printed final weights
    (NoisyChain.kong_tanh_tanh, (1.5, 0.1, 2.0, -0.2), 10_000),
    (NoisyChain.kong_leaky_tanh, (1.0, 0.0, -2.0, 0.3), 10_000),
    (NoisyChain.kong_mixture_neuron, (1.5, 0.2), 50_000),
])
def test_exact_information_agrees_with_monte_carlo(ctor, params, n):
    """Exact I(X;T_last) vs plain Monte Carlo of E[ln p(T|X) - ln p(T)]: within 4 standard errors."""
    net = ctor()
    p = np.array(params)
    info = net.information(p[None, :])
    exact = float((info["i_xt2"] if net.n_layers == 2 else info["i_xt1"])[0])
    est, se = net.monte_carlo_information(p, n_samples=n, seed=11)
    assert se < 2e-2
    assert abs(est - exact) < 4 * se, (est, exact, se)


@pytest.mark.parametrize("ctor, epochs", [
    (NoisyChain.kong_leaky_leaky, 250), (NoisyChain.kong_tanh_tanh, 250), (NoisyChain.kong_leaky_tanh, 120)])
def test_data_processing_along_trajectories(ctor, epochs):
    """I(X;T2) <= I(X;T1) at every logged epoch of two independent runs (Kong's SGD, coarse quadrature whose
    error is < 1e-3 nats; the margin below is 1e-3)."""
    run = ctor().train(epochs, seed=[0, 1], log_epochs=10, resolution="coarse")
    assert run.i_xt1.shape == (2, run.epochs.size)
    assert np.all(run.i_xt2 <= run.i_xt1 + 1e-3)
    assert np.all(run.i_xt1 >= -1e-3) and run.i_xt1.max() > 0.3     # training really moved the weights


def test_kong_leaky_leaky_trajectory_shape():
    """Kong Fig. 3: I(X;T1) rises to near ln 8 and then falls as the hidden values cluster; I(X;T2) rises as
    the outputs split into the two label clusters; test accuracy reaches 1 and the lr drops 20x."""
    net = NoisyChain.kong_leaky_leaky()
    run = net.train(300, seed=0, log_epochs=30, resolution="coarse", n_grid=101)
    k = int(np.argmax(run.i_xt1))
    assert run.i_xt1[k] > np.log(8) - 0.1 and run.i_xt1[-1] < run.i_xt1[k] - 0.1
    assert run.i_xt2[-1] > 0.6
    assert run.test_accuracy[-1] == 1.0 and run.lr[-1] == pytest.approx(net.lr / 20)
    assert run.p_t1.shape == (run.epochs.size, 101) and run.p_t2.shape == (run.epochs.size, 101)


def test_closed_form_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    for net in (NoisyChain.kong_tanh_tanh(), NoisyChain.kong_leaky_leaky(), NoisyChain.kong_mixture_neuron()):
        p = rng.normal(size=(3, net.init.size))
        x = net.x_input.sample(40, rng)[None, :].repeat(3, 0) + 0.01
        y = net.labels(x)
        z = rng.standard_normal((net.n_layers,) + x.shape)
        g = net.gradient(p, x, y, z)

        def loss(q):
            return 0.5 * np.mean((net.forward(q, x, z)[0][-1] - y) ** 2, axis=-1)

        h = 1e-6
        for j in range(p.shape[1]):
            e = np.zeros_like(p)
            e[:, j] = h
            np.testing.assert_allclose(g[:, j], (loss(p + e) - loss(p - e)) / (2 * h), atol=1e-7)


def test_training_is_reproducible():
    a = NoisyChain.kong_mixture_neuron().train(40, seed=3, log_epochs=5)
    b = NoisyChain.kong_mixture_neuron().train(40, seed=3, log_epochs=5)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.i_xt2 is None and a.p_t1.shape[0] == a.epochs.size


def test_bad_input_names_the_argument():
    x = DiscreteInput((1, 2))
    with pytest.raises(ValueError, match="noise_std"):
        chain_information(x, "tanh", 1.0, 0.0, "tanh", 1.0, 0.0, noise_std=0.0)
    with pytest.raises(ValueError, match="w2"):
        chain_information(x, "tanh", 1.0, 0.0, "tanh", np.nan, 0.0, noise_std=0.1)
    with pytest.raises(ValueError, match="points"):
        DiscreteInput((1, 1))
    with pytest.raises(ValueError, match="stds"):
        GaussianMixtureInput((0.0, 1.0), (0.5, -0.5))
    with pytest.raises(ValueError, match="noise_std"):
        NoisyChain.kong_tanh_tanh(noise_std=-0.05)
    with pytest.raises(ValueError, match="init"):
        NoisyChain.kong_tanh_tanh(init=(0.0, 0.0))
    with pytest.raises(ValueError, match="params"):
        NoisyChain.kong_tanh_tanh().information(np.array([[np.nan, 0, 0, 0]]))
