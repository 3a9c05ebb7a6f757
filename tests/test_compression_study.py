"""The compression study (experiments.compression_study): a tiny grid runs end to end; the measures (one pass,
chunked, threaded: the same numbers; Goldfeld's estimator on noisy centres); the scalar theory's exact identities
(positive homogeneity of ReLU/linear, sigmoid(u) = (1 + tanh(u/2))/2)."""
import dataclasses

import numpy as np
import pytest

from experiments.compression_study import (compression_study, estimator_names, goldfeld_cells, measure_goldfeld,
                                           measure_planes, scalar_theory, study_cells)
from experiments.goldfeld2019 import noisy_centres
from experiments.twelve_bit import kde_epochs
from sims import MLP, datasets
from sims.estimators import goldfeld
from sims.train import train

TINY = dict(ensemble=2, epochs=8, log_epochs=5, activations=["tanh", "relu"], factor_activations=["tanh"],
            init_scale=[1.0], input_scale=[2.0], noise_std=[0.1], optimizer=["bgd"], bins=[10, 30],
            kde_noise_vars=[0.1], kde_every=4, goldfeld_every=2, goldfeld_samples=128, goldfeld_cond_inputs=8,
            goldfeld_cond_reps=4, goldfeld_matched_inputs=16, goldfeld_matched_reps=4)


def test_tiny_study_dims_and_claims(tmp_path):
    res = compression_study("quick", cache=tmp_path / "cells", backend="local", **TINY)
    ds = res.data
    names = estimator_names(TINY["bins"], TINY["kde_noise_vars"], goldfeld=True)
    assert list(ds.estimator.values) == names == ["binned10", "binned30", "kde0.1", "goldfeld", "goldfeld_matched"]
    # 2 base cells + 1 init scale + 1 input scale + 1 noise + 1 optimizer, for the one factor activation
    assert ds.sizes["cell"] == 6 and ds.sizes["member"] == 2
    assert ds["compression"].dims == ("cell", "estimator", "member")
    assert list(ds.factor.values[:2]) == ["activation"] * 2 and list(ds.activation.values[:2]) == ["tanh", "relu"]
    binned = ds["compression"].sel(estimator=["binned10", "binned30"]).values
    assert np.all(np.isfinite(binned)) and np.all(binned >= 0)
    # KDE on the base training of the factor activation (tanh), wherever it recurs (init scale 1); else NaN
    kde = ds["compression"].sel(estimator="kde0.1").values
    has_kde = (ds.factor.values == "activation") & (ds.activation.values == "tanh") | (ds.level.values == "1")
    assert np.all(np.isfinite(kde[has_kde])) and np.all(np.isnan(kde[~has_kde]))
    # Goldfeld: the base tanh cell only (its noisy twin), with the twin's accuracy
    for e in ("goldfeld", "goldfeld_matched"):
        gold = ds["compression"].sel(estimator=e).values
        assert np.all(np.isfinite(gold[0])) and np.all(gold[0] >= 0) and np.all(np.isnan(gold[1:])), e
    assert np.all(np.isfinite(ds["goldfeld_accuracy"].values[0])) and np.all(np.isnan(ds["goldfeld_accuracy"][1:]))
    assert np.allclose(ds["compression_mean"].values[:, :2], binned.mean(-1))
    assert ds["plane_i_xt"].dims == ("base_activation", "estimator", "plane_epoch", "layer")
    assert float(ds["above_bound"].sel(estimator="binned30").max()) <= 1e-9     # binned T: a real encoder
    # Goldfeld: on a subset of the patterns, clipped to the subset's H(Y): at most its excess over the task's
    for e in ("goldfeld", "goldfeld_matched"):
        assert float(ds["above_bound"].sel(estimator=e).max()) <= max(ds.attrs["goldfeld_h_y_excess"], 0) + 1e-9
    matched = next(c for c in res.claims if "matched estimator" in c.statement)
    assert "4 noisy passes of each of 16 inputs" in matched.statement and "matched" in matched.quantity
    assert {c.statement.split(" (")[0] for c in res.claims} >= {"double-saturating tanh compresses",
                                                                 "noisy tanh network"}
    # the base configuration and init_scale 1 are the same training: identical numbers
    sel = (ds.factor == "init_scale") & (ds.level == "1")
    assert np.array_equal(ds["compression"].isel(cell=0).values[:3],
                          ds["compression"].isel(cell=int(np.flatnonzero(sel.values)[0])).values[:3])
    again = compression_study("quick", cache=tmp_path / "cells", backend="local", **TINY)   # all from the cache
    assert np.array_equal(again.data["compression"].values, ds["compression"].values, equal_nan=True)


