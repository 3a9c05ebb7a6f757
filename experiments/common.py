"""Helpers shared by the experiment modules: scales, the cached 12-bit training, claims from compression."""
from __future__ import annotations

import json
from typing import Any, Literal, Sequence

import numpy as np
import xarray as xr

from analytic.units import to_bits
from experiments.claims import Claim
from experiments.compression import compression
from experiments.registry import cached, cached_many, check_scale
from experiments.twelve_bit import train_twelve_bit, twelve_bit_config

__all__ = ["TWELVE_BIT_SCALES", "THRESHOLD_BITS", "twelve_bit", "twelve_bits", "combine", "compression_bits",
           "compression_claim", "hidden_layers"]

#: Size of the 12-bit runs. quick: what ``make figures`` uses (chosen so that the full scale's verdicts already
#: hold); full: Shwartz-Ziv & Tishby's / Saxe et al.'s 50 networks, 8000 epochs, ~200 logged epochs, KDE every epoch.
TWELVE_BIT_SCALES = {"quick": dict(ensemble=5, epochs=2000, log_epochs=60, kde_every=3),
                     "full": dict(ensemble=50, epochs=8000, log_epochs=200, kde_every=1)}

#: A layer "compresses" when its mean compression (experiments.compression) exceeds this many bits, and "does not
#: compress" when it stays below it. 0.5 bit is far above the plateau noise of a 5-point mean of either estimator.
THRESHOLD_BITS = 0.5


def twelve_bit(activation: str, scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any
               ) -> xr.Dataset:
    """The (cached) 12-bit Dataset for ``activation`` at ``scale`` with configuration ``overrides``."""
    cfg = twelve_bit_config(activation, **{**TWELVE_BIT_SCALES[check_scale(scale)], **overrides})
    return cached("12bit", cfg, lambda ck: train_twelve_bit(cfg, ck, progress=verbose), scale=scale, verbose=verbose).data


def twelve_bits(runs: dict, scale: Literal["quick", "full"] = "quick", verbose: bool = False) -> dict:
    """Several cached 12-bit Datasets at once: ``runs`` maps a name to ``(activation, overrides)``; returns name ->
    Dataset, each the same as :func:`twelve_bit` gives, computed in the order of
    :func:`experiments.registry.cached_many` (stored first, then those no other process is computing)."""
    cfgs = {k: twelve_bit_config(a, **{**TWELVE_BIT_SCALES[check_scale(scale)], **o}) for k, (a, o) in runs.items()}
    jobs = [("12bit", cfg, lambda ck, cfg=cfg: train_twelve_bit(cfg, ck, progress=verbose)) for cfg in cfgs.values()]
    return {k: r.data for k, r in zip(cfgs, cached_many(jobs, scale=scale, verbose=verbose))}


def combine(datasets: dict, dim: str = "run") -> xr.Dataset:
    """Datasets of several trainings side by side along ``dim`` (outer join on epochs); configs in attrs."""
    names = list(datasets)
    ds = xr.concat([datasets[n].drop_attrs() if hasattr(datasets[n], "drop_attrs") else datasets[n]
                    for n in names], dim=dim, join="outer", combine_attrs="drop")
    ds = ds.assign_coords({dim: names})
    ds.attrs["configs"] = json.dumps({n: json.loads(datasets[n].attrs["config"]) for n in names}, sort_keys=True)
    ds.attrs["h_x"] = datasets[names[0]].attrs["h_x"]
    ds.attrs["h_y"] = datasets[names[0]].attrs["h_y"]
    return ds


def hidden_layers(ds: xr.Dataset) -> list:
    """Layer numbers of the hidden layers (all but the output)."""
    return [int(l) for l in ds.layer.values[:-1]]


def compression_bits(ds: xr.Dataset, var: str, layers: Sequence[int]) -> np.ndarray:
    """Per-member compression (bits) of ``var`` (e.g. ``"i_xt_binned"``), the largest over ``layers``;
    epochs where ``var`` was not evaluated (NaN, e.g. KDE) are skipped."""
    da = ds[var].sel(layer=list(layers))
    keep = ~np.isnan(da.values).all(axis=(0, 2))
    v = to_bits(da.values[:, keep, :])                            # (member, epoch, layer)
    c = compression(np.moveaxis(v, 1, -1), ds.epoch.values[keep])  # (member, layer)
    return c.max(axis=-1)


def compression_claim(ds: xr.Dataset, var: str, layers: Sequence[int], *, compresses: bool, paper: str, figure: str,
                      statement: str, experiment: str, numbers: dict | None = None) -> Claim:
    """A claim that ``layers`` of ``ds`` do (``compresses``) or do not compress, by :data:`THRESHOLD_BITS`."""
    vals = compression_bits(ds, var, layers)
    est = var.split("_")[-1]
    what = "layer " + str(layers[0]) if len(layers) == 1 else f"largest over layers {layers[0]}-{layers[-1]}"
    return Claim.measured(paper, figure, statement, vals, ">" if compresses else "<", THRESHOLD_BITS,
                          quantity=f"compression of {est} I(X;T), {what} (bits)", experiment=experiment,
                          numbers=numbers or {})
