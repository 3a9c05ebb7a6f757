"""Generalization without compression (Saxe et al. 2018, Sec. 4): test error and I(X;T) side by side, from
:func:`experiments.generalization.panels` (cached runs of saxe-fig1, saxe-fig4cd and saxe-fig18)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from analytic.units import to_bits
from experiments.generalization import panels
from figures._infoplane import LAYER_COLOURS, claim_line, hidden_under, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("generalization", "Generalization without compression: test error beside I(X;T) for tanh, ReLU, tanh on "
                          "30% of the data, and a deep linear network (Saxe 2018)")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    runs, claims = panels("full" if full else "quick")
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.6), sharex="col", layout="constrained")
    for j, (title, (ds, ivar, evar)) in enumerate(runs.items()):
        e = ds.epoch.values.clip(1)
        top, bottom = axes[0, j], axes[1, j]
        mean_band(top, e, ds[evar].sel(split="train").values, "C0", "train")
        mean_band(top, e, ds[evar].sel(split="test").values, "C3", "test")
        top.set_title(f"{'ABCD'[j]}  {title}", fontsize=9)
        top.set_ylabel("cross-entropy [nats]" if evar == "loss" else "mean squared error")
        top.legend(fontsize=7)
        hidden = ds.layer.values[:-1]
        curves = [to_bits(ds[ivar].sel(layer=l).values) for l in hidden]
        names = hidden_under([c.mean(0) for c in curves], [str(n) for n in ds.layer_name.values[:-1]])
        for l, c, name in zip(hidden, curves, names):
            mean_band(bottom, e, c, LAYER_COLOURS[int(l) - 1], name)
        bottom.set_ylabel(f"I(X;T) [bits] ({ivar.split('_')[-1]})")
        bottom.set_xlabel("epoch")
        bottom.legend(fontsize=6)
        for ax in (top, bottom):
            ax.set_xscale("log")
    fig.get_layout_engine().set(rect=(0, 0.1, 1, 0.9))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in claims), fontsize=7, va="bottom")
    fig.suptitle("Test error (top) and information of the hidden layers (bottom): compression and generalization "
                 "are not tied", fontsize=10)
    return attach_claims(fig, claims)
