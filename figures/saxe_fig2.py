"""Saxe et al. (2018) Fig. 2C-D: exact binned I(X;T) of the scalar Gaussian minimal model against the weight w."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.binning import net_input_edges, tishby_edges
from analytic.units import to_bits
from figures._registry import figure
from minimal_models import ScalarGaussian

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("saxe-fig2", "Saxe 2018 Fig. 2C-D: exact binned I(X;T) vs w for h = tanh(wX) (30 edges on [-1,1]) "
                     "and h = relu(wX) (100 equal bins between min and max activity); X ~ N(0,1)")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    w = np.linspace(0.0, 10.0, 20001 if full else 2001)
    tanh, relu = ScalarGaussian("tanh"), ScalarGaussian("relu")
    e_tishby = tishby_edges(30)
    e_net = net_input_edges("tanh", 30)
    e_relu = relu.activity_edges(w[:: max(1, w.size // 200)], n_bins=100)
    w_pk, i_pk = tanh.binned_mi_peak(e_tishby)

    fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_t.plot(w, to_bits(tanh.binned_mi(w, e_tishby)), color="C0", lw=2,
              label="tanh, 30 edges linspace(-1, 1, 30) (Tishby)")
    ax_t.plot(w, to_bits(ScalarGaussian("linear").binned_mi(w, np.linspace(-50, 50, 30))), color="C0", ls="--",
              lw=1.2, label="tanh, edges tanh(linspace(-50, 50, 30)): net-input bins, exact")
    ax_t.plot(w, to_bits(tanh.binned_mi(w, e_net)), color="C0", ls=":", lw=1.2,
              label=f"same edges rounded to float64 ({e_net.size - 1} distinct bins)")
    ax_t.plot([w_pk], [to_bits(i_pk)], "o", color="C3", ms=5,
              label=f"peak {to_bits(i_pk):.3f} bits at w = {w_pk:.4f}")
    ax_t.axhline(1.0, color="gray", ls=":", lw=1, label="w -> inf: 1 bit (sign of X)")
    ax_t.set_title("C: tanh (double-saturating): rises, then compresses")
    ax_r.plot(w, to_bits(relu.binned_mi(w, e_relu)), color="C1", lw=2,
              label=f"relu, 100 equal bins on [0, {e_relu[-1]:.1f}]\n(min/max activity, 4096 draws, w in [0, 10])")
    ax_t.set_ylim(0, 6.4)
    ax_r.set_title("D: ReLU (single-sided): rises monotonically")
    for ax in (ax_t, ax_r):
        ax.set_xlabel("weight w")
        ax.set_ylabel("I(X; T)  [bits]")
        ax.set_xlim(0, 10)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="upper right" if ax is ax_t else "lower right")
        ax.grid(alpha=0.3)
    fig.suptitle("Exact binned information of h = f(wX), X ~ N(0, 1) (no sampling); "
                 "outer bins extend to -+inf", fontsize=10)
    fig.tight_layout()
    return fig
