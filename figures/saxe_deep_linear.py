"""Saxe et al. (2018) Fig. 18: the deep linear student (5 hidden layers x 50 units), from
:func:`experiments.deep_linear.fig18`: exact information plane and error curves."""
from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.colors import LogNorm

from experiments import deep_linear
from figures._infoplane import claim_line, error_panel, info_plane, legend_layers
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("saxe-fig18", "Saxe 2018 Fig. 18: deep linear network (5 hidden layers x 50), exact information plane "
                      "(no compression) and errors (overtraining)")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = deep_linear.fig18("full" if full else "quick")
    ds = res.data
    cfg = res.config
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    e = ds.epoch.values.clip(1)
    sc = info_plane(axes[0], ds, "exact", norm=LogNorm(1, e.max()))
    legend_layers(axes[0], loc="lower right")
    fig.colorbar(sc, ax=axes[0], label="epoch")
    axes[0].set_title("A  exact information plane (analysis noise variance 1)", fontsize=9)
    error_panel(axes[1], e, ds.error, "B  errors (mean ± sd over trials)")
    fig.suptitle(f"Deep linear student {cfg['n_in']}-" + "-".join([str(cfg["n_hidden"])] * cfg["depth"])
                 + f"-1, P = {cfg['n_train']} samples, SNR {cfg['snr']:g}, gradient descent lr {cfg['lr']:g}, "
                 f"init scale {cfg['init_scale']:g}, {len(ds.member)} trials", fontsize=9)
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=7,
             va="bottom")
    return attach_claims(fig, res.claims)
