r"""Saxe et al. (2018), Figs. 16-17: histograms of every layer's activity over training, tanh and ReLU.

From the cached runs of :func:`experiments.saxe2018.fig1` (no training): the activity of every layer on all 4096
12-bit patterns is recomputed from the recorded parameters, one logged epoch at a time (memory: one epoch's
activity of the ensemble, members x 4096 x 31 floats), and histogrammed over members, patterns and units:

* tanh (Fig. 16): 50 equal bins on [-1, 1]; the units saturate, the mass moving to the outer bins;
* ReLU (Fig. 17): 50 equal bins on [0, the layer's largest activity over the run]; the mass spreads to larger
  values (ReLU saturates on one side only, at 0).

Dataset: ``hist`` (activation, epoch, layer, bin): the fraction of the layer's values in each bin (sums to 1);
``bin_lo``, ``bin_hi`` (activation, layer, bin) the bin edges; ``saturated`` (activation, member, epoch, layer):
the fraction of a member's values with |h| >= 0.9 (tanh; for ReLU the fraction at exactly 0);
``p99`` (activation, member, epoch, layer): the 99th percentile of |h|.

Claims: tanh's last hidden layer saturates over training (Fig. 16: the fraction with |h| >= 0.9 grows by more
than :data:`SATURATION_RISE`); ReLU's last hidden layer grows rather than saturates (Fig. 17: its 99th percentile
ends larger than it starts: log2 of the ratio > 0).
"""
from __future__ import annotations

import json
from typing import Any, Iterator, Literal

import numpy as np
import xarray as xr

from experiments.claims import Claim
from experiments.common import combine, twelve_bits
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from sims import MLP, datasets

__all__ = ["epoch_activity", "histograms", "figs16_17", "N_BINS", "SATURATION_RISE"]

PAPER = "Saxe et al. 2018"
LAST_HIDDEN = 5
#: Histogram bins per layer.
N_BINS = 50
#: tanh "saturates" when the fraction of last-hidden-layer values with |h| >= 0.9 grows by more than this.
SATURATION_RISE = 0.1


def epoch_activity(ds: xr.Dataset) -> Iterator[tuple[int, list, list]]:
    """For a cached 12-bit Dataset (recorded ``params``), yield per logged epoch ``(index, activities,
    net_inputs)``: lists over layers of (member, 4096, units) arrays on all patterns in file order; the net input
    of layer l is ``h_{l-1} W_l + b_l`` (the pre-activation), computed from the same forward pass."""
    cfg = json.loads(ds.attrs["config"])
    net = MLP(cfg["widths"], activation=cfg["activation"], init=cfg["init"], init_scale=cfg["init_scale"])
    data = datasets.tishby_12bit(train_fraction=cfg["train_fraction"], seed=cfg["seed"])
    x = np.asarray(data.x_analysis, float)
    params = ds.params.values                                          # (member, epoch, P)
    for i in range(params.shape[1]):
        views = net.views(np.ascontiguousarray(params[:, i]))
        acts = net.forward(views, x)
        pre = [(x if l == 0 else acts[l - 1]) @ W + b[:, None, :] for l, (W, b) in enumerate(views)]
        yield i, acts, pre


def histograms(ds: xr.Dataset) -> xr.Dataset:
    """The histograms of the module docstring for one cached 12-bit Dataset (two passes for ReLU's range)."""
    act = json.loads(ds.attrs["config"])["activation"]
    n = ds.sizes["layer"] - 1                                          # hidden layers only
    M, L = ds.sizes["member"], ds.sizes["epoch"]
    if act == "tanh":
        lo, hi = np.full(n, -1.0), np.full(n, 1.0)
    else:
        lo, hi = np.zeros(n), np.zeros(n)
        for _, acts, _ in epoch_activity(ds):
            hi = np.maximum(hi, [a.max() for a in acts[:n]])
        hi = np.where(hi > 0, hi, 1.0)
    hist = np.zeros((L, n, N_BINS))
    sat, p99 = np.zeros((M, L, n)), np.zeros((M, L, n))
    for i, acts, _ in epoch_activity(ds):
        for l, a in enumerate(acts[:n]):
            h, _ = np.histogram(a, bins=N_BINS, range=(lo[l], hi[l]))
            hist[i, l] = h / a.size
            flat = np.abs(a.reshape(M, -1))
            sat[:, i, l] = (flat >= 0.9).mean(1) if act == "tanh" else (flat == 0).mean(1)
            p99[:, i, l] = np.percentile(flat, 99, axis=1)
    edges = np.linspace(0, 1, N_BINS + 1)
    b_lo = lo[:, None] + (hi - lo)[:, None] * edges[None, :-1]
    b_hi = lo[:, None] + (hi - lo)[:, None] * edges[None, 1:]
    coords = {"member": ds.member.values, "epoch": ds.epoch.values, "layer": ds.layer.values[:n],
              "layer_name": ("layer", ds.layer_name.values[:n]), "bin": np.arange(N_BINS)}
    out = xr.Dataset({"hist": (("epoch", "layer", "bin"), hist), "bin_lo": (("layer", "bin"), b_lo),
                      "bin_hi": (("layer", "bin"), b_hi), "saturated": (("member", "epoch", "layer"), sat),
                      "p99": (("member", "epoch", "layer"), p99)}, coords=coords, attrs=dict(ds.attrs))
    return out


@experiment("saxe-fig16-17", "Saxe 2018 Figs. 16-17: histograms of each hidden layer's activity over training, "
            "tanh (saturates to +-1) and ReLU", PAPER)
def figs16_17(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any
              ) -> ExperimentResult:
    """Histograms from :func:`experiments.saxe2018.fig1`'s cached runs (module docstring). Claims: tanh's last
    hidden layer saturates; ReLU's grows (its 99th percentile ends above its start)."""
    check_scale(scale)
    parts = {}
    for a, base in twelve_bits({a: (a, overrides) for a in ("tanh", "relu")}, scale, verbose).items():
        key = {"from": json.loads(base.attrs["config"]), "histograms": N_BINS}
        parts[a] = cached("12bit-hist", key, lambda ck, base=base: histograms(base), scale=scale,
                          verbose=verbose).data
    ds = combine(parts, "activation")
    t = ds.sel(activation="tanh", layer=LAST_HIDDEN)
    r = ds.sel(activation="relu", layer=LAST_HIDDEN)
    rise = t.saturated.isel(epoch=-1).values - t.saturated.isel(epoch=0).values
    growth = np.log2(r.p99.isel(epoch=-1).values / r.p99.isel(epoch=0).values)
    claims = [
        Claim.measured(PAPER, "Fig. 16", "tanh: the last hidden layer saturates over training (the fraction of its "
                       "values with |h| >= 0.9 grows)", rise, ">", SATURATION_RISE,
                       quantity="fraction |h| >= 0.9, end − start", experiment="saxe-fig16-17",
                       numbers={"start": t.saturated.isel(epoch=0).values, "end": t.saturated.isel(epoch=-1).values}),
        Claim.measured(PAPER, "Fig. 17", "ReLU: the last hidden layer's activity grows instead of saturating (99th "
                       "percentile of h grows from start to end)", growth, ">", 0.0,
                       quantity="log2(99th percentile of h, end / start)",
                       experiment="saxe-fig16-17",
                       numbers={"fraction_at_zero_start": r.saturated.isel(epoch=0).values,
                                "fraction_at_zero_end": r.saturated.isel(epoch=-1).values}),
    ]
    return ExperimentResult("saxe-fig16-17", scale, ds, claims)
