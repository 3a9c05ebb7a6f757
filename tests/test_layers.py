"""Conv / pool / flatten / dense layers and the Sequential network (sims.layers, sims.network, sims.conv_ops).

Gradients are checked against an independent route: torch autograd through a per-member loop of
torch.nn.functional.conv2d / max_pool2d (float64), and central finite differences on a tiny case.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from sims import datasets, load_run, train  # noqa: E402
from sims.backend import NumpyBackend, TorchBackend  # noqa: E402
from sims.conv_ops import conv_output_size  # noqa: E402
from sims.layers import Conv2D, Dense, Flatten, MaxPool2D, layer_from_spec  # noqa: E402
from sims.network import Sequential, network_from_spec  # noqa: E402
from sims.optim import Adadelta  # noqa: E402

CASES = {
    # valid / same (stride 2) convolutions, non-overlapping pooling, tanh
    "valid-same-s2": dict(layers=lambda: [Conv2D(4, 3), Conv2D(5, 3, stride=2, padding="same"), MaxPool2D(2),
                                          Flatten(), Dense(7), Dense(3)],
                          input_shape=(2, 9, 9), activation="tanh", output="softmax", loss="cross_entropy"),
    # even kernel with 'same' (asymmetric padding), overlapping pooling (3 stride 2), stride-2 valid conv, relu
    "same-even-overlap": dict(layers=lambda: [Conv2D(3, 4, padding="same"), MaxPool2D(3, stride=2),
                                              Conv2D(2, 2, stride=2), Flatten(), Dense(4)],
                              input_shape=(1, 8, 7), activation="relu", output="softmax", loss="cross_entropy"),
    # stride 3, several input channels, sigmoid units, mean squared error on a softmax output
    "stride3-mse": dict(layers=lambda: [Conv2D(4, 3, stride=3), MaxPool2D(2), Flatten(), Dense(5), Dense(3)],
                        input_shape=(3, 7, 6), activation="sigmoid", output="softmax", loss="mse"),
    # 3x3 stride-1 convolutions on >= 4 input channels take the Winograd route: shared input with 'same' padding,
    # then an odd-sized output (one padded tile row)
    "winograd": dict(layers=lambda: [Conv2D(4, 3, padding="same"), Conv2D(5, 3), MaxPool2D(2), Flatten(), Dense(3)],
                     input_shape=(4, 7, 6), activation="relu", output="softmax", loss="cross_entropy"),
}


def _net(case):
    c = CASES[case]
    return Sequential(c["layers"](), input_shape=c["input_shape"], activation=c["activation"], output=c["output"])


def _autograd_reference(net, theta, x, y, loss):
    """Per-member loss (E,) with torch autograd through F.conv2d / F.max_pool2d, one member at a time."""
    theta = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    views = net.views(theta)
    S = x.shape[0]
    xs = torch.tensor(x, dtype=torch.float64).reshape(S, *net.input_shape)
    k = net.widths[-1]
    t = torch.eye(k, dtype=torch.float64)[torch.as_tensor(y)]
    acts = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}
    losses = []
    for e in range(theta.shape[0]):
        a = xs
        for l, (layer, (W, b)) in enumerate(zip(net.layers, views)):
            if layer.kind == "conv2d":
                H, Wd = a.shape[-2:]
                _, pt, pb = conv_output_size(H, layer.kernel_size, layer.stride, layer.padding)
                _, pl, pr = conv_output_size(Wd, layer.kernel_size, layer.stride, layer.padding)
                a = F.conv2d(F.pad(a, (pl, pr, pt, pb)), W[e], b[e], stride=layer.stride)
            elif layer.kind == "maxpool2d":
                a = F.max_pool2d(a, layer.pool_size, layer.stride)
            elif layer.kind == "flatten":
                a = a.reshape(S, -1)
            else:
                a = a @ W[e] + b[e]
            if l < net.n_layers - 1 and net.activations[l] is not None:
                a = acts[net.activations[l].name](a)
        if loss == "cross_entropy":
            losses.append(F.cross_entropy(a, torch.as_tensor(y)))
        else:
            losses.append(0.5 * ((torch.softmax(a, -1) - t) ** 2).sum() / S)
    L = torch.stack(losses)
    L.sum().backward()
    return L.detach().numpy(), theta.grad.numpy()


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("E", [1, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradients_match_torch_autograd(case, E, backend):
    net = _net(case)
    rng = np.random.default_rng(hash((case, E)) % 2**32)
    S = 6
    theta = net.init_flat(E, seed=1)
    theta[:, :] += 0.05 * rng.standard_normal(theta.shape)       # nonzero biases too
    x = rng.normal(size=(S, net.widths[0]))
    y = rng.integers(0, net.widths[-1], S)
    loss = CASES[case]["loss"]
    L_ref, g_ref = _autograd_reference(net, theta, x, y, loss)
    be = NumpyBackend() if backend == "numpy" else TorchBackend()
    L, grads = net.loss_and_grads(net.views(theta), x, y, loss=loss, backend=be)
    g = net.flatten(grads)
    L = be.to_numpy(L)
    np.testing.assert_allclose(L, L_ref, rtol=1e-12, atol=1e-14)
    scale = np.abs(g_ref).max()
    assert np.abs(g - g_ref).max() <= 1e-10 * scale, np.abs(g - g_ref).max() / scale


@pytest.mark.parametrize("route", ["im2col", "winograd"])
def test_numpy_conv_kernels_match_torch(route, monkeypatch):
    """NumPy conv2d and its adjoint (both routes: im2col, and Winograd F(2x2, 3x3) for 3x3 stride-1 kernels)
    against torch autograd through F.conv2d, float64: shared and per-member input, valid and same padding, odd
    and even output sizes, E in {1, 3}."""
    import sims.conv_ops as conv_ops
    monkeypatch.setattr(conv_ops, "WINOGRAD_MIN_CHANNELS", 1 if route == "winograd" else 10**9)
    rng = np.random.default_rng(7)
    shapes = [(1, 3, 4, 5, 8, 8, 3, 1, "valid", False), (3, 2, 5, 2, 7, 9, 3, 1, "valid", False),
              (2, 3, 4, 3, 7, 6, 3, 1, "same", False), (3, 3, 6, 4, 9, 8, 3, 1, "same", True),
              (2, 3, 4, 3, 9, 8, 3, 2, "same", False), (2, 3, 2, 3, 9, 8, 4, 1, "same", False),
              (3, 2, 3, 2, 10, 9, 2, 3, "valid", True)]
    ops = conv_ops.NumpyConvOps()
    for E, S, C, O, H, Wd, k, st, pad, shared in shapes:
        x = rng.standard_normal((S, C, H, Wd) if shared else (E, S, C, H, Wd))
        W, b = rng.standard_normal((E, O, C, k, k)), rng.standard_normal((E, O))
        _, pt, pb = conv_output_size(H, k, st, pad)
        _, pl, pr = conv_output_size(Wd, k, st, pad)
        z, cache = ops.conv2d(x, W, b, st, (pt, pb, pl, pr))
        assert cache[0] == (route if k == 3 and st == 1 else "im2col")
        xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        zt = torch.stack([F.conv2d(F.pad(xt if shared else xt[e], (pl, pr, pt, pb)), Wt[e], bt[e], stride=st)
                          for e in range(E)])
        dz = rng.standard_normal(zt.shape)
        (zt * torch.tensor(dz)).sum().backward()
        dx, dW, db = ops.conv2d_backward(dz, W, cache, not shared)
        for got, ref in ((z, zt.detach()), (dW, Wt.grad), (db, bt.grad)) + (() if shared else ((dx, xt.grad),)):
            ref = ref.numpy()
            assert got.shape == ref.shape
            assert np.abs(got - ref).max() <= 1e-12 * np.abs(ref).max()



@pytest.mark.parametrize("ensemble_conv", ["grouped", "members"])
def test_torch_conv_kernels_match_autograd(ensemble_conv):
    """Both torch ensemble routes (one grouped convolution; one convolution per member, the CPU default) against
    torch autograd through a per-member loop of F.conv2d, float64, then max-pooling of the result on its own memory
    layout (S-major after the grouped route, member-major after the per-member one) and its adjoint."""
    from sims.conv_ops import TorchConvOps
    ops = TorchConvOps(torch, ensemble_conv=ensemble_conv)
    rng = np.random.default_rng(11)
    for E, S, C, O, H, Wd, k, st, pad, shared in [(3, 2, 4, 3, 8, 7, 3, 1, "same", False),
                                                  (2, 3, 2, 4, 9, 9, 2, 2, "valid", False),
                                                  (3, 2, 3, 2, 8, 8, 3, 1, "valid", True)]:
        x = rng.standard_normal((S, C, H, Wd) if shared else (E, S, C, H, Wd))
        W, b = rng.standard_normal((E, O, C, k, k)), rng.standard_normal((E, O))
        _, pt, pb = conv_output_size(H, k, st, pad)
        _, pl, pr = conv_output_size(Wd, k, st, pad)
        xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
        zt = torch.stack([F.conv2d(F.pad(xt if shared else xt[e], (pl, pr, pt, pb)), Wt[e], bt[e], stride=st)
                          for e in range(E)])
        pooled = torch.stack([F.max_pool2d(zt[e], 2, 2) for e in range(E)])
        dy = rng.standard_normal(pooled.shape)
        (pooled * torch.tensor(dy)).sum().backward()
        z, cache = ops.conv2d(torch.tensor(x), torch.tensor(W), torch.tensor(b), st, (pt, pb, pl, pr))
        y, pcache = ops.maxpool2d(z, 2, 2)
        dz = ops.maxpool2d_backward(torch.tensor(dy), pcache)
        dx, dW, db = ops.conv2d_backward(dz, torch.tensor(W), cache, not shared)
        for got, ref in ((z, zt), (y, pooled), (dW, Wt.grad), (db, bt.grad)) + (() if shared else ((dx, xt.grad),)):
            got, ref = got.detach().numpy(), ref.detach().numpy()
            assert got.shape == ref.shape
            assert np.abs(got - ref).max() <= 1e-12 * np.abs(ref).max()
    with pytest.raises(ValueError, match="ensemble_conv"):
        TorchConvOps(torch, ensemble_conv="batched")

def test_finite_differences_tiny():
    """Central differences of the loss on every parameter of a tiny conv net (E = 2), shared and noisy input."""
    net = Sequential([Conv2D(2, 2, padding="same"), MaxPool2D(2), Flatten(), Dense(3)], input_shape=(1, 4, 4),
                     activation="tanh")
    rng = np.random.default_rng(0)
    E, S = 2, 3
    theta = net.init_flat(E, seed=2) + 0.1 * rng.standard_normal((E, net.n_params))
    x = rng.normal(size=(S, 16))
    y = np.array([0, 2, 1])
    noise = [0.1 * rng.standard_normal((E, S, w)) for w in net.layer_widths[:-1]]
    _, grads = net.loss_and_grads(net.views(theta), x, y, noise=noise)
    g = net.flatten(grads)
    h = 1e-6
    fd = np.empty_like(theta)
    for p in range(net.n_params):
        step = np.zeros_like(theta)
        step[:, p] = h
        lp = net.loss_and_grads(net.views(theta + step), x, y, noise=noise)[0]
        lm = net.loss_and_grads(net.views(theta - step), x, y, noise=noise)[0]
        fd[:, p] = (lp - lm) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_layer_shapes_and_spec_round_trip():
    net = Sequential([Conv2D(32, 3), Conv2D(64, 3), MaxPool2D(2), Flatten(), Dense(128), Dense(10)],
                     input_shape=(1, 28, 28))
    assert net.layer_shapes == ((32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,))
    assert net.layer_widths == (21632, 36864, 9216, 9216, 128, 10)
    # Keras's mnist_cnn parameter count without dropout: 320 + 18496 + 1179776 + 1290
    assert net.n_params == 320 + 18496 + 1179776 + 1290
    back = network_from_spec(net.spec())
    assert back.spec() == net.spec() and repr(back) == repr(net)
    for layer in (Conv2D(3, 5, stride=2, padding="same", activation="tanh"), MaxPool2D(3, stride=1), Flatten(),
                  Dense(4)):
        assert layer_from_spec(layer.spec()).spec() == layer.spec()
    assert conv_output_size(28, 3, 2, "same") == (14, 0, 1)


def _images(n, seed=0, shape=(1, 6, 6)):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, int(np.prod(shape))))
    y = (x[:, : x.shape[1] // 2].sum(1) > x[:, x.shape[1] // 2:].sum(1)).astype(int)
    return datasets.Dataset(x[: n * 3 // 4], y[: n * 3 // 4], x[n * 3 // 4:], y[n * 3 // 4:])


def _small_cnn():
    return Sequential([Conv2D(3, 3, padding="same"), MaxPool2D(2), Conv2D(4, 2), Flatten(), Dense(5), Dense(2)],
                      input_shape=(1, 6, 6), activation="relu")


@pytest.mark.parametrize("optimizer,lr", [("adam", 1e-2), ("adadelta", 1.0), ("sgd", 0.1)])
def test_numpy_and_torch_backends_same_trajectory(optimizer, lr):
    data = _images(64)
    kw = dict(ensemble=3, epochs=3, batch_size=8, optimizer=optimizer, lr=lr, seed=5, log_epochs=[0, 1, 3],
              progress=False, record_activity=True)
    r_np = train(_small_cnn(), data, backend="numpy", **kw)
    r_t = train(_small_cnn(), data, backend="torch", **kw)
    scale = np.abs(r_np._theta).max()
    assert np.abs(r_np._theta - r_t._theta).max() <= 1e-8 * scale
    np.testing.assert_allclose(r_np.loss["train"], r_t.loss["train"], rtol=1e-8)
    for l in range(r_np.n_layers):
        np.testing.assert_allclose(r_np.activity(l), r_t.activity(l), rtol=1e-8, atol=1e-10)
    assert r_np.activity(0).shape == (3, 3, 64, 3 * 36)          # (member, epoch, sample, C H W)


def test_winograd_route_same_trajectory_as_torch():
    """A net whose second convolution takes the NumPy Winograd route trains as on the torch backend (1e-8)."""
    data = _images(48, seed=2)
    net = lambda: Sequential([Conv2D(4, 3, padding="same"), Conv2D(4, 3), MaxPool2D(2), Flatten(), Dense(2)],  # noqa: E731
                             input_shape=(1, 6, 6), activation="relu")
    kw = dict(ensemble=2, epochs=2, batch_size=8, optimizer="adadelta", lr=1.0, seed=4, progress=False)
    r_np, r_t = train(net(), data, backend="numpy", **kw), train(net(), data, backend="torch", **kw)
    assert np.abs(r_np._theta - r_t._theta).max() <= 1e-8 * np.abs(r_np._theta).max()


def test_threads_and_noise_and_chunks_do_not_change_the_run(monkeypatch):
    """Member threads give the same run; training noise works through conv layers; a forward pass forced into
    chunks of one sample (and a training step forced to recompute) gives the same numbers."""
    import sims.network as network
    data = _images(48, seed=1)
    kw = dict(ensemble=2, epochs=2, batch_size=12, optimizer="adam", lr=1e-2, seed=3, progress=False,
              noise_std=0.05, log_epochs=[0, 2], record_activity=True)
    ref = train(_small_cnn(), data, **kw)
    two = train(_small_cnn(), data, threads=2, **kw)
    np.testing.assert_allclose(two._theta, ref._theta, rtol=0, atol=1e-12)
    monkeypatch.setattr(network, "CHUNK_BYTES", 1)
    monkeypatch.setattr(network, "CACHE_BYTES", 1)
    small = train(_small_cnn(), data, **kw)
    np.testing.assert_allclose(small._theta, ref._theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(small.activity(1), ref.activity(1), rtol=1e-10, atol=1e-12)


def test_run_of_a_sequential_saves_and_loads(tmp_path):
    data = _images(32)
    run = train(_small_cnn(), data, ensemble=2, epochs=1, batch_size=8, seed=0, progress=False,
                record_activity=True, optimizer="adadelta", lr=1.0)
    path = run.save(tmp_path / "cnn.npz")
    back = load_run(path)
    assert isinstance(back.net, Sequential) and back.net.layer_shapes == run.net.layer_shapes
    np.testing.assert_array_equal(back.activity(2), run.activity(2))
    assert [None if W is None else W.shape for W, _ in back.params] == [(2, 3, 1, 3, 3), None, (2, 4, 3, 2, 2),
                                                                        None, (2, 16, 5), (2, 5, 2)]


def test_checkpoint_resume_with_adadelta(tmp_path):
    """A run interrupted after epoch 1 (a consumer raising at epoch 2) resumes from its checkpoint, Adadelta's
    accumulators included, to the very parameters of an uninterrupted run."""
    data = _images(32)
    kw = dict(ensemble=2, epochs=3, batch_size=8, seed=0, progress=False, optimizer="adadelta", lr=1.0,
              log_epochs=[0, 1, 2, 3])
    full = train(_small_cnn(), data, **kw)

    def stop(epoch, acts):
        if epoch == 2:
            raise RuntimeError("interrupted")
        return np.zeros(1)

    ck = tmp_path / "ck.npz"
    with pytest.raises(RuntimeError, match="interrupted"):
        train(_small_cnn(), data, checkpoint=ck, checkpoint_every=0, consumers={"stop": stop}, **kw)
    resumed = train(_small_cnn(), data, checkpoint=ck, **kw)
    np.testing.assert_array_equal(resumed._theta, full._theta)
    assert Adadelta().spec() == {"name": "adadelta", "rho": 0.95, "epsilon": 1e-7}


def test_adadelta_matches_keras_formula():
    """Five steps against the formula written out (Keras 2 Adadelta: rho 0.95, epsilon 1e-7, lr 1.0)."""
    be = NumpyBackend()
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(2, 4))
    ref = theta.copy()
    a = np.zeros_like(theta)
    d = np.zeros_like(theta)
    opt = Adadelta()
    state = opt.init_state(be, theta)
    for t in range(1, 6):
        g = rng.normal(size=theta.shape)
        opt.step(be, theta, g.copy(), state, np.full((2, 1), 0.5), t)
        a = 0.95 * a + 0.05 * g ** 2
        u = g * np.sqrt(d + 1e-7) / np.sqrt(a + 1e-7)
        ref -= 0.5 * u
        d = 0.95 * d + 0.05 * u ** 2
    np.testing.assert_allclose(theta, ref, rtol=1e-14)
    with pytest.raises(ValueError, match="rho"):
        Adadelta(rho=1.0)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="kernel_size"):
        Sequential([Conv2D(2, 5), Flatten(), Dense(2)], input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="pool_size"):
        Sequential([MaxPool2D(5), Flatten(), Dense(2)], input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="input_shape"):          # non-image input to a conv net
        Sequential([Conv2D(2, 3), Flatten(), Dense(2)], input_shape=(784,))
    with pytest.raises(ValueError, match="input_shape"):          # a conv layer after Flatten
        Sequential([Flatten(), Conv2D(2, 3), Dense(2)], input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match="input_shape"):          # Dense on images without Flatten
        Sequential([Conv2D(2, 3), Dense(2)], input_shape=(1, 6, 6))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="filters"):
        Conv2D(0, 3)
    with pytest.raises(ValueError, match="layers"):
        Sequential([Conv2D(2, 3), Flatten()], input_shape=(1, 6, 6))
    net = _small_cnn()
    # channel mismatch between layers: kernels of the second conv layer for 2 input channels where the first
    # layer gives 3
    params = net.init_params(1, seed=0)
    params[2] = (np.zeros((1, 4, 2, 2, 2)), params[2][1])
    with pytest.raises(ValueError, match=r"params\[2\]"):
        net.flatten(params)
    with pytest.raises(ValueError, match="x must hold samples"):    # non-image input to forward
        net.forward(net.init_params(1, seed=0), np.zeros((4, 10)))
    with pytest.raises(ValueError, match="data.x_train"):           # non-image data to train
        train(net, datasets.Dataset(np.zeros((8, 10)), np.arange(8) % 2, np.zeros((2, 10)), np.array([0, 1])),
              epochs=1, progress=False)
    three = Sequential([Conv2D(2, 3), Flatten(), Dense(2)], input_shape=(3, 6, 6))
    with pytest.raises(ValueError, match="data.x_train"):           # one-channel images to a 3-channel net
        train(three, datasets.Dataset(np.zeros((8, 1, 6, 6)), np.arange(8) % 2, np.zeros((2, 1, 6, 6)),
                                      np.array([0, 1])), epochs=1, progress=False)


def test_image_shaped_data_is_accepted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 6))
    y = np.arange(16) % 2
    flat = train(_small_cnn(), datasets.Dataset(x.reshape(16, -1), y, x[:4].reshape(4, -1), y[:4]), epochs=1,
                 batch_size=4, progress=False)
    img = train(_small_cnn(), datasets.Dataset(x, y, x[:4], y[:4]), epochs=1, batch_size=4, progress=False)
    np.testing.assert_array_equal(flat._theta, img._theta)


def test_quick_cnn_on_mnist(mnist_dir):
    """The quick scale of the ``cnn-thesis`` experiment, trained as the thesis trains (Adadelta with Keras's
    defaults, batch 128, float32; conv 16 -> conv 32 -> max-pool -> dense 64 -> 10 on a random 12,000 training
    images, 5 epochs, NumPy backend): >= 97 % on the 10,000 test images, issue 15's bar for the quick test.
    Measured 2026-12-02: 97.32 %, as the experiment's claim (same configuration and seed)."""
    import dataclasses
    from experiments import cnn
    from experiments.mnist import mnist_subset
    cfg = cnn.cnn_config(**cnn.CNN_SCALES["quick"])
    d = datasets.mnist(data_dir=mnist_dir, download=False)
    sub = dataclasses.replace(mnist_subset(d, cfg), x_test=d.x_test, y_test=d.y_test)
    run = train(cnn.cnn_network(cfg), sub, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"], lr=cfg["lr"], seed=cfg["seed"], log_epochs=[cfg["epochs"]],
                progress=False, backend=cfg["backend"], dtype=cfg["dtype"])
    assert run.accuracy["test"][0, -1] >= 0.97, run.accuracy["test"]


