"""Goldfeld et al. (2019): the noisy 12-bit tanh network with and without orthonormal weights, from
:func:`experiments.goldfeld2019.noisy_12bit`: I(X;T_l) by Goldfeld's estimator beside the clustering of T_l and
the estimator's two terms (the entropy term capped at log2 n; the conditional term from repeated noisy passes); dashed
in panels A and D, the matched estimate (:func:`experiments.goldfeld2019.matched_goldfeld`: the same R passes per input
in both terms, so it falls only where the clouds of different inputs merge)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from analytic.units import to_bits
from experiments import goldfeld2019
from figures._infoplane import LAYER_COLOURS, claim_line, hidden_under, mean_band
from figures._registry import attach_claims, figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@figure("goldfeld-noisy-12bit", "Goldfeld 2019: noisy 12-bit tanh net (noise std 0.005): I(X;T) falls only where "
                                "the representations cluster; orthonormal weights prevent both")
def draw(full: bool = False) -> Figure:
    import matplotlib.pyplot as plt

    res = goldfeld2019.noisy_12bit("full" if full else "quick")
    ds = res.data
    fig, axes = plt.subplots(2, 3, figsize=(15, 7), sharex=True, layout="constrained")
    for i, w in enumerate(ds.weights.values):
        d = ds.sel(weights=w)
        keep = d.kde_logged.values.astype(bool)
        e = np.maximum(d.epoch.values[keep], 1)
        hidden = d.layer.values[:-1]
        base = [str(n) for n in d.layer_name.values[:-1]]
        ixt = [to_bits(d.i_xt_goldfeld.sel(layer=l).values[:, keep]) for l in hidden]
        clu = [d.clustered_fraction.sel(layer=l).values[:, keep] for l in hidden]
        n_ixt = hidden_under([v.mean(0) for v in ixt], base)
        n_clu = hidden_under([v.mean(0) for v in clu], base, tol=1e-3)
        matched = "i_xt_goldfeld_matched" in d
        for l, a, b, na, nb in zip(hidden, ixt, clu, n_ixt, n_clu):
            c = LAYER_COLOURS[int(l) - 1]
            mean_band(axes[i, 0], e, a, c, na)
            if matched:                  # same R passes per input in both terms: falls only where clouds merge
                mean_band(axes[i, 0], e, to_bits(d.i_xt_goldfeld_matched.sel(layer=l).values[:, keep]), c, None,
                          ls="--")
            mean_band(axes[i, 1], e, b, c, nb)
            if "entropy_goldfeld" in d:
                short = base[int(l) - 1].split(" (")[0]
                mean_band(axes[i, 2], e, to_bits(d.entropy_goldfeld.sel(layer=l).values[:, keep]), c,
                          f"{short}: h(T) − h(Z)")
                if int(l) > 1:
                    mean_band(axes[i, 2], e, to_bits(d.conditional_goldfeld.sel(layer=l).values[:, keep]), c,
                              f"{short}: h(T|X) − h(Z)", ls="--")
        label = "plain Adam" if w == "plain" else f"orthonormality step, alpha = {goldfeld2019.ALPHA:g}"
        how = ""
        if matched:
            axes[i, 0].plot([], [], "k--", lw=1.4, label="matched estimate (each layer's colour)")
            at = json.loads(ds.attrs["configs"])[str(w)]       # the concatenated variables' attrs are dropped
            n_m = min(at["matched_inputs"], at["n_samples"])
            how = f"\n(solid: one pass per input in h(T); dashed: {at['matched_reps']} passes x {n_m} inputs in both)"
        axes[i, 0].set_title(f"{'AD'[i]}  {label}: I(X;T_l), Goldfeld's estimator{how}", fontsize=9)
        axes[i, 1].set_title(f"{'BE'[i]}  {label}: fraction of input pairs within 3 noise std", fontsize=9)
        axes[i, 2].set_title(f"{'CF'[i]}  I(X;T) = entropy term (solid) − conditional term (dashed)", fontsize=9)
        axes[i, 0].set_ylabel("I(X;T) [bits]")
        axes[i, 1].set_ylabel("clustered fraction of pairs")
        axes[i, 2].set_ylabel("bits above h(Z)")
    for ax in axes.flat:
        ax.set_xscale("log")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    for ax in axes.flat:
        ax.legend(fontsize=6, ncol=2 if ax in list(axes[:, 2]) else 1)
    cfg = res.data.attrs["configs"]
    n = json.loads(cfg)["plain"]["n_samples"]
    n_m = min(json.loads(cfg)["plain"].get("matched_inputs", n), n)
    fig.suptitle(f"Noisy 12-10-7-5-4-3-2 tanh, noise std {goldfeld2019.NOISE_STD:g} after every hidden unit, "
                 f"{ds.sizes['member']} networks; estimator on {n} of the 4096 patterns (at most log2 {n} = "
                 f"{np.log2(n):.0f} bits), matched estimate on {n_m} of them (at most {np.log2(n_m):.0f} bits)",
                 fontsize=9)
    bottom = 0.02 + 0.0155 * len(res.claims)                  # room for one line per claim below the panels
    fig.get_layout_engine().set(rect=(0, bottom, 1, 1 - bottom))
    fig.text(0.01, 0.005, "\n".join(claim_line(c) + "  " + c.statement for c in res.claims), fontsize=7,
             va="bottom")
    return attach_claims(fig, res.claims, configs=cfg)
