"""What a cell returns, as :mod:`sims.sweep` handles it: a cell's value as an :class:`xarray.Dataset` (the contract
in :mod:`sims.sweep`), its outcome (result or traceback), and the assembly of all cells into one Dataset indexed by
the grid."""
from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

__all__: list[str] = []


def as_dataset(out: Any, member_first: bool = False) -> xr.Dataset:
    """A cell's return value as an xarray Dataset (the contract in :mod:`sims.sweep`); TypeError when it cannot
    be one."""
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


class CellResult:
    """Outcome of one cell: ``ds`` (an xarray Dataset) or ``error`` (traceback text); ``seconds`` of work."""

    __slots__ = ("ds", "error", "seconds")

    def __init__(self, ds: xr.Dataset | None = None, error: str | None = None, seconds: float = 0.0) -> None:
        self.ds, self.error, self.seconds = ds, error, seconds


def traceback_text(exc: BaseException) -> str:
    """The formatted traceback of ``exc`` (what a failed cell records)."""
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def assemble(cells: list[dict], layout: tuple, results: list[CellResult], attrs: dict) -> xr.Dataset:
    """One Dataset from the per-cell results (the contract in :mod:`sims.sweep`)."""
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
