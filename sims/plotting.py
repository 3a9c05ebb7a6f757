"""Plotting helpers for simulator results. Drawing only: every number comes from the result objects.

:func:`plot_info_plane` draws the classic information plane (Shwartz-Ziv & Tishby 2017, Fig. 3; Saxe et al. 2018,
Fig. 1): x = I(X;T), y = I(T;Y), both in bits, one trajectory per layer (ensemble mean; line colour = layer, in the legend),
points coloured by logged epoch on a log scale, with H(X) and H(Y) marked as dashed lines.

>>> import numpy as np, matplotlib
>>> matplotlib.use("Agg")
>>> from sims.info_plane import InfoPlane
>>> ip = InfoPlane("binned", {}, np.array([0, 1, 10]), (0, 1), np.ones((2, 3, 2)), np.ones((2, 3, 2)) / 2,
...                np.log(8), np.log(2))
>>> ax = plot_info_plane(ip)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from analytic.units import to_bits

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sims.info_plane import InfoPlane

__all__ = ["plot_info_plane"]


def plot_info_plane(ip: InfoPlane, ax: Axes | None = None, layers: Sequence[int] | None = None, cmap: str = "viridis",
                    spread: bool = False, colorbar: bool = True, title: str | None = None, mark_entropies: bool = True,
                    layer_labels: Sequence[str] | None = None) -> Axes:
    """Draw ``ip`` (an :class:`sims.info_plane.InfoPlane`) on ``ax`` (new figure if None); returns the axes.

    ``spread=True`` adds +-1 ensemble standard deviation error bars. Epoch 0 (before training) is coloured like
    epoch 1 on the log colour scale. ``layer_labels``: names per plotted layer (default "layer 1", ...).
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    x, y = ip.mean("i_xt", bits=True), ip.mean("i_ty", bits=True)
    sx, sy = ip.std("i_xt", bits=True), ip.std("i_ty", bits=True)
    epochs = np.maximum(ip.epochs, 1)
    norm = LogNorm(vmin=epochs.min(), vmax=max(epochs.max(), epochs.min() + 1))
    chosen = range(len(ip.layers)) if layers is None else [ip.layers.index(l) for l in layers]
    sc = None
    for k, li in enumerate(chosen):
        name = layer_labels[k] if layer_labels is not None else f"layer {ip.layers[li] + 1}"
        ax.plot(x[:, li], y[:, li], "-", color=f"C{k % 10}", lw=1.3, alpha=0.8, zorder=1, label=name)
        if spread and ip.ensemble > 1:
            ax.errorbar(x[:, li], y[:, li], xerr=sx[:, li], yerr=sy[:, li], fmt="none", ecolor="0.8", lw=0.5, zorder=0)
        sc = ax.scatter(x[:, li], y[:, li], c=epochs, cmap=cmap, norm=norm, s=14, zorder=2, edgecolors="none")
    if mark_entropies:
        ax.axvline(to_bits(ip.h_x), ls="--", color="k", lw=0.8)
        ax.axhline(to_bits(ip.h_y), ls="--", color="k", lw=0.8)
        ax.annotate("H(X)", (to_bits(ip.h_x), 0.5), xycoords=("data", "axes fraction"), textcoords="offset points",
                    xytext=(-26, 0), fontsize=8)
        ax.annotate("H(Y)", (0, to_bits(ip.h_y)), textcoords="offset points", xytext=(4, -11), fontsize=8)
    ax.legend(fontsize=7, loc="lower right", title="line: layer", title_fontsize=7)
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")
    ax.set_xlim(left=min(0.0, np.nanmin(x) - 0.1))
    ax.set_ylim(bottom=min(0.0, np.nanmin(y) - 0.02))
    if title is not None:
        ax.set_title(title, fontsize=10)
    if colorbar and sc is not None:
        ax.figure.colorbar(sc, ax=ax, label="epoch (log scale)")
    return ax
