"""Checkpoints of a training run: the partial run (:class:`~sims.recorder.Recorder`) plus the
:class:`~sims.state.TrainState`, in one file written by :func:`sims.io.save_npz` (atomic, checksummed, with
provenance) and read by :func:`sims.io.load_npz` (errors name the file and what is wrong with it).

Arrays are stored as ``state__<name>`` and ``run__<name>``; the metadata holds the run's fingerprint
(:attr:`sims.config.TrainConfig.fingerprint`) and settings, the state's counters and random-generator states.
A checkpoint is resumed only by a run with the same fingerprint.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sims.io import load_npz, save_npz

if TYPE_CHECKING:
    from sims.config import TrainPlan
    from sims.recorder import Recorder
    from sims.state import TrainState

__all__ = ["save_checkpoint", "load_checkpoint", "KIND", "VERSION"]

KIND = "ibtoolkit.train_checkpoint"
VERSION = 1


def save_checkpoint(path: str | os.PathLike, plan: TrainPlan, state: TrainState, recorder: Recorder) -> Path:
    """Write ``state`` and what ``recorder`` holds so far to ``path`` (atomically)."""
    s_arrays, s_meta = state.to_arrays(plan)
    r_arrays, r_meta = recorder.to_arrays(state.n_logged)
    arrays = {**{f"state__{k}": v for k, v in s_arrays.items()}, **{f"run__{k}": v for k, v in r_arrays.items()}}
    meta = {"fingerprint": plan.config.fingerprint, "config": plan.config.to_dict(), "state": s_meta,
            "run": r_meta}
    return save_npz(path, arrays, meta, kind=KIND, version=VERSION)


def load_checkpoint(path: str | os.PathLike, plan: TrainPlan, recorder: Recorder) -> TrainState:
    """The :class:`~sims.state.TrainState` stored at ``path``, with the partial run restored into ``recorder``.

    Raises ValueError naming the checkpoint when it was written by a run with other settings (or is damaged:
    :class:`sims.io.CorruptFileError`).
    """
    from sims.state import TrainState
    arrays, meta = load_npz(path, kind=KIND, version=VERSION)
    where = os.fspath(path)
    if meta.get("fingerprint") != plan.config.fingerprint:
        raise ValueError(f"checkpoint: {where} was written by a run with different settings "
                         "(network, data, or training arguments); use another path")
    state = TrainState.from_arrays(plan, {k[7:]: v for k, v in arrays.items() if k.startswith("state__")},
                                   meta["state"])
    recorder.load_arrays({k[5:]: v for k, v in arrays.items() if k.startswith("run__")}, meta["run"],
                         state.n_logged, where)
    return state
