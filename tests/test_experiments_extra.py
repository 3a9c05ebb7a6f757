"""Shwartz-Ziv & Tishby's own 12-bit protocol (experiments.shwartz_ziv) and Saxe et al. 2018 Figs. 13-17
(experiments.saxe_netinput, experiments.saxe_histograms): conventions against independent routes, tiny runs."""
from __future__ import annotations

import numpy as np
import pytest

from analytic.binning import net_input_edges
from experiments import registry, saxe_histograms, saxe_netinput, shwartz_ziv
from experiments.twelve_bit import train_twelve_bit, twelve_bit_config
from sims.estimators import binned


def _their_symbols_entropy(h, n_edges=50):
    """Their code, literally: symbol bins[np.digitize(h, bins) - 1] per unit, T = the row of symbols; plug-in H(T)
    over equiprobable samples (nats). h: (samples, units)."""
    bins = np.linspace(-1, 1, n_edges)
    digitized = bins[np.digitize(h.reshape(-1), bins) - 1].reshape(h.shape)
    _, counts = np.unique(digitized, axis=0, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def test_their_edges_reproduce_their_digitize_convention_including_exactly_one():
    rng = np.random.default_rng(0)
    bins = np.linspace(-1, 1, 50)
    h = np.tanh(rng.normal(scale=3, size=(600, 3)))
    h[:40] = 1.0                                           # float64 tanh of a net input above ~19.06
    h[40:60, 0] = np.nextafter(1.0, 0)                     # just below 1: the top bin [e_48, 1)
    h[60:80, 1] = -1.0
    h[80:130] = rng.choice(bins, size=(50, 3))             # values exactly on edges
    y = np.arange(600) % 2
    i_xt, _ = binned(h, y, edges=shwartz_ziv.their_edges(50))
    assert float(i_xt) == pytest.approx(_their_symbols_entropy(h), abs=1e-12)
    # the toolkit's own convention merges 1.0 into the top bin: a different (smaller) number here
    merged, _ = binned(h, y, edges=bins)
    assert float(merged) < float(i_xt) - 1e-3


def test_their_log_epochs_are_their_indices_plus_one_and_the_initial_network():
    e = shwartz_ziv.their_log_epochs(10000)
    theirs = np.unique(np.logspace(np.log2(1), np.log2(10000), 1800, dtype=int, base=2)) - 1   # 0-based index j
    assert len(theirs) == 964
    np.testing.assert_array_equal(e, np.r_[0, theirs + 1])   # their j = after j + 1 updates = our epoch j + 1


def test_binned_consumer_matches_the_estimator_and_counts_saturation():
    rng = np.random.default_rng(1)
    a = np.tanh(rng.normal(scale=5, size=(2, 64, 3)))
    a[0, :8, 0] = 1.0
    y = np.arange(64) % 2
    out = shwartz_ziv.BinnedConsumer(y)(0, [a, a[:, :, :2]])
    assert out.shape == (2, 2, 3)
    assert float(out[1, 1, 0]) == pytest.approx(_their_symbols_entropy(a[1, :, :2]), abs=1e-12)   # no 1.0 here
    assert float(out[0, 0, 0]) == pytest.approx(_their_symbols_entropy(a[0]), abs=1e-12)          # 1.0 here
    i_xt, i_ty = binned(a, y, edges=shwartz_ziv.their_edges())
    np.testing.assert_allclose(out[:, 0, 0], i_xt)
    np.testing.assert_allclose(out[:, 0, 1], i_ty)
    np.testing.assert_allclose(out[:, 0, 2], (np.abs(a) == 1.0).mean(axis=(1, 2)))


def test_shwartz_ziv_tiny_run_per_member_splits_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path))
    kw = dict(repeats=2, epochs=12, log_samples=12)
    before = registry.TRAININGS.get("shwartz-ziv", 0)
    res = shwartz_ziv.fig2("quick", **kw)
    assert registry.TRAININGS["shwartz-ziv"] == before + 1
    ds = res.data
    assert ds.sizes["member"] == 2 and ds.sizes["layer"] == 7
    np.testing.assert_array_equal(ds.epoch.values, shwartz_ziv.their_log_epochs(12, 12))
    cfg = res.config
    assert cfg["optimizer"] == "adam_tf1" and cfg["batch_size"] == "full" and cfg["lr"] == 2e-4
    assert len(res.claims) == 2 and all(c.experiment == "shwartz-ziv-fig2" for c in res.claims)
    again = shwartz_ziv.fig2("quick", **kw)                   # from the cache: no training
    assert registry.TRAININGS["shwartz-ziv"] == before + 1
    np.testing.assert_array_equal(again.data.i_xt_binned.values, ds.i_xt_binned.values)


