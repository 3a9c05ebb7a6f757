"""Parameter sweeps: a function over a grid of settings, serially, on local processes or on a Dask cluster.

:func:`sweep` runs ``fn(**cell)`` for every cell of a grid and returns one :class:`xarray.Dataset` indexed by the
grid's parameters. :func:`sweep_train` is the same for training runs of :func:`sims.train`, and packs cells that
differ only in per-member settings into one ensemble run (the ensemble axis is the simulator's speed; BENCHMARKS.md
measures what packing gains).

Grids
-----
* a dict of lists, ``{"lr": [1e-3, 1e-2], "activation": ["tanh", "relu"]}``: the Cartesian product, in C order
  (the last parameter varies fastest); the result has one dimension per parameter, with the lists as coordinates;
* a list of dicts with the same keys, ``[{"lr": 1e-3, "seed": 0}, ...]``: exactly these cells; the result has a
  ``cell`` dimension, with one coordinate per parameter along it.

Values must be numbers, strings, booleans, None or tuples of these (they identify the cell and become coordinates).

What a cell returns (the contract)
----------------------------------
``fn(**cell)`` returns an :class:`xarray.Dataset` or a mapping ``name -> value`` that :class:`xarray.Dataset`
accepts as data variables: a scalar, an ``xarray.DataArray``, a ``(dims, array)`` pair, or a bare array (its axes
are then named ``{name}_dim0``, ``{name}_dim1``, ...). Every successful cell must return the same variables with the
same dimensions, sizes and coordinates; the sweep stacks them in front of the grid's dimensions. Numbers and strings
only (no Python objects), so that results can be cached and shipped between processes.

Failures, caching, resume, retries
----------------------------------
A cell that raises does not stop the sweep: its variables are NaN (integers and booleans become floats, strings
empty) and the ``error`` variable holds its traceback ("" for cells that succeeded); ``attrs["n_failed"]`` counts
them. With ``cache=folder`` each finished cell is written at once, atomically, to ``folder/<key>.npz``, where
``key`` is the SHA-256 of the cell's configuration (the function's module-qualified name, or ``name=``, and the
cell's parameters; :func:`cell_key`). A rerun loads the cells found there instead of running them (resume), and
reruns recorded failures unless ``retry_failed=False``. The files are written by the calling process, so Dask
workers on other machines need no shared file system. A cell whose worker process dies (killed, out of memory,
``os._exit``) is run again, up to ``retries`` times, then recorded as failed: ``"processes"`` reruns each cell that
was in flight when a process died alone in a fresh process (so that the death is blamed on its cell), ``"dask"``
leaves the count to the scheduler (``distributed.scheduler.allowed-failures``, set to ``retries`` on the clusters
this module starts; exceeding it raises ``KilledWorker``, recorded as the cell's error). The scheduler counts a
death against every cell assigned to the dying worker, running or queued there, so keep ``retries`` at 2 or more.

The cache key names the function, not its code: after changing what ``fn`` computes, pass a new ``name=`` (or a new
folder), or stale results are reused. A lambda needs ``name=`` to use a cache. The bound arguments of a
:func:`functools.partial` are part of its name.

Backends
--------
``"local"``: a loop in this process. ``"processes"``: :class:`concurrent.futures.ProcessPoolExecutor` with
``n_workers`` processes (default: the CPU count), started from a fork server (spawned where there is none), so
``fn`` must be importable or, with cloudpickle installed, defined anywhere; the fork server (one per Python process)
is told to preload this module, which halves the pool's start-up (measured 3 s against 6 s on the shared 2-core
machine). ``"dask"``: :mod:`dask.distributed`, on a fresh ``LocalCluster`` of ``n_workers``
single-threaded worker processes, or on the scheduler at ``address`` (``"tcp://host:8786"``) of an existing cluster
(the same code then runs on a laptop and on a cluster; install with ``pip install "ibtoolkit[distributed]"``). In the
parallel backends each cell runs with ``blas_threads`` BLAS/OpenMP threads (default 1, so that workers do not
oversubscribe the cores). On a cluster of your own, start the workers with ``MALLOC_TRIM_THRESHOLD_=134217728``
in their environment: distributed's default (65536) makes the simulator's NumPy temporaries a fresh ``mmap`` each
and training 2.1x slower (:func:`local_cluster`, which ``backend="dask"`` uses, does this itself).

Example
-------
>>> def f(a, b):
...     return {"sum": a + b, "pair": [a, b]}
>>> ds = sweep(f, {"a": [1, 2, 3], "b": [10, 20]}, progress=False)
>>> ds["sum"].sel(a=2, b=20).item(), dict(ds.sizes)
(22, {'a': 3, 'b': 2, 'pair_dim0': 2})
>>> len(ds.to_dataframe())
12
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import os
import pickle
import time
import traceback
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np

from analytic import checks
from sims import io as sims_io
from sims.progress import progress as progress_bar

if TYPE_CHECKING:
    import xarray as xr
    from dask.distributed import LocalCluster

    from sims.mlp import MLP
    from sims.run import Run

__all__ = ["sweep", "sweep_train", "local_cluster", "grid_cells", "cell_key", "run_metrics", "MEMBER_PARAMS",
           "NET_PARAMS"]

BACKENDS = ("local", "processes", "dask")
#: grid parameters of :func:`sweep_train` that may differ between the members of one ensemble run
MEMBER_PARAMS = ("lr", "seed", "init_scale", "noise_std", "data")
#: grid parameters of :func:`sweep_train` that build the network (``sims.MLP`` arguments)
NET_PARAMS = ("widths", "activation", "output", "init", "init_scale", "bias")
_NOT_IN_GRID = ("net", "data", "ensemble", "params", "progress", "checkpoint")
_CACHE_KIND, _CACHE_VERSION = "sweep-cell", 1
_TRIM, _DASK_TRIM, _OUR_TRIM = "MALLOC_TRIM_THRESHOLD_", "65536", str(128 * 2 ** 20)
_INSTALL_DASK = 'backend="dask" needs dask.distributed: pip install "ibtoolkit[distributed]"'


# ---------------------------------------------------------------------------------------------------- grids
def _canon(v, name):
    """A grid value as a JSON-able Python value (tuples for sequences); TypeError/ValueError naming the parameter."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            raise ValueError(f"grid[{name!r}]: values must be finite, got {v!r}")
        return float(v)
    if isinstance(v, str) or v is None:
        return v
    if isinstance(v, (tuple, list)):
        return tuple(_canon(u, name) for u in v)
    raise TypeError(f"grid[{name!r}]: values must be numbers, strings, booleans, None or tuples of them, "
                    f"got {type(v).__name__} {v!r}")


