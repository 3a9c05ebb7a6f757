"""Cached computations behind the minimal-model figures (Saxe et al. 2018, Figs. 3 and 4A-B; the noisy scalar
minimal model), so that a warm ``make figures`` only draws. (Fig. 6, the relevant / irrelevant inputs, is the
experiment ``saxe-fig6``, :mod:`experiments.saxe_linear`, with its claims.)

Each function computes its numbers once per configuration through :func:`experiments.registry.cached`
(``IBT_CACHE_DIR``) and returns them in the form the figure uses:

* :func:`linear_student_run` — the linear student-teacher of Saxe et al. (2018, Sec. 5, Figs. 3 and 4A-B):
  100-100-1, P = 100, SNR 1, initial scale 0.1; batch GD (lr 1, 4000 epochs) or SGD (batch 5, lr 0.2, 1000
  epochs), both ending at gradient-flow time lr * epoch / batch = 40 (GD at lr >= 2 already shows
  edge-of-stability spikes late in training);
* :func:`noisy_curves` — exact I(X; f(wX) + Z) of the scalar Gaussian model for four activations and two noise
  standard deviations (:meth:`minimal_models.ScalarGaussian.noisy_mi`).

The returned :class:`~minimal_models.linear_student_teacher.LinearRun` holds every array of the computed run
except the weights (not stored).
"""
from __future__ import annotations

import numpy as np
import xarray as xr

from experiments.registry import cached
from minimal_models import LinearStudentTeacher, ScalarGaussian
from minimal_models.linear_student_teacher import LinearRun

__all__ = ["BATCH", "SETTINGS", "NOISE_STDS", "ACTIVATIONS", "linear_student_run", "noisy_curves"]

#: Minibatch size of the SGD runs (Figs. 4A-B).
BATCH = 5
#: Learning rate and epochs of the Fig. 3 / 4A-B runs per method.
SETTINGS = {"gd": dict(lr=1.0, epochs=4000), "sgd": dict(lr=0.2, epochs=1000)}
#: Noise standard deviations and activations of the noisy scalar model.
NOISE_STDS = (0.01, 0.1)
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")


def _to_dataset(run: LinearRun) -> xr.Dataset:
    dv = {k: (("trial", "epoch", "layer")[:np.ndim(getattr(run, k))], getattr(run, k))
          for k in ("train_error", "test_error", "i_xt", "i_ty")}
    for k, v in run.subspace.items():
        dv[f"subspace_{k}"] = (("trial", "epoch", "layer"), v)
    return xr.Dataset(dv, coords={"epoch": run.epochs, "as_time": ("epoch", run.as_time)},
                      attrs={"method": run.method})


def _from_dataset(ds: xr.Dataset) -> LinearRun:
    sub = {k[len("subspace_"):]: ds[k].values for k in ds.data_vars if k.startswith("subspace_")}
    return LinearRun(ds.attrs["method"], ds.epoch.values, ds.as_time.values, ds.train_error.values,
                     ds.test_error.values, ds.i_xt.values, ds.i_ty.values, sub)


def _linear(unit: str, model_kw: dict, train_kw: dict) -> LinearRun:
    cfg = {"model": model_kw, "train": train_kw}
    return _from_dataset(cached(unit, cfg, lambda ck: _to_dataset(
        LinearStudentTeacher(**model_kw).train(**train_kw))).data)


def linear_student_run(method: str, full: bool = False) -> LinearRun:
    """The Fig. 3 / 4A-B run with ``method`` "gd" or "sgd" (1 trial and 50 logged epochs; ``full``: 5 trials, 80)."""
    if method not in SETTINGS:
        raise ValueError(f"method must be one of {sorted(SETTINGS)}, got {method!r}")
    model = dict(n_in=100, n_hidden=100, depth=1, n_train=100, snr=1.0, init_scale=0.1, n_trials=5 if full else 1,
                 seed=0)
    return _linear("linear-student", model, dict(method=method, batch_size=BATCH, log_epochs=80 if full else 50,
                                                 **SETTINGS[method]))


def noisy_curves(full: bool = False) -> xr.Dataset:
    """Exact noisy I(X; f(wX) + Z) (nats): ``mi`` (activation, noise_std, w) at w = 0 and 15 (``full``: 61)
    log-spaced weights on [1e-2, 1e2]."""
    w = np.concatenate([[0.0], np.geomspace(1e-2, 1e2, 61 if full else 15)])

    def compute(ck):
        mi = np.array([[ScalarGaussian(a).noisy_mi(w, s) for s in NOISE_STDS] for a in ACTIVATIONS])
        return xr.Dataset({"mi": (("activation", "noise_std", "w"), mi, {"units": "nats"})},
                          coords={"activation": list(ACTIVATIONS), "noise_std": list(NOISE_STDS), "w": w})
    return cached("scalar-noisy-mi", {"w": w.tolist(), "noise_stds": list(NOISE_STDS),
                                      "activations": list(ACTIVATIONS)}, compute).data
