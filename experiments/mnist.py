r"""MNIST networks on the information plane: Saxe et al. (2018) Fig. 1C-D and further architectures and units.

Set-up of Saxe et al. (2018, Sec. 2 and Fig. 1C-D): 784-1024-20-20-20-10 (four hidden layers, a 10-unit softmax
output), tanh or ReLU hidden units, cross-entropy, plain SGD with learning rate 1e-3 and batch 128, pixels / 255,
truncated-normal initialisation (std 1/sqrt(fan-in), zero biases). The information plane is computed on the test
images (all 10,000 at the full scale), taken as equiprobable samples with their labels:

* ``kde``: Kolchinsky-Tracey upper bound with noise variance 0.1 (:func:`sims.estimators.kde`);
* ``binned``: bins of width 0.5 in activity (:func:`sims.estimators.binned`, ``width=0.5``).

Memory stays bounded at every scale: both estimators run as streaming consumers during training
(:class:`sims.info_plane.InfoPlaneConsumer`); no activity is stored (one logged epoch of the analysis set, at most
10,000 x 1094 floats per member, exists at a time).

**Scales** (:data:`MNIST_SCALES`). ``full`` is the paper's run: all 60,000 training images (469 SGD steps per
epoch), 10,000 epochs (the length in the code Saxe et al. released with the paper; the paper's text gives none), MI
on all 10,000 test images, one network. Its SGD time, lr x steps = 1e-3 x 4,690,000 = 4,690
(:data:`PAPER_SGD_TIME`), is out of reach of a 2-minute run at lr 1e-3 (one step of this network takes ~5-15 ms on
one core: 2 minutes are ~10,000 steps, t = 10, 0.2 % of it), so the ``quick`` scale **compresses the time axis** and
differs from the paper in:

* learning rate 0.1 instead of 1e-3, for 8,000 steps: t = 800, 17 % of the paper's SGD time (its epoch ~1,700
  of 10,000, since t = 0.469 x epoch);
* 1,280 random training images (10 steps per epoch, 800 epochs) instead of 60,000;
* MI on the first 2,000 test images instead of 10,000 (the KDE and the binning both saturate at log2 of the number
  of images, 11.0 instead of 13.3 bits);
* 2 networks (one per core), float32 arithmetic in training (the estimators work in float64);
* the sigmoid network (``mnist-sigmoid``) trains at lr 0.6 (:data:`SIGMOID_LR`), t = 4,800, the paper's whole SGD
  time; see below.

Every claim's statement names its lr, steps and lr x steps against the paper's.

**Why lr x steps is the time axis** (measured; hand-driven runs, float32, KDE on the first 500 test images, layer 4
= the last hidden layer, 2026-12-01, 2 cores at load average 4-15): up to lr 0.1 SGD follows the same trajectory at
equal t = lr x steps, as gradient flow does. Layer 4's KDE I(X;T) at t ~ 10 is 8.10 bits at the paper's lr 1e-3 on
all 60,000 images (21 epochs), 8.13 at lr 0.1 and 8.17 at lr 0.03 on the 1,280 images; at t ~ 14 8.14, 8.23, 8.23;
at t = 300 8.11 (lr 0.1) and 8.07 (lr 0.03). At lr 0.5 it does not: layer 2 saturates 3-5x faster (23 % of its
activity beyond |h| = 0.99 at t = 80, against 5-7 % at lr 0.1 and 0.03), so 0.1 is the largest lr the quick scale
may use. (On the 1,280 images the trajectory can only follow the 60,000 images' while neither is fit, t <~ 15; what
the full scale does later is not measured here.)

**What the tanh network does on this time axis** (lr 0.1, 1,280 images, 2 networks): the training set is fit by t ~
40 (train accuracy 0.99, test 0.84); layer 4's KDE I(X;T) peaks at t ~ 20-50 (the paper's epochs ~50-100) and then
falls slowly, by 0.06-0.13 bit per doubling of t (500 / 2,000 images), while its activity saturates (fraction beyond
|h| = 0.99: 1 % at t = 50, 7 % at t = 800; layer 2: 11 %). The fall it reaches by t = 800 (the compression measure
of :mod:`experiments.compression`, bits, the two networks) grows with the number of analysis images, because the
estimates sit near their ceiling of log2(images): KDE 0.27 / 0.24 on 500 images, 0.36 / 0.32 on 1,000 and 0.38 /
0.36 on 2,000; binning 0.31 / 0.37, 0.51 / 0.50 and 0.71 / 0.63. The full scale runs 6x longer on 5x more images;
whether its compression then exceeds the claims' 0.5-bit threshold is not measured.

**Sigmoid units.** sigmoid(u) = (1 + tanh(u/2)) / 2 exactly, so a sigmoid network with weights W is the tanh
network with weights W/2 in its first and output layers, W/4 between hidden layers, and shifted biases; SGD at lr
eta on the sigmoid network moves those tanh weights as SGD at eta/4 (first and output layer) and eta/16 (hidden
to hidden) would (chain rule; the shifted biases couple to W). At the tanh's lr a sigmoid network therefore starts
much closer to zero weights and learns 4-16x more slowly: measured at lr 0.5 on the 1,280 images (500 test
images), its test accuracy is 0.16 at t = 300 (tanh at lr 0.1: 0.84 at t = 40) and 0.80 at t = 1,500, and every
hidden layer's KDE I(X;T) starts at ~0 (its activity spread is small against noise variance 0.1). At lr 0.1 for
8,000 steps (t = 800) it would barely leave chance, and "sigmoid does not compress" would say nothing; the quick
scale therefore runs it at lr 0.6 (t = 4,800, the paper's whole SGD time at lr 1e-3; equivalently 0.04-0.15 on
the tanh's scale, about the range (<= 0.1) where lr x steps was found to be the time axis; lr 0.5 and 0.6 agree
at equal t: test accuracy 0.80 and 0.72-0.77 at t ~ 1,500). That is what the full scale gives the
sigmoid network, not what it gives the tanh one (t = 800 of 4,690). The exact scalar model (:func:`scalar_model`)
adds the estimator's side: through the KDE's noise variance 0.1, I(X; sigmoid(wX) + Z) equals I(X; tanh(wX/2) + Z')
with Z' of twice the std, and it never falls as w grows to 10, while the tanh unit's falls 0.12 bits past its peak
(the claims of ``mnist-sigmoid``): sigmoid's range is half as wide, so its saturation hides less from the noisy
estimate than tanh's does.

**Quick-scale results** (2026-12-01, 2 cores, load average 2-3, from an empty cache: ``mnist-fig1cd`` 80 s,
``mnist-sigmoid`` 46 s with the tanh run cached, ``mnist-arch`` 44 s). tanh: layer 4 compresses by 0.38 / 0.36 bits
(KDE) and 0.71 / 0.63 (binning), layer 3 by 0.14 / 0.11 and 0.15 / 0.19, test accuracy 0.83 / 0.85; ReLU: no layer
falls (0.00), its layer-4 KDE and binned I(X;T) at the ceiling (>= 10.9 of 10.97 bits) from t ~ 40 on (a fall from
there would still show); sigmoid (lr 0.6): the training set is fit by t ~ 2,000 (train accuracy 0.995; final test
accuracy 0.78), layer 4's KDE I(X;T) rises from 0 to 4.75 bits and stays flat from t ~ 2,500 to 4,800 (compression
0.00), its binned value falls by 0.02 / 0.19. So the quick verdicts: tanh compresses by binning (0.67 > 0.5) but not
by the 0.5-bit KDE threshold (0.37), ReLU and sigmoid do not compress. A second quick setting at half the learning
rates for twice the steps (tanh and ReLU lr 0.05 x 16,000 steps, sigmoid lr 0.3 x 16,000: the same t) gives the same
verdicts with the same numbers to within the spread of the two networks: tanh 0.38 +- 0.04 (KDE) and 0.66 +- 0.09
(binning), ReLU 0.00 and 0.00, sigmoid test accuracy 0.79 and compression 0.00, so they are not an artefact of the
compressed time axis (within lr <= 0.1).

**Full-scale wall time** (projected, not run: one network, 2 cores): training ~5 h (4.69 M steps at the 4.0 ms per
step measured on one core for this network, float32, batch 128); the KDE of layer 1 (1,024 units) on the 10,000 test
images ~4 min (2.3 s per evaluation at epoch 0 and after training, tanh and ReLU, measured 2026-12-02 on one core
with nothing else running; 0.04 s on 1,000 images, 0.11 s on 2,000; x 100 logged epochs), the other layers and the
binning less: ~5 h in all. On a GPU: not measured (no GPU was lent to this task). The KDE used to skip layer 1 at
the quick scale (11 s per evaluation on 1,000 images before the pairwise-distance kernels skipped the pairs whose
kernel underflows); it now estimates every layer.

Experiments:

* ``mnist-fig1cd`` (:func:`fig1cd`): tanh and ReLU; claims as for the 12-bit task (Saxe et al. 2018, Fig. 1C-D):
  the tanh network's last hidden layer compresses, no ReLU hidden layer does (the one compression measure of
  :mod:`experiments.compression`, threshold :data:`experiments.common.THRESHOLD_BITS`).
* ``mnist-sigmoid`` (:func:`sigmoid`): sigmoid against tanh units in the same network, and what the exact scalar
  model (:class:`minimal_models.ScalarGaussian`) says about them (:func:`scalar_model`).
* ``mnist-arch`` (:func:`architectures`): the shallower 784-20-10 and 784-512-10 networks, tanh and ReLU.

The last two come from a student presentation reproducing Saxe et al. (2018) (Jiang, Luo & Liu), which reports
that sigmoid units and the two small architectures show no compression phase.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np
import xarray as xr

from analytic.checks import positive_int
from analytic.units import to_bits
from experiments.claims import Claim
from experiments.common import combine, compression_bits, compression_claim, hidden_layers
from experiments.registry import cached, check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import to_dataset
from sims import MLP, datasets
from sims.info_plane import InfoPlaneConsumer
from sims.train import train

__all__ = ["SAXE_WIDTHS", "MNIST_SCALES", "SIGMOID_LR", "ARCH_QUICK", "PAPER_LR", "PAPER_SGD_TIME", "mnist_config",
           "train_mnist", "mnist_run", "sgd_time", "fig1cd", "sigmoid", "architectures", "scalar_model",
           "projected_full_seconds", "load_mnist", "mnist_subset"]

PAPER = "Saxe et al. 2018"
PRESENTATION = "Jiang, Luo & Liu (student presentation of Saxe et al. 2018)"
#: Saxe et al.'s MNIST network.
SAXE_WIDTHS = (784, 1024, 20, 20, 20, 10)
#: The student presentation's further architectures (hidden widths, then the 10-unit softmax output).
SMALL_WIDTHS = {"20-10": (784, 20, 10), "512-10": (784, 512, 10)}
#: Saxe et al.'s learning rate (plain SGD, batch 128) and the length of their run: 10,000 epochs of the 60,000
#: images (469 steps each), so lr x steps = 4,690 (the SGD time, see the module docstring).
PAPER_LR = 1e-3
PAPER_SGD_TIME = PAPER_LR * 10000 * 469
#: The two scales (module docstring). ``quick`` compresses the time axis: lr 0.1 instead of 1e-3.
MNIST_SCALES = {"quick": dict(ensemble=2, n_train=1280, n_analysis=2000, epochs=800, log_epochs=30, lr=0.1,
                              dtype="float32"),
                "full": dict(ensemble=1, n_train=60000, n_analysis=10000, epochs=10000, log_epochs=100)}
#: Learning rate of the sigmoid network per scale (module docstring: a sigmoid network trains 4-16x slower than
#: a tanh one at the same lr, so the quick scale gives it the paper's whole SGD time: 0.6 x 8,000 steps = 4,800).
SIGMOID_LR = {"quick": 0.6, "full": PAPER_LR}
#: ``mnist-arch`` at the quick scale: its hidden layer (20 or 512 units) is the one its claims are about, so the
#: KDE runs on every layer, on 1,000 test images (wide layers dominate the KDE's time; module docstring).
ARCH_QUICK = dict(n_analysis=1000, kde_layers=None)
CHECKPOINT_EVERY = 60.0
#: The scalar model's information is exact (no estimator noise), so any fall above this is a real compression.
SCALAR_THRESHOLD_BITS = 0.01


def load_mnist(data_dir: str | os.PathLike | None = None) -> datasets.Dataset:
    """MNIST through :func:`sims.datasets.mnist` (float32 here; subsets are converted to float64).

    ``data_dir`` None: the loader's own search (``$IBT_DATA_DIR``, ``~/.cache/ibtoolkit/mnist``), then a
    ``shared/data/mnist`` folder beside the repository checkout (where the test suite also looks). An experiment
    never downloads: without the files it raises ``FileNotFoundError`` saying how to get them
    (``sims.datasets.mnist(download=True)`` fetches and checks them once)."""
    if data_dir is not None:
        return datasets.mnist(data_dir, download=False, dtype=np.float32)
    try:
        return datasets.mnist(None, download=False, dtype=np.float32)
    except FileNotFoundError:
        beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
        if all((beside / f).is_file() for f in datasets.MNIST_FILES):
            return datasets.mnist(beside, download=False, dtype=np.float32)
        raise FileNotFoundError(
            "MNIST files not found (searched $IBT_DATA_DIR, ~/.cache/ibtoolkit/mnist and shared/data/mnist beside "
            "the checkout); run sims.datasets.mnist(download=True) once, or set IBT_DATA_DIR") from None


def mnist_config(activation: str = "tanh", *, widths: Sequence[int] = SAXE_WIDTHS, ensemble: int = 1,
                 n_train: int = 2560, n_analysis: int = 1000, epochs: int = 150,
                 log_epochs: int | Sequence[int] | None = 30, lr: float = PAPER_LR, batch_size: int = 128,
                 optimizer: str = "sgd", seed: int = 0, init: str = "truncated_normal", kde_noise_var: float = 0.1,
                 bin_width: float = 0.5, threads: int = 2, dtype: Literal["float64", "float32"] = "float64",
                 kde_layers: Sequence[int] | None = None) -> dict:
    """The configuration dict (JSON-able; its hash is the cache key). Defaults: Saxe et al.'s set-up (lr 1e-3),
    a small size; :data:`MNIST_SCALES` holds the two scales. ``dtype``: the training arithmetic (the estimators
    work in float64 either way). ``kde_layers``: the layers (1 = first hidden) the KDE estimates (None: all;
    the others are NaN in ``i_xt_kde`` / ``i_ty_kde``); binning always covers every layer."""
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if kde_layers is not None:
        kde_layers = sorted({positive_int(l, "kde_layers") for l in kde_layers})
        if not kde_layers or kde_layers[-1] > len(widths) - 1:
            raise ValueError(f"kde_layers must be layer numbers in 1..{len(widths) - 1}, got {kde_layers}")
    n_train = positive_int(n_train, "n_train")
    n_analysis = positive_int(n_analysis, "n_analysis")
    if n_train > 60000 or n_analysis > 10000:
        raise ValueError(f"n_train <= 60000 and n_analysis <= 10000 (MNIST's sets), got {n_train}, {n_analysis}")
    return {"activation": str(activation), "widths": [int(w) for w in widths],
            "ensemble": positive_int(ensemble, "ensemble"), "n_train": n_train, "n_analysis": n_analysis,
            "epochs": positive_int(epochs, "epochs"), "log_epochs": log_epochs, "lr": float(lr),
            "batch_size": batch_size, "optimizer": str(optimizer), "seed": int(seed), "init": str(init),
            "kde_noise_var": float(kde_noise_var), "bin_width": float(bin_width),
            "threads": positive_int(threads, "threads"), "dtype": str(dtype), "kde_layers": kde_layers}


def mnist_subset(data: datasets.Dataset, cfg: dict) -> datasets.Dataset:
    """The configured training subset (random, from ``seed``) and the first ``n_analysis`` test images."""
    rng = np.random.default_rng(cfg["seed"])
    idx = np.sort(rng.permutation(data.x_train.shape[0])[:cfg["n_train"]])
    xa = np.asarray(data.x_test[:cfg["n_analysis"]], dtype=np.float64)
    ya = np.asarray(data.y_test[:cfg["n_analysis"]])
    return datasets.Dataset(np.asarray(data.x_train[idx], dtype=np.float64), np.asarray(data.y_train[idx]), xa, ya,
                            x_analysis=xa, y_analysis=ya, n_classes=10, name="mnist subset",
                            info={"train_indices_seed": cfg["seed"], "n_train": cfg["n_train"],
                                  "n_analysis": cfg["n_analysis"]})


def train_mnist(cfg: dict, checkpoint: str | os.PathLike | None = None, data: datasets.Dataset | None = None,
                *, progress: bool = False
                ) -> xr.Dataset:
    """Train the ensemble of ``cfg`` (:func:`mnist_config`) with both estimators streamed; the labelled Dataset
    (``i_xt_kde``, ``i_ty_kde``, ``i_xt_binned``, ``i_ty_binned`` (member, epoch, layer) in nats, ``loss``,
    ``accuracy`` (member, epoch, split), ``weight_norm``, ``grad_snr``; ``attrs["seconds"]``: wall time).

    ``data``: a loaded MNIST :class:`~sims.datasets.Dataset` (default: :func:`load_mnist`).
    """
    t0 = time.perf_counter()
    sub = mnist_subset(load_mnist() if data is None else data, cfg)
    y = sub.y_analysis
    kde_layers = cfg.get("kde_layers")
    consumers = {"kde": InfoPlaneConsumer("kde", y, noise_var=cfg["kde_noise_var"],
                                          layers=None if kde_layers is None else [l - 1 for l in kde_layers]),
                 "binned": InfoPlaneConsumer("binned", y, width=cfg["bin_width"])}
    net = MLP(cfg["widths"], activation=cfg["activation"], init=cfg["init"])
    run = train(net, sub, ensemble=cfg["ensemble"], epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                optimizer=cfg["optimizer"], lr=cfg["lr"], seed=cfg["seed"], log_epochs=cfg["log_epochs"],
                consumers=consumers, checkpoint=checkpoint, checkpoint_every=CHECKPOINT_EVERY, progress=progress,
                threads=cfg["threads"], dtype=cfg.get("dtype", "float64"))
    planes = {}
    for name in ("binned", "kde"):
        res = np.asarray(run.consumer_results[name], dtype=float)         # (member, epoch, layer, quantity)
        if name == "kde" and kde_layers is not None:                      # layers not estimated: NaN
            full = np.full(res.shape[:2] + (run.n_layers, 2), np.nan)
            full[:, :, [l - 1 for l in kde_layers]] = res
            res = full
        planes[name] = (res[..., 0], res[..., 1])
    ds = to_dataset(run, planes, cfg, sub.x_analysis, y)
    ds.attrs["seconds"] = time.perf_counter() - t0
    return ds


def mnist_run(activation: str, scale: Literal["quick", "full"] = "quick", verbose: bool = False,
              data: datasets.Dataset | None = None, **overrides: Any) -> xr.Dataset:
    """The (cached) Dataset of one MNIST configuration at ``scale`` (overrides change the configuration)."""
    cfg = mnist_config(activation, **{**MNIST_SCALES[check_scale(scale)], **overrides})
    return cached("mnist", cfg, lambda ck: train_mnist(cfg, ck, data, progress=verbose), scale=scale,
                  verbose=verbose).data


def sgd_time(cfg: dict) -> float:
    """lr x number of SGD steps of a configuration (:func:`mnist_config`): the gradient-flow time its run covers
    (module docstring). Saxe et al.'s run: :data:`PAPER_SGD_TIME` = 1e-3 x 10,000 x 469 = 4,690.

    >>> sgd_time(mnist_config(n_train=1280, epochs=600, lr=0.1))
    600.0
    """
    bs = cfg["batch_size"]
    per_epoch = 1 if bs in (None, "full") else -(-int(cfg["n_train"]) // int(bs))
    return float(cfg["lr"]) * per_epoch * int(cfg["epochs"])


def _training(ds: xr.Dataset) -> str:
    """How a run was trained, against the paper, for the claims' statements."""
    cfg = json.loads(ds.attrs["config"])
    steps = round(sgd_time(cfg) / cfg["lr"])
    lr = f"lr {cfg['lr']:g}" + ("" if cfg["lr"] == PAPER_LR else f" (paper {PAPER_LR:g})")
    return (f"SGD {lr} x {steps:,} steps on {cfg['n_train']:,} images: lr x steps = {sgd_time(cfg):,.0f} of the "
            f"paper's {PAPER_SGD_TIME:,.0f}")


