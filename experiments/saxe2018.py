"""Saxe et al. (2018), "On the information bottleneck theory of deep learning": the 12-bit experiments.

Each function's defaults are the paper's set-up on Shwartz-Ziv & Tishby's (2017) 12-bit task (see
:mod:`experiments.twelve_bit`); ``scale="quick"`` (``make figures``: 5 networks x 2000 epochs, 60 log-spaced logged
epochs) or ``"full"`` (50 networks x 8000 epochs, ~200 logged epochs). Each returns an
:class:`~experiments.result.ExperimentResult` whose claims are measured from the runs with the one compression
measure (:mod:`experiments.compression`) and the threshold :data:`experiments.common.THRESHOLD_BITS`.

* :func:`fig1` — Fig. 1A-B: tanh compresses, ReLU does not (binning; KDE in :func:`fig8`).
* :func:`fig7` — Fig. 7: learning curves of the same runs (ReLU generalizes as well as tanh).
* :func:`fig5` — Fig. 5: minibatch (stochastic) versus full-batch gradient descent, tanh and ReLU.
* :func:`fig4cd` — Fig. 4C-D: tanh on 30 % of the data overfits and compresses.
* :func:`fig8` — Fig. 8: KDE information planes for tanh, ReLU, softsign and softplus.
* :func:`fig12` — Fig. 12: k-nearest-neighbour (Kozachenko-Leonenko, k = 2) estimate on :func:`fig1`'s runs.

Full-batch runs (Fig. 5) take as many epochs as the minibatch runs (so 13 x fewer updates: 3277 training patterns
in batches of 256 make 13 updates per epoch); the learning rate, optimizer and initialisation are the same.
"""
from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np

from experiments.claims import Claim
from experiments.common import (THRESHOLD_BITS, TWELVE_BIT_SCALES, combine, compression_bits, compression_claim,
                                hidden_layers, twelve_bit, twelve_bits)
from experiments.registry import cached_many, check_scale, experiment
from experiments.twelve_bit import planes_from_dataset
from experiments.result import ExperimentResult

__all__ = ["fig1", "fig7", "fig5", "fig4cd", "fig8", "fig12"]

PAPER = "Saxe et al. 2018"
LAST_HIDDEN = 5


@experiment("saxe-fig1", "Saxe 2018 Fig. 1A-B: 12-bit task, tanh vs ReLU, binned and KDE information planes",
            PAPER)
