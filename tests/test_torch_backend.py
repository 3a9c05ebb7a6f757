"""The torch backend: same trajectories as NumPy (float64, same seed), and agreement with torch autograd + torch.optim."""
from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sims import MLP, train  # noqa: E402
from sims.optim import Adam  # noqa: E402

pytestmark = pytest.mark.torch


def _toy(n=64, d=4, seed=0, n_test=16):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + n_test, d))
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)
    return SimpleNamespace(x_train=x[:n], y_train=y[:n], x_test=x[n:], y_test=y[n:])


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("activation,output,loss,optimizer", [
    ("tanh", "softmax", "cross_entropy", "adam"),
    ("relu", "sigmoid", "mse", "sgd"),
    ("softplus", "linear", "mse", "adam"),
])
def test_numpy_and_torch_float64_trajectories_agree(activation, output, loss, optimizer, device):
    data = _toy()
    net = MLP([4, 6, 5, 3], activation=activation, output=output)
    kw = dict(ensemble=3, epochs=8, batch_size=10, optimizer=optimizer, lr=[0.01, 0.02, 0.005], seed=3, loss=loss,
              noise_std=0.02, analysis_noise_std=0.01, orthonormality=1e-3, log_epochs=[0, 1, 3, 8],
              record_params=True, record_activity=True, progress=False,
              mask=[None, np.tril(np.ones((6, 5))), None])
    a = train(net, data, backend="numpy", **kw)
    b = train(net, data, backend="torch", device=device, **kw)
    np.testing.assert_allclose(a.params_history, b.params_history, rtol=0, atol=1e-8)
    np.testing.assert_allclose(net.flatten(a.params), net.flatten(b.params), rtol=0, atol=1e-8)
    for k in ("train", "test"):
        np.testing.assert_allclose(a.loss[k], b.loss[k], rtol=0, atol=1e-8)
        np.testing.assert_array_equal(a.accuracy[k], b.accuracy[k])
    for l in range(3):
        np.testing.assert_allclose(a.activity(l), b.activity(l), rtol=0, atol=1e-8)
    np.testing.assert_allclose(np.nan_to_num(a.grad_stats["mean_norm"]), np.nan_to_num(b.grad_stats["mean_norm"]),
                               rtol=0, atol=1e-8)


def test_torch_cpu_threads_agree_with_numpy():
    """Member-parallel threads on the torch CPU backend (torch releases the GIL in its ops)."""
    data = _toy()
    net = MLP([4, 6, 5, 3], activation="tanh")
    kw = dict(ensemble=5, epochs=5, batch_size=10, lr=0.01, seed=3, noise_std=0.02, log_epochs=[0, 2, 5],
              record_activity=True, progress=False)
    a = train(net, data, backend="numpy", **kw)
    b = train(net, data, backend="torch", threads=3, **kw)
    np.testing.assert_allclose(net.flatten(b.params), net.flatten(a.params), rtol=0, atol=1e-8)
    np.testing.assert_allclose(b.loss["test"], a.loss["test"], rtol=0, atol=1e-8)
    for l in range(3):
        np.testing.assert_allclose(b.activity(l), a.activity(l), rtol=0, atol=1e-8)


@needs_cuda
def test_threads_on_cuda_are_refused():
    with pytest.raises(ValueError, match="threads"):
        train(MLP([4, 3]), _toy(), epochs=1, backend="torch", device="cuda", threads=2, progress=False)


def test_matches_torch_autograd_and_torch_optim_adam():
    """Independent route: nn.Sequential + autograd + torch.optim.Adam from the same initial weights and the same
    fixed minibatch order reproduce our numpy run (Adam in PyTorch's epsilon placement)."""
    data = _toy(seed=1)
    net = MLP([4, 6, 5, 3], activation="tanh", output="softmax")
    run = train(net, data, ensemble=1, epochs=5, batch_size=16, optimizer=Adam(epsilon=1e-8, epsilon_hat=False),
                lr=0.01, shuffle=False, record_params=True, log_epochs=[0, 5], progress=False)
    layers = []
    for (W, b), act in zip(run.params_at(0), ["tanh", "tanh", None]):
        lin = torch.nn.Linear(W.shape[1], W.shape[2]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W[0].T.copy()))
            lin.bias.copy_(torch.from_numpy(b[0].copy()))
        layers += [lin] + ([torch.nn.Tanh()] if act else [])
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, eps=1e-8)
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    for _ in range(5):
        for s in range(0, 64, 16):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[s:s + 16]), y[s:s + 16]).backward()
            opt.step()
    for (W, b), lin in zip(run.params, [m for m in model if isinstance(m, torch.nn.Linear)]):
        np.testing.assert_allclose(W[0], lin.weight.detach().numpy().T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b[0], lin.bias.detach().numpy(), rtol=0, atol=1e-10)


