"""sims.datasets: checksums, splits, MNIST parsing and lookup, synthetic sets' moments, validation.

Tolerances for sample moments are 5 standard errors (computed from the generating parameters), so a correct
generator fails a check with probability below 1e-6; the seeds are fixed, so the tests are deterministic.
MNIST tests never use the network: downloads are exercised through file:// mirrors in a temporary folder.
"""
import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sims import datasets as D

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # official class counts
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
Z = 5.0  # standard errors allowed for sample moments


def within_se(estimate, expected, se):
    assert np.all(np.abs(np.asarray(estimate) - expected) <= Z * np.asarray(se)), (estimate, expected, se)


# ---------------------------------------------------------------------------------------------------------------
# 12-bit task
# ---------------------------------------------------------------------------------------------------------------

def test_12bit_contents_and_checksum():
    d = D.tishby_12bit()
    assert d.info["sha256"] == D.VAR_U_SHA256
    assert d.x_analysis.shape == (4096, 12) and d.x_analysis.dtype == np.float64
    # analysis set = all 4096 patterns in file order (binary counting order), true labels
    codes = d.x_analysis @ (2 ** np.arange(11, -1, -1))
    assert np.array_equal(codes, np.arange(4096))
    assert d.y_analysis.shape == (4096,) and d.y_analysis.dtype == np.int64
    assert int(d.y_analysis.sum()) == 2118 and set(np.unique(d.y_analysis)) == {0, 1}
    assert d.n_classes == 2 and d.is_classification and d.n_features == 12 and d.n_outputs == 2


def test_12bit_corrupted_copy_is_rejected(tmp_path):
    src = Path(D.__file__).parent / "data" / "var_u.mat"
    bad = tmp_path / "var_u.mat"
    shutil.copy(src, bad)
    good = D.tishby_12bit(path=bad)  # an intact copy loads
    assert good.info["file"] == str(bad)
    raw = bytearray(bad.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    bad.write_bytes(bytes(raw))
    with pytest.raises(D.ChecksumError, match="sha256") as exc:
        D.tishby_12bit(path=bad)
    assert str(bad) in str(exc.value) and D.VAR_U_SHA256 in str(exc.value)
    assert isinstance(exc.value, ValueError)
    with pytest.raises(FileNotFoundError, match="path"):
        D.tishby_12bit(path=tmp_path / "nope.mat")


@pytest.mark.parametrize("frac, n_train", [(0.8, 3277), (0.3, 1229), (0.5, 2048)])
def test_12bit_split_sizes_and_partition(frac, n_train):
    d = D.tishby_12bit(train_fraction=frac, seed=3)
    tr, te = d.info["train_idx"], d.info["test_idx"]
    assert d.n_train == n_train == tr.size and d.n_test == 4096 - n_train == te.size
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(4096))  # disjoint, complete
    assert np.array_equal(d.x_train, d.x_analysis[tr]) and np.array_equal(d.y_test, d.y_analysis[te])


def test_12bit_split_determinism_per_seed():
    a, b, c = D.tishby_12bit(seed=7), D.tishby_12bit(seed=7), D.tishby_12bit(seed=8)
    assert np.array_equal(a.info["train_idx"], b.info["train_idx"])
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.info["train_idx"], c.info["train_idx"])
    # the documented draw: default_rng(seed).permutation(4096), cut at rint(fraction * 4096)
    perm = np.random.default_rng(7).permutation(4096)
    assert np.array_equal(a.info["train_idx"], perm[:3277]) and np.array_equal(a.info["test_idx"], perm[3277:])


def test_12bit_stratified_split_keeps_class_balance():
    d = D.tishby_12bit(train_fraction=0.3, seed=1, stratify=True)
    assert np.bincount(d.y_train).tolist() == [int(np.rint(0.3 * 1978)), int(np.rint(0.3 * 2118))]
    assert np.array_equal(np.sort(np.concatenate([d.info["train_idx"], d.info["test_idx"]])), np.arange(4096))


@settings(max_examples=25, deadline=None)
@given(frac=st.floats(0.01, 0.99), seed=st.integers(0, 2**31))
def test_12bit_split_property(frac, seed):
    d = D.tishby_12bit(train_fraction=frac, seed=seed)
    assert d.n_train == int(np.rint(frac * 4096)) and d.n_train + d.n_test == 4096
    assert np.intersect1d(d.info["train_idx"], d.info["test_idx"]).size == 0


