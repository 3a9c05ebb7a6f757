r"""Saxe et al. (2018) Fig. 6: simultaneous fitting and compression in a linear network with task-irrelevant inputs.

The task (Saxe et al. 2018, Sec. 6, Fig. 6): the linear student-teacher set-up of their Sec. 5 (inputs
:math:`x \sim N(0, I/N_i)`, teacher :math:`y = W_o x + \epsilon`, :math:`W_o` entries N(0, 1), label noise
:math:`\epsilon \sim N(0, 1/\mathrm{SNR})`) with :math:`N_i = 100` inputs of which the first 30 are task-relevant and
the other 70 have zero teacher weight (they carry only "noise"); a linear student 100-100-1 trained by SGD with 5
samples per batch. The information is exact (:mod:`minimal_models.linear_student_teacher`, analysis noise
:math:`\sigma^2_{MI} = 1`): the whole layer's :math:`I(X;T)` and the information about each input subspace,
:math:`I(T; X_S)` with the other inputs as noise ("marginal", the primary quantity of the claims) and the sub-map alone
("submap", :math:`I(T; X_S | X_{rest})`), both stored.

What the paper states about its set-up: 100 inputs, 30 relevant, SGD with 5 samples per batch. It does not restate
the sample count, the SNR, the initialisation or the learning rate for this figure, so these are ours, chosen to match
the rest of its linear-network set-up (Sec. 5):

* small initial weights, entries :math:`N(0, 0.1^2/\mathrm{fan\_in})` (:data:`INIT_SCALE`), as in this toolkit's
  Figs. 3 and 4A-B runs. Small weights matter in a linear network: from them the network learns its input-output
  map mode by mode and every information starts near 0. An earlier version of this figure started from weights of
  order one (scale 1): the 70 irrelevant input columns of the hidden layer then hold random weights that SGD prunes
  slowly, long after the test error has settled, so the whole hidden layer's I(X;T) fell (measured, with SNR 10 and
  lr 0.25, 1 trial: by 0.014 bits from its 0.76-bit peak at epoch ~100 to epoch 300, the test error settled since
  epoch ~4) — the opposite of the paper's point;
* P = 400 training samples (:math:`\alpha = P/N_i = 4`): at :math:`\alpha = 1` the network overtrains (Fig. 3), and
  the task-irrelevant weights it then fits to the label noise dominate the irrelevant information;
* SNR 100 (:data:`SNR`). The irrelevant weights of the fully trained network are the label noise it fitted,
  :math:`|W_{irr}|^2 \approx 70\, N_i/(P\,\mathrm{SNR})`; while the relevant mode grows, gradient descent also
  follows the samples' chance correlation between relevant and irrelevant inputs (size
  :math:`\approx 70\,|W_{rel}|^2/P`) and removes it as the fit completes — the compression Saxe et al. describe. It is
  visible only where the second exceeds the first, i.e. for SNR well above :math:`N_i/30 \approx 3`. Measured at
  this toolkit's earlier SNR 10 (quick scale otherwise as here: 3 trials, 300 epochs): the whole layer does not
  compress and the relevant information rises, as here, but the hidden layer's irrelevant information does not
  compress (it rises from 0.005 to 0.014-0.021 bits) and the output's falls by only 0.6-3.9 % of its peak;
* SGD learning rate 0.2 per mean-loss batch step (:data:`LR`), the toolkit's Fig. 4A-B rate.

Claims (hidden layer, the paper's "hidden representations"; exact information in bits): the whole layer does not
compress; the information about the relevant inputs rises; the information about the irrelevant inputs compresses;
the test error settles. Compression is THE measure of :mod:`experiments.compression` (largest 5-point running mean
minus the mean of the last 5 logged epochs); because every information here is a fraction of a bit (the analysis
noise has variance 1 while the inputs have variance 1/100), a layer "compresses" when that drop exceeds
:data:`RELATIVE_THRESHOLD` = 5 % of its peak and "does not compress" when it stays below (exact values: no estimator
noise, only SGD's fluctuations, which the 5-point mean averages out).

Measured (claims table; seed 0). Quick scale, 3 trials x 300 epochs: the whole hidden layer's compression is 0
(its I(X;T) rises throughout); I(T; X_rel) gains 0.96 of its end value; I(T; X_irr) of the hidden layer falls by
10 ± 3 % of its peak (0.0005-0.0008 of ~0.0062 bits; the output layer's by 55 ± 14 %), its peak at epoch 3 while
the test error settles at epochs 8-12. Full scale, 10 trials x 1500 epochs: the same verdicts, the hidden layer's
irrelevant information falling by 9 ± 5 % (2-15 % per trial; output 44-74 %). The hidden layer's fall is small
because most of its irrelevant information is the random initial weights of the hidden units the task never uses
(0.005 bits at epoch 0), and because SGD at this learning rate slowly enlarges the hidden weights along the
rescaling symmetry (:math:`W_1 \to c W_1, W_2 \to W_2/c`, which leaves the output unchanged), so after the fit every
hidden-layer information creeps up again (panel B of the figure); the output layer's information depends on the
product :math:`W_2 W_1` only and shows the compression cleanly. Runtime from an empty cache with one BLAS thread on the
shared 2-core machine: quick 5.7 s (load average ~9), full 100 s (load ~6).
"""
from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import xarray as xr

