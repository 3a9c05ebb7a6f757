"""Saxe et al. (2018) Fig. 18: a deep linear student (5 hidden layers x 50 units) on the linear teacher task.

The student-teacher task of Saxe et al. (2018, Sec. 5) with ``n_in = 100`` inputs, ``P = 100`` training samples
(alpha = P / n_in = 1, where gradient descent overtrains), SNR 1, one output, and an exact information plane
(``I(T;X) = 1/2 ln det(I + Wbar Sigma_x Wbar^T / sigma_MI^2)``, sigma_MI^2 = 1; :mod:`minimal_models`).
Initialisation: weight entries N(0, init_scale^2 / fan_in) with ``init_scale = 1``: with the paper's small
initialisation for the shallow net (0.1) the product of five layers starts at ~1e-5 of the teacher's scale and
gradient descent does not leave the saddle in any affordable time (measured: no change of the training error in
4000 epochs), so Fig. 18's network needs an initialisation of order one to learn at all.
Full-batch gradient descent, learning rate 0.2.
"""
from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import xarray as xr

from experiments.claims import Claim
from experiments.common import THRESHOLD_BITS, compression_bits
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import layer_names

__all__ = ["fig18", "deep_linear_config", "train_deep_linear"]

PAPER = "Saxe et al. 2018"
SCALES = {"quick": dict(n_trials=3, epochs=4000, log_epochs=60), "full": dict(n_trials=20, epochs=20000, log_epochs=200)}


def deep_linear_config(*, n_in: int = 100, n_hidden: int = 50, depth: int = 5, n_train: int = 100, snr: float = 1.0,
                       init_scale: float = 1.0, lr: float = 0.2, epochs: int = 4000, log_epochs: int = 60,
                       n_trials: int = 3, seed: int = 0) -> dict:
    return {"n_in": n_in, "n_hidden": n_hidden, "depth": depth, "n_train": n_train, "snr": snr,
            "init_scale": init_scale, "lr": lr, "epochs": epochs, "log_epochs": log_epochs, "n_trials": n_trials,
            "seed": seed}


def train_deep_linear(cfg: dict) -> xr.Dataset:
    """Train the deep linear student of ``cfg`` and return the labelled Dataset (member = trial)."""
    from minimal_models import LinearStudentTeacher

    model = LinearStudentTeacher(n_in=cfg["n_in"], n_hidden=cfg["n_hidden"], depth=cfg["depth"],
                                 n_train=cfg["n_train"], snr=cfg["snr"], init_scale=cfg["init_scale"],
                                 n_trials=cfg["n_trials"], seed=cfg["seed"])
    r = model.train("gd", lr=cfg["lr"], epochs=cfg["epochs"], log_epochs=cfg["log_epochs"])
    n_layers = r.i_xt.shape[-1]
    widths = [cfg["n_in"]] + [cfg["n_hidden"]] * cfg["depth"] + [1]
    coords = {"member": np.arange(r.i_xt.shape[0]), "epoch": r.epochs, "layer": np.arange(1, n_layers + 1),
              "layer_name": ("layer", layer_names(widths, "linear")), "split": ["train", "test"]}
    dv = {"i_xt_exact": (("member", "epoch", "layer"), r.i_xt, {"units": "nats"}),
          "i_ty_exact": (("member", "epoch", "layer"), r.i_ty, {"units": "nats"}),
          "error": (("member", "epoch", "split"), np.stack([r.train_error, r.test_error], -1))}
    return xr.Dataset(dv, coords=coords, attrs={"config": json.dumps(cfg, sort_keys=True), "h_x": float("nan"),
                                                "h_y": float("nan")})


@experiment("saxe-fig18", "Saxe 2018 Fig. 18: deep linear student (5 hidden layers x 50), exact information plane",
            PAPER)
def fig18(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Claims: no hidden layer of the deep linear network compresses (exact I(X;T)); and it overtrains (test error
    ends above its minimum) — generalization changes without compression."""
    cfg = deep_linear_config(**{**SCALES[check_scale(scale)], **overrides})
    ds = cached("deep-linear", cfg, lambda ck: train_deep_linear(cfg), scale=scale, verbose=verbose).data
    hidden = [int(l) for l in ds.layer.values[:-1]]
    test = ds.error.sel(split="test").values
    claims = [
        Claim.measured(PAPER, "Fig. 18", "deep linear network: no hidden layer compresses (exact I(X;T))",
                       compression_bits(ds, "i_xt_exact", hidden), "<", THRESHOLD_BITS,
                       quantity="compression of exact I(X;T), largest over hidden layers (bits)",
                       experiment="saxe-fig18"),
        Claim.measured(PAPER, "Fig. 18", "...while it overtrains: the test error ends above its minimum",
                       test[:, -1] - test.min(axis=1), ">", 0.0, quantity="final − minimum test error (mse)",
                       experiment="saxe-fig18",
                       numbers={"epoch_of_min_test_error": ds.epoch.values[test.argmin(axis=1)]}),
    ]
    return ExperimentResult("saxe-fig18", scale, ds, claims)