def test_torch_float32_and_forward_on_tensors():
    data = _toy()
    net = MLP([4, 6, 3], activation="tanh")
    run = train(net, data, ensemble=2, epochs=3, batch_size=8, lr=0.01, backend="torch", dtype="float32",
                log_epochs=[0, 3], progress=False)
    ref = train(net, data, ensemble=2, epochs=3, batch_size=8, lr=0.01, log_epochs=[0, 3], progress=False)
    np.testing.assert_allclose(net.flatten(run.params), net.flatten(ref.params), atol=1e-4)
    params = [(torch.from_numpy(W), torch.from_numpy(b)) for W, b in ref.params]
    out = net.forward(params, torch.from_numpy(data.x_test))
    assert isinstance(out[-1], torch.Tensor) and tuple(out[-1].shape) == (2, 16, 3)
    np.testing.assert_allclose(out[-1].numpy(), net.forward(ref.params, data.x_test)[-1], atol=1e-14)


@needs_cuda
def test_cuda_matches_cpu_with_schedule_grad_stats_and_streamed_info_plane():
    """A CUDA run is the NumPy run: Kong's step schedule, gradient statistics, and an information plane streamed
    from GPU activity (the consumer receives NumPy arrays) agree with the CPU float64 run."""
    from sims.info_plane import InfoPlaneConsumer
    from sims.optim import StepOnAccuracy

    data = _toy()
    net = MLP([4, 6, 5, 3], activation="tanh")
    kw = dict(ensemble=2, epochs=12, batch_size=8, lr=0.02, log_epochs=[0, 3, 12], progress=False, seed=4)
    runs = {}
    for dev in ("numpy", "cuda"):
        ip = InfoPlaneConsumer("binned", np.concatenate([data.y_train, data.y_test]), n_bins=12,
                               value_range=(-1, 1))
        be = dict(backend="numpy") if dev == "numpy" else dict(backend="torch", device="cuda")
        runs[dev] = train(net, data, consumers={"ip": ip}, **be, **kw,
                          lr_schedule=StepOnAccuracy(threshold=0.6, factor=0.1, split="train"))
    a, b = runs["numpy"], runs["cuda"]
    np.testing.assert_allclose(net.flatten(a.params), net.flatten(b.params), rtol=0, atol=1e-8)
    np.testing.assert_array_equal(a.lr, b.lr)
    for k in a.grad_stats:
        np.testing.assert_allclose(np.nan_to_num(a.grad_stats[k]), np.nan_to_num(b.grad_stats[k]), rtol=1e-7,
                                   atol=1e-10)
    np.testing.assert_allclose(a.consumer_results["ip"], b.consumer_results["ip"], rtol=0, atol=1e-12)


@needs_cuda
def test_cuda_resume_float32_and_forward_on_cuda_tensors(tmp_path):
    data = _toy()
    net = MLP([4, 6, 3], activation="tanh")
    kw = dict(ensemble=2, epochs=6, batch_size=8, lr=0.01, log_epochs=[0, 2, 4, 6], record_activity=True,
              backend="torch", device="cuda", progress=False)
    ref = train(net, data, **kw)

    class Interrupt(Exception):
        pass

    def flaky(epoch, acts, _seen=[]):
        _seen.append(epoch)
        if epoch == 4 and _seen.count(4) == 1:
            raise Interrupt
        return acts[0].sum()

    ck = tmp_path / "ck.npz"
    with pytest.raises(Interrupt):
        train(net, data, consumers={"s": flaky}, checkpoint=ck, checkpoint_every=0, **kw)
    res = train(net, data, consumers={"s": flaky}, checkpoint=ck, checkpoint_every=0, **kw)
    np.testing.assert_array_equal(net.flatten(res.params), net.flatten(ref.params))
    np.testing.assert_array_equal(res.activity(1), ref.activity(1))
    f32 = train(net, data, **{**kw, "dtype": "float32", "record_activity": False})
    np.testing.assert_allclose(net.flatten(f32.params), net.flatten(ref.params), atol=1e-4)
    params = [(torch.from_numpy(W).cuda(), torch.from_numpy(b).cuda()) for W, b in ref.params]
    out = net.forward(params, torch.from_numpy(data.x_test).cuda())
    assert out[-1].is_cuda and tuple(out[-1].shape) == (2, 16, 3)
    np.testing.assert_allclose(out[-1].cpu().numpy(), net.forward(ref.params, data.x_test)[-1], atol=1e-14)


@needs_cuda
def test_cuda_learns_the_12bit_task():
    from sims import datasets
    data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh")
    run = train(net, data, ensemble=8, epochs=60, lr=4e-3, backend="torch", device="cuda", dtype="float32",
                log_epochs=[0, 60], progress=False, seed=0)
    assert np.median(run.accuracy["test"][:, -1]) >= 0.9


def test_cuda_request_without_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device exists")
    with pytest.raises(ValueError, match="device"):
        train(MLP([4, 3]), _toy(), epochs=1, backend="torch", device="cuda", progress=False)
