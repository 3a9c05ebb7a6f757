r"""Gradient signal-to-noise ratio per layer over training (Shwartz-Ziv & Tishby 2017 Sec. 3.4; Saxe et al. 2018 Figs. 20-21).

For weight layer l and a set of minibatch gradients :math:`g_b` (b over the minibatches of one epoch), with
elementwise mean and population std over b and Frobenius norms (weights only, as Shwartz-Ziv & Tishby
2017 define it; also the 2019 thesis "Information Bottleneck Theory: Extensions to Convolutional Neural Networks
and the Stochastic Gradient Hypothesis", candidate 8240R, Sec. 2.3.3):

.. math::  \mu^l = \|\langle g^l_b\rangle_b\|,\qquad \sigma^l = \|\mathrm{std}_b(g^l_b)\|,\qquad
           \mathrm{SNR}^l = \mu^l/\sigma^l .

Tishby's "drift" phase has :math:`\mu \gg \sigma`, the "diffusion" phase :math:`\mu \ll \sigma`.
Two sources of the statistics, which differ in *where* the gradients are taken:

* :func:`gradient_snr` reads the simulator's ``run.grad_stats`` (:func:`sims.train`): the gradients of the
  successive minibatch updates of each logged epoch, each at the parameters of its own step (Tishby's practice);
* :func:`minibatch_gradient_stats` / :func:`trajectory_gradient_stats` take every minibatch gradient at the
  *same* parameters (the thesis's parallel definition; there the mean is exactly the full-batch gradient for an
  equal partition). This is also how a full-batch (BGD) run gets a noise level: the std of the per-sample
  gradients at its parameters, although BGD itself never follows them.

The experiments: ``experiments.gradient_snr.twelve_bit_snr`` (the 12-bit task, 12-10-7-5-4-3-2, tanh / ReLU /
linear, Adam, Saxe Fig. 20) and :func:`linear_111_snr` (a 1-1-1 linear network on a noisy scalar teacher, SGD
with batch 1 versus BGD, learning rate 1e-3, Saxe Fig. 21).

Example
-------
>>> r = linear_111_snr("sgd", epochs=20, log_epochs=5)
>>> r.mean_norm.shape      # (ensemble, logged epochs, layers)
(1, 5, 2)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import finite_array, index_sets, nonnegative, positive_int, positive_scalar, real_scalar
from analytic.checks import rng as make_rng
from sims import datasets
from sims.mlp import MLP
from sims.run import Run
from sims.train import train

if TYPE_CHECKING:
    import xarray

__all__ = ["GradientSNR", "gradient_snr", "minibatch_gradient_stats", "trajectory_gradient_stats",
           "linear_111_snr", "layer_norm_stats", "scalar_teacher"]


@dataclass(frozen=True, repr=False)
class GradientSNR:
    """Per-layer gradient statistics along training.

    epochs : (L,) logged epochs.  mean_norm, std_norm, snr : (E, L, n_layers).
    weight_norm : (E, L, n_layers) ||W^l|| or None.  train_loss : (E, L) or None.
    source : "simulator" (sequential minibatches of each epoch) or "fixed-parameters".
    label : free text (activation, optimizer) for plots.
    time : (L,) or None: gradient-flow time lr * (sample gradients used) / n_train at each logged epoch
    (SGD epoch: n steps of lr, time n*lr; BGD epoch: time lr), to compare SGD and BGD on one axis.
    """

    epochs: np.ndarray
    mean_norm: np.ndarray
    std_norm: np.ndarray
    snr: np.ndarray
    weight_norm: np.ndarray | None = None
    train_loss: np.ndarray | None = None
    source: str = "simulator"
    label: str = ""
    time: np.ndarray | None = None

    @property
    def n_layers(self) -> int:
        return self.mean_norm.shape[-1]

    @property
    def ensemble(self) -> int:
        return self.mean_norm.shape[0]

    def to_xarray(self) -> "xarray.Dataset":
        """An :class:`xarray.Dataset`: ``mean_norm``, ``std_norm``, ``snr`` (and ``weight_norm``) with dimensions
        (member, epoch, layer), ``train_loss`` (member, epoch), coordinate ``epoch`` (the logged epochs) and, when
        set, ``time`` along ``epoch``; attrs ``source`` and ``label``. ``.to_dataframe()`` gives the tidy table."""
        import xarray as xr

        dims = ("member", "epoch", "layer")
        data = {"mean_norm": (dims, self.mean_norm, {"long_name": "norm of the mean minibatch weight gradient"}),
                "std_norm": (dims, self.std_norm,
                             {"long_name": "norm of the elementwise std (population) of minibatch weight gradients"}),
                "snr": (dims, self.snr, {"long_name": "gradient signal-to-noise ratio mean_norm / std_norm"})}
        if self.weight_norm is not None:
            data["weight_norm"] = (dims, self.weight_norm, {"long_name": "Frobenius norm of the weights"})
        if self.train_loss is not None:
            data["train_loss"] = (("member", "epoch"), self.train_loss, {"long_name": "training loss"})
        coords = {"member": np.arange(self.ensemble), "epoch": np.asarray(self.epochs),
                  "layer": np.arange(self.n_layers)}
        if self.time is not None:
            coords["time"] = ("epoch", np.asarray(self.time, dtype=float))
        return xr.Dataset(data, coords=coords, attrs={"source": self.source, "label": self.label,
                                                      "axis_order": "member, epoch, layer"})

    def __repr__(self) -> str:
        ep = np.asarray(self.epochs)
        span = f"{int(ep[0])}..{int(ep[-1])}" if ep.size else "-"
        label = f" {self.label!r}" if self.label else ""
        return (f"<GradientSNR{label}: {self.ensemble} members x {ep.size} epochs ({span}) x {self.n_layers} "
                f"layers; source={self.source}>")

    def _repr_html_(self) -> str:
        return self.to_xarray()._repr_html_()

    def summary(self, statistic: str = "median") -> dict:
        """Ensemble summary: {"mean_norm", "std_norm", "snr"} -> (L, n_layers), median or geometric mean.

        Epochs with no minibatch statistics (epoch 0 of a simulator run) stay NaN.
        """
        if statistic not in ("median", "geometric_mean"):
            raise ValueError(f"statistic must be 'median' or 'geometric_mean', got {statistic!r}")
        out = {}
        for k in ("mean_norm", "std_norm", "snr"):
            v = getattr(self, k)
            with np.errstate(all="ignore"):
                if statistic == "median":
                    out[k] = np.median(v, axis=0)
                else:
                    out[k] = np.exp(np.mean(np.log(v), axis=0))
        return out

    def select(self, members: Sequence[int] | np.ndarray) -> "GradientSNR":
        """The statistics of the ensemble members ``members`` (boolean mask (E,) or indices) only."""
        idx = np.asarray(members)
        if idx.dtype == bool and idx.shape != (self.mean_norm.shape[0],):
            raise ValueError(f"members: boolean mask must have shape ({self.mean_norm.shape[0]},), got {idx.shape}")
        pick = (lambda a: None if a is None else a[idx])
        return replace(self, mean_norm=self.mean_norm[idx], std_norm=self.std_norm[idx], snr=self.snr[idx],
                       weight_norm=pick(self.weight_norm), train_loss=pick(self.train_loss))

    def trained(self, min_drop: float = 0.01) -> np.ndarray:
        """Boolean (E,): members whose training loss fell by more than ``min_drop`` from the first to the last
        logged epoch (narrow ReLU nets can die at the start: all gradients exactly 0 from then on)."""
        if self.train_loss is None:
            raise ValueError("trained: no training loss stored")
        return (self.train_loss[:, 0] - self.train_loss[:, -1]) > nonnegative(min_drop, "min_drop")

    def crossing_epoch(self) -> np.ndarray:
        """(E, n_layers): first logged epoch with SNR < 1 (mean below noise: 'diffusion'); NaN if never."""
        below = self.snr < 1.0
        first = np.argmax(below, axis=1)
        ep = self.epochs[first].astype(float)
        ep[~below.any(axis=1)] = np.nan
        return ep


def gradient_snr(run: Run, label: str = "") -> GradientSNR:
    """The simulator's per-epoch gradient statistics of ``run`` as a :class:`GradientSNR` (no recomputation)."""
    if not isinstance(run, Run):
        raise ValueError(f"run must be a sims.Run, got {type(run).__name__}")
    gs = run.grad_stats
    return GradientSNR(epochs=np.asarray(run.epochs), mean_norm=gs["mean_norm"], std_norm=gs["std_norm"],
                       snr=gs["snr"], weight_norm=gs["weight_norm"], train_loss=run.loss["train"],
                       source="simulator", label=label)


