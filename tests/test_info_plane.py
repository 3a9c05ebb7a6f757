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
    # the same estimates; batched over epochs or not, the entropy sums may differ in the last bit
    np.testing.assert_allclose(ip.i_xt, streamed.i_xt, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ip.i_ty, streamed.i_ty, rtol=1e-13, atol=1e-13)
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


# ---------------------------------------------------------------------------------------------- clear errors
@pytest.fixture(scope="module")
def two_layer_run():
    data = datasets.tishby_12bit(seed=0)
    return train(MLP([12, 4, 2]), data, ensemble=2, epochs=4, log_epochs=[0, 2, 4], record_activity=True,
                 progress=False, seed=0)


@pytest.mark.parametrize("layers", [[5], [-3], [2], [0, 2], [], [0.5], [True], [0, 0]])
def test_out_of_range_layers_are_rejected_not_wrapped(two_layer_run, layers):
    with pytest.raises(ValueError, match="layers"):
        info_plane(two_layer_run, "binned", layers=layers, n_bins=10, progress=False)


def test_negative_layers_count_from_the_output(two_layer_run):
    a = info_plane(two_layer_run, "binned", layers=[-1, -2], n_bins=10, progress=False)
    b = info_plane(two_layer_run, "binned", layers=[1, 0], n_bins=10, progress=False)
    assert a.layers == (1, 0)
    np.testing.assert_array_equal(a.i_xt, b.i_xt)


@pytest.mark.parametrize("kw, name", [(dict(epoch_index=[]), "epoch_index"), (dict(epoch_index=[3]), "epoch_index"),
                                      (dict(epoch_index=[0.5]), "epoch_index"), (dict(members=[7]), "members"),
                                      (dict(members=[]), "members"), (dict(members=[-3]), "members"),
                                      (dict(epoch_block=0), "epoch_block")])
def test_bad_selections_name_the_argument(two_layer_run, kw, name):
    with pytest.raises(ValueError, match=name):
        info_plane(two_layer_run, "binned", n_bins=10, progress=False, **kw)


def test_activity_index_out_of_range_is_a_clear_error(two_layer_run):
    for index in ([10], 3, [], [0.5], True):
        with pytest.raises(ValueError, match="index"):
            two_layer_run.activity(0, index=index)
    assert two_layer_run.activity(0, index=[-1]).shape == (2, 1, 4096, 4)
    assert two_layer_run.activity(0, index=2).shape == (2, 4096, 4)


def test_streaming_layers_checked(two_layer_run):
    with pytest.raises(ValueError, match="layers"):
        InfoPlaneConsumer("binned", two_layer_run.labels_analysis, layers=[0, 0], edges=EDGES)
    data = datasets.tishby_12bit(seed=0)
    c = InfoPlaneConsumer("binned", data.y_analysis, layers=[5], edges=EDGES)
    with pytest.raises(ValueError, match="layers"):
        train(MLP([12, 4, 2]), data, epochs=1, consumers={"c": c}, progress=False, seed=0)


def test_selection_is_exact(two_layer_run):
    full = info_plane(two_layer_run, "binned", n_bins=10, value_range=(-1, 1), progress=False)
    part = info_plane(two_layer_run, "binned", n_bins=10, value_range=(-1, 1), epoch_index=[2, 0], members=[1],
                      layers=[1], progress=False)
    assert part.epochs.tolist() == [4, 0] and part.members.tolist() == [1]
    np.testing.assert_array_equal(part.i_xt[0, :, 0], full.i_xt[1, [2, 0], 1])


# ---------------------------------------------------------------------------------------------- progress
def test_progress_bar_shown_and_silenced(two_layer_run, capsys):
    pytest.importorskip("tqdm")
    info_plane(two_layer_run, "binned", n_bins=10, progress=True)
    assert "info plane (binned)" in capsys.readouterr().err
    info_plane(two_layer_run, "binned", n_bins=10, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_without_tqdm(two_layer_run, monkeypatch, capsys):
    import sys
    monkeypatch.setitem(sys.modules, "tqdm", None)         # "not installed"
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    ip = info_plane(two_layer_run, "binned", n_bins=10, progress=True)
    assert ip.i_xt.shape == (2, 3, 2) and capsys.readouterr().err == ""


def test_notebook_without_ipywidgets_gets_text_bars_without_warning(monkeypatch):
    import sys
    import warnings

    pytest.importorskip("tqdm")
    from tqdm.std import tqdm as text_tqdm

    from sims import progress as prog
    monkeypatch.setattr(prog, "_in_notebook", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert prog.tqdm_class() is text_tqdm
        with prog.bar(3, "x") as b:
            b.update(3)
