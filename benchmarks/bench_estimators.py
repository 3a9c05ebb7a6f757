"""Estimator speed against straightforward NumPy references, identical numbers checked.

1. 12-bit task (4096 patterns, 12-10-7-5-4-3-2 tanh, one network trained ``EPOCHS`` epochs, ``LOGGED`` logged epochs):
   binning (Tishby's 30 edges) of all layers, and KDE upper + lower bounds with I(T;Y) (noise variance 0.1),
   toolkit (all logged epochs of a layer in one batched call) vs reference (one epoch and one layer at a time:
   explicit pairwise differences, NumPy max-shifted logsumexp; np.unique(axis=0) for binning). The reference is
   timed on ``REF_EPOCHS`` logged epochs (all layers) and its per-epoch time scaled to the whole run.
2. KDE bounds of 10,000 MNIST test images through a random 784-1024 tanh layer (width 1024): toolkit (blocked,
   symmetric) vs reference (full 10,000 x 10,000 Gram matrix, then logsumexp), with peak memory (tracemalloc).

Run: ``python -m benchmarks estimators`` (threads pinned by benchmarks._common, default 1).
"""
import benchmarks._common as common  # noqa: F401  (pins threads before numpy)

import os
import time
import tracemalloc
from pathlib import Path

import numpy as np

from analytic.binning import bin_index, tishby_edges
from analytic.pairwise_bounds import pairwise_mi_bounds
from sims import MLP, datasets, estimators, train

EPOCHS, LOGGED, REF_EPOCHS, NOISE_VAR = 1000, 50, 3, 0.1


def np_logsumexp(a, axis=-1):
    m = a.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def ref_kde(h, y, var):
    """(lower_xt, lower_ty, upper_xt, upper_ty) for one epoch, one layer: plain NumPy."""
    n = h.shape[0]
    d2 = ((h[:, None, :] - h[None, :, :]) ** 2).sum(-1)
    out = []
    for kappa in (8.0, 2.0):
        a = -d2 / (kappa * var)
        full = -np.mean(np_logsumexp(a, 1) - np.log(n))
        cond = 0.0
        for c in np.unique(y):
            m = y == c
            cond += m.mean() * -np.mean(np_logsumexp(a[np.ix_(m, m)], 1) - np.log(m.sum()))
        out += [full, full - cond]
    return out


def ref_binned(h, y, edges):
    def H(codes):
        _, counts = np.unique(codes, axis=0, return_counts=True)
        p = counts / counts.sum()
        return -np.sum(p * np.log(p))
    codes = bin_index(h, edges)
    ht = H(codes)
    return ht, ht - sum(np.mean(y == c) * H(codes[y == c]) for c in np.unique(y))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    print(f"threads={common.THREADS}")
    data = datasets.tishby_12bit(seed=0)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh")
    t, run = timed(lambda: train(net, data, ensemble=1, epochs=EPOCHS, log_epochs=LOGGED, record_activity=True,
                                 progress=False, seed=0))
    L = len(run.epochs)
    y = run.labels_analysis
    acts = [run.activity(l) for l in range(run.n_layers)]                 # (1, L, 4096, units)
    print(f"12-bit run: {EPOCHS} epochs, {L} logged, trained in {t:.1f} s")

    # ---- binning: one epoch, all layers; and the whole run
    edges = tishby_edges()
    one = common.median_time(lambda: [estimators.binned(a[:, -1], y, edges=edges) for a in acts], repeats=5)
    one_ref = common.median_time(lambda: [ref_binned(a[0, -1], y, edges) for a in acts], repeats=5)
    t_all, bins = timed(lambda: [estimators.binned(a, y, edges=edges) for a in acts])
    worst = max(abs(bins[l][k][0, i] - ref_binned(acts[l][0, i], y, edges)[k])
                for l in range(6) for i in range(L) for k in range(2))
    print(f"binning, 6 layers, one epoch: toolkit {one * 1e3:.1f} ms, reference {one_ref * 1e3:.1f} ms "
          f"({one_ref / one:.1f}x); whole run ({L} epochs) toolkit {t_all:.2f} s vs reference {one_ref * L:.2f} s "
          f"({one_ref * L / t_all:.1f}x); max |diff| {worst:.1e} nats")

    # ---- KDE upper + lower with I(T;Y): whole run batched vs per-epoch reference on REF_EPOCHS epochs
    t_kde, kd = timed(lambda: [estimators.kde_bounds(a, y, NOISE_VAR) for a in acts])
    sel = np.linspace(0, L - 1, REF_EPOCHS).astype(int)
    t_ref, refs = timed(lambda: [[ref_kde(a[0, i], y, NOISE_VAR) for i in sel] for a in acts])
    rel = max(abs(kd[l][k][0, i] - refs[l][j][k]) / max(abs(refs[l][j][k]), 1e-300)
              for l in range(6) for j, i in enumerate(sel) for k in range(4))
    per_ref = t_ref / REF_EPOCHS
    print(f"KDE upper+lower+I(T;Y), 6 layers: toolkit {t_kde / L * 1e3:.0f} ms per logged epoch, whole run "
          f"{t_kde:.1f} s; reference {per_ref:.2f} s per epoch (measured on {REF_EPOCHS} epochs) -> "
          f"{per_ref * L:.0f} s for the run ({per_ref * L / t_kde:.1f}x); max relative diff {rel:.1e}")

    # ---- KDE bounds on 10,000 x 1024
    try:
        mn = datasets.mnist(data_dir=os.environ.get("IBT_DATA_DIR")
                            or Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
        x = mn.x_analysis
        src = "MNIST test images"
    except Exception as exc:                                             # no MNIST: say so, use random inputs
        x = np.random.default_rng(0).random((10_000, 784))
        src = f"random inputs (MNIST unavailable: {type(exc).__name__})"
    w = np.random.default_rng(1).normal(size=(784, 1024)) / np.sqrt(784)
    h = np.tanh(x[:10_000] @ w)
    tracemalloc.start()
    t_tk, (lo, up) = timed(lambda: pairwise_mi_bounds(h, NOISE_VAR))
    peak_tk = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    def ref_big():
        sq = (h * h).sum(1)
        d2 = sq[:, None] + sq[None, :] - 2 * h @ h.T
        np.maximum(d2, 0, out=d2)
        return [-np.mean(np_logsumexp(-d2 / (k * NOISE_VAR), 1) - np.log(h.shape[0])) for k in (8.0, 2.0)]

    tracemalloc.start()
    t_rf, (rlo, rup) = timed(ref_big)
    peak_rf = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"KDE bounds, 10,000 x 1024 ({src}): toolkit {t_tk:.1f} s, peak {peak_tk / 2**20:.0f} MiB; reference "
          f"{t_rf:.1f} s, peak {peak_rf / 2**20:.0f} MiB ({t_rf / t_tk:.1f}x); bounds {lo:.6f} / {up:.6f} nats; "
          f"relative diff {max(abs(lo - rlo) / rlo, abs(up - rup) / rup):.1e}")


if __name__ == "__main__":
    main()
