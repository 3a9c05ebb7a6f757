"""Saxe et al. (2018) Figs. 3, 4A-B and 6: deep linear student, error curves and the exact information plane
(Fig. 6 from the experiment :func:`experiments.saxe_linear.fig6`, with its claims)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.colors import LogNorm

from analytic.units import to_bits
from experiments.minimal_runs import BATCH as _BATCH
from experiments.minimal_runs import SETTINGS as _SETTINGS
from experiments.minimal_runs import linear_student_run as _student_run
from experiments import saxe_linear as _saxe_linear
from figures._infoplane import LAYER_COLOURS, claim_line, error_panel, info_plane, legend_layers, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The runs (settings, Saxe et al. 2018, Sec. 5) are computed and cached by experiments.minimal_runs.


def _info_plane(ax, fig, run, title, norm=None, colorbar=True):
    """Mean information plane of ``run``, points coloured by gradient-flow time (``norm``: a shared LogNorm, so
    that panels drawn side by side use one colour scale); returns the scatter."""
    from matplotlib.colors import LogNorm

    t = np.maximum(run.as_time, run.as_time[1] / 2)
    norm = norm or LogNorm(vmin=t.min(), vmax=t.max())
    x, y = to_bits(run.i_xt.mean(axis=0)), to_bits(run.i_ty.mean(axis=0))   # (logged, layers)
    names = [f"hidden layer {l + 1}" for l in range(x.shape[1] - 1)] + ["output layer"]
    sc = None
    for l, (marker, name) in enumerate(zip("os^D", names)):
        ax.plot(x[:, l], y[:, l], color="0.7", lw=0.8, zorder=1)
        sc = ax.scatter(x[:, l], y[:, l], c=t, cmap="viridis", norm=norm, marker=marker, s=22, zorder=2,
                        label=name)
    if colorbar:
        fig.colorbar(sc, ax=ax, label="gradient-flow time lr * epoch / batch")
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return sc


def _errors(ax, runs, labels, styles, x_key="epochs"):
    for run, label, ls in zip(runs, labels, styles):
        x = np.maximum(getattr(run, x_key), getattr(run, x_key)[1] / 2)
        ax.plot(x, run.test_error.mean(axis=0), color="C3", ls=ls, label=f"test error, {label}")
        ax.plot(x, run.train_error.mean(axis=0), color="C0", ls=ls, label=f"training error, {label}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize=8)


@figure("saxe-fig3", "Saxe 2018 Fig. 3: linear student 100-100-1, P = 100, SNR 1, batch GD: errors and exact info plane")
def draw_fig3(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    run = _student_run("gd", full)
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.3))
    _errors(axes[0], [run], ["batch GD"], ["-"])
    axes[0].set_xlabel("epoch (epoch 0 drawn at 0.5)")
    axes[0].set_title(f"A  overtraining at P = N (lr = {_SETTINGS['gd']['lr']:g}, "
                      f"{run.train_error.shape[0]} trial(s))")
    axes[0].text(0.03, 0.3, "late spikes: GD at the edge of stability\n(the weights grow to fit the noise)",
                 transform=axes[0].transAxes, ha="left", va="bottom", fontsize=8, color="0.3")
    _info_plane(axes[1], fig, run, "B  exact information plane (sigma^2_MI = 1): no compression")
    fig.tight_layout()
    return fig


@figure("saxe-fig4ab", "Saxe 2018 Fig. 4A-B: the linear student with SGD (batch 5) vs batch GD: info planes, errors")
def draw_fig4ab(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    sgd, gd = _student_run("sgd", full), _student_run("gd", full)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.3), layout="constrained")
    from matplotlib.colors import LogNorm

    times = np.concatenate([np.maximum(r.as_time, r.as_time[1] / 2) for r in (sgd, gd)])
    norm = LogNorm(vmin=times.min(), vmax=times.max())             # one colour scale for both panels
    _info_plane(axes[0], fig, sgd, f"A  SGD, batch {_BATCH}", norm=norm, colorbar=False)
    sc = _info_plane(axes[1], fig, gd, "B  batch gradient descent", norm=norm, colorbar=False)
    fig.colorbar(sc, ax=list(axes[:2]), label="gradient-flow time lr * epoch / batch (both panels)")
    for ax in axes[:2]:
        ax.set_xlim(0, 1.05 * max(to_bits(r.i_xt.mean(axis=0)).max() for r in (sgd, gd)))
        ax.set_ylim(0, 1.1 * max(to_bits(r.i_ty.mean(axis=0)).max() for r in (sgd, gd)))
    _errors(axes[2], [sgd, gd], [f"SGD {_BATCH}, lr {_SETTINGS['sgd']['lr']:g}",
                                 f"GD, lr {_SETTINGS['gd']['lr']:g}"], ["-", "--"], x_key="as_time")
    axes[2].set_xlabel("gradient-flow time lr * epoch / batch (time 0 drawn at half the first)")
    axes[2].set_title("C  errors: SGD and GD nearly coincide")
    return fig


@figure("saxe-fig6", "Saxe 2018 Fig. 6: 30 relevant / 70 irrelevant inputs, SGD batch 5, small initial weights: the "
                     "whole layer does not compress, the relevant information rises, the irrelevant one compresses")
def draw_fig6(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = _saxe_linear.fig6("full" if full else "quick")
    ds, cfg = res.data, res.config
    fig, axes = plt.subplots(1, 4, figsize=(17, 5), layout="constrained")
    e = ds.epoch.values.clip(1)
    sc = info_plane(axes[0], ds, "exact", norm=LogNorm(1, e.max()))
    legend_layers(axes[0], loc="lower right")
    fig.colorbar(sc, ax=axes[0], label="epoch")
    axes[0].set_title("A  whole layer (exact): no compression", fontsize=9)
    panels = ((axes[1], "relevant", "B  task-relevant inputs (%d)" % cfg["n_relevant"]),
              (axes[2], "irrelevant", "C  task-irrelevant inputs (%d)" % (cfg["n_in"] - cfg["n_relevant"])))
    for ax, part, title in panels:
        for l, name in zip(ds.layer.values, ds.layer_name.values):
            for definition, ls in (("marginal", "-"), ("submap", "--")):
                val = to_bits(ds.i_xs_exact.sel(layer=l, subspace=part, definition=definition).values)
                mean_band(ax, e, val, LAYER_COLOURS[int(l) - 1], f"{str(name).split(' (')[0]}, {definition}", ls=ls)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"I(T; X_{part[:3]}) [bits]")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, title="marginal: I(T;X_S), other inputs as noise\nsubmap: W_S X_S alone",
                  title_fontsize=6.5)
    settled = np.asarray(next(c for c in res.claims if "settles in" in c.statement).numbers["settle_epoch"])
    axes[3].axvline(np.median(settled), color="0.5", lw=0.8, ls=":", label="test error settled (median)")
    for ax in axes[1:3]:
        ax.axvline(np.median(settled), color="0.5", lw=0.8, ls=":")
    error_panel(axes[3], e, ds.error, "D  errors (mean ± sd over trials)")
    fig.suptitle(f"Linear student {cfg['n_in']}-{cfg['n_hidden']}-1, {cfg['n_relevant']} relevant inputs, "
                 f"P = {cfg['n_train']}, SNR {cfg['snr']:g}, initial scale {cfg['init_scale']:g}, SGD batch "
                 f"{cfg['batch_size']}, lr {cfg['lr']:g}, {len(ds.member)} trials; exact information, analysis noise "
                 "variance 1", fontsize=9)
    fig.get_layout_engine().set(rect=(0, 0.13, 1, 0.87))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=7,
             va="bottom")
    return attach_claims(fig, res.claims)
