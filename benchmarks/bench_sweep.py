"""Sweeps: a 16-cell 12-bit sweep on a 2-worker Dask LocalCluster against the serial loop, and packed ensemble
runs against one training run per cell.

The sweep: 16 cells (4 learning rates x 4 seeds), each one network 12-10-7-5-4-3-2 (tanh, softmax) on the 12-bit
task (Tishby's 4096 patterns, 80 % for training), in two training configurations:

* ``adam-256``: Adam, batch 256, ``IBT_BENCH_EPOCHS`` epochs (default 150) — the information-plane papers' setting;
* ``sgd-1``: plain SGD on one sample per step, ``IBT_BENCH_SGD_EPOCHS`` epochs (default 2; 3277 steps each).

Per configuration and round, interleaved (the order rotates from round to round):

* **loop**: ``for cell in cells: train_cell(**cell)`` in this process (what a hand-written sweep does);
* **dask**: ``sweep(train_cell, grid, backend="dask", address=...)`` on ``sims.sweep.local_cluster(2)`` (2
  single-threaded worker processes) started once before the rounds (its start-up is timed separately);
* **dask-fresh**: the same with ``backend="dask", n_workers=2`` and no address: the sweep starts (and closes) its own
  ``LocalCluster``, whose workers import the toolkit on their first cell (what a one-off sweep pays);
* **unpacked**: ``sweep_train(..., pack=False)``: one ``sims.train`` call per cell (one network each), serial;
* **packed**: ``sweep_train(..., pack=True)``: the 16 cells as ONE 16-member ensemble run, serial;
* **packed+dask**: ``sweep_train(..., backend="dask")``: two 8-member packs, one per worker;
* **train-1** / **train-16**: one bare ``sims.train`` call of 1 network / of the 16 networks of the packed run (16
  seeds, 16 learning rates), no sweep around them: ``16 x train-1 / train-16`` is the ensemble simulator's own gain
  at E = 16, the most packing can give (unpacked is 16 train-1 calls, packed is one train-16 call, plus the sweep).

Besides wall times, the cells report the CPU time they got (``time.process_time``): their sum over the wall time
is the number of cores the loop (at most 1) and the cluster (at most 2) actually obtained, which tells a shared
machine's contention apart from the sweep's own overhead. The serial ways also report this process's CPU time, and
the packing ratios are given in CPU time as well (less sensitive to other jobs on a shared machine).

Each ratio is the median over rounds of the per-round ratio (loop/dask, loop/dask-fresh, unpacked/packed,
unpacked/packed+dask, 16 train-1/train-16).
BLAS/OpenMP threads are pinned to 1 everywhere (this process and every worker). The machine's load average is
printed before and after: on a shared machine the 2-worker ratio measures the cores the workers actually got.

Run: ``python -m benchmarks sweep`` (``IBT_BENCH_REPEATS``, default 3; ``IBT_BENCH_CONFIGS``, e.g. ``sgd-1``).
"""
import os

import benchmarks._common  # noqa: F401,I001  (pins BLAS threads to 1 before numpy loads)
import functools
import statistics
import time

import numpy as np

from sims import MLP, datasets, train
from sims.sweep import local_cluster, sweep, sweep_train

ARCH = [12, 10, 7, 5, 4, 3, 2]
REPEATS = int(os.environ.get("IBT_BENCH_REPEATS", "3"))
CONFIGS = {
    "adam-256": dict(optimizer="adam", batch_size=256, epochs=int(os.environ.get("IBT_BENCH_EPOCHS", "150"))),
    "sgd-1": dict(optimizer="sgd", batch_size=1, epochs=int(os.environ.get("IBT_BENCH_SGD_EPOCHS", "2"))),
}
LRS = {"adam-256": [2e-4, 4e-4, 1e-3, 2e-3], "sgd-1": [1e-3, 3e-3, 1e-2, 3e-2]}
CHOSEN = [c for c in os.environ.get("IBT_BENCH_CONFIGS", "").split(",") if c] or list(CONFIGS)


def train_cell(lr, seed, optimizer, batch_size, epochs):
    """One cell: one network trained with sims.train; its final train/test loss and accuracy, and the CPU time
    the cell's process spent on it."""
    cpu = time.process_time()
    data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    run = train(MLP(ARCH, activation="tanh"), data, ensemble=1, epochs=epochs, batch_size=batch_size,
                optimizer=optimizer, lr=lr, seed=seed, log_epochs=[0, epochs], progress=False)
    return {"loss_train": run.loss["train"][0, -1], "loss_test": run.loss["test"][0, -1],
            "acc_test": run.accuracy["test"][0, -1], "cpu": time.process_time() - cpu}


