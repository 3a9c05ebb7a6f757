"""Goldfeld et al. (2019), single tanh neuron: exact I(X;T) during training passes the cluster levels.

X uniform on {-3, -1, 1, 3}, label +1 only for X = 3, T = tanh(wX + b) + Z with noise std 0.05, w = b = 0 init,
1/2-MSE. Top: exact I(X;T) (Gauss-Hermite, ~1e-14 nats) under population gradient flow (the small-lr limit of
full-batch gradient descent, lr 1e-3: epoch = t / lr), with the cluster levels ln 4, 1.5 ln 2, ln 2, H(1/4,3/4).
Bottom: the density of T over epochs. ``full=True`` adds a discrete full-batch gradient-descent run (lr 0.1,
drawn at lr-equivalent epochs) on top of the flow.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.units import to_bits
from figures._registry import figure
from figures.kong import density_panel, level_lines
from minimal_models import SingleNeuron

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("goldfeld-single-neuron",
        "Goldfeld single tanh neuron: exact I(X;T) over training with cluster levels; density of T below")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    n = SingleNeuron(noise_std=0.05)
    lr = 1e-3
    run = n.train(10 ** 8, lr=lr, method="flow", log_epochs=600 if full else 300)
    fig, axes = plt.subplots(2, 1, figsize=(8.5, 7.5), sharex=True, gridspec_kw=dict(height_ratios=[1, 1.1]))
    ax = axes[0]
    x = np.where(run.epochs == 0, 0.5, run.epochs)
    ax.plot(x, to_bits(run.mi), lw=2, label=f"gradient flow (population GD, lr {lr:g})")
    if full:
        gd = n.train(10 ** 5, lr=0.1, method="gd", log_epochs=120)
        ax.plot(np.where(gd.epochs == 0, 0.5, gd.epochs * 0.1 / lr), to_bits(gd.mi), "o", ms=3, mfc="none",
                label="discrete GD, lr 0.1 (epochs x 100)")
    level_lines(ax, n)
    ax.set_xscale("log")
    ax.set_ylabel("exact I(X;T) (bits)")
    ax.set_title("T = tanh(wX + b) + Z, X uniform on {-3,-1,1,3}, label +1 only for X = 3; noise std 0.05,\n"
                 "w = b = 0 init, 1/2-MSE: I(X;T) rises to ln 4, sits at 1.5 ln 2 (-3, -1 merged), "
                 "settles at H(1/4,3/4)", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    density_panel(axes[1], run.epochs, run.t_grid, run.density, "T", cbar=False)
    axes[1].set_title("density of T over epochs (sqrt colour scale)", fontsize=9)
    fig.tight_layout()
    return fig
