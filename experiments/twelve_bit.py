"""The 12-bit task of Shwartz-Ziv & Tishby (2017) as an experiment: train, then information planes, labelled.

Network 12-10-7-5-4-3-2 (five hidden layers and a 2-unit softmax output), cross-entropy, Adam lr 4e-4, batch 256,
truncated-normal init (std 1/sqrt(fan-in), zero biases), 80/20 split of the 4096 patterns
(:func:`sims.datasets.tishby_12bit`), I(X;T) and I(T;Y) over all 4096 equiprobable patterns with their labels
(Saxe et al. 2018, Sec. 2 and Fig. 1).

Memory stays bounded at every scale: training records only the parameters at the logged epochs (E x P floats per
epoch, 294 parameters per network) and the learning curves. The information planes are computed afterwards, a block
of logged epochs at a time, from noiseless forward passes of those parameters (one batched pass over all members
and the block's epochs), so activity of at most ``_BLOCK_FLOATS`` floats exists at once. Min-max binning (Saxe's
rule for non-saturating units: 100 equal bins between the smallest and largest activity of the layer over the whole
run and all members) takes two such passes: one for the range, one for the bins.

Estimators (``estimators`` in the configuration):

* ``"binned"``: tanh (and any activation with range within [-1, 1]): Shwartz-Ziv & Tishby's 30 edges on [-1, 1]
  (:func:`analytic.binning.tishby_edges`); otherwise 100 min-max bins as above. Every logged epoch.
* ``"kde"``: Kolchinsky-Tracey upper bound with noise variance 0.1 (Saxe et al. 2018, Fig. 8 / App. C), at every
  ``kde_every``-th logged epoch and the last ``WINDOW`` logged epochs (NaN elsewhere), for all members.
* ``"knn"``: the k-nearest-neighbour (Kozachenko-Leonenko) entropy estimate with k = 2 on the activity plus
  Gaussian noise of variance 0.1 (Saxe et al. 2018, App. B.3 and Fig. 12), at the same epochs as KDE. Computed
  from a cached run's recorded parameters (:func:`planes_from_dataset`) without training again.

The Dataset (:func:`train_twelve_bit`): ``params`` (member, epoch, param: the recorded parameters),
``i_xt_binned``, ``i_ty_binned``, ``i_xt_kde``, ``i_ty_kde``
(member, epoch, layer; nats), ``loss`` and ``accuracy`` (member, epoch, split), ``weight_norm`` and
``grad_snr`` (member, epoch, layer); ``layer`` 1..6 with ``layer_name`` ("hidden 1 (10 units)", ...,
"output (softmax, 2 units)").
"""
from __future__ import annotations

import json
import os
import warnings
from typing import Sequence

import numpy as np
import xarray as xr

from analytic.binning import tishby_edges
from analytic.checks import positive_int
from experiments.compression import WINDOW
from sims import MLP, datasets
from sims.backend import thread_map
from sims.estimators import binned, kde, kozachenko_leonenko
from sims.info_plane import input_entropy, label_entropy
from sims.train import train

__all__ = ["WIDTHS", "BOUNDED", "twelve_bit_config", "train_twelve_bit", "params_info_planes", "layer_names",
           "planes_from_dataset", "kde_epochs"]

#: Shwartz-Ziv & Tishby's 12-bit network.
WIDTHS = (12, 10, 7, 5, 4, 3, 2)
#: Activations whose values lie in [-1, 1]: binned with Tishby's fixed edges; others with min-max bins.
BOUNDED = ("tanh", "softsign", "hardtanh")
_BLOCK_FLOATS = 1 << 24          # activity floats alive at once while estimating (128 MB of float64)
#: Seconds between training checkpoints (and at the end); an interrupted run loses at most this much training.
CHECKPOINT_EVERY = 30.0


def twelve_bit_config(activation: str = "tanh", *, ensemble: int = 5, epochs: int = 2000, log_epochs: int = 60,
                      lr: float = 4e-4, batch_size: int = 256, optimizer: str = "adam", train_fraction: float = 0.8,
                      seed: int = 0, widths: Sequence[int] = WIDTHS, init: str = "truncated_normal",
                      init_scale: float | None = None, kde_every: int = 3, kde_noise_var: float = 0.1, threads: int = 2,
                      estimators: Sequence[str] = ("binned", "kde")) -> dict:
    """The configuration dict (JSON-able; its hash is the cache key). Defaults: the paper's set-up, quick size."""
    return {"activation": str(activation), "ensemble": positive_int(ensemble, "ensemble"),
            "epochs": positive_int(epochs, "epochs"), "log_epochs": log_epochs, "lr": float(lr),
            "batch_size": batch_size, "optimizer": optimizer, "train_fraction": float(train_fraction),
            "seed": int(seed), "widths": [int(w) for w in widths], "init": init, "init_scale": init_scale,
            "kde_every": positive_int(kde_every, "kde_every"), "kde_noise_var": float(kde_noise_var),
            "threads": positive_int(threads, "threads"), "estimators": list(estimators)}


