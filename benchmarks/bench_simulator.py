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

**Every epoch logged** (issue 12; ``IBT_BENCH_PARTS`` contains ``every``, the default): 50 networks, every epoch
logged with the activity of all 6 layers handed to the consumer (ibbsc's protocol), float64, against (a) the
one-net-at-a-time PyTorch loop above, logging every epoch, and (b) the ensemble a strong engineer writes today in
PyTorch: the 50 networks' parameters stacked (``torch.func.stack_module_state``), the per-member loss through
``torch.func.functional_call``, per-member gradients by ``torch.func.vmap(torch.func.grad(...))`` on independent
per-member minibatches, ``torch.optim.Adam`` on the stacked tensors (elementwise, so per member), and at every
epoch a ``vmap``-ed forward pass over the 4096 patterns returning every layer's activity (to NumPy, to the same
consumer) plus train/test loss and accuracy (one forward pass per split). ``torch.compile`` is not used: on this CPU
it compiled the vmap-ed gradient in 27 s and then ran a step in 7.6 ms against 7.2 ms eager (E = 50, B = 256). The logged-epoch path is compared with its floor: one forward pass over the analysis set
keeping every layer's activity (``MLP.forward_arrays``: 6 batched products, bias adds, tanh of 50 x 4096 x 29
values, the 2-class softmax) plus the output's log-sum-exp and argmax for loss and accuracy, timed alone in the
same process; the logged path is (time with every epoch logged - time with 2 logged) / (extra logged epochs),
minus the consumer's own time. ``IBT_BENCH_EVERY_EPOCHS`` (default 10) epochs, ``IBT_BENCH_REPEATS`` rounds,
``IBT_BENCH_BASELINE_NETS`` loop networks per round; sides interleaved in every round, medians.
The part ends with :func:`arithmetic_bound`, a lower bound on any implementation's time per epoch (the counted products at this machine's measured peak GEMM rate plus the counted tanh values at the fastest float64 tanh measured here), and the largest speed-up over this run's one-net loop that it allows.
``IBT_BENCH_RETAIN=1`` first calls :func:`sims.backend.retain_freed_memory` (glibc keeps freed memory for reuse;
process-wide, so every side runs with it).

