"""MNIST networks: the toolkit's simulator against a plain PyTorch loop, per network-epoch (issue 15).

Two networks:

* **MLP** 784-1024-20-20-20-10 tanh, softmax output, plain SGD lr 1e-3 (Saxe et al. 2018, Fig. 1C-D);
* **CNN** of the CNN thesis (Keras's mnist_cnn without dropout): conv 32 3x3 relu -> conv 64 3x3 relu ->
  max-pool 2x2 -> flatten -> dense 128 relu -> dense 10 softmax, Adadelta (Keras defaults, lr 1.0);

batch 128, float32 (the precision a PyTorch user trains in), on the first ``IBT_BENCH_CNN_TRAIN`` (default 512)
MNIST training images; a run is E epochs, then the loss and accuracy on the training subset and on 256 test images.
The cost of one network-epoch is T(2 epochs) - T(1 epoch) of a side (setup, initialization and the final
evaluation cancel), divided by the number of networks the side trains.

Sides, all in this one process with the same threads (``IBT_BENCH_THREADS``, default 1), interleaved in every
one of ``IBT_BENCH_REPEATS`` (default 3) rounds, medians reported:

* **loop**: one network the usual way: an ``nn.Module`` (``nn.Conv2d`` / ``nn.Linear``), ``torch.optim.SGD`` /
  ``torch.optim.Adadelta``, ``F.cross_entropy``, a Python loop over minibatches of a fresh ``torch.randperm``,
  then a no-grad evaluation of both splits. Ten such loops cost exactly ten times one (they share nothing), so
  "10 loops" is ten times the measured loop;
* **numpy E=1**: ``sims.train(net, ...)`` on the NumPy backend, one network;
* **torch E=1** and **torch E=10**: ``sims.train(..., backend="torch", ensemble=E)`` (E networks in one grouped
  convolution / batched product per layer).

Every time is per network-epoch (seconds per network for one pass over the subset, evaluation included). Targets of
issue 15: torch E=10 at least 3x faster per network-epoch than the loop; numpy E=1 within 2x of the loop.
``IBT_BENCH_DEVICE=cuda`` runs the torch sides (and the loop) on the GPU. Each network's part ends with the rate
at which the loop trains, in the multiply-adds of :func:`training_macs` (dense products and direct convolution)
per second, against the device's measured peak float32 GEMM rate (:func:`peak_gflops`), and so the largest speed-up
an ensemble doing the same arithmetic can have over the loop (evaluation cancels in T(2 epochs) - T(1 epoch), so
only training counts; a fast convolution algorithm such as Winograd's does fewer multiplications, so the loop's
rate can exceed the peak).

Run: ``python -m benchmarks cnn``.
"""
import benchmarks._common as common  # noqa: I001  (pins threads before numpy/torch load)
import os
import statistics
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

torch = common.pin_torch_threads()
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from sims import datasets, train  # noqa: E402
from sims.layers import Conv2D, Dense, Flatten, MaxPool2D  # noqa: E402
from sims.mlp import MLP  # noqa: E402
from sims.network import Sequential  # noqa: E402

N_TRAIN = int(os.environ.get("IBT_BENCH_CNN_TRAIN", "512"))
N_TEST = 256
REPEATS = int(os.environ.get("IBT_BENCH_REPEATS", "3"))
DEVICE = os.environ.get("IBT_BENCH_DEVICE") or None
ENSEMBLE = 10
BATCH = 128


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:  # pragma: no cover
        return "?"


def _data():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    d = datasets.mnist(data_dir=shared if shared.is_dir() else None, download=False, dtype=np.float32)
    return SimpleNamespace(x_train=d.x_train[:N_TRAIN], y_train=d.y_train[:N_TRAIN], x_test=d.x_test[:N_TEST],
                           y_test=d.y_test[:N_TEST], x_analysis=d.x_test[:64], y_analysis=d.y_test[:64])


def mlp_spec():
    return MLP([784, 1024, 20, 20, 20, 10], activation="tanh", output="softmax")


def cnn_spec():
    return Sequential([Conv2D(32, 3), Conv2D(64, 3), MaxPool2D(2), Flatten(), Dense(128), Dense(10)],
                      input_shape=(1, 28, 28), activation="relu", output="softmax")


class TorchMLP(nn.Module):
    def __init__(self):
        super().__init__()
        w = [784, 1024, 20, 20, 20, 10]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(w[:-1], w[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)


class TorchCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3)
        self.fc1, self.fc2 = nn.Linear(9216, 128), nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = torch.flatten(F.max_pool2d(x, 2), 1)
        return self.fc2(F.relu(self.fc1(x)))


