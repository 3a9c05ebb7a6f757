"""Labelled results: one axis order (member, epoch, layer) across Run, InfoPlane, GradientSNR and consumer results;
to_xarray() with named dims, epoch coordinates, units and configuration; tidy to_dataframe(); concise reprs."""
import numpy as np
import pytest
import xarray as xr

from sims import MLP, datasets, train
from sims.gradient_snr import gradient_snr
from sims.info_plane import InfoPlane, InfoPlaneConsumer, info_plane

EDGES = np.linspace(-1, 1, 30)
E, LOGGED = 3, [0, 1, 4]


@pytest.fixture(scope="module")
def labelled_run():
    data = datasets.tishby_12bit(seed=0)
    consumers = {"ip": InfoPlaneConsumer("binned", data.y_analysis, edges=EDGES),
                 "sub": InfoPlaneConsumer("binned", data.y_analysis, edges=EDGES, layers=[0, -1]),
                 "mean0": lambda epoch, acts: acts[0].mean(axis=(1, 2))}
    run = train(MLP([12, 5, 3, 2]), data, ensemble=E, epochs=4, log_epochs=LOGGED, record_activity=True,
                consumers=consumers, progress=False, seed=1)
    return run, consumers


def test_one_axis_order_everywhere(labelled_run):
    run, consumers = labelled_run
    L, n = len(LOGGED), run.n_layers
    assert run.accuracy["test"].shape == (E, L)
    assert run.grad_stats["snr"].shape == (E, L, n)
    assert run.activity(1).shape == (E, L, 4096, 3)
    ip = info_plane(run, "binned", edges=EDGES, progress=False)
    assert ip.i_xt.shape == ip.i_ty.shape == (E, L, n)
    assert ip.mean("i_xt").shape == (L, n)
    assert gradient_snr(run).snr.shape == (E, L, n)
    assert run.consumer_results["ip"].shape == (E, L, n, 2)
    assert run.consumer_dims["ip"] == ("member", "epoch", "layer", "quantity")
    assert run.consumer_results["mean0"].shape == (L, E)          # undeclared consumer: stacking axis first
    assert run.consumer_dims["mean0"] is None
    # the streamed result is the same numbers as the recorded one, element by element (the estimator's sums
    # may round differently in the last bit when batched over epochs)
    same = dict(rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(run.consumer_results["ip"][..., 0], ip.i_xt, **same)
    np.testing.assert_allclose(consumers["ip"].to_info_plane(run, "ip").i_ty, ip.i_ty, **same)
    # member 2, logged epoch 1 (epoch 1), layer 1, by a direct estimator call
    from sims import estimators
    direct = estimators.binned(run.activity(1)[2, 1], run.labels_analysis, edges=EDGES)
    np.testing.assert_allclose([ip.i_xt[2, 1, 1], run.consumer_results["ip"][2, 1, 1, 1]], direct, **same)


def test_run_to_xarray(labelled_run):
    run, _ = labelled_run
    ds = run.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds.sizes["member"] == E and ds.sizes["epoch"] == 3 and ds.sizes["layer"] == 3
    assert ds["epoch"].values.tolist() == LOGGED                  # actual epoch numbers, not positions
    assert ds["width"].values.tolist() == [5, 3, 2]
    assert ds["loss"].dims == ("member", "epoch", "split") and ds["loss"].attrs["units"] == "nats"
    assert list(ds["split"].values) == ["train", "test"]
    np.testing.assert_array_equal(ds["accuracy"].sel(split="test").values, run.accuracy["test"])
    np.testing.assert_array_equal(ds["grad_snr"].values, run.grad_stats["snr"])
    np.testing.assert_array_equal(ds["grad_snr"].sel(epoch=4, layer=2).values, run.grad_stats["snr"][:, 2, 2])
    assert ds["consumer_ip"].dims == ("member", "epoch", "layer", "quantity")
    assert ds["consumer_sub"].dims == ("member", "epoch", "sub_layer", "quantity")   # 2 of 3 layers
    assert ds["consumer_mean0"].dims == ("epoch", "mean0_dim_1")
    assert ds.attrs["seed"] == 1 and '"loss": "cross_entropy"' in ds.attrs["config"]
    assert ds.attrs["axis_order"] == "member, epoch, layer"


def test_tidy_dataframe(labelled_run):
    run, _ = labelled_run
    df = run.to_xarray()["grad_snr"].to_dataframe()
    assert list(df.index.names) == ["member", "epoch", "layer"] and len(df) == E * 3 * 3
    assert df.loc[(1, 4, 0), "grad_snr"] == run.grad_stats["snr"][1, 2, 0]
    ip = info_plane(run, "binned", edges=EDGES, members=[0, 2], epoch_index=[0, 2], progress=False)
    tidy = ip.to_xarray().to_dataframe().reset_index()
    assert list(tidy.columns) == ["member", "epoch", "layer", "i_xt", "i_ty"]
    assert len(tidy) == 2 * 2 * 3
    assert sorted(set(tidy["member"])) == [0, 2] and sorted(set(tidy["epoch"])) == [0, 4]  # run's numbers
    row = tidy[(tidy.member == 2) & (tidy.epoch == 4) & (tidy.layer == 1)]
    assert row["i_xt"].item() == ip.i_xt[1, 1, 1]


def test_info_plane_to_xarray_attrs(labelled_run):
    run, _ = labelled_run
    ip = info_plane(run, "kde", layers=[1, 2], noise_var=0.1, progress=False)
    ds = ip.to_xarray()
    assert ds["i_xt"].dims == ("member", "epoch", "layer") and ds["i_xt"].attrs["units"] == "nats"
    assert ds["layer"].values.tolist() == [1, 2] and ds["epoch"].values.tolist() == LOGGED
    assert ds.attrs["estimator"] == "kde" and '"noise_var": 0.1' in ds.attrs["options"]
    assert ds.attrs["h_x"] == pytest.approx(12 * np.log(2)) and ds.attrs["units"] == "nats"


def test_gradient_snr_to_xarray(labelled_run):
    run, _ = labelled_run
    g = gradient_snr(run, label="tanh")
    ds = g.to_xarray()
    assert ds["snr"].dims == ("member", "epoch", "layer") and ds["train_loss"].dims == ("member", "epoch")
    assert ds["epoch"].values.tolist() == LOGGED and ds.attrs["label"] == "tanh"
    np.testing.assert_array_equal(ds["mean_norm"].values, run.grad_stats["mean_norm"])
    assert len(ds.to_dataframe()) == E * 3 * 3


def test_concise_reprs(labelled_run):
    run, _ = labelled_run
    ip = info_plane(run, "binned", edges=EDGES, progress=False)
    g = gradient_snr(run)
    for obj, words in ((run, ["3 members", "3 logged epochs", "seed=1", "activity=memory"]),
                       (ip, ["binned", "3 members", "3 epochs (0..4)", "3 layers", "nats"]),
                       (g, ["3 members", "3 epochs (0..4)", "3 layers"])):
        r = repr(obj)
        assert len(r) < 400 and "\n" not in r and "[" not in r.replace("['ip', 'mean0', 'sub']", ""), r
        for w in words:
            assert w in r, (w, r)
        html = obj._repr_html_()
        assert isinstance(html, str) and "xarray" in html.lower()


def test_info_plane_shape_error_names_the_convention():
    with pytest.raises(ValueError, match=r"\(member, epoch, layer\)"):
        InfoPlane("binned", {}, np.arange(3), (0, 1), np.zeros((2, 2, 3)), np.zeros((2, 2, 3)), 1.0, 1.0)
