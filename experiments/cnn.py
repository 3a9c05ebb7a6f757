r"""The MNIST convolutional network of the 2019 thesis "Information Bottleneck Theory: extensions to convolutional
neural networks and the stochastic gradient hypothesis" (Sec. 3.1) on the information plane, by its two methods.

Network (Keras's ``mnist_cnn`` without dropout, thesis Listing 1): conv 32 3x3 ReLU -> conv 64 3x3 ReLU ->
max-pool 2x2 -> flatten -> dense 128 ReLU -> dense 10 softmax (:class:`sims.network.Sequential`, Glorot-uniform
init, zero biases: Keras's defaults), cross-entropy, Adadelta with Keras 2's defaults (learning rate 1.0,
rho 0.95, epsilon 1e-7; :class:`sims.optim.Adadelta`), batch 128, 12 epochs; the thesis reports 99.25 % test
accuracy. Every one of the six layers is a layer of the information plane (the flatten layer holds the pooled
numbers in another shape).

Information planes (:mod:`sims.estimators.conv_layers`) on the first ``n_analysis`` test images, both streamed
during training (no activity is stored):

* ``concat``: each layer's activity flattened into one vector per image, KDE upper bound;
* ``mean``: the KDE estimate of each channel's map, averaged over the channels (dense layers: the same number).

KDE noise variance: the thesis's 0.0735 ("tuned so the KDE values matched the analytical entropy of the MNIST
labels, log2 10"). The tuning is redone here on the trained network (:func:`noise_tuning`) by two readings of
that sentence, and both values are reported: the variance at which the KDE entropy estimate of the one-hot labels
equals ln 10 (closed form 1/(2 pi e) = 0.0585), and the one at which the KDE entropy estimate of the trained
network's softmax output equals ln 10. The sample-size check (the thesis: "the information quantities stabilise
for sample size > 100") is repeated on the trained network's last two layers (:func:`sample_size_check`).

Test accuracy is measured on the first ``n_test`` (default: all 10,000) MNIST test images; the information
planes use the first ``n_analysis`` of them.

Scales (training as the thesis's everywhere: Adadelta with Keras's defaults, batch 128, float32 as Keras):

* ``quick``: a reduced network (conv 16 -> conv 32 -> pool -> dense 64 -> 10) on a random 12,000 of the training
  images for 5 epochs (470 steps; NumPy backend, so that ``make figures`` needs no torch), 120 analysis images.
  Chosen for issue 15's requirements of the quick scale: >= 97 % test accuracy (the thesis network reports
  99.25 %) within 2 minutes on 2 cores, and at least five logged epochs for the compression measure. Measured
  2026-12-02 (1 thread, quiet machine): 97.32 % on the 10,000 test images, 44 s (torch backend, 2026-12-01, load
  3.5: 97.33 %, 45 s; float32 sums differ between the backends' kernels). The earlier
  quick scale (conv 8 -> conv 16 -> dense 32, 2,000 images, 6 epochs = 96 steps, 300 analysis images) reached
  92 %: Adadelta at lr 1.0 needs several hundred steps. The accuracy is near the bar and not monotone in the
  epochs: the same network on 15,000 images gave 96.9, 97.7, 97.0 and finally 95.8 % after epochs 2-5, so the
  quick claim tests "a reduced CNN trains to about 97 %", not a margin. The KDE passes over the conv layers'
  activity (thousands of dimensions per layer at every logged epoch) cost as much as the training, which sets
  the analysis set's size (the thesis: estimates stable above 100 samples);
* ``full``: the thesis network on all 60,000 images, 12 epochs (torch backend, the faster CPU kernels for one
  network), 1,000 analysis images (the thesis does not state how many images its estimates used).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
import xarray as xr

from analytic.checks import positive_int
from analytic.units import to_bits
from experiments.claims import Claim
from experiments.common import THRESHOLD_BITS, compression_bits
from experiments.mnist import load_mnist, mnist_subset
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from sims import datasets
from sims.estimators import conv_layers
from sims.info_plane import input_entropy, label_entropy
from sims.layers import Conv2D, Dense, Flatten, MaxPool2D
from sims.network import Sequential
from sims.train import train

__all__ = ["THESIS_NOISE_VAR", "CNN_SCALES", "cnn_config", "cnn_network", "train_cnn", "cnn_run", "noise_tuning",
           "sample_size_check", "thesis_cnn"]

PAPER = "CNN thesis 2019"
#: The thesis's tuned KDE noise variance.
THESIS_NOISE_VAR = 0.0735
CNN_SCALES = {"quick": dict(filters=(16, 32), dense=64, n_train=12000, n_analysis=120, epochs=5, log_epochs=None,
                            backend="numpy", dtype="float32"),
              "full": dict(filters=(32, 64), dense=128, n_train=60000, n_analysis=1000, epochs=12, log_epochs=None,
                           backend="torch", dtype="float32")}
#: Final test accuracy the claim asks for, per scale (the thesis: 99.25 % for the full network).
ACCURACY_THRESHOLD = {"quick": 0.97, "full": 0.99}
CHECKPOINT_EVERY = 60.0


def cnn_config(*, filters: Sequence[int] = (32, 64), dense: int = 128, n_train: int = 60000, n_analysis: int = 1000,
               epochs: int = 12, log_epochs: int | Sequence[int] | None = None, lr: float = 1.0, batch_size: int = 128,
               optimizer: str = "adadelta", seed: int = 0, init: str = "glorot",
               kde_noise_var: float = THESIS_NOISE_VAR, threads: int = 2, n_test: int = 10000,
               backend: str = "numpy", dtype: str = "float32") -> dict:
    """The configuration dict (its hash is the cache key). Defaults: the thesis network and training.
    ``log_epochs`` None logs every epoch (and epoch 0); ``n_test`` test images give the test accuracy (the first
    ``n_analysis`` of them the information planes); ``backend`` / ``dtype`` as :func:`sims.train`."""
    n_train, n_analysis = positive_int(n_train, "n_train"), positive_int(n_analysis, "n_analysis")
    n_test = positive_int(n_test, "n_test")
    if n_train > 60000 or n_analysis > n_test or n_test > 10000:
        raise ValueError(f"n_train <= 60000 and n_analysis <= n_test <= 10000 (MNIST's sets), got n_train={n_train}, "
                         f"n_analysis={n_analysis}, n_test={n_test}")
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    epochs = positive_int(epochs, "epochs")
    return {"filters": [positive_int(f, "filters") for f in filters], "dense": positive_int(dense, "dense"),
            "n_train": n_train, "n_analysis": n_analysis, "epochs": epochs,
            "log_epochs": list(range(epochs + 1)) if log_epochs is None else log_epochs, "lr": float(lr),
            "batch_size": batch_size, "optimizer": str(optimizer), "seed": int(seed), "init": str(init),
            "kde_noise_var": float(kde_noise_var), "threads": positive_int(threads, "threads"), "n_test": n_test,
            "backend": backend, "dtype": dtype}


def cnn_network(cfg: dict) -> Sequential:
    """conv f1 3x3 -> conv f2 3x3 -> max-pool 2x2 -> flatten -> dense d -> dense 10 softmax, ReLU."""
    f1, f2 = cfg["filters"]
    return Sequential([Conv2D(f1, 3), Conv2D(f2, 3), MaxPool2D(2), Flatten(), Dense(cfg["dense"]), Dense(10)],
                      input_shape=(1, 28, 28), activation="relu", output="softmax", init=cfg["init"])


def _names(net):
    kinds = [l.kind for l in net.layers]
    out = []
    for i, (k, s) in enumerate(zip(kinds, net.layer_shapes)):
        what = {"conv2d": "conv", "maxpool2d": "max-pool", "flatten": "flatten", "dense": "dense"}.get(k, k)
        shape = "x".join(str(v) for v in s)
        out.append(f"{i + 1} {what} ({shape})" if i < len(kinds) - 1 else f"{i + 1} output (softmax, 10)")
    return out


def noise_tuning(output_activity: ArrayLike, labels: ArrayLike) -> dict:
    """The thesis's noise-variance tuning by two readings (see the module docstring): the variance at which the
    KDE entropy estimate (:func:`sims.estimators.conv_layers.kde_entropy`) of the one-hot ``labels``, and of the
    trained network's softmax ``output_activity`` (S, 10), equals ln 10 nats (= log2 10 bits)."""
    target = np.log(10.0)
    out = {}
    for name, act in (("one_hot_labels", conv_layers.one_hot(labels)), ("softmax_output", output_activity)):
        r = conv_layers.tune_kde_noise_var(act, labels, target, quantity="h_t", bracket=(1e-3, 1.0))
        out[name] = {"noise_var": r.noise_var, "monotone": r.monotone, "crossings": r.crossings}
    return out