def loop_epoch(kind, data, epochs):
    """One network, ``epochs`` epochs, the usual way; then loss and accuracy of both splits."""
    dev = torch.device(DEVICE or "cpu")
    model = (TorchCNN() if kind == "cnn" else TorchMLP()).to(dev)
    opt = (torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7) if kind == "cnn"
           else torch.optim.SGD(model.parameters(), lr=1e-3))
    shape = (-1, 1, 28, 28) if kind == "cnn" else (-1, 784)
    x = torch.as_tensor(data.x_train, device=dev).reshape(shape)
    y = torch.as_tensor(data.y_train, device=dev)
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0], device=dev)
        for s in range(0, x.shape[0], BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    out = []
    with torch.no_grad():
        for xs, ys in ((x, y), (torch.as_tensor(data.x_test, device=dev).reshape(shape),
                                torch.as_tensor(data.y_test, device=dev))):
            logits = model(xs)
            out.append((float(F.cross_entropy(logits, ys)), float((logits.argmax(1) == ys).float().mean())))
    if dev.type == "cuda":
        torch.cuda.synchronize()
    return out


def toolkit_epoch(kind, data, backend, E, epochs):
    net = cnn_spec() if kind == "cnn" else mlp_spec()
    opt, lr = ("adadelta", 1.0) if kind == "cnn" else ("sgd", 1e-3)
    return train(net, data, ensemble=E, epochs=epochs, batch_size=BATCH, optimizer=opt, lr=lr, seed=0,
                 backend=backend, device=DEVICE if backend == "torch" else None, dtype="float32",
                 log_epochs=[epochs], progress=False)


def training_macs(kind):
    """Multiply-adds of one network's training on one sample: the forward products, the weight gradients (the
    same count) and the backpropagated deltas of every layer but the first (none into the input image)."""
    if kind == "cnn":                                                  # (C_out C_in k^2 H_out W_out) per conv
        layers = [32 * 1 * 9 * 26 * 26, 64 * 32 * 9 * 24 * 24, 9216 * 128, 128 * 10]
    else:
        w = [784, 1024, 20, 20, 20, 10]
        layers = [a * b for a, b in zip(w[:-1], w[1:])]
    return 2 * sum(layers) + sum(layers[1:])


def peak_gflops(repeats=7):
    """The best float32 GEMM rate of this device and thread count: a 2048 x 2048 product by NumPy and by torch
    (torch only on a GPU), best of ``repeats`` (GFLOP/s)."""
    n, rates = 2048, {}
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    cands = {"torch": (torch.as_tensor(a, device=DEVICE or "cpu"),) * 2}
    if not DEVICE:
        cands["numpy"] = (a, a.copy())
    for name, (x, y) in cands.items():
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            x @ y
            if DEVICE == "cuda":
                torch.cuda.synchronize()
            ts.append(time.perf_counter() - t0)
        rates[name] = 2 * n ** 3 / min(ts) / 1e9
    return rates


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    print(f"uptime before: {_uptime()}")
    print(f"threads {common.THREADS}, {N_TRAIN} training images, batch {BATCH}, float32, device {DEVICE or 'cpu'}, "
          f"{REPEATS} interleaved rounds (medians), seconds per network-epoch of the subset")
    data = _data()
    sides = {"loop": lambda k, n: loop_epoch(k, data, n),
             "numpy E=1": lambda k, n: toolkit_epoch(k, data, "numpy", 1, n),
             "torch E=1": lambda k, n: toolkit_epoch(k, data, "torch", 1, n),
             f"torch E={ENSEMBLE}": lambda k, n: toolkit_epoch(k, data, "torch", ENSEMBLE, n)}
    per_net = {"loop": 1, "numpy E=1": 1, "torch E=1": 1, f"torch E={ENSEMBLE}": ENSEMBLE}
    results = {}
    for kind in ("mlp", "cnn"):
        for name, fn in sides.items():             # warm-up (first calls allocate, torch initializes kernels)
            if name != f"torch E={ENSEMBLE}":
                fn(kind, 1)
        times = {name: [] for name in sides}
        for _ in range(REPEATS):
            for name, fn in sides.items():
                t2, t1 = timed(lambda: fn(kind, 2)), timed(lambda: fn(kind, 1))
                times[name].append((t2 - t1) / per_net[name])
        med = {name: statistics.median(v) for name, v in times.items()}
        results[kind] = med
        scale = 60000 / N_TRAIN
        print(f"\n{kind.upper()}  (median s per network-epoch on {N_TRAIN} images; x{scale:.0f} for full MNIST)")
        for name, t in med.items():
            print(f"  {name:12s} {t:8.3f} s   loop/this = {med['loop'] / t:5.2f}")
        print(f"  ensemble of {ENSEMBLE} vs {ENSEMBLE} loops: {med['loop'] / med[f'torch E={ENSEMBLE}']:.2f}x faster per "
              f"network-epoch (target >= 3x); numpy E=1 / loop = {med['numpy E=1'] / med['loop']:.2f} (target <= 2)")
        rates = peak_gflops()
        peak = max(rates.values())
        rate = 2 * training_macs(kind) * N_TRAIN / med["loop"] / 1e9
        print(f"  arithmetic: {training_macs(kind) / 1e6:.2f} M multiply-adds per training sample (dense products and "
              f"direct convolution) x {N_TRAIN}; the loop trains at {rate:.0f} GFLOP/s of them = {rate / peak:.0%} of "
              f"this device's peak float32 GEMM rate (GFLOP/s " + ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
              + f"), so an ensemble doing the same arithmetic can be at most {peak / rate:.2f}x faster per "
              "network-epoch here", flush=True)
    print(f"\nuptime after: {_uptime()}")
    return results


if __name__ == "__main__":
    main()
