"""sims.parameters: the one flat (E, P) parameter layout of MLP and Sequential (slots, views, flatten, masks, init)."""
import dataclasses
import math

import numpy as np
import pytest

from sims import MLP
from sims.backend import NumpyBackend
from sims.layers import Conv2D, Dense, Flatten, MaxPool2D
from sims.network import Sequential
from sims.parameters import ParameterLayout, ParameterSlot, truncated_normal


def _cnn(**kw):
    return Sequential([Conv2D(3, 3), MaxPool2D(2), Flatten(), Dense(5), Dense(2)], input_shape=(2, 8, 8),
                      activation="tanh", **kw)


def test_both_networks_share_one_layout():
    mlp = MLP([3, 4, 2])
    assert mlp.layout == (ParameterSlot(0, 12, 16, (3, 4), (4,)), ParameterSlot(16, 24, 26, (4, 2), (2,)))
    assert mlp.n_params == 26 and mlp.weight_slices == [(0, 12), (16, 24)]
    net = _cnn()
    # conv 3x2x3x3 + 3, pool/flatten empty at 57, dense 3*3*3 = 27 -> 5, dense 5 -> 2
    assert [tuple(s) for s in net.layout] == [(0, 54, 57, (3, 2, 3, 3), (3,)), (57, 57, 57, None, None),
                                              (57, 57, 57, None, None), (57, 192, 197, (27, 5), (5,)),
                                              (197, 207, 209, (5, 2), (2,))]
    assert net.n_params == 209 and net.param_layout.fans == ((18, 27), None, None, (27, 5), (5, 2))
    assert net.param_layout.names == ("conv2d", "maxpool2d", "flatten", "dense", "dense")
    for w0, w1, *_ in net.layout:          # what sims.gradient_snr and the tests unpack
        assert 0 <= w0 <= w1 <= net.n_params
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.param_layout.unit = "x"


@pytest.mark.parametrize("make", [lambda: MLP([3, 4, 2]), _cnn])
def test_views_flatten_round_trip(make):
    net = make()
    theta = net.init_flat(3, seed=0)
    views = net.views(theta)
    assert all((W is None) == (s.w_shape is None) for (W, _), s in zip(views, net.layout))
    for (W, b), s in zip(views, net.layout):
        if W is not None:
            assert W.shape == (3, *s.w_shape) and b.shape == (3, *s.b_shape) and np.shares_memory(W, theta)
    np.testing.assert_array_equal(net.flatten(views), theta)
    one = net.flatten([(None, None) if W is None else (W[1], b[1]) for W, b in views], ensemble=4)
    np.testing.assert_array_equal(one, np.broadcast_to(theta[1], (4, net.n_params)))


def test_torch_views_share_the_flat_tensor():
    torch = pytest.importorskip("torch")
    net = _cnn()
    theta = torch.zeros((2, net.n_params), dtype=torch.float64)
    W = net.views(theta)[3][0]
    W += 1.0
    assert float(theta[:, 57:192].sum()) == 2 * 135 and float(theta.sum()) == 2 * 135
    np.testing.assert_array_equal(net.flatten(net.views(theta)), theta.numpy())


