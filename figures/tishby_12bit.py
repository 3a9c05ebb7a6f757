"""Information planes of the 12-bit task (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018, Fig. 1A-B), one
activation per figure, from :func:`experiments.saxe2018.fig1` (binning and KDE, ensemble mean and members)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from experiments import saxe2018
from figures._registry import figure
from figures.saxe_12bit import _planes

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _draw(activation, full):
    res = saxe2018.fig1("full" if full else "quick")
    ds = res.data.sel(activation=activation)
    res.claims = [c for c in res.claims if c.statement.lower().startswith(activation)]
    bins = "30 edges on [−1, 1]" if activation == "tanh" else "100 bins, min–max over the run"
    panels = [(ds, "binned", f"(a) binning ({bins})"), (ds, "kde", "(b) KDE upper bound, noise variance 0.1")]
    return _planes(res, panels, 2, f"12-bit task, {activation} 12-10-7-5-4-3-2, Adam 4e-4, batch 256, "
                   f"{ds.sizes['member']} networks; I over all 4096 patterns", (11, 4.6))


@figure("tishby-12bit-tanh", "Information plane of the 12-bit task, tanh: binned (Tishby's 30 bins) and KDE")
def draw_tanh(full: bool = False) -> Figure:
    return _draw("tanh", full)


@figure("tishby-12bit-relu", "Information plane of the 12-bit task, ReLU: binned (100 min-max bins) and KDE")
def draw_relu(full: bool = False) -> Figure:
    return _draw("relu", full)