@pytest.mark.parametrize("kw, name", [({"train_fraction": 0.0}, "train_fraction"),
                                      ({"train_fraction": 1.0}, "train_fraction"),
                                      ({"train_fraction": float("nan")}, "train_fraction"),
                                      ({"train_fraction": "a"}, "train_fraction"),
                                      ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed")])
def test_12bit_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        D.tishby_12bit(**kw)


# ---------------------------------------------------------------------------------------------------------------
# MNIST
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_default(mnist_dir):
    return D.mnist(data_dir=mnist_dir, download=False)


def test_mnist_shapes_labels_range(mnist_default, mnist_dir):
    d = mnist_default
    assert d.x_train.shape == (60000, 784) and d.x_test.shape == (10000, 784)
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    assert np.bincount(d.y_train, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(d.y_test, minlength=10).tolist() == MNIST_TEST_COUNTS
    for x in (d.x_train, d.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    # pixels / 255 exactly: every value is k/255 for an integer k
    k = d.x_test * 255
    assert np.array_equal(k, np.round(k))
    assert d.x_analysis is d.x_test and d.y_analysis is d.y_test and d.n_classes == 10
    assert d.info["sha256"] == D.MNIST_SHA256 and d.info["directory"] == str(mnist_dir)
    # the first training image is a 5, the first test image a 7 (the well-known first labels)
    assert d.y_train[0] == 5 and d.y_test[0] == 7


def test_mnist_raw_unflattened_float32(mnist_default, mnist_dir):
    d = D.mnist(data_dir=mnist_dir, download=False, flatten=False, scale=False, dtype=np.float32)
    assert d.x_train.shape == (60000, 28, 28) and d.x_test.dtype == np.float32
    assert d.n_features == 784
    assert np.array_equal(d.x_test.reshape(10000, -1), np.round(mnist_default.x_test * 255).astype(np.float32))
    with pytest.raises(ValueError, match="dtype"):
        D.mnist(data_dir=mnist_dir, download=False, dtype=np.int32)


def _isolate(monkeypatch, tmp_path, ibt=None):
    """No user cache and no IBT_DATA_DIR leak into the test."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if ibt is None:
        monkeypatch.delenv("IBT_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("IBT_DATA_DIR", str(ibt))


def test_mnist_missing_files_error_names_files_and_dirs(tmp_path, monkeypatch):
    _isolate(monkeypatch, tmp_path, ibt=tmp_path / "ibt")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as exc:
        D.mnist(data_dir=empty, download=False)
    msg = str(exc.value)
    for f in D.MNIST_FILES:
        assert f in msg
    for d in (empty, tmp_path / "ibt", tmp_path / "ibt" / "mnist", tmp_path / "home" / ".cache" / "ibtoolkit"):
        assert str(d) in msg
    assert D.mnist_search_dirs(empty) == [empty, tmp_path / "ibt", tmp_path / "ibt" / "mnist",
                                          tmp_path / "home" / ".cache" / "ibtoolkit" / "mnist"]


def _copy_set(src, dst, corrupt=None, symlink=True):
    dst.mkdir(parents=True, exist_ok=True)
    for f in D.MNIST_FILES:
        if f == corrupt:
            raw = bytearray((src / f).read_bytes())
            raw[100] ^= 0xFF
            (dst / f).write_bytes(bytes(raw))
        elif symlink:
            os.symlink(src / f, dst / f)
        else:
            shutil.copy(src / f, dst / f)


def test_mnist_corrupted_file_in_env_dir_is_rejected(mnist_dir, tmp_path, monkeypatch):
    """$IBT_DATA_DIR/mnist is searched; a corrupted copy there raises ChecksumError naming the file."""
    _isolate(monkeypatch, tmp_path, ibt=tmp_path / "ibt")
    _copy_set(mnist_dir, tmp_path / "ibt" / "mnist", corrupt="t10k-labels-idx1-ubyte.gz")
    with pytest.raises(D.ChecksumError) as exc:
        D.mnist(download=False)
    assert str(tmp_path / "ibt" / "mnist" / "t10k-labels-idx1-ubyte.gz") in str(exc.value)
    assert D.MNIST_SHA256["t10k-labels-idx1-ubyte.gz"] in str(exc.value)


def test_mnist_download_via_local_mirror(mnist_dir, tmp_path, monkeypatch):
    """The download path, without network: a dead mirror first, then a file:// mirror; sha256 checked."""
    _isolate(monkeypatch, tmp_path)
    good = mnist_dir.resolve().as_uri() + "/"
    dead = (tmp_path / "no-such-mirror").as_uri() + "/"
    target = tmp_path / "dl"
    d = D.mnist(data_dir=target, download=True, mirrors=(dead, good))
    assert d.info["directory"] == str(target) and d.x_train.shape == (60000, 784)
    assert sorted(p.name for p in target.iterdir()) == sorted(D.MNIST_FILES)  # no temp files left


def test_mnist_download_with_bad_checksum_fails_cleanly(mnist_dir, tmp_path, monkeypatch):
    _isolate(monkeypatch, tmp_path)
    mirror = tmp_path / "mirror"
    _copy_set(mnist_dir, mirror, corrupt="t10k-labels-idx1-ubyte.gz")
    target = tmp_path / "dl"
    _copy_set(mnist_dir, target)
    (target / "t10k-labels-idx1-ubyte.gz").unlink()  # only this one needs downloading
    with pytest.raises(FileNotFoundError, match="download failed") as exc:
        D.mnist(data_dir=target, mirrors=mirror.as_uri() + "/")
    assert "sha256" in str(exc.value) and "t10k-labels-idx1-ubyte.gz" in str(exc.value)
    assert sorted(p.name for p in target.iterdir()) == sorted(set(D.MNIST_FILES) - {"t10k-labels-idx1-ubyte.gz"})


def test_idx_parser_rejects_bad_headers():
    with pytest.raises(ValueError, match="IDX"):
        D._parse_idx(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab", "f", 1)  # type code 0x0d (float) is not uint8
    with pytest.raises(ValueError, match="header"):
        D._parse_idx(b"\x00\x00\x08\x01\x00\x00\x00\x03ab", "f", 1)  # says 3 items, holds 2
    assert D._parse_idx(b"\x00\x00\x08\x02\x00\x00\x00\x01\x00\x00\x00\x02\x07\x09", "f", 2).tolist() == [[7, 9]]


# ---------------------------------------------------------------------------------------------------------------
# Synthetic sets
# ---------------------------------------------------------------------------------------------------------------

def test_gaussian_moments_and_labels():
    n, mu, sd = 100_000, np.array([0.5, -1.0]), np.array([0.5, 2.0])
    d = D.gaussian(n, d=2, mu=mu, sd=sd, seed=1)
    x = d.x_train
    within_se(x.mean(axis=0), mu, sd / np.sqrt(n))
    within_se(x.var(axis=0, ddof=1), sd ** 2, sd ** 2 * np.sqrt(2 / (n - 1)))
    within_se(np.corrcoef(x.T)[0, 1], 0.0, 1 / np.sqrt(n))
    assert np.array_equal(d.y_train, (x.sum(axis=1) > 0).astype(int))
    assert d.n_test == n and not np.array_equal(d.x_test, d.x_train)
    assert np.array_equal(d.x_analysis, np.concatenate([d.x_train, d.x_test]))
    assert np.array_equal(D.gaussian(10, seed=4).x_train, D.gaussian(10, seed=4).x_train)


def test_kong_gaussian_variance_is_025():
    """Kong's N(0, 0.25) is a variance: sd = 0.5."""
    n = 50_000
    x = D.gaussian(n, sd=0.5, seed=2).x_train[:, 0]
    within_se(x.var(ddof=1), 0.25, 0.25 * np.sqrt(2 / (n - 1)))
    t = D.gaussian(n, sd=0.5, seed=2).with_targets([-1.0, 1.0])
    assert np.array_equal(t.y_train[:, 0], np.sign(x))


def test_gaussian_mixture_moments():
    n = 200_000
    d = D.gaussian_mixture(n, seed=3)  # Kong: 1/2 N(-1, 0.25) + 1/2 N(1, 0.25)
    x = d.x_train[:, 0]
    s2 = 0.25
    var = s2 + 1.0
    m4 = 1.0 + 6 * 1.0 * s2 + 3 * s2 ** 2  # central fourth moment of the mixture (mean 0, |a| = 1)
    within_se(x.mean(), 0.0, np.sqrt(var / n))
    within_se(x.var(ddof=1), var, np.sqrt((m4 - var ** 2) / n))
    comp = d.info["component_train"]
    for c, mean in enumerate((-1.0, 1.0)):
        xc = x[comp == c]
        within_se(xc.mean(), mean, np.sqrt(s2 / xc.size))
        within_se(xc.var(ddof=1), s2, s2 * np.sqrt(2 / (xc.size - 1)))
    assert np.array_equal(d.y_train, (x > 0).astype(int))


def test_gaussian_mixture_weights_and_component_labels():
    n, w = 100_000, np.array([0.2, 0.5, 0.3])
    means = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, -3.0]])
    d = D.gaussian_mixture(n, means=means, sd=0.7, weights=w, labels="component", seed=5)
    freq = np.bincount(d.y_train, minlength=3) / n
    within_se(freq, w, np.sqrt(w * (1 - w) / n))
    assert d.n_classes == 3 and np.array_equal(d.y_train, d.info["component_train"])
    for c in range(3):
        xc = d.x_train[d.y_train == c]
        within_se(xc.mean(axis=0), means[c], 0.7 / np.sqrt(len(xc)))


def test_discrete_sets():
    g = D.goldfeld_four_points(n_repeat=3)
    assert g.x_train.ravel().tolist() == [-3.0, -1.0, 1.0, 3.0] * 3
    assert g.x_analysis.ravel().tolist() == [-3.0, -1.0, 1.0, 3.0] and g.y_analysis.tolist() == [0, 0, 0, 1]
    assert np.allclose(g.info["probs"], 0.25)
    pm = g.with_targets([-1.0, 1.0])
    assert pm.y_train.shape == (12, 1) and pm.y_analysis.ravel().tolist() == [-1, -1, -1, 1]
    assert pm.n_classes is None and not pm.is_classification
    assert pm.info["class_labels"]["analysis"].tolist() == [0, 0, 0, 1]
    k = D.kong_eight_points().with_targets([0.0, 0.25])
    assert k.x_analysis.ravel().tolist() == list(range(1, 9))
    assert k.y_analysis.ravel().tolist() == [0.0] * 4 + [0.25] * 4


def test_discrete_sampling_frequencies():
    p, n = np.array([0.1, 0.2, 0.3, 0.4]), 100_000
    d = D.discrete([[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], probs=p, n=n, seed=9)
    freq = np.bincount(d.info["train_idx"], minlength=4) / n
    within_se(freq, p, np.sqrt(p * (1 - p) / n))
    assert d.x_analysis.shape == (4, 2) and np.array_equal(d.info["probs"], p)
    assert np.array_equal(d.y_train, np.array([0, 1, 1, 0])[d.info["train_idx"]])


@pytest.mark.parametrize("kw, name", [
    ({"points": [1, 1, 2], "labels": [0, 1, 0]}, "points"),
    ({"points": [1, 2], "labels": [0]}, "labels"),
    ({"points": [1, 2], "labels": [0.5, 1]}, "labels"),
    ({"points": [1, 2], "labels": [0, 1], "n_repeat": 2, "probs": [0.5, 0.5]}, "n_repeat"),
    ({"points": [1, 2], "labels": [0, 1], "probs": [0.5, 0.6], "n": 5}, "probs"),
    ({"points": [1, 2], "labels": [0, 1], "probs": [0.5, 0.5]}, "n"),
    ({"points": [1, 2], "labels": [0, 1], "n_repeat": 0}, "n_repeat"),
    ({"points": [1, np.nan], "labels": [0, 1]}, "points"),
])
def test_discrete_bad_input(kw, name):
    with pytest.raises(ValueError, match=name):
        D.discrete(**kw)


def test_linear_teacher_snr_convention():
    n_in, n_out, n = 200, 50, 20_000
    d = D.linear_teacher(n_in, n_out, n_train=n, n_test=10, snr=4.0, weight_std=2.0, seed=11)
    w, info = d.info["teacher_weights"], d.info
    assert w.shape == (n_out, n_in) and d.y_train.shape == (n, n_out) and d.x_train.shape == (n, n_in)
    assert info["noise_var"] == pytest.approx(2.0 ** 2 / 4.0) and info["noise_std"] == pytest.approx(1.0)
    assert info["snr"] == 4.0 and info["input_var"] == 1 / n_in
    x, y = d.x_train, d.y_train
    within_se(x.var(), 1 / n_in, (1 / n_in) * np.sqrt(2 / (n * n_in)))          # X ~ N(0, I / n_in)
    resid = y - x @ w.T
    within_se(resid.var(), 1.0, np.sqrt(2 / (n * n_out)))                          # eps ~ N(0, noise_var)
    within_se(w.var(), 4.0, 4.0 * np.sqrt(2 / (n_in * n_out)))                     # W_o entries N(0, sigma_w^2)
    signal = (x @ w.T).var()
    # signal variance per output ~ sigma_w^2: randomness from W (n_in*n_out entries) and from the n samples
    within_se(signal, 4.0, 4.0 * np.sqrt(2 / (n_in * n_out) + 2 / (n * n_out)))
    within_se(signal / resid.var(), 4.0, 4.0 * np.sqrt(2 / (n_in * n_out) + 4 / (n * n_out)))
    # noise_std instead of snr; determinism per seed
    e = D.linear_teacher(10, 1, 5, noise_std=0.5, weight_std=1.0, seed=0)
    assert e.info["snr"] == pytest.approx(4.0)
    f = D.linear_teacher(10, 1, 5, noise_std=0.5, weight_std=1.0, seed=0)
    assert np.array_equal(e.y_train, f.y_train) and np.array_equal(e.info["teacher_weights"], f.info["teacher_weights"])
    with pytest.raises(ValueError, match="snr"):
        D.linear_teacher(10, 1, 5, snr=1.0, noise_std=1.0)
    with pytest.raises(ValueError, match="snr"):
        D.linear_teacher(10, 1, 5, snr=0.0)
    with pytest.raises(ValueError, match="n_train"):
        D.linear_teacher(10, 1, 0)


def test_relevant_irrelevant():
    d = D.relevant_irrelevant(n_train=200, seed=0)
    mask, w = d.info["relevant_mask"], d.info["teacher_weights"]
    assert mask.shape == (100,) and mask.sum() == 30 and mask[:30].all()
    assert np.all(w[:, ~mask] == 0) and np.all(w[:, mask] != 0)
    assert d.info["effective_snr"] == pytest.approx(0.3) and d.x_train.shape == (200, 100)
    # outputs depend only on the relevant inputs (up to the noise)
    resid = d.y_train - d.x_train[:, mask] @ w[:, mask].T
    within_se(resid.var(), 1.0, np.sqrt(2 / 200))
    r = D.relevant_irrelevant(n_in=50, n_relevant=10, n_train=20, which="random", seed=1)
    assert r.info["relevant_mask"].sum() == 10 and not r.info["relevant_mask"][:10].all()
    with pytest.raises(ValueError, match="n_relevant"):
        D.relevant_irrelevant(n_in=10, n_relevant=11, n_train=5)
    with pytest.raises(ValueError, match="which"):
        D.relevant_irrelevant(n_train=5, which="last")
    with pytest.raises(ValueError, match="relevant"):
        D.linear_teacher(4, 1, 5, relevant=[1, 0, 1, 0])


@pytest.mark.parametrize("fn, kw, name", [
    (D.gaussian, {"n": 0}, "n"), (D.gaussian, {"n": 5, "sd": 0.0}, "sd"), (D.gaussian, {"n": 5, "sd": -1}, "sd"),
    (D.gaussian, {"n": 5, "d": 2, "mu": [0, 0, 0]}, "mu"), (D.gaussian, {"n": 5, "n_test": 0}, "n_test"),
    (D.gaussian_mixture, {"n": 5, "weights": [0.2, 0.2]}, "weights"),
    (D.gaussian_mixture, {"n": 5, "weights": [0.2, 0.3, 0.5]}, "weights"),
    (D.gaussian_mixture, {"n": 5, "means": [0.0, np.inf]}, "means"),
    (D.gaussian_mixture, {"n": 5, "labels": "x"}, "labels"),
])
def test_synthetic_bad_input(fn, kw, name):
    with pytest.raises(ValueError, match=name):
        fn(**kw)


# ---------------------------------------------------------------------------------------------------------------
# The Dataset container
# ---------------------------------------------------------------------------------------------------------------

X4, Y4 = np.arange(8.0).reshape(4, 2), np.array([0, 1, 1, 0])


@pytest.mark.parametrize("kw, name", [
    ({"y_train": np.array([0, 1, 1])}, "y_train"),
    ({"y_test": np.array([0, 1, 0])}, "y_test"),
    ({"x_test": np.array([[np.nan, 1.0], [0, 0]])}, "x_test"),
    ({"x_train": np.array([[np.inf, 1.0]] * 4)}, "x_train"),
    ({"x_train": np.arange(4.0)}, "x_train"),
    ({"x_test": np.zeros((2, 3))}, "x_test"),
    ({"x_test": np.zeros((0, 2)), "y_test": np.zeros(0, int)}, "x_test"),
    ({"x_analysis": np.zeros((3, 2))}, "y_analysis"),
    ({"x_analysis": np.zeros((3, 2)), "y_analysis": np.zeros(2, int)}, "y_analysis"),
    ({"y_train": np.array([0, 1, 1.5, 0])}, "y_train"),
    ({"y_train": np.array([0, -1, 1, 0])}, "y_train"),
    ({"y_train": np.array([0, 1, 2, 0]), "n_classes": 2}, "n_classes"),
    ({"y_train": np.zeros((4, 1)), "y_test": np.zeros((2, 1)), "n_classes": 2}, "n_classes"),
    ({"y_train": np.zeros((4, 1))}, "y_test"),
    ({"y_train": np.zeros((4, 2)), "y_test": np.zeros((2, 1))}, "y_test"),
    ({"y_train": np.full((4, 1), np.nan), "y_test": np.zeros((2, 1))}, "y_train"),
    ({"y_train": np.zeros((4, 1, 1))}, "y_train"),
    ({"x_train": [["a", "b"]] * 4}, "x_train"),
])
def test_dataset_validation(kw, name):
    base = dict(x_train=X4, y_train=Y4, x_test=np.ones((2, 2)), y_test=np.array([1, 0]))
    with pytest.raises(ValueError, match=name):
        D.Dataset(**{**base, **kw})


def test_dataset_defaults_dtypes_and_helpers():
    d = D.Dataset(np.arange(8).reshape(4, 2), [0, 1, 1, 0], np.ones((2, 2), np.float32), np.array([1.0, 0.0]))
    assert d.x_train.dtype == np.float64 and d.x_test.dtype == np.float32  # ints -> float64, float32 kept
    assert d.y_test.dtype == np.int64 and d.n_classes == 2
    assert d.x_analysis.shape == (6, 2) and d.y_analysis.tolist() == [0, 1, 1, 0, 1, 0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.name = "x"
    r = dataclasses.replace(d, x_analysis=np.zeros((1, 2)), y_analysis=[1])
    assert r.n_analysis == 1 and "train (4, 2)" in repr(r)
    big = D.Dataset(np.full((4, 2), 1e308), Y4, np.ones((2, 2)), [1, 0])  # finite, though its sum overflows
    assert np.all(big.x_train == 1e308)
    with pytest.raises(ValueError, match="x_test"):
        D.Dataset(X4, Y4, np.array([[np.inf, -np.inf], [0, 0]]), [1, 0])
    reg = D.Dataset(X4, np.zeros((4, 3)), np.ones((2, 2)), np.ones((2, 3)))
    assert not reg.is_classification and reg.n_outputs == 3 and reg.n_classes is None


def test_subset():
    d = D.tishby_12bit(seed=0)
    s = d.subset(n_train=100, n_analysis=512, seed=1)
    assert (s.n_train, s.n_test, s.n_analysis) == (100, 819, 512)
    codes = s.x_analysis @ (2 ** np.arange(11, -1, -1))
    assert np.all(np.diff(codes) > 0)  # kept in file order
    assert np.array_equal(s.y_analysis, d.y_analysis[codes.astype(int)])
    assert np.array_equal(s.x_train, d.subset(n_train=100, n_analysis=512, seed=1).x_train)
    with pytest.raises(ValueError, match="n_train"):
        d.subset(n_train=5000)
    with pytest.raises(ValueError, match="values"):
        d.with_targets([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="regression"):
        d.with_targets([0.0, 1.0]).with_targets([0.0, 1.0])


def test_dataset_refuses_complex_and_non_numeric_object_arrays():
    import numpy as np
    import pytest

    from sims.datasets import Dataset
    x, y = np.zeros((4, 2)), np.array([0, 1, 1, 0])
    with pytest.raises(TypeError, match="x_train must be real"):
        Dataset(x + 1j, y, x, y)
    with pytest.raises(TypeError, match="y_test must be real"):
        Dataset(x, y, x, y.astype(complex))
    with pytest.raises(TypeError, match="y_train must be real"):
        Dataset(x, np.ones((4, 1)) * 1j, x, np.ones((4, 1)))
    with pytest.raises(ValueError, match="y_train must be all real numbers"):
        Dataset(x, np.array([0, "a", 1, 0], dtype=object), x, y)
    d = Dataset(x.astype(object), y.astype(object), x, y)                 # object arrays of numbers are fine
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