def fig1(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """tanh and ReLU networks (Saxe et al. 2018, Fig. 1A-B). Claims: tanh's last hidden layer compresses
    (binned I(X;T)); no ReLU hidden layer does."""
    check_scale(scale)
    ds = combine(twelve_bits({a: (a, overrides) for a in ("tanh", "relu")}, scale, verbose), "activation")
    claims = [
        compression_claim(ds.sel(activation="tanh"), "i_xt_binned", [LAST_HIDDEN], compresses=True, paper=PAPER,
                          figure="Fig. 1A", experiment="saxe-fig1",
                          statement="tanh: the last hidden layer compresses (binning, 30 edges on [-1, 1])"),
        compression_claim(ds.sel(activation="relu"), "i_xt_binned", hidden_layers(ds), compresses=False,
                          paper=PAPER, figure="Fig. 1B", experiment="saxe-fig1",
                          statement="ReLU: no hidden layer compresses (binning, 100 min-max bins over the run)"),
    ]
    return ExperimentResult("saxe-fig1", scale, ds, claims)


@experiment("saxe-fig7", "Saxe 2018 Fig. 7: learning curves of the tanh and ReLU 12-bit networks", PAPER)
def fig7(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Learning curves of :func:`fig1`'s runs (Saxe et al. 2018, Fig. 7). Claim: ReLU networks, which do not
    compress, reach a final test accuracy no lower than tanh's minus 0.02."""
    ds = fig1(scale, verbose, **overrides).data
    acc = ds.accuracy.sel(split="test").isel(epoch=-1)
    tanh_mean = float(acc.sel(activation="tanh").mean())
    relu = acc.sel(activation="relu").values
    claims = [Claim.measured(PAPER, "Fig. 7", "ReLU networks generalize as well as tanh networks "
                             "(final test accuracy, ReLU member minus tanh mean)", relu - tanh_mean, ">", -0.02,
                             quantity="test accuracy difference", experiment="saxe-fig7",
                             numbers={"tanh_test_accuracy": acc.sel(activation="tanh").values,
                                      "relu_test_accuracy": relu})]
    return ExperimentResult("saxe-fig7", check_scale(scale), ds, claims)


@experiment("saxe-fig5", "Saxe 2018 Fig. 5: minibatch (stochastic) vs full-batch gradient descent, tanh and ReLU",
            PAPER)
def fig5(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Stochastic (Adam, batch 256) versus batch (Adam, full batch, the same number of epochs) training
    (Saxe et al. 2018, Fig. 5). Claims: tanh compresses and ReLU does not under both, so stochasticity is not what
    causes compression."""
    check_scale(scale)
    epochs = overrides.pop("epochs", TWELVE_BIT_SCALES[scale]["epochs"])
    bgd_epochs = epochs
    specs = {}
    for a in ("tanh", "relu"):
        specs[f"{a} SGD"] = (a, {"epochs": epochs, **overrides})
        specs[f"{a} BGD"] = (a, {"epochs": bgd_epochs, "batch_size": "full", "estimators": ("binned",), **overrides})
    runs = twelve_bits(specs, scale, verbose)
    ds = combine({k: v.drop_vars([n for n in ("i_xt_kde", "i_ty_kde", "kde_logged") if n in v]) for k, v in
                  runs.items()}, "run")
    claims = []
    for a, name in (("tanh", "tanh"), ("relu", "ReLU")):
        for kind in ("SGD", "BGD"):
            d = runs[f"{a} {kind}"]
            if a == "tanh":
                claims.append(compression_claim(d, "i_xt_binned", [LAST_HIDDEN], compresses=True, paper=PAPER,
                                                figure="Fig. 5" + ("A" if kind == "SGD" else "B"),
                                                experiment="saxe-fig5",
                                                statement=f"tanh, {kind}: the last hidden layer compresses"))
            else:
                claims.append(compression_claim(d, "i_xt_binned", hidden_layers(d), compresses=False, paper=PAPER,
                                                figure="Fig. 5" + ("C" if kind == "SGD" else "D"),
                                                experiment="saxe-fig5",
                                                statement=f"ReLU, {kind}: no hidden layer compresses"))
    ds.attrs["bgd_epochs"] = bgd_epochs
    ds.attrs["sgd_epochs"] = epochs
    return ExperimentResult("saxe-fig5", scale, ds, claims)


@experiment("saxe-fig4cd", "Saxe 2018 Fig. 4C-D: tanh on 30% of the data: overfitting and compression together",
            PAPER)
def fig4cd(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """tanh trained on 30 % of the 12-bit patterns (1229, Saxe et al. 2018, Fig. 4C-D). Claims: the test loss
    rises after its minimum (overfitting); the last hidden layer compresses; and it keeps compressing after the
    test-loss minimum (so compression does not track generalization)."""
    check_scale(scale)
    ds = twelve_bit("tanh", scale, verbose, train_fraction=0.3, estimators=("binned",), **overrides)
    test = ds.loss.sel(split="test").values                         # (member, epoch)
    i_min = test.argmin(axis=1)
    overfit = test[:, -1] - test.min(axis=1)
    e = ds.epoch.values
    i5 = ds.i_xt_binned.sel(layer=LAST_HIDDEN).values / np.log(2)  # bits
    after = np.array([i5[m, i_min[m]] - i5[m, -5:].mean() for m in range(i5.shape[0])])
    claims = [
        Claim.measured(PAPER, "Fig. 4C", "tanh on 30% of the data overfits: the test loss ends above its minimum",
                       overfit, ">", 0.01, quantity="final − minimum test loss (nats)", experiment="saxe-fig4cd",
                       numbers={"epoch_of_min_test_loss": e[i_min]}),
        compression_claim(ds, "i_xt_binned", [LAST_HIDDEN], compresses=True, paper=PAPER, figure="Fig. 4D",
                          experiment="saxe-fig4cd", statement="tanh on 30% of the data: the last hidden layer "
                          "compresses"),
        Claim.measured(PAPER, "Fig. 4C-D", "...and I(X;T) of the last hidden layer still falls after the test-loss "
                       "minimum (compression while overfitting)", after, ">", THRESHOLD_BITS,
                       quantity="I(X;T) at min test loss − end (bits)", experiment="saxe-fig4cd"),
    ]
    return ExperimentResult("saxe-fig4cd", scale, ds, claims)


@experiment("saxe-fig8", "Saxe 2018 Fig. 8: KDE information planes for tanh, ReLU, softsign and softplus", PAPER)
def fig8(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """KDE (upper bound, noise variance 0.1) for four activations (Saxe et al. 2018, Fig. 8). Claims: the
    double-sided saturating tanh and softsign compress in the last hidden layer, the single-sided ReLU and softplus
    do not compress in any hidden layer."""
    check_scale(scale)
    acts = ("tanh", "softsign", "relu", "softplus")
    ds = combine(twelve_bits({a: (a, overrides) for a in acts}, scale, verbose), "activation")
    claims = []
    for a in acts:
        d = ds.sel(activation=a)
        two = a in ("tanh", "softsign")
        layers = [LAST_HIDDEN] if two else hidden_layers(ds)
        statement = (f"{a} (double-sided saturating): the last hidden layer compresses (KDE)" if two else
                     f"{a} (single-sided saturating): no hidden layer compresses (KDE)")
        claims.append(compression_claim(d, "i_xt_kde", layers, compresses=two, paper=PAPER, figure="Fig. 8",
                                        experiment="saxe-fig8", statement=statement))
    return ExperimentResult("saxe-fig8", scale, ds, claims)


@experiment("saxe-fig12", "Saxe 2018 Fig. 12: k-NN (Kozachenko-Leonenko, k = 2) information planes of the tanh and "
            "ReLU 12-bit networks", PAPER)
def fig12(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """The k-NN entropy estimate (k = 2, activity plus noise of variance 0.1; Saxe et al. 2018, App. B.3, Fig. 12)
    on :func:`fig1`'s cached runs (computed from their recorded parameters, no new training). Claims: tanh's last
    hidden layer compresses, no ReLU hidden layer does."""
    check_scale(scale)
    bases = twelve_bits({a: (a, overrides) for a in ("tanh", "relu")}, scale, verbose)
    jobs = [("12bit-knn", {"from": json.loads(base.attrs["config"]), "estimator": "knn", "k": 2},
             lambda ck, base=base: planes_from_dataset(base, ("knn",))) for base in bases.values()]
    planes = dict(zip(bases, (r.data for r in cached_many(jobs, scale=scale, verbose=verbose))))
    ds = combine(planes, "activation")
    claims = [
        compression_claim(ds.sel(activation="tanh"), "i_xt_knn", [LAST_HIDDEN], compresses=True, paper=PAPER,
                          figure="Fig. 12", experiment="saxe-fig12",
                          statement="tanh: the last hidden layer compresses (k-NN, k = 2)"),
        compression_claim(ds.sel(activation="relu"), "i_xt_knn", hidden_layers(ds), compresses=False, paper=PAPER,
                          figure="Fig. 12", experiment="saxe-fig12",
                          statement="ReLU: no hidden layer compresses (k-NN, k = 2)"),
    ]
    return ExperimentResult("saxe-fig12", scale, ds, claims)


def compression_table(ds, var="i_xt_binned"):
    """Per-member compression (bits) of every layer: array (member, layer)."""
    return np.stack([compression_bits(ds, var, [l]) for l in ds.layer.values], axis=-1)