**The full protocol** (issue 12; ``IBT_BENCH_PARTS=protocol``, not in the default parts): ibbsc's protocol, 40
networks 12-10-7-5-4-3-2 tanh, Adam lr 4e-4, batch 256, float64, **every** epoch logged with fixed binning
(Tishby's 30 edges) and adaptive binning (30 bins) of all 6 layers streamed as
:class:`sims.info_plane.InfoPlaneConsumer` consumers (member-wise: they run in the member threads), on
``IBT_BENCH_THREADS`` threads (run it with 2). A subset is timed: a short run of ``IBT_BENCH_PROTOCOL_SHORT``
(default 10) epochs and a long one of ``IBT_BENCH_PROTOCOL_EPOCHS`` (default 150); the per-epoch cost is their
difference / the extra epochs, the setup (planning, data, thread pool, epoch 0, assembling the Run) is the short
run minus its epochs at that cost, and 8000 epochs project to setup + 8000 x per-epoch. Peak memory: the peak
RSS of the process (torch not imported in this part), plus what grows with the number of logged epochs at 8000
(the logs and gradient statistics preallocated per logged epoch, the consumers' results kept per epoch and
stacked once at the end), computed from the array sizes.

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
PARTS = os.environ.get("IBT_BENCH_PARTS", "every,sparse").split(",")
EVERY_EPOCHS = int(os.environ.get("IBT_BENCH_EVERY_EPOCHS", "10"))
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


def run_baseline_net(torch, data, seed, dtype, epochs=None, logged=None):
    epochs = EPOCHS if epochs is None else epochs
    logged = LOGGED if logged is None else np.asarray(logged)
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
    logged, results, accs = set(logged.tolist()), [], []

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
    for epoch in range(1, epochs + 1):
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


def _baseline_model(torch, seed, tdtype):
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(ARCH[:-1], ARCH[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(ARCH) - 2:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers).to(dtype=tdtype)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.trunc_normal_(m.weight, std=m.in_features ** -0.5, a=-2 * m.in_features ** -0.5,
                                        b=2 * m.in_features ** -0.5)
            torch.nn.init.zeros_(m.bias)
    return model


def run_vmap_ensemble(torch, data, seed, epochs, logged, consume=consumer):
    """The modern PyTorch ensemble (module docstring): stacked parameters, functional_call, vmap(grad), Adam."""
    from torch.func import functional_call, grad, stack_module_state, vmap
    F = torch.nn.functional
    tdtype = torch.float64
    models = [_baseline_model(torch, seed * 1000 + i, tdtype) for i in range(E)]
    params, _ = stack_module_state(models)
    base = models[0]
    n_lin = len(ARCH) - 1

    def loss_fn(p, xb, yb):
        return F.cross_entropy(functional_call(base, (p,), (xb,)), yb)

    def layers_fn(p, x):   # every layer's activity of one member
        h, outs = x, []
        for i in range(n_lin):
            h = F.linear(h, p[f"{2 * i}.weight"], p[f"{2 * i}.bias"])
            outs.append(torch.tanh(h) if i < n_lin - 1 else torch.softmax(h, -1))
            h = outs[-1] if i < n_lin - 1 else h
        return tuple(outs), h

    per_member_grad = vmap(grad(loss_fn))
    all_layers = vmap(layers_fn, in_dims=(0, None))
    def loss_acc(p, x, y):   # one forward pass per split for both numbers
        out = functional_call(base, (p,), (x,))
        return F.cross_entropy(out, y), (out.argmax(-1) == y).double().mean()

    eval_split = vmap(loss_acc, in_dims=(0, None, None))
    opt = torch.optim.Adam(list(params.values()), lr=LR, eps=1e-7)
    xtr, ytr = torch.as_tensor(data.x_train, dtype=tdtype), torch.as_tensor(data.y_train)
    xte, yte = torch.as_tensor(data.x_test, dtype=tdtype), torch.as_tensor(data.y_test)
    xan = torch.as_tensor(data.x_analysis, dtype=tdtype)
    n, logged, results = xtr.shape[0], set(np.asarray(logged).tolist()), []
    gen = torch.Generator().manual_seed(seed)

    def log(epoch):
        with torch.no_grad():
            acts, _ = all_layers(params, xan)
            results.append(consume(epoch, [a.numpy() for a in acts]))
            for x, y in ((xtr, ytr), (xte, yte)):
                eval_split(params, x, y)

    if 0 in logged:
        log(0)
    for epoch in range(1, epochs + 1):
        perm = torch.argsort(torch.rand(E, n, generator=gen), dim=1)
        for s in range(0, n, BATCH):
            idx = perm[:, s:s + BATCH]
            g = per_member_grad({k: v.detach() for k, v in params.items()}, xtr[idx], ytr[idx])
            for k, v in params.items():
                v.grad = g[k]
            opt.step()
        if epoch in logged:
            log(epoch)
    return results


def logged_floor(data, repeats=7):
    """Time of the logged epoch's floor (module docstring): the analysis-set forward pass keeping every layer,
    and the output's log-sum-exp and argmax; the minimum over ``repeats`` calls (s)."""
    from sims.backend import NumpyBackend
    be, net = NumpyBackend(), MLP(ARCH, activation="tanh")
    theta = net.init_flat(E, seed=0)
    Ws, bs = zip(*net.views(theta))
    x = np.ascontiguousarray(data.x_analysis, dtype=np.float64)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        z, acts = net.forward_arrays(be, Ws, bs, x)
        be.logsumexp(be.mT(z), 1), acts[-1].argmax(-1)
        times.append(time.perf_counter() - t0)
    return min(times), acts


def arithmetic_bound(torch, data, repeats=7):
    """Lower bound on ANY implementation's time per epoch of the every-epoch-logged task (module docstring),
    from this machine's measured peak rates (s per epoch for ``E`` networks, and what it is made of).

    Counted, per network and epoch (widths ``ARCH``, ``n`` train samples, ``S`` analysis patterns, ``B`` batch):
    the products of the training steps, forward sum(fan_in fan_out) = 263 multiply-adds per sample, weight
    gradients 263, backpropagated deltas 263 - 12 x 10 = 143 (none into the input), and those of the logged pass
    over the ``S`` patterns (263 each); tanh of the 29 hidden units of every training sample and every pattern.
    The first minibatch of an epoch runs at the parameters of the logged pass, so its forward products and tanh are
    not counted (they could be reused). Rates: float64 GEMM at its PEAK (the best of NumPy's and torch's 1536 x
    1536 product on one thread; products with K <= 12 as here run far below it), and the fastest float64 tanh
    available (``np.tanh``, ``torch.tanh``, :func:`analytic.fast_tanh.fast_tanh`, best of ``repeats``). The
    softmax, losses, Adam, gathers and the consumer are not counted, so the bound is generous.
    """
    from analytic.fast_tanh import fast_tanh

    def best(fn):
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return min(ts)

    rng = np.random.default_rng(0)
    n = 1536
    a, b = rng.random((n, n)), rng.random((n, n))
    peaks = {"numpy": 2 * n ** 3 / best(lambda: a @ b)}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        peaks["torch"] = 2 * n ** 3 / best(lambda: ta @ tb)
    z = rng.uniform(-3.0, 3.0, (E, 4096, sum(ARCH[1:-1])))
    out = np.empty_like(z)
    tanh = {"np.tanh": best(lambda: np.tanh(z, out=out)) / z.size, "fast_tanh": best(lambda: fast_tanh(z)) / z.size}
    if torch is not None:
        tz, to = torch.from_numpy(z), torch.from_numpy(out)
        tanh["torch.tanh"] = best(lambda: torch.tanh(tz, out=to)) / z.size
    fwd = sum(i * o for i, o in zip(ARCH[:-1], ARCH[1:]))
    delta = fwd - ARCH[0] * ARCH[1]
    hidden = sum(ARCH[1:-1])
    n_tr, S = data.x_train.shape[0], data.x_analysis.shape[0]
    reused = min(BATCH, n_tr)
    macs = E * ((n_tr - reused) * fwd + n_tr * (fwd + delta) + S * fwd)
    n_tanh = E * (n_tr - reused + S) * hidden
    peak, t_tanh = max(peaks.values()), min(tanh.values())
    return {"seconds": 2 * macs / peak + n_tanh * t_tanh, "products_s": 2 * macs / peak, "tanh_s": n_tanh * t_tanh,
            "gflops": {k: v / 1e9 for k, v in peaks.items()}, "tanh_ns": {k: v * 1e9 for k, v in tanh.items()},
            "macs": macs, "n_tanh": n_tanh}


def every_epoch_part(torch, data):
    """Every epoch logged: the ensemble against the one-net loop and the vmap ensemble, and its floor."""
    epochs, every = EVERY_EPOCHS, list(range(EVERY_EPOCHS + 1))
    sparse = [0, EVERY_EPOCHS]
    net = MLP(ARCH, activation="tanh")

    def ens(logged):
        t0 = time.perf_counter()
        train(net, data, ensemble=E, epochs=epochs, batch_size=BATCH, lr=LR, seed=0, log_epochs=logged,
              consumers={"mean": consumer}, progress=False, threads=common.THREADS)
        return time.perf_counter() - t0

    ens([0, 1])
    run_vmap_ensemble(torch, data, 0, 1, [0, 1])        # warm-ups (first-call costs), not timed
    run_baseline_net(torch, data, 999, "float64", 1, [0, 1])
    t = {"ensemble": [], "ensemble_sparse": [], "vmap": [], "loop_net": [], "floor": [], "consumer": []}
    for r in range(REPEATS):
        t["ensemble"].append(ens(every))
        t["ensemble_sparse"].append(ens(sparse))
        t0 = time.perf_counter()
        run_vmap_ensemble(torch, data, r, epochs, every)
        t["vmap"].append(time.perf_counter() - t0)
        for i in range(BASELINE_NETS):
            t0 = time.perf_counter()
            run_baseline_net(torch, data, 100 * r + i, "float64", epochs, every)
            t["loop_net"].append(time.perf_counter() - t0)
        fl, acts = logged_floor(data)
        t["floor"].append(fl)
        t0 = time.perf_counter()
        consumer(0, acts)
        t["consumer"].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in t.items()}
    per_ne = {"ensemble": med["ensemble"] / (E * epochs), "vmap": med["vmap"] / (E * epochs),
              "loop": med["loop_net"] / epochs}
    logged_path = (med["ensemble"] - med["ensemble_sparse"]) / (len(every) - len(sparse)) - med["consumer"]
    print(f"[every epoch logged] {E} nets x {epochs} epochs, all {len(every)} epochs logged, float64, "
          f"{common.THREADS} thread(s), {REPEATS} interleaved rounds, medians", flush=True)
    for k, v in per_ne.items():
        print(f"  {k:9s}: {v * 1e3:6.2f} ms per network-epoch", flush=True)
    print(f"  speed-up over the one-net loop: {per_ne['loop'] / per_ne['ensemble']:.1f}x (target >= 40x); over the "
          f"vmap ensemble: {per_ne['vmap'] / per_ne['ensemble']:.2f}x (target >= 2x)", flush=True)
    print(f"  logged-epoch path {logged_path * 1e3:.1f} ms for {E} nets (consumer's own {med['consumer'] * 1e3:.1f} ms "
          f"excluded) against its floor {med['floor'] * 1e3:.1f} ms: {logged_path / med['floor']:.2f}x "
          f"(target <= 2x); training alone {med['ensemble_sparse'] / epochs * 1e3:.1f} ms per epoch", flush=True)
    print("  runs (s): " + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v) for k, v in t.items()), flush=True)
    bound = arithmetic_bound(torch, data)
    cap = per_ne["loop"] * E / bound["seconds"]
    print(f"  arithmetic bound for any implementation (arithmetic_bound): {bound['seconds'] * 1e3:.1f} ms per epoch "
          f"for {E} nets = products {bound['products_s'] * 1e3:.1f} ms ({bound['macs'] / 1e6:.1f} M multiply-adds at "
          f"the peak GEMM rate, GFLOP/s " + ", ".join(f"{k} {v:.1f}" for k, v in bound["gflops"].items()) + ") + tanh "
          f"{bound['tanh_s'] * 1e3:.1f} ms ({bound['n_tanh'] / 1e6:.2f} M values, ns/value "
          + ", ".join(f"{k} {v:.2f}" for k, v in bound["tanh_ns"].items()) + f"); so at most {cap:.1f}x over this "
          f"run's one-net loop (40x needs <= {per_ne['loop'] * E / 40 * 1e3:.1f} ms per epoch)", flush=True)


