"""MLP: exact gradients (finite differences), initializations, masks, forward shapes, input validation."""
import zlib

import numpy as np
import pytest

from analytic.activations import ACTIVATION_NAMES, get_activation
from sims.backend import NumpyBackend
from sims.mlp import MLP, _derivative, targets_from_labels

COMBOS = [("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"), ("softmax", "mse"),
          ("sigmoid", "mse"), ("linear", "mse")]


def _random_params(net, E, rng):
    """Initial weights plus nonzero biases (zero biases put dead-ReLU layers exactly at the kink)."""
    params = net.init_params(E, rng=rng)
    return [(W, 0.3 * rng.standard_normal(b.shape)) for W, b in params]


def _fd_grad(net, params, x, y, loss, noise=None, h=1e-6):
    """Central differences for every parameter at once: the 2P perturbed copies of each member are
    evaluated as one big ensemble (E*P members)."""
    theta = net.flatten(params)
    E, P = theta.shape
    step = h * np.eye(P)
    rep = (lambda a: np.repeat(a, P, axis=0)) if np.ndim(x) == 3 else (lambda a: a)
    noise_rep = None if noise is None else [np.repeat(n, P, axis=0) for n in noise]
    lp = net.loss_and_grads(net.views((theta[:, None] + step).reshape(E * P, P)), rep(x), y, loss, noise_rep)[0]
    lm = net.loss_and_grads(net.views((theta[:, None] - step).reshape(E * P, P)), rep(x), y, loss, noise_rep)[0]
    return ((lp - lm) / (2 * h)).reshape(E, P)


@pytest.mark.parametrize("output,loss", COMBOS)
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_gradients_match_finite_differences(activation, output, loss):
    rng = np.random.default_rng(zlib.crc32(f"{activation}{output}{loss}".encode()))
    net = MLP([4, 5, 3, 3], activation=activation, output=output)
    params = _random_params(net, 2, rng)
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, 6)
    L, grads = net.loss_and_grads(params, x, y, loss)
    g = net.flatten(grads)
    num = _fd_grad(net, params, x, y, loss)
    # central differences with h = 1e-6 on O(1) losses: truncation ~h^2, rounding ~1e-16/h ~ 1e-10
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    assert L.shape == (2,)


def test_gradients_with_mask_noise_float_targets_and_per_member_inputs():
    rng = np.random.default_rng(3)
    net = MLP([4, 6, 5, 2], activation=["tanh", "softplus"], output="linear")
    mask = [rng.integers(0, 2, (4, 6)), None, np.array([[1, 0]] * 5)]
    params = net.init_params(3, rng=rng, mask=mask)
    assert np.all(params[0][0][:, mask[0] == 0] == 0) and np.all(params[2][0][:, :, 1] == 0)
    params = [(W, 0.2 * rng.standard_normal(b.shape)) for W, b in params]
    x = rng.normal(size=(3, 7, 4))                     # a different input batch per member
    y = rng.normal(size=(7, 2))                        # regression targets
    noise = [0.1 * rng.standard_normal((3, 7, w)) for w in (6, 5)]
    _, grads = net.loss_and_grads(params, x, y, "mse", noise)
    np.testing.assert_allclose(net.flatten(grads), _fd_grad(net, params, x, y, "mse", noise), rtol=1e-6, atol=1e-8)


def test_single_sigmoid_unit_binary_labels():
    rng = np.random.default_rng(4)
    net = MLP([3, 4, 1], activation="tanh", output="sigmoid")
    params = _random_params(net, 2, rng)
    x, y = rng.normal(size=(9, 3)), rng.integers(0, 2, 9)
    L, grads = net.loss_and_grads(params, x, y, "cross_entropy")
    np.testing.assert_allclose(net.flatten(grads), _fd_grad(net, params, x, y, "cross_entropy"), rtol=1e-6, atol=1e-8)
    # binary cross-entropy by hand
    p = net.forward(params, x)[-1][..., 0]
    np.testing.assert_allclose(L, -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1), rtol=1e-12)


