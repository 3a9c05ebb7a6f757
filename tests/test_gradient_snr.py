"""Gradient SNR: the simulator's per-epoch statistics against a direct replay of the minibatch gradients."""
from types import SimpleNamespace

import numpy as np
import pytest

from sims import MLP, train
from sims.gradient_snr import (GradientSNR, gradient_snr, layer_norm_stats, linear_111_snr,
                               minibatch_gradient_stats, trajectory_gradient_stats)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    data = SimpleNamespace(x_train=x[:12], y_train=y[:12], x_test=x[12:], y_test=y[12:])
    net = MLP([3, 4, 3, 2], "tanh")
    lr, B, epochs = 0.2, 4, 4
    run = train(net, data, ensemble=2, epochs=epochs, batch_size=B, optimizer="sgd", lr=lr, shuffle=False,
                log_epochs=list(range(epochs + 1)), record_params=True, progress=False)
    return SimpleNamespace(net=net, data=data, run=run, lr=lr, B=B)


def _direct_epoch(net, theta, x, y, lr, B):
    """Replay one SGD epoch (no shuffle) with the public loss_and_grads; return the per-batch weight
    gradients per layer (list over layers of (n_batches, E, fan_in*fan_out)) and the final parameters."""
    theta = theta.copy()
    per_layer = [[] for _ in range(net.n_layers)]
    for s in range(0, x.shape[0], B):
        _, grads = net.loss_and_grads(net.views(theta), x[s:s + B], y[s:s + B])
        for l, (gW, _) in enumerate(grads):
            per_layer[l].append(gW.reshape(gW.shape[0], -1).copy())
        theta = theta - lr * net.flatten(grads)
    return [np.stack(p) for p in per_layer], theta


def test_simulator_stats_match_direct_replay(tiny):
    net, run, d = tiny.net, tiny.run, tiny.data
    g = gradient_snr(run)
    assert g.mean_norm.shape == (2, 5, 3) and g.source == "simulator"
    assert np.all(np.isnan(g.mean_norm[:, 0]))  # epoch 0: before any update, no minibatches
    for i in range(1, len(run.epochs)):
        start = net.flatten(run.params_at(i - 1))
        per_layer, end = _direct_epoch(net, start, d.x_train, d.y_train, tiny.lr, tiny.B)
        np.testing.assert_allclose(end, net.flatten(run.params_at(i)), rtol=0, atol=1e-12)  # replay is exact
        for l, G in enumerate(per_layer):  # G: (n_batches, E, weights)
            mean = np.linalg.norm(G.mean(0), axis=-1)
            std = np.linalg.norm(G.std(0), axis=-1)  # population std, elementwise over the minibatches
            np.testing.assert_allclose(g.mean_norm[:, i, l], mean, rtol=1e-9)
            np.testing.assert_allclose(g.std_norm[:, i, l], std, rtol=1e-9)
            np.testing.assert_allclose(g.snr[:, i, l], mean / std, rtol=1e-9)
            W = run.params_at(i)[l][0]
            np.testing.assert_allclose(g.weight_norm[:, i, l], np.linalg.norm(W.reshape(2, -1), axis=1), rtol=1e-12)


def test_fixed_parameter_stats(tiny):
    """All minibatch gradients at the same parameters: over an equal partition the mean IS the full gradient."""
    net, run, d = tiny.net, tiny.run, tiny.data
    params = run.params_at(2)
    st = minibatch_gradient_stats(net, params, d.x_train, d.y_train, batch_size=tiny.B)
    _, full = net.loss_and_grads(params, d.x_train, d.y_train)
    for l, (gW, _) in enumerate(full):
        np.testing.assert_allclose(st["mean_norm"][:, l], np.linalg.norm(gW.reshape(2, -1), axis=1), rtol=1e-12)
    G = st["gradients"]
    assert G.shape == (3, 2, net.n_params)
    w0, w1 = net.layout[1][:2]
    np.testing.assert_allclose(st["std_norm"][:, 1], np.linalg.norm(G[..., w0:w1].std(0), axis=-1), rtol=1e-12)
    # the trajectory version evaluates every logged parameter vector at once: same numbers
    tr = trajectory_gradient_stats(run, d.x_train, d.y_train, batch_size=tiny.B)
    assert tr.source == "fixed-parameters" and tr.mean_norm.shape == (2, 5, 3)
    np.testing.assert_allclose(tr.mean_norm[:, 2], st["mean_norm"], rtol=1e-12)
    np.testing.assert_allclose(tr.snr[:, 2], st["snr"], rtol=1e-12)