from analytic.units import to_bits
from experiments.claims import Claim
from experiments.compression import WINDOW, compression_detail
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import layer_names

__all__ = ["fig6", "fig6_config", "train_fig6", "relative_compression", "settle_epoch", "RELATIVE_THRESHOLD",
           "SETTLE_TOLERANCE", "SNR", "INIT_SCALE", "LR", "SUBSPACES"]

PAPER = "Saxe et al. 2018"
#: Label SNR, initial weight scale and SGD learning rate of the Fig. 6 run (module docstring: why these).
SNR = 100.0
INIT_SCALE = 0.1
LR = 0.2
#: A layer compresses when its compression exceeds this fraction of its peak; it does not when it stays below.
RELATIVE_THRESHOLD = 0.05
#: The test error has "settled" from the first logged epoch after which it stays within this fraction of its end.
SETTLE_TOLERANCE = 0.05
#: Stored subspace informations: (subspace, definition).
SUBSPACES = (("relevant", "marginal"), ("relevant", "submap"), ("irrelevant", "marginal"),
             ("irrelevant", "submap"))
SCALES = {"quick": dict(n_trials=3, epochs=300, log_epochs=40),
          "full": dict(n_trials=10, epochs=1500, log_epochs=80)}


def fig6_config(*, n_in: int = 100, n_relevant: int = 30, n_hidden: int = 100, depth: int = 1, n_train: int = 400,
                snr: float = SNR, init_scale: float = INIT_SCALE, lr: float = LR, batch_size: int = 5,
                epochs: int = 300, log_epochs: int = 40, n_trials: int = 3, seed: int = 0) -> dict:
    """The configuration of the Fig. 6 run (defaults: the quick scale; module docstring for the choices)."""
    return {"n_in": int(n_in), "n_relevant": int(n_relevant), "n_hidden": int(n_hidden), "depth": int(depth),
            "n_train": int(n_train), "snr": float(snr), "init_scale": float(init_scale), "lr": float(lr),
            "batch_size": int(batch_size), "epochs": int(epochs), "log_epochs": log_epochs,
            "n_trials": int(n_trials), "seed": int(seed)}


