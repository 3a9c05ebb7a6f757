"""What a run records at its logged epochs, and the :class:`~sims.run.Run` it becomes.

A :class:`Recorder` owns the logs (train/test loss and accuracy, learning rate, each (E, L)), the gradient
statistics (per layer: ||mean_b g_b||, ||std_b g_b|| over the minibatches b of the logged epoch, elementwise,
population std, Frobenius norms; their ratio, the SNR; and ||W||; each (E, L, layers); Shwartz-Ziv & Tishby 2017,
Sec. 3.4), the consumers and their results, the activity store (memory or disk) and the parameter history.
:meth:`Recorder.log` records one logged epoch; :meth:`Recorder.to_arrays` / :meth:`Recorder.load_arrays` hold the
partial run of a checkpoint; :meth:`Recorder.run` builds the result.

Consumers ``fn(epoch, [array (E, S, units) per layer]) -> array`` run at every logged epoch on the analysis-set
activity (a consumer may declare the axes of its per-epoch result as ``fn.dims``, e.g. ("member", "layer"); the
run then stores it member first, :class:`~sims.run.Run`). With member threads (``threads > 1``) a consumer whose
``dims`` start with "member" runs in every member group's thread on that group's members (its rows of every
layer's activity), the parts joined along the member axis; such a consumer must compute each member's result from
that member's activity alone (as the information-plane consumers do). Other consumers run concurrently, one per
thread.

>>> import numpy as np
>>> from types import SimpleNamespace
>>> from sims.mlp import MLP
>>> from sims.config import plan_training
>>> x = np.random.default_rng(0).normal(size=(8, 2))
>>> plan = plan_training(MLP([2, 3, 2]), SimpleNamespace(x_train=x, y_train=np.arange(8) % 2, x_test=x[:2],
...     y_test=np.array([0, 1])), ensemble=2, epochs=3, log_epochs=[0, 3])
>>> rec = Recorder(plan); rec.logs["loss_train"].shape, rec.grads["snr"].shape
((2, 2), (2, 2, 2))
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sims.run import DiskActivity, MemoryActivity, Run

if TYPE_CHECKING:
    from sims.backend import Backend
    from sims.config import TrainPlan
    from sims.step import GroupRunner

__all__ = ["Recorder", "LOG_KEYS", "GRAD_KEYS"]

LOG_KEYS = ("loss_train", "loss_test", "acc_train", "acc_test", "lr")
GRAD_KEYS = ("mean_norm", "std_norm", "snr", "weight_norm")


class Recorder:
    """Logs, gradient statistics, consumers, activity store and parameter history of one run (module docstring)."""

    def __init__(self, plan: TrainPlan) -> None:
        cfg, net = plan.config, plan.net
        E, L, S = cfg.ensemble, len(plan.logged), plan.data["x_analysis"].shape[0]
        self.widths = net.layer_widths
        self.weight_slices = net.weight_slices
        self.logs = {k: np.full((E, L), np.nan) for k in LOG_KEYS}
        self.grads = {k: np.full((E, L, net.n_layers), np.nan) for k in GRAD_KEYS}
        self.consumers = plan.consumers
        self.results = {name: [] for name in self.consumers}
        act_dtype = np.float32 if cfg.dtype == "float32" else np.float64
        if plan.record_activity is True:
            self.store = MemoryActivity.allocate(E, L, S, self.widths, act_dtype)
        elif isinstance(plan.record_activity, (str, Path)):
            self.store = DiskActivity(plan.record_activity, self.widths, E, S, act_dtype)
        else:
            self.store = None
        self.params_history = np.full((L, E, net.n_params), np.nan) if cfg.record_params else None
        self.ensemble, self.n_analysis = E, S
        self._gstats = None

    @property
    def wants_activity(self) -> bool:
        return bool(self.consumers) or self.store is not None

    def activity_buffers(self) -> list[np.ndarray]:
        """Fresh (E, S, units) arrays per layer for the analysis-set activity of one logged epoch."""
        return [np.empty((self.ensemble, self.n_analysis, w)) for w in self.widths]

    def gradient_sums(self, be: Backend, shape: tuple[int, ...]) -> tuple:
        """The (shift, sum1, sum2) accumulators of the gradient statistics (allocated once, on the backend)."""
        if self._gstats is None:
            self._gstats = tuple(be.empty(tuple(shape)) for _ in range(3))
        return self._gstats

    def log(self, i: int, epoch: int, theta_np: np.ndarray, lr: np.ndarray, loss: dict[str, np.ndarray],
            acc: dict[str, np.ndarray], gsum: tuple | None = None, acts_np: list[np.ndarray] | None = None,
            runner: GroupRunner | None = None) -> None:
        """Record logged epoch number ``i`` (= ``epoch``): ``loss`` / ``acc`` dicts split -> (E,), ``lr`` (E,),
        the parameters ``theta_np`` (E, P), ``gsum`` = (shift, sum1, sum2, n_minibatches) NumPy arrays or None
        (epoch 0), ``acts_np`` the layers' activity (or None); consumers run (on ``runner``'s threads)."""
        for split in ("train", "test"):
            self.logs[f"loss_{split}"][:, i], self.logs[f"acc_{split}"][:, i] = loss[split], acc[split]
        self.logs["lr"][:, i] = lr
        for l, (w0, w1) in enumerate(self.weight_slices):
            self.grads["weight_norm"][:, i, l] = np.sqrt((theta_np[:, w0:w1] ** 2).sum(1))
        if gsum is not None:
            k0, s1, s2, n = gsum
            mean_shift = s1 / n
            mean = k0 + mean_shift
            var = np.maximum(s2 / n - mean_shift ** 2, 0.0)
            for l, (w0, w1) in enumerate(self.weight_slices):
                mn = np.sqrt((mean[:, w0:w1] ** 2).sum(1))
                sd = np.sqrt(var[:, w0:w1].sum(1))
                self.grads["mean_norm"][:, i, l], self.grads["std_norm"][:, i, l] = mn, sd
                with np.errstate(divide="ignore", invalid="ignore"):
                    self.grads["snr"][:, i, l] = mn / sd
        if acts_np is not None:
            for name, out in self._consume(int(epoch), acts_np, runner).items():
                self.results[name].append(out)
            if self.store is not None:
                self.store.write(i, acts_np)
        if self.params_history is not None:
            self.params_history[i] = theta_np

    def _consume(self, epoch, acts_np, runner):
        """Every consumer's result at ``epoch`` (see the module docstring for how threads share them)."""
        threaded = runner is not None and len(runner.groups) > 1
        member_wise = [n for n, fn in self.consumers.items()
                       if threaded and tuple(getattr(fn, "dims", None) or ())[:1] == ("member",)]
        out = {}
        if member_wise:
            parts = {n: [None] * len(runner.groups) for n in member_wise}

            def run_group(g, index):
                rows = [a[g.rows] for a in acts_np]
                for n in member_wise:
                    parts[n][index[g.m0]] = np.asarray(self.consumers[n](epoch, rows))

            runner.map(run_group, {g.m0: i for i, g in enumerate(runner.groups)})
            out = {n: np.concatenate(p, axis=0) for n, p in parts.items()}
        rest = [n for n in self.consumers if n not in out]
        calls = [(lambda fn=self.consumers[n]: np.asarray(fn(epoch, acts_np))) for n in rest]
        for n, r in zip(rest, runner.call_all(calls) if runner is not None else [c() for c in calls]):
            out[n] = r
        return {n: out[n] for n in self.consumers}

    # ------------------------------------------------------------------ the partial run of a checkpoint
    def to_arrays(self, n_logged: int) -> tuple[dict, dict]:
        """(arrays, meta) of everything recorded so far (the first ``n_logged`` logged epochs)."""
        if self.store is not None:
            self.store.flush()
        arrays = {f"log_{k}": v[:, :n_logged] for k, v in self.logs.items()}
        arrays.update({f"grad_{k}": v[:, :n_logged] for k, v in self.grads.items()})
        if n_logged:
            arrays.update({f"consumer__{name}": np.stack(r) for name, r in self.results.items()})
        if self.params_history is not None:
            arrays["params_history"] = self.params_history[:n_logged]
        meta = {"consumers": sorted(self.consumers)}
        if isinstance(self.store, MemoryActivity):
            arrays.update(self.store.state(n_logged))
        elif isinstance(self.store, DiskActivity):
            meta["activity_chunks"] = [list(c) for c in self.store.chunks]
        return arrays, meta

    def load_arrays(self, arrays: dict, meta: dict, n_logged: int, where: str) -> None:
        """Restore what :meth:`to_arrays` wrote (``where``: the file, for error messages)."""
        for k in self.logs:
            self.logs[k][:, :n_logged] = arrays[f"log_{k}"]
        for k in self.grads:
            self.grads[k][:, :n_logged] = arrays[f"grad_{k}"]
        for name in self.consumers:
            if n_logged:
                if f"consumer__{name}" not in arrays:
                    raise ValueError(f"checkpoint: {where} has no results for consumer {name!r}; resume "
                                     "with the consumers of the interrupted run")
                self.results[name] = list(arrays[f"consumer__{name}"])
        if self.params_history is not None:
            self.params_history[:n_logged] = arrays["params_history"]
        if isinstance(self.store, MemoryActivity):
            for l in range(len(self.widths)):
                self.store.arrays[l][:, :n_logged] = arrays[f"activity_{l}"]
        elif isinstance(self.store, DiskActivity):
            self.store.chunks = [tuple(c) for c in meta["activity_chunks"]]

    # ------------------------------------------------------------------ the result
    def run(self, plan: TrainPlan, theta_np: np.ndarray) -> Run:
        """The :class:`~sims.run.Run` of the finished training (``theta_np``: final (E, P) parameters)."""
        if self.store is not None:
            self.store.flush()
        d = plan.data
        return Run(net_spec=plan.net.spec(), config=plan.config.to_dict(), epochs=plan.logged,
                   loss={"train": self.logs["loss_train"], "test": self.logs["loss_test"]},
                   accuracy={"train": self.logs["acc_train"], "test": self.logs["acc_test"]},
                   grad_stats=self.grads, lr=self.logs["lr"], theta=np.asarray(theta_np, dtype=np.float64),
                   inputs_analysis=d["x_analysis"], labels_analysis=d["y_analysis"],
                   consumer_results={k: np.stack(v) if v else np.empty((0,)) for k, v in self.results.items()},
                   activity=self.store, params_history=self.params_history,
                   consumer_dims={k: getattr(fn, "dims", None) for k, fn in self.consumers.items()})
