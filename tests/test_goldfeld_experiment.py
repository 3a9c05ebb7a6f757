"""goldfeld-noisy-12bit (Goldfeld et al. 2019): the stored estimator terms and the per-layer numbers of the claims."""
from __future__ import annotations

import numpy as np
import pytest

from experiments import goldfeld2019 as g

TINY = dict(ensemble=2, epochs=5, log_epochs=[0, 1, 2, 3, 4, 5], every=1, n_samples=64, cond_inputs=8, cond_reps=4)


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
