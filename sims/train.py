"""Train an ensemble of E networks at once, logging what the information plane needs.

All E members share a specification (:class:`sims.mlp.MLP`) and train simultaneously: every forward and
backward matrix product is one batched product such as ``(E, out, in) @ (E, in, B)`` (samples along the last
axis inside the simulator, see :mod:`sims.mlp`), every optimizer step a few operations on the flat (E, P)
parameter array. Members differ in their initial weights, their minibatch order (independent reshuffles) and,
optionally, their learning rate (``lr`` of shape (E,)).

Threads: ``threads=N`` splits the members into N contiguous groups (:func:`member_groups`), and each group
trains on its own CPU thread, on row views of the shared arrays; NumPy and torch release the GIL inside their
array operations, so the groups run concurrently (measured 1.5x per epoch on 2 cores, BENCHMARKS.md). The
threads meet once per epoch (once per block of steps with training noise) and at logged epochs, whose
evaluation is split the same way. All randomness is still drawn in the main thread for the whole ensemble, so
a run does not depend on N.

Randomness: ONE ``numpy.random.Generator`` (PCG64, ``seed``) draws, in this order, the initial weights,
then per epoch the E permutations of the training set (``shuffle=True``), then per step the training noise
(drawn ahead for blocks of steps, in the same order).
The torch backend receives the very same numbers, so numpy and torch trajectories agree to rounding.
Analysis noise (``analysis_noise_std``) comes from a second generator seeded from ``seed`` so that turning
it on does not change the training trajectory.

At every logged epoch (epoch 0 = before any update) the run records, noiselessly, the train/test loss
and accuracy of every member; hands the analysis-set activity of every layer to the ``consumers``
(``fn(epoch, [array (E, S, units) per layer]) -> array``) and, on request, stores it; and summarizes the
weight gradients over the minibatches of that epoch (Shwartz-Ziv & Tishby 2017, Sec. 3.4; SPECS §4):
for each layer, ||mean_b g_b|| and ||std_b g_b|| (elementwise over minibatches b, population std, Frobenius
norms), their ratio (the SNR) and ||W||. These statistics are accumulated as running sums (shifted by the
first minibatch's gradient for numerical stability), so they cost two array operations per step.

Example
-------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> from sims import MLP, train
>>> rng = np.random.default_rng(0); x = rng.normal(size=(64, 3)); y = (x[:, 0] > 0).astype(int)
>>> data = SimpleNamespace(x_train=x[:48], y_train=y[:48], x_test=x[48:], y_test=y[48:])
>>> run = train(MLP([3, 4, 2]), data, ensemble=4, epochs=5, batch_size=16, lr=0.01, progress=False)
>>> run.accuracy["test"].shape
(4, 6)
"""
from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from analytic.checks import rng as check_rng
from analytic.checks import finite_array, labels_for, nonnegative, positive, positive_int
from sims.backend import get_backend
from sims.io import atomic_savez
from sims.mlp import MLP, targets_from_labels
from sims.optim import Adam, get_optimizer, get_schedule
from sims.progress import progress as progress_bar
from sims.run import DiskActivity, MemoryActivity, Run

__all__ = ["train", "log_schedule", "member_groups", "TrainingDiverged"]

_NOISE_BLOCK_FLOATS = 1 << 23   # training noise is drawn ahead for blocks of steps of at most this many floats


class TrainingDiverged(FloatingPointError):
    """A member's loss or parameters became NaN/inf; the message names the epoch and the members."""


