"""Ensemble simulator vs the usual way: 50 networks 12-10-7-5-4-3-2 (tanh) on the 12-bit task.

Task (issue 4): E = 50 nets, Adam lr 4e-4, batch 256, 1000 epochs, ~100 logged epochs at which the activity of
every layer on all 4096 patterns is captured (and train/test loss and accuracy computed). Two ways:

* **ensemble**: ``sims.train(..., ensemble=50)``; activity handed to a consumer at each logged epoch;
* **baseline**: one network at a time in a plain PyTorch loop: ``nn.Sequential`` of Linear/Tanh layers,
  ``torch.optim.Adam``, cross-entropy, a per-epoch Python loop with manual minibatching over a fresh
  ``torch.randperm``, and at logged epochs a no-grad pass over the 4096 patterns capturing every layer's
  activity (handed, as numpy, to the same consumer) plus train/test loss and accuracy.

Both run in this one process with the same thread count N (``IBT_BENCH_THREADS``, default 1): the ensemble as
``train(..., threads=N)`` (N member groups, one thread each, with 1 BLAS thread per thread), the baseline with
``torch.set_num_threads(N)``. For N > 1 the baseline networks are also timed at 1 thread, interleaved, and each
speed-up is taken against the faster of the two (a network this small gains little from intra-op threads).

By default a faithful subset is timed: ``EPOCHS`` epochs (default 30) with 10% of them logged (the density of
~100 logged epochs in 1000), ``REPEATS`` (default 5) rounds, and in each round ``BASELINE_NETS`` (default 2)
baseline networks per dtype (and thread count); times are scaled linearly to 1000 epochs and 50 networks
(per-epoch cost does not depend on the epoch index, and the baseline's cost is exactly linear in the number of
networks).
``--full`` runs the whole task (slow: the baseline alone takes about an hour on one core).

Memory: peak resident set size (``resource.getrusage``) after the ensemble runs, before the baseline starts,
and the ``tracemalloc`` peak of one ensemble run (Python/NumPy allocations).

``IBT_BENCH_DEVICE=cuda`` times the torch backend on the GPU (float64 and float32) against the same baseline run
on the GPU, one network at a time (the usual way there).

Run: ``python -m benchmarks simulator`` (``IBT_BENCH_EPOCHS``, ``IBT_BENCH_BASELINE_NETS``, ``IBT_BENCH_REPEATS``,
``IBT_BENCH_DEVICE``, ``IBT_BENCH_ENSEMBLE`` to time another ensemble size against the same baseline;
``IBT_BENCH_CONFIGS`` to time only some ensemble configurations, e.g. ``numpy:float64,numpy:float32``;
``IBT_BENCH_BASELINE_DTYPES``, default ``float32,float64``).
"""
import os

os.environ.setdefault("IBT_BENCH_BLAS_THREADS", "1")   # the ensemble's N threads each call BLAS: 1 thread there
import benchmarks._common as common  # noqa: E402,I001  (pins threads before numpy/torch load)
import resource
import statistics
import sys
import time
import tracemalloc

import numpy as np

from sims import MLP, datasets, train
from sims.train import log_schedule

