"""Saxe et al. (2018) on the 12-bit task: Figs. 1A-B, 4C-D, 5, 7, 8, drawn from :mod:`experiments.saxe2018`.

Every panel is computed by the experiment (cached in ``IBT_CACHE_DIR``); the claims it tests are printed under the
panels and written to ``NAME.json``. ``full=True`` uses the paper's scale (50 networks x 8000 epochs).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments import saxe2018
from figures._infoplane import claim_line, info_plane, legend_layers, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _scale(full):
    return "full" if full else "quick"


def _colourbar(fig, sc, axes):
    fig.colorbar(sc, ax=axes, label="epoch", shrink=0.9)


def _footer(fig, claims):
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in claims), fontsize=7, va="bottom")


def _planes(res, panels, ncols, title, size):
    """Grid of information planes ``panels`` = [(dataset, estimator, title)], one shared epoch colour bar."""
    import matplotlib.pyplot as plt

    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained")
    emax = max(int(d.epoch.values.max()) for d, _, _ in panels)
    norm = LogNorm(1, emax)
    sc = None
    for ax, (d, est, t) in zip(axes.flat, panels):
        sc = info_plane(ax, d, est, norm=norm)
        ax.set_title(t, fontsize=9)
    legend_layers(axes.flat[0], loc="best")
    _colourbar(fig, sc, axes)
    fig.suptitle(title, fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    _footer(fig, res.claims)
    return attach_claims(fig, res.claims)


@figure("saxe-fig1", "Saxe 2018 Fig. 1A-B: 12-bit task, tanh compresses and ReLU does not (binning and KDE, "
                     "ensemble mean and members)")
def draw_fig1(full: bool = False) -> Figure:
    res = saxe2018.fig1(_scale(full))
    ds = res.data
    n = ds.sizes["member"]
    bins = {"tanh": "binning, 30 edges on [−1, 1]", "relu": "binning, 100 min–max bins over the run"}
    panels = [(ds.sel(activation=a), est, f"{'AB'[i]}{j + 1}  {a}, {bins[a] if est == 'binned' else lab}")
              for i, a in enumerate(("tanh", "relu"))
              for j, (est, lab) in enumerate((("binned", ""), ("kde", "KDE upper bound, noise variance 0.1")))]
    return _planes(res, panels, 2, f"12-10-7-5-4-3-2 on the 12-bit task, Adam 4e-4, batch 256, {n} networks "
                   f"(bold: mean; faint: each network)", (10, 8.4))


@figure("saxe-fig5", "Saxe 2018 Fig. 5: the same information planes under minibatch (SGD) and full-batch (BGD) "
                     "training, tanh and ReLU")
def draw_fig5(full: bool = False) -> Figure:
    res = saxe2018.fig5(_scale(full))
    ds = res.data
    panels = [(ds.sel(run=r).dropna("epoch", how="all"), "binned", f"{'ABCD'[i]}  {r}")
              for i, r in enumerate(("tanh SGD", "tanh BGD", "relu SGD", "relu BGD"))]
    return _planes(res, panels, 2, f"Stochastic (Adam, batch 256) vs batch (Adam, full batch) training, "
                   f"{ds.attrs['sgd_epochs']} epochs each, binned I", (10, 8.4))


@figure("saxe-fig8", "Saxe 2018 Fig. 8: KDE information planes of tanh, softsign (the paper: compress) and ReLU, softplus "
                     "(do not)")
def draw_fig8(full: bool = False) -> Figure:
    res = saxe2018.fig8(_scale(full))
    ds = res.data
    panels = [(ds.sel(activation=a), "kde", f"{'ABCD'[i]}  {a}") for i, a in enumerate(ds.activation.values)]
    return _planes(res, panels, 2, "KDE upper bound (noise variance 0.1) on the 12-bit task", (10, 8.4))


@figure("saxe-fig7", "Saxe 2018 Fig. 7: learning curves of the tanh and ReLU networks (train and test loss, "
                     "test accuracy)")
def draw_fig7(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = saxe2018.fig7(_scale(full))
    ds = res.data
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    e = ds.epoch.values.clip(1)
    for a, c in (("tanh", "C0"), ("relu", "C3")):
        d = ds.sel(activation=a)
        mean_band(axes[0], e, d.loss.sel(split="train").values, c, f"{a} train", "--")
        mean_band(axes[0], e, d.loss.sel(split="test").values, c, f"{a} test")
        mean_band(axes[1], e, 1 - d.accuracy.sel(split="test").values, c, f"{a} test error")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("cross-entropy loss [nats]")
    axes[1].set_ylabel("test error (fraction misclassified)")
    axes[0].set_title("A  loss (mean ± sd over networks)", fontsize=9)
    axes[1].set_title("B  test error", fontsize=9)
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    _footer(fig, res.claims)
    return attach_claims(fig, res.claims)


@figure("saxe-fig4cd", "Saxe 2018 Fig. 4C-D: tanh on 30% of the 12-bit data: the test loss rises while the last "
                       "hidden layer compresses")
def draw_fig4cd(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = saxe2018.fig4cd(_scale(full))
    ds = res.data
    fig, axes = plt.subplots(1, 3, figsize=(13, 4), layout="constrained")
    e = ds.epoch.values.clip(1)
    mean_band(axes[0], e, ds.loss.sel(split="train").values, "C0", "train")
    mean_band(axes[0], e, ds.loss.sel(split="test").values, "C3", "test")
    mins = res.claims[0].numbers["epoch_of_min_test_loss"]
    for m in mins:
        axes[0].axvline(max(m, 1), color="C3", lw=0.6, alpha=0.5, ls=":")
    axes[0].set_ylabel("cross-entropy loss [nats]")
    axes[0].set_title("C  loss; dotted: each network's test-loss minimum", fontsize=9)
    i5 = to_bits(ds.i_xt_binned.sel(layer=saxe2018.LAST_HIDDEN).values)
    mean_band(axes[1], e, i5, "C2", str(ds.layer_name.values[saxe2018.LAST_HIDDEN - 1]))
    for m in mins:
        axes[1].axvline(max(m, 1), color="C3", lw=0.6, alpha=0.5, ls=":")
    axes[1].set_ylabel("binned I(X;T) [bits]")
    axes[1].set_title("I(X;T) of the last hidden layer over training", fontsize=9)
    for ax in axes[:2]:
        ax.set_xscale("log")
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    sc = info_plane(axes[2], ds, "binned", norm=LogNorm(1, e.max()))
    legend_layers(axes[2], loc="lower right")
    fig.colorbar(sc, ax=axes[2], label="epoch")
    axes[2].set_title("D  information plane (binning)", fontsize=9)
    fig.suptitle(f"tanh on 30% of the data ({ds.sizes['member']} networks)", fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.09, 1, 0.91))
    _footer(fig, res.claims)
    return attach_claims(fig, res.claims)


@figure("saxe-fig12", "Saxe 2018 Fig. 12: k-NN (Kozachenko-Leonenko, k = 2) information planes, tanh and ReLU")
def draw_fig12(full: bool = False) -> Figure:
    res = saxe2018.fig12(_scale(full))
    ds = res.data
    panels = [(ds.sel(activation=a), "knn", f"{'AB'[i]}  {a}") for i, a in enumerate(ds.activation.values)]
    return _planes(res, panels, 2, "k-NN entropy estimate (k = 2) on the activity plus noise of variance 0.1, "
                   "12-bit task", (10, 4.6))