def layer_norm_stats(net: MLP, gradients: np.ndarray) -> dict:
    """Per-layer ||mean||, ||std|| (population) and SNR of a stack of flat gradients (n_batches, ..., P).

    Weights only (the biases of ``net``'s flat layout are skipped). Returns arrays of shape (..., n_layers).
    """
    g = finite_array(gradients, "gradients", min_ndim=2)
    if g.shape[-1] != net.n_params:
        raise ValueError(f"gradients: last axis must be the {net.n_params} parameters of net, got {g.shape[-1]}")
    mean, std = g.mean(0), g.std(0)
    mn = np.stack([np.linalg.norm(mean[..., w0:w1], axis=-1) for (w0, w1, *_) in net.layout], -1)
    sd = np.stack([np.linalg.norm(std[..., w0:w1], axis=-1) for (w0, w1, *_) in net.layout], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"mean_norm": mn, "std_norm": sd, "snr": mn / sd}


def _batches(n, batch_size, batches):
    if batches is not None:
        return index_sets(batches, n, "batches")
    B = positive_int(batch_size, "batch_size")
    if n % B:
        raise ValueError(f"batch_size must divide the {n} samples (equal batches), got {B}; or pass batches")
    return np.arange(n).reshape(n // B, B)


def minibatch_gradient_stats(net: MLP, params: Sequence[tuple[np.ndarray, np.ndarray]] | np.ndarray, x: ArrayLike,
                             y: ArrayLike, batch_size: int = 1, batches: ArrayLike | None = None, loss: str = "cross_entropy") -> dict:
    """Per-layer gradient statistics over minibatches, every gradient taken at the SAME parameters.

    ``params``: ``[(W, b), ...]`` or a flat (E, P) array (every member separately). Minibatches: consecutive
    equal batches of ``batch_size`` (default 1: per-sample gradients) or explicit ``batches`` (n_batches, B).
    Returns {"mean_norm", "std_norm", "snr"} of shape (E, n_layers) and "gradients" (n_batches, E, P).
    """
    theta = params if isinstance(params, np.ndarray) else net.flatten(params)
    theta = finite_array(theta, "params", ndim=2)
    x, t = net.inputs_and_targets(finite_array(x, "x", ndim=2), y)
    idx = _batches(x.shape[0], batch_size, batches)
    views = net.views(theta)
    G = np.stack([net.flatten(net.loss_and_grads(views, x[rows], t[rows], loss=loss)[1]) for rows in idx])
    return {**layer_norm_stats(net, G), "gradients": G}


def trajectory_gradient_stats(run: Run, x: ArrayLike | None = None, y: ArrayLike | None = None, batch_size: int = 1,
                              batches: ArrayLike | None = None, label: str = "", loss: str | None = None
                              ) -> GradientSNR:
    """Fixed-parameter minibatch statistics at every logged epoch of ``run`` (needs ``record_params=True``).

    ``x``, ``y``: the data the minibatches are drawn from (the training set; a Run does not store it).
    All logged parameter vectors of all members are evaluated at once (ensemble axis).
    """
    if not isinstance(run, Run):
        raise ValueError(f"run must be a sims.Run, got {type(run).__name__}")
    if run.params_history is None:
        raise ValueError("run: parameters were not recorded (train with record_params=True)")
    if x is None or y is None:
        raise ValueError("x, y: pass the training data the statistics are taken over")
    hist = run.params_history                     # (E, L, P)
    E, L, P = hist.shape
    stats = minibatch_gradient_stats(run.net, hist.reshape(E * L, P), x, y, batch_size, batches,
                                     loss or run.config["loss"])
    reshape = (lambda a: a.reshape(E, L, -1))
    return GradientSNR(epochs=np.asarray(run.epochs), mean_norm=reshape(stats["mean_norm"]),
                       std_norm=reshape(stats["std_norm"]), snr=reshape(stats["snr"]),
                       weight_norm=run.grad_stats["weight_norm"], train_loss=run.loss["train"],
                       source="fixed-parameters", label=label)


def scalar_teacher(n_samples: int = 100, slope: float = 1.0, noise_std: float = 0.5, seed: int = 0,
                   n_test: int = 200) -> datasets.Dataset:
    """Scalar regression data for the 1-1-1 net: x ~ N(0, 1), y = slope * x + N(0, noise_std^2);
    ``n_samples`` training and ``n_test`` test samples (train drawn first); the analysis set is the training set."""
    n = positive_int(n_samples, "n_samples")
    n_test = positive_int(n_test, "n_test")
    slope = real_scalar(slope, "slope")
    noise_std = nonnegative(real_scalar(noise_std, "noise_std"), "noise_std")
    rng = make_rng(seed, "seed")
    x = rng.standard_normal((n + n_test, 1))
    y = slope * x + noise_std * rng.standard_normal((n + n_test, 1))
    return datasets.Dataset(x[:n], y[:n], x[n:], y[n:], x_analysis=x[:n], y_analysis=y[:n], name="scalar_teacher",
                            info={"slope": slope, "noise_std": noise_std,
                                  "seed": seed if isinstance(seed, (int, np.integer)) else None})


def linear_111_snr(method: Literal["sgd", "bgd"] = "sgd", epochs: int | None = None, lr: float = 1e-3,
                   n_samples: int = 100, slope: float = 1.0, noise_std: float = 0.5, init_std: float = 0.1,
                   log_epochs: int | Sequence[int] | None = 40, seed: int = 0) -> GradientSNR:
    r"""Gradient statistics of a 1-1-1 linear network :math:`\hat y = w_2 w_1 x` (Saxe et al. Fig. 21).

    Data: :func:`scalar_teacher` (``n_samples``, ``slope``, ``noise_std``); loss mse
    :math:`\frac1n\sum\frac12(\hat y - y)^2`; weights N(0, init_std²), no biases; plain gradient
    descent with learning rate ``lr``. The two weights start small, so the loss shows a plateau, then a
    sigmoidal drop (Saxe-McClelland-Ganguli 2014), then the noise floor of the teacher.

    * ``method="sgd"``: batch 1 (n updates per epoch), statistics from the simulator (the n minibatch
      gradients of each logged epoch); default 300 epochs.
    * ``method="bgd"``: full batch (one update per epoch), statistics of the n per-sample gradients at the BGD
      parameters of each logged epoch (fixed-parameter definition: the noise a batch-1 gradient would carry);
      default 300 * n epochs, the same learning "time" lr * (number of sample-gradients) as 300 SGD epochs.

    Returns a :class:`GradientSNR` with ``n_layers = 2`` (w1, w2) and ``train_loss``.
    """
    if method not in ("sgd", "bgd"):
        raise ValueError(f"method must be 'sgd' or 'bgd', got {method!r}")
    init_std = positive_scalar(init_std, "init_std")
    data = scalar_teacher(n_samples, slope, noise_std, seed)
    n = data.x_train.shape[0]
    if epochs is None:
        epochs = 300 if method == "sgd" else 300 * n
    net = MLP([1, 1, 1], activation="linear", output="linear", init="normal", init_scale=init_std, bias=False)
    if method == "sgd":
        run = train(net, data, epochs=epochs, batch_size=1, optimizer="sgd", lr=lr, loss="mse", seed=seed,
                    log_epochs=log_epochs, progress=False)
        out = gradient_snr(run, label="1-1-1 SGD (batch 1)")
        time = lr * n * out.epochs
    else:
        run = train(net, data, epochs=epochs, batch_size="full", optimizer="sgd", lr=lr, loss="mse", seed=seed,
                    log_epochs=log_epochs, record_params=True, progress=False)
        out = trajectory_gradient_stats(run, data.x_train, data.y_train, batch_size=1,
                                        label="1-1-1 BGD (spread of per-sample gradients)")
        time = lr * out.epochs
    return replace(out, time=time.astype(float))
