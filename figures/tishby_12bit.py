"""Information planes of the 12-bit task (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018, Fig. 1 A-B).

Runs and estimates come from :func:`sims.info_plane.twelve_bit_info_planes`; this module only draws.
Default (``full=False``, for ``make figures``): 2 networks, 100 epochs, 15 logged epochs; KDE for network 0 at
every 5th logged epoch and the last. ``full=True``: the paper scale, 50 networks, 8000 epochs, ~200 logged epochs; KDE for
networks 0-4 at every logged epoch (tens of minutes).
"""
from __future__ import annotations

from figures._registry import figure
from sims.info_plane import twelve_bit_info_planes
from sims.plotting import plot_info_plane


def _draw(activation, full):
    import matplotlib.pyplot as plt

    if full:
        cfg = dict(epochs=8000, ensemble=50, log_epochs=None, kde_members=range(5), kde_every=1)
    else:
        cfg = dict(epochs=100, ensemble=2, log_epochs=15, kde_members=(0,), kde_every=5)
    res = twelve_bit_info_planes(activation, **cfg)
    run = res["run"]
    acc = run.accuracy["test"][:, -1].mean()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    bins = "30 edges on [−1, 1]" if activation == "tanh" else "100 bins, min–max over the run"
    plot_info_plane(res["binned"], ax=axes[0], spread=False,
                    title=f"(a) binning ({bins}), mean of {run.ensemble} networks")
    plot_info_plane(res["kde"], ax=axes[1],
                    title=f"(b) KDE upper bound, noise variance 0.1, network {cfg['kde_members'][0]}"
                          + ("–4 (mean)" if full else ""))
    fig.suptitle(f"12-bit task, {activation} 12-10-7-5-4-3-2, Adam lr 4e-4, batch 256, {cfg['epochs']} epochs "
                 f"(test accuracy {acc:.2f}); I over all 4096 patterns", fontsize=11)
    fig.tight_layout()
    return fig


@figure("tishby-12bit-tanh", "Information plane of the 12-bit task, tanh: binned (Tishby's 30 bins) and KDE")
def draw_tanh(full: bool = False):
    return _draw("tanh", full)


@figure("tishby-12bit-relu", "Information plane of the 12-bit task, ReLU: binned (100 min-max bins) and KDE")
def draw_relu(full: bool = False):
    return _draw("relu", full)
