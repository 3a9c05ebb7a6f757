"""Generalization without compression (Saxe et al. 2018, Sec. 4 and Figs. 4, 18): test error beside I(X;T).

Composes cached runs of other experiments (no new training): tanh and ReLU on 80 % of the 12-bit task
(:func:`experiments.saxe2018.fig1`), tanh on 30 % (:func:`experiments.saxe2018.fig4cd`) and the deep linear
student (:func:`experiments.deep_linear.fig18`). Its claims are those experiments' claims that tie compression
to generalization (the claims table lists each once).
"""
from __future__ import annotations

from typing import Literal

from experiments import deep_linear, saxe2018
from experiments.registry import check_scale, experiment
from experiments.result import ExperimentResult

__all__ = ["generalization", "panels"]


def panels(scale: Literal["quick", "full"] = "quick", verbose: bool = False) -> tuple[dict, list]:
    """``{title: (dataset, information variable, error variable and split)}`` of the four runs, and their claims."""
    f1 = saxe2018.fig1(scale, verbose)
    f7 = saxe2018.fig7(scale, verbose)
    f4 = saxe2018.fig4cd(scale, verbose)
    f18 = deep_linear.fig18(scale, verbose)
    runs = {"tanh, 80% of the data": (f1.data.sel(activation="tanh"), "i_xt_binned", "loss"),
            "ReLU, 80% of the data": (f1.data.sel(activation="relu"), "i_xt_binned", "loss"),
            "tanh, 30% of the data": (f4.data, "i_xt_binned", "loss"),
            "deep linear, P = N": (f18.data, "i_xt_exact", "error")}
    claims = [f7.claims[0], f4.claims[0], f4.claims[2], *f18.claims]
    return runs, claims


@experiment("generalization", "Generalization without compression: test error beside I(X;T) for tanh, ReLU, tanh "
            "on 30% of the data and a deep linear network", "Saxe et al. 2018")
def generalization(scale: Literal["quick", "full"] = "quick", verbose: bool = False) -> ExperimentResult:
    runs, claims = panels(check_scale(scale), verbose)
    ds = runs["tanh, 30% of the data"][0]
    return ExperimentResult("generalization", scale, ds, claims)