def _jsonable(v):
    return [_jsonable(u) for u in v] if isinstance(v, tuple) else v


def grid_cells(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]]) -> tuple[list[dict], tuple]:
    """The cells of ``grid`` as a list of dicts, and its layout: ``("product", names, value lists)`` for a dict of
    lists, ``("list", names, None)`` for a list of dicts.

    >>> grid_cells({"a": [1, 2], "b": ["x"]})[0]
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if isinstance(grid, dict):
        if not grid:
            raise ValueError("grid: empty dict (give at least one parameter with a list of values)")
        names, lists = [], []
        for name, values in grid.items():
            if not isinstance(name, str):
                raise TypeError(f"grid: parameter names must be strings, got {name!r}")
            if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
                raise TypeError(f"grid[{name!r}] must be a list of values, got {values!r}")
            vals = [_canon(v, name) for v in values]
            if not vals:
                raise ValueError(f"grid[{name!r}]: empty list of values")
            if len(set(map(json.dumps, map(_jsonable, vals)))) != len(vals):
                raise ValueError(f"grid[{name!r}]: repeated values {vals!r}")
            names.append(name)
            lists.append(vals)
        cells = [dict(zip(names, combo)) for combo in _product(lists)]
        return cells, ("product", names, lists)
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise ValueError("grid: empty list of cells")
        names = None
        cells, seen = [], set()
        for i, cell in enumerate(grid):
            if not isinstance(cell, dict) or not cell:
                raise TypeError(f"grid[{i}] must be a non-empty dict of parameters, got {cell!r}")
            if names is None:
                names = list(cell)
            elif set(cell) != set(names):
                raise ValueError(f"grid[{i}] has parameters {sorted(cell)}, but grid[0] has {sorted(names)}; "
                                 "every cell of a list grid must name the same parameters")
            c = {k: _canon(cell[k], k) for k in names}
            key = json.dumps({k: _jsonable(v) for k, v in c.items()}, sort_keys=True)
            if key in seen:
                raise ValueError(f"grid[{i}] repeats an earlier cell: {c}")
            seen.add(key)
            cells.append(c)
        return cells, ("list", names, None)
    raise TypeError(f"grid must be a dict of lists or a list of dicts, got {type(grid).__name__}")


def _product(lists):
    if not lists:
        yield ()
        return
    for v in lists[0]:
        for rest in _product(lists[1:]):
            yield (v,) + rest


def cell_key(name: str, params: dict, context: Any = None) -> str:
    """SHA-256 (hex) identifying a cell: the function's ``name``, the cell's ``params`` and any fixed ``context``
    (JSON-able), as canonical JSON (sorted keys; floats by their shortest exact repr).

    >>> cell_key("f", {"a": 1}) == cell_key("f", {"a": 1}) != cell_key("f", {"a": 1.0})
    True
    """
    doc = {"fn": name, "params": {k: _jsonable(v) for k, v in params.items()}, "context": context}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _fn_name(fn) -> str:
    """``module.qualname`` of ``fn``; for a functools.partial, its function's name and its bound arguments."""
    if isinstance(fn, functools.partial):
        bound = {"args": [_spec_value(a, "fn") for a in fn.args],
                 "keywords": {k: _spec_value(v, k) for k, v in sorted(fn.keywords.items())}}
        return f"{_fn_name(fn.func)}{json.dumps(bound, sort_keys=True)}"
    mod = getattr(fn, "__module__", None) or type(fn).__module__
    qual = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{mod}.{qual}"


