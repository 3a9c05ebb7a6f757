"""The MNIST CNN of the 2019 CNN thesis on the information plane by its two methods, concat and mean, drawn from
:mod:`experiments.cnn` (cached in ``IBT_CACHE_DIR``; claims under the panels and in ``NAME.json``)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments import cnn
from figures._infoplane import LAYER_COLOURS, claim_line, info_plane, legend_layers
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("cnn-thesis", "2019 CNN thesis: MNIST CNN, concat vs mean information planes (KDE) and their comparison")
def draw_cnn(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = cnn.thesis_cnn("full" if full else "quick")
    ds = res.data
    cfg = json.loads(ds.attrs["config"])
    fig, axes = plt.subplots(2, 2, figsize=(10, 8.8), layout="constrained")
    norm = LogNorm(1, max(2, int(ds.epoch.values.max())))
    for ax, m in zip(axes[0], ("concat", "mean")):
        sc = info_plane(ax, ds, m, norm=norm)
        ax.set_title(f"{m} method, KDE noise variance {cfg['kde_noise_var']:g}", fontsize=9)
        legend_layers(ax, loc="lower left")
    fig.colorbar(sc, ax=axes[0], label="epoch", shrink=0.9)
    ax = axes[1, 0]
    for l, name in enumerate(ds.layer_name.values):
        for m, ls in (("concat", "-"), ("mean", "--")):
            ax.plot(ds.epoch.values, to_bits(ds[f"i_xt_{m}"].values[0, :, l]), color=LAYER_COLOURS[l], ls=ls,
                    label=f"{name}" if m == "concat" else "_mean")
    ax.axhline(np.log2(cfg["n_analysis"]), color="k", lw=0.6, ls=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel("I(X;T) [bits]")
    ax.set_title("I(X;T) per layer: concat (solid), mean (dashed)\ndotted: log2 S, S = analysed images", fontsize=8)
    ax.legend(fontsize=6.5)
    ax = axes[1, 1]
    for split, c in (("train", "#1b9e77"), ("test", "#d95f02")):
        ax.plot(ds.epoch.values, ds.accuracy.sel(split=split).values[0], color=c, label=f"{split} accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    tun = json.loads(ds.attrs["noise_tuning"])
    ax.set_title("learning curves\nnoise variance at which the KDE entropy is log2 10: one-hot labels "
                 f"{tun['one_hot_labels']['noise_var']:.4f},\ntrained softmax output "
                 f"{tun['softmax_output']['noise_var']:.4f} (the thesis: {cnn.THESIS_NOISE_VAR})", fontsize=8)
    ax.legend(fontsize=7)
    f1, f2 = cfg["filters"]
    fig.suptitle(f"MNIST CNN conv{f1}-conv{f2}-pool-dense{cfg['dense']}-10, Adadelta, batch {cfg['batch_size']}, "
                 f"{cfg['epochs']} epochs on {cfg['n_train']} images; MI on {cfg['n_analysis']} test images",
                 fontsize=9)
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=6.5,
             va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.13, 1, 0.85))
    return attach_claims(fig, res.claims, noise_tuning=tun)
