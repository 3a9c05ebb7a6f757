"""Parameter sweeps: a function over a grid of settings, serially, on local processes or on a Dask cluster.

:func:`~sims.sweep.core.sweep` runs ``fn(**cell)`` for every cell of a grid and returns one :class:`xarray.Dataset`
indexed by the grid's parameters. :func:`~sims.sweep.training.sweep_train` is the same for training runs of
:func:`sims.train`, and packs cells that differ only in per-member settings into one ensemble run (the ensemble axis
is the simulator's speed; BENCHMARKS.md measures what packing gains).

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
A cell that raises does not stop the sweep: its variables are NaN (integers and booleans become floats, strings empty)
and the ``error`` variable holds its traceback ("" for cells that succeeded); ``attrs["n_failed"]`` counts them. With
``cache=folder`` each finished cell is written at once, atomically, to ``folder/<key>.npz``, where ``key`` is the
SHA-256 of the cell's configuration (the function's module-qualified name, or ``name=``, and the cell's parameters;
:func:`~sims.sweep.grid.cell_key`). A rerun loads the cells found there instead of running them (resume), and reruns
recorded failures unless ``retry_failed=False``. The files are written by the calling process, so Dask workers on
other machines need no shared file system. A cell whose worker process dies (killed, out of memory, ``os._exit``) is
run again, up to ``retries`` times, then recorded as failed: ``"processes"`` reruns each cell that was in flight when
a process died alone in a fresh process (so that the death is blamed on its cell), ``"dask"`` leaves the count to the
scheduler (``distributed.scheduler.allowed-failures``, set to ``retries`` on the clusters this package starts;
exceeding it raises ``KilledWorker``, recorded as the cell's error). The scheduler counts a death against every cell
assigned to the dying worker, running or queued there, so keep ``retries`` at 2 or more.

The cache key names the function, not its code: after changing what ``fn`` computes, pass a new ``name=`` (or a new
folder), or stale results are reused. A lambda needs ``name=`` to use a cache. The bound arguments of a
:func:`functools.partial` are part of its name.

Backends
--------
``"local"``: a loop in this process. ``"processes"``: :class:`concurrent.futures.ProcessPoolExecutor` with
``n_workers`` processes (default: the CPU count), started from a fork server (spawned where there is none), so
``fn`` must be importable or, with cloudpickle installed, defined anywhere; the fork server (one per Python process)
is told to preload this package, which halves the pool's start-up (measured 3 s against 6 s on the shared 2-core
machine). ``"dask"``: :mod:`dask.distributed`, on a fresh ``LocalCluster`` of ``n_workers``
single-threaded worker processes, or on the scheduler at ``address`` (``"tcp://host:8786"``) of an existing cluster
(the same code then runs on a laptop and on a cluster; install with ``pip install "ibtoolkit[distributed]"``). In the
parallel backends each cell runs with ``blas_threads`` BLAS/OpenMP threads (default 1, so that workers do not
oversubscribe the cores). On a cluster of your own, start the workers with ``MALLOC_TRIM_THRESHOLD_=134217728``
in their environment: distributed's default (65536) makes the simulator's NumPy temporaries a fresh ``mmap`` each
and training 2.1x slower (:func:`~sims.sweep.backends.local_cluster`, which ``backend="dask"`` uses, does this itself).

Modules
-------
:mod:`sims.sweep.grid` (grids, cell keys), :mod:`sims.sweep.results` (a cell's result, the assembled Dataset),
:mod:`sims.sweep.cache` (per-cell files), :mod:`sims.sweep.backends` (local, processes, Dask; retries),
:mod:`sims.sweep.core` (:func:`~sims.sweep.core.sweep` and the loop over cells), :mod:`sims.sweep.training`
(:func:`~sims.sweep.training.sweep_train` and packing). Import the public names from here:
``from sims.sweep import sweep, sweep_train, local_cluster, grid_cells, cell_key, run_metrics``.

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
from sims.sweep.backends import BACKENDS, local_cluster
from sims.sweep.core import sweep
from sims.sweep.grid import cell_key, grid_cells
from sims.sweep.training import MEMBER_PARAMS, NET_PARAMS, run_metrics, sweep_train

__all__ = ["sweep", "sweep_train", "local_cluster", "grid_cells", "cell_key", "run_metrics", "MEMBER_PARAMS",
           "NET_PARAMS", "BACKENDS"]