def protocol_part(data):
    """ibbsc's full protocol (module docstring): timed on a subset, projected to 8000 epochs x 40 networks."""
    from analytic.binning import tishby_edges
    from sims.info_plane import InfoPlaneConsumer
    from sims.recorder import GRAD_KEYS, LOG_KEYS
    members, full_epochs = 40, 8000
    short, long_ = int(os.environ.get("IBT_BENCH_PROTOCOL_SHORT", "10")), int(os.environ.get(
        "IBT_BENCH_PROTOCOL_EPOCHS", "150"))
    y = data.y_analysis if getattr(data, "y_analysis", None) is not None else np.concatenate([data.y_train,
                                                                                             data.y_test])
    net = MLP(ARCH, activation="tanh")

    def run(epochs):
        consumers = {"fixed": InfoPlaneConsumer("binned", y, edges=tishby_edges()),
                     "adaptive": InfoPlaneConsumer("adaptive", y, n_bins=30)}
        t0 = time.perf_counter()
        r = train(net, data, ensemble=members, epochs=epochs, batch_size=BATCH, lr=LR, seed=0,
                  log_epochs=list(range(epochs + 1)), consumers=consumers, progress=False, threads=common.THREADS)
        return time.perf_counter() - t0, r

    load0 = os.getloadavg()[0]
    t_short, _ = run(short)
    t_long, r = run(long_)
    per_epoch = (t_long - t_short) / (long_ - short)
    setup = max(t_short - short * per_epoch, 0.0)
    projected = setup + full_epochs * per_epoch
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10          # KiB -> MiB on Linux
    L = full_epochs + 1                                                      # logged epochs at full scale
    per_logged = members * len(LOG_KEYS) * 8                                     # logs: (E, L) each
    per_logged += members * len(GRAD_KEYS) * net.n_layers * 8                    # gradient statistics: (E, L, 6)
    per_logged += 2 * 2 * members * net.n_layers * 2 * 8      # 2 consumers' (E, 6, 2) per epoch, list + final stack
    grown = (L - (long_ + 1)) * per_logged / 2**20
    acc = float(np.median(r.accuracy["test"][:, -1]))
    print(f"[full protocol] {members} nets, every epoch logged, fixed (30 Tishby edges) + adaptive (30 bins) "
          f"binning of all {net.n_layers} layers streamed in the member threads, float64, threads={common.THREADS}; "
          f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    print(f"  {short} epochs: {t_short:.1f} s; {long_} epochs: {t_long:.1f} s -> {per_epoch * 1e3:.1f} ms per "
          f"epoch (40 nets, logged + binned), setup {setup:.1f} s; projected {full_epochs} epochs: "
          f"{projected / 60:.1f} min (target <= 30 min); median test accuracy after {long_} epochs {acc:.3f}",
          flush=True)
    print(f"  peak RSS {rss:.0f} MiB at {long_} epochs, + {grown:.0f} MiB for the per-logged-epoch arrays at "
          f"{full_epochs} epochs -> {rss + grown:.0f} MiB projected (target <= 2048 MiB)", flush=True)


def main():
    if PARTS == ["protocol"]:          # no torch in this part (its peak RSS is the simulator's)
        protocol_part(datasets.tishby_12bit(train_fraction=0.8, seed=0))
        return
    torch = common.pin_torch_threads()
    if "protocol" in PARTS:
        protocol_part(datasets.tishby_12bit(train_fraction=0.8, seed=0))
    if os.environ.get("IBT_BENCH_RETAIN") == "1":   # process-wide, before anything is timed: all sides alike
        from sims.backend import retain_freed_memory
        print(f"sims.backend.retain_freed_memory() applied to the whole process: {retain_freed_memory()}", flush=True)
    if "every" in PARTS and torch is not None:
        every_epoch_part(torch, datasets.tishby_12bit(train_fraction=0.8, seed=0))
    if "sparse" not in PARTS:
        return
    sparse_part(torch)


def sparse_part(torch):
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
