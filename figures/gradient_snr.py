"""Gradient mean and noise per layer over training: Tishby's drift-to-diffusion picture (Saxe et al. Figs. 20-21)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from figures._infoplane import LAYER_COLOURS
from figures._registry import figure
from experiments.gradient_snr import twelve_bit_snr
from sims.gradient_snr import linear_111_snr

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _norm_panel(ax, g, title, colors, widths=None):
    s = g.summary()
    keep = g.epochs > 0
    ep = g.epochs[keep]
    widths = widths or [1.5] * g.n_layers
    for l in range(g.n_layers):
        name = f"hidden {l + 1}" if l < g.n_layers - 1 else "output"
        ax.plot(ep, s["mean_norm"][keep, l], "-", color=colors[l], lw=widths[l], label=name)
        ax.plot(ep, s["std_norm"][keep, l], "--", color=colors[l], lw=widths[l] * 0.8)
    ax.plot([], [], "k-", label="||mean||")
    ax.plot([], [], "k--", label="||std||")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm (weights)")
    ax.set_title(title, fontsize=10)


@figure("gradient-snr", "Saxe Figs. 20-21: per-layer gradient ||mean|| and ||std|| over training (tanh, ReLU, "
                        "linear on the 12-bit task; 1-1-1 linear net, SGD vs BGD)")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    if full:  # reference settings (Saxe et al. 2018, Sec. 2 and Fig. 21): Adam 4e-4, 5 networks; 1-1-1 net n = 100, lr 1e-3
        twelve = dict(epochs=5000, ensemble=5, lr=4e-4, log_epochs=120)
        lin = dict(n_samples=100, lr=1e-3, init_std=0.1, log_epochs=80)
        lin_epochs = {"sgd": 300, "bgd": 30000}
    else:  # quick: 5x the learning rate, 3 networks, 80 epochs; 1-1-1 net n = 20, lr 1e-2
        twelve = dict(epochs=80, ensemble=3, lr=2e-3, log_epochs=30)
        lin = dict(n_samples=20, lr=1e-2, init_std=0.1, log_epochs=30)
        lin_epochs = {"sgd": 150, "bgd": 3000}

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.6))
    colors6 = LAYER_COLOURS                        # six distinguishable colours, one per weight layer
    for ax, act, name in zip(axes[0], ("tanh", "relu", "linear"), ("tanh", "ReLU", "linear")):
        g, _ = twelve_bit_snr(act, **twelve)
        alive = g.trained()
        dead = f", {(~alive).sum()} died" if (~alive).any() else ""
        _norm_panel(ax, g.select(alive), f"{'ABC'[('tanh', 'relu', 'linear').index(act)]}  12-bit task, {name}: "
                    f"median of {alive.sum()} nets{dead}\n(Adam lr {twelve['lr']:g}, batch 256)", colors6)
    axes[0, 0].legend(fontsize=7, ncol=2, loc="lower left")

    colors2 = ["tab:blue", "tab:orange"]
    widths2 = [3.5, 1.5]  # the two layers nearly coincide (w1 = w2 stays balanced): layer 1 drawn wider
    runs = {m: linear_111_snr(m, epochs=lin_epochs[m], **lin) for m in ("sgd", "bgd")}
    _norm_panel(axes[1, 0], runs["sgd"], f"D  1-1-1 linear net, SGD (batch 1, lr {lin['lr']:g}, n = {lin['n_samples']})"
                "\nstatistics over the n updates of each epoch", colors2, widths2)
    _norm_panel(axes[1, 1], runs["bgd"], f"E  1-1-1 linear net, BGD (lr {lin['lr']:g}, n = {lin['n_samples']})\n"
                "statistics of the n per-sample gradients at the BGD weights", colors2, widths2)
    axes[1, 0].legend(fontsize=7, loc="lower left")

    ax = axes[1, 2]
    ax2 = ax.twinx()
    for m, c in zip(("sgd", "bgd"), ("tab:red", "tab:green")):
        g = runs[m]
        keep = g.epochs > 0
        ax.plot(g.time[keep], g.summary()["snr"][keep, 0], "-", color=c, lw=1.5,
                label=f"SNR w1, {m.upper()}")
        ax2.plot(g.time[keep], g.train_loss[0, keep], ":", color=c, lw=1.5, label=f"train loss, {m.upper()}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    snr_all = np.concatenate([runs[m].summary()["snr"][runs[m].epochs > 0, 0] for m in ("sgd", "bgd")])
    snr_all = snr_all[np.isfinite(snr_all) & (snr_all > 0)]
    ax.set_ylim(snr_all.min() / 2, snr_all.max() * 2)            # every SNR value inside the axis
    ax.set_xlabel("time lr x (sample gradients used) / n")
    ax.set_ylabel("SNR = ||mean|| / ||std||")
    ax2.set_ylabel("training loss (mse)")
    ax.set_title("F  1-1-1 net: the SNR collapses at convergence,\nwith (SGD) or without (BGD) gradient noise",
                 fontsize=10)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig
