"""Shwartz-Ziv & Tishby (2017), Fig. 2: the 12-bit information plane under their own protocol, drawn from
:func:`experiments.shwartz_ziv.fig2` (binning with 50 edges as their code; full-batch Adam as TensorFlow 1)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments import shwartz_ziv
from figures._infoplane import LAYER_COLOURS, claim_line, info_plane, legend_layers, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("shwartz-ziv-fig2", "Shwartz-Ziv & Tishby 2017 Fig. 2 under their own protocol: 12-10-7-5-4-4-3-2 tanh, "
                            "full-batch Adam 2e-4 (TF1), each network its own split, 50 bins")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = shwartz_ziv.fig2("full" if full else "quick")
    ds = res.data
    cfg = res.config
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    e = ds.epoch.values.clip(1)
    sc = info_plane(axes[0], ds, "binned", norm=LogNorm(1, e.max()), show_output=False)
    legend_layers(axes[0], loc="lower right")
    fig.colorbar(sc, ax=axes[0], label="epoch (updates)")
    axes[0].set_title("A  information plane, hidden layers (bold: mean; faint: each network)", fontsize=9)
    i_xt = to_bits(ds.i_xt_binned.values)                       # (member, epoch, layer)
    for l in range(ds.sizes["layer"] - 1):
        mean_band(axes[1], e, i_xt[:, :, l], LAYER_COLOURS[l], str(ds.layer_name.values[l]))
    axes[1].set_xscale("log")
    axes[1].set_xlabel("epoch (updates)")
    axes[1].set_ylabel("binned I(X;T) [bits]")
    axes[1].legend(fontsize=7)
    axes[1].set_title("B  I(X;T) per hidden layer (mean ± sd over networks)", fontsize=9)
    fig.suptitle(f"Shwartz-Ziv & Tishby's protocol: {cfg['repeats']} networks, each its own 80/20 split, full-batch "
                 f"Adam (TF1) lr {cfg['lr']:g}, {cfg['epochs']} epochs; 50 edges on [−1, 1], 1.0 its own bin; "
                 f"I over all 4096 patterns", fontsize=9)
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=7,
             va="bottom")
    return attach_claims(fig, res.claims)
