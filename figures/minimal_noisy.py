"""Noisy version of Saxe's minimal model: exact I(X; f(wX) + Z) for four activations and two noise levels."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.scalar_channel import linear_noisy_mi, relu_large_w_noisy_mi, saturating_large_w_limit
from analytic.units import to_bits
from experiments.minimal_runs import NOISE_STDS, noisy_curves
from figures._registry import figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("minimal-noisy", "Exact noisy I(X; f(wX) + Z) in bits vs w for tanh, relu, sigmoid, linear at noise std "
                         "0.01 and 0.1 (X ~ N(0,1)), with the linear closed form and the large-w limits")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    curves = noisy_curves(full)                                  # computed once, cached (IBT_CACHE_DIR)
    w = curves.w.values
    w_line = np.geomspace(1e-2, 1e2, 400)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), sharey=True)
    colors = {"tanh": "C0", "relu": "C1", "sigmoid": "C2", "linear": "k"}
    for ax, s in zip(axes, NOISE_STDS):
        for name, c in colors.items():
            i = to_bits(curves.mi.sel(activation=name, noise_std=s).values)
            ax.plot(w[1:], i[1:], "o" if name == "linear" else "o-", color=c, ms=3.5, lw=1.5,
                    mfc="none" if name == "linear" else c, label=f"{name} (quadrature)")
        ax.plot(w_line, to_bits(linear_noisy_mi(w_line, s)), color="k", lw=1, ls="--",
                label="linear closed form 1/2 log2(1 + w^2/s^2)")
        ax.axhline(to_bits(saturating_large_w_limit("tanh", s)), color="C0", ls=":", lw=1,
                   label="tanh, w -> inf: two-point channel")
        ax.plot(w_line[w_line > 3], to_bits(relu_large_w_noisy_mi(w_line[w_line > 3], s)), color="C1", ls=":",
                lw=1, label="relu, w -> inf: 1/2 log2(2w/s)")
        ax.set_xscale("log")
        ax.set_xlabel("weight w")
        ax.set_title(f"noise std s = {s:g}")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("I(X; f(wX) + Z)  [bits]")
    axes[0].legend(fontsize=7.5, loc="upper left")
    fig.suptitle("Exact noisy information of the scalar Gaussian minimal model (Z ~ N(0, s^2))", fontsize=10)
    fig.tight_layout()
    return fig
