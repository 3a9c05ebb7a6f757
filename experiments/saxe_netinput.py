r"""Saxe et al. (2018), Figs. 13-15 (App. C): binning in net-input space, and machine-precision binning.

From the cached runs of :func:`experiments.saxe2018.fig1` (no training; the activity and the pre-activations are
recomputed from the recorded parameters one logged epoch at a time, :func:`experiments.saxe_histograms.epoch_activity`):

* **net-input binning**: every unit's net input u = h_{l-1} W_l + b_l is binned with ``n`` edges equally spaced
  on [-50, 50] (:data:`NET_EDGES`; the exact-arithmetic form of Saxe's edges ``tanh(linspace(-50, 50, n))`` on the
  activity, :func:`analytic.binning.net_input_edges`: a monotone f maps bins of u one-to-one to bins of f(u)), and
  I(X;T), I(T;Y) are the binned quantities of :func:`sims.estimators.binned` over all 4096 patterns. A saturating
  tanh no longer merges inputs whose net inputs differ, so the compression seen with bins on [-1, 1] disappears.
* **machine-precision binning**: every distinct float64 value is a bin of its own (``binned(width=2**-1022)``:
  division by a power of two is exact, so distinct values stay distinct). T is then (almost surely) an injective
  function of the 4096 patterns, and I(X;T) = log2 4096 = 12 bits at every epoch: no compression at all.

Dataset: ``i_xt_netN``, ``i_ty_netN`` for each N in :data:`NET_EDGES`, ``i_xt_machine``, ``i_ty_machine``
(member, epoch, layer; nats).

Claims, for tanh, for each N: with net-input binning the last hidden layer (the one that compresses with bins on
[-1, 1], :func:`experiments.saxe2018.fig1`) does not compress, and no hidden layer does (largest compression over
the hidden layers), each below :data:`experiments.common.THRESHOLD_BITS`; with machine precision I(X;T) of every
hidden layer stays at 12 bits (its smallest value over epochs and hidden layers, per member, above 11.99 bits).
ReLU's smallest machine-precision value is reported beside it: its exact zeros merge patterns, so it is not pinned.
"""
from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import xarray as xr

from analytic.units import to_bits
from experiments.claims import Claim
from experiments.common import combine, compression_claim, hidden_layers, twelve_bits
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.saxe_histograms import epoch_activity
from sims import datasets
from sims.estimators import binned

__all__ = ["NET_EDGES", "NET_LIM", "MACHINE_WIDTH", "netinput_planes", "figs13_15"]

PAPER = "Saxe et al. 2018"
LAST_HIDDEN = 5
#: Numbers of edges equally spaced in net input on [-NET_LIM, NET_LIM].
NET_EDGES = (30, 100)
NET_LIM = 50.0
#: Bin width of machine-precision binning: the smallest normal float64 (every distinct value its own bin).
MACHINE_WIDTH = 2.0 ** -1022


def netinput_planes(ds: xr.Dataset) -> xr.Dataset:
    """Net-input and machine-precision information planes (module docstring) of one cached 12-bit Dataset."""
    M, L, n = ds.sizes["member"], ds.sizes["epoch"], ds.sizes["layer"]
    names = [f"net{N}" for N in NET_EDGES] + ["machine"]
    out = {k: (np.zeros((M, L, n)), np.zeros((M, L, n))) for k in names}
    cfg = json.loads(ds.attrs["config"])
    y = np.asarray(datasets.tishby_12bit(train_fraction=cfg["train_fraction"], seed=cfg["seed"]).y_analysis)
    for i, acts, pre in epoch_activity(ds):
        for l in range(n):
            for N in NET_EDGES:
                ix, iy = binned(pre[l], y, edges=np.linspace(-NET_LIM, NET_LIM, N))
                out[f"net{N}"][0][:, i, l], out[f"net{N}"][1][:, i, l] = ix, iy
            ix, iy = binned(acts[l], y, width=MACHINE_WIDTH)
            out["machine"][0][:, i, l], out["machine"][1][:, i, l] = ix, iy
    dv = {}
    for k, (ix, iy) in out.items():
        dv[f"i_xt_{k}"] = (("member", "epoch", "layer"), ix, {"units": "nats"})
        dv[f"i_ty_{k}"] = (("member", "epoch", "layer"), iy, {"units": "nats"})
    coords = {c: ds.coords[c] for c in ("member", "epoch", "layer", "layer_name")}
    return xr.Dataset(dv, coords=coords, attrs=dict(ds.attrs))


@experiment("saxe-fig13-15", "Saxe 2018 Figs. 13-15: binning in net-input space and at machine precision, tanh and "
            "ReLU 12-bit networks (no compression)", PAPER)
def figs13_15(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any
              ) -> ExperimentResult:
    """Net-input and machine-precision binning of :func:`experiments.saxe2018.fig1`'s cached runs (module
    docstring). Claims: tanh does not compress in net-input space; at machine precision its I(X;T) = 12 bits
    throughout."""
    check_scale(scale)
    parts = {}
    for a, base in twelve_bits({a: (a, overrides) for a in ("tanh", "relu")}, scale, verbose).items():
        key = {"from": json.loads(base.attrs["config"]), "net_edges": list(NET_EDGES), "lim": NET_LIM,
               "machine_width": MACHINE_WIDTH}
        parts[a] = cached("12bit-netinput", key, lambda ck, base=base: netinput_planes(base), scale=scale,
                          verbose=verbose).data
    ds = combine(parts, "activation")
    tanh = ds.sel(activation="tanh")
    claims = []
    for N in NET_EDGES:
        for layers, what in (([LAST_HIDDEN], "the last hidden layer (which compresses with bins on [-1, 1]) does "
                              "not compress"), (hidden_layers(ds), "no hidden layer compresses")):
            claims.append(compression_claim(tanh, f"i_xt_net{N}", layers, compresses=False, paper=PAPER,
                                            figure="Figs. 13-14", experiment="saxe-fig13-15",
                                            statement=f"tanh, binning in net-input space ({N} edges on [-50, 50]): "
                                            + what))
    v = {a: to_bits(ds.i_xt_machine.sel(activation=a, layer=hidden_layers(ds)).values).min(axis=(1, 2))
         for a in ("tanh", "relu")}                                   # per member: smallest over epochs, layers
    claims.append(Claim.measured(PAPER, "Fig. 15", "tanh, machine-precision binning: I(X;T) of every hidden layer "
                                 "stays at log2 4096 = 12 bits", v["tanh"], ">", 11.99,
                                 quantity="smallest I(X;T) over epochs and hidden layers (bits)",
                                 experiment="saxe-fig13-15",
                                 numbers={"relu_smallest_bits": v["relu"],
                                          "relu_note": "ReLU's exact zeros merge patterns even at machine precision"}))
    return ExperimentResult("saxe-fig13-15", scale, ds, claims)
