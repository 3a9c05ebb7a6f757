"""MNIST experiments (experiments.mnist) at a tiny scale: Dataset dims, claims structure, cache; the exact scalar
model behind the sigmoid claim. Skipped only when the MNIST files are absent."""
import numpy as np
import pytest

from experiments import mnist
from experiments.claims import Claim
from experiments.registry import TRAININGS

TINY = dict(n_train=256, n_analysis=100, epochs=5, log_epochs=6, ensemble=1)


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
        assert a.shape == (2, 1, 6, 5)
        assert np.all(np.isfinite(a)) and np.all(a <= np.log(100) + 1e-9) and np.all(a >= 0)
    relu_kde = [c for c in res.claims if c.figure == "Fig. 1D" and "kde" in c.quantity][0]
    assert "layers 1-4" in relu_kde.quantity      # every hidden layer, layer 1 (1024 units) included
    assert np.isclose(ds.attrs["h_x"], np.log(100))
    _check_claims(res.claims, 4)
    assert {c.figure for c in res.claims} == {"Fig. 1C", "Fig. 1D"}
    assert all(c.numbers["full_scale_hours_projected"] > 0 for c in res.claims)
    # the quick scale's lr (0.1) differs from the paper's: every statement says so, with its SGD time
    assert all("lr 0.1 (paper 0.001) x 10 steps" in c.statement and "lr x steps = 1 of the paper's 4,690"
               in c.statement for c in res.claims), [c.statement for c in res.claims]
    assert all(c.numbers["sgd_time"] == pytest.approx(1.0) and c.numbers["paper_sgd_time"] == pytest.approx(4690)
               for c in res.claims)
    n = TRAININGS.get("mnist", 0)
    again = mnist.fig1cd("quick", data=data, **TINY)            # read from the cache: no training
    assert TRAININGS.get("mnist", 0) == n
    np.testing.assert_array_equal(again.data.i_xt_kde.values, ds.i_xt_kde.values)


def test_sigmoid_and_architectures_tiny(data):
    res = mnist.sigmoid("quick", data=data, scalar_grid=5, **TINY)
    assert list(res.data.activation.values) == ["tanh", "sigmoid"]
    import json
    cfgs = json.loads(res.data.attrs["configs"])
    assert cfgs["tanh"]["lr"] == 0.1 and cfgs["sigmoid"]["lr"] == mnist.SIGMOID_LR["quick"] == 0.6
    assert {k: v for k, v in cfgs["tanh"].items() if k not in ("lr", "activation")} == \
        {k: v for k, v in cfgs["sigmoid"].items() if k not in ("lr", "activation")}
    assert "lr 0.6 (paper 0.001)" in res.claims[0].statement
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
    with pytest.raises(ValueError, match="dtype"):
        mnist.mnist_config(dtype="float16")
    with pytest.raises(ValueError, match="kde_layers"):
        mnist.mnist_config(kde_layers=[6])
    assert mnist.mnist_config(kde_layers=[5, 2, 2])["kde_layers"] == [2, 5]


def test_scales_sgd_time():
    """lr x steps: the paper's run is 1e-3 x 10,000 epochs x 469 steps; the quick scale covers 800 of it at lr 0.1
    and gives the sigmoid network the paper's whole SGD time (module docstring)."""
    assert mnist.PAPER_SGD_TIME == pytest.approx(4690)
    full = mnist.mnist_config(**mnist.MNIST_SCALES["full"])
    assert full["lr"] == mnist.PAPER_LR == 1e-3 and mnist.sgd_time(full) == pytest.approx(mnist.PAPER_SGD_TIME)
    quick = mnist.mnist_config(**mnist.MNIST_SCALES["quick"])
    assert mnist.sgd_time(quick) == pytest.approx(800)
    sig = mnist.mnist_config("sigmoid", **{**mnist.MNIST_SCALES["quick"], "lr": mnist.SIGMOID_LR["quick"]})
    assert mnist.PAPER_SGD_TIME <= mnist.sgd_time(sig) <= 1.1 * mnist.PAPER_SGD_TIME
    assert mnist.sgd_time(mnist.mnist_config(n_train=1000, batch_size="full", epochs=7, lr=0.5)) == 3.5
    with pytest.raises(ValueError, match="sigmoid_lr"):
        mnist.sigmoid("quick", sigmoid_lr=-1.0)


def test_sigmoid_network_is_a_tanh_network_at_quarter_weights():
    """The identity behind the sigmoid learning rate (module docstring): sigmoid(u) = (1 + tanh(u/2)) / 2, so a
    sigmoid net equals the tanh net with first/output weights W/2, hidden-to-hidden weights W/4 and shifted
    biases (logits identical)."""
    rng = np.random.default_rng(3)
    widths = (7, 5, 4, 4, 3)
    Ws = [rng.normal(size=(a, b)) for a, b in zip(widths[:-1], widths[1:])]
    bs = [rng.normal(size=b) for b in widths[1:]]
    x = rng.normal(size=(11, widths[0]))

    def forward(f, Ws, bs):
        h = x
        for W, b in zip(Ws[:-1], bs[:-1]):
            h = f(h @ W + b)
        return h @ Ws[-1] + bs[-1]

    sig = forward(lambda u: 1 / (1 + np.exp(-u)), Ws, bs)
    Wt, bt = [Ws[0] / 2], [bs[0] / 2]
    for W, b in zip(Ws[1:-1], bs[1:-1]):
        Wt.append(W / 4)
        bt.append(b / 2 + W.sum(axis=0) / 4)
    Wt.append(Ws[-1] / 2)
    bt.append(bs[-1] + Ws[-1].sum(axis=0) / 2)
    np.testing.assert_allclose(forward(np.tanh, Wt, bt), sig, rtol=1e-12, atol=1e-12)


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