def test_shwartz_ziv_members_equal_their_single_split_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path))
    cfg = shwartz_ziv.shwartz_ziv_config(repeats=2, epochs=6, log_samples=6, seed=3, threads=1)
    packed = shwartz_ziv.train_shwartz_ziv(cfg)
    single = shwartz_ziv.train_shwartz_ziv({**cfg, "repeats": 1, "seed": 4})   # member 1 = seed 3 + 1
    for v in ("i_xt_binned", "i_ty_binned", "loss"):
        np.testing.assert_allclose(packed[v].values[1], single[v].values[0], rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def tiny_12bit():
    out = {}
    for a in ("tanh", "relu"):
        cfg = twelve_bit_config(a, ensemble=2, epochs=6, log_epochs=4, estimators=("binned",), threads=1)
        out[a] = train_twelve_bit(cfg)
    return out


def test_epoch_activity_net_inputs_are_the_pre_activations(tiny_12bit):
    ds = tiny_12bit["tanh"]
    for i, acts, pre in saxe_histograms.epoch_activity(ds):
        assert len(acts) == len(pre) == 6
        for a, u in zip(acts[:-1], pre[:-1]):
            np.testing.assert_allclose(np.tanh(u), a, rtol=0, atol=1e-12)
        u = pre[-1]                                           # output logits -> softmax
        sm = np.exp(u - u.max(-1, keepdims=True))
        np.testing.assert_allclose(sm / sm.sum(-1, keepdims=True), acts[-1], rtol=0, atol=1e-12)


def test_histograms_are_normalized_and_saturation_is_direct(tiny_12bit):
    for a, ds in tiny_12bit.items():
        h = saxe_histograms.histograms(ds)
        np.testing.assert_allclose(h.hist.sum("bin").values, 1.0, atol=1e-12)
        acts = next(saxe_histograms.epoch_activity(ds))[1]
        last = np.abs(acts[4].reshape(2, -1))
        direct = (last >= 0.9).mean(1) if a == "tanh" else (last == 0).mean(1)
        np.testing.assert_allclose(h.saturated.isel(epoch=0, layer=4).values, direct)
        assert np.all(h.bin_hi.values > h.bin_lo.values)


def test_netinput_binning_equals_activity_binning_with_tanh_of_the_edges(tiny_12bit):
    ds = tiny_12bit["tanh"]
    planes = saxe_netinput.netinput_planes(ds)
    from sims import datasets
    y = np.asarray(datasets.tishby_12bit(seed=0).y_analysis)
    i, acts, pre = next(saxe_histograms.epoch_activity(ds))
    for N in saxe_netinput.NET_EDGES:
        ix, _ = binned(acts[2], y, edges=net_input_edges("tanh", N))     # Saxe's form: tanh(linspace) on activity
        np.testing.assert_allclose(planes[f"i_xt_net{N}"].values[:, 0, 2], ix, atol=1e-12)
    # machine precision: 4096 distinct tanh activity vectors -> I(X;T) = ln 4096 in every hidden layer
    np.testing.assert_allclose(planes.i_xt_machine.values[:, :, :-1], np.log(4096), atol=1e-9)


def test_registered():
    import experiments
    specs = experiments.discover()
    for name in ("shwartz-ziv-fig2", "saxe-fig13-15", "saxe-fig16-17"):
        assert name in specs


def test_minimal_runs_cache_linear_runs_exactly(tmp_path, monkeypatch):
    from experiments import minimal_runs
    from minimal_models import LinearStudentTeacher
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path))
    model = dict(n_in=6, n_hidden=5, depth=1, n_train=8, snr=1.0, init_scale=0.1, n_relevant=2, n_trials=2, seed=0)
    train_kw = dict(method="sgd", lr=0.1, epochs=5, batch_size=2, log_epochs=3)
    before = registry.TRAININGS.get("tiny-linear", 0)
    got = minimal_runs._linear("tiny-linear", model, train_kw)
    again = minimal_runs._linear("tiny-linear", model, train_kw)
    assert registry.TRAININGS["tiny-linear"] == before + 1              # the second call read the cache
    direct = LinearStudentTeacher(**model).train(**train_kw)
    for k in ("epochs", "as_time", "train_error", "test_error", "i_xt", "i_ty"):
        np.testing.assert_array_equal(getattr(got, k), getattr(direct, k))
        np.testing.assert_array_equal(getattr(again, k), getattr(direct, k))
    assert sorted(got.subspace) == sorted(direct.subspace)
    for k in direct.subspace:
        np.testing.assert_array_equal(got.subspace[k], direct.subspace[k])
