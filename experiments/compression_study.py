r"""What decides compression? The compression index on the 12-bit task over activation and five other factors.

The question (left open by Saxe et al. 2018, Sec. 3 and Fig. 1): Saxe et al. attribute the compression phase of
Shwartz-Ziv & Tishby (2017) to double-saturating nonlinearities, yet in their hands it is tanh that compresses
while ReLU does not. Which property of the nonlinearity, the initialisation, the input scale, the training noise,
the optimizer and the estimator decides it?

The instrument
--------------
Every cell trains an ensemble of 12-10-7-5-4-3-2 networks on the 12-bit task (:func:`sims.datasets.tishby_12bit`,
80/20 split, cross-entropy) through :func:`sims.sweep.sweep_train` (cells that differ only in ``init_scale`` are
packed into one ensemble run), records the parameters at the logged epochs, and estimates I(X;T) of every layer on
all 4096 equiprobable patterns with each estimator of :data:`ESTIMATORS`:

* ``binnedK``: K equal bins between the smallest and largest activity of the layer over the member's whole run
  (Saxe et al. 2018's min-max rule, applied to every activation alike, per member so that packing changes
  nothing), T = the tuple of bin indices (Shwartz-Ziv & Tishby 2017);
* ``kdeV``: the Kolchinsky-Tracey pairwise upper bound with noise variance V (Kolchinsky & Tracey 2017; Saxe et al.
  2018, App. C), at every ``kde_every``-th logged epoch and the last :data:`~experiments.compression.WINDOW`.

The compression index of a member is THE measure of :mod:`experiments.compression` (peak of the 5-point running
mean of I(X;T) minus its end, in bits), the largest over the hidden layers. A cell "compresses" when its mean over
members exceeds :data:`experiments.common.THRESHOLD_BITS`.

The design is one factor at a time around a base configuration (Adam, lr and epochs of the scale, batch 256,
truncated-normal init of std ``init_scale``/sqrt(fan-in), inputs 0/1, no noise): the activation axis runs over
every activation of :data:`analytic.activations.ACTIVATION_NAMES`; the other axes over :data:`FACTOR_ACTIVATIONS`.

The theory side (:func:`scalar_theory`) is Saxe et al.'s exact scalar model (Sec. 2, Fig. 2): X ~ N(0, 1),
T = bin(f(wX)), I(X;T) = H(T) computed from Gaussian CDFs (:class:`minimal_models.ScalarGaussian`), with the
network's binning rule transposed (30 equal bins between f(-4w) and f(4w), the range of 99.99 % of the activity).
It explains each activation by three numbers: the saturated fraction P(f'(wX) < 0.1 max f'), the range, and the
centring; and one identity: sigmoid(u) = (1 + tanh(u/2))/2, so under min-max binning sigmoid at weight w IS tanh at
w/2 (binned MI is invariant to affine maps of the activity): sigmoid needs twice the weight growth to compress.

Result: :func:`compression_study` returns an :class:`~experiments.result.ExperimentResult` whose Dataset has a
``cell`` dimension (coordinates ``factor``, ``level``, ``activation``), an ``estimator`` dimension and a ``member``
dimension: ``compression`` (cell, estimator, member; bits), ``compression_mean`` and ``compression_sd`` (cell,
estimator), ``accuracy`` (cell, member; final test accuracy); attrs: the configuration and the seconds spent.

>>> th = scalar_theory(["tanh", "sigmoid", "relu"], w=[0.5, 1.0, 2.0])
>>> import numpy as np
>>> bool(abs(th.binned_mi.sel(activation="sigmoid", w=2.0) - th.binned_mi.sel(activation="tanh", w=1.0)) < 1e-9)
True
>>> float(np.ptp(th.binned_mi.sel(activation="relu").values)) < 1e-9      # f(wx) = w f(x): no change with w
True
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
import warnings
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
import xarray as xr

from analytic.activations import ACTIVATION_NAMES, get_activation
from analytic.checks import positive_int
from analytic.units import to_bits
from experiments.cache import cache_dir
from experiments.claims import Claim
from experiments.common import THRESHOLD_BITS
from experiments.compression import WINDOW, compression
from experiments.ib_bound import twelve_bit_bound
from experiments.registry import check_scale, experiment
from experiments.result import ExperimentResult
from experiments.twelve_bit import WIDTHS, kde_epochs
from minimal_models import ScalarGaussian
from sims import MLP, datasets
from sims.estimators import binned, kde
from sims.sweep import sweep_train

if TYPE_CHECKING:
    from sims.run import Run

__all__ = ["SCALES", "FACTOR_ACTIVATIONS", "measure_planes", "study_cells", "compression_study", "scalar_theory",
           "estimator_names", "CLUSTER_COMMAND"]

#: Activations swept along the non-activation axes (a double-saturating pair and a single-sided one).
FACTOR_ACTIVATIONS = ("tanh", "sigmoid", "relu")

#: quick: what ``make figures`` uses (about 10 min on 2 cores); full: 50 members, the paper's 8000 epochs at
#: Adam lr 4e-4 (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018, Fig. 1), denser factor grids, KDE on every cell.
SCALES = {
    "quick": dict(ensemble=10, epochs=400, lr=4e-3, log_epochs=20, kde_every=3, bins=(10, 30, 100),
                  kde_noise_vars=(0.01, 0.1), kde_cells="factor",
                  init_scale=(0.5, 1.0, 2.0, 4.0), input_scale=(0.5, 1.0, 2.0), noise_std=(0.0, 0.1, 0.5),
                  optimizer=("adam", "sgd1", "bgd")),
    "full": dict(ensemble=50, epochs=8000, lr=4e-4, log_epochs=100, kde_every=1, bins=(10, 30, 100, 300),
                 kde_noise_vars=(0.001, 0.01, 0.1), kde_cells="all",
                 init_scale=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0), input_scale=(0.25, 0.5, 1.0, 2.0, 4.0),
                 noise_std=(0.0, 0.05, 0.1, 0.2, 0.5, 1.0), optimizer=("adam", "sgd1", "bgd")),
}

#: The optimizer levels: sims.train arguments and what changes from the base (epochs as a multiple of the
#: scale's epochs, so per-sample SGD (3277 steps an epoch) costs about what Adam does; lr fixed per optimizer).
OPTIMIZERS = {"adam": dict(optimizer="adam", batch_size=256),
              "sgd1": dict(optimizer="sgd", batch_size=1, lr=1e-3, epoch_fraction=0.05),
              "bgd": dict(optimizer="sgd", batch_size=None, lr=0.5, epoch_fraction=4.0)}

#: Running the full scale on a cluster (a Dask scheduler at ADDRESS); the quick scale runs serially.
CLUSTER_COMMAND = ('python -c "from experiments.compression_study import compression_study; '
                   "compression_study('full', backend='dask', address='tcp://HOST:8786')\"")


def estimator_names(bins: Sequence[int], kde_noise_vars: Sequence[float]) -> list:
    """``binnedK`` for each bin count, ``kdeV`` for each noise variance."""
    return [f"binned{int(k)}" for k in bins] + [f"kde{v:g}" for v in kde_noise_vars]


def _activities(net, theta, x):
    """Activities of every layer of members ``theta`` (E, P) on ``x``: list of (E, S, units)."""
    return [np.asarray(a) for a in net.forward(net.views(np.ascontiguousarray(theta)), x)]


def measure_planes(run: Run, *, bins: Sequence[int] = (30,), kde_noise_vars: Sequence[float] = (), kde_every: int = 2
                   ) -> xr.Dataset:
    """I(X;T) and I(T;Y) (nats) of every member, estimator, logged epoch and layer of ``run`` (trained with
    ``record_params=True``), as a Dataset with the member axis first: ``i_xt``, ``i_ty`` (member, estimator,
    epoch, layer) and the final ``accuracy`` (member,) on the test split. The ``measure`` of :func:`sweep_train`.

    One batched forward pass per logged epoch over all members; min-max bins per member and layer over the
    whole run (a first pass finds the ranges); KDE at :func:`experiments.twelve_bit.kde_epochs` (NaN elsewhere).
    """
    net = run.net
    x, y = np.asarray(run.inputs_analysis, float), np.asarray(run.labels_analysis)
    L, E, n = len(run.epochs), run.ensemble, run.n_layers
    theta = [net.flatten(run.params_at(i)) for i in range(L)]
    lo, hi = np.full((E, n), np.inf), np.full((E, n), -np.inf)
    for th in theta:
        for l, a in enumerate(_activities(net, th, x)):
            lo[:, l] = np.minimum(lo[:, l], a.min(axis=(1, 2)))
            hi[:, l] = np.maximum(hi[:, l], a.max(axis=(1, 2)))
    span = np.where(hi > lo, hi - lo, 1.0)
    names = estimator_names(bins, kde_noise_vars)
    i_xt, i_ty = np.full((2, E, len(names), L, n), np.nan)
    kde_idx = set(kde_epochs(L, kde_every).tolist()) if kde_noise_vars else set()
    for i, th in enumerate(theta):
        for l, a in enumerate(_activities(net, th, x)):
            u = (a - lo[:, l, None, None]) / span[:, l, None, None]          # each member's run range -> [0, 1]
            for j, k in enumerate(bins):
                i_xt[:, j, i, l], i_ty[:, j, i, l] = binned(u, y, n_bins=int(k), value_range=(0.0, 1.0))
            if i in kde_idx:
                for j, v in enumerate(kde_noise_vars):
                    i_xt[:, len(bins) + j, i, l], i_ty[:, len(bins) + j, i, l] = kde(a, y, noise_var=float(v))
    dims = ("member", "estimator", "epoch", "layer")
    coords = {"estimator": names, "epoch": run.epochs, "layer": np.arange(1, n + 1)}
    acc = np.asarray(run.accuracy["test"])[:, -1]
    return xr.Dataset({"i_xt": (dims, i_xt, {"units": "nats"}), "i_ty": (dims, i_ty, {"units": "nats"}),
                       "accuracy": (("member",), acc)}, coords=coords)


def _scaled(data, s):
    """The 12-bit data with every input multiplied by ``s``."""
    if s == 1.0:
        return data
    return dataclasses.replace(data, x_train=s * data.x_train, x_test=s * data.x_test,
                               x_analysis=s * data.x_analysis)


def study_cells(cfg: dict) -> list:
    """The sweeps of the study: a list of (factor, level label, activation list, sweep_train arguments)."""
    base_epochs, lr = cfg["epochs"], cfg["lr"]
    out = [("activation", "base", list(cfg["activations"]), {"grid_extra": {}, "kde": True})]
    fa = list(cfg["factor_activations"])
    inits, noises = [float(s) for s in cfg["init_scale"]], [float(s) for s in cfg["noise_std"]]
    for s in inits:      # one sweep over all init scales: its cells are packed into one ensemble per activation
        out.append(("init_scale", f"{s:g}", fa, {"grid_extra": {"init_scale": inits}, "select": {"init_scale": s}}))
    for s in cfg["input_scale"]:
        out.append(("input_scale", f"{s:g}", fa, {"input_scale": float(s)}))
    for s in noises:
        out.append(("noise_std", f"{s:g}", fa, {"grid_extra": {"noise_std": noises}, "select": {"noise_std": s}}))
    for o in cfg["optimizer"]:
        spec = dict(OPTIMIZERS[o])
        frac = spec.pop("epoch_fraction", 1.0)
        fixed = {"epochs": max(WINDOW, int(round(base_epochs * frac))), "lr": spec.pop("lr", lr), **spec}
        out.append(("optimizer", o, fa, {"fixed": fixed}))
    for fac, _, acts, spec in out:       # KDE: on every cell ("all") or on the base cells of the factor activations
        if cfg["kde_cells"] == "all":
            spec["kde"] = True
        elif fac == "activation":
            spec["kde_acts"] = [a for a in acts if a in fa]
    return out


#: Display order: double-saturating, single-sided, linear; any other activation after them.
_ORDER = ("tanh", "sigmoid", "hardtanh", "softsign", "relu", "softplus", "elu", "leaky_relu", "linear")


def _ordered(names) -> list:
    return [a for a in _ORDER if a in names] + sorted(a for a in names if a not in _ORDER)


def _config(scale, **overrides):
    cfg = {**SCALES[check_scale(scale)], "activations": _ordered(ACTIVATION_NAMES),
           "factor_activations": list(FACTOR_ACTIVATIONS), "seed": 0, "widths": list(WIDTHS)}
    unknown = set(overrides) - set(cfg) - {"backend", "address", "n_workers", "cache"}
    if unknown:
        raise TypeError(f"compression_study got unexpected arguments {sorted(unknown)}")
    cfg.update({k: v for k, v in overrides.items() if k in cfg})
    cfg["ensemble"] = positive_int(cfg["ensemble"], "ensemble")
    for k in ("bins", "kde_noise_vars", "init_scale", "input_scale", "noise_std", "optimizer", "activations",
              "factor_activations"):
        cfg[k] = list(cfg[k])
    return cfg


def _run_group(cfg, data, acts, spec, run_opts):
    """One sweep_train call: ``acts`` x the group's grid; returns the measured Dataset (activation, member, ...);
    with ``spec["kde_acts"]``, two calls (those activations with KDE, the others without), joined."""
    if spec.get("kde_acts"):
        with_kde = [a for a in acts if a in spec["kde_acts"]]
        rest = [a for a in acts if a not in with_kde]
        parts = [_run_group(cfg, data, with_kde, {**spec, "kde": True, "kde_acts": None}, run_opts)]
        if rest:
            parts.append(_run_group(cfg, data, rest, {**spec, "kde": False, "kde_acts": None}, run_opts))
        return xr.concat(parts, dim="activation", join="outer").sel(activation=list(acts))
    fixed = {"epochs": cfg["epochs"], "lr": cfg["lr"], "batch_size": 256, "optimizer": "adam",
             **spec.get("fixed", {})}
    measure = functools.partial(measure_planes, bins=tuple(cfg["bins"]),
                                kde_noise_vars=tuple(cfg["kde_noise_vars"]) if spec.get("kde") else (),
                                kde_every=cfg["kde_every"])
    grid = {"activation": list(acts), **{k: v for k, v in spec.get("grid_extra", {}).items()}}
    net = MLP(cfg["widths"], activation="tanh", init="truncated_normal")   # base net: fixed, so cache keys are too
    ds = sweep_train(net, _scaled(data, spec.get("input_scale", 1.0)), grid, ensemble=cfg["ensemble"],
                     measure=measure, seed=cfg["seed"], log_epochs=cfg["log_epochs"], record_params=True,
                     progress=False, **run_opts, **fixed)
    errors = [e for e in np.ravel(ds["error"].values) if e]
    if errors:
        raise RuntimeError(f"compression_study: {len(errors)} cell(s) failed; first:\n{errors[0]}")
    return ds


def _index(i_xt, epochs):
    """Compression (bits) of I(X;T) (..., epoch, layer), the largest over the hidden layers; epochs where the
    estimator was not evaluated (NaN) are skipped."""
    keep = ~np.isnan(i_xt).all(axis=tuple(a for a in range(i_xt.ndim) if a != i_xt.ndim - 2))
    v = to_bits(np.moveaxis(i_xt[..., keep, :-1], -2, -1))          # (..., hidden layer, epoch)
    return compression(v, np.asarray(epochs)[keep]).max(axis=-1)


def run_study(cfg: dict, *, backend: Literal["local", "processes", "dask"] = "local", address: str | None = None,
              n_workers: int | None = None, cache: str | os.PathLike | Literal[False] | None = None) -> xr.Dataset:
    """Train and measure every cell of ``cfg``; the study's Dataset (see the module docstring). ``cache``: the
    sweep's per-cell folder (None: ``experiments.cache.cache_dir() / "sweep-compression_study"``; False: none).

    Besides the compression index it keeps, for the base cells (factor ``"activation"``), the member-mean
    information planes ``plane_i_xt``, ``plane_i_ty`` (base_activation, estimator, plane_epoch, layer; nats), and for
    every cell ``above_bound`` (cell, estimator): the largest I(T;Y) - R(I(X;T)) over members, epochs and layers,
    R the 12-bit IB bound (:mod:`experiments.ib_bound`), in nats (<= 0: no estimate above the bound).
    """
    data = datasets.tishby_12bit(train_fraction=0.8, seed=cfg["seed"])
    if cache is None:
        cache = cache_dir() / "sweep-compression_study"
    elif cache is False:
        cache = None
    bound, _ = twelve_bit_bound()
    names = estimator_names(cfg["bins"], cfg["kde_noise_vars"])
    run_opts = {"backend": backend, "address": address, "n_workers": n_workers, "cache": cache}
    comp, acc, above, factor, level, activation, planes = [], [], [], [], [], [], {}
    done = {}
    for fac, lev, acts, spec in study_cells(cfg):
        key = json.dumps([acts, {k: v for k, v in spec.items() if k != "select"}], sort_keys=True)
        if key not in done:     # levels of one sweep (init scale, noise) share its run
            done[key] = _run_group(cfg, data, acts, spec, run_opts).reindex(estimator=names)
        ds = done[key]
        for a in acts:
            d = ds.sel(activation=a, **spec.get("select", {}))
            c, ab = np.full((len(names), cfg["ensemble"]), np.nan), np.full(len(names), np.nan)
            for j, e in enumerate(names):
                ixt, ity = d["i_xt"].sel(estimator=e).values, d["i_ty"].sel(estimator=e).values
                if not np.isnan(ixt).all():
                    c[j] = _index(ixt, d.epoch.values)
                    ok = ~np.isnan(ixt)
                    ab[j] = float(np.max(ity[ok] - bound.bound(ixt[ok])))
            if fac == "activation":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    planes[a] = (np.nanmean(d["i_xt"].values, axis=0), np.nanmean(d["i_ty"].values, axis=0),
                                 d.epoch.values)
            comp.append(c)
            above.append(ab)
            acc.append(d["accuracy"].values)
            factor.append(fac)
            level.append(lev)
            activation.append(a)
    comp = np.stack(comp)
    base = list(planes)
    coords = {"factor": ("cell", factor), "level": ("cell", level), "activation": ("cell", activation),
              "estimator": names, "member": np.arange(cfg["ensemble"]), "base_activation": base,
              "plane_epoch": planes[base[0]][2], "layer": np.arange(1, len(cfg["widths"]))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, sd = np.nanmean(comp, axis=-1), np.nanstd(comp, axis=-1, ddof=1)
    pdims = ("base_activation", "estimator", "plane_epoch", "layer")
    return xr.Dataset({"compression": (("cell", "estimator", "member"), comp, {"units": "bits"}),
                       "compression_mean": (("cell", "estimator"), mean, {"units": "bits"}),
                       "compression_sd": (("cell", "estimator"), sd, {"units": "bits"}),
                       "accuracy": (("cell", "member"), np.stack(acc)),
                       "above_bound": (("cell", "estimator"), np.stack(above), {"units": "nats"}),
                       "plane_i_xt": (pdims, np.stack([planes[a][0] for a in base]), {"units": "nats"}),
                       "plane_i_ty": (pdims, np.stack([planes[a][1] for a in base]), {"units": "nats"}),
                       "bound_i_xt": (("bound_vertex",), bound.env_i_xt, {"units": "nats"}),
                       "bound_i_ty": (("bound_vertex",), bound.env_i_ty, {"units": "nats"})},
                      coords=coords, attrs={"config": json.dumps(cfg, sort_keys=True)})


def cell(ds: xr.Dataset, factor: str, level: str, activation: str) -> xr.Dataset:
    """The cell of the study Dataset ``ds`` at (``factor``, ``level``, ``activation``)."""
    m = (ds.factor == factor) & (ds.level == level) & (ds.activation == activation)
    if not bool(m.any()):
        raise ValueError(f"no cell factor={factor!r}, level={level!r}, activation={activation!r}")
    return ds.isel(cell=int(np.flatnonzero(m.values)[0]))


# ---------------------------------------------------------------------------------------------------- theory
def scalar_theory(activations: Sequence[str] | None = None, w: ArrayLike | None = None, n_bins: int = 30,
                  eps: float = 0.1) -> xr.Dataset:
    """The exact scalar model per activation (Saxe et al. 2018, Sec. 2, Fig. 2): X ~ N(0, 1), T = bin(f(wX)).

    ``binned_mi`` (activation, w; nats): I(X;T) = H(T) with ``n_bins`` equal bins between f(-4w) and f(4w)
    (the network's min-max rule for an activity within 4 sd); ``saturation`` (activation, w): P(f'(wX) < eps
    max f'), the fraction of inputs in the flat parts; per activation: ``lo``, ``hi`` (range), ``centred``
    (f odd, so that the activity of a symmetric input is zero-centred), ``slope0`` (f'(0)), ``w_peak`` and
    ``mi_peak`` (where the binned MI is largest on the grid), ``fall`` (bits lost from the peak to the largest w).
    """
    acts = _ordered(ACTIVATION_NAMES) if activations is None else list(activations)
    w = np.geomspace(0.05, 20.0, 121) if w is None else np.asarray(w, float)
    z = np.linspace(-8.0, 8.0, 4001)
    pz = np.exp(-0.5 * z ** 2)
    pz /= pz.sum()
    mi, sat, rows = np.empty((len(acts), w.size)), np.empty((len(acts), w.size)), []
    for i, name in enumerate(acts):
        f = get_activation(name)
        model = ScalarGaussian(name)
        for j, wj in enumerate(w):
            lo, hi = float(f.value(-4.0 * wj)), float(f.value(4.0 * wj))
            mi[i, j] = model.binned_mi(wj, np.linspace(lo, hi, n_bins + 1))
        d = np.abs(f.derivative(np.outer(w, z)))                 # (w, z) on a fine quadrature grid
        dmax = max(float(np.abs(f.derivative(np.linspace(-20, 20, 40001))).max()), 1e-300)
        sat[i] = ((d < eps * dmax) * pz).sum(axis=1)
        lo, hi = f.range
        u = np.linspace(-5.0, 5.0, 101)
        centred = bool(np.allclose(f.value(-u), -f.value(u), atol=1e-12))      # odd: zero-centred activity
        k = int(np.argmax(mi[i]))
        rows.append((lo, hi, centred, float(f.derivative(0.0)), float(w[k]), mi[i, k], to_bits(mi[i, k] - mi[i, -1])))
    lo, hi, centred, slope0, wp, mp, fall = map(np.asarray, zip(*rows))
    return xr.Dataset({"binned_mi": (("activation", "w"), mi, {"units": "nats"}),
                       "saturation": (("activation", "w"), sat), "lo": ("activation", lo), "hi": ("activation", hi),
                       "centred": ("activation", centred), "slope0": ("activation", slope0),
                       "w_peak": ("activation", wp), "mi_peak": ("activation", mp, {"units": "nats"}),
                       "fall": ("activation", fall, {"units": "bits"})},
                      coords={"activation": acts, "w": w}, attrs={"n_bins": n_bins, "eps": eps})


# ---------------------------------------------------------------------------------------------------- claims
def study_claims(ds: xr.Dataset, theory: xr.Dataset) -> list[Claim]:
    """Claims measured from the study: double-saturating tanh compresses (Saxe et al. 2018, Fig. 1A), ReLU does
    not (Fig. 1B), sigmoid as Saxe et al. report it (it does not); and the scalar model's tanh/sigmoid identity."""
    est = "binned30" if "binned30" in ds.estimator.values else str(ds.estimator.values[0])
    out = []
    specs = [("tanh", True, "Fig. 1A", "double-saturating tanh compresses (binned)"),
             ("relu", False, "Fig. 1B", "single-sided ReLU does not compress (binned)"),
             ("sigmoid", False, "Sec. 3", "sigmoid does not compress (binned), as Saxe et al. report")]
    for act, compresses, fig, statement in specs:
        if act not in ds.activation.values:
            continue
        c = cell(ds, "activation", "base", act)["compression"].sel(estimator=est).values
        out.append(Claim.measured("Saxe et al. 2018", fig, statement, c, ">" if compresses else "<", THRESHOLD_BITS,
                                  quantity=f"compression of {est} I(X;T), largest over hidden layers (bits)",
                                  experiment="compression_study"))
    binned_est = [e for e in ds.estimator.values if str(e).startswith("binned")]
    worst = ds["above_bound"].sel(estimator=binned_est).values
    kde_est = [e for e in ds.estimator.values if str(e).startswith("kde")]
    kde_worst = ds["above_bound"].sel(estimator=kde_est).values if kde_est else np.array([np.nan])
    out.append(Claim.measured("Tishby, Pereira & Bialek 1999", "IB curve", "no trained layer's binned estimate "
                              "lies above the 12-bit information-bottleneck bound", [float(np.nanmax(worst))], "<=",
                              1e-9, quantity="largest I(T;Y) - R(I(X;T)) over cells, members, epochs, layers (nats)",
                              experiment="compression_study",
                              numbers={"kde_largest_excess_nats": float(np.nanmax(kde_worst))
                                       if np.isfinite(kde_worst).any() else None}))
    if {"tanh", "sigmoid"} <= set(theory.activation.values):
        w = theory.w.values
        t = np.interp(w / 2, w, theory.binned_mi.sel(activation="tanh").values)
        s = theory.binned_mi.sel(activation="sigmoid").values
        ok = w / 2 >= w[0]
        out.append(Claim.measured("Saxe et al. 2018", "Fig. 2", "scalar model: binned MI of sigmoid(wX) equals that "
                                  "of tanh(wX/2) (min-max bins; identity sigmoid(u) = (1 + tanh(u/2))/2)",
                                  [float(np.max(np.abs(to_bits(s[ok] - t[ok]))))], "<", 0.05,
                                  quantity="largest |difference| over w, interpolated grid (bits)",
                                  experiment="compression_study"))
    return out


@experiment("compression-study", "what decides compression: activation x init scale x input scale x noise x "
            "optimizer x estimator on the 12-bit task, with the scalar model's explanation",
            "Saxe et al. 2018; Shwartz-Ziv & Tishby 2017")
def compression_study(scale: Literal["quick", "full"] = "quick", verbose: bool = False,
                      backend: Literal["local", "processes", "dask"] = "local", address: str | None = None,
                      n_workers: int | None = None, cache: str | os.PathLike | Literal[False] | None = None,
                      **overrides: Any) -> ExperimentResult:
    """Run (or read the per-cell sweep cache ``cache``) the study at ``scale``; claims measured from it.

    ``backend="dask"`` with ``address="tcp://host:8786"`` runs the cells on a cluster (:data:`CLUSTER_COMMAND`).
    """
    cfg = _config(scale, **overrides)
    t0 = time.perf_counter()
    ds = run_study(cfg, backend=backend, address=address, n_workers=n_workers, cache=cache)
    theory = scalar_theory()
    seconds = time.perf_counter() - t0
    ds.attrs["seconds"] = seconds
    return ExperimentResult("compression_study", scale, ds, study_claims(ds, theory), {"seconds": seconds})
