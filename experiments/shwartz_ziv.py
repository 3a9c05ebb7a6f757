r"""Shwartz-Ziv & Tishby (2017), "Opening the black box of deep neural networks via information": the 12-bit task
run the way their published code ran it.

Protocol (their code's job for the 12-bit task, as opposed to Saxe et al.'s 2018 re-run in
:mod:`experiments.saxe2018`):

* network 12-10-7-5-4-4-3-2: six tanh hidden layers and a 2-unit softmax output, cross-entropy,
  truncated-normal initialisation (std 1/sqrt(fan-in), zero biases);
* full-batch Adam, learning rate 2e-4, TensorFlow 1's ``AdamOptimizer`` defaults (beta1 0.9, beta2 0.999,
  epsilon 1e-8: the ``"adam_tf1"`` preset of :mod:`sims.optim`), one update per epoch, 10,000 epochs;
* 20 repeats, each with its own random 80/20 split of the 4096 patterns (per-member data: all repeats train in one
  vectorized ensemble run, :func:`sims.train.train` with a list of datasets and one seed per member);
* I(X;T) and I(T;Y) by binning every unit's activity with the 50 edges ``linspace(-1, 1, 50)`` over all 4096
  equiprobable patterns, **in their code's convention**: symbol ``bins[np.digitize(h, bins) - 1]``, so activity
  exactly equal to 1.0 (float64 tanh of a net input above ~19.06) is a symbol of its own, apart from the top bin
  [e_48, 1). The toolkit's own convention (:mod:`analytic.binning`) merges it into the top bin; here the same
  symbols are obtained from :func:`sims.estimators.binned` with the edges :func:`their_edges` (one edge 2.0
  appended above 1.0, so that [1.0, inf) is a bin of its own);
* logged at their log-spaced epochs (:func:`their_log_epochs`): ``unique(int(logspace(0, log2(epochs), 1800,
  base=2)))`` updates, 964 epochs for 10,000 (their index j is the network after j + 1 updates, our epoch j + 1;
  our epoch 0, the initial network, is added so that the compression measure of :mod:`experiments.compression`
  sees the whole run).

The information planes are computed while training (a consumer of the analysis-set activity at each logged epoch),
so no activity is stored: memory is the 20 networks and one epoch's activity (4096 x 35 floats per member).

Claims (compression by :func:`experiments.compression.compression`, threshold
:data:`experiments.common.THRESHOLD_BITS`): under this protocol the last hidden layer compresses (their Fig. 2);
its I(X;T) peaks in the first half of training, so the compression phase is the longer one (their Sec. 3). The
per-layer compression and the fraction of hidden activity at exactly +-1.0 at the end (the values their convention
treats apart) are reported with them.
"""
from __future__ import annotations

import json
import os
from typing import Any, Literal

import numpy as np
import xarray as xr

from analytic.binning import tishby_edges
from analytic.units import to_bits
from experiments.claims import Claim
from experiments.common import THRESHOLD_BITS
from experiments.compression import compression, compression_detail
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import CHECKPOINT_EVERY, to_dataset
from sims import MLP, datasets
from sims.estimators import binned
from sims.train import train

__all__ = ["WIDTHS", "SCALES", "their_edges", "their_log_epochs", "shwartz_ziv_config", "train_shwartz_ziv",
           "BinnedConsumer", "fig2"]

PAPER = "Shwartz-Ziv & Tishby 2017"
#: Their 12-bit network: six tanh hidden layers and a 2-unit softmax output.
WIDTHS = (12, 10, 7, 5, 4, 4, 3, 2)
LAST_HIDDEN = len(WIDTHS) - 2

#: quick: what ``make figures`` uses (the full scale's verdict already holds there; ~30 s on 2 shared cores);
#: full: their 20 repeats x 10,000 epochs at their 964 logged epochs (projected ~5-6 min on 2 shared cores from
#: timed smaller runs: ~1.3 ms per network-epoch of training, ~3 ms per network and logged epoch of binning; memory
#: stays at a few MB, no activity is stored).
SCALES = {"quick": dict(repeats=5, epochs=4000, log_samples=400),
          "full": dict(repeats=20, epochs=10000, log_samples=1800)}


