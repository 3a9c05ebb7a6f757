"""Numerical loss-derivative identity with the simulator: Delta L = -alpha ||grad||^2 + O(alpha^2); minibatch averages."""
import numpy as np
import pytest

from sims import MLP
from sims.gradient_identity import all_minibatches, loglog_slope, minibatch_identity, step_identity


@pytest.fixture(scope="module")
def problems():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3))
    ce = (MLP([3, 4, 2], "tanh"), x, rng.integers(0, 2, 8), "cross_entropy")
    mse = (MLP([3, 4, 4, 2], "sigmoid", output="linear"), x, rng.normal(size=(8, 2)), "mse")
    return {"ce": ce, "mse": mse}


@pytest.mark.parametrize("case", ["ce", "mse"])
def test_full_batch_step_is_first_order_exact(problems, case):
    net, x, y, loss = problems[case]
    r = step_identity(net, net.init_params(seed=1), x, y, loss=loss)
    # the remainder |Delta L + alpha ||grad||^2| is O(alpha^2): fitted log-log slope 2 +- 0.1
    assert abs(r.slope - 2.0) < 0.1
    # ... and its leading term is alpha^2/2 grad^T H grad (HVP by central differences): 1% at alpha <= 1e-3
    small = r.alphas <= 1e-3
    np.testing.assert_allclose(r.remainder[small] / r.second_order[small], 1.0, rtol=1e-2)
    # the first-order term dominates: relative deviation shrinks in proportion to alpha
    rel = np.abs(r.remainder / r.first_order)
    assert abs(loglog_slope(r.alphas, rel) - 1.0) < 0.1
    assert rel[0] < 1e-3


@pytest.mark.parametrize("case, batches, B", [("ce", "all", 3), ("mse", "all", 2), ("ce", "partition", 4)])
def test_minibatch_average_over_all_minibatches(problems, case, batches, B):
    net, x, y, loss = problems[case]
    m = minibatch_identity(net, net.init_params(seed=2), x, y, batch_size=B, loss=loss, batches=batches)
    # E_B[g_B] = grad L exactly (all C(n, B) subsets, or an equal partition)
    assert m.unbiasedness < 1e-12
    # so the first-order term -alpha grad . E[g_B] is -alpha sum_theta mu_theta^2 (the thesis's -alpha sum mu^2)
    np.testing.assert_allclose(m.first_order, -m.alphas * m.mean_sq, rtol=1e-12)
    # E_B[Delta L] = -alpha grad . E[g_B] + O(alpha^2): remainder slope 2 +- 0.1
    assert abs(m.slope - 2.0) < 0.1
    # and the O(alpha^2) term is alpha^2/2 (mu^T H mu + tr(H Sigma_B)): the gradient noise enters here
    small = m.alphas <= 1e-3
    np.testing.assert_allclose(m.remainder[small] / m.second_order[small], 1.0, rtol=1e-2)
    mean_part = 0.5 * m.alphas ** 2 * m.curvature_mean
    noise_part = 0.5 * m.alphas ** 2 * m.curvature_noise
    np.testing.assert_allclose(m.second_order, mean_part + noise_part, rtol=1e-6)
    assert abs(m.curvature_noise) > 0.1 * abs(m.curvature_mean)  # not negligible: SNR matters at O(alpha^2)
    # each batch's OWN loss falls by alpha E||g_B||^2 = alpha (||mu||^2 + tr Sigma): noise at first order
    np.testing.assert_allclose(m.own_delta_loss[0] / m.own_first_order[0], 1.0, rtol=1e-2)
    np.testing.assert_allclose(m.own_first_order - m.first_order, -m.alphas * m.noise_trace, rtol=1e-10)
    assert m.noise_trace > 0.1 * m.mean_sq


def test_direct_averages_match(problems):
    """Independent arithmetic: rebuild mu, ||mu||^2 and tr Sigma from the stored per-batch gradients."""
    net, x, y, loss = problems["ce"]
    m = minibatch_identity(net, net.init_params(seed=3), x, y, batch_size=2, loss=loss)
    assert m.batch_grads.shape == (28, net.n_params)
    mu = m.batch_grads.mean(0)
    np.testing.assert_allclose(m.mean_grad, mu, rtol=0, atol=1e-15)
    assert m.mean_sq == pytest.approx(float(np.sum(mu ** 2)), rel=1e-12)
    assert m.noise_trace == pytest.approx(float(np.sum(m.batch_grads.var(0))), rel=1e-12)
    _, g = net.loss_and_grads(net.init_params(seed=3), x, y, loss=loss)
    np.testing.assert_allclose(m.grad, net.flatten(g)[0], rtol=0, atol=1e-15)


def test_nonuniform_batches_are_biased(problems):
    """Sample 3 never drawn, others twice: the average batch gradient is NOT grad L."""
    net, x, y, loss = problems["ce"]
    m = minibatch_identity(net, net.init_params(seed=2), x, y, loss=loss,
                           batches=np.array([[0, 1], [0, 2], [1, 2], [4, 5], [6, 7]]))
    assert m.unbiasedness > 1e-3


def test_all_minibatches():
    idx = all_minibatches(5, 2)
    assert idx.shape == (10, 2) and len({tuple(r) for r in idx}) == 10
    assert np.all(np.bincount(idx.ravel()) == 4)  # every sample in C(4, 1) = 4 subsets


@pytest.mark.parametrize("kwargs, name", [
    (dict(alphas=[-1e-3, 1e-3]), "alphas"),
    (dict(alphas=[1e-3]), "alphas"),
    (dict(batch_size=9), "batch_size"),
    (dict(batch_size=3, batches="partition"), "batch_size"),
    (dict(batches="random"), "batches"),
    (dict(batches=np.array([[0, 99]])), "batches"),
    (dict(member=4), "member"),
])
def test_bad_input(problems, kwargs, name):
    net, x, y, loss = problems["ce"]
    with pytest.raises(ValueError, match=name):
        minibatch_identity(net, net.init_params(seed=1), x, y, loss=loss, **kwargs)


def test_bad_net():
    with pytest.raises(ValueError, match="net"):
        step_identity("net", None, np.ones((2, 1)), np.zeros(2))
