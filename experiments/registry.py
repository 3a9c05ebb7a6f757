"""The experiment registry and the cached runner shared by every experiment.

An experiment is a function ``fn(scale="quick", **overrides) -> ExperimentResult`` registered with
:func:`experiment`. Its trainings go through :func:`cached`: a training is identified by its configuration
(``experiments.cache.config_key``), computed once, stored atomically, and read back on later calls; its claims
are recomputed from the stored data on every call (so they always follow the current claim code). While one process
computes a training, every other process asking for it waits on its lock (:func:`experiments.cache.key_lock`) and
then reads the stored result, so no training is ever computed twice at once.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from experiments.cache import checkpoint_path, key_busy, key_lock, result_path
from experiments.result import ExperimentResult, load_result

__all__ = ["experiment", "EXPERIMENTS", "ExperimentSpec", "cached", "cached_many", "SCALES", "check_scale",
           "TRAININGS"]

SCALES = ("quick", "full")

logger = logging.getLogger("experiments")

#: Counts trainings actually computed in this process (name -> count); the cache test reads it.
TRAININGS: dict = {}


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    description: str
    paper: str
    fn: Callable


EXPERIMENTS: dict[str, ExperimentSpec] = {}


def experiment(name: str, description: str, paper: str) -> Callable[[Callable], Callable]:
    """Decorator registering ``fn(scale="quick", **overrides) -> ExperimentResult`` under ``name``."""
    def register(fn):
        if name in EXPERIMENTS and EXPERIMENTS[name].fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"experiment name {name!r} registered twice")
        EXPERIMENTS[name] = ExperimentSpec(name, description, paper, fn)
        return fn
    return register


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    return scale


def cached(unit: str, config: dict, compute: Callable, *, scale: str = "quick", verbose: bool = False,
           lock_timeout: float | None = None) -> ExperimentResult:
    """The stored result of training ``unit`` with ``config``, computing it with ``compute(checkpoint)`` (which
    returns an ``xarray.Dataset``) when it is not cached yet. Returns an :class:`ExperimentResult` without claims.

    The computation runs under the key's lock (:func:`experiments.cache.key_lock`): a second process asking for the
    same key meanwhile waits (at most ``lock_timeout`` seconds, default ``$IBT_CACHE_LOCK_TIMEOUT`` or a day; then
    :class:`experiments.cache.CacheLockTimeout`) and reads the first one's result instead of training again.
    """
    path = result_path(unit, config)
    if path.is_file():
        return load_result(path)
    with key_lock(path, lock_timeout):
        if path.is_file():                      # another process computed it while this one waited
            return load_result(path)
        t0 = time.perf_counter()
        ckpt = checkpoint_path(unit, config)
        (logger.info if verbose else logger.debug)("training %s (%s): %s", unit,
                                                  "resuming" if ckpt.is_file() else "new", path.name)
        ds = compute(ckpt)
        TRAININGS[unit] = TRAININGS.get(unit, 0) + 1
        res = ExperimentResult(unit, scale, ds, [], {"seconds": time.perf_counter() - t0,
                                                     "computed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        res.save(path)
        if ckpt.is_file():
            ckpt.unlink()
    return res


def cached_many(jobs: Sequence[tuple[str, dict, Callable]], *, scale: str = "quick", verbose: bool = False,
                lock_timeout: float | None = None) -> list[ExperimentResult]:
    """:func:`cached` for several independent trainings ``(unit, config, compute)``; results in the order given.

    The order of work differs: stored results are read first, then the trainings no other process is computing at
    the moment (:func:`experiments.cache.key_busy`), and only when every remaining one is being computed elsewhere
    does this process wait for one. So two figures drawn in parallel that need overlapping trainings (e.g.
    ``saxe-fig8`` and ``saxe-fig1``: tanh and ReLU) split the work instead of one waiting idle for the other.
    The results are the same as :func:`cached`'s one by one.
    """
    paths = [result_path(unit, config) for unit, config, _ in jobs]
    out: dict[int, ExperimentResult] = {}
    pending = list(range(len(jobs)))
    while pending:
        i = next((j for j in pending if paths[j].is_file()), None)
        if i is None:
            i = next((j for j in pending if not key_busy(paths[j])), pending[0])
        unit, config, compute = jobs[i]
        out[i] = cached(unit, config, compute, scale=scale, verbose=verbose, lock_timeout=lock_timeout)
        pending.remove(i)
    return [out[i] for i in range(len(jobs))]