def projected_full_seconds(ds: xr.Dataset) -> float:
    """Wall time the full scale would take, projected from a run ``ds``: training cost scales with the number
    of training images x epochs, the KDE with (analysis images)^2 x logged epochs; all of the run's time is
    charged to both terms. Not a bound when the run skipped layers the full scale estimates (``kde_layers``)."""
    cfg = json.loads(ds.attrs["config"])
    full = MNIST_SCALES["full"]
    t = float(ds.attrs["seconds"])
    train_ratio = (full["n_train"] * full["epochs"]) / (cfg["n_train"] * cfg["epochs"])
    kde_ratio = (full["n_analysis"] ** 2 * full["log_epochs"]) / (cfg["n_analysis"] ** 2 * len(ds.epoch))
    return t * max(train_ratio, kde_ratio) + t * min(train_ratio, kde_ratio)


def _timing(ds):
    cfg = json.loads(ds.attrs["config"])
    return {"seconds": float(ds.attrs["seconds"]), "full_scale_hours_projected": projected_full_seconds(ds) / 3600,
            "lr": cfg["lr"], "sgd_time": sgd_time(cfg), "paper_sgd_time": PAPER_SGD_TIME}


def _last_hidden(ds):
    return [hidden_layers(ds)[-1]]


def _estimated(ds, var):
    """The hidden layers where ``var`` was estimated (the KDE skips the layers outside ``kde_layers``)."""
    return [l for l in hidden_layers(ds) if not np.isnan(ds[var].sel(layer=l).values).all()]


