"""The compression study (experiments.compression_study): a tiny grid runs end to end; the scalar theory's exact
identities (positive homogeneity of ReLU/linear, sigmoid(u) = (1 + tanh(u/2))/2)."""
import numpy as np
import pytest

from experiments.compression_study import compression_study, estimator_names, scalar_theory, study_cells

TINY = dict(ensemble=2, epochs=8, log_epochs=5, activations=["tanh", "relu"], factor_activations=["tanh"],
            init_scale=[1.0], input_scale=[2.0], noise_std=[0.1], optimizer=["bgd"], bins=[10, 30],
            kde_noise_vars=[0.1], kde_every=4)


def test_tiny_study_dims_and_claims(tmp_path):
    res = compression_study("quick", cache=tmp_path / "cells", **TINY)
    ds = res.data
    names = estimator_names(TINY["bins"], TINY["kde_noise_vars"])
    assert list(ds.estimator.values) == names == ["binned10", "binned30", "kde0.1"]
    # 2 base cells + 1 init scale + 1 input scale + 1 noise + 1 optimizer, for the one factor activation
    assert ds.sizes["cell"] == 6 and ds.sizes["member"] == 2
    assert ds["compression"].dims == ("cell", "estimator", "member")
    assert list(ds.factor.values[:2]) == ["activation"] * 2 and list(ds.activation.values[:2]) == ["tanh", "relu"]
    binned = ds["compression"].sel(estimator=["binned10", "binned30"]).values
    assert np.all(np.isfinite(binned)) and np.all(binned >= 0)
    # KDE only on the base cells of the factor activations (tanh)
    kde = ds["compression"].sel(estimator="kde0.1").values
    assert np.all(np.isfinite(kde[0])) and np.all(np.isnan(kde[1:]))
    assert np.allclose(ds["compression_mean"].values[:, :2], binned.mean(-1))
    assert ds["plane_i_xt"].dims == ("base_activation", "estimator", "plane_epoch", "layer")
    assert float(ds["above_bound"].sel(estimator="binned30").max()) <= 1e-9     # binned T: a real encoder
    assert {c.statement.split(" (")[0] for c in res.claims} >= {"double-saturating tanh compresses"}
    # the base configuration and init_scale 1 are the same training: identical numbers
    sel = (ds.factor == "init_scale") & (ds.level == "1")
    assert np.array_equal(ds["compression"].isel(cell=0).values[:2],
                          ds["compression"].isel(cell=int(np.flatnonzero(sel.values)[0])).values[:2])
    again = compression_study("quick", cache=tmp_path / "cells", **TINY)      # every cell from the cache
    assert np.array_equal(again.data["compression"].values, ds["compression"].values, equal_nan=True)


def test_study_cells_layout():
    cfg = dict(TINY, init_scale=[1.0, 2.0], epochs=400, lr=4e-3, kde_cells="factor", optimizer=["adam", "sgd1", "bgd"])
    cells = study_cells(cfg)
    opt = {lev: spec["fixed"] for fac, lev, _, spec in cells if fac == "optimizer"}
    assert opt["sgd1"]["batch_size"] == 1 and opt["bgd"]["batch_size"] is None and opt["adam"]["epochs"] == 400


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