def test_layer_norm_stats_by_hand():
    net = MLP([1, 2, 1], "linear", output="linear")  # P = 2 + 2 + 2 + 1 = 7; weights at 0:2 and 4:6
    G = np.array([[1.0, 2.0, 9.0, 9.0, 3.0, 0.0, 9.0],
                  [3.0, 2.0, 9.0, 9.0, 1.0, 4.0, 9.0]])[:, None, :]
    st = layer_norm_stats(net, G)
    np.testing.assert_allclose(st["mean_norm"][0], [np.hypot(2.0, 2.0), np.hypot(2.0, 2.0)])
    np.testing.assert_allclose(st["std_norm"][0], [1.0, np.hypot(1.0, 2.0)])


def test_summary_selection_and_crossing():
    mean = np.array([[[1.0], [0.5], [0.1]], [[0.0], [0.0], [0.0]]])
    std = np.array([[[0.1], [1.0], [1.0]], [[0.0], [0.0], [0.0]]])
    with np.errstate(invalid="ignore"):
        g = GradientSNR(epochs=np.array([1, 2, 3]), mean_norm=mean, std_norm=std, snr=mean / std,
                        train_loss=np.array([[0.7, 0.5, 0.2], [0.69, 0.69, 0.69]]))
    alive = g.trained()
    assert alive.tolist() == [True, False]  # the second member never moved (a dead ReLU net)
    live = g.select(alive)
    assert live.mean_norm.shape == (1, 3, 1)
    assert live.crossing_epoch().tolist() == [[2.0]]
    np.testing.assert_allclose(live.summary()["snr"][:, 0], [10.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="statistic"):
        g.summary("mean")


def test_linear_111_sgd_and_bgd():
    sgd = linear_111_snr("sgd", epochs=150, n_samples=20, lr=1e-2, log_epochs=20)
    bgd = linear_111_snr("bgd", epochs=3000, n_samples=20, lr=1e-2, log_epochs=20)
    for g in (sgd, bgd):
        assert g.mean_norm.shape == (1, 20, 2)
        assert g.train_loss[0, -1] < 0.5 * g.train_loss[0, 0]  # learned the slope
        # drift, then diffusion: SNR well below its plateau value once converged
        assert np.nanmax(g.snr[0, :5]) > 0.5 and g.snr[0, -1, 0] < 0.05
    # BGD converges to the exact minimum: the mean gradient vanishes, the per-sample spread does not
    assert bgd.mean_norm[0, -1, 0] < 1e-8 < 0.1 < bgd.std_norm[0, -1, 0]
    np.testing.assert_allclose(bgd.time[-1], 3000 * 1e-2)
    np.testing.assert_allclose(sgd.time[-1], 150 * 20 * 1e-2)


def test_twelve_bit_smoke():
    from experiments.gradient_snr import twelve_bit_snr
    g, run = twelve_bit_snr("relu", epochs=2, ensemble=2, log_epochs=[0, 1, 2])
    assert g.mean_norm.shape == (2, 3, 6) and g.label == "relu"
    assert np.all(np.isfinite(g.std_norm[:, 1:]))


def test_bad_input(tiny):
    with pytest.raises(ValueError, match="run"):
        gradient_snr("run")
    with pytest.raises(ValueError, match="batch_size"):
        minibatch_gradient_stats(tiny.net, tiny.run.params, tiny.data.x_train, tiny.data.y_train, batch_size=5)
    run = train(tiny.net, tiny.data, epochs=1, batch_size=4, optimizer="sgd", lr=0.1, progress=False)
    with pytest.raises(ValueError, match="record_params"):
        trajectory_gradient_stats(run, tiny.data.x_train, tiny.data.y_train)
    with pytest.raises(ValueError, match="method"):
        linear_111_snr("adam")
    with pytest.raises(ValueError, match="gradients"):
        layer_norm_stats(tiny.net, np.zeros((3, 1, 5)))


def test_sequential_mean_differs_from_fixed_parameter_mean_at_order_lr(tiny):
    """The simulator averages gradients taken along the epoch's updates; at the epoch's starting parameters
    the fixed-parameter mean is the full gradient. They differ by O(lr): halving lr halves the gap."""
    net, d = tiny.net, tiny.data
    init = net.init_params(ensemble=2, seed=5)
    gaps = []
    for lr in (0.02, 0.01, 0.005):
        run = train(net, d, ensemble=2, epochs=1, batch_size=tiny.B, optimizer="sgd", lr=lr, shuffle=False,
                    log_epochs=[0, 1], params=init, progress=False)
        fixed = minibatch_gradient_stats(net, init, d.x_train, d.y_train, batch_size=tiny.B)
        gaps.append(np.abs(run.grad_stats["mean_norm"][:, 1] - fixed["mean_norm"]).max())
    ratios = np.array(gaps[:-1]) / np.array(gaps[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)


def test_scalar_teacher_seed_forms():
    import numpy as np
    import pytest

    from sims.gradient_snr import scalar_teacher
    a = scalar_teacher(10, seed=5)
    b = scalar_teacher(10, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    for bad in (-1, "abc", 1.5, True):
        with pytest.raises((ValueError, TypeError), match="seed"):
            scalar_teacher(10, seed=bad)