ARCH = [12, 10, 7, 5, 4, 3, 2]
FULL_EPOCHS, FULL_LOGGED, BATCH, LR = 1000, 100, 256, 4e-4
E = int(os.environ.get("IBT_BENCH_ENSEMBLE", "50"))
FULL = "--full" in sys.argv
EPOCHS = FULL_EPOCHS if FULL else int(os.environ.get("IBT_BENCH_EPOCHS", "30"))
BASELINE_NETS = E if FULL else int(os.environ.get("IBT_BENCH_BASELINE_NETS", "2"))  # per dtype and repeat
REPEATS = 1 if FULL else int(os.environ.get("IBT_BENCH_REPEATS", "5"))
DEVICE = os.environ.get("IBT_BENCH_DEVICE", "cpu")
LOGGED = log_schedule(FULL_LOGGED if FULL else max(2, EPOCHS // 10), EPOCHS)
CONFIGS = [c for c in os.environ.get("IBT_BENCH_CONFIGS", "").split(",") if c]   # e.g. "numpy:float64"; "" = all
BASELINE_DTYPES = os.environ.get("IBT_BENCH_BASELINE_DTYPES", "float32,float64").split(",")


def consumer(epoch, acts):
    """The same cheap consumer on both sides (a stand-in for an MI estimator): per-layer mean activity."""
    return np.array([a.mean() for a in acts])


def run_ensemble(data, backend, dtype, epochs=EPOCHS, logged=LOGGED):
    device = DEVICE if backend == "torch" else None
    t0 = time.perf_counter()
    run = train(MLP(ARCH, activation="tanh"), data, ensemble=E, epochs=epochs, batch_size=BATCH, lr=LR, seed=0,
                backend=backend, dtype=dtype, device=device, log_epochs=list(logged), consumers={"mean": consumer},
                progress=False, threads=common.THREADS if DEVICE == "cpu" else 1)
    return time.perf_counter() - t0, run


def run_baseline_net(torch, data, seed, dtype):
    torch.manual_seed(seed)
    tdtype = getattr(torch, dtype)
    layers = []
    for i, (a, b) in enumerate(zip(ARCH[:-1], ARCH[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(ARCH) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(dtype=tdtype, device=DEVICE)
    for m in model:  # truncated-normal std 1/sqrt(fan_in), zero biases, as the ensemble
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.trunc_normal_(m.weight, std=m.in_features ** -0.5, a=-2 * m.in_features ** -0.5,
                                        b=2 * m.in_features ** -0.5)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=LR, eps=1e-7)
    lossf = torch.nn.CrossEntropyLoss()
    dev = dict(dtype=tdtype, device=DEVICE)
    xtr, ytr = torch.as_tensor(data.x_train, **dev), torch.as_tensor(data.y_train, device=DEVICE)
    xte, yte = torch.as_tensor(data.x_test, **dev), torch.as_tensor(data.y_test, device=DEVICE)
    xan = torch.as_tensor(data.x_analysis, **dev)
    n = xtr.shape[0]
    logged, results, accs = set(LOGGED.tolist()), [], []

    def log(epoch):
        with torch.no_grad():
            acts, h = [], xan
            for m in model:
                h = m(h)
                if isinstance(m, torch.nn.Tanh):
                    acts.append(h.cpu().numpy().astype(np.float64))
            acts.append(torch.softmax(h, -1).cpu().numpy().astype(np.float64))
            results.append(consumer(epoch, acts))
            for x, y in ((xtr, ytr), (xte, yte)):
                out = model(x)
                accs.append((float(lossf(out, y)), float((out.argmax(1) == y).double().mean())))

    if 0 in logged:
        log(0)
    for epoch in range(1, EPOCHS + 1):
        perm = torch.randperm(n, device=DEVICE)
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad()
            lossf(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
        if epoch in logged:
            log(epoch)
    if DEVICE != "cpu":
        torch.cuda.synchronize()
    return accs[-1][1]


def main():
    torch = common.pin_torch_threads()
    data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    scale = FULL_EPOCHS / EPOCHS
    print(f"threads={common.THREADS} epochs timed={EPOCHS} (x{scale:g} to 1000) logged={len(LOGGED)} "
          f"ensemble={E} baseline nets timed={BASELINE_NETS} repeats={REPEATS} device={DEVICE} "
          f"load average at start={os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    configs = [("numpy", "float64"), ("numpy", "float32")] if DEVICE == "cpu" else []
    if torch is not None:
        configs += [("torch", "float64"), ("torch", "float32")]
        if DEVICE != "cpu":
            print(f"GPU: {torch.cuda.get_device_name()}; torch {torch.__version__}", flush=True)
            for dt in ("float32", "float64"):   # warm-up (CUDA context, kernels), not timed
                run_ensemble(data, "torch", dt, epochs=2, logged=[0, 1, 2])
        run_baseline_net(torch, data, 999, "float32")  # warm-up (first-call costs of torch), not timed
    if CONFIGS:
        configs = [c for c in configs if ":".join(c) in CONFIGS]
    # the machine is shared: ensemble runs and baseline networks are INTERLEAVED (each repeat times every ensemble
    # configuration and then BASELINE_NETS networks per dtype), so that load drift hits both sides alike
    times = {c: [] for c in configs}
    base_threads = [common.THREADS] + ([1] if common.THREADS > 1 else [])
    base_times = {(dtype, n): [] for dtype in BASELINE_DTYPES for n in base_threads}
    peaks, accs = {}, {}
    tracemalloc.start()
    for r in range(REPEATS):
        for c in configs:
            tracemalloc.reset_peak()
            t, run = run_ensemble(data, *c)
            times[c].append(t)
            peaks[c] = max(peaks.get(c, 0), tracemalloc.get_traced_memory()[1])
            accs[c] = float(np.median(run.accuracy["test"][:, -1]))
            del run
        if r == 0:
            tracemalloc.stop()
            gpu_peak = torch.cuda.max_memory_allocated() if DEVICE != "cpu" else 0
            peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB -> MiB on Linux
        if torch is not None:
            for i in range(BASELINE_NETS):   # dtypes and thread counts interleaved, net by net
                for (dtype, n), ts in base_times.items():
                    torch.set_num_threads(n)
                    t0 = time.perf_counter()
                    run_baseline_net(torch, data, 100 * r + i, dtype)
                    ts.append(time.perf_counter() - t0)
            torch.set_num_threads(common.THREADS)
    rows = {}
    for c in configs:
        med = statistics.median(times[c])
        rows[c] = med * scale
        print(f"ensemble {c[0]:5s} {c[1]}: median {med:.2f} s for {EPOCHS} epochs (runs: "
              f"{', '.join(f'{t:.1f}' for t in times[c])}) -> {rows[c]:.0f} s for 1000 epochs x {E} nets; "
              f"final test acc median {accs[c]:.3f}; tracemalloc peak {peaks[c] / 2**20:.0f} MiB", flush=True)
    print(f"peak RSS of the process after the first round of ensemble runs (before any baseline net): "
          f"{peak_rss:.0f} MiB", flush=True)
    if DEVICE != "cpu":
        print(f"peak GPU memory allocated by torch (ensemble runs): {gpu_peak / 2**20:.0f} MiB", flush=True)
    if torch is None:
        print("torch not installed: no baseline")
        return
    for dtype in BASELINE_DTYPES:
        bases = {}
        for n in base_threads:
            ts = base_times[dtype, n]
            bases[n] = statistics.median(ts) * E * scale
            print(f"baseline torch {dtype}, {n} thread(s): median {statistics.median(ts):.2f} s per net for {EPOCHS} "
                  f"epochs ({len(ts)} nets) -> {bases[n]:.0f} s for {E} nets x 1000 epochs", flush=True)
        n, base = min(bases.items(), key=lambda kv: kv[1])
        print(f"   (the faster baseline: {n} thread(s))")
        for c, t in rows.items():
            print(f"   speed-up of ensemble {c[0]} {c[1]} over baseline {dtype}: {base / t:.1f}x")
    print(f"load average at end={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