@pytest.mark.slow
def test_thesis_cnn_reaches_99_percent(mnist_dir):
    """The CNN thesis's network (Keras mnist_cnn without dropout): conv 32 3x3 relu -> conv 64 3x3 relu ->
    max-pool 2x2 -> flatten -> dense 128 relu -> dense 10 softmax, Adadelta (Keras defaults, lr 1.0), batch 128,
    12 epochs; the thesis reports 99.25 % test accuracy. Float32 torch backend (the Keras default precision).
    Measured 2026-12-01: 99.10 % test accuracy (99.98 % train), 13 min on 1 thread of the shared 2-core machine."""
    d = datasets.mnist(data_dir=mnist_dir, download=False)
    d = datasets.Dataset(d.x_train, d.y_train, d.x_test, d.y_test, d.x_test[:100], d.y_test[:100])
    net = Sequential([Conv2D(32, 3), Conv2D(64, 3), MaxPool2D(2), Flatten(), Dense(128), Dense(10)],
                     input_shape=(1, 28, 28), activation="relu")
    run = train(net, d, epochs=12, batch_size=128, optimizer="adadelta", lr=1.0, seed=0, log_epochs=[0, 12],
                progress=False, backend="torch", dtype="float32")
    assert run.accuracy["test"][0, -1] >= 0.99, run.accuracy["test"]


