"""InfoPlane on a small recorded run: recorded == streaming, bounds, save/load, min-max over the whole run, plot."""
import matplotlib
import numpy as np
import pytest

from analytic.binning import bin_index
from sims import MLP, datasets, estimators, train
from sims.info_plane import InfoPlane, InfoPlaneConsumer, info_plane, load_info_plane
from sims.plotting import plot_info_plane

matplotlib.use("Agg")
EDGES = np.linspace(-1, 1, 30)


@pytest.fixture(scope="module")
def small_run():
    data = datasets.tishby_12bit(seed=0)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh")
    consumers = {"ip": InfoPlaneConsumer("binned", data.y_analysis, edges=EDGES),
                 "kde": InfoPlaneConsumer("kde", data.y_analysis, layers=[2, 3], noise_var=0.1)}
    run = train(net, data, ensemble=2, epochs=8, log_epochs=[0, 2, 8], record_activity=True,
                consumers=consumers, progress=False, seed=0, lr=4e-3)
    return run, consumers


def test_recorded_equals_streaming_and_within_bounds(small_run):
    run, consumers = small_run
    ip = info_plane(run, "binned", edges=EDGES)
    streamed = consumers["ip"].to_info_plane(run, "ip")
    assert ip.i_xt.shape == (2, 3, 6)                  # (member, epoch, layer)
    np.testing.assert_array_equal(ip.i_xt, streamed.i_xt)
    np.testing.assert_array_equal(ip.i_ty, streamed.i_ty)
    assert ip.h_x == pytest.approx(12 * np.log(2), abs=1e-12)
    assert np.all(ip.i_xt <= ip.h_x + 1e-12) and np.all(ip.i_ty <= ip.h_y + 1e-12)
    kd = info_plane(run, "kde", layers=[2, 3], noise_var=0.1)
    np.testing.assert_allclose(kd.i_xt, consumers["kde"].to_info_plane(run, "kde").i_xt, rtol=1e-12)
    # direct call on one layer/member/epoch
    a = run.activity(3)[1, 2]
    direct = estimators.binned(a, run.labels_analysis, edges=EDGES)
    assert ip.i_xt[1, 2, 3] == direct[0] and ip.i_ty[1, 2, 3] == direct[1]


def test_minmax_is_over_whole_run_and_blocks_agree(small_run):
    run, _ = small_run
    ip = info_plane(run, "binned", n_bins=100, layers=[0])
    ipb = info_plane(run, "binned", n_bins=100, layers=[0], epoch_block=1)
    np.testing.assert_array_equal(ip.i_xt, ipb.i_xt)
    act = run.activity(0)
    edges = np.linspace(act.min(), act.max(), 101)
    for e, l in np.ndindex(2, 3):
        codes = bin_index(act[e, l], edges)
        _, counts = np.unique(codes, axis=0, return_counts=True)
        p = counts / counts.sum()
        assert ip.i_xt[e, l, 0] == pytest.approx(-np.sum(p * np.log(p)), abs=1e-12)


def test_save_load_roundtrip_and_plot(small_run, tmp_path):
    run, _ = small_run
    ip = info_plane(run, "binned", edges=EDGES)
    path = ip.save(tmp_path / "ip.npz")
    back = load_info_plane(path)
    np.testing.assert_array_equal(back.i_xt, ip.i_xt)
    assert back.layers == ip.layers and back.h_y == ip.h_y and back.estimator == "binned"
    assert back.options["edges"] == EDGES.tolist()
    assert ip.mean("i_xt", bits=True).shape == (3, 6) and ip.std("i_ty").shape == (3, 6)
    ax = plot_info_plane(ip, spread=True)
    assert ax.get_xlabel() == "I(X;T) [bits]"
    matplotlib.pyplot.close(ax.figure)


def test_bad_input(small_run):
    run, _ = small_run
    with pytest.raises(ValueError, match="estimator"):
        info_plane(run, "nope")
    with pytest.raises(ValueError, match="value_range"):
        InfoPlaneConsumer("binned", run.labels_analysis, n_bins=100)
    with pytest.raises(ValueError, match="i_xt"):
        InfoPlane("binned", {}, np.arange(3), (0,), np.zeros((1, 2, 4)), np.zeros((1, 2, 4)), 1.0, 1.0)