def log_schedule(log_epochs, epochs: int) -> np.ndarray:
    """Logged epochs: None -> ~200 log-spaced epochs, int n -> ~n log-spaced (both include 0 and ``epochs``),
    or an explicit list (sorted, unique, within [0, epochs])."""
    if log_epochs is None or isinstance(log_epochs, (int, np.integer)) and not isinstance(log_epochs, bool):
        n = 200 if log_epochs is None else positive_int(log_epochs, "log_epochs", minimum=2)
        if n >= epochs + 1:
            return np.arange(epochs + 1)
        m = n
        while True:  # geomspace rounds to repeated small epochs: add points until n distinct remain
            e = np.unique(np.concatenate([[0], np.round(np.geomspace(1, epochs, m - 1)).astype(np.int64)]))
            if len(e) >= n or m > 20 * n:
                return e
            m += 1
    try:
        e = np.asarray(log_epochs)
    except Exception:  # pragma: no cover
        raise ValueError(f"log_epochs must be None, an int or a list of epochs, got {log_epochs!r}") from None
    if e.ndim != 1 or e.size == 0 or e.dtype.kind not in "iu":
        raise ValueError(f"log_epochs must be a non-empty list of integer epochs, got {log_epochs!r}")
    if e.min() < 0 or e.max() > epochs:
        raise ValueError(f"log_epochs must lie in [0, epochs={epochs}]")
    return np.unique(e.astype(np.int64))


def _dataset(data, net: MLP, loss: str):
    """Validated numpy arrays from a Dataset-like object (x_train, y_train, x_test, y_test[, x_analysis, ...])."""
    out = {}
    k = net.widths[-1]
    for split in ("train", "test", "analysis"):
        x = getattr(data, f"x_{split}", None)
        y = getattr(data, f"y_{split}", None)
        if split == "analysis" and x is None:
            x = np.concatenate([out["x_train"], out["x_test"]])
            y = np.concatenate([out["y_train"], out["y_test"]])
        if x is None or y is None:
            raise ValueError(f"data must have x_{split} and y_{split}")
        x = finite_array(x, f"data.x_{split}", ndim=2)
        if x.shape[1] != net.widths[0]:
            raise ValueError(f"data.x_{split} has {x.shape[1]} features but the network's input width is {net.widths[0]}")
        y = np.asarray(y)
        if y.ndim == 1:
            y = labels_for(y, x.shape[0], f"data.y_{split}")
        elif y.ndim != 2 or y.shape[0] != x.shape[0]:
            raise ValueError(f"data.y_{split} must have shape ({x.shape[0]},) or ({x.shape[0]}, k) to match the "
                             f"samples, got {y.shape}")
        t = targets_from_labels(y, k, f"data.y_{split}")
        if loss == "cross_entropy":
            if np.any((t < 0) | (t > 1)):
                raise ValueError(f"data.y_{split}: cross-entropy targets must lie in [0, 1]")
            if net.output == "softmax" and not np.allclose(t.sum(1), 1.0):
                raise ValueError(f"data.y_{split}: softmax cross-entropy targets must sum to 1 per sample")
        out[f"x_{split}"], out[f"y_{split}"], out[f"t_{split}"] = x, y, t
    if out["x_train"].shape[0] == 0:
        raise ValueError("data.x_train is empty")
    out["classification"] = out["y_train"].ndim == 1
    return out


