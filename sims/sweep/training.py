"""Training sweeps of :mod:`sims.sweep`: :func:`sweep_train` (one :func:`sims.train` run per cell) and the packing
of cells that differ only in per-member settings into one ensemble run."""
from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np

from analytic import checks
from sims.sweep.backends import check_backend_options, cluster_workers, worker_count
from sims.sweep.core import run_cells
from sims.sweep.grid import cell_key, fn_name, grid_cells, jsonable, spec_value
from sims.sweep.results import CellResult, as_dataset, assemble, traceback_text

if TYPE_CHECKING:
    import xarray as xr

    from sims.mlp import MLP
    from sims.run import Run

__all__ = ["sweep_train", "run_metrics", "MEMBER_PARAMS", "NET_PARAMS"]

#: grid parameters of :func:`sweep_train` that may differ between the members of one ensemble run
MEMBER_PARAMS = ("lr", "seed", "init_scale", "noise_std", "data")
#: grid parameters of :func:`sweep_train` that build the network (``sims.MLP`` arguments)
NET_PARAMS = ("widths", "activation", "output", "init", "init_scale", "bias")
_NOT_IN_GRID = ("net", "data", "ensemble", "params", "progress", "checkpoint")


def run_metrics(run: Run) -> xr.Dataset:
    """The default ``measure`` of :func:`sweep_train`: train/test loss and accuracy of every member at every
    logged epoch, as a Dataset over (``member``, ``epoch``)."""
    import xarray as xr

    dims = ("member", "epoch")
    return xr.Dataset({f"{q}_{s}": (dims, getattr(run, "loss" if q == "loss" else "accuracy")[s])
                       for q in ("loss", "acc") for s in ("train", "test")},
                      coords={"epoch": ("epoch", run.epochs)})


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
        ds = as_dataset(self.measure(run), member_first=True)
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
                return [CellResult(error=traceback_text(exc), seconds=time.perf_counter() - t0)]
            parts = None
        if parts is None:   # outside the handler, so that a cell's traceback does not chain the pack's
            return [r for c in self.cells for r in
                    _PackTask(self.net_spec, self.data, [c], self.ensemble, self.train_kwargs, self.measure).run()]
        dt = (time.perf_counter() - t0) / len(self.cells)
        return [CellResult(ds=p, seconds=dt) for p in parts]


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
    have equal shapes and the same analysis set pack into one run with per-member data (:func:`sims.train`), which
    stores each distinct dataset once: the ``ensemble`` members of a cell share its copy.

    Parameters
    ----------
    net : :class:`sims.MLP`, the base network.  data : the training data (a Dataset-like, as for sims.train), or
        a mapping of names to datasets (see above).
    grid : as for :func:`~sims.sweep.core.sweep`; parameter names from :data:`MEMBER_PARAMS`, :data:`NET_PARAMS` or
        sims.train.
    ensemble : networks per cell (the result's ``member`` dimension).
    measure : ``fn(run) -> dict or Dataset`` with the member axis FIRST in every variable (length
        ``run.ensemble``); called once per training run, split per cell. Default :func:`run_metrics`.
    pack : False trains every cell on its own.
    max_members : largest ensemble of one packed run (None: no cap).
    backend, address, n_workers, cache, progress, retries, retry_failed, blas_threads : as for
        :func:`~sims.sweep.core.sweep`.
    name : identity of ``measure`` in the cache keys (default: its module and qualified name).
    **train_kwargs : fixed sims.train arguments (not ``ensemble``, ``params``, ``progress``, ``checkpoint``).

    Returns
    -------
    xarray.Dataset as :func:`~sims.sweep.core.sweep`'s, each variable over (grid dims..., ``member``, measure's
    dims...).
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
    retries, blas_threads = check_backend_options(backend, address, retries, blas_threads)
    n_workers = worker_count(n_workers, address)
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
    name = fn_name(measure) if name is None else str(name)
    data_id = {n: _data_hash(d) for n, d in sorted(data.items())} if named else _data_hash(data)
    signatures = {n: _pack_signature(n, d) for n, d in data.items()} if named else {}
    context = {"sweep_train": 1, "net": net_spec, "data": data_id, "ensemble": ensemble,
               "train": {k: spec_value(v, k) for k, v in sorted(train_kwargs.items())}}
    keys = [cell_key(name, c, context) for c in cells]

    def make_tasks(todo):
        groups = {}
        for i in todo:
            c = cells[i]
            merged = {**train_kwargs, **c}
            stochastic = bool(merged.get("shuffle", _train_default("shuffle"))) or bool(
                np.any(np.asarray(merged.get("noise_std", 0.0)) > 0))
            key = {k: jsonable(v) for k, v in c.items()
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
                # a pack carries only the datasets of its cells (the parallel backends pickle every task)
                pack_data = data if not named else {n: data[n] for n in dict.fromkeys(cells[i]["data"] for i in part)}
                task = _PackTask(net_spec, pack_data, [cells[i] for i in part], ensemble, train_kwargs, measure)
                plan.append((task, part))
        return plan

    if backend == "dask" and address is not None and n_workers is None:
        n_workers = cluster_workers(address)
    results, n_cached = run_cells(cells, keys, make_tasks, name=name, backend=backend, address=address,
                                   n_workers=n_workers, cache=cache, progress=progress, retries=retries,
                                   retry_failed=retry_failed, blas_threads=blas_threads)
    return assemble(cells, layout, results, {"fn": name, "backend": backend, "n_cells": len(cells),
                                              "n_cached": n_cached})
