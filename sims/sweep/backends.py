"""Where the cells of :mod:`sims.sweep` run: this process (``"local"``), a process pool (``"processes"``) or
:mod:`dask.distributed` (``"dask"``: a :func:`local_cluster` or an existing scheduler); how worker deaths are
retried."""
from __future__ import annotations

import os
import pickle
from typing import TYPE_CHECKING, Callable

from analytic import checks
from sims.backend import usable_cores
from sims.sweep.results import CellResult

if TYPE_CHECKING:
    from dask.distributed import LocalCluster

__all__ = ["local_cluster", "BACKENDS"]

#: the backends of :func:`~sims.sweep.core.sweep` and :func:`~sims.sweep.training.sweep_train`
BACKENDS = ("local", "processes", "dask")
_TRIM, _DASK_TRIM, _OUR_TRIM = "MALLOC_TRIM_THRESHOLD_", "65536", str(128 * 2 ** 20)
_INSTALL_DASK = 'backend="dask" needs dask.distributed: pip install "ibtoolkit[distributed]"'


def _execute(task, blas_threads):
    """Worker entry: run ``task`` (or the pickled bytes of one) under ``blas_threads`` BLAS threads."""
    if isinstance(task, bytes):
        task = pickle.loads(task)
    if blas_threads is None:
        return task.run()
    with _thread_limits().limit(limits=blas_threads):
        return task.run()


_CONTROLLER = [None, -1]   # this process's threadpoolctl controller, and len(sys.modules) when it was made


def _thread_limits():
    """A ``threadpoolctl.ThreadpoolController`` of the BLAS/OpenMP libraries this process has loaded, made once
    per process and again whenever modules were imported since (a new native library comes with an import):
    ``threadpool_limits`` scans the loaded libraries on every call (2.4 ms, measured), the controller's
    ``limit`` costs 0.01 ms."""
    import sys

    from threadpoolctl import ThreadpoolController

    if _CONTROLLER[0] is None or _CONTROLLER[1] != len(sys.modules):
        _CONTROLLER[0], _CONTROLLER[1] = ThreadpoolController(), len(sys.modules)
    return _CONTROLLER[0]


def _pickled(task):
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(task)
    return cloudpickle.dumps(task)


def run_local(tasks: list, done: Callable[[int, list], None], blas_threads: int | None) -> None:
    """Tasks one after the other in this process; ``done(i, results)`` after each."""
    for i, task in enumerate(tasks):
        done(i, _execute(task, blas_threads))


def run_processes(tasks: list, done: Callable[[int, list], None], n_workers: int | None, retries: int,
                  blas_threads: int | None) -> None:
    """Tasks on spawned process pools, at most ``n_workers`` in flight. When a worker process dies, the pool breaks
    and every task then in flight is a suspect: each is rerun alone, in a pool of one process, so that a death is
    blamed on the task that caused it; a task whose process died ``retries + 1`` times alone is recorded as
    failed."""
    blobs = [_pickled(t) for t in tasks]
    queue = list(range(len(tasks)))[::-1]      # pop() from the end = grid order
    while queue:
        suspects = _pool_round(blobs, queue, done, n_workers, blas_threads)
        for i in suspects:
            for attempt in range(retries + 1):
                if not _pool_round(blobs, [i], done, 1, blas_threads):
                    break
            else:
                msg = (f"the worker process died each of the {retries + 1} times it ran this cell alone "
                       f"(retries={retries}), and once beside other cells")
                done(i, [CellResult(error=msg)] * tasks[i].n_cells)


def _mp_context():
    """Workers forked from a clean fork server that has imported this package once (fast starts, and safe in a
    multi-threaded parent, unlike plain fork); spawn where there is no fork server (Windows, macOS defaults)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["sims.sweep"])
    return ctx


def _pool_round(blobs, queue, done, n_workers, blas_threads):
    """Run tasks popped from ``queue`` on one pool until it is empty or the pool breaks; the indices of the tasks
    in flight when it broke (unfinished), else []."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=_mp_context())
    inflight, suspects = {}, []
    try:
        while queue or inflight:
            while queue and len(inflight) < n_workers:
                i = queue.pop()
                inflight[pool.submit(_execute, blobs[i], blas_threads)] = i
            finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                done(inflight.pop(fut), res)
            if broken:
                break
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for fut, i in inflight.items():
        if fut.done() and not fut.cancelled() and fut.exception() is None:
            done(i, fut.result())
        else:
            suspects.append(i)
    return suspects


