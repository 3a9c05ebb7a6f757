"""Advani & Saxe (2017): training and test error of a linear student over time, theory over finite-N simulation."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analytic.advani_saxe import advani_saxe_errors, advani_saxe_limits, advani_saxe_optimal_stopping_error
from figures._registry import figure
from minimal_models.linear_student_teacher import advani_saxe_simulation

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("advani-saxe", "Advani & Saxe 2017: train/test error vs time for alpha = 0.5, 1, 2 (MP theory over N-dim sims)")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    snr = 1.0
    n, trials = (400, 100) if full else (200, 16)
    t_line = np.geomspace(1e-2, 1e3, 300)
    t_dots = np.geomspace(1e-2, 1e3, 13)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
    for ax, alpha in zip(axes, (0.5, 1.0, 2.0)):
        train, test = advani_saxe_errors(t_line, alpha, snr)
        sim_train, sim_test = advani_saxe_simulation(t_dots, alpha, snr, n, trials, seed=1)
        ax.plot(t_line, test, color="C3", lw=2, label="test error (theory, N -> inf)")
        ax.plot(t_line, train, color="C0", lw=2, label="training error (theory)")
        for sim, c in ((sim_test, "C3"), (sim_train, "C0")):
            se = sim.std(axis=0, ddof=1) / np.sqrt(trials)
            ax.errorbar(t_dots, sim.mean(axis=0), yerr=se, fmt="o", color=c, ms=4, mfc="none", capsize=2)
        lim_train, lim_test = advani_saxe_limits(alpha, snr)
        if np.isfinite(lim_test):
            ax.axhline(lim_test, color="C3", ls=":", lw=1, label="t -> inf limits")
        ax.axhline(lim_train, color="C0", ls=":", lw=1)
        ax.axhline(advani_saxe_optimal_stopping_error(alpha, snr), color="k", ls="--", lw=1,
                   label="per-mode optimal stopping")
        ax.errorbar([], [], yerr=[], fmt="o", color="gray", mfc="none",
                    label=f"simulation: N = {n}, mean of {trials} (+-1 SE)")
        ax.set_xscale("log")
        ax.set_ylim(0, 6.5)
        ax.set_xlabel("time t / tau (loss summed over samples)")
        note = " (frozen subspace)" if alpha < 1 else (" (test error ~ sqrt t)" if alpha == 1 else "")
        ax.set_title(f"alpha = P/N = {alpha:g}{note}")
    axes[0].set_ylabel("mean squared error (teacher variance = 1)")
    axes[0].legend(fontsize=7.5, loc="upper left")
    fig.suptitle(f"Linear student, SNR = {snr:g}, zero initial weights", y=1.0)
    fig.tight_layout()
    return fig
