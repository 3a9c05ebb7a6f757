"""Kong (2019), Figs. 2-6: exact I(X;T1), I(X;T2) and the densities of T1, T2 over training epochs.

Every curve is the exact information of the trained parameters (not Kong's Monte Carlo estimate): the single
neuron by Gauss-Hermite (:class:`minimal_models.SingleNeuron`), the chains by nested quadrature
(:class:`minimal_models.NoisyChain`). Training follows Kong's code (sampled sets, noisy SGD, lr / 20 at 99% test
accuracy, gradients accumulated as in that code).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from analytic.units import to_bits
from figures._registry import figure
from minimal_models import NoisyChain, SingleNeuron

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import QuadMesh
    from matplotlib.figure import Figure


def density_panel(ax: Axes, epochs: np.ndarray, grid: ArrayLike, density: ArrayLike, label: str, cbar: bool = True
                  ) -> QuadMesh:
    """Heat map of a density over (log-spaced) epochs; epoch 0 is drawn at 0.5 on the log axis."""
    from matplotlib.colors import PowerNorm

    x = np.where(epochs == 0, 0.5, epochs).astype(float)
    d = np.asarray(density)
    # colour scale up to the 99th percentile: a near-delta density (a cluster of width ~ noise) would otherwise
    # set the maximum and leave the rest of the panel black
    top = float(np.quantile(d[d > 0], 0.99)) if np.any(d > 0) else 1.0
    mesh = ax.pcolormesh(x, grid, d.T, shading="nearest", cmap="magma",
                         norm=PowerNorm(0.5, vmin=0.0, vmax=top), rasterized=True)
    ax.set_xscale("log")
    ax.set_xlabel("epoch (epoch 0 drawn at 0.5)")
    ax.set_ylabel(label)
    if cbar:
        ax.figure.colorbar(mesh, ax=ax, label="density (sqrt scale, clipped at 99th pct)", extend="max")
    return mesh


def goldfeld_levels(neuron: SingleNeuron) -> list[tuple[float, str]]:
    """(value in nats, label) of the four cluster levels of Goldfeld's neuron, from its ``cluster_levels()``."""
    lv = neuron.cluster_levels()
    pick = {((-3.0,), (-1.0,), (1.0,), (3.0,)): "4 clusters: ln 4",
            ((-3.0, -1.0), (1.0,), (3.0,)): "{2,1,1}: 1.5 ln 2",
            ((-3.0, -1.0), (1.0, 3.0)): "{2,2}: ln 2",
            ((-3.0, -1.0, 1.0), (3.0,)): "{3,1}: H(1/4,3/4)"}
    return [(lv[k], lab) for k, lab in pick.items()]


def level_lines(ax: Axes, neuron: SingleNeuron) -> None:
    """Dotted lines at Goldfeld's cluster levels on a bits axis, each labelled inside the panel with its value in
    nats and bits; the y range is widened so that the top label is not clipped."""
    from matplotlib.transforms import blended_transform_factory

    tr = blended_transform_factory(ax.transAxes, ax.transData)
    top = 0.0
    for val, lab in goldfeld_levels(neuron):
        b = to_bits(val)
        ax.axhline(b, color="gray", ls=":", lw=1)
        ax.text(0.01, b, f"{lab} nats = {b:.2f} bits", transform=tr, va="bottom", fontsize=7, color="dimgray")
        top = max(top, b)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0.0), max(hi, top + 0.25))