def test_loss_values_by_hand():
    rng = np.random.default_rng(5)
    net = MLP([3, 4, 3], activation="relu", output="softmax")
    params = _random_params(net, 2, rng)
    x, y = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    p = net.forward(params, x)[-1]
    ce, _ = net.loss_and_grads(params, x, y, "cross_entropy")
    np.testing.assert_allclose(ce, -np.log(p[:, np.arange(5), y]).mean(1), rtol=1e-12)
    mse, _ = net.loss_and_grads(params, x, y, "mse")
    np.testing.assert_allclose(mse, 0.5 * ((p - np.eye(3)[y]) ** 2).sum(-1).mean(1), rtol=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_backprop_derivative_matches_activation_derivative(name):
    act = get_activation(name)
    z = np.concatenate([np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-300, -1e-300, -1.0, 1.0]])
    np.testing.assert_allclose(_derivative(NumpyBackend(), act, z, act.value(z)), act.derivative(z),
                               rtol=1e-9, atol=1e-15)


def test_forward_shapes_shared_and_per_member_inputs_agree():
    rng = np.random.default_rng(6)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh")
    params = net.init_params(4, rng=rng)
    x = rng.normal(size=(33, 12))
    shared = net.forward(params, x)
    per = net.forward(params, np.broadcast_to(x, (4, 33, 12)))
    assert [a.shape for a in shared] == [(4, 33, w) for w in (10, 7, 5, 4, 3, 2)]
    for a, b in zip(shared, per):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    np.testing.assert_allclose(shared[-1].sum(-1), 1.0, atol=1e-14)
    # member e equals a plain single-network forward pass
    W0, b0 = params[0]
    np.testing.assert_allclose(shared[0][2], np.tanh(x @ W0[2] + b0[2]), atol=1e-14)
    # noise: output layer noiseless, hidden perturbed, reproducible with a seeded rng
    n1 = net.forward(params, x, noise_std=0.1, rng=np.random.default_rng(0))
    n2 = net.forward(params, x, noise_std=0.1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(n1[0], n2[0])
    assert 0.05 < np.std(n1[0] - shared[0]) < 0.15


def test_truncated_normal_init():
    net = MLP([100, 50, 2], init="truncated_normal")
    W = net.init_params(40, seed=1)[0][0]
    std = 1 / np.sqrt(100)
    assert np.abs(W).max() <= 2 * std
    # std of N(0,1) truncated to [-2, 2]: sqrt(1 - 4 phi(2) / (2 Phi(2) - 1)) = 0.879569...
    assert abs(W.std() / std - 0.879569) < 0.01   # 200,000 draws: sampling error ~0.002
    assert np.all(net.init_params(2, seed=1)[0][1] == 0)
    W2 = MLP([100, 50, 2], init="truncated_normal", init_scale=3.0).init_params(40, seed=1)[0][0]
    np.testing.assert_allclose(W2, 3 * W)


def test_glorot_orthogonal_normal_zeros_init():
    W = MLP([30, 20, 2], init="glorot").init_params(50, seed=2)[0][0]
    lim = np.sqrt(6 / 50)
    assert np.abs(W).max() <= lim and abs(W.std() - lim / np.sqrt(3)) < 0.01 * lim
    Wo = MLP([30, 20, 2], init="orthogonal").init_params(3, seed=2)[0][0]      # 30 x 20: orthonormal columns
    np.testing.assert_allclose(Wo.swapaxes(1, 2) @ Wo, np.broadcast_to(np.eye(20), (3, 20, 20)), atol=1e-12)
    Wt = MLP([5, 8, 2], init="orthogonal", init_scale=2.0).init_params(3, seed=2)[0][0]  # 5 x 8: orthogonal rows
    np.testing.assert_allclose(Wt @ Wt.swapaxes(1, 2), np.broadcast_to(4 * np.eye(5), (3, 5, 5)), atol=1e-12)
    Wn = MLP([40, 50, 2], init="normal", init_scale=0.3).init_params(50, seed=2)[0][0]
    assert abs(Wn.std() - 0.3) < 0.005
    assert np.all(MLP([3, 2], init="zeros").init_params(2, seed=0)[0][0] == 0)


def test_bias_false_and_flatten_roundtrip():
    net = MLP([3, 4, 2], bias=False)
    m = net.flat_mask(None, 2)
    assert m is not None and m[:, 12:16].sum() == 0 and m[:, :12].min() == 1
    params = net.init_params(2, seed=0)
    theta = net.flatten(params)
    np.testing.assert_array_equal(net.flatten(net.views(theta)), theta)
    assert net.n_params == 3 * 4 + 4 + 4 * 2 + 2


@pytest.mark.parametrize("kwargs,name", [
    (dict(widths=[12, 0, 2]), "widths"), (dict(widths=[3]), "widths"), (dict(widths=[3, 2.5]), "widths"),
    (dict(widths=[3, 4, 2], activation="swish"), "activation"),
    (dict(widths=[3, 4, 2], activation=["tanh", "relu"]), "activation"),
    (dict(widths=[3, 4, 2], output="tanh"), "output"), (dict(widths=[3, 4, 2], init="he"), "init"),
    (dict(widths=[3, 4, 2], init="normal"), "init_scale"), (dict(widths=[3, 4, 2], init_scale=-1.0), "init_scale"),
])
def test_bad_specification_raises_naming_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MLP(**kwargs)


def test_bad_labels_and_masks():
    net = MLP([3, 4, 2])
    with pytest.raises(ValueError, match="y"):
        targets_from_labels(np.array([0, 1, 2]), 2)
    with pytest.raises(ValueError, match="mask"):
        net.flat_mask([np.ones((3, 5)), None], 1)
    with pytest.raises(ValueError, match="mask"):
        net.flat_mask([np.full((3, 4), 0.5), None], 1)
    with pytest.raises(ValueError, match="loss"):
        MLP([3, 2], output="linear").loss_and_grads(net.init_params(1, seed=0)[:1], np.ones((2, 3)), [0, 1])


def test_activations_and_networks_pickle():
    import pickle

    from analytic.activations import ACTIVATION_NAMES, get_activation
    z = np.linspace(-3, 3, 13)
    for name in ACTIVATION_NAMES:
        f = get_activation(name)
        g = pickle.loads(pickle.dumps(f))
        assert g == f and g.name == f.name and g.params == f.params
        np.testing.assert_array_equal(g.value(z), f.value(z))
        np.testing.assert_array_equal(g.derivative(z), f.derivative(z))
        np.testing.assert_array_equal(g.generalized_inverse(z / 4), f.generalized_inverse(z / 4))
    assert pickle.loads(pickle.dumps(get_activation("leaky_relu", slope=0.3))).value(-1.0) == -0.3
    net = MLP([3, 4, 4, 2], activation=["relu", get_activation("leaky_relu", slope=0.2)], output="sigmoid")
    net2 = pickle.loads(pickle.dumps(net))
    assert net2.spec() == net.spec()
    params = net.init_params(ensemble=2, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 3))
    for a, b in zip(net.forward(params, x), net2.forward(params, x)):
        np.testing.assert_array_equal(a, b)


