"""Estimator speed against straightforward NumPy references, identical numbers checked.

1. 12-bit task (4096 patterns, 12-10-7-5-4-3-2 tanh, one network trained ``EPOCHS`` epochs, ``LOGGED`` logged epochs):
   binning (Tishby's 30 edges) of all layers, and KDE upper + lower bounds with I(T;Y) (noise variance 0.1),
   toolkit (all logged epochs of a layer in one batched call) vs reference (one epoch and one layer at a time:
   explicit pairwise differences, NumPy max-shifted logsumexp; np.unique(axis=0) for binning). The reference is
   timed on ``REF_EPOCHS`` logged epochs (all layers) and its per-epoch time scaled to the whole run.
2. KDE bounds of 10,000 MNIST test images through a random 784-1024 tanh layer (width 1024): toolkit (blocked,
   symmetric) vs reference (full 10,000 x 10,000 Gram matrix, then logsumexp), with peak memory (tracemalloc).

3. Streaming binning of all 6 layers of 40 networks (one logged epoch, what a consumer receives: a list of
   (40, 4096, units) arrays), fixed (Tishby's 30 edges) and adaptive (30 bins at quantiles of the distinct values),
   toolkit (one batched call per layer) vs a per-network NumPy implementation of the same estimator
   (``ref_fixed_net`` / ``ref_adaptive_net``: ``np.digitize`` or ``np.unique`` + ``np.searchsorted`` for the bins,
   integer row keys by a dot product with radix powers, ``np.unique`` counts for H(T) and H(T, Y)), timed
   interleaved (toolkit, reference, toolkit, ...) in one run, medians, identical numbers checked.

Run: ``python -m benchmarks estimators`` (threads pinned by benchmarks._common, default 1); ``IBT_BENCH_ONLY=stream``
runs only part 3.
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


def _ref_mi_net(codes, y, radix):
    """Plug-in (H(T), I(T;Y)) of one network's layer codes (S, U), the straightforward NumPy way."""
    S, U = codes.shape
    keys = codes.astype(np.int64) @ (np.int64(radix) ** np.arange(U, dtype=np.int64))
    _, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    classes, yc = np.unique(y, return_inverse=True)
    _, jcounts = np.unique(inv.reshape(-1) * classes.size + yc, return_counts=True)
    H = lambda c: np.log(S) - np.sum(c * np.log(c)) / S
    py = np.bincount(yc) / S
    h_t = H(counts)
    return h_t, h_t - np.sum(py * np.log(py)) - H(jcounts)


def ref_fixed_net(h, y, edges):
    """Fixed binning of one network's layer (S, U)."""
    codes = np.clip(np.digitize(h, edges) - 1, 0, len(edges) - 2)
    return _ref_mi_net(codes, y, len(edges) - 1)


def ref_adaptive_net(h, y, n_bins):
    """Adaptive binning of one network's layer (S, U): bins at quantiles of the distinct values."""
    u = np.unique(h)
    codes = np.searchsorted(u, h) * n_bins // u.size
    return _ref_mi_net(codes, y, n_bins)


def streaming_binning(members=40, epochs=300, repeats=15):
    """Part 3: ratios toolkit / per-network reference for one logged epoch, interleaved, medians."""
    data = datasets.tishby_12bit(seed=0)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh")
    run = train(net, data, ensemble=members, epochs=epochs, log_epochs=[epochs - 1], record_activity=True,
                progress=False, seed=0)
    acts = [np.ascontiguousarray(run.activity(l)[:, -1]) for l in range(run.n_layers)]        # all 6 weight layers
    y = run.labels_analysis
    edges = tishby_edges()
    cases = {
        "fixed": (lambda: [estimators.binned(a, y, edges=edges) for a in acts],
                  lambda: [[ref_fixed_net(a[m], y, edges) for m in range(members)] for a in acts]),
        "adaptive": (lambda: [estimators.adaptive(a, y, n_bins=30) for a in acts],
                     lambda: [[ref_adaptive_net(a[m], y, 30) for m in range(members)] for a in acts]),
    }
    print(f"streaming binning: {members} networks x {len(acts)} layers of 12-10-7-5-4-3-2 tanh, "
          f"4096 patterns, activity after {epochs} epochs; {repeats} interleaved repeats, threads={common.THREADS}")
    out = {}
    for name, (tk, ref) in cases.items():
        a, b = tk(), ref()                                                   # warm-up and check
        diff = max(abs(a[l][k][m] - b[l][m][k]) for l in range(len(acts)) for m in range(members) for k in range(2))
        t_tk, t_ref = [], []
        for _ in range(repeats):
            t_tk.append(timed(tk)[0])
            t_ref.append(timed(ref)[0])
        mt, mr = float(np.median(t_tk)), float(np.median(t_ref))
        out[name] = mr / mt
        print(f"  {name:8s}: toolkit {mt * 1e3:6.1f} ms, per-network reference {mr * 1e3:6.1f} ms per logged "
              f"epoch -> {mr / mt:.1f}x; max |diff| {diff:.1e} nats")
    return out


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    print(f"threads={common.THREADS}")
    streaming_binning()
    if os.environ.get("IBT_BENCH_ONLY") == "stream":
        return
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
