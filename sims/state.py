"""The state of a training run between two epochs: everything a resumed run needs to continue bit for bit.

A :class:`TrainState` holds the flat parameters theta (E, P) on the backend, the optimizer's state (Adam's
moments) and its step count, the random generators (training randomness and analysis noise, see
:mod:`sims.train`: one pair for a scalar ``seed``, one pair per seed group for a sequence of seeds), the schedule's
per-run state, the number of completed epochs and of logged epochs, and the
divergence reference (each member's starting training loss and parameter bound, :mod:`sims.divergence`).
:meth:`TrainState.to_arrays` / :meth:`TrainState.from_arrays` turn it into NumPy arrays plus JSON-able metadata
and back; :mod:`sims.checkpoint` writes those with the partial run through :func:`sims.io.save_npz`.

>>> import numpy as np
>>> from types import SimpleNamespace
>>> from sims.mlp import MLP
>>> from sims.config import plan_training
>>> x = np.random.default_rng(0).normal(size=(8, 2))
>>> plan = plan_training(MLP([2, 3, 2]), SimpleNamespace(x_train=x, y_train=np.arange(8) % 2, x_test=x[:2],
...     y_test=np.array([0, 1])), ensemble=2, epochs=3)
>>> st = TrainState.initial(plan); arrays, meta = st.to_arrays(plan)
>>> back = TrainState.from_arrays(plan, arrays, meta)
>>> bool(np.array_equal(back.theta, st.theta)), back.rngs[0].bit_generator.state == st.rngs[0].bit_generator.state
(True, True)
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sims.divergence import parameter_bound

if TYPE_CHECKING:
    from sims.config import TrainPlan

__all__ = ["TrainState"]


@dataclass
class TrainState:
    """Parameters, optimizer state, random generators, schedule state and counters of a run (module docstring)."""

    theta: object               # (E, P) backend array
    opt_state: dict             # backend arrays (e.g. Adam's "m", "v")
    steps: int                  # optimizer steps taken (the next step is steps + 1)
    rngs: list                  # training randomness (initial weights, shuffles, training noise), one per seed group
    analysis_rngs: list         # analysis noise of the recorded activity, one per seed group
    schedule_state: dict
    epoch: int = 0              # completed epochs
    n_logged: int = 0           # logged epochs recorded
    loss0: np.ndarray | None = None     # (E,) starting training loss (divergence criterion 3)
    bound: np.ndarray | None = None     # (E,) parameter bound (divergence criterion 2)

    @classmethod
    def initial(cls, plan: TrainPlan) -> "TrainState":
        """The state before the first update: generators seeded from ``plan.config.seed`` (one per seed group,
        :attr:`sims.config.TrainPlan.seed_groups`), then the initial parameters drawn (unless given), each group's
        members from its own generator, and masked."""
        cfg, be, net = plan.config, plan.backend, plan.net
        seeds = plan.seeds
        rngs = [np.random.default_rng(s) for s in seeds]
        if plan.init_params is None:
            theta0 = np.concatenate([net.init_flat(m1 - m0, rng=r) for r, (m0, m1) in zip(rngs, plan.seed_groups)])
        else:
            theta0 = plan.init_params
        if plan.mask is not None:
            theta0 = theta0 * plan.mask
        theta = be.asarray(theta0)
        return cls(theta=theta, opt_state=plan.optimizer.init_state(be, theta), steps=0, rngs=rngs,
                   analysis_rngs=[np.random.default_rng([s, 1]) for s in seeds],
                   schedule_state=plan.schedule.init_state(cfg.ensemble),
                   bound=parameter_bound(theta0, cfg.ensemble))

    def to_arrays(self, plan: TrainPlan) -> tuple[dict, dict]:
        """(arrays, meta): NumPy arrays and JSON-able metadata holding the whole state."""
        be = plan.backend
        arrays = {"theta": be.to_numpy(self.theta).copy(), "bound": np.asarray(self.bound)}
        if self.loss0 is not None:
            arrays["loss0"] = np.asarray(self.loss0)
        arrays.update({f"opt__{k}": v for k, v in plan.optimizer.state_dict(be, self.opt_state).items()})
        arrays.update({f"sched__{k}": v for k, v in plan.schedule.state_arrays(self.schedule_state).items()})
        meta = {"steps": int(self.steps), "epoch": int(self.epoch), "n_logged": int(self.n_logged),
                "rngs": [r.bit_generator.state for r in self.rngs],
                "analysis_rngs": [r.bit_generator.state for r in self.analysis_rngs]}
        return arrays, meta

    @classmethod
    def from_arrays(cls, plan: TrainPlan, arrays: dict, meta: dict) -> "TrainState":
        """The state written by :meth:`to_arrays` (with ``plan``'s backend and optimizer)."""
        be, cfg = plan.backend, plan.config
        theta = be.asarray(arrays["theta"])
        if tuple(theta.shape) != (cfg.ensemble, plan.net.n_params):
            raise ValueError(f"state: theta has shape {tuple(theta.shape)}, expected ({cfg.ensemble}, "
                             f"{plan.net.n_params})")
        opt_state = plan.optimizer.init_state(be, theta)
        plan.optimizer.load_state_dict(be, opt_state, {k[5:]: v for k, v in arrays.items() if k.startswith("opt__")})
        sched = plan.schedule.init_state(cfg.ensemble)
        plan.schedule.load_state_arrays(sched, {k[7:]: v for k, v in arrays.items() if k.startswith("sched__")})
        rngs, arngs = [], []
        old = "rngs" not in meta           # written before seed groups: one generator of each kind
        for states, out in (([meta["rng"]] if old else meta["rngs"], rngs),
                            ([meta["analysis_rng"]] if old else meta["analysis_rngs"], arngs)):
            if len(states) != len(plan.seeds):
                raise ValueError(f"state: {len(states)} random generators, expected {len(plan.seeds)} (one per seed)")
            for st in states:
                out.append(np.random.default_rng())
                out[-1].bit_generator.state = copy.deepcopy(st)
        return cls(theta=theta, opt_state=opt_state, steps=int(meta["steps"]), rngs=rngs, analysis_rngs=arngs,
                   schedule_state=sched, epoch=int(meta["epoch"]), n_logged=int(meta["n_logged"]),
                   loss0=np.asarray(arrays["loss0"]) if "loss0" in arrays else None,
                   bound=np.asarray(arrays["bound"]))
