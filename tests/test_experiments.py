"""The experiments layer: compression measure, claims, cache, resume, bounded memory, command line."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from experiments import claims_table, compression, compression_detail
from experiments.claims import Claim
from experiments import registry, twelve_bit as tb
from experiments.common import twelve_bit

TINY = dict(ensemble=2, epochs=6, log_epochs=[0, 1, 2, 3, 4, 5, 6], estimators=("binned",), threads=1)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ---------------------------------------------------------------- the compression measure
def test_compression_monotone_rise_is_zero():
    e = np.arange(50)
    assert compression(np.log1p(e), e) == 0.0
    assert compression(np.minimum(e, 20.0), e) == 0.0


def test_compression_rise_then_fall_is_the_drop():
    e = np.arange(60)
    curve = np.r_[np.linspace(0, 8, 20), np.full(10, 8.0), np.linspace(8, 3, 20), np.full(10, 3.0)]
    d = compression_detail(curve, e)
    assert d.drop == pytest.approx(5.0)
    assert d.peak == pytest.approx(8.0) and d.end == pytest.approx(3.0)
    assert 19 <= d.peak_epoch <= 25


def test_compression_noisy_plateau_is_about_zero():
    rng = np.random.default_rng(0)
    e = np.arange(200)
    curves = 5.0 + 0.05 * rng.standard_normal((20, 200))
    c = compression(curves, e)
    assert c.shape == (20,)
    assert np.all(c >= 0) and c.mean() < 0.1     # a few sd of a 5-point mean (0.05/sqrt(5) = 0.022)


def test_compression_includes_a_fall_from_epoch_0_and_batches():
    e = np.arange(10)
    assert compression(10.0 - e, e) == pytest.approx(5.0)     # first 5-point mean 8, last 3
    assert compression(np.stack([10.0 - e, e * 1.0]), e).tolist() == pytest.approx([5.0, 0.0])


def test_compression_bad_input():
    e = np.arange(10)
    with pytest.raises(ValueError, match="curve"):
        compression(np.r_[np.nan, np.ones(9)], e)
    with pytest.raises(ValueError, match="epochs"):
        compression(np.ones(10), np.arange(9))
    with pytest.raises(ValueError, match="window"):
        compression(np.ones(3), np.arange(3))


# ---------------------------------------------------------------- claims
def test_claim_json_round_trip_and_table():
    c = Claim.measured("Saxe et al. 2018", "Fig. 1A", "tanh compresses", np.array([1.0, 2.5]), ">", 0.5,
                       quantity="compression (bits)", experiment="x", numbers={"a": np.arange(2), "b": np.nan})
    back = Claim.from_json(c.to_json())
    assert back == c and back.holds and back.numbers == {"a": [0, 1], "b": None}
    assert json.loads(c.to_json())["values"] == [1.0, 2.5]
    no = Claim.measured("P", "F", "s", [1.0], "<", 0.5, quantity="q")
    assert not no.holds and no.sd == 0.0
    table = claims_table([c, no])
    assert "| Saxe et al. 2018 | Fig. 1A |" in table and "**no**" in table
    with pytest.raises(ValueError, match="op"):
        Claim.measured("P", "F", "s", [1.0], "~", 0.5, quantity="q")


# ---------------------------------------------------------------- cache and resume
def test_cache_second_call_does_not_train(monkeypatch):
    ds = twelve_bit("tanh", **TINY)
    assert set(ds.i_xt_binned.dims) == {"member", "epoch", "layer"} and ds.i_xt_binned.shape == (2, 7, 6)
    assert ds.layer_name.values[-1].startswith("output") and json.loads(ds.attrs["config"])["epochs"] == 6

    def boom(*a, **k):
        raise AssertionError("trained again")
    monkeypatch.setattr(tb, "train", boom)
    again = twelve_bit("tanh", **TINY)
    np.testing.assert_array_equal(again.i_xt_binned.values, ds.i_xt_binned.values)
    np.testing.assert_array_equal(again.loss.values, ds.loss.values)
    with pytest.raises(AssertionError, match="trained again"):
        twelve_bit("tanh", **{**TINY, "seed": 1})     # another configuration is another key


def test_resume_after_interrupt(monkeypatch, tmp_path, cache):
    reference = twelve_bit("relu", **TINY)
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path / "other"))
    monkeypatch.setattr(tb, "CHECKPOINT_EVERY", 0.0)
    real = tb.train

    def interrupted(*a, **k):
        def stop(epoch, acts):
            if epoch == 4:
                raise KeyboardInterrupt
            return np.zeros(1)
        return real(*a, **{**k, "consumers": {"stop": stop}})
    monkeypatch.setattr(tb, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        twelve_bit("relu", **TINY)
    assert len(list((tmp_path / "other" / "experiments").glob("*.ckpt.npz"))) == 1
    seen = []

    def resumed_train(*a, **k):
        def watch(epoch, acts):
            seen.append(epoch)
            return np.zeros(1)
        return real(*a, **{**k, "consumers": {"stop": watch}})
    monkeypatch.setattr(tb, "train", resumed_train)
    resumed = twelve_bit("relu", **TINY)
    assert seen[0] == 4                       # epochs 0-3 came from the checkpoint, training went on from there
    assert not list((tmp_path / "other" / "experiments").glob("*.ckpt.npz"))
    np.testing.assert_allclose(resumed.loss.values, reference.loss.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(resumed.i_xt_binned.values, reference.i_xt_binned.values, rtol=0, atol=1e-12)


def test_memory_is_bounded(monkeypatch):
    """Estimating never holds the whole run's activity: peak traced memory stays far below what
    record_activity would need (E * L * 4096 * 31 float64)."""
    monkeypatch.setattr(tb, "_BLOCK_FLOATS", 1 << 18)
    cfg = dict(TINY, epochs=40, log_epochs=list(range(41)))
    would_record = 2 * 41 * 4096 * sum(tb.WIDTHS[1:]) * 8
    tracemalloc.start()
    try:
        twelve_bit("relu", **cfg)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < would_record / 3, (peak, would_record)


# ---------------------------------------------------------------- registry and command line
def test_cli_list(capsys):
    from experiments.__main__ import main
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("saxe-fig1", "saxe-fig4cd", "saxe-fig5", "saxe-fig7", "saxe-fig8", "saxe-fig12", "saxe-fig18",
                 "generalization", "goldfeld-noisy-12bit"):
        assert name in out


def test_experiment_on_tiny_runs_gives_claims(monkeypatch):
    from experiments import saxe2018
    monkeypatch.setitem(saxe2018.TWELVE_BIT_SCALES, "quick", dict(TINY))
    res = saxe2018.fig1("quick")
    assert [c.figure for c in res.claims] == ["Fig. 1A", "Fig. 1B"]
    assert res.data.i_xt_binned.dims == ("activation", "member", "epoch", "layer")
    with pytest.raises(ValueError, match="scale"):
        saxe2018.fig1("huge")


# ---------------------------------------------------------------- Goldfeld's noisy network
def test_noisy_centres_come_from_noisy_passes():
    """Layer l >= 2 centres are f(W T_{l-1} + b) with T_{l-1} NOISY: two draws differ, the first layer's do not,
    and each equals the hand computation from the same noise."""
    from experiments.goldfeld2019 import noisy_centres
    from sims import MLP
    net = MLP([3, 4, 3, 2], activation="tanh")
    params = net.init_params(2, seed=0)
    x = np.random.default_rng(1).normal(size=(5, 3))
    a = noisy_centres(net, params, x, 0.1, np.random.default_rng(2))
    b = noisy_centres(net, params, x, 0.1, np.random.default_rng(3))
    np.testing.assert_allclose(a[0], b[0], rtol=0, atol=1e-15)        # deterministic given X
    assert np.abs(a[1] - b[1]).max() > 1e-3                          # random given X
    t1 = net.forward(params, x, noise_std=0.1, rng=np.random.default_rng(2))[0]
    W, bias = params[1]
    np.testing.assert_allclose(a[1], np.tanh(t1 @ W + bias[:, None, :]), rtol=0, atol=1e-12)
    reps = noisy_centres(net, params, x, 0.1, np.random.default_rng(2), reps=4)
    assert reps[1].shape == (2, 5, 4, 3)


def test_clustered_fraction_on_constructed_points():
    from experiments.goldfeld2019 import clustered_fraction
    pts = np.array([[0.0, 0.0], [0.001, 0.0], [1.0, 1.0], [5.0, 5.0]])
    assert clustered_fraction(pts, 0.01) == pytest.approx(2 / 12)     # one close pair, counted both ways
    assert clustered_fraction(pts[None].repeat(3, 0), 100.0).tolist() == [1.0, 1.0, 1.0]


def test_estimators_added_later_come_from_the_cached_parameters(monkeypatch):
    """k-NN planes of a cached run are computed from its recorded parameters, equal to estimating during the run."""
    ds = twelve_bit("tanh", **{**TINY, "estimators": ("binned", "knn")})
    monkeypatch.setattr(tb, "train", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained again")))
    later = tb.planes_from_dataset(twelve_bit("tanh", **{**TINY, "estimators": ("binned", "knn")}), ("knn",))
    np.testing.assert_allclose(later.i_xt_knn.values, ds.i_xt_knn.values, rtol=0, atol=1e-12)
    assert ds.params.dims == ("member", "epoch", "param")


def test_layer_threads_give_the_same_planes():
    """The per-layer KDE and k-NN estimates spread over threads: the same numbers as one thread, bit for bit, and
    the process's warning filters are left as they were."""
    import warnings
    from sims import MLP
    net = MLP(list(tb.WIDTHS), activation="tanh")
    ph = np.stack([net.flatten(net.init_params(3, seed=s)) for s in range(4)])      # (L=4, E=3, P)
    x = np.asarray(tb.datasets.tishby_12bit().x_analysis, float)[::8]
    y = np.arange(len(x)) % 2
    filters = list(warnings.filters)
    one = tb.params_info_planes(net, ph, x, y, activation="tanh", estimators=("binned", "kde", "knn"), threads=1)
    two = tb.params_info_planes(net, ph, x, y, activation="tanh", estimators=("binned", "kde", "knn"), threads=2)
    assert warnings.filters == filters
    for name in ("binned", "kde", "knn"):
        for a, b in zip(one[name], two[name]):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="threads"):
        tb.params_info_planes(net, ph, x, y, activation="tanh", estimators=("kde",), threads=0)