def sample_size_check(activity: ArrayLike, labels: ArrayLike, noise_var: float,
                      sizes: Sequence[int] = (25, 50, 100, 200), tol_bits: float = 0.1,
                      seed: np.random.Generator | int | None = 0) -> dict:
    """I(X;T) and I(T;Y) (KDE) on stratified random subsets of each size (3 repeats) and the smallest size from
    which the I(T;Y) mean stays within ``tol_bits`` of the largest size's."""
    S = activity.shape[-2]
    sizes = [s for s in sizes if s < S] + [S]
    curve = conv_layers.sample_size_curve(activity, labels, sizes, repeats=3, seed=seed, noise_var=noise_var)
    return {"sizes": [int(v) for v in curve.sizes], "i_xt_bits": to_bits(curve.i_xt.mean(-1)).tolist(),
            "i_ty_bits": to_bits(curve.i_ty.mean(-1)).tolist(),
            "stable_from": conv_layers.stable_sample_size(curve, tol_bits * np.log(2), "i_ty")}


def train_cnn(cfg: dict, checkpoint: str | os.PathLike | None = None, data: datasets.Dataset | None = None,
              *, progress: bool = False
              ) -> xr.Dataset:
    """Train ``cfg`` (:func:`cnn_config`, one network) with both methods streamed; the labelled Dataset:
    ``i_xt_concat``, ``i_ty_concat``, ``i_xt_mean``, ``i_ty_mean`` (member, epoch, layer; nats), ``loss``,
    ``accuracy`` (member, epoch, split); attrs: config, seconds, the noise tuning and the sample-size check."""
    t0 = time.perf_counter()
    data = load_mnist() if data is None else data
    sub = mnist_subset(data, cfg)
    n_test = cfg.get("n_test", cfg["n_analysis"])
    sub = dataclasses.replace(sub, x_test=np.asarray(data.x_test[:n_test], dtype=np.float64),
                              y_test=np.asarray(data.y_test[:n_test]), info={**sub.info, "n_test": n_test})
    net = cnn_network(cfg)
    y = sub.y_analysis
    consumers = {m: conv_layers.ConvInfoPlaneConsumer(m, y, shapes=net.layer_shapes, noise_var=cfg["kde_noise_var"])
                 for m in conv_layers.METHODS}
    run = train(net, sub, ensemble=1, epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"], lr=cfg["lr"], seed=cfg["seed"], log_epochs=cfg["log_epochs"],
                consumers=consumers, record_params=True, checkpoint=checkpoint, checkpoint_every=CHECKPOINT_EVERY,
                progress=progress, threads=cfg["threads"], backend=cfg.get("backend", "numpy"),
                dtype=cfg.get("dtype", "float64"))
    last = net.forward(run.params_at(len(run.epochs) - 1), sub.x_analysis)
    out_act, hidden = np.asarray(last[-1])[0], np.asarray(last[-2])[0]
    tuning = noise_tuning(out_act, y)
    sizes = {"output": sample_size_check(out_act, y, cfg["kde_noise_var"]),
             "last_hidden": sample_size_check(hidden, y, cfg["kde_noise_var"])}
    coords = {"member": [0], "epoch": run.epochs, "layer": np.arange(1, net.n_layers + 1),
              "layer_name": ("layer", _names(net)), "split": ["train", "test"]}
    dv = {}
    for m in conv_layers.METHODS:
        res = np.asarray(run.consumer_results[m], dtype=float)      # (member, epoch, layer, quantity)
        dv[f"i_xt_{m}"] = (("member", "epoch", "layer"), res[..., 0], {"units": "nats"})
        dv[f"i_ty_{m}"] = (("member", "epoch", "layer"), res[..., 1], {"units": "nats"})
    dv["loss"] = (("member", "epoch", "split"), np.stack([run.loss["train"], run.loss["test"]], -1))
    dv["accuracy"] = (("member", "epoch", "split"), np.stack([run.accuracy["train"], run.accuracy["test"]], -1))
    attrs = {"config": json.dumps(cfg, sort_keys=True), "h_x": input_entropy(sub.x_analysis), "h_y": label_entropy(y),
             "seconds": time.perf_counter() - t0, "noise_tuning": json.dumps(tuning, sort_keys=True),
             "sample_size": json.dumps(sizes, sort_keys=True, default=float)}
    return xr.Dataset(dv, coords=coords, attrs=attrs)