# ---------------------------------------------------------------------------------------------------- results
def _as_dataset(out, member_first=False):
    """A cell's return value as an xarray Dataset (see the module docstring); TypeError when it cannot be one."""
    import xarray as xr

    if isinstance(out, xr.Dataset):
        ds = out
    elif isinstance(out, dict):
        data = {}
        for name, v in out.items():
            if not isinstance(name, str):
                raise TypeError(f"result: variable names must be strings, got {name!r}")
            if isinstance(v, (xr.DataArray, tuple)):
                data[name] = v
            else:
                a = np.asarray(v)
                dims = [f"{name}_dim{i}" for i in range(a.ndim)]
                if member_first and a.ndim:
                    dims[0] = "member"
                data[name] = (dims, a)
        ds = xr.Dataset(data)
    else:
        raise TypeError("result: the function must return an xarray.Dataset or a dict of name -> scalar/array, "
                        f"got {type(out).__name__}")
    for name, var in ds.variables.items():
        if var.dtype.kind not in "biufUS":
            raise TypeError(f"result: variable {name!r} has dtype {var.dtype}; return numbers or strings")
    return ds


class _CellResult:
    """Outcome of one cell: ``ds`` (an xarray Dataset) or ``error`` (traceback text); ``seconds`` of work."""

    __slots__ = ("ds", "error", "seconds")

    def __init__(self, ds=None, error=None, seconds=0.0):
        self.ds, self.error, self.seconds = ds, error, seconds


def _failure(exc) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


class _CallTask:
    """One cell of :func:`sweep`: ``fn(**params)``."""

    n_cells = 1

    def __init__(self, fn, params):
        self.fn, self.params = fn, params

    def run(self):
        t0 = time.perf_counter()
        try:
            ds = _as_dataset(self.fn(**self.params))
        except Exception as exc:  # a cell's failure is its result
            return [_CellResult(error=_failure(exc), seconds=time.perf_counter() - t0)]
        return [_CellResult(ds=ds, seconds=time.perf_counter() - t0)]


def _execute(task, blas_threads):
    """Worker entry: run ``task`` (or the pickled bytes of one) under ``blas_threads`` BLAS threads."""
    if isinstance(task, bytes):
        task = pickle.loads(task)
    if blas_threads is None:
        return task.run()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads):
        return task.run()


