"""An experiment's result: labelled data (an ``xarray.Dataset``) and the claims measured from it.

Axis order (the toolkit's convention): member, epoch, layer. Every information quantity is in nats inside the
Dataset (the claims are in bits, as the papers plot them). ``attrs`` hold the configuration (JSON text under
``"config"``). :meth:`ExperimentResult.save` writes one atomic ``.npz`` with per-array checksums (through
``sims.io.save_npz`` when available); :func:`load_result` verifies and restores it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from experiments.claims import Claim, claims_from_json, claims_to_json
from sims import io as _io

__all__ = ["ExperimentResult", "load_result", "RESULT_KIND", "RESULT_VERSION"]

RESULT_KIND = "ibtoolkit.experiment_result"
RESULT_VERSION = 1


@dataclass
class ExperimentResult:
    """``name`` of the experiment, ``scale``, ``data`` (xarray.Dataset), ``claims`` (list of :class:`Claim`),
    ``timing`` (seconds spent computing it, when it was computed)."""

    name: str
    scale: str
    data: xr.Dataset
    claims: list = field(default_factory=list)
    timing: dict = field(default_factory=dict)

    @property
    def config(self) -> dict:
        return json.loads(self.data.attrs.get("config", "{}"))

    def save(self, path: str | os.PathLike) -> Path:
        arrays, variables = {}, {}
        for kind, items in (("coord", self.data.coords.items()), ("var", self.data.data_vars.items())):
            for i, (name, da) in enumerate(items):
                key = f"{kind}{i}"
                arrays[key] = np.asarray(da.values)
                variables[key] = {"name": name, "dims": list(da.dims), "kind": kind,
                                  "attrs": {k: v for k, v in da.attrs.items()}}
        meta = {"name": self.name, "scale": self.scale, "variables": variables, "attrs": dict(self.data.attrs),
                "claims": claims_to_json(self.claims), "timing": self.timing}
        if hasattr(_io, "save_npz"):
            return _io.save_npz(path, arrays, meta, kind=RESULT_KIND, version=RESULT_VERSION)
        arrays["meta"] = np.array(json.dumps(meta))
        return _io.atomic_savez(path, **arrays)


def load_result(path: str | os.PathLike) -> ExperimentResult:
    """Read an :class:`ExperimentResult` written by :meth:`ExperimentResult.save` (errors name the file)."""
    path = Path(path)
    if hasattr(_io, "load_npz"):
        arrays, meta = _io.load_npz(path, kind=RESULT_KIND, version=RESULT_VERSION)
    else:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as exc:
            raise ValueError(f"{path}: not a readable experiment result ({exc})") from exc
        if "meta" not in arrays:
            raise ValueError(f"{path}: not an experiment result (no meta)")
        meta = json.loads(str(arrays.pop("meta")))
    coords, data_vars = {}, {}
    for key, v in meta["variables"].items():
        if key not in arrays:
            raise ValueError(f"{path}: array {key} ({v['name']}) is missing")
        target = coords if v["kind"] == "coord" else data_vars
        target[v["name"]] = xr.Variable(v["dims"], arrays[key], attrs=v["attrs"])
    ds = xr.Dataset(data_vars, coords=coords, attrs=meta["attrs"])
    return ExperimentResult(meta["name"], meta["scale"], ds, claims_from_json(meta["claims"]), meta.get("timing", {}))