def test_mask_bias_and_orthonormality_on_a_sequential():
    """Masked kernel entries stay zero, bias=False keeps biases at zero, and the orthonormality step touches only the
    hidden Dense layer's W."""
    data = _images(32)
    net = Sequential([Conv2D(3, 3, padding="same"), MaxPool2D(2), Conv2D(4, 2), Flatten(), Dense(5), Dense(2)],
                     input_shape=(1, 6, 6), activation="relu", bias=False)
    mask = [np.ones((3, 1, 3, 3)), None, np.ones((4, 3, 2, 2)), None, None, None]
    mask[0][:, :, 0, 0] = 0
    run = train(net, data, ensemble=2, epochs=2, batch_size=8, lr=1e-2, seed=0, progress=False, mask=mask)
    W0 = run.params[0][0]
    assert np.all(W0[:, :, :, 0, 0] == 0) and np.any(W0 != 0)
    assert all(b is None or np.all(b == 0) for _, b in run.params)
    be = NumpyBackend()
    theta = net.init_flat(1, seed=0)
    Ws = [W for W, _ in net.views(theta)]
    before = [None if W is None else W.copy() for W in Ws]
    net.orthonormality_step(be, Ws, 0.1)
    W4 = before[4]
    np.testing.assert_allclose(Ws[4], W4 - 0.1 * (W4 @ W4.swapaxes(-1, -2) @ W4 - W4), rtol=1e-14)
    for l in (0, 2, 5):
        np.testing.assert_array_equal(Ws[l], before[l])