def test_flatten_errors_name_the_entry():
    mlp, net = MLP([3, 4, 2]), _cnn()
    p = mlp.init_params(2, seed=0)
    with pytest.raises(ValueError, match=r"^params: expected 2 \(W, b\) pairs \(one per weight layer\), got 1$"):
        mlp.flatten(p[:1])
    with pytest.raises(ValueError, match=r"^params\[1\]: W must have shape \(2, 4, 2\) and b \(2, 2\), got "
                                         r"\(2, 3, 2\) and \(2, 2\)$"):
        mlp.flatten([p[0], (p[1][0][:, :3], p[1][1])])
    W = p[0][0].copy()
    W[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^params\[0\]\[0\] contains NaN"):
        mlp.flatten([(W, p[0][1]), p[1]])
    q = net.init_params(2, seed=0)
    with pytest.raises(ValueError, match=r"^params: expected 5 \(W, b\) pairs \(one per layer\), got 4$"):
        net.flatten(q[:4])
    with pytest.raises(ValueError, match=r"^params\[1\]: layer 1 \(maxpool2d\) has no parameters; give "
                                         r"\(None, None\)$"):
        net.flatten([q[0], q[3], q[2], q[3], q[4]])
    with pytest.raises(ValueError, match=r"^params\[0\]: W must have shape \(2, 3, 2, 3, 3\)"):
        net.flatten([(q[0][0][..., :2], q[0][1])] + q[1:])


def test_flat_mask_and_its_errors():
    mlp = MLP([3, 4, 2], bias=False)
    mask = np.ones((3, 4))
    mask[0, 1] = 0
    m = mlp.flat_mask([mask, None], 2)
    assert m.shape == (2, 26)
    np.testing.assert_array_equal(m[:, :12], np.broadcast_to(mask.ravel(), (2, 12)))
    assert np.all(m[:, 12:16] == 0) and np.all(m[:, 16:24] == 1) and np.all(m[:, 24:] == 0)   # biases fixed
    assert MLP([3, 4, 2]).flat_mask(None, 2) is None
    with pytest.raises(ValueError, match=r"^mask: expected one entry per weight layer \(2\), got 1$"):
        mlp.flat_mask([mask], 2)
    with pytest.raises(ValueError, match=r"^mask\[0\] must contain only 0/1"):
        mlp.flat_mask([np.full((3, 4), 0.5), None], 2)
    with pytest.raises(ValueError, match=r"^mask\[1\] must have shape \(4, 2\) or \(2, 4, 2\), got \(3,\)$"):
        mlp.flat_mask([None, np.ones(3)], 2)
    net = _cnn()
    with pytest.raises(ValueError, match=r"^mask\[2\]: layer 2 \(flatten\) has no weights; give None$"):
        net.flat_mask([None, None, np.ones(3), None, None], 1)
    with pytest.raises(ValueError, match=r"^mask: expected one entry per layer \(5\), got 2$"):
        net.flat_mask([None, None], 1)
    m = net.flat_mask([np.zeros((3, 2, 3, 3)), None, None, None, None], 2)
    assert np.all(m[:, :54] == 0) and np.all(m[:, 54:] == 1)
    W0 = net.init_params(2, seed=1, mask=[np.zeros((3, 2, 3, 3)), None, None, None, None])[0][0]
    assert np.all(W0 == 0)


@pytest.mark.parametrize("init,scale", [("glorot", None), ("glorot", 0.5), ("truncated_normal", None),
                                        ("truncated_normal", 2.0), ("normal", 0.3), ("zeros", None)])
def test_dense_sequential_draws_the_mlp_parameters(init, scale):
    """A Sequential of Dense layers and the MLP of the same widths have one layout and the same draws (every init
    both accept; their default inits differ: glorot for Sequential, truncated_normal for the MLP)."""
    mlp = MLP([5, 4, 3, 2], init=init, init_scale=scale)
    seq = Sequential([Dense(4), Dense(3), Dense(2)], input_shape=5, activation="tanh", init=init, init_scale=scale)
    assert mlp.layout == seq.layout and mlp.param_layout.fans == seq.param_layout.fans
    for E, seed in ((1, 0), (3, 1)):
        np.testing.assert_array_equal(mlp.init_flat(E, seed=seed), seq.init_flat(E, seed=seed))
    np.testing.assert_array_equal(mlp.init_flat(2, rng=np.random.default_rng(5)),
                                  seq.init_flat(2, rng=np.random.default_rng(5)))


def test_draw_order_layer_by_layer_whole_ensemble():
    net = _cnn(init="glorot")
    theta = net.init_flat(3, seed=7)
    rng = np.random.default_rng(7)
    lim = lambda fi, fo: math.sqrt(6 / (fi + fo))        # noqa: E731
    W0 = rng.uniform(-lim(18, 27), lim(18, 27), (3, 3, 2, 3, 3))
    W3 = rng.uniform(-lim(27, 5), lim(27, 5), (3, 27, 5))
    W4 = rng.uniform(-lim(5, 2), lim(5, 2), (3, 5, 2))
    np.testing.assert_array_equal(theta, np.concatenate([W0.reshape(3, -1), np.zeros((3, 3)), W3.reshape(3, -1),
                                                         np.zeros((3, 5)), W4.reshape(3, -1), np.zeros((3, 2))], 1))
    t = MLP([4, 3, 2], init="truncated_normal").init_flat(2, seed=3)
    rng = np.random.default_rng(3)
    W0, W1 = truncated_normal(rng, (2, 4, 3), 0.5), truncated_normal(rng, (2, 3, 2), 1 / math.sqrt(3))
    np.testing.assert_array_equal(t, np.concatenate([W0.reshape(2, -1), np.zeros((2, 3)), W1.reshape(2, -1),
                                                     np.zeros((2, 2))], 1))


def test_seeds_are_accepted_one_way():
    for net in (MLP([3, 4, 2]), _cnn()):
        np.testing.assert_array_equal(net.init_flat(2, seed=4), net.init_flat(2, rng=np.random.default_rng(4)))
        np.testing.assert_array_equal(net.init_flat(2, rng=4), net.init_flat(2, seed=4))
        with pytest.raises(ValueError, match="^seed must be >= 0"):
            net.init_flat(2, seed=-1)
        with pytest.raises(TypeError, match="^rng must be None, an integer"):
            net.init_flat(2, rng=1.5)
        with pytest.raises(ValueError, match="ensemble"):
            net.init_flat(0, seed=0)


def test_init_choices_and_orthogonal():
    lay = _cnn().param_layout
    with pytest.raises(ValueError, match="^init: 'orthogonal' needs matrix weights; layer 0 \\(conv2d\\)"):
        lay.init("orthogonal", None, 1, seed=0)
    with pytest.raises(ValueError, match="^init must be one of"):
        lay.init("he", None, 1, seed=0)
    with pytest.raises(ValueError, match="^init_scale: init='normal' needs"):
        lay.init("normal", None, 1, seed=0)
    with pytest.raises(ValueError, match="^init must be one of"):   # Sequential keeps its accepted inits
        _cnn(init="orthogonal")
    dense = ParameterLayout.from_shapes([((6, 4), (4,)), ((4, 9), (9,))], [(6, 4), (4, 9)])
    Wa, Wb = (W for W, _ in dense.views(dense.init("orthogonal", 2.0, 3, seed=0)))
    np.testing.assert_allclose(Wa.swapaxes(1, 2) @ Wa, np.broadcast_to(4 * np.eye(4), (3, 4, 4)), atol=1e-12)
    np.testing.assert_allclose(Wb @ Wb.swapaxes(1, 2), np.broadcast_to(4 * np.eye(4), (3, 4, 4)), atol=1e-12)
    with pytest.raises(ValueError, match=r"^fans\[0\]: a layer has fans exactly when"):
        ParameterLayout.from_shapes([((2, 3), (3,))], [None])
    with pytest.raises(ValueError, match="one entry per layer"):
        ParameterLayout.from_shapes([((2, 3), (3,))], [(2, 3), (3, 1)])
    assert ParameterLayout.from_shapes([], []).n_params == 0


def test_orthonormality_step_on_hidden_matrices_only():
    be, alpha = NumpyBackend(), 0.1
    for net, hidden in ((MLP([4, 3, 3, 2]), (0, 1)), (_cnn(), (3,))):
        theta = net.init_flat(2, seed=0)
        Ws = [W for W, _ in net.views(theta)]
        before = [None if W is None else W.copy() for W in Ws]
        net.orthonormality_step(be, Ws, alpha)
        for l, (W, W0) in enumerate(zip(Ws, before)):
            if l in hidden:
                np.testing.assert_allclose(W, W0 - alpha * (W0 @ W0.swapaxes(1, 2) @ W0 - W0), rtol=1e-14)
            elif W is not None:
                np.testing.assert_array_equal(W, W0)
