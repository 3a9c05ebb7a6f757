"""Train an ensemble of E networks at once, logging what the information plane needs.

All E members share a specification (:class:`sims.mlp.MLP`) and train simultaneously: every forward and
backward matrix product is one batched product such as ``(E, out, in) @ (E, in, B)`` (samples along the last
axis inside the simulator, see :mod:`sims.mlp`), every optimizer step a few operations on the flat (E, P)
parameter array. Members differ in their initial weights, their minibatch order (independent reshuffles) and,
optionally, their learning rate (``lr`` of shape (E,)), their seed (``seed`` a sequence), their training-noise
std (``noise_std`` of shape (E,)) and their data (``data`` a sequence of E datasets).

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
Per-member seeds: ``seed`` may be a sequence of G ints where G divides E (G = E: one per member). Seed g then owns
the *seed group* of members g E/G ... (g+1) E/G - 1 and draws everything for them (initial weights, their
permutations, their training noise, their analysis noise) in the order above from its own generators, so that
the group's members equal, to rounding (tested to 1e-12), the run ``seed=seed[g], ensemble=E/G`` alone. This is
how a sweep packs cells into one run (:func:`~sims.sweep.training.sweep_train`). The draws cost one call per seed group per
epoch (permutations) and per block of steps (noise), not per step.

Per-member data: ``data`` may be a sequence of E datasets of equal shapes (same n_train, n_test, features, kind
of labels) and ONE shared analysis set (every member's x_analysis / y_analysis equal; e.g. Shwartz-Ziv & Tishby's
(2017) protocol: each member its own random 80/20 split of the 12-bit task, information over all 4096 patterns).
Member m trains, is evaluated and logged on ``data[m]``; the members' training sets lie side by side in one
array, so a minibatch of every member is one batched gather (:class:`sims.step.Evaluator`). Memory: one copy of
each DISTINCT train/test set (members given the same object or equal arrays share it; a sweep that packs k members
per dataset keeps U = E/k copies, not E).

Epoch convention: logged epoch 0 is the network before any update; logged epoch e >= 1 is the network AFTER the
updates of e complete passes over the training set (loss, accuracy, activity and parameters all after the
update); the gradient statistics of epoch e summarize the minibatch gradients of that e-th pass. A code that
records at the top of its loop over passes j = 0, 1, ... (before pass j's updates) records our epoch j; a
callback at the end of 0-based pass i records our epoch i + 1.

Structure: :func:`sims.config.plan_training` validates the arguments into a :class:`~sims.config.TrainPlan` whose
frozen :class:`~sims.config.TrainConfig` fingerprints the run; a :class:`~sims.state.TrainState` holds what
changes (parameters, optimizer state, generators, counters); :func:`sims.step.train_epoch` / :func:`sims.step.step`
do the arithmetic; a :class:`~sims.recorder.Recorder` owns everything logged; :mod:`sims.checkpoint` writes the
partial run plus the state in one file. :func:`train` is the orchestration of those pieces.

Divergence: after every epoch the parameters, and at every logged epoch the training loss, are checked with the
criterion of :mod:`sims.divergence` (non-finite values; a parameter beyond 1e6 times its initial scale; a
training loss above 100 times its starting value + 10), raising :class:`TrainingDiverged` naming the epoch and
the member.

At every logged epoch (epoch 0 = before any update) the run records, noiselessly, the train/test loss
and accuracy of every member; hands the analysis-set activity of every layer to the ``consumers``
(``fn(epoch, [array (E, S, units) per layer]) -> array``) and, on request, stores it; and summarizes the
weight gradients over the minibatches of that epoch (Shwartz-Ziv & Tishby 2017, Sec. 3.4):
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

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from sims.checkpoint import load_checkpoint, save_checkpoint
from sims.config import log_schedule, plan_training, resolve_seed
from sims.divergence import TrainingDiverged, check_divergence
from sims.mlp import MLP
from sims.progress import progress as progress_bar
from sims.recorder import Recorder
from sims.run import Run
from sims.state import TrainState
from sims.step import Evaluator, GroupRunner, MemberGroup, member_groups, train_epoch

if TYPE_CHECKING:
    from sims.backend import Backend
    from sims.optim import SGD, Adadelta, Adam, Schedule

__all__ = ["train", "log_schedule", "member_groups", "resolve_seed", "TrainingDiverged"]


def train(net: MLP, data: Any | Sequence[Any], ensemble: int = 1, epochs: int = 1000,
          batch_size: int | Literal["full"] | None = 256, optimizer: str | SGD | Adam | Adadelta = "adam",
          lr: ArrayLike = 4e-4, seed: np.random.Generator | int | Sequence[int] | None = 0,
          backend: str | Backend = "numpy", device: str | None = None,
          dtype: Literal["float64", "float32"] = "float64", loss: Literal["cross_entropy", "mse"] = "cross_entropy",
          shuffle: bool = True, log_epochs: int | Sequence[int] | None = None,
          record_activity: bool | str | os.PathLike = False, record_params: bool = False,
          consumers: Mapping[str, Callable] | None = None, noise_std: ArrayLike = 0.0, analysis_noise_std: float = 0.0,
          orthonormality: float = 0.0, mask: Sequence[ArrayLike | None] | None = None,
          lr_schedule: Schedule | Callable | None = None, params: Sequence[tuple[ArrayLike, ArrayLike]] | None = None,
          checkpoint: str | os.PathLike | None = None, checkpoint_every: float = 60.0, progress: bool = True,
          threads: int = 1) -> Run:
    """Train ``ensemble`` copies of ``net`` on ``data`` and return a :class:`~sims.run.Run`.

    See the module docstring for the randomness and what is logged.

    Parameters
    ----------
    net : MLP
        The specification every member shares.
    data : Dataset-like or sequence of E Dataset-likes
        With x_train, y_train, x_test, y_test and optionally x_analysis, y_analysis (default: train + test).
        Integer labels (n,) for classification or float targets (n, k). A list/tuple of ``ensemble`` datasets
        gives every member its own data (equal shapes, one shared analysis set; module docstring).
    ensemble : int
        E >= 1 networks trained at once.
    epochs : int
        Number of passes over the training set.
    batch_size : int or None
        int >= 1 (1 = per-sample SGD) or None / "full" for full-batch gradient descent.
    optimizer : str or optimizer
        "adam" (Keras/TF defaults, see :mod:`sims.optim`), "sgd", "adadelta", a named Adam preset ("adam_tf1":
        TensorFlow 1, epsilon 1e-8, as Shwartz-Ziv & Tishby's code; "adam_keras": epsilon 1e-7; "adam_torch":
        PyTorch's form, epsilon 1e-8; :data:`sims.optim.ADAM_PRESETS`), or an ``Adam(...)`` / ``SGD()``.
    lr : float or array
        Base learning rate > 0, scalar or (E,) (one per member).
    seed : int, None, numpy.random.Generator or sequence of ints
        int >= 0 seeding the numpy Generator behind all randomness; None draws an int seed from fresh OS
        entropy, a numpy Generator draws one from that generator; the seed used is ``run.config["seed"]``, so
        every run can be repeated. A sequence of G ints >= 0 (G dividing E; G = E: per member) gives every seed
        group its own generators (module docstring): member m of ``seed=[s_0, ..., s_{E-1}]`` equals the
        single-member run ``seed=s_m``.
    backend, device, dtype
        "numpy" or "torch" (or a :class:`sims.backend.Backend`, e.g. ``NumpyBackend(fast_tanh=False)``); torch
        device (None = CPU, "cuda"); "float64" or "float32".
    loss : str
        "cross_entropy" or "mse" (L = (1/B) sum_n 0.5 ||yhat_n - y_n||^2).
    shuffle : bool
        True = reshuffle every epoch, independently per member (Keras ``shuffle=True``); False = the data order
        as given, every epoch, same for all members.
    log_epochs : None, int or list
        None (~200 log-spaced), int, or list; see :func:`log_schedule`.
    record_activity : bool or path
        False, True (in memory: E*L*S*sum(widths) floats) or a folder path (chunked .npz).
    record_params : bool
        Keep the (E, P) parameters at every logged epoch (``run.params_at(i)``).
    consumers : dict
        {name: fn(epoch, activities) -> array}; results in ``run.consumer_results[name]`` (L, ...).
    noise_std : float or array (E,)
        Std of Gaussian noise added after every hidden activation during training (Goldfeld), shared or one
        per member.
    analysis_noise_std : float
        The same for the recorded analysis-set activity (default 0: noiseless means).
    orthonormality : float
        Alpha of Goldfeld's step W <- W - alpha (W W^T W - W) on every hidden layer's W after each update
        (0 = off).
    mask : list or None
        List over weight layers of None or 0/1 arrays (fan_in, fan_out) or (E, fan_in, fan_out); weights at 0
        start at zero and stay zero (their gradient is zeroed).
    lr_schedule : schedule or callable, optional
        See :mod:`sims.optim`.
    params : list, optional
        Initial ``[(W, b), ...]`` instead of ``net.init``'s (2-D W / 1-D b are broadcast over E).
    checkpoint : path, optional
        Path of a checkpoint file; if it exists, training resumes from it (same settings required), and it is
        rewritten atomically at the end of an epoch at most every ``checkpoint_every`` seconds (0 = every
        epoch) and at the end. The path is checked before training starts (not a directory, its folder
        writable).
    checkpoint_every : float
        Seconds between checkpoint writes (see ``checkpoint``).
    progress : bool
        Show a tqdm progress bar when tqdm is installed.
    threads : int
        Number of CPU threads that train disjoint groups of members concurrently (NumPy and torch release the
        GIL inside their array operations). The randomness is drawn as for ``threads=1`` and every member's
        arithmetic is the same, so results do not depend on ``threads`` (tested to 1e-12). Useful up to the
        number of cores; keep BLAS/torch intra-op threads at 1 beside it. CPU backends only. Consumers whose
        ``dims`` start with "member" (the information-plane consumers) run in the member threads on their groups'
        members (:mod:`sims.recorder`).

    Returns
    -------
    Run

    Raises
    ------
    ValueError, TypeError
        Naming the argument, for bad input.
    TrainingDiverged
        Naming the epoch and the member, when a member meets the divergence criterion of
        :mod:`sims.divergence`.
    """
    plan = plan_training(net, data, ensemble=ensemble, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
                         lr=lr, seed=seed, backend=backend, device=device, dtype=dtype, loss=loss, shuffle=shuffle,
                         log_epochs=log_epochs, record_activity=record_activity, record_params=record_params,
                         consumers=consumers, noise_std=noise_std, analysis_noise_std=analysis_noise_std,
                         orthonormality=orthonormality, mask=mask, lr_schedule=lr_schedule, params=params,
                         checkpoint=checkpoint, checkpoint_every=checkpoint_every, progress=progress,
                         threads=threads)
    cfg, be = plan.config, plan.backend
    recorder = Recorder(plan)
    state = TrainState.initial(plan)
    if plan.checkpoint is not None and plan.checkpoint.is_file():
        state = load_checkpoint(plan.checkpoint, plan, recorder)
    ev = Evaluator(plan.net, be, plan.data, cfg.loss)
    grad = be.zeros(tuple(state.theta.shape))
    mask = None if plan.mask is None else be.asarray(plan.mask)
    runner = GroupRunner([MemberGroup(plan.net, m0, m1, state.theta, grad, state.opt_state, mask)
                          for m0, m1 in member_groups(cfg.ensemble, plan.threads)])
    logged = set(plan.logged.tolist())
    try:
        if state.epoch == 0:
            _check_schedule(plan, state, runner, ev, 0)
        if state.epoch == 0 and state.n_logged == 0 and 0 in logged:
            _log_epoch(plan, state, recorder, runner, ev, 0, None)
        if state.loss0 is None:
            state.loss0 = _training_loss(runner, ev, cfg.ensemble)
        last_save = time.monotonic()
        for epoch in progress_bar(range(state.epoch + 1, cfg.epochs + 1), total=cfg.epochs - state.epoch,
                                  desc="train", enable=plan.progress):
            alpha = be.asarray((plan.lr * plan.schedule.multiplier(epoch, state.schedule_state))[:, None])
            gstats = recorder.gradient_sums(be, state.theta.shape) if epoch in logged else None
            train_epoch(plan, state, runner, ev, alpha, gstats)
            state.epoch = epoch
            check_divergence(params=be.to_numpy(be.max_abs_rows(state.theta))[:, None], bound=state.bound,
                             epoch=epoch)
            _check_schedule(plan, state, runner, ev, epoch)
            if epoch in logged:
                _log_epoch(plan, state, recorder, runner, ev, epoch, gstats)
            if plan.checkpoint is not None and (epoch == cfg.epochs
                                                or time.monotonic() - last_save >= plan.checkpoint_every):
                save_checkpoint(plan.checkpoint, plan, state, recorder)
                last_save = time.monotonic()
    finally:
        runner.close()
    if plan.checkpoint is not None and cfg.epochs == 0 and not plan.checkpoint.is_file():
        save_checkpoint(plan.checkpoint, plan, state, recorder)
    return recorder.run(plan, be.to_numpy(state.theta))


def _check_schedule(plan, state, runner, ev, epoch):
    """An accuracy schedule's check (:class:`sims.optim.StepOnAccuracy`) after ``epoch`` passes, i.e. before the
    updates of epoch ``epoch + 1`` (the first check before any update, as :func:`sims.gd_loop.descend` does)."""
    if plan.schedule.split is not None:
        acc = np.empty(plan.config.ensemble)
        runner.map(_split_accuracy, ev, plan.schedule.split, acc)
        plan.schedule.update(epoch, acc, state.schedule_state)


def _split_accuracy(g, ev, split, out):
    """Noiseless accuracy of group ``g``'s members on ``split`` into their rows of ``out`` (E,)."""
    with np.errstate(all="ignore"):
        out[g.rows] = ev.split(g, split)[1]


def _train_loss_into(g, ev, out):
    with np.errstate(all="ignore"):
        out[g.rows] = ev.split(g, "train")[0]


def _training_loss(runner, ev, ensemble):
    """The members' noiseless training loss (E,) now (the divergence criterion's starting loss)."""
    out = np.empty(ensemble)
    runner.map(_train_loss_into, ev, out)
    return out


def _log_epoch(plan, state, recorder, runner, ev, epoch, gstats):
    """Evaluate and record logged epoch ``epoch`` (loss and accuracy, divergence check, gradient statistics,
    activity to the consumers and the store), as logged index ``state.n_logged``."""
    cfg, be = plan.config, plan.backend
    E = cfg.ensemble
    acts_np, noises = None, None
    if recorder.wants_activity:
        # one member group in float64: the forward pass's own arrays go to the consumers (no copies)
        direct = len(runner.groups) == 1 and cfg.dtype == "float64"
        acts_np = [None] * plan.net.n_layers if direct else recorder.activity_buffers()
        if cfg.analysis_noise_std:
            S = plan.data["x_analysis"].shape[0]
            noises = [be.asarray(cfg.analysis_noise_std
                                 * np.concatenate([r.standard_normal((m1 - m0, S, w)) for r, (m0, m1)
                                                   in zip(state.analysis_rngs, plan.seed_groups)]))
                      for w in plan.net.layer_widths[:-1]]
    loss = {s: np.empty(E) for s in ("train", "test")}
    acc = {s: np.empty(E) for s in ("train", "test")}
    runner.map(ev.logged, noises, acts_np, loss, acc)
    if epoch == 0 and state.loss0 is None:
        state.loss0 = loss["train"].copy()
    check_divergence(loss["train"], loss0=state.loss0, epoch=epoch)
    gsum = None
    if gstats is not None:
        gsum = (*(be.to_numpy(a) for a in gstats), -(-plan.n_train // cfg.batch_size))
    lr = plan.lr * plan.schedule.multiplier(max(epoch, 1), state.schedule_state)
    recorder.log(state.n_logged, epoch, be.to_numpy(state.theta), lr, loss, acc, gsum, acts_np, runner)
    state.n_logged += 1