def train_fig6(cfg: dict, progress: bool = False) -> xr.Dataset:
    """Train the linear student of ``cfg`` by SGD and return the labelled Dataset (member = trial; nats).

    Variables: ``i_xt_exact``, ``i_ty_exact`` (member, epoch, layer); ``i_xs_exact`` (member, epoch, layer,
    subspace, definition) = :math:`I(T_l; X_S)`; ``error`` (member, epoch, split) mean squared error, the test
    error exact for the current weights. Coordinate ``as_time``: gradient-flow time lr * epoch / batch.
    """
    from minimal_models import LinearStudentTeacher

    model = LinearStudentTeacher(n_in=cfg["n_in"], n_hidden=cfg["n_hidden"], depth=cfg["depth"],
                                 n_train=cfg["n_train"], snr=cfg["snr"], init_scale=cfg["init_scale"],
                                 n_relevant=cfg["n_relevant"], n_trials=cfg["n_trials"], seed=cfg["seed"])
    r = model.train("sgd", lr=cfg["lr"], epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                    log_epochs=cfg["log_epochs"], progress=progress)
    n_layers = r.i_xt.shape[-1]
    widths = [cfg["n_in"]] + [cfg["n_hidden"]] * cfg["depth"] + [1]
    sub = np.stack([np.stack([r.subspace[f"{s}_{d}"] for d in ("marginal", "submap")], -1)
                    for s in ("relevant", "irrelevant")], -2)            # (member, epoch, layer, subspace, definition)
    coords = {"member": np.arange(r.i_xt.shape[0]), "epoch": r.epochs, "as_time": ("epoch", r.as_time),
              "layer": np.arange(1, n_layers + 1), "layer_name": ("layer", layer_names(widths, "linear")),
              "split": ["train", "test"], "subspace": ["relevant", "irrelevant"],
              "definition": ["marginal", "submap"]}
    dv = {"i_xt_exact": (("member", "epoch", "layer"), r.i_xt, {"units": "nats"}),
          "i_ty_exact": (("member", "epoch", "layer"), r.i_ty, {"units": "nats"}),
          "i_xs_exact": (("member", "epoch", "layer", "subspace", "definition"), sub, {"units": "nats"}),
          "error": (("member", "epoch", "split"), np.stack([r.train_error, r.test_error], -1))}
    return xr.Dataset(dv, coords=coords, attrs={"config": json.dumps(cfg, sort_keys=True), "h_x": float("nan"),
                                                "h_y": float("nan")})


def relative_compression(curve: np.ndarray, epochs: np.ndarray) -> tuple[np.ndarray, Any]:
    r"""Compression (:mod:`experiments.compression`) of curves (..., L) as a fraction of their peak:
    :math:`(\max_j \bar I_j - \bar I_{end}) / \max_j \bar I_j` (0 where the peak is 0), and the
    :class:`~experiments.compression.Compression` detail.

    >>> import numpy as np
    >>> e = np.arange(20)
    >>> round(float(relative_compression(np.r_[np.arange(10.0), 10 - np.arange(10.0)], e)[0]), 4)   # 5.8 of 8.8
    0.6591
    """
    c = compression_detail(curve, epochs)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(c.peak > 0, c.drop / np.where(c.peak > 0, c.peak, 1.0), 0.0)
    return rel, c


def settle_epoch(test_error: np.ndarray, epochs: np.ndarray, tol: float = SETTLE_TOLERANCE) -> np.ndarray:
    """Per member, the first logged epoch from which the test error stays within ``tol`` (relative) of its end
    value (the mean of the last :data:`~experiments.compression.WINDOW` logged epochs): (member, L) -> (member,).

    >>> import numpy as np
    >>> int(settle_epoch(np.array([[4.0, 2.0, 1.04, 0.98, 1.0, 1.0, 1.0, 1.0]]), np.arange(8))[0])
    2
    """
    te = np.asarray(test_error, dtype=float)
    end = te[:, -WINDOW:].mean(axis=1, keepdims=True)
    outside = np.abs(te - end) > tol * np.abs(end)
    # index after the last logged epoch outside the band (0 if never outside)
    last_out = np.where(outside.any(axis=1), te.shape[1] - 1 - np.argmax(outside[:, ::-1], axis=1), -1)
    return np.asarray(epochs)[np.minimum(last_out + 1, te.shape[1] - 1)]


@experiment("saxe-fig6", "Saxe 2018 Fig. 6: linear student with 30 task-relevant and 70 task-irrelevant inputs, SGD "
            "batch 5: exact whole-layer and subspace information", PAPER)
