"""What decides compression? Small multiples of the compression index (:mod:`experiments.compression_study`).

Panels: A, the compression index of every activation under every estimator (mean ± sd over the ensemble; KDE and
Goldfeld's estimator only where the study measures them: the base tanh, sigmoid and ReLU networks, Goldfeld's on
their noisy twins, noise std 0.005 after every hidden unit, Goldfeld et al. 2019, by the one-pass estimate
``goldfeld`` and by the matched estimate ``goldfeld_matched``, :func:`experiments.goldfeld2019.matched_goldfeld`);
B-E, one factor at a time (initialisation scale, input scale, training noise, optimizer) for the factor
activations; F-G, the exact scalar model (Saxe et al. 2018, Sec. 2): binned I(X; f(wX)) and the saturated fraction
against the weight w; H, the 12-bit information plane of the base tanh and ReLU networks (binned, 30 bins; ensemble
means per layer) under the information-bottleneck bound of the task (Tishby, Pereira & Bialek 1999). The claims
(including "no binned estimate lies above the bound") are printed under the panels and written to ``NAME.json``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.units import to_bits
from experiments import compression_study as study
from experiments.common import THRESHOLD_BITS
from figures._infoplane import LAYER_COLOURS, claim_line
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_ACT_COLOURS = {"tanh": "#1b9e77", "sigmoid": "#d95f02", "hardtanh": "#7570b3", "softsign": "#e7298a",
                "relu": "#1f78b4", "softplus": "#e6ab02", "leaky_relu": "#a6761d", "linear": "#444444"}


def _cells(ds, factor):
    m = ds.factor.values == factor
    return ds.isel(cell=np.flatnonzero(m))


def _factor_panel(ax, ds, factor, est, title):
    d = _cells(ds, factor)
    levels = list(dict.fromkeys(d.level.values.tolist()))
    x = np.arange(len(levels))
    for a in dict.fromkeys(d.activation.values.tolist()):
        s = d.isel(cell=np.flatnonzero(d.activation.values == a))
        m = s.compression_mean.sel(estimator=est).values
        sd = s.compression_sd.sel(estimator=est).values
        ax.errorbar(x, m, yerr=sd, color=_ACT_COLOURS.get(a, "k"), marker="o", ms=4, capsize=3, label=a)
    ax.axhline(THRESHOLD_BITS, color="0.6", ls=":", lw=1)
    ax.set_xticks(x, levels)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(f"compression, {est} [bits]")


@figure("compression-study", "What decides compression: the compression index per activation x factor x estimator "
                             "on the 12-bit task, the exact scalar model, and the IB bound under the information "
                             "plane")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = study.compression_study("full" if full else "quick")
    ds = res.data
    theory = study.scalar_theory()
    cfg = res.config
    est = "binned30" if "binned30" in ds.estimator.values else str(ds.estimator.values[0])
    fig, axes = plt.subplots(2, 4, figsize=(17, 8.6), layout="constrained")
    ax = axes[0, 0]
    base = _cells(ds, "activation")
    acts = list(base.activation.values)
    names = list(ds.estimator.values)
    width = 0.8 / len(names)
    for j, e in enumerate(names):
        m, sd = base.compression_mean.sel(estimator=e).values, base.compression_sd.sel(estimator=e).values
        ok = np.isfinite(m)                          # estimators not run on a cell: no bar (not a zero)
        ax.bar((np.arange(len(acts)) + (j - (len(names) - 1) / 2) * width)[ok], m[ok], width,
               yerr=np.nan_to_num(sd[ok]), capsize=2, label=e)
    ax.axhline(THRESHOLD_BITS, color="0.6", ls=":", lw=1)
    ax.set_xticks(np.arange(len(acts)), acts, rotation=40, fontsize=8)
    ax.set_ylabel("compression [bits]")
    ax.set_title("A  activation x estimator (base; KDE; Goldfeld's one-pass\nand matched on noisy twins: tanh, "
                 "sigmoid, ReLU)", fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    for ax, (fac, t) in zip([axes[0, 1], axes[0, 2], axes[0, 3], axes[1, 0]],
                            [("init_scale", "B  initialisation scale (x 1/sqrt(fan-in))"),
                             ("input_scale", "C  input scale (inputs s x {0, 1})"),
                             ("noise_std", "D  training noise std (after every hidden unit)"),
                             ("optimizer", "E  optimizer (Adam b256 / SGD b1 / full-batch GD)")]):
        _factor_panel(ax, ds, fac, est, t)
    axes[0, 1].legend(fontsize=7)
    ax = axes[1, 1]
    for a in theory.activation.values:
        ax.plot(theory.w, to_bits(theory.binned_mi.sel(activation=a)), color=_ACT_COLOURS.get(str(a), "k"),
                label=str(a))
    ax.set_xscale("log")
    ax.set_xlabel("weight w")
    ax.set_ylabel("I(X; bin(f(wX))) [bits]")
    ax.set_title(f"F  scalar model, X ~ N(0,1), {theory.attrs['n_bins']} bins on [f(-4w), f(4w)]", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1, 2]
    for a in theory.activation.values:
        ax.plot(theory.w, theory.saturation.sel(activation=a), color=_ACT_COLOURS.get(str(a), "k"), label=str(a))
    ax.set_xscale("log")
    ax.set_xlabel("weight w")
    ax.set_ylabel(f"P(f'(wX) < {theory.attrs['eps']:g} max f')")
    ax.set_title("G  saturated fraction", fontsize=9)
    ax = axes[1, 3]
    bx, by = to_bits(ds.bound_i_xt.values), to_bits(ds.bound_i_ty.values)
    xmax = 12.0
    ax.fill_between(np.r_[bx, xmax], np.r_[by, by[-1]], to_bits(np.log(2)) * 1.08, color="0.85", lw=0,
                    label="_above")
    ax.plot(np.r_[bx, xmax], np.r_[by, by[-1]], color="k", lw=1.5, label="IB bound")
    for a, ls in (("tanh", "-"), ("relu", "--")):
        if a not in ds.base_activation.values:
            continue
        px = to_bits(ds.plane_i_xt.sel(base_activation=a, estimator=est).values)     # (epoch, layer)
        py = to_bits(ds.plane_i_ty.sel(base_activation=a, estimator=est).values)
        for l in range(px.shape[1] - 1):
            ax.plot(px[:, l], py[:, l], ls=ls, color=LAYER_COLOURS[l], lw=1.1,
                    label=f"{a} layer {l + 1}" if a == "tanh" or l == 0 else "_")
    ax.set_xlim(0, xmax)
    ax.set_ylim(0, to_bits(np.log(2)) * 1.08)
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")
    ax.set_title(f"H  information plane ({est}, member means; solid tanh, dashed ReLU) under the bound", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    fig.suptitle(f"What decides compression? 12-bit task, {cfg['ensemble']} networks per cell, {cfg['epochs']} "
                 f"epochs, Adam lr {cfg['lr']:g} (base); compression = peak - end of the 5-point running mean of "
                 f"I(X;T), largest over hidden layers (dotted: {THRESHOLD_BITS} bit)", fontsize=10)
    fig.get_layout_engine().set(rect=(0, 0.08, 1, 0.92))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=7,
             va="bottom")
    table = {f"{f}|{l}|{a}": {e: [float(m), float(s)] for e, m, s in
                              zip(names, ds.compression_mean.values[i], ds.compression_sd.values[i])}
             for i, (f, l, a) in enumerate(zip(ds.factor.values, ds.level.values, ds.activation.values))}
    gacc = {str(a): float(np.nanmean(ds.goldfeld_accuracy.values[i])) for i, a in enumerate(ds.activation.values)
            if ds.factor.values[i] == "activation" and np.isfinite(ds.goldfeld_accuracy.values[i]).any()}
    return attach_claims(fig, res.claims, compression_mean_sd_bits=table, seconds=res.timing.get("seconds"),
                         goldfeld_twin_test_accuracy=gacc,
                         theory={str(a): {"w_peak": float(theory.w_peak.sel(activation=a)),
                                          "fall_bits": float(theory.fall.sel(activation=a)),
                                          "slope0": float(theory.slope0.sel(activation=a)),
                                          "centred": bool(theory.centred.sel(activation=a))}
                                 for a in theory.activation.values})