def test_forward_rejects_nan_and_complex_input():
    net = MLP([3, 4, 2])
    params = net.init_params(ensemble=2, seed=0)
    x = np.ones((5, 3))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        net.forward(params, x)
    with pytest.raises(TypeError, match="x must be real"):
        net.forward(params, np.ones((5, 3)) + 1j)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("noisy", [False, True])
def test_workspace_passes_give_identical_numbers(activation, noisy):
    """propagate / backprop_into with a workspace (the training step: reused arrays, tanh and 1 - f^2 in place)
    give bit-identical outputs and gradients to the allocating passes, call after call (reused arrays)."""
    be, rng = NumpyBackend(), np.random.default_rng(4)
    net = MLP([5, 7, 4, 3], activation=activation)
    E, B = 3, 11
    theta = net.flatten(_random_params(net, E, rng))
    Ws, bs = zip(*net.views(theta))
    work = {}
    for _ in range(3):
        xT = rng.standard_normal((E, 5, B))
        tT = np.eye(3)[rng.integers(0, 3, size=(E, B))].transpose(0, 2, 1).copy()
        noises = [0.1 * rng.standard_normal((E, w, B)) for w in (7, 4)] if noisy else None
        out = []
        for ws in (None, work):
            zs, fs, acts = net.propagate(be, Ws, bs, xT, noises, workspace=ws)
            z_out, a_out = zs[-1].copy(), acts[-1].copy()
            hidden = [a.copy() for a in acts[:-1]]
            grad = np.zeros_like(theta)
            gW, gb = zip(*net.views(grad))
            net.backprop_into(be, Ws, zs, fs, acts, xT, tT, "cross_entropy", gW, gb, workspace=ws)
            out.append((z_out, a_out, hidden, grad))
        (z0, a0, h0, g0), (z1, a1, h1, g1) = out
        np.testing.assert_array_equal(z1, z0)
        np.testing.assert_array_equal(a1, a0)
        for u, v in zip(h1, h0):
            np.testing.assert_array_equal(u, v)
        np.testing.assert_array_equal(g1, g0)
    assert work                                             # the arrays were kept for reuse