def _mi_axes(ax, run, names):
    x = np.where(run.epochs == 0, 0.5, run.epochs)
    for key, name, style in zip(("i_xt1", "i_xt2"), names, ("-", "--")):
        val = getattr(run, key)
        if val is not None:
            ax.plot(x, to_bits(val), style, lw=1.8, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("epoch (epoch 0 drawn at 0.5)")
    ax.set_ylabel("exact mutual information (bits)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def _chain_figure(net, epochs, n_log, title, full):
    import matplotlib.pyplot as plt

    run = net.train(epochs, seed=0, log_epochs=n_log, resolution="fine" if full else "coarse", n_grid=201,
                    progress=False)
    two = run.i_xt2 is not None
    fig, axes = plt.subplots(1, 3 if two else 2, figsize=(15 if two else 10.5, 3.9))
    _mi_axes(axes[0], run, ("I(X;T1)", "I(X;T2)"))
    axes[0].set_title("(a) information over training")
    density_panel(axes[1], run.epochs, run.t1_grid, run.p_t1, "T1")
    axes[1].set_title("(b) density of T1")
    if two:
        density_panel(axes[2], run.epochs, run.t2_grid, run.p_t2, "T2")
        axes[2].set_title("(c) density of T2")
    st = run.settings
    fig.suptitle(f"{title}\n{net.name}; noise std {net.noise_std}, SGD lr {st['lr']:g} (1/2-MSE), "
                 f"batch {st['batch_size']} of {st['n_train']}, lr/20 at 99% test accuracy, "
                 f"accumulated gradients, seed 0", fontsize=9)
    fig.tight_layout()
    return fig


@figure("kong-fig2", "Kong Fig. 2: single tanh neuron on {-3,-1,1,3}: exact I(X;T) and density of T over epochs")
def draw_fig2(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    n = SingleNeuron(noise_std=0.05)
    run = n.train(2000 if full else 400, lr=1e-3, method="sgd", n_train=30, batch_size=25, seed=0,
                  accumulate_grad=True, log_epochs=300 if full else 120)
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.9))
    x = np.where(run.epochs == 0, 0.5, run.epochs)
    axes[0].plot(x, to_bits(run.mi), lw=1.8, label="I(X;T) exact")
    level_lines(axes[0], n)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("epoch (epoch 0 drawn at 0.5)")
    axes[0].set_ylabel("exact I(X;T) (bits)")
    axes[0].set_title("(a) I(X;T) over training")
    axes[0].grid(alpha=0.3)
    density_panel(axes[1], run.epochs, run.t_grid, run.density, "T")
    axes[1].set_title("(b) density of T")
    fig.suptitle("Kong Fig. 2: T = tanh(wX + b) + Z, X uniform on {-3,-1,1,3}, label +1 only for X = 3; "
                 "noise std 0.05, w = b = 0 init,\nSGD lr 1e-3 (1/2-MSE; Kong 5e-4 with MSELoss), batch 25 of 30 "
                 "sampled points, accumulated gradients as in Kong's code, seed 0", fontsize=9)
    fig.tight_layout()
    return fig


@figure("kong-fig3", "Kong Fig. 3: LeakyReLU-LeakyReLU chain on {1..8}: exact I(X;T1), I(X;T2), densities")
def draw_fig3(full: bool = False) -> Figure:
    return _chain_figure(NoisyChain.kong_leaky_leaky(), 300, 150 if full else 60, "Kong Fig. 3", full)


@figure("kong-fig4", "Kong Fig. 4: tanh-tanh chain on N(0, 0.25): exact I(X;T1), I(X;T2), densities")
def draw_fig4(full: bool = False) -> Figure:
    return _chain_figure(NoisyChain.kong_tanh_tanh(), 1000, 150 if full else 40, "Kong Fig. 4", full)


@figure("kong-fig5", "Kong Fig. 5: LeakyReLU-tanh chain on N(0, 0.25): I(X;T1) keeps rising (no clustering)")
def draw_fig5(full: bool = False) -> Figure:
    return _chain_figure(NoisyChain.kong_leaky_tanh(), 1000 if full else 400, 150 if full else 30,
                         "Kong Fig. 5", full)


@figure("kong-fig6", "Kong Fig. 6: tanh neuron on a two-Gaussian mixture: exact I(X;T1) and density of T1")
def draw_fig6(full: bool = False) -> Figure:
    return _chain_figure(NoisyChain.kong_mixture_neuron(), 2000, 150 if full else 50, "Kong Fig. 6", full)
