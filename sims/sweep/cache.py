"""The per-cell result files of :mod:`sims.sweep`: ``folder/<key>.npz``, one per finished cell, written atomically by
:func:`sims.io.save_npz` (checksums and provenance) and read back on a rerun (resume)."""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np

from sims import io as sims_io
from sims.sweep.grid import jsonable
from sims.sweep.results import CellResult

__all__: list[str] = []

_CACHE_KIND, _CACHE_VERSION = "sweep-cell", 1


class CellCache:
    """One file per cell, ``folder/<key>.npz``: the result's variables and coordinates as arrays, plus JSON meta
    (parameters, dims, error), written by :func:`sims.io.save_npz` (atomic, with provenance and checksums)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def save(self, key: str, name: str, params: dict, res: CellResult) -> None:
        arrays, meta = {}, {"fn": name, "params": {k: jsonable(v) for k, v in params.items()},
                             "error": res.error, "seconds": res.seconds, "vars": {}, "coords": {}}
        if res.ds is not None:
            for kind, items in (("vars", res.ds.data_vars.items()), ("coords", res.ds.coords.items())):
                for i, (vname, var) in enumerate(items):
                    meta[kind][vname] = {"dims": list(var.dims), "array": f"{kind}_{i}", "attrs": _attrs(var.attrs)}
                    arrays[f"{kind}_{i}"] = np.asarray(var.values)
            meta["attrs"] = _attrs(res.ds.attrs)
        sims_io.save_npz(self.path(key), arrays, meta, kind=_CACHE_KIND, version=_CACHE_VERSION)

    def load(self, key: str) -> CellResult | None:
        """The cached :class:`CellResult`, or None when absent or unreadable (a warning names the file)."""
        import xarray as xr

        p = self.path(key)
        if not p.is_file():
            return None
        try:
            arrays, meta = sims_io.load_npz(p, kind=_CACHE_KIND, version=_CACHE_VERSION)
            if meta["error"] is not None:
                return CellResult(error=meta["error"], seconds=meta["seconds"])
            get = lambda kind: {n: xr.Variable(m["dims"], arrays[m["array"]], m["attrs"])  # noqa: E731
                                for n, m in meta[kind].items()}
            ds = xr.Dataset(get("vars"), coords=get("coords"), attrs=meta.get("attrs", {}))
            return CellResult(ds=ds, seconds=meta["seconds"])
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