@pytest.mark.slow
def test_processes_backend_same_numbers(tmp_path):
    a = compression_study("quick", cache=False, backend="local", **TINY).data
    b = compression_study("quick", cache=False, backend="processes", n_workers=2, **TINY).data
    assert b.attrs["backend"] == "processes"
    for v in ("compression", "accuracy", "goldfeld_accuracy", "plane_i_xt"):
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True), v


def test_study_cells_layout():
    cfg = dict(TINY, activations=["tanh", "relu"], init_scale=[1.0, 2.0], input_scale=[1.0, 2.0], noise_std=[0.0],
               epochs=400, lr=4e-3, kde_cells="factor", optimizer=["adam", "sgd1", "bgd"], goldfeld_std=0.005)
    cells = study_cells(cfg)
    opt = {c["level"]: c["train"] for c in cells if c["factor"] == "optimizer"}
    assert opt["sgd1"]["batch_size"] == 1 and opt["bgd"]["batch_size"] is None and opt["adam"]["epochs"] == 400
    assert opt["sgd1"]["epochs"] == 20 and opt["bgd"]["epochs"] == 1600
    base = cells[0]["train"]
    # every level equal to the base configuration is the base training (trained once), with KDE
    same = [c for c in cells if c["train"] == base]
    assert {(c["factor"], c["level"]) for c in same} == {("activation", "base"), ("init_scale", "1"),
                                                         ("input_scale", "1"), ("noise_std", "0"),
                                                         ("optimizer", "adam")}
    assert all(c["kde"] for c in same) and not any(c["kde"] for c in cells if c["train"] != base)
    g = goldfeld_cells(cfg)
    assert list(g) == ["tanh"] and g["tanh"] == dict(base, noise_std=0.005)
    assert goldfeld_cells(dict(cfg, goldfeld_std=None)) == {}


@pytest.fixture(scope="module")
def small_runs():
    data = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    data = dataclasses.replace(data, x_analysis=data.x_analysis[::8], y_analysis=data.y_analysis[::8])   # 512
    net = MLP([12, 5, 3, 2], activation="tanh")
    kw = dict(ensemble=3, epochs=20, log_epochs=8, record_params=True, progress=False, lr=4e-3)
    return train(net, data, **kw), train(net, data, noise_std=0.05, **kw)


def test_measure_planes_one_pass_chunked_threaded_agree(small_runs):
    run = small_runs[0]
    kw = dict(bins=(10, 30), kde_noise_vars=(0.1,), kde_every=2)
    a = measure_planes(run, **kw)
    b = measure_planes(run, threads=2, keep_bytes=1, **kw)          # two passes per epoch, KDE on two threads
    for v in ("i_xt", "i_ty"):
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True)
    assert a.i_xt.dims == ("member", "estimator", "logged", "layer")
    assert np.array_equal(a.epoch.values[0], run.epochs)
    kde = a.i_xt.sel(estimator="kde0.1").values
    ev = kde_epochs(len(run.epochs), 2)
    assert len(ev) < len(run.epochs) and np.all(np.isnan(np.delete(kde, ev, axis=1)))
    assert np.all(np.isnan(kde[..., -1])) and np.all(np.isfinite(kde[:, ev, :-1]))      # hidden layers only


def test_measure_goldfeld_noisy_centres(small_runs):
    run = small_runs[1]
    g = measure_goldfeld(run, noise_std=0.05, every=2, n_samples=256, cond_inputs=8, cond_reps=4, n_noise=2, seed=3,
                         matched_inputs=16, matched_reps=2)      # the matched estimate: its own test below
    ixt, ity = g.i_xt.values[:, 0], g.i_ty.values[:, 0]                    # (member, logged, layer)
    ev = kde_epochs(len(run.epochs), 2)
    assert np.all(np.isnan(np.delete(ixt, ev, axis=1))) and np.all(np.isnan(ixt[..., -1]))
    h = ixt[:, ev, :-1]
    assert np.all(np.isfinite(h)) and np.all(h >= 0) and np.all(h <= np.log(256) + 1e-9)
    assert np.all(ity[:, ev, :-1] <= h + 1e-12)
    # the first hidden layer's centres are deterministic given X: exactly the estimator on f(W1 x + b1), with the
    # generator in the state the measure leaves it in before that call
    rng = np.random.default_rng([3, 2019])
    x = np.asarray(run.inputs_analysis, float)
    sub = np.sort(rng.choice(x.shape[0], size=256, replace=False))
    params = run.params_at(0)
    c = noisy_centres(run.net, params, x[sub], 0.05, rng)
    noisy_centres(run.net, params, x[sub][rng.choice(256, size=8, replace=False)], 0.05, rng, reps=4)
    W, b = params[0]
    assert np.allclose(c[0], np.tanh(x[sub] @ W + b[:, None, :]))
    ref = goldfeld(c[0], np.asarray(run.labels_analysis)[sub], noise_std=0.05, n_noise=2, seed=rng)[0]
    assert np.array_equal(ixt[:, 0, 0], ref)