# ---------------------------------------------------------------------------------------------------- cache
class _Cache:
    """One file per cell, ``folder/<key>.npz``: the result's variables and coordinates as arrays, plus JSON meta
    (parameters, dims, error), written by :func:`sims.io.save_npz` (atomic, with provenance and checksums)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, key):
        return self.folder / f"{key}.npz"

    def save(self, key, name, params, res: _CellResult):
        arrays, meta = {}, {"fn": name, "params": {k: _jsonable(v) for k, v in params.items()},
                             "error": res.error, "seconds": res.seconds, "vars": {}, "coords": {}}
        if res.ds is not None:
            for kind, items in (("vars", res.ds.data_vars.items()), ("coords", res.ds.coords.items())):
                for i, (vname, var) in enumerate(items):
                    meta[kind][vname] = {"dims": list(var.dims), "array": f"{kind}_{i}", "attrs": _attrs(var.attrs)}
                    arrays[f"{kind}_{i}"] = np.asarray(var.values)
            meta["attrs"] = _attrs(res.ds.attrs)
        sims_io.save_npz(self.path(key), arrays, meta, kind=_CACHE_KIND, version=_CACHE_VERSION)

    def load(self, key):
        """The cached :class:`_CellResult`, or None when absent or unreadable (a warning names the file)."""
        import xarray as xr

        p = self.path(key)
        if not p.is_file():
            return None
        try:
            arrays, meta = sims_io.load_npz(p, kind=_CACHE_KIND, version=_CACHE_VERSION)
            if meta["error"] is not None:
                return _CellResult(error=meta["error"], seconds=meta["seconds"])
            get = lambda kind: {n: xr.Variable(m["dims"], arrays[m["array"]], m["attrs"])  # noqa: E731
                                for n, m in meta[kind].items()}
            ds = xr.Dataset(get("vars"), coords=get("coords"), attrs=meta.get("attrs", {}))
            return _CellResult(ds=ds, seconds=meta["seconds"])
        except (ValueError, KeyError, TypeError, OSError) as exc:   # CorruptFileError, FormatVersionError, ...
            warnings.warn(f"sweep cache: {p} is unreadable ({exc}); running the cell again", stacklevel=3)
            return None


def _attrs(attrs):
    """Attributes kept in the cache: JSON-able ones."""
    out = {}
    for k, v in attrs.items():
        try:
            json.dumps(v)
        except TypeError:
            continue
        out[str(k)] = v
    return out


# ---------------------------------------------------------------------------------------------------- backends
def _pickled(task):
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(task)
    return cloudpickle.dumps(task)


def _run_local(tasks, done, blas_threads):
    for i, task in enumerate(tasks):
        done(i, _execute(task, blas_threads))


def _run_processes(tasks, done, n_workers, retries, blas_threads):
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
                done(i, [_CellResult(error=msg)] * tasks[i].n_cells)


def _mp_context():
    """Workers forked from a clean fork server that has imported this module once (fast starts, and safe in a
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


def _run_dask(tasks, done, address, n_workers, retries, blas_threads):
    from dask.distributed import as_completed

    client, cluster = _dask_client(address, n_workers, retries)
    try:
        futures = {client.submit(_execute, t, blas_threads, pure=False): i for i, t in enumerate(tasks)}
        for fut in as_completed(futures):
            i = futures[fut]
            if fut.status == "finished":
                done(i, fut.result())
            else:   # KilledWorker (the worker died too often) or a scheduler-side failure
                exc = fut.exception()
                done(i, [_CellResult(error=f"{type(exc).__name__}: {exc}")] * tasks[i].n_cells)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _n_workers(n_workers, address):
    if n_workers is None:
        return None if address is not None else max(1, os.cpu_count() or 1)
    return checks.positive_int(n_workers, "n_workers")


# ---------------------------------------------------------------------------------------------------- engine
def _check_common(backend, address, retries, blas_threads):
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


def _run_cells(cells, keys, make_tasks, *, name, backend, address, n_workers, cache, progress, retries,
               retry_failed, blas_threads):
    """Results per cell (list of :class:`_CellResult`): cached ones loaded, the others run as the tasks built by
    ``make_tasks(indices of cells to run) -> [(task, [cell indices])]`` and cached as they finish."""
    store = None if cache is None else _Cache(cache)
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
                _run_local(tasks, done, blas_threads)
            elif backend == "processes":
                _run_processes(tasks, done, n_workers, retries, blas_threads)
            else:
                _run_dask(tasks, done, address, n_workers, retries, blas_threads)
        finally:
            if hasattr(bar, "close"):
                bar.close()
    return results, n_cached


def _assemble(cells, layout, results, attrs):
    """One Dataset from the per-cell results (see the module docstring)."""
    import xarray as xr

    kind, names, lists = layout
    ok = [r.ds for r in results if r.error is None]
    template = ok[0] if ok else xr.Dataset()
    for i, r in enumerate(results):
        if r.error is not None:
            continue
        ds = r.ds
        if set(ds.data_vars) != set(template.data_vars):
            raise ValueError(f"result: cell {cells[i]} returned variables {sorted(ds.data_vars)}, another cell "
                             f"{sorted(template.data_vars)}; every cell must return the same variables")
        for v in ds.data_vars:
            if ds[v].dims != template[v].dims or ds[v].shape != template[v].shape:
                raise ValueError(f"result: variable {v!r} has dims {dict(ds[v].sizes)} in cell {cells[i]} but "
                                 f"{dict(template[v].sizes)} in another cell")
        for c in ds.coords:
            if c not in template.coords or not np.array_equal(ds[c].values, template[c].values):
                raise ValueError(f"result: coordinate {c!r} of cell {cells[i]} differs from another cell's")
    clash = set(names) & (set(template.dims) | set(template.variables) | {"error", "cell"})
    if clash:
        raise ValueError(f"grid: parameter names {sorted(clash)} clash with the result's variables or dimensions "
                         "(or 'error', 'cell'); rename them")
    failed = any(r.error is not None for r in results)
    grid_shape = tuple(len(v) for v in lists) if kind == "product" else (len(cells),)
    grid_dims = tuple(names) if kind == "product" else ("cell",)
    data = {}
    for v in template.data_vars:
        t = template[v]
        dtype = t.dtype
        if failed and dtype.kind in "biu":
            dtype = np.dtype(float)
        fill = "" if dtype.kind in "US" else np.nan
        stack = np.empty((len(cells),) + t.shape, dtype=dtype if dtype.kind not in "US" else object)
        for i, r in enumerate(results):
            stack[i] = fill if r.error is not None else r.ds[v].values
        if dtype.kind in "US":
            stack = stack.astype(str)
        data[v] = (grid_dims + t.dims, stack.reshape(grid_shape + t.shape), t.attrs)
    errors = np.array(["" if r.error is None else r.error for r in results], dtype=object).astype(str)
    data["error"] = (grid_dims, errors.reshape(grid_shape))
    coords = {c: template[c].variable for c in template.coords}
    if kind == "product":
        coords.update({n: (n, _coord(vals)) for n, vals in zip(names, lists)})
    else:
        coords["cell"] = ("cell", np.arange(len(cells)))
        coords.update({n: ("cell", _coord([c[n] for c in cells])) for n in names})
    out = xr.Dataset(data, coords=coords)
    out.attrs.update(attrs)
    out.attrs["n_failed"] = int(sum(r.error is not None for r in results))
    return out


def _coord(values):
    if any(isinstance(v, tuple) or v is None for v in values):
        a = np.empty(len(values), dtype=object)
        a[:] = values
        return a
    return np.asarray(values)


# ---------------------------------------------------------------------------------------------------- sweep
def sweep(fn: Callable[..., Any], grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]], *,
          backend: Literal["local", "processes", "dask"] = "local", address: str | None = None,
          n_workers: int | None = None, cache: str | os.PathLike | None = None, progress: bool = True, retries: int = 3,
          retry_failed: bool = True, name: str | None = None, blas_threads: int | None = None) -> xr.Dataset:
    """Run ``fn(**cell)`` for every cell of ``grid`` and return the results as one :class:`xarray.Dataset`.

    Parameters
    ----------
    fn : callable taking the grid's parameters as keyword arguments and returning a dict of scalars/arrays or an
        xarray Dataset (the contract: module docstring). Must be picklable for the parallel backends.
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
    retries, blas_threads = _check_common(backend, address, retries, blas_threads)
    n_workers = _n_workers(n_workers, address)
    cells, layout = grid_cells(grid)
    if name is None and cache is not None and "<lambda>" in _fn_name(fn):
        raise ValueError("name: a lambda has no name to key a cache by (all lambdas of a module share one); "
                         "pass name= or use a def")
    name = _fn_name(fn) if name is None else str(name)
    keys = [cell_key(name, c) for c in cells]

    def make_tasks(todo):
        return [(_CallTask(fn, cells[i]), [i]) for i in todo]

    results, n_cached = _run_cells(cells, keys, make_tasks, name=name, backend=backend, address=address,
                                   n_workers=n_workers, cache=cache, progress=progress, retries=retries,
                                   retry_failed=retry_failed, blas_threads=blas_threads)
    return _assemble(cells, layout, results, {"fn": name, "backend": backend, "n_cells": len(cells),
                                              "n_cached": n_cached})


# ---------------------------------------------------------------------------------------------------- training
def run_metrics(run: Run) -> xr.Dataset:
    """The default ``measure`` of :func:`sweep_train`: train/test loss and accuracy of every member at every
    logged epoch, as a Dataset over (``member``, ``epoch``)."""
    import xarray as xr

    dims = ("member", "epoch")
    return xr.Dataset({f"{q}_{s}": (dims, getattr(run, "loss" if q == "loss" else "accuracy")[s])
                       for q in ("loss", "acc") for s in ("train", "test")},
                      coords={"epoch": ("epoch", run.epochs)})


def _spec_value(v, name):
    """A fixed training argument as JSON for the cache key."""
    if hasattr(v, "spec") and callable(v.spec):
        return {"spec": v.spec()}
    if isinstance(v, np.ndarray):
        return {"array": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest(), "shape": list(v.shape)}
    if callable(v):
        return {"callable": _fn_name(v)}
    if isinstance(v, dict):
        return {str(k): _spec_value(u, f"{name}[{k!r}]") for k, u in v.items()}
    if isinstance(v, (list, tuple)):
        return [_spec_value(u, name) for u in v]
    try:
        json.dumps(v)
    except TypeError:
        raise TypeError(f"{name}: {type(v).__name__} cannot identify a sweep cell; pass a number, string, list "
                        "or an object with .spec()") from None
    return v


def _data_hash(data) -> str:
    h = hashlib.sha256()
    for split in ("train", "test", "analysis"):
        for ax in ("x", "y"):
            a = getattr(data, f"{ax}_{split}", None)
            if a is not None:
                a = np.ascontiguousarray(np.asarray(a))
                h.update(f"{ax}_{split}{a.shape}{a.dtype}".encode())
                h.update(a.tobytes())
    return h.hexdigest()


def _pack_signature(name, d):
    """What datasets packed into one run must share (:func:`sims.train` per-member data): the shapes of the
    train/test sets and the analysis set itself; a dataset without an explicit analysis set packs only with itself."""
    if getattr(d, "x_analysis", None) is None:
        return name
    shapes = [tuple(np.shape(getattr(d, f"{ax}_{s}"))) for s in ("train", "test") for ax in ("x", "y")]
    return [shapes, _data_hash(SimpleNamespace(x_analysis=d.x_analysis, y_analysis=d.y_analysis))]


def _cell_net(spec, cell):
    """The MLP of spec ``spec`` (``MLP.spec()``) with the cell's network arguments (:data:`NET_PARAMS`)."""
    from analytic.activations import get_activation
    from sims.mlp import MLP

    acts = [get_activation(n, **dict(p)) for n, p in zip(spec["activation"], spec["activation_params"])]
    args = {"widths": spec["widths"], "activation": acts, "output": spec["output"], "init": spec["init"],
            "init_scale": spec["init_scale"], "bias": spec["bias"]}
    if "widths" in cell and "activation" not in cell and acts and len({a.name for a in acts}) == 1:
        args["activation"] = acts[0]   # the base net's one activation, on the new widths
    args.update({k: cell[k] for k in NET_PARAMS if k in cell})
    return MLP(**args)