@experiment("mnist-fig1cd", "Saxe 2018 Fig. 1C-D: MNIST 784-1024-20-20-20-10, tanh vs ReLU, SGD 1e-3, KDE and "
            "binning", PAPER)
def fig1cd(scale: Literal["quick", "full"] = "quick", verbose: bool = False, data: datasets.Dataset | None = None,
           **overrides: Any) -> ExperimentResult:
    """tanh and ReLU networks on MNIST (Saxe et al. 2018, Fig. 1C-D). Claims: tanh's last hidden layer
    compresses, no ReLU hidden layer does (KDE and binning)."""
    check_scale(scale)
    runs = {a: mnist_run(a, scale, verbose, data, **overrides) for a in ("tanh", "relu")}
    ds = combine(runs, "activation")
    claims = []
    for var, what in (("i_xt_kde", "KDE, noise variance 0.1"), ("i_xt_binned", "binning, width 0.5")):
        claims.append(compression_claim(runs["tanh"], var, _last_hidden(runs["tanh"]), compresses=True,
                                        paper=PAPER, figure="Fig. 1C", experiment="mnist-fig1cd",
                                        statement=f"MNIST tanh: the last hidden layer compresses ({what}; "
                                                  f"{_training(runs['tanh'])})",
                                        numbers={"final_test_accuracy": _final_acc(runs["tanh"]),
                                                 **_timing(runs["tanh"])}))
        claims.append(compression_claim(runs["relu"], var, _estimated(runs["relu"], var), compresses=False,
                                        paper=PAPER, figure="Fig. 1D", experiment="mnist-fig1cd",
                                        statement=f"MNIST ReLU: no hidden layer compresses ({what}; "
                                                  f"{_training(runs['relu'])})",
                                        numbers={"final_test_accuracy": _final_acc(runs["relu"]),
                                                 **_timing(runs["relu"])}))
    return ExperimentResult("mnist-fig1cd", scale, ds, claims)