def fig6(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Saxe et al. (2018) Fig. 6 (module docstring for the set-up and the thresholds).

    Claims, hidden layer: the whole layer's I(X;T) does not compress; I(T; X_rel) rises (its gain over training,
    end minus epoch 0, is more than half its end value); I(T; X_irr) compresses, and peaks (the first logged epoch of
    its peak window) no later than the test error settles; the test error settles (within 5 % of its end value) in
    the first half of training. The output layer's numbers are in each
    claim's ``numbers``.
    """
    cfg = fig6_config(**{**SCALES[check_scale(scale)], **overrides})
    ds = cached("saxe-fig6", cfg, lambda ck: train_fig6(cfg, progress=verbose), scale=scale, verbose=verbose).data
    e = ds.epoch.values
    hidden, out = int(ds.layer.values[0]), int(ds.layer.values[-1])

    def curve(layer, subspace=None):
        v = ds.i_xt_exact if subspace is None else ds.i_xs_exact.sel(subspace=subspace, definition="marginal")
        return to_bits(v.sel(layer=layer).values)                    # (member, epoch)

    def detail(layer, subspace=None):
        rel, c = relative_compression(curve(layer, subspace), e)
        return {"relative_compression": rel, "compression_bits": c.drop, "peak_bits": c.peak, "end_bits": c.end,
                "peak_epoch": c.peak_epoch}

    test = ds.error.sel(split="test").values
    settled = settle_epoch(test, e)
    whole, rel, irr = detail(hidden), detail(hidden, "relevant"), detail(hidden, "irrelevant")
    irr_sub = relative_compression(to_bits(ds.i_xs_exact.sel(layer=hidden, subspace="irrelevant",
                                                             definition="submap").values), e)[0]
    rc = curve(hidden, "relevant")
    gain = (rc[:, -WINDOW:].mean(1) - rc[:, 0]) / rc[:, -WINDOW:].mean(1)
    q = "compression / peak, exact I(X;T), hidden layer"
    claims = [
        Claim.measured(PAPER, "Fig. 6A", "linear network with task-irrelevant inputs: the whole hidden layer's "
                       "I(X;T) does not compress", whole["relative_compression"], "<", RELATIVE_THRESHOLD,
                       quantity=q, experiment="saxe-fig6",
                       numbers={"hidden": whole, "output": detail(out), "settle_epoch": settled}),
        Claim.measured(PAPER, "Fig. 6B", "the information about the task-relevant inputs rises over training",
                       gain, ">", 0.5, quantity="(end − epoch 0) / end of I(T; X_rel), hidden layer",
                       experiment="saxe-fig6", numbers={"hidden": rel, "output": detail(out, "relevant")}),
        Claim.measured(PAPER, "Fig. 6C", "the information about the task-irrelevant inputs compresses",
                       irr["relative_compression"], ">", RELATIVE_THRESHOLD,
                       quantity="compression / peak of I(T; X_irr) (other inputs as noise), hidden layer",
                       experiment="saxe-fig6",
                       numbers={"hidden": irr, "output": detail(out, "irrelevant"),
                                "hidden_submap_relative_compression": irr_sub, "settle_epoch": settled}),
        Claim.measured(PAPER, "Fig. 6C", "...at the same time as the fitting: the irrelevant information peaks "
                       "before the test error settles", irr["peak_epoch"] - settled, "<=", 0,
                       quantity="peak epoch of I(T; X_irr), hidden layer − epoch the test error settles",
                       experiment="saxe-fig6", numbers={"peak_epoch": irr["peak_epoch"], "settle_epoch": settled}),
        Claim.measured(PAPER, "Fig. 6", "...while the network fits: the test error settles in the first half of "
                       "training", settled / e[-1], "<", 0.5,
                       quantity=f"first epoch within {SETTLE_TOLERANCE:.0%} of the end test error / epochs",
                       experiment="saxe-fig6",
                       numbers={"settle_epoch": settled, "end_test_error": test[:, -WINDOW:].mean(1),
                                "min_test_error": test.min(1)}),
    ]
    return ExperimentResult("saxe-fig6", scale, ds, claims)
