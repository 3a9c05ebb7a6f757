"""MNIST experiments (experiments.mnist) at a tiny scale: Dataset dims, claims structure, cache; the exact scalar
model behind the sigmoid claim. Skipped only when the MNIST files are absent."""
import numpy as np
import pytest

from experiments import mnist
from experiments.claims import Claim
from experiments.registry import TRAININGS

TINY = dict(n_train=256, n_analysis=100, epochs=5, log_epochs=6)


@pytest.fixture(scope="module")
def data(mnist_dir):
    return mnist.load_mnist(mnist_dir)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path))


def _check_claims(claims, n):
    assert len(claims) == n
    for c in claims:
        assert isinstance(c, Claim) and c.values and np.isfinite(c.mean)
        assert c.paper and c.figure and c.statement and c.quantity
        assert Claim.from_json(c.to_json()) == c


def test_fig1cd_tiny(data):
    res = mnist.fig1cd("quick", data=data, **TINY)
    ds = res.data
    assert dict(ds.sizes) == {"activation": 2, "member": 1, "epoch": 6, "layer": 5, "split": 2}
    for v in ("i_xt_kde", "i_ty_kde", "i_xt_binned", "i_ty_binned"):
        a = ds[v].values
        assert a.shape == (2, 1, 6, 5) and np.all(np.isfinite(a))
        assert np.all(a <= np.log(100) + 1e-9) and np.all(a >= 0)
    assert np.isclose(ds.attrs["h_x"], np.log(100))
    _check_claims(res.claims, 4)
    assert {c.figure for c in res.claims} == {"Fig. 1C", "Fig. 1D"}
    assert all(c.numbers["full_scale_hours_upper_bound"] > 0 for c in res.claims)
    n = TRAININGS.get("mnist", 0)
    again = mnist.fig1cd("quick", data=data, **TINY)            # read from the cache: no training
    assert TRAININGS.get("mnist", 0) == n
    np.testing.assert_array_equal(again.data.i_xt_kde.values, ds.i_xt_kde.values)


def test_sigmoid_and_architectures_tiny(data):
    res = mnist.sigmoid("quick", data=data, scalar_grid=5, **TINY)
    assert list(res.data.activation.values) == ["tanh", "sigmoid"]
    _check_claims(res.claims, 4)
    arch = mnist.architectures("quick", data=data, **TINY)
    assert dict(arch.data.sizes) == {"run": 4, "member": 1, "epoch": 6, "layer": 2, "split": 2}
    _check_claims(arch.claims, 4)


def test_scalar_model_sigmoid_is_tanh_at_half_weight_and_double_noise():
    sm = mnist.scalar_model(n_grid=5, w_max=4.0)
    assert sm["identity_error"] < 1e-10
    # bins of width 0.5 on (0, 1): one interior edge at 1/2, so T = [wX > 0]: exactly 1 bit for every w > 0
    np.testing.assert_allclose(sm["sigmoid_width"][1:], np.log(2), rtol=1e-12)
    # 30 equal bins over each range: sigmoid(wX) binned on [0, 1] = tanh(wX/2) binned on [-1, 1]
    sm2 = mnist.scalar_model(n_grid=9, w_max=8.0)
    np.testing.assert_allclose(sm2["sigmoid_equal"][::2], sm2["tanh_equal"][:5], rtol=1e-10)


def test_config_refuses_more_images_than_mnist_has():
    with pytest.raises(ValueError, match="n_train"):
        mnist.mnist_config(n_train=70000)


def test_cnn_tiny(data):
    from experiments import cnn
    res = cnn.thesis_cnn("quick", data=data, n_train=300, n_analysis=60, epochs=4, filters=(4, 8), dense=16)
    ds = res.data
    assert dict(ds.sizes) == {"member": 1, "epoch": 5, "layer": 6, "split": 2}
    assert list(ds.layer_name.values)[0] == "1 conv (4x26x26)"
    for v in ("i_xt_concat", "i_xt_mean", "i_ty_concat", "i_ty_mean"):
        assert np.all(np.isfinite(ds[v].values)) and np.all(ds[v].values <= np.log(60) + 1e-9)
    # dense layers (5 and 6): the two methods are the same estimate
    np.testing.assert_allclose(ds.i_xt_mean.sel(layer=[5, 6]), ds.i_xt_concat.sel(layer=[5, 6]), rtol=1e-12)
    _check_claims(res.claims, 7)
    import json
    tun = json.loads(ds.attrs["noise_tuning"])
    assert 0.01 < tun["one_hot_labels"]["noise_var"] < 0.2 and tun["one_hot_labels"]["monotone"]
    assert json.loads(ds.attrs["sample_size"])["output"]["sizes"][-1] == 60