def _dask_client(address, n_workers, retries):
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError(_INSTALL_DASK) from exc
    if address is not None:
        return Client(address), None
    cluster = local_cluster(n_workers, retries=retries)
    return Client(cluster), cluster


def local_cluster(n_workers: int | None = None, *, retries: int = 3) -> LocalCluster:
    """The ``dask.distributed.LocalCluster`` that ``backend="dask"`` starts: ``n_workers`` (default: the CPU
    count) single-threaded worker processes, no dashboard, ``retries`` allowed worker deaths per cell. Start one
    yourself to keep it across several sweeps (``address=cluster.scheduler_address``); close it when done.

    distributed's nannies export ``MALLOC_TRIM_THRESHOLD_=65536`` (their default, also into this process's
    environment) before starting a worker; glibc then serves every allocation above 128 KiB by a fresh mmap, and
    the ensemble simulator's temporaries run 2.1x slower (E = 8 on the 12-bit network, measured). These workers
    get a 128 MiB threshold instead, unless the environment already holds a value other than distributed's.
    """
    try:
        import dask
        from dask.distributed import LocalCluster
    except ImportError as exc:
        raise ImportError(_INSTALL_DASK) from exc
    n_workers = max(1, os.cpu_count() or 1) if n_workers is None else checks.positive_int(n_workers, "n_workers")
    retries = checks.positive_int(retries, "retries", minimum=0)
    saved = os.environ.get(_TRIM)
    if saved in (None, _DASK_TRIM):
        os.environ[_TRIM] = _OUR_TRIM
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": retries,
                              f"distributed.nanny.pre-spawn-environ.{_TRIM}": _OUR_TRIM}):
            return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    finally:
        if saved is None:
            os.environ.pop(_TRIM, None)
        else:
            os.environ[_TRIM] = saved


def run_dask(tasks: list, done: Callable[[int, list], None], address: str | None, n_workers: int | None,
             retries: int, blas_threads: int | None) -> None:
    """Tasks on a dask.distributed cluster (the one at ``address``, or a LocalCluster of ``n_workers`` started and
    closed here); ``done(i, results)`` as each finishes, a lost task recorded as failed."""
    from dask.distributed import as_completed

    client, cluster = _dask_client(address, n_workers, retries)
    try:
        # larger packs first (priority), so that the last task to start is a short one; results are fetched in
        # the background as tasks finish (with_results), not by one blocking round trip per task after the fact
        futures = {client.submit(_execute, t, blas_threads, pure=False, priority=t.n_cells): i
                   for i, t in enumerate(tasks)}
        for fut, res in as_completed(futures, with_results=True, raise_errors=False):
            i = futures[fut]
            if fut.status == "finished":
                done(i, res)
            else:   # KilledWorker (the worker died too often) or a scheduler-side failure
                exc = res if isinstance(res, BaseException) else fut.exception()
                done(i, [CellResult(error=f"{type(exc).__name__}: {exc}")] * tasks[i].n_cells)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_count(n_workers: int | None, address: str | None) -> int | None:
    """``n_workers`` checked; None: the cluster's own (with ``address``) or this process's usable cores."""
    if n_workers is None:
        return None if address is not None else usable_cores()
    return checks.positive_int(n_workers, "n_workers")


def check_backend_options(backend: str, address: str | None, retries: int, blas_threads: int | None
                          ) -> tuple[int, int | None]:
    """Validated ``(retries, blas_threads)`` for a sweep (1 BLAS thread per worker unless given)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if address is not None and backend != "dask":
        raise ValueError(f"address: a scheduler address needs backend='dask', got backend={backend!r}")
    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be a string such as 'tcp://host:8786', got {address!r}")
    retries = checks.positive_int(retries, "retries", minimum=0)
    if blas_threads is not None:
        blas_threads = checks.positive_int(blas_threads, "blas_threads")
    elif backend != "local":
        blas_threads = 1
    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError as exc:
            raise ImportError(_INSTALL_DASK) from exc
    return retries, blas_threads


def cluster_workers(address: str) -> int:
    """Number of worker threads of the cluster at ``address``."""
    client, _ = _dask_client(address, None, 0)
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()
