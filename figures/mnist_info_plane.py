"""MNIST information planes drawn from :mod:`experiments.mnist`: Saxe et al. (2018) Fig. 1C-D, sigmoid units with
the exact scalar model, and the two small architectures of a student presentation reproducing Saxe et al.

Every panel is computed by the experiment (cached in ``IBT_CACHE_DIR``); the claims it tests are printed under the
panels and written to ``NAME.json``. MNIST is read as :func:`sims.datasets.mnist` finds it (``IBT_DATA_DIR``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments import mnist
from figures._infoplane import claim_line, info_plane, legend_layers
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _scale(full):
    return "full" if full else "quick"


def _footer(fig, claims, top):
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in claims), fontsize=6.5,
             va="bottom")
    fig.get_layout_engine().set(rect=(0, top, 1, 1 - top - 0.02))


def _grid(panels, ncols, size):
    import matplotlib.pyplot as plt

    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    emax = max(int(d.epoch.values.max()) for d, _, _ in panels)
    norm = LogNorm(1, max(2, emax))
    sc = None
    for ax, (d, est, t) in zip(axes.flat, panels):
        sc = _plane(ax, d, est, norm)
        ax.set_title(t, fontsize=9)
        legend_layers(ax, loc="lower right")
    fig.colorbar(sc, ax=axes, label="epoch", shrink=0.9)
    return fig, axes


def _plane(ax, d, est, norm):
    """:func:`figures._infoplane.info_plane` of ``d``, with the layers ``est`` skipped marked in the legend (their
    all-NaN curves draw nothing; the legend helper's nanmax over them would warn)."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        return info_plane(ax, _mark_skipped(d, est), est, norm=norm)


def _mark_skipped(d, est):
    """Layers the estimator skipped (all NaN: layers outside the run's ``kde_layers``) say so in the legend."""
    x = d[f"i_xt_{est}"].values
    names = [f"{n}: not estimated" if np.isnan(x[..., i]).all() else str(n)
             for i, n in enumerate(d.layer_name.values)]
    return d.assign_coords(layer_name=("layer", names))


def _setup(ds, name):
    import json
    cfg = json.loads(ds.attrs["configs"])[name]
    return (f"{cfg['n_train']} training images, MI on {cfg['n_analysis']} test images, SGD lr {cfg['lr']:g}, "
            f"batch {cfg['batch_size']}, {cfg['epochs']} epochs (lr x steps = {mnist.sgd_time(cfg):,.0f}; "
            f"Saxe et al.: lr {mnist.PAPER_LR:g}, {mnist.PAPER_SGD_TIME:,.0f})")


@figure("mnist-fig1cd", "Saxe 2018 Fig. 1C-D: MNIST 784-1024-20-20-20-10, tanh and ReLU, KDE and binning")
def draw_fig1cd(full: bool = False) -> Figure:
    res = mnist.fig1cd(_scale(full))
    ds = res.data
    panels = [(ds.sel(activation=a), est, f"{a}, {lab}") for a in ("tanh", "relu")
              for est, lab in (("kde", "KDE upper bound, noise variance 0.1"), ("binned", "binning, width 0.5"))]
    fig, _ = _grid(panels, 2, (10, 8.6))
    fig.suptitle(f"MNIST 784-1024-20-20-20-10: {_setup(ds, 'tanh')}", fontsize=9)
    _footer(fig, res.claims, 0.09)
    return attach_claims(fig, res.claims)


@figure("mnist-sigmoid", "MNIST sigmoid vs tanh units (student presentation) and the exact scalar model f(wX)")
def draw_sigmoid(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = mnist.sigmoid(_scale(full))
    ds = res.data
    sm = mnist.scalar_model()
    fig, axes = plt.subplots(2, 2, figsize=(10, 8.6), layout="constrained")
    emax = int(ds.epoch.values.max())
    norm = LogNorm(1, max(2, emax))
    for ax, a in zip(axes[0], ("tanh", "sigmoid")):
        sc = _plane(ax, ds.sel(activation=a), "kde", norm)
        acc = float(ds.sel(activation=a).accuracy.sel(split="test").isel(epoch=-1).mean())
        ax.set_title(f"MNIST {a}, KDE (noise variance 0.1); final test accuracy {acc:.2f}", fontsize=9)
        legend_layers(ax, loc="lower right")
    fig.colorbar(sc, ax=axes[0], label="epoch", shrink=0.9)
    w = sm["w"]
    for ax, kind, title in ((axes[1, 0], "noisy", "scalar model: I(X; f(wX) + Z), noise variance 0.1"),
                            (axes[1, 1], "width", "scalar model: I(X; bin(f(wX))), bins of width 0.5")):
        for a, c in (("tanh", "#d95f02"), ("sigmoid", "#1b9e77")):
            ax.plot(w, to_bits(np.asarray(sm[f"{a}_{kind}"])), color=c, label=a)
            if kind == "width":
                ax.plot(w, to_bits(np.asarray(sm[f"{a}_equal"])), color=c, ls=":",
                        label=f"{a}, 30 equal bins over its range")
        ax.set_xlabel("weight w (X ~ N(0, 1))")
        ax.set_ylabel("I(X;T) [bits]")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(f"Sigmoid vs tanh, MNIST 784-1024-20-20-20-10. sigmoid: {_setup(ds, 'sigmoid')}\n"
                 f"tanh: {_setup(ds, 'tanh')}", fontsize=9)
    _footer(fig, res.claims, 0.1)
    return attach_claims(fig, res.claims)


@figure("mnist-arch", "MNIST 784-20-10 and 784-512-10, tanh and ReLU (student presentation), KDE")
def draw_arch(full: bool = False) -> Figure:
    res = mnist.architectures(_scale(full))
    ds = res.data
    panels = []
    for r in ds.run.values:
        d = ds.sel(run=r)
        widths = r.split()[1].split("-")
        d = d.assign_coords(layer_name=("layer", [f"hidden ({widths[0]} units)", "output (softmax, 10 units)"]))
        panels.append((d, "kde", f"784-{r.split()[1]}, {r.split()[0]}, KDE"))
    fig, _ = _grid(panels, 2, (10, 8.6))
    fig.suptitle(f"Small MNIST networks: {_setup(ds, ds.run.values[0])}", fontsize=9)
    _footer(fig, res.claims, 0.08)
    return attach_claims(fig, res.claims)