def _accuracy(a_out: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fraction correct per member (E,): argmax for k > 1 outputs, threshold 0.5 for one output; NaN for
    regression targets or an empty split."""
    if y.ndim != 1 or y.shape[0] == 0:
        return np.full(a_out.shape[0], np.nan)
    pred = a_out.argmax(1) if a_out.shape[1] > 1 else (a_out[:, 0] > 0.5).astype(np.int64)
    return (pred == y[None, :]).mean(-1)


def _rows_in(x: np.ndarray, pool: np.ndarray):
    """Indices i with pool[i] == x[j] row by row, or None when some row of ``x`` is not in ``pool``."""
    if x.shape[0] == 0:
        return None
    lookup = {}
    for i, row in enumerate(np.ascontiguousarray(pool)):
        lookup.setdefault(row.tobytes(), i)
    idx = [lookup.get(row.tobytes()) for row in np.ascontiguousarray(x)]
    return None if any(i is None for i in idx) else np.asarray(idx, dtype=np.int64)


class _MemberGroup:
    """Ensemble members ``[m0, m1)``: views of the run's parameter, gradient and optimizer arrays (rows of the
    flat (E, P) arrays), so that one thread can train these members while other threads train the rest."""

    def __init__(self, net, m0, m1, theta, grad, opt_state, mask):
        rows = slice(m0, m1)
        self.m0, self.m1 = m0, m1
        self.theta, self.grad = theta[rows], grad[rows]
        self.Ws, self.bs = zip(*net.views(self.theta))
        self.gWs, self.gbs = zip(*net.views(self.grad))
        # the step counter "t" is a per-group copy, advanced identically in every group
        self.opt_state = {k: (v if k == "t" else v[rows]) for k, v in opt_state.items()}
        self.mask = None if mask is None else mask[rows]


def member_groups(ensemble: int, threads: int) -> list[tuple[int, int]]:
    """Split members 0..E-1 into min(threads, E) contiguous groups of (nearly) equal size, as (m0, m1) pairs."""
    bounds = np.linspace(0, ensemble, min(threads, ensemble) + 1).round().astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def resolve_seed(seed) -> int:
    """The int seed a run uses: ``seed`` itself (int >= 0), one drawn from fresh OS entropy (None) or from a
    numpy Generator; validated by :func:`analytic.checks.rng` (TypeError / ValueError naming ``seed``)."""
    gen = check_rng(seed, "seed")
    if seed is None or isinstance(seed, np.random.Generator):
        return int(gen.integers(0, 2**63 - 1))
    return int(seed)


def _fingerprint(d) -> str:
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()


def _array_hash(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def train(net: MLP, data, ensemble=1, epochs=1000, batch_size=256, optimizer="adam", lr=4e-4, seed=0,
          backend="numpy", device=None, dtype="float64", loss="cross_entropy", shuffle=True,
          log_epochs=None, record_activity=False, record_params=False, consumers=None, noise_std=0.0,
          analysis_noise_std=0.0, orthonormality=0.0, mask=None, lr_schedule=None, params=None,
          checkpoint=None, checkpoint_every=60.0, progress=True, threads=1) -> Run:
    """Train ``ensemble`` copies of ``net`` on ``data`` and return a :class:`~sims.run.Run`.

    Parameters (see the module docstring for the randomness and what is logged)
    ----------
    net : MLP.  data : Dataset-like with x_train, y_train, x_test, y_test and optionally x_analysis, y_analysis
        (default: train + test). Integer labels (n,) for classification or float targets (n, k).
    ensemble : E >= 1 networks trained at once.  epochs : number of passes over the training set.
    batch_size : int >= 1 (1 = per-sample SGD) or None / "full" for full-batch gradient descent.
    optimizer : "adam" (Keras/TF defaults, see :mod:`sims.optim`), "sgd", or an ``Adam(...)`` / ``SGD()``.
    lr : base learning rate > 0, scalar or (E,) (one per member).  lr_schedule : see :mod:`sims.optim`.
    seed : int >= 0 seeding the numpy Generator behind all randomness; None draws an int seed from fresh OS
        entropy, a numpy Generator draws one from that generator; the seed used is ``run.config["seed"]``, so
        every run can be repeated.
    backend, device, dtype : "numpy" or "torch"; torch device (None = CPU, "cuda"); "float64" or "float32".
    loss : "cross_entropy" or "mse" (L = (1/B) sum_n 0.5 ||yhat_n - y_n||^2).
    shuffle : True = reshuffle every epoch, independently per member (Keras ``shuffle=True``);
        False = the data order as given, every epoch, same for all members.
    log_epochs : None (~200 log-spaced), int, or list; see :func:`log_schedule`.
    record_activity : False, True (in memory: E*L*S*sum(widths) floats) or a folder path (chunked .npz).
    record_params : keep the (E, P) parameters at every logged epoch (``run.params_at(i)``).
    consumers : {name: fn(epoch, activities) -> array}; results in ``run.consumer_results[name]`` (L, ...).
    noise_std : std of Gaussian noise added after every hidden activation during training (Goldfeld).
    analysis_noise_std : the same for the recorded analysis-set activity (default 0: noiseless means).
    orthonormality : alpha of Goldfeld's step W <- W - alpha (W W^T W - W) on every hidden layer's W after
        each update (0 = off).
    mask : list over weight layers of None or 0/1 arrays (fan_in, fan_out) or (E, fan_in, fan_out);
        weights at 0 start at zero and stay zero (their gradient is zeroed).
    params : initial ``[(W, b), ...]`` instead of ``net.init``'s (2-D W / 1-D b are broadcast over E).
    checkpoint : path of a checkpoint file; if it exists, training resumes from it (same settings required),
        and it is rewritten atomically at the end of an epoch at most every ``checkpoint_every`` seconds
        (0 = every epoch) and at the end.
    progress : show a tqdm progress bar when tqdm is installed.
    threads : number of CPU threads that train disjoint groups of members concurrently (NumPy and torch release
        the GIL inside their array operations). The randomness is drawn as for ``threads=1`` and every member's
        arithmetic is the same, so results do not depend on ``threads`` (tested to 1e-12). Useful up to the
        number of cores; keep BLAS/torch intra-op threads at 1 beside it. CPU backends only.

    Raises ValueError (naming the argument) for bad input and :class:`TrainingDiverged` when a member's
    parameters or loss become NaN/inf, naming the epoch.
    """
    if not isinstance(net, MLP):
        raise ValueError(f"net must be an MLP, got {type(net).__name__}")
    net._check_loss(loss)
    E = positive_int(ensemble, "ensemble")
    epochs = positive_int(epochs, "epochs", minimum=0)
    D = _dataset(data, net, loss)
    n_train = D["x_train"].shape[0]
    if batch_size is None or batch_size == "full":
        B = n_train
    else:
        B = min(positive_int(batch_size, "batch_size"), n_train)
    opt = get_optimizer(optimizer)
    lr_arr = np.asarray(positive(lr, "lr"), dtype=float)
    if lr_arr.ndim > 1 or (lr_arr.ndim == 1 and lr_arr.shape[0] != E):
        raise ValueError(f"lr must be a scalar or have shape (ensemble,) = ({E},), got shape {lr_arr.shape}")
    lr_arr = np.broadcast_to(lr_arr, (E,)).copy()
    schedule = get_schedule(lr_schedule)
    schedule.reset(E)
    noise_std = nonnegative(noise_std, "noise_std")
    analysis_noise_std = nonnegative(analysis_noise_std, "analysis_noise_std")
    ortho = nonnegative(orthonormality, "orthonormality")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise ValueError(f"shuffle must be True or False, got {shuffle!r}")
    consumers = dict(consumers or {})
    for name, fn in consumers.items():
        if not callable(fn):
            raise ValueError(f"consumers[{name!r}] must be callable")
    logged = log_schedule(log_epochs, epochs)
    checkpoint_every = nonnegative(checkpoint_every, "checkpoint_every")
    be = get_backend(backend, dtype, device)
    threads = positive_int(threads, "threads")
    if threads > 1 and str(be.device) != "cpu":
        raise ValueError(f"threads: member-parallel threads are for CPU backends; device={device!r} takes "
                         "threads=1 (one GPU stream already runs the whole ensemble)")
    mask_flat = net.flat_mask(mask, E)

    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    theta0 = net.init_flat(E, rng=rng) if params is None else net.flatten(params, E)
    if theta0.shape[0] != E:
        raise ValueError(f"params: ensemble axis has {theta0.shape[0]} members, expected {E}")
    if mask_flat is not None:
        theta0 = theta0 * mask_flat
    analysis_rng = np.random.default_rng([seed, 1])

    config = {"ensemble": E, "epochs": epochs, "batch_size": B, "optimizer": opt.spec(), "lr": lr_arr.tolist(),
              "seed": seed, "dtype": be.dtype_name, "loss": loss, "shuffle": bool(shuffle),
              "log_epochs": logged.tolist(), "noise_std": noise_std, "analysis_noise_std": analysis_noise_std,
              "orthonormality": ortho, "lr_schedule": schedule.spec(), "record_params": bool(record_params),
              "record_activity": ("folder" if isinstance(record_activity, (str, Path)) else bool(record_activity)),
              "mask": None if mask_flat is None else _array_hash(mask_flat),
              "init_params": None if params is None else _array_hash(theta0),
              "data": _array_hash(D["x_train"], D["y_train"], D["x_test"], D["y_test"], D["x_analysis"]),
              "net": net.spec()}
    fingerprint = _fingerprint(config)

    # ---------------------------------------------------------------- state
    L = len(logged)
    S = D["x_analysis"].shape[0]
    widths = net.layer_widths
    n_lay = net.n_layers
    logs = {k: np.full((E, L), np.nan) for k in ("loss_train", "loss_test", "acc_train", "acc_test", "lr")}
    grads = {k: np.full((E, L, n_lay), np.nan) for k in ("mean_norm", "std_norm", "snr", "weight_norm")}
    results = {name: [] for name in consumers}
    act_dtype = np.float32 if be.dtype_name == "float32" else np.float64
    if record_activity is True:
        store = MemoryActivity.allocate(E, L, S, widths, act_dtype)
    elif isinstance(record_activity, (str, Path)):
        store = DiskActivity(record_activity, widths, E, S, act_dtype)
    elif record_activity is False or record_activity is None:
        store = None
    else:
        raise ValueError(f"record_activity must be True, False or a folder path, got {record_activity!r}")
    params_hist = np.full((L, E, net.n_params), np.nan) if record_params else None

    theta = be.asarray(theta0)
    opt_state = opt.init_state(be, theta)
    start, n_logged = 0, 0

    if checkpoint is not None and Path(checkpoint).is_file():
        with np.load(checkpoint, allow_pickle=False) as ck:
            if str(ck["fingerprint"]) != fingerprint:
                raise ValueError(f"checkpoint: {checkpoint} was written by a run with different settings "
                                 "(network, data, or training arguments); use another path")
            start, n_logged = int(ck["epoch"]), int(ck["n_logged"])
            theta = be.asarray(ck["theta"])
            opt_state = opt.init_state(be, theta)
            opt_state["t"] = int(ck["opt_t"])
            if isinstance(opt, Adam):
                be.assign(opt_state["m"], be.asarray(ck["opt_m"]))
                be.assign(opt_state["v"], be.asarray(ck["opt_v"]))
            rng.bit_generator.state = json.loads(str(ck["rng"]))
            analysis_rng.bit_generator.state = json.loads(str(ck["analysis_rng"]))
            schedule.load_state({k[6:]: ck[k] for k in ck.files if k.startswith("sched_")})
            for k in logs:
                logs[k][:, :n_logged] = ck[f"log_{k}"]
            for k in grads:
                grads[k][:, :n_logged] = ck[f"grad_{k}"]
            for name in consumers:
                if n_logged:
                    if f"consumer__{name}" not in ck.files:
                        raise ValueError(f"checkpoint: {checkpoint} has no results for consumer {name!r}; resume "
                                         "with the consumers of the interrupted run")
                    results[name] = list(ck[f"consumer__{name}"])
            if record_params:
                params_hist[:n_logged] = ck["params_hist"]
            if isinstance(store, MemoryActivity):
                for l in range(n_lay):
                    store.arrays[l][:, :n_logged] = ck[f"activity_{l}"]
            elif isinstance(store, DiskActivity):
                store.chunks = [tuple(c) for c in json.loads(str(ck["activity_chunks"]))]

    def save_checkpoint(epoch):
        if store is not None:
            store.flush()
        arrays = {"fingerprint": np.array(fingerprint), "epoch": np.array(epoch), "n_logged": np.array(n_logged),
                  "theta": be.to_numpy(theta), "opt_t": np.array(opt_state["t"]),
                  "rng": np.array(json.dumps(rng.bit_generator.state)),
                  "analysis_rng": np.array(json.dumps(analysis_rng.bit_generator.state))}
        if isinstance(opt, Adam):
            arrays["opt_m"], arrays["opt_v"] = be.to_numpy(opt_state["m"]), be.to_numpy(opt_state["v"])
        arrays.update({f"sched_{k}": v for k, v in schedule.state().items()})
        arrays.update({f"log_{k}": v[:, :n_logged] for k, v in logs.items()})
        arrays.update({f"grad_{k}": v[:, :n_logged] for k, v in grads.items()})
        for name in consumers:
            if n_logged:
                arrays[f"consumer__{name}"] = np.stack(results[name])
        if record_params:
            arrays["params_hist"] = params_hist[:n_logged]
        if isinstance(store, MemoryActivity):
            arrays.update(store.state(n_logged))
        elif isinstance(store, DiskActivity):
            arrays["activity_chunks"] = np.array(json.dumps([list(c) for c in store.chunks]))
        atomic_savez(checkpoint, **arrays)

    # ---------------------------------------------------------------- arrays on the backend
    # samples along the last axis inside the simulator (see sims.mlp): inputs (d, n), targets (k, n)
    x_tr, t_tr = be.asarray(D["x_train"].T), be.asarray(D["t_train"].T)
    x_te, t_te = be.asarray(D["x_test"].T), be.asarray(D["t_test"].T)
    x_an = be.asarray(D["x_analysis"].T)
    mask_be = None if mask_flat is None else be.asarray(mask_flat)
    grad = be.zeros(tuple(theta.shape))
    hidden = widths[:-1]
    weight_slices = [(w0, w1) for (w0, w1, _, _, _) in net.layout]
    starts = list(range(0, n_train, B))

    # rows of train/test found in the analysis set (12-bit task: all 4096 patterns) are evaluated from ONE
    # forward pass over the analysis set; splits not contained in it get their own pass
    where = {split: _rows_in(D[f"x_{split}"], D["x_analysis"]) for split in ("train", "test")}
    index_be = {split: (None if w is None else be.asindex(w)) for split, w in where.items()}
    split_arrays = {"train": (x_tr, t_tr, D["y_train"]), "test": (x_te, t_te, D["y_test"])}

    # ---------------------------------------------------------------- member groups, one thread each
    groups = [_MemberGroup(net, m0, m1, theta, grad, opt_state, mask_be) for m0, m1 in member_groups(E, threads)]
    pool = ThreadPoolExecutor(len(groups) - 1, thread_name_prefix="ibt-train") if len(groups) > 1 else None

    def for_groups(fn, *args):
        """``fn(g, *args)`` for every member group: groups 1.. on the pool, group 0 in this thread."""
        futures = [pool.submit(fn, g, *args) for g in groups[1:]] if pool is not None else []
        try:
            fn(groups[0], *args)
        finally:
            for f in futures:
                f.result()

    def evaluate(g, split, analysis_out=None):
        """(loss, accuracy) of the members of group ``g`` on ``split``, each (members,), noiseless; from the
        analysis-set output ``analysis_out`` = (z, a) when the split lies in the analysis set."""
        x, t, y = split_arrays[split]
        if y.shape[0] == 0:
            return np.nan, np.nan
        if analysis_out is not None and index_be[split] is not None:
            idx = index_be[split]
            z_out, a_out = (a[:, :, idx] for a in analysis_out)
        else:
            zs, _, acts = net._forward(be, g.Ws, g.bs, x)
            z_out, a_out = zs[-1], acts[-1]
        loss_v = be.to_numpy(net._loss_per_member(be, z_out, a_out, t, loss)).astype(float)
        return loss_v, _accuracy(be.to_numpy(a_out), y)

    def schedule_accuracy(g, out):
        with np.errstate(all="ignore"):
            out[g.m0:g.m1] = evaluate(g, schedule.split)[1]

    def analyse(g, i, noises, acts_np):
        """At logged epoch ``i``: loss and accuracy of group ``g``'s members into ``logs``, and (if ``acts_np``
        is a list) the analysis-set activity of every layer into their rows of ``acts_np`` as (E, S, units)."""
        rows = slice(g.m0, g.m1)
        with np.errstate(all="ignore"):
            out = None
            if acts_np is not None or any(w is not None for w in where.values()):
                zs, _, acts = net._forward(be, g.Ws, g.bs, x_an,
                                           None if noises is None else [n[rows] for n in noises])
                out = (zs[-1], acts[-1]) if noises is None else None  # loss/accuracy are always noiseless
                if acts_np is not None:
                    for a_np, a in zip(acts_np, acts):
                        a_np[rows] = be.to_numpy(a).swapaxes(1, 2)
            for split in ("train", "test"):
                logs[f"loss_{split}"][rows, i], logs[f"acc_{split}"][rows, i] = evaluate(g, split, out)

    def log_epoch(epoch, gsum):
        nonlocal n_logged
        i = n_logged
        acts_np = None
        noises = None
        if consumers or store is not None:
            acts_np = [np.empty((E, S, w)) for w in widths]
            if analysis_noise_std:
                noises = [be.mT(be.asarray(analysis_noise_std * analysis_rng.standard_normal((E, S, w))))
                          for w in hidden]
        for_groups(analyse, i, noises, acts_np)
        bad = ~np.isfinite(logs["loss_train"][:, i])
        if bad.any():
            raise TrainingDiverged(f"training diverged at epoch {epoch}: NaN/inf training loss in ensemble "
                                   f"member(s) {np.flatnonzero(bad).tolist()}; lower the learning rate")
        logs["lr"][:, i] = lr_arr * schedule.multiplier(max(epoch, 1))
        th = be.to_numpy(theta)
        for l, (w0, w1) in enumerate(weight_slices):
            grads["weight_norm"][:, i, l] = np.sqrt((th[:, w0:w1] ** 2).sum(1))
        if gsum is not None:
            k0, s1, s2, n = (be.to_numpy(a) if not isinstance(a, int) else a for a in gsum)
            mean_shift = s1 / n
            mean = k0 + mean_shift
            var = np.maximum(s2 / n - mean_shift ** 2, 0.0)
            for l, (w0, w1) in enumerate(weight_slices):
                mn = np.sqrt((mean[:, w0:w1] ** 2).sum(1))
                sd = np.sqrt(var[:, w0:w1].sum(1))
                grads["mean_norm"][:, i, l], grads["std_norm"][:, i, l] = mn, sd
                with np.errstate(divide="ignore", invalid="ignore"):
                    grads["snr"][:, i, l] = mn / sd
        if acts_np is not None:
            for name, fn in consumers.items():
                results[name].append(np.asarray(fn(int(epoch), acts_np)))
            if store is not None:
                store.write(i, acts_np)
        if record_params:
            params_hist[i] = th
        n_logged += 1

    # ---------------------------------------------------------------- the training step, by member group
    gstats = []   # at logged epochs: the first minibatch's gradient (a shift), sums of (g - shift) and its square

    def train_step(g, s, alpha, order, noises, log_grads, first):
        """One minibatch update of the members of group ``g``: forward, backprop, gradient statistics (at
        logged epochs, into rows of ``gstats``), optimizer, orthonormality step. ``s``: the minibatch's first
        position in the epoch's order."""
        rows = slice(g.m0, g.m1)
        with np.errstate(all="ignore"):   # (thread-local: worker threads need their own)
            if order is not None:
                idx = order[rows, s:s + B]
                xb, tb = be.take_columns(x_tr, idx), be.take_columns(t_tr, idx)
            else:
                xb, tb = x_tr[:, s:s + B], t_tr[:, s:s + B]
            zs, fs, acts = net._forward(be, g.Ws, g.bs, xb, None if noises is None else [n[rows] for n in noises])
            net._backward_into(be, g.Ws, zs, fs, acts, xb, tb, loss, g.gWs, g.gbs)
            if g.mask is not None:
                g.grad *= g.mask
            if log_grads:
                shift, sum1, sum2 = (a[rows] for a in gstats)
                if first:
                    be.assign(shift, g.grad)
                    be.assign(sum1, 0.0)
                    be.assign(sum2, 0.0)
                d = g.grad - shift
                sum1 += d
                d *= d
                sum2 += d
            opt.step(be, g.theta, g.grad, g.opt_state, alpha[rows])
            if ortho:
                for l in range(n_lay - 1):
                    W = g.Ws[l]
                    W -= ortho * (be.matmul(be.matmul(W, be.mT(W)), W) - W)
                if g.mask is not None:
                    g.theta *= g.mask

    def train_steps(g, steps, alpha, order, noises, log_grads):
        """:func:`train_step` for consecutive minibatches ``steps`` (pairs: index in the epoch, position);
        ``noises``: None or, per step, the list of hidden-layer noise arrays of the whole ensemble."""
        for j, (i, s) in enumerate(steps):
            train_step(g, s, alpha, order, None if noises is None else noises[j], log_grads, i == 0)

    # training noise is drawn in the main thread, for the whole ensemble and in step order (so the random stream
    # does not depend on ``threads``), a block of steps at a time (64 MB of float64 noise per block at most)
    block = max(1, _NOISE_BLOCK_FLOATS // (E * B * sum(hidden))) if noise_std else len(starts)
    steps_all = list(enumerate(starts))
    step_blocks = [steps_all[k:k + block] for k in range(0, len(starts), block)]

    try:
        log_set = set(logged.tolist())
        if start == 0 and n_logged == 0 and 0 in log_set:
            log_epoch(0, None)
        last_save = time.monotonic()
        epoch_bar = progress_bar(range(start + 1, epochs + 1), total=epochs - start, desc="train", enable=progress)
        for epoch in epoch_bar:
            alpha = be.asarray((lr_arr * schedule.multiplier(epoch))[:, None])
            order = (be.asindex(rng.permuted(np.broadcast_to(np.arange(n_train), (E, n_train)), axis=1))
                     if shuffle else None)
            is_logged = epoch in log_set
            if is_logged and not gstats:
                gstats.extend(be.empty(tuple(theta.shape)) for _ in range(3))
            for steps in step_blocks:
                noises = None
                if noise_std:
                    noises = [[be.mT(be.asarray(noise_std * rng.standard_normal((E, min(B, n_train - s), w))))
                               for w in hidden] for _, s in steps]
                for_groups(train_steps, steps, alpha, order, noises, is_logged)
            opt_state["t"] = groups[0].opt_state["t"]
            gsum = (gstats[0], gstats[1], gstats[2], len(starts)) if is_logged else None
            if not be.all_finite(theta):
                bad = np.flatnonzero(~np.isfinite(be.to_numpy(theta)).all(1)).tolist()
                raise TrainingDiverged(f"training diverged at epoch {epoch}: NaN/inf parameters in ensemble "
                                       f"member(s) {bad}; lower the learning rate")
            if schedule.split is not None:
                accuracy = np.empty(E)
                for_groups(schedule_accuracy, accuracy)
                schedule.update(epoch, accuracy)
            if is_logged:
                log_epoch(epoch, gsum)
            if checkpoint is not None and (epoch == epochs or time.monotonic() - last_save >= checkpoint_every):
                save_checkpoint(epoch)
                last_save = time.monotonic()
    finally:
        if pool is not None:
            pool.shutdown()
    if store is not None:
        store.flush()
    if checkpoint is not None and start == epochs == 0:
        save_checkpoint(0)

    return Run(net_spec=net.spec(), config=config, epochs=logged,
               loss={"train": logs["loss_train"], "test": logs["loss_test"]},
               accuracy={"train": logs["acc_train"], "test": logs["acc_test"]},
               grad_stats=grads, lr=logs["lr"], theta=be.to_numpy(theta).astype(np.float64),
               inputs_analysis=D["x_analysis"], labels_analysis=D["y_analysis"],
               consumer_results={k: np.stack(v) if v else np.empty((0,)) for k, v in results.items()},
               activity=store, params_history=params_hist,
               consumer_dims={k: getattr(fn, "dims", None) for k, fn in consumers.items()})