def their_edges(n_edges: int = 50) -> np.ndarray:
    """``linspace(-1, 1, n_edges)`` plus one edge 2.0: under :func:`analytic.binning.bin_index`'s convention
    (outer bins extend to infinity) these give exactly the symbols of their ``bins[np.digitize(h, bins) - 1]`` for
    every activity >= -1: bins [e_k, e_{k+1}) for k < n_edges - 1, and 1.0 (and above) a symbol of its own.

    >>> from analytic.binning import bin_index
    >>> e = their_edges(5)                                   # -1, -0.5, 0, 0.5, 1, 2
    >>> bin_index([-1.0, 0.49, 0.5, 0.999, 1.0], e).tolist()
    [0, 2, 3, 3, 4]
    """
    return np.append(tishby_edges(n_edges), 2.0)


def their_log_epochs(epochs: int, samples: int = 1800) -> np.ndarray:
    """Their logged epochs as update counts, with the initial network (0) added:
    ``[0] + unique(logspace(0, log2(epochs), samples, base=2, dtype=int))``.

    >>> e = their_log_epochs(10000)
    >>> len(e) - 1, e[:4].tolist(), int(e[-1])
    (964, [0, 1, 2, 3], 9999)
    """
    e = np.unique(np.logspace(0, np.log2(epochs), samples, base=2, dtype=int))
    return np.concatenate([[0], e]).astype(np.int64)


def shwartz_ziv_config(*, repeats: int = 20, epochs: int = 10000, log_samples: int = 1800, lr: float = 2e-4,
                       optimizer: str = "adam_tf1", train_fraction: float = 0.8, seed: int = 0, n_edges: int = 50,
                       threads: int = 2) -> dict:
    """The configuration (JSON-able; its hash is the cache key). Defaults: their protocol at full scale."""
    return {"widths": list(WIDTHS), "activation": "tanh", "init": "truncated_normal", "repeats": int(repeats),
            "epochs": int(epochs), "log_samples": int(log_samples), "lr": float(lr), "optimizer": str(optimizer),
            "batch_size": "full", "train_fraction": float(train_fraction), "seed": int(seed),
            "n_edges": int(n_edges), "threads": int(threads)}


class BinnedConsumer:
    """Consumer of :func:`sims.train.train`: per member and layer, binned I(X;T), I(T;Y) (nats) with
    :func:`their_edges` and the fraction of activity exactly +-1.0; result (E, layers, 3)."""

    dims = ("member", "layer", "quantity")

    def __init__(self, labels: np.ndarray, n_edges: int = 50) -> None:
        self.labels = np.asarray(labels)
        self.edges = their_edges(n_edges)
        self.plain = tishby_edges(n_edges)

    def __call__(self, epoch: int, acts: list) -> np.ndarray:
        out = []
        for a in acts:
            # without values >= 1.0 (or < -1) both conventions give the same bins, and evenly spaced edges take
            # the estimator's fast path (about 4x faster than np.digitize)
            plain = not ((a >= 1.0).any() or (a < -1.0).any())
            i_xt, i_ty = binned(a, self.labels, edges=self.plain if plain else self.edges)
            out.append(np.stack([i_xt, i_ty, (np.abs(a) == 1.0).mean(axis=(1, 2))], axis=-1))
        return np.stack(out, axis=1)


