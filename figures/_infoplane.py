"""Drawing helpers shared by the experiment figures: information planes and curves from an experiment Dataset."""
from __future__ import annotations

import numpy as np

from analytic.units import to_bits

LAYER_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#444444")


def hidden_under(curves, names, tol=0.05):
    """Legend names, each marked ", drawn over NAME" when its curve lies within ``tol`` of an earlier one everywhere
    (e.g. two layers both at H(X) = 12 bits), so that the legend never lists a layer one cannot see."""
    def close(a, b):                 # within tol wherever both are drawn (a curve drawn nowhere hides nothing)
        d = np.abs(np.asarray(a, float) - np.asarray(b, float))
        d = d[~np.isnan(d)]
        return d.size > 0 and d.max() < tol

    out = []
    for l, c in enumerate(curves):
        under = next((names[k] for k in range(l) if close(c, curves[k])), None)
        out.append(names[l] if under is None else f"{names[l]}, drawn over {under.split(' (')[0]}")
    return out


def info_plane(ax, ds, estimator="binned", *, cmap="viridis", members_faint=True, norm=None, show_output=True):
    """Ensemble-mean trajectory of every layer in the information plane (bits), points coloured by epoch
    (log scale), each member's trajectory faint behind it; returns the scatter (for a shared colour bar)."""
    from matplotlib.colors import LogNorm

    x = to_bits(ds[f"i_xt_{estimator}"].values)              # (member, epoch, layer)
    y = to_bits(ds[f"i_ty_{estimator}"].values)
    keep = ~np.isnan(x).all(axis=(0, 2))
    x, y = x[:, keep], y[:, keep]
    ep = np.maximum(ds.epoch.values[keep], 1)
    norm = norm or LogNorm(1, max(2, ep.max()))
    n = x.shape[-1] if show_output else x.shape[-1] - 1
    names = hidden_under([np.concatenate([x[:, :, l].mean(0), y[:, :, l].mean(0)]) for l in range(n)],
                         list(ds.layer_name.values)[:n])
    sc = None
    for l in range(n):
        if members_faint:
            for m in range(x.shape[0]):
                ax.plot(x[m, :, l], y[m, :, l], color=LAYER_COLOURS[l], lw=0.5, alpha=0.25, label="_member")
        mx, my = x[:, :, l].mean(0), y[:, :, l].mean(0)
        ax.plot(mx, my, color=LAYER_COLOURS[l], lw=1.2, label=names[l])
        sc = ax.scatter(mx, my, c=ep, cmap=cmap, norm=norm, s=9, zorder=3, edgecolors="none", label="_epochs")
    ax.set_xlabel("I(X;T) [bits]")
    ax.set_ylabel("I(T;Y) [bits]")
    return sc


def legend_layers(ax, **kw):
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, l) for h, l in zip(handles, labels) if not l.startswith("_")]
    ax.legend(*zip(*keep), fontsize=7, **kw)


def mean_band(ax, epochs, values, colour, label, ls="-"):
    """Mean over axis 0 with a ±1 sd band."""
    m, s = np.nanmean(values, 0), np.nanstd(values, 0)
    ax.plot(epochs, m, color=colour, ls=ls, lw=1.4, label=label)
    ax.fill_between(epochs, m - s, m + s, color=colour, alpha=0.2, lw=0)


def error_panel(ax, epochs, error, title):
    """Train and test error (``error``: DataArray with a ``split`` axis, (member, epoch) per split) against epoch,
    mean ± sd over members, log-log, titled ``title``."""
    mean_band(ax, epochs, error.sel(split="train").values, "C0", "train")
    mean_band(ax, epochs, error.sel(split="test").values, "C3", "test")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)

def claim_line(claim) -> str:
    return f"{claim.figure}: {claim.measured_text()} → {'holds' if claim.holds else 'does NOT hold'}"