def test_unknown_override():
    with pytest.raises(TypeError, match="unexpected"):
        compression_study("quick", epoch=3)
    with pytest.raises(ValueError, match="scale"):
        compression_study("huge")


def test_scalar_theory_identities():
    w = np.geomspace(0.1, 10, 21)
    th = scalar_theory(["tanh", "sigmoid", "relu", "linear", "hardtanh"], w=np.r_[w, w / 2])
    mi = th.binned_mi
    # positively homogeneous f (f(wx) = w f(x)): min-max binned MI does not depend on w
    for a in ("relu", "linear"):
        assert np.ptp(mi.sel(activation=a).values) < 1e-9
    # sigmoid(wX) and tanh(wX/2) are affine images of each other: the same min-max binned MI
    s = mi.sel(activation="sigmoid").values[:21]
    t = mi.sel(activation="tanh").values[21:]
    assert np.max(np.abs(s - t)) < 1e-9
    # double saturation: tanh's saturated fraction grows with w and its binned MI falls at large w
    sat = th.saturation.sel(activation="tanh").values[:21]
    assert np.all(np.diff(sat) >= -1e-12) and sat[-1] > 0.5
    assert float(th.fall.sel(activation="tanh")) > 0.5
    assert bool(th.centred.sel(activation="tanh")) and not bool(th.centred.sel(activation="sigmoid"))
    assert float(th.saturation.sel(activation="relu").values[0]) == pytest.approx(0.5, abs=1e-3)


def test_measure_goldfeld_matched_column(small_runs):
    """The Goldfeld cells' two estimators are goldfeld_layers' one-pass and matched estimates (clipped), the matched
    one on its own generator and subset: the one-pass numbers do not depend on the matched settings."""
    from experiments.goldfeld2019 import MatchedSubset, goldfeld_layers

    run = small_runs[1]
    kw = dict(noise_std=0.05, every=2, n_samples=128, cond_inputs=8, cond_reps=4, n_noise=2, seed=3)
    a = measure_goldfeld(run, matched_inputs=32, matched_reps=4, **kw)
    b = measure_goldfeld(run, matched_inputs=16, matched_reps=2, **kw)
    assert list(a.estimator.values) == ["goldfeld", "goldfeld_matched"]
    np.testing.assert_array_equal(a.i_xt.sel(estimator="goldfeld").values, b.i_xt.sel(estimator="goldfeld").values)
    m = a.i_xt.sel(estimator="goldfeld_matched").values
    ev = kde_epochs(len(run.epochs), 2)
    h = m[:, ev, :-1]
    assert np.all(np.isfinite(h)) and np.all(h >= 0) and np.all(h <= np.log(32) + 1e-9)
    assert np.all(a.i_ty.values[:, 1, ev, :-1] <= m[:, ev, :-1])
    assert np.isfinite(a.h_y_sample_matched.values).all()
    # the first evaluated epoch, recomputed by hand through goldfeld_layers
    rng = np.random.default_rng([3, 2019])
    x, y = np.asarray(run.inputs_analysis, float), np.asarray(run.labels_analysis)
    sub = np.sort(rng.choice(x.shape[0], size=128, replace=False))
    rng_m = np.random.default_rng([3, 2019, 1])
    sub_m = np.sort(rng_m.choice(128, size=32, replace=False))
    est = goldfeld_layers(run.net, run.params_at(int(ev[0])), x[sub], y[sub], noise_std=0.05, cond_inputs=8,
                          cond_reps=4, n_noise=2, rng=rng, clip=True, matched=MatchedSubset(sub_m, 4, 1, rng_m))
    np.testing.assert_array_equal(a.i_xt.values[:, 0, ev[0], :-1], est.i_xt)
    np.testing.assert_array_equal(a.i_xt.values[:, 1, ev[0], :-1], est.matched[0])
