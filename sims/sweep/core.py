"""The engine of :mod:`sims.sweep`: :func:`sweep` (``fn(**cell)`` over a grid) and the loop shared with
:func:`~sims.sweep.training.sweep_train` (cached cells loaded, the others run on a backend and cached as they
finish)."""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

from sims.progress import progress as progress_bar
from sims.sweep.backends import check_backend_options, run_dask, run_local, run_processes, worker_count
from sims.sweep.cache import CellCache
from sims.sweep.grid import cell_key, fn_name, grid_cells
from sims.sweep.results import CellResult, as_dataset, assemble, traceback_text

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["sweep"]


class _CallTask:
    """One cell of :func:`sweep`: ``fn(**params)``."""

    n_cells = 1

    def __init__(self, fn, params):
        self.fn, self.params = fn, params

    def run(self):
        t0 = time.perf_counter()
        try:
            ds = as_dataset(self.fn(**self.params))
        except Exception as exc:  # a cell's failure is its result
            return [CellResult(error=traceback_text(exc), seconds=time.perf_counter() - t0)]
        return [CellResult(ds=ds, seconds=time.perf_counter() - t0)]


def run_cells(cells: list[dict], keys: list[str], make_tasks: Callable[[list[int]], list], *, name: str,
              backend: str, address: str | None, n_workers: int | None, cache: str | os.PathLike | None,
              progress: bool, retries: int, retry_failed: bool, blas_threads: int | None) -> list[CellResult]:
    """Results per cell (list of :class:`CellResult`): cached ones loaded, the others run as the tasks built by
    ``make_tasks(indices of cells to run) -> [(task, [cell indices])]`` and cached as they finish."""
    store = None if cache is None else CellCache(cache)
    results = [None] * len(cells)
    todo = []
    for i, key in enumerate(keys):
        res = None if store is None else store.load(key)
        if res is not None and (res.error is None or not retry_failed):
            results[i] = res
        else:
            todo.append(i)
    n_cached = len(cells) - len(todo)
    if todo:
        plan = make_tasks(todo)
        tasks = [t for t, _ in plan]
        bar = progress_bar(total=len(todo), desc="sweep", enable=progress)

        def done(t, res_list):
            for i, res in zip(plan[t][1], res_list):
                results[i] = res
                if store is not None:
                    store.save(keys[i], name, cells[i], res)
            if hasattr(bar, "update"):
                bar.update(len(plan[t][1]))

        try:
            if backend == "local":
                run_local(tasks, done, blas_threads)
            elif backend == "processes":
                run_processes(tasks, done, n_workers, retries, blas_threads)
            else:
                run_dask(tasks, done, address, n_workers, retries, blas_threads)
        finally:
            if hasattr(bar, "close"):
                bar.close()
    return results, n_cached


def sweep(fn: Callable[..., Any], grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]], *,
          backend: Literal["local", "processes", "dask"] = "local", address: str | None = None,
          n_workers: int | None = None, cache: str | os.PathLike | None = None, progress: bool = True, retries: int = 3,
          retry_failed: bool = True, name: str | None = None, blas_threads: int | None = None) -> xr.Dataset:
    """Run ``fn(**cell)`` for every cell of ``grid`` and return the results as one :class:`xarray.Dataset`.

    Parameters
    ----------
    fn : callable taking the grid's parameters as keyword arguments and returning a dict of scalars/arrays or an
        xarray Dataset (the contract: :mod:`sims.sweep`). Must be picklable for the parallel backends.
    grid : dict of lists (Cartesian product; one result dimension per parameter) or list of dicts (a ``cell``
        dimension).
    backend : ``"local"`` (serial), ``"processes"`` (process pool) or ``"dask"`` (dask.distributed).
    address : scheduler address of an existing Dask cluster (``"tcp://host:8786"``); None starts a LocalCluster.
    n_workers : worker processes for ``"processes"`` and a LocalCluster (default: the CPU count).
    cache : folder for per-cell result files (resume); None keeps nothing on disk.
    progress : a progress bar over cells (tqdm, when installed).
    retries : reruns of a cell whose worker process died, before it is recorded as failed.
    retry_failed : with a cache, rerun cells recorded as failed (True) or keep their recorded error (False).
    name : the function's identity in the cache keys (default: its module and qualified name).
    blas_threads : BLAS/OpenMP threads per cell (default 1 in the parallel backends; unchanged for ``"local"``).

    Returns
    -------
    xarray.Dataset with the cells' variables over (grid dims..., result dims...), an ``error`` variable over the
    grid (traceback text, "" where the cell succeeded) and attrs ``fn``, ``backend``, ``n_cells``, ``n_cached``
    (cells loaded from the cache), ``n_failed``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    retries, blas_threads = check_backend_options(backend, address, retries, blas_threads)
    n_workers = worker_count(n_workers, address)
    cells, layout = grid_cells(grid)
    if name is None and cache is not None and "<lambda>" in fn_name(fn):
        raise ValueError("name: a lambda has no name to key a cache by (all lambdas of a module share one); "
                         "pass name= or use a def")
    name = fn_name(fn) if name is None else str(name)
    keys = [cell_key(name, c) for c in cells]

    def make_tasks(todo):
        return [(_CallTask(fn, cells[i]), [i]) for i in todo]

    results, n_cached = run_cells(cells, keys, make_tasks, name=name, backend=backend, address=address,
                                   n_workers=n_workers, cache=cache, progress=progress, retries=retries,
                                   retry_failed=retry_failed, blas_threads=blas_threads)
    return assemble(cells, layout, results, {"fn": name, "backend": backend, "n_cells": len(cells),
                                              "n_cached": n_cached})
