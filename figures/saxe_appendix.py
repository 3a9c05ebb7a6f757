"""Saxe et al. (2018) appendix figures on the 12-bit networks of Fig. 1: Figs. 13-15 (binning in net-input space
and at machine precision, :func:`experiments.saxe_netinput.figs13_15`) and Figs. 16-17 (histograms of every hidden
layer's activity over training, :func:`experiments.saxe_histograms.figs16_17`). Both are computed from the cached
runs' recorded parameters; no science here."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments import saxe_histograms, saxe_netinput
from figures._infoplane import LAYER_COLOURS, claim_line, info_plane, legend_layers, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _footer(fig, claims):
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in claims), fontsize=7, va="bottom")


@figure("saxe-fig13-15", "Saxe 2018 Figs. 13-15: tanh binned in net-input space (no compression) and I(X;T) at "
                         "machine precision (pinned at 12 bits)")
def draw_fig13_15(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = saxe_netinput.figs13_15("full" if full else "quick")
    ds = res.data
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained")
    e = ds.epoch.values.clip(1)
    norm = LogNorm(1, e.max())
    sc = None
    for ax, N, t in zip(axes[:2], saxe_netinput.NET_EDGES, "AB"):
        sc = info_plane(ax, ds.sel(activation="tanh"), f"net{N}", norm=norm, show_output=False)
        ax.set_title(f"{t}  tanh, {N} edges equally spaced in net input on [−50, 50]", fontsize=9)
    legend_layers(axes[0], loc="lower right", title=None)
    fig.colorbar(sc, ax=axes[:2], label="epoch", shrink=0.9)
    hidden = ds.sizes["layer"] - 1
    for a, ls in (("tanh", "-"), ("relu", "--")):
        v = to_bits(ds.i_xt_machine.sel(activation=a).values)
        for l in range(hidden):
            mean_band(axes[2], e, v[:, :, l], LAYER_COLOURS[l], f"{a}, layer {l + 1}", ls)
    axes[2].set_xscale("log")
    axes[2].set_xlabel("epoch")
    axes[2].set_ylabel("I(X;T) [bits]")
    axes[2].legend(fontsize=6, ncol=2)
    axes[2].set_title("C  machine-precision binning (each float its own bin)", fontsize=9)
    fig.suptitle(f"Saxe et al. 2018 Figs. 13–15 on the Fig. 1 networks ({ds.sizes['member']} per activation)",
                 fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.12, 1, 0.88))
    _footer(fig, res.claims)
    return attach_claims(fig, res.claims)


@figure("saxe-fig16-17", "Saxe 2018 Figs. 16-17: histograms of each hidden layer's activity over training, tanh "
                         "(saturating to ±1) and ReLU")
def draw_fig16_17(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = saxe_histograms.figs16_17("full" if full else "quick")
    ds = res.data
    n = ds.sizes["layer"]
    fig, axes = plt.subplots(2, n, figsize=(2.6 * n, 5.6), layout="constrained", squeeze=False)
    e = ds.epoch.values.clip(1)
    mesh = None
    for r, a in enumerate(("tanh", "relu")):
        d = ds.sel(activation=a)
        for l in range(n):
            ax = axes[r, l]
            lo, hi = d.bin_lo.values[l], d.bin_hi.values[l]
            edges = np.r_[lo, hi[-1]]
            h = np.where(d.hist.values[:, l] > 0, d.hist.values[:, l], np.nan)
            ep_edges = np.r_[e[0] * 0.8, np.sqrt(e[1:] * e[:-1]), e[-1] * 1.25]
            mesh = ax.pcolormesh(edges, ep_edges, h, norm=LogNorm(1e-4, 1), cmap="magma_r", shading="flat",
                                 rasterized=True)
            ax.set_yscale("log")
            ax.set_title(f"{a}, {d.layer_name.values[l]}", fontsize=8)
            ax.set_xlabel("activity h", fontsize=8)
            if l == 0:
                ax.set_ylabel("epoch", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.colorbar(mesh, ax=axes, label="fraction of values (members × patterns × units)", shrink=0.8)
    fig.suptitle(f"Saxe et al. 2018 Fig. 16 (tanh) and Fig. 17 (ReLU): activity histograms over training, "
                 f"{ds.sizes['member']} networks per activation", fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    _footer(fig, res.claims)
    return attach_claims(fig, res.claims, saturated_fraction_tanh_last_hidden=ds.saturated.sel(
        activation="tanh", layer=saxe_histograms.LAST_HIDDEN).values)