def train_shwartz_ziv(cfg: dict, checkpoint: str | os.PathLike | None = None, *, progress: bool = False
                      ) -> xr.Dataset:
    """Train the repeats of ``cfg`` (:func:`shwartz_ziv_config`) in one run; the labelled Dataset of
    :func:`experiments.twelve_bit.to_dataset` plus ``at_one`` (member, epoch, layer): fraction of activity +-1.0."""
    seeds = [cfg["seed"] + r for r in range(cfg["repeats"])]
    data = [datasets.tishby_12bit(train_fraction=cfg["train_fraction"], seed=s) for s in seeds]
    net = MLP(cfg["widths"], activation=cfg["activation"], init=cfg["init"])
    x, y = np.asarray(data[0].x_analysis, float), np.asarray(data[0].y_analysis)
    run = train(net, data, ensemble=cfg["repeats"], epochs=cfg["epochs"], batch_size="full",
                optimizer=cfg["optimizer"], lr=cfg["lr"], seed=seeds,
                log_epochs=their_log_epochs(cfg["epochs"], cfg["log_samples"]),
                consumers={"binned": BinnedConsumer(y, cfg["n_edges"])}, checkpoint=checkpoint,
                checkpoint_every=CHECKPOINT_EVERY, progress=progress, threads=cfg["threads"])
    r = np.asarray(run.consumer_results["binned"])                      # (E, L, layers, 3)
    ds = to_dataset(run, {"binned": (r[..., 0], r[..., 1])}, cfg, x, y)
    ds["at_one"] = (("member", "epoch", "layer"), r[..., 2])
    return ds


def _per_layer_compression(ds: xr.Dataset) -> np.ndarray:
    """Per-member compression (bits) of every hidden layer: (member, hidden layer)."""
    v = to_bits(ds.i_xt_binned.values[:, :, :-1])                       # (member, epoch, hidden layer)
    return compression(np.moveaxis(v, 1, -1), ds.epoch.values)


@experiment("shwartz-ziv-fig2", "Shwartz-Ziv & Tishby 2017 Fig. 2: their 12-bit protocol (12-10-7-5-4-4-3-2 tanh, "
            "full-batch Adam 2e-4 as TF1, per-repeat splits, 50 bins as their code)", PAPER)
def fig2(scale: Literal["quick", "full"] = "quick", verbose: bool = False, **overrides: Any) -> ExperimentResult:
    """Their protocol (module docstring). Claims: the last hidden layer compresses, and mostly after a short
    fitting phase."""
    cfg = shwartz_ziv_config(**{**SCALES[check_scale(scale)], **overrides})
    ds = cached("shwartz-ziv", cfg, lambda ck: train_shwartz_ziv(cfg, ck, progress=verbose), scale=scale,
                verbose=verbose).data
    comp = _per_layer_compression(ds)
    at_one = ds.at_one.isel(epoch=-1).values[:, :-1]                     # (member, hidden layer)
    numbers = {"compression_bits_per_hidden_layer_mean": comp.mean(0),
               "fraction_of_hidden_activity_at_pm1_final_mean": at_one.mean(0),
               "final_test_accuracy": ds.accuracy.sel(split="test").isel(epoch=-1).values}
    n = f"{cfg['repeats']} repeats x {cfg['epochs']} epochs"
    last = to_bits(ds.i_xt_binned.sel(layer=LAST_HIDDEN).values)           # (member, epoch)
    peak_fraction = compression_detail(last, ds.epoch.values).peak_epoch / cfg["epochs"]
    claims = [
        Claim.measured(PAPER, "Fig. 2", f"their protocol ({n}): the last hidden layer compresses "
                       "(binning, 50 edges on [-1, 1], 1.0 its own symbol)", comp[:, -1], ">", THRESHOLD_BITS,
                       quantity=f"compression of binned I(X;T), layer {LAST_HIDDEN} (bits)",
                       experiment="shwartz-ziv-fig2", numbers=numbers),
        Claim.measured(PAPER, "Fig. 2, Sec. 3", f"their protocol ({n}): a short fitting phase, then compression for "
                       "most of training (the last hidden layer's I(X;T) peaks in the first half)", peak_fraction,
                       "<", 0.5, quantity="epoch of the I(X;T) peak / epochs, layer 6",
                       experiment="shwartz-ziv-fig2"),
    ]
    ds.attrs["scale_note"] = json.dumps({"repeats": cfg["repeats"], "epochs": cfg["epochs"]})
    return ExperimentResult("shwartz-ziv-fig2", scale, ds, claims)