def _final_acc(ds):
    return ds.accuracy.sel(split="test").isel(epoch=-1).values


def scalar_model(noise_var: float = 0.1, bin_width: float = 0.5, n_bins: int = 30, w_max: float = 10.0,
                 n_grid: int = 41) -> dict:
    """The exact scalar model h = f(wX), X ~ N(0, 1) (Saxe et al. 2018, Sec. 2), for tanh and sigmoid.

    For each unit and each measure — binning of width ``bin_width`` in activity, ``n_bins`` equal bins over the
    unit's range, and Gaussian noise of variance ``noise_var`` (the KDE's assumption) — the weight ``w_peak``
    where I(X;T) peaks, the peak, the value at ``w_max`` and their difference ``drop`` (nats), on a grid of
    ``n_grid`` weights in [0, ``w_max``]. Also ``identity_error``: the largest gap between the noisy
    I(X; sigmoid(wX) + Z_s) and I(X; tanh(wX/2) + Z_2s) over the grid (sigmoid(u) = (1 + tanh(u/2)) / 2, so the
    two are equal: a sigmoid unit is a tanh unit at half the weight seen through twice the noise std).
    """
    from minimal_models import ScalarGaussian

    w = np.linspace(0.0, float(w_max), positive_int(n_grid, "n_grid", minimum=3))
    s = float(np.sqrt(noise_var))
    out = {"w": w}
    ranges = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
    for a, (lo, hi) in ranges.items():
        m = ScalarGaussian(a)
        curves = {"width": m.binned_mi(w, np.arange(lo, hi + bin_width / 2, bin_width)),
                  "equal": m.binned_mi(w, np.linspace(lo, hi, n_bins + 1)),
                  "noisy": m.noisy_mi(w, s)}
        for k, c in curves.items():
            c = np.asarray(c, dtype=float)
            j = int(np.argmax(c))
            out[f"{a}_{k}"] = c
            out[f"{a}_{k}_summary"] = {"w_peak": float(w[j]), "peak": float(c[j]), "end": float(c[-1]),
                                       "drop": float(c[j] - c[-1])}
    tanh_half = np.asarray(ScalarGaussian("tanh").noisy_mi(w / 2, 2 * s), dtype=float)
    out["identity_error"] = float(np.max(np.abs(tanh_half - out["sigmoid_noisy"])))
    return out