def _train_default(arg):
    from sims.train import train

    return inspect.signature(train).parameters[arg].default


class _PackTask:
    """Cells sharing everything but their member parameters, trained as ONE ensemble of ``ensemble`` members per
    cell; the measured Dataset is split back per cell along ``member``. If the packed run raises (e.g. one cell's
    learning rate diverges), every cell is rerun on its own so that the error lands on the cell that causes it."""

    def __init__(self, net_spec, data, cells, ensemble, train_kwargs, measure):
        self.net_spec, self.data, self.cells = net_spec, data, cells
        self.ensemble, self.train_kwargs, self.measure = ensemble, train_kwargs, measure

    @property
    def n_cells(self):
        return len(self.cells)

    def _train(self, cells):
        from sims.train import train

        k = self.ensemble
        nets = [_cell_net(self.net_spec, c) for c in cells]
        kw = dict(self.train_kwargs)
        kw.update({n: v for n, v in cells[0].items() if n not in MEMBER_PARAMS and n not in NET_PARAMS})
        lrs, seeds, noises = ([c.get(p, kw.get(p, _train_default(p))) for c in cells]
                              for p in ("lr", "seed", "noise_std"))
        for p in ("lr", "seed", "noise_std"):
            kw.pop(p, None)
        names = [c.get("data") for c in cells]
        if names[0] is None:
            data = self.data
        elif len(set(names)) == 1:
            data = self.data[names[0]]
        else:                 # per-member data: cell c's dataset for its k members
            data = [self.data[n] for n in names for _ in range(k)]
        if len(cells) == 1:   # a cell on its own: exactly sims.train's own call
            run = train(nets[0], data, ensemble=k, lr=lrs[0], seed=seeds[0], noise_std=noises[0],
                        progress=False, **kw)
        else:                 # members c*k .. (c+1)*k-1: seed group c, drawing as cell c's own run draws
            extra = {}
            if len({n.init_scale for n in nets}) > 1:   # (only packed when deterministic: make_tasks)
                theta0 = np.concatenate([n.init_flat(k, rng=np.random.default_rng(s)) for n, s in zip(nets, seeds)])
                extra["params"] = nets[0].views(theta0)
            run = train(nets[0], data, ensemble=k * len(cells), lr=np.repeat(np.asarray(lrs, float), k),
                        seed=seeds, noise_std=np.repeat(np.asarray(noises, float), k), progress=False, **extra,
                        **kw)
        ds = _as_dataset(self.measure(run), member_first=True)
        for v in ds.data_vars:
            if not ds[v].dims or ds[v].dims[0] != "member" or ds[v].shape[0] != run.ensemble:
                raise ValueError(f"measure: variable {v!r} must have the member axis first (length "
                                 f"{run.ensemble}), got dims {dict(ds[v].sizes)}")
        return [ds.isel(member=slice(c * k, (c + 1) * k)).assign_coords(member=np.arange(k))
                for c in range(len(cells))]

    def run(self):
        t0 = time.perf_counter()
        try:
            parts = self._train(self.cells)
        except Exception as exc:
            if len(self.cells) == 1:
                return [_CellResult(error=_failure(exc), seconds=time.perf_counter() - t0)]
            parts = None
        if parts is None:   # outside the handler, so that a cell's traceback does not chain the pack's
            return [r for c in self.cells for r in
                    _PackTask(self.net_spec, self.data, [c], self.ensemble, self.train_kwargs, self.measure).run()]
        dt = (time.perf_counter() - t0) / len(self.cells)
        return [_CellResult(ds=p, seconds=dt) for p in parts]


