"""goldfeld-noisy-12bit (Goldfeld et al. 2019): the stored estimator terms and the per-layer numbers of the claims."""
from __future__ import annotations

import numpy as np
import pytest

from experiments import goldfeld2019 as g

TINY = dict(ensemble=2, epochs=5, log_epochs=[0, 1, 2, 3, 4, 5], every=1, n_samples=64, cond_inputs=8, cond_reps=4,
            matched_inputs=16, matched_reps=4)


@pytest.fixture()
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_stored_terms_make_up_the_estimate():
    """I(X;T_l) = entropy term − conditional term at every evaluated epoch; the first layer's conditional term is 0
    (S_1 is a function of X); the entropy term never exceeds ln n (one noisy pass per input)."""
    cfg = g.goldfeld_config(orthonormality=g.ALPHA, **TINY)
    assert cfg["stored"] == list(g.STORED)                          # part of the cache key
    ds = g.train_noisy(cfg)
    keep = ds.kde_logged.values.astype(bool)
    hidden = ds.layer.values[:-1]
    ent = ds.entropy_goldfeld.sel(layer=hidden).values[:, keep]
    con = ds.conditional_goldfeld.sel(layer=hidden).values[:, keep]
    ixt = ds.i_xt_goldfeld.sel(layer=hidden).values[:, keep]
    assert np.isfinite(ent).all() and np.isfinite(con).all()
    np.testing.assert_allclose(ixt, ent - con, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(con[..., 0], 0.0)
    assert (con[..., 1:] > 0).all()                                  # deeper layers are random given X
    assert ent.max() <= np.log(TINY["n_samples"]) + 1e-9
    # the matched estimate: its own variables, attrs stating n_m and R; the first layer's R passes coincide, so
    # its conditional term is 0 and, the 16 inputs' centres lying far apart, the estimate is ln 16
    m = {v: ds[f"{v}_goldfeld_matched"].sel(layer=hidden).values[:, keep] for v in ("i_xt", "i_ty", "entropy",
                                                                                    "conditional")}
    assert all(np.isfinite(v).all() for v in m.values())
    assert ds.i_xt_goldfeld_matched.attrs["n_inputs"] == 16 and ds.i_xt_goldfeld_matched.attrs["reps"] == 4
    np.testing.assert_allclose(m["i_xt"], m["entropy"] - m["conditional"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(m["conditional"][..., 0], 0.0)
    np.testing.assert_allclose(m["i_xt"][..., 0], np.log(16), rtol=0, atol=1e-9)
    assert cfg["matched_inputs"] == 16 and cfg["matched_reps"] == 4 and "matched" in cfg["stored"]


def test_matched_estimate_is_ln_n_apart_and_falls_when_clouds_merge():
    """matched_goldfeld: clouds of 16 inputs far apart (each of R = 4 samples resolved by the noise) give ln 16
    exactly, whatever their spread, where the one-pass estimate (one centre per input in the entropy term, R in the
    conditional term) gives ln 16 - ln 4; inputs 0 and 1 sharing one cloud (spread << noise) give
    I(X;T) = 1.5 ln 2, the true value for two of four equiprobable inputs merged."""
    rng = np.random.default_rng(0)
    y16 = np.arange(16) % 2
    apart = np.arange(16.0)[:, None, None] + 0.01 * rng.standard_normal((16, 4, 1))
    i_xt, i_ty, h, k = g.matched_goldfeld(apart, y16, noise_std=1e-5, seed=1)
    assert i_xt == pytest.approx(np.log(16), abs=1e-9) and i_ty == pytest.approx(np.log(2), abs=1e-9)
    assert k == pytest.approx(np.log(4), abs=1e-9)                   # each cloud: 4 resolved samples
    one_pass = g.goldfeld(apart[:, 0], y16, noise_std=1e-5, conditional=apart, seed=1)[0]
    assert one_pass == pytest.approx(np.log(16) - np.log(4), abs=1e-9)
    labels = np.array([0, 0, 1, 1])
    shared = np.array([0.0, 0.0, 2.0, 3.0])[:, None, None] + 1e-3 * rng.standard_normal((4, 8, 1))
    i_xt, _, _, k = g.matched_goldfeld(shared, labels, noise_std=0.05, n_noise=8, seed=2)
    assert k < 0.01                                                  # each cloud ~ one noise Gaussian
    assert i_xt == pytest.approx(1.5 * np.log(2), abs=0.03)
    # batch axes are kept: (E, n, R, d) -> (E,)
    both = g.matched_goldfeld(np.stack([apart, apart]), y16, noise_std=1e-5, seed=3)
    assert all(v.shape == (2,) for v in both)
    with pytest.raises(ValueError, match="labels"):
        g.matched_goldfeld(apart, y16[:3], noise_std=1e-5)
    with pytest.raises(ValueError, match="centres"):
        g.matched_goldfeld(apart[:, 0], y16, noise_std=1e-5)             # no R axis


def test_claims_carry_the_per_layer_story(cache):
    res = g.noisy_12bit("quick", **TINY)
    ortho = next(c for c in res.claims if "no hidden layer compresses" in c.statement)
    story = ortho.numbers["per_layer"]
    assert story["layers"] == [1, 2, 3, 4, 5]
    assert story["ceiling_bits"] == pytest.approx(6.0)
    for key in ("compression_bits", "peak_epoch", "entropy_start", "entropy_end", "conditional_start",
                "conditional_end", "clustered_start", "clustered_end"):
        assert len(story[key]) == 5, key
    assert story["conditional_start"][0] == 0.0
    assert "plain_per_layer" in ortho.numbers
    # the matched-estimator claims: same measure and threshold, on i_xt_goldfeld_matched
    m_plain = next(c for c in res.claims if "last hidden layer compresses (matched" in c.statement)
    m_ortho = next(c for c in res.claims if "no hidden layer compresses (matched" in c.statement)
    assert "4 noisy passes of each of 16 inputs" in m_ortho.statement
    assert "matched" in m_plain.quantity and "matched" in m_ortho.quantity
    assert m_ortho.numbers["per_layer"]["ceiling_bits"] == pytest.approx(4.0)
    assert len(m_ortho.numbers["per_layer"]["compression_bits"]) == 5
    ds = res.data
    assert {"i_xt_goldfeld_matched", "i_ty_goldfeld_matched", "entropy_goldfeld_matched",
            "conditional_goldfeld_matched"} <= set(ds.data_vars)


#: goldfeld_layers on a tiny case, pinned: the numbers of the per-layer loops it replaced (goldfeld2019._estimate
#: and the loop of compression_study.measure_goldfeld, identical draw order), computed with that code.
PINNED = {"i_xt": [[4.156755289252, 2.998212347373], [4.141168683846, 2.430545632949]],
          "i_ty": [[0.684845218916, 0.435253846302], [0.68356777405, 0.266473118041]],
          "entropy": [[4.156755289252, 3.429337172736], [4.141168683846, 2.650913126737]],
          "conditional": [[0.0, 0.431124825362], [0.0, 0.220367493788]],
          "matched": [[[2.771759728471, 2.244654721493], [2.772587830714, 2.266900071487]],
                      [[0.685291062095, 0.516530378697], [0.685314014145, 0.54678209912]],
                      [[2.771759728471, 2.721543378762], [2.772587830714, 2.683311002304]],
                      [[0.0, 0.47688865727], [0.0, 0.416410930817]]]}


def _tiny_layers(**kw):
    from sims import MLP, datasets

    net = MLP([12, 5, 3, 2], activation="tanh")
    params = net.init_params(2, seed=0)
    d = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    idx = np.random.default_rng(0).choice(4096, 64, replace=False)
    x, y = np.asarray(d.x_analysis, float)[idx], np.asarray(d.y_analysis)[idx]
    m = g.MatchedSubset(np.arange(0, 64, 4), 4, 1, np.random.default_rng(8))
    return g.goldfeld_layers(net, params, x, y, noise_std=0.05, cond_inputs=8, cond_reps=4, n_noise=2,
                             rng=np.random.default_rng(7), matched=m, **kw)


def test_goldfeld_layers_pinned_and_clipped():
    """The one shared per-layer estimate gives the numbers of the loops it replaced (pinned); ``clip`` clips
    I(X;T) at 0 and I(T;Y) at I(X;T), nothing else; the threads change no number."""
    est = _tiny_layers()
    for k in ("i_xt", "i_ty", "entropy", "conditional"):
        np.testing.assert_allclose(getattr(est, k), PINNED[k], rtol=1e-10, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(np.stack(est.matched), PINNED["matched"], rtol=1e-10, atol=1e-12)
    assert len(est.centres) == 2 and est.centres[0].shape == (2, 64, 5)
    clipped = _tiny_layers(clip=True, threads=2)
    for a, b in (((est.i_xt, est.i_ty), (clipped.i_xt, clipped.i_ty)), (est.matched[:2], clipped.matched[:2])):
        np.testing.assert_array_equal(b[0], np.maximum(a[0], 0.0))
        np.testing.assert_array_equal(b[1], np.minimum(a[1], b[0]))
    np.testing.assert_array_equal(clipped.entropy, est.entropy)
    np.testing.assert_array_equal(clipped.matched[2], est.matched[2])
    with pytest.raises(ValueError, match="y"):
        from sims import MLP
        net = MLP([3, 2, 2])
        g.goldfeld_layers(net, net.init_params(1, seed=0), np.zeros((4, 3)), [0, 1], noise_std=0.1, cond_inputs=2,
                          cond_reps=2, n_noise=1, rng=np.random.default_rng(0))