@experiment("mnist-sigmoid", "Student presentation: MNIST 784-1024-20-20-20-10 with sigmoid vs tanh units; the "
            "exact scalar model for both", PRESENTATION)
def sigmoid(scale: Literal["quick", "full"] = "quick", verbose: bool = False, data: datasets.Dataset | None = None,
            scalar_grid: int = 41, sigmoid_lr: float | None = None, **overrides: Any) -> ExperimentResult:
    """Sigmoid against tanh hidden units in Saxe et al.'s MNIST network (the student presentation: sigmoid did
    not compress). Claims: the sigmoid network learns at all (else the next claim is empty); its last hidden
    layer does not compress (KDE), measured; the tanh
    network's compression beside it; and the exact scalar model's verdict (compression of the noisy
    I(X; f(wX) + Z) between its peak and w = 10, for both units, on ``scalar_grid`` weights).

    The tanh network is :func:`fig1cd`'s (same cache entry); the sigmoid network trains at ``sigmoid_lr``
    (None: :data:`SIGMOID_LR` of the scale, 0.6 at the quick scale: the module docstring says why), all other
    settings (``overrides`` included) as the tanh network's."""
    check_scale(scale)
    s_lr = SIGMOID_LR[scale] if sigmoid_lr is None else float(sigmoid_lr)
    if not (np.isfinite(s_lr) and s_lr > 0):
        raise ValueError(f"sigmoid_lr must be a finite number > 0, got {sigmoid_lr!r}")
    runs = {"tanh": mnist_run("tanh", scale, verbose, data, **overrides),
            "sigmoid": mnist_run("sigmoid", scale, verbose, data, **{**overrides, "lr": s_lr})}
    ds = combine(runs, "activation")
    sm = scalar_model(n_grid=scalar_grid)
    ds.attrs["scalar_model"] = json.dumps({k: v for k, v in sm.items() if k.endswith("summary")}
                                          | {"identity_error": sm["identity_error"]}, sort_keys=True)
    claims = [
        Claim.measured(PRESENTATION, "sigmoid slide", "MNIST sigmoid: the network learns (test accuracy > 0.5, else "
                       f"the next claim says nothing; {_training(runs['sigmoid'])})",
                       _final_acc(runs["sigmoid"]), ">", 0.5,
                       quantity="final test accuracy", experiment="mnist-sigmoid",
                       numbers={"tanh_final_test_accuracy": _final_acc(runs["tanh"]), **_timing(runs["sigmoid"])}),
        compression_claim(runs["sigmoid"], "i_xt_kde", _last_hidden(runs["sigmoid"]), compresses=False,
                          paper=PRESENTATION, figure="sigmoid slide", experiment="mnist-sigmoid",
                          statement="MNIST sigmoid: the last hidden layer does not compress (KDE; "
                                    f"{_training(runs['sigmoid'])})",
                          numbers={"tanh_compression_bits": compression_bits(runs["tanh"], "i_xt_kde",
                                                                             _last_hidden(runs["tanh"])),
                                   "final_test_accuracy": _final_acc(runs["sigmoid"]),
                                   "sigmoid_lr": s_lr, "tanh_lr": json.loads(runs["tanh"].attrs["config"])["lr"]}),
    ]
    for a, compresses in (("tanh", True), ("sigmoid", False)):
        summ = sm[f"{a}_noisy_summary"]
        claims.append(Claim.measured(
            "Saxe et al. 2018", "Sec. 2 (scalar model)",
            f"exact scalar model, {a}: the noisy I(X; f(wX) + Z) (noise variance 0.1, the KDE's) "
            + ("falls as w grows past its peak (saturation compresses)" if compresses else
               "never falls as w grows to 10 (no compression; sigmoid = tanh at half the weight, twice the noise)"),
            [to_bits(summ["drop"])], ">" if compresses else "<", SCALAR_THRESHOLD_BITS,
            quantity="peak − I(w = 10) (bits, exact)", experiment="mnist-sigmoid",
            numbers={"w_peak": summ["w_peak"], "peak_bits": to_bits(summ["peak"]),
                     "identity_error_nats": sm["identity_error"],
                     "width_0.5_bins_nats": sm[f"{a}_width_summary"],
                     "30_equal_bins_nats": sm[f"{a}_equal_summary"]}))
    return ExperimentResult("mnist-sigmoid", scale, ds, claims)