def cnn_run(scale: Literal["quick", "full"] = "quick", verbose: bool = False, data: datasets.Dataset | None = None,
            **overrides: Any) -> xr.Dataset:
    """The (cached) Dataset of the CNN at ``scale`` (overrides change the configuration)."""
    cfg = cnn_config(**{**CNN_SCALES[check_scale(scale)], **overrides})
    return cached("cnn", cfg, lambda ck: train_cnn(cfg, ck, data, progress=verbose), scale=scale,
                  verbose=verbose).data


def _kinds(ds):
    return [n.split()[1] for n in ds.layer_name.values]


@experiment("cnn-thesis", "2019 CNN thesis: MNIST CNN (conv32-conv64-pool-dense128, Adadelta), concat and mean "
            "information planes, KDE noise tuning", PAPER)
def thesis_cnn(scale: Literal["quick", "full"] = "quick", verbose: bool = False, data: datasets.Dataset | None = None,
               **overrides: Any) -> ExperimentResult:
    """The thesis CNN on the information plane by the concat and mean methods. Claims: the test accuracy; the
    conv layers sit at the maximum I(X;T) = ln S by the concat method throughout training; the mean method puts
    them lower; the two methods agree on the dense layers; no hidden layer compresses (either method); the last
    hidden layer's I(T;Y) rises with training."""
    check_scale(scale)
    ds = cnn_run(scale, verbose, data, **overrides)
    kinds = _kinds(ds)
    conv = [i + 1 for i, k in enumerate(kinds) if k in ("conv", "max-pool", "flatten")]
    dense = [i + 1 for i, k in enumerate(kinds) if k in ("dense", "output")]
    hidden = list(ds.layer.values[:-1])
    S = json.loads(ds.attrs["config"])["n_analysis"]
    acc = ds.accuracy.sel(split="test").isel(epoch=-1).values
    cat = ds.i_xt_concat.sel(layer=conv).values                      # (member, epoch, layer)
    mean = ds.i_xt_mean.sel(layer=conv).values
    gap = to_bits(cat - mean).mean(axis=(1, 2))
    dense_diff = np.abs(ds.i_xt_concat.sel(layer=dense).values - ds.i_xt_mean.sel(layer=dense).values).max()
    last_hidden = hidden[-1]
    ity = ds.i_ty_concat.sel(layer=last_hidden).values
    tuning = json.loads(ds.attrs["noise_tuning"])
    exp = "cnn-thesis"
    claims = [
        Claim.measured(PAPER, "Sec. 3.1.2", "the CNN reaches the thesis's test accuracy (99.25 % for the full "
                       f"network; threshold {ACCURACY_THRESHOLD[scale]:g} at this scale)", acc, ">=",
                       ACCURACY_THRESHOLD[scale], quantity="final test accuracy", experiment=exp,
                       numbers={"noise_tuning": tuning, "seconds": float(ds.attrs["seconds"]),
                                "sample_size": json.loads(ds.attrs["sample_size"])}),
        Claim.measured(PAPER, "Fig. 6-7", "concat method: the conv, pooling and flatten layers stay at the maximum "
                       "I(X;T) = log2 S throughout training", to_bits(cat.min(axis=(1, 2))) / np.log2(S), ">", 0.99,
                       quantity="min over layers and epochs of I(X;T) / log2 S", experiment=exp),
        Claim.measured(PAPER, "Fig. 8-9", "mean method: the conv layers lie below the concat method's maximum",
                       gap, ">", THRESHOLD_BITS, quantity="mean over conv layers and epochs of concat − mean I(X;T) "
                       "(bits)", experiment=exp),
        Claim.measured(PAPER, "Fig. 8", "the two methods give the same number for the dense layers",
                       [float(to_bits(dense_diff))], "<", 1e-9, quantity="max |concat − mean| on dense layers (bits)",
                       experiment=exp),
        Claim.measured(PAPER, "Sec. 3.1.6", "no compression phase in any hidden layer (concat method)",
                       compression_bits(ds, "i_xt_concat", hidden), "<", THRESHOLD_BITS,
                       quantity="compression of concat I(X;T), largest over hidden layers (bits)", experiment=exp),
        Claim.measured(PAPER, "Sec. 3.1.6", "no compression phase in any hidden layer (mean method)",
                       compression_bits(ds, "i_xt_mean", hidden), "<", THRESHOLD_BITS,
                       quantity="compression of mean I(X;T), largest over hidden layers (bits)", experiment=exp),
        Claim.measured(PAPER, "Sec. 3.1.6", "training raises the last hidden layer's I(T;Y)",
                       to_bits(ity[:, -1] - ity[:, 0]), ">", THRESHOLD_BITS,
                       quantity="final − initial I(T;Y), last hidden layer (bits)", experiment=exp),
    ]
    return ExperimentResult(exp, scale, ds, claims)