def layer_names(widths: Sequence[int], output: str = "softmax") -> list[str]:
    """``hidden l (w units)`` for the hidden layers, ``output (softmax, k units)`` for the last."""
    n = len(widths) - 1
    return [f"hidden {l + 1} ({widths[l + 1]} units)" if l < n - 1 else f"output ({output}, {widths[-1]} units)"
            for l in range(n)]


def _block_activity(net, params_history, x, idx, noise_std=0.0, rng=None):
    """Activities of every layer for logged indices ``idx``: list of (E, len(idx), S, units), noiseless unless
    ``noise_std`` (then one noisy forward pass per member and epoch, noise after every hidden unit)."""
    ph = params_history[idx]                                      # (b, E, P)
    b, E, P = ph.shape
    flat = np.ascontiguousarray(ph.reshape(b * E, P))
    acts = net.forward(net.views(flat), x, noise_std=noise_std, rng=rng)
    return [np.asarray(a).reshape(b, E, *a.shape[1:]).swapaxes(0, 1) for a in acts]


def _blocks(L, E, S, widths):
    per_epoch = E * S * sum(widths[1:])
    step = max(1, _BLOCK_FLOATS // max(1, per_epoch))
    return [np.arange(s, min(L, s + step)) for s in range(0, L, step)]


def params_info_planes(net: MLP, params_history: np.ndarray, x: np.ndarray, labels: np.ndarray, *, activation: str,
                       estimators: Sequence[str] = ("binned", "kde"), kde_index: np.ndarray | None = None,
                       kde_noise_var: float = 0.1, threads: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Information planes of all members and logged epochs from recorded parameters (L, E, P).

    Returns ``{name: (i_xt, i_ty)}`` with arrays (E, L, n_layers) in nats (NaN where not evaluated).
    ``threads``: the layers' estimates of a block run in that many threads (the KDE and k-NN estimates dominate
    the cost of a 12-bit experiment; the numbers do not depend on it).
    """
    threads = positive_int(threads, "threads")
    L, E, _ = params_history.shape
    S = x.shape[0]
    n = net.n_layers
    blocks = _blocks(L, E, S, net.widths)
    out = {}
    if "binned" in estimators:
        if activation in BOUNDED:
            opts = [{"edges": tishby_edges()}] * n
        else:
            lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
            for idx in blocks:                                     # pass 1: the whole run's range per layer
                for l, a in enumerate(_block_activity(net, params_history, x, idx)):
                    lo[l], hi[l] = min(lo[l], a.min()), max(hi[l], a.max())
            opts = [{"n_bins": 100, "value_range": (float(lo[l]), float(hi[l]) if hi[l] > lo[l] else lo[l] + 1.0)}
                    for l in range(n)]
        i_xt, i_ty = np.full((E, L, n), np.nan), np.full((E, L, n), np.nan)
        for idx in blocks:                                         # pass 2 (the only pass for fixed edges)
            for l, a in enumerate(_block_activity(net, params_history, x, idx)):
                i_xt[:, idx, l], i_ty[:, idx, l] = binned(a, labels, **opts[l])
        out["binned"] = (i_xt, i_ty)
    sel = np.arange(L) if kde_index is None else np.asarray(kde_index)
    for name, fn in (("kde", lambda a: kde(a, labels, noise_var=kde_noise_var)),
                     ("knn", lambda a: kozachenko_leonenko(a, labels, k=2, noise_var=kde_noise_var, seed=0))):
        if name not in estimators:
            continue
        i_xt, i_ty = np.full((E, L, n), np.nan), np.full((E, L, n), np.nan)
        for idx in _blocks(len(sel), E, S, net.widths):
            ep = sel[idx]

            with warnings.catch_warnings():       # k-NN: tiny negative raw I(T;Y) values are clipped to 0
                warnings.simplefilter("ignore")   # (set here, around the threads: the filters are process-wide)
                planes = thread_map(fn, [(a,) for a in _block_activity(net, params_history, x, ep)], threads)
            for l, (xt, ty) in enumerate(planes):
                i_xt[:, ep, l], i_ty[:, ep, l] = xt, ty
        out[name] = (i_xt, i_ty)
    return out


def planes_from_dataset(ds: xr.Dataset, estimators: Sequence[str]) -> xr.Dataset:
    """Information planes of further ``estimators`` for a cached 12-bit Dataset, from its recorded parameters
    (no training): a Dataset with ``i_xt_NAME``, ``i_ty_NAME`` (member, epoch, layer) on ``ds``'s coordinates."""
    cfg = json.loads(ds.attrs["config"])
    data = datasets.tishby_12bit(train_fraction=cfg["train_fraction"], seed=cfg["seed"])
    net = MLP(cfg["widths"], activation=cfg["activation"], init=cfg["init"], init_scale=cfg["init_scale"])
    ph = np.ascontiguousarray(ds.params.values.swapaxes(0, 1))                  # (epoch, member, P)
    kde_idx = np.flatnonzero(ds.kde_logged.values)
    planes = params_info_planes(net, ph, np.asarray(data.x_analysis, float), np.asarray(data.y_analysis),
                                activation=cfg["activation"], estimators=estimators, kde_index=kde_idx,
                                kde_noise_var=cfg["kde_noise_var"], threads=cfg.get("threads", 1))
    dv = {}
    for name, (i_xt, i_ty) in planes.items():
        dv[f"i_xt_{name}"] = (("member", "epoch", "layer"), i_xt, {"units": "nats"})
        dv[f"i_ty_{name}"] = (("member", "epoch", "layer"), i_ty, {"units": "nats"})
    coords = {k: ds.coords[k] for k in ("member", "epoch", "layer", "layer_name")}
    out = xr.Dataset(dv, coords=coords, attrs=dict(ds.attrs))
    out["kde_logged"] = ds.kde_logged
    return out


def kde_epochs(L: int, every: int) -> np.ndarray:
    """Logged indices where KDE is evaluated: every ``every``-th and the last ``WINDOW`` (for the end value)."""
    return np.array(sorted(set(range(0, L, every)) | set(range(max(0, L - WINDOW), L))))


def train_twelve_bit(cfg: dict, checkpoint: str | os.PathLike | None = None, data: datasets.Dataset | None = None,
                     *, progress: bool = False
                     ) -> xr.Dataset:
    """Train the ensemble of ``cfg`` (:func:`twelve_bit_config`) and return the labelled Dataset.

    ``checkpoint``: a file path; an interrupted training resumes from it (see :func:`sims.train.train`).
    ``data``: a Dataset-like object instead of the 12-bit split of ``cfg`` (tests).
    """
    data = datasets.tishby_12bit(train_fraction=cfg["train_fraction"], seed=cfg["seed"]) if data is None else data
    net = MLP(cfg["widths"], activation=cfg["activation"], init=cfg["init"], init_scale=cfg["init_scale"])
    run = train(net, data, ensemble=cfg["ensemble"], epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"], lr=cfg["lr"], seed=cfg["seed"], log_epochs=cfg["log_epochs"],
                record_params=True, checkpoint=checkpoint, checkpoint_every=CHECKPOINT_EVERY, progress=progress,
                threads=cfg["threads"])
    L = len(run.epochs)
    ph = np.stack([net.flatten(run.params_at(i)) for i in range(L)])     # (L, E, P)
    x, y = np.asarray(data.x_analysis, dtype=float), np.asarray(data.y_analysis)
    kde_idx = kde_epochs(L, cfg["kde_every"])
    planes = params_info_planes(net, ph, x, y, activation=cfg["activation"], estimators=cfg["estimators"],
                                kde_index=kde_idx, kde_noise_var=cfg["kde_noise_var"], threads=cfg["threads"])
    ds = to_dataset(run, planes, cfg, x, y, kde_idx)
    ds["params"] = (("member", "epoch", "param"), ph.swapaxes(0, 1))      # for estimators added later
    return ds


def to_dataset(run, planes, cfg, x, y, kde_idx=None) -> xr.Dataset:
    """The labelled Dataset of a run and its information planes (see the module docstring)."""
    E, n = run.ensemble, run.n_layers
    coords = {"member": np.arange(E), "epoch": run.epochs, "layer": np.arange(1, n + 1),
              "layer_name": ("layer", layer_names(list(run.net.widths), run.net.output)),
              "split": ["train", "test"]}
    dv = {}
    for name, (i_xt, i_ty) in planes.items():
        dv[f"i_xt_{name}"] = (("member", "epoch", "layer"), i_xt, {"units": "nats"})
        dv[f"i_ty_{name}"] = (("member", "epoch", "layer"), i_ty, {"units": "nats"})
    dv["loss"] = (("member", "epoch", "split"), np.stack([run.loss["train"], run.loss["test"]], -1))
    dv["accuracy"] = (("member", "epoch", "split"), np.stack([run.accuracy["train"], run.accuracy["test"]], -1))
    dv["weight_norm"] = (("member", "epoch", "layer"), run.grad_stats["weight_norm"])
    dv["grad_snr"] = (("member", "epoch", "layer"), run.grad_stats["snr"])
    if kde_idx is not None:
        mask = np.zeros(len(run.epochs), bool)
        mask[kde_idx] = True
        dv["kde_logged"] = (("epoch",), mask)
    attrs = {"config": json.dumps(cfg, sort_keys=True), "h_x": input_entropy(x), "h_y": label_entropy(y),
             "train_config": json.dumps(run.config, sort_keys=True, default=str)}
    return xr.Dataset(dv, coords=coords, attrs=attrs)