def load():
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main():
    data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    net = MLP(ARCH, activation="tanh")
    print(f"before: {load()}", flush=True)
    t0 = time.perf_counter()
    cluster = local_cluster(2)
    print(f"LocalCluster(2 workers) start-up: {time.perf_counter() - t0:.2f} s", flush=True)
    try:
        for name in CHOSEN:
            kw = CONFIGS[name]
            grid = {"lr": LRS[name], "seed": [0, 1, 2, 3]}
            cells = [{"lr": lr, "seed": s} for lr in grid["lr"] for s in grid["seed"]]
            fn = functools.partial(train_cell, **kw)
            tkw = dict(kw, log_epochs=[0, kw["epochs"]], progress=False)
            ways = {
                "loop": lambda: [fn(**c) for c in cells],
                "dask": lambda: sweep(fn, grid, backend="dask", address=cluster.scheduler_address, progress=False),
                "dask-fresh": lambda: sweep(fn, grid, backend="dask", n_workers=2, progress=False),
                "unpacked": lambda: sweep_train(net, data, grid, pack=False, **tkw),
                "packed": lambda: sweep_train(net, data, grid, pack=True, **tkw),
                "packed+dask": lambda: sweep_train(net, data, grid, backend="dask", n_workers=2,
                                                   address=cluster.scheduler_address, **tkw),
                "train-1": lambda: train(net, data, ensemble=1, lr=cells[0]["lr"], seed=0, **tkw),
                "train-16": lambda: train(net, data, ensemble=16, lr=np.array([c["lr"] for c in cells]),
                                          seed=[c["seed"] for c in cells], **tkw),
            }
            serial = ("loop", "unpacked", "packed", "train-1", "train-16")
            ways["dask"]()          # warm-up: workers import the toolkit once
            times = {k: [] for k in ways}
            cpu = {k: [] for k in serial}      # this process's CPU time of the serial ways
            cores = {"loop": [], "dask": []}   # CPU-seconds of the cells per wall second: the cores obtained
            names = list(ways)
            for r in range(REPEATS):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    t, c = time.perf_counter(), time.process_time()
                    out = ways[k]()
                    times[k].append(time.perf_counter() - t)
                    if k in serial:
                        cpu[k].append(time.process_time() - c)
                    if k == "loop":
                        cores[k].append(sum(o["cpu"] for o in out) / times[k][-1])
                    elif k == "dask":
                        cores[k].append(float(out["cpu"].sum()) / times[k][-1])
                    if k not in ("loop", "train-1", "train-16"):
                        assert out.attrs["n_failed"] == 0, out["error"].values
                print(f"  {name} round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                      + f"; {load()}", flush=True)

            def ratio(a, b, t=times, scale=1.0):
                return statistics.median(scale * x / y for x, y in zip(t[a], t[b]))

            med = {k: statistics.median(v) for k, v in times.items()}
            print(f"{name} ({kw}), 16 cells, medians of {REPEATS}: "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
            print("  CPU time of the serial ways, medians: "
                  + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in cpu.items()))
            print(f"  2 dask workers vs the serial loop: {ratio('loop', 'dask'):.2f}x (cores obtained, median: "
                  f"loop {statistics.median(cores['loop']):.2f}, dask {statistics.median(cores['dask']):.2f}); "
                  f"with a cluster started by the sweep: {ratio('loop', 'dask-fresh'):.2f}x")
            print(f"  packed (1 run, E=16) vs unpacked (16 runs, E=1): {ratio('unpacked', 'packed'):.2f}x wall, "
                  f"{ratio('unpacked', 'packed', cpu):.2f}x CPU")
            gain = (ratio("train-1", "train-16", scale=16), ratio("train-1", "train-16", cpu, 16))
            print(f"  the simulator's own gain at E=16, 16 train-1 / train-16: {gain[0]:.2f}x wall, {gain[1]:.2f}x "
                  "CPU (the ceiling of packing)")
            print("  packed on 2 dask workers (2 runs, E=8) vs unpacked serial: "
                  f"{ratio('unpacked', 'packed+dask'):.2f}x", flush=True)
    finally:
        cluster.close()
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