def _train_arguments():
    from sims.train import train

    return set(inspect.signature(train).parameters)


def sweep_train(net: MLP, data: Any, grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]], *, ensemble: int = 1,
                measure: Callable[[Run], Any] | None = None, pack: bool = True, max_members: int | None = None,
                backend: Literal["local", "processes", "dask"] = "local", address: str | None = None,
                n_workers: int | None = None, cache: str | os.PathLike | None = None, progress: bool = True,
                retries: int = 3, retry_failed: bool = True, name: str | None = None, blas_threads: int | None = None,
                **train_kwargs: Any) -> xr.Dataset:
    """Train a network for every cell of ``grid`` with :func:`sims.train`; cells that differ only in member
    parameters (``lr``, ``seed``, ``init_scale``, ``noise_std``, ``data``) are packed into one ensemble run.

    A cell trains ``ensemble`` networks: ``sims.train(net_cell, data, ensemble=ensemble, lr=..., seed=...,
    **train_kwargs, **cell's training arguments)``, where ``net_cell`` is ``net`` with the cell's network
    arguments (``widths``, ``activation``, ``output``, ``init``, ``init_scale``, ``bias``). Every other grid
    parameter is a :func:`sims.train` argument (``epochs``, ``batch_size``, ``optimizer``, ``shuffle``, ...).

    Packing (``pack=True``): cells with the same non-member parameters form one run of ``ensemble * n_cells``
    members, in grid order; cell c's members are seed group c of that run (``seed`` a sequence,
    :func:`sims.train`): they draw their initial weights, minibatch orders, training noise and analysis noise
    from cell c's own generators in the order of cell c's own run, with cell c's learning rate and noise std
    (``lr`` and ``noise_std`` of shape (E,)). A packed cell therefore equals its own run to rounding (tested to
    1e-12, with shuffling and noise). Cells that differ in ``init_scale`` build different networks; they are
    packed only when training is deterministic given the initial weights (``shuffle=False`` and no training
    noise), with each cell's own initial weights passed as ``params`` (then equal to rounding as well); otherwise
    each ``init_scale`` is its own pack. The cache key does not depend on packing. With the parallel backends
    each group is split into as many packs as there are workers (so that all of them work); ``max_members`` caps
    the members of one run in any backend.

    Per-member data: ``data`` may be a mapping ``{name: Dataset}`` with a grid parameter ``"data"`` naming them
    (e.g. Shwartz-Ziv & Tishby's protocol, each cell its own random split of the 12-bit task); cells whose datasets
    have equal shapes and the same analysis set pack into one run with per-member data (:func:`sims.train`).

    Parameters
    ----------
    net : :class:`sims.MLP`, the base network.  data : the training data (a Dataset-like, as for sims.train), or
        a mapping of names to datasets (see above).
    grid : as for :func:`sweep`; parameter names from :data:`MEMBER_PARAMS`, :data:`NET_PARAMS` or sims.train.
    ensemble : networks per cell (the result's ``member`` dimension).
    measure : ``fn(run) -> dict or Dataset`` with the member axis FIRST in every variable (length
        ``run.ensemble``); called once per training run, split per cell. Default :func:`run_metrics`.
    pack : False trains every cell on its own.
    max_members : largest ensemble of one packed run (None: no cap).
    backend, address, n_workers, cache, progress, retries, retry_failed, blas_threads : as for :func:`sweep`.
    name : identity of ``measure`` in the cache keys (default: its module and qualified name).
    **train_kwargs : fixed sims.train arguments (not ``ensemble``, ``params``, ``progress``, ``checkpoint``).

    Returns
    -------
    xarray.Dataset as :func:`sweep`'s, each variable over (grid dims..., ``member``, measure's dims...).
    """
    from sims.mlp import MLP

    if not isinstance(net, MLP):
        raise TypeError(f"net must be a sims.MLP, got {type(net).__name__}")
    ensemble = checks.positive_int(ensemble, "ensemble")
    measure = run_metrics if measure is None else measure
    if not callable(measure):
        raise TypeError(f"measure must be callable, got {type(measure).__name__}")
    if max_members is not None:
        max_members = checks.positive_int(max_members, "max_members", minimum=ensemble)
    retries, blas_threads = _check_common(backend, address, retries, blas_threads)
    n_workers = _n_workers(n_workers, address)
    allowed = _train_arguments() | set(NET_PARAMS)
    for k in train_kwargs:
        if k in _NOT_IN_GRID:
            raise ValueError(f"{k}: set by sweep_train, not a training argument to pass")
        if k not in allowed:
            raise TypeError(f"sweep_train got an unexpected argument {k!r} (not a sims.train argument)")
    cells, layout = grid_cells(grid)
    named = isinstance(data, Mapping)
    if named:
        if not data or not all(isinstance(n, str) for n in data):
            raise ValueError("data: a mapping of datasets needs string names (and at least one dataset)")
        if "data" not in layout[1]:
            raise ValueError("data: a mapping of datasets needs a grid parameter 'data' naming them")
        for c in cells:
            if c["data"] not in data:
                raise ValueError(f"grid['data']: {c['data']!r} is not a name of the given datasets {sorted(data)}")
    for k in layout[1]:
        if k == "data" and named:
            continue
        if k in _NOT_IN_GRID:
            raise ValueError(f"grid[{k!r}]: set by sweep_train, cannot be swept")
        if k not in allowed:
            raise ValueError(f"grid[{k!r}]: not a network argument {NET_PARAMS}, a member parameter "
                             f"{MEMBER_PARAMS} or a sims.train argument")
        if k in train_kwargs:
            raise ValueError(f"{k}: given both in the grid and as a fixed argument")
    for c in cells:
        s = c.get("seed", train_kwargs.get("seed", _train_default("seed")))
        checks.rng(s, "seed")                      # None / an int >= 0 / a Generator, else a named error
        if s is None or isinstance(s, np.random.Generator):
            raise ValueError(f"seed: sweep_train needs integer seeds >= 0 (they identify a cell), got {s!r}")
    fixed_net = {k: train_kwargs.pop(k) for k in NET_PARAMS if k in train_kwargs}
    net_spec = _cell_net(net.spec(), fixed_net).spec()
    name = _fn_name(measure) if name is None else str(name)
    data_id = {n: _data_hash(d) for n, d in sorted(data.items())} if named else _data_hash(data)
    signatures = {n: _pack_signature(n, d) for n, d in data.items()} if named else {}
    context = {"sweep_train": 1, "net": net_spec, "data": data_id, "ensemble": ensemble,
               "train": {k: _spec_value(v, k) for k, v in sorted(train_kwargs.items())}}
    keys = [cell_key(name, c, context) for c in cells]

    def make_tasks(todo):
        groups = {}
        for i in todo:
            c = cells[i]
            merged = {**train_kwargs, **c}
            stochastic = bool(merged.get("shuffle", _train_default("shuffle"))) or bool(
                np.any(np.asarray(merged.get("noise_std", 0.0)) > 0))
            key = {k: _jsonable(v) for k, v in c.items()
                   if k not in MEMBER_PARAMS or (k == "init_scale" and stochastic)}
            if "data" in c:
                key["data"] = signatures[c["data"]]
            g = json.dumps(key, sort_keys=True)
            groups.setdefault(g, []).append(i)
        plan = []
        for idx in groups.values():
            n_packs = 1 if pack else len(idx)
            if pack and backend != "local":
                n_packs = min(len(idx), n_workers or 1)
            if pack and max_members is not None:
                n_packs = max(n_packs, math.ceil(len(idx) * ensemble / max_members))
            bounds = np.linspace(0, len(idx), n_packs + 1).round().astype(int)
            for a, b in zip(bounds[:-1], bounds[1:]):
                part = idx[a:b]
                task = _PackTask(net_spec, data, [cells[i] for i in part], ensemble, train_kwargs, measure)
                plan.append((task, part))
        return plan

    if backend == "dask" and address is not None and n_workers is None:
        n_workers = _cluster_workers(address)
    results, n_cached = _run_cells(cells, keys, make_tasks, name=name, backend=backend, address=address,
                                   n_workers=n_workers, cache=cache, progress=progress, retries=retries,
                                   retry_failed=retry_failed, blas_threads=blas_threads)
    return _assemble(cells, layout, results, {"fn": name, "backend": backend, "n_cells": len(cells),
                                              "n_cached": n_cached})


def _cluster_workers(address):
    """Number of worker threads of the cluster at ``address``."""
    client, _ = _dask_client(address, None, 0)
    try:
        return max(1, sum(client.nthreads().values()))
    finally:
        client.close()