@experiment("mnist-arch", "Student presentation: MNIST 784-20-10 and 784-512-10 networks, tanh and ReLU",
            PRESENTATION)
def architectures(scale: Literal["quick", "full"] = "quick", verbose: bool = False,
                  data: datasets.Dataset | None = None, **overrides: Any) -> ExperimentResult:
    """The student presentation's shallower networks 784-20-10 and 784-512-10, tanh and ReLU, trained as in
    :func:`fig1cd`. Claim (the presentation): no hidden layer compresses, for either unit and architecture.
    At the quick scale :data:`ARCH_QUICK` replaces two of its settings (``overrides`` replace both)."""
    check_scale(scale)
    overrides = {**(ARCH_QUICK if scale == "quick" else {}), **overrides}
    runs = {f"{a} {k}": mnist_run(a, scale, verbose, data, widths=w, **overrides)
            for k, w in SMALL_WIDTHS.items() for a in ("tanh", "relu")}
    claims = [compression_claim(d, "i_xt_kde", hidden_layers(d), compresses=False, paper=PRESENTATION,
                                figure="architecture slide", experiment="mnist-arch",
                                statement=f"MNIST 784-{name.split()[1]}, {name.split()[0]}: the hidden layer does "
                                          f"not compress (KDE; {_training(d)})",
                                numbers={"final_test_accuracy": _final_acc(d)})
              for name, d in runs.items()]
    ds = {name: d for name, d in runs.items()}
    return ExperimentResult("mnist-arch", scale, _stack_ragged(ds), claims)


def _stack_ragged(runs: dict) -> xr.Dataset:
    """Runs with one hidden layer each (same layer count) side by side along ``run``."""
    return combine({k: v.drop_vars("layer_name") for k, v in runs.items()}, "run")
