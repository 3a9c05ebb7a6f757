"""Estimator validation: every MI estimator beside the exact value where the exact value is known.

Data come from :mod:`minimal_models.validation`; this module only draws.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.units import to_bits
from figures._registry import attach_claims, figure
from minimal_models import validation as val

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COLORS = {"binned": "C0", "goldfeld": "C3", "kde-upper": "C2", "kde-lower": "C2", "kraskov": "C4"}
_STYLE = {"kde-upper": "^-", "kde-lower": "v-", "goldfeld": "o-", "kraskov": "s-", "binned": "o-"}
_TITLES = {"scalar-noisy": "X~N(0,1), T = tanh(2X) + N(0, 0.1²)", "single-neuron": "X on {±1,±3}, tanh(0.5X)+N(0,0.1²)",
           "linear": "X~N(0,I₃), T = WX + N(0, 0.1² I₂)", "chain": "two-neuron tanh chain, X on {±1,±3}"}


@figure("estimator-validation",
        "Each MI estimator beside the exact value: binned vs exact binned MI, KDE bounds bracketing the single "
        "neuron, Goldfeld's n^-1/2 convergence, bias and spread vs n on noisy scalar, neuron and Gaussian channels")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    n_grid = (30, 100, 300, 1000, 3000, 10000) if full else (100, 300, 1000, 3000)
    repeats = 20 if full else 4
    res = val.estimator_validation(n_grid=n_grid, repeats=repeats, seed=0)
    w = np.linspace(0.0, 6.0, 61 if full else 31)
    b_exact, b_mean, b_sd = val.binned_curve(w, n=10_000, repeats=5 if full else 3)
    b_small, b_small_sd = val.binned_curve(w, n=300, repeats=5 if full else 3)[1:]
    sn = val.single_neuron_curve(w, n=1000, repeats=10 if full else 3)

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.6))
    ax = axes[0, 0]
    ax.plot(w, to_bits(b_exact), "k-", lw=1.5, label="exact binned MI (analytic)")
    ax.errorbar(w, to_bits(b_mean), yerr=to_bits(b_sd), fmt="o", ms=3, color="C0", label="binned estimate, n=10⁴")
    ax.errorbar(w, to_bits(b_small), yerr=to_bits(b_small_sd), fmt="x", ms=4, color="C1",
                label="binned estimate, n=300")
    ax.set(xlabel="weight w", ylabel="I(X;T) [bits]",
           title="(a) binned: X~N(0,1), T=bin(tanh(wX)), 30 Tishby edges")
    ax.legend(fontsize=8)

    ax = axes[0, 1]
    ax.plot(w, to_bits(sn["exact"]), "k-", lw=1.5, label="exact (Gauss–Hermite)")
    ax.fill_between(w, to_bits(sn["kde_lower"]), to_bits(sn["kde_upper"]), color="C2", alpha=0.25,
                    label="KDE lower–upper, true centres")
    ax.errorbar(w, to_bits(sn["goldfeld_mean"]), yerr=to_bits(sn["goldfeld_std"]), fmt="o", ms=3, color="C3",
                label="Goldfeld, n=1000")
    ax.errorbar(w, to_bits(sn["kraskov_mean"]), yerr=to_bits(sn["kraskov_std"]), fmt="s", ms=2.5, color="C4",
                alpha=0.7, label="Kraskov k=2, n=1000")
    for name, level in (("ln 4", np.log(4)), ("ln 2", np.log(2))):
        ax.axhline(to_bits(level), color="0.6", ls=":", lw=0.8)
        ax.annotate(name, (w[-1], to_bits(level)), textcoords="offset points", xytext=(-22, 2), fontsize=7)
    ax.set(xlabel="weight w (b = 0)", ylabel="I(X;T) [bits]",
           title="(b) noisy tanh neuron, X on {±1,±3}, σ = 0.1")
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[0, 2]
    slope = float(val.goldfeld_rate(res))          # the number the title and NAME.json report
    ns = np.asarray(res.n_grid, dtype=float)
    for m, c in (("single-neuron", "C3"), ("scalar-noisy", "C1"), ("linear", "C0"), ("chain", "C5")):
        if (m, "goldfeld") in res.estimates:
            ax.loglog(ns, to_bits(res.rmse(m, "goldfeld")), "o-", color=c, label=f"{m}")
    ref = to_bits(res.rmse("single-neuron", "goldfeld"))[0] * (ns / ns[0]) ** -0.5
    ax.loglog(ns, ref, "k--", lw=1, label="∝ n^(−1/2)")
    ax.set(xlabel="samples n", ylabel="RMSE of I(X;T) [bits]",
           title=f"(c) Goldfeld h(P̂ₙ∗N): fitted slope {slope:.2f} (single neuron, {repeats} draws)")
    ax.legend(fontsize=8)

    for ax, m in zip(axes[1], ("scalar-noisy", "single-neuron", "linear")):
        for e in ("goldfeld", "kde-upper", "kde-lower", "kraskov"):
            if (m, e) not in res.estimates:
                continue
            ax.errorbar(ns * (1 + 0.04 * ("goldfeld", "kde-upper", "kde-lower", "kraskov").index(e)),
                        to_bits(res.bias(m, e)), yerr=to_bits(res.spread(m, e)), fmt=_STYLE[e], ms=4,
                        color=_COLORS[e], capsize=2, label=e)
        ax.axhline(0.0, color="k", lw=1)
        ax.set_xscale("log")
        ax.set(xlabel="samples n", ylabel="estimate − exact [bits] (± spread)",
               title=f"({'def'[list(axes[1]).index(ax)]}) {_TITLES[m]}\nexact = {to_bits(res.exact[m]):.3f} bits")
        ax.legend(fontsize=8)
    fig.suptitle(f"MI estimators against exact values (mean ± sd over {repeats} draws per n; "
                 f"KDE noise variance = σ², Kraskov on noisy samples)", fontsize=11)
    fig.tight_layout()
    return attach_claims(fig, [], goldfeld_rmse_slope=slope, n_grid=list(n_grid), repeats=repeats)
