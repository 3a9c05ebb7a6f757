"""sims.sweep: grids, the result Dataset, failures, cache/resume, process pool and Dask backends (a real
dask.distributed LocalCluster with 2 worker processes), killed workers, and packing cells into one ensemble run."""
import functools
import os
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sims import MLP, datasets, train
from sims.io import load_npz
from sims.sweep import cell_key, grid_cells, sweep, sweep_train


# ---------------------------------------------------------------------------------------------------- cell functions
def worker_env(a):
    return {"trim": os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset")}


def blas_threads_now(a):
    """The largest thread count of the BLAS libraries loaded in the cell's process (1 when there is none)."""
    from threadpoolctl import threadpool_info

    return {"n": max([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] or [1])}


def cell(a, b, log=None, fail_at=None, die_at=None, always_die_at=None):
    """A cheap cell: scalars, a vector and a string. ``log``: folder where each call leaves a file (to count
    calls); ``fail_at``: the ``a`` at which it raises; ``die_at``: the ``a`` at which its process exits the first
    time (a marker file in ``log`` remembers that it did), succeeding on the retry; ``always_die_at``: the ``(a, b)``
    at which its process exits every time."""
    if always_die_at is not None and (a, b) == always_die_at:
        os._exit(4)
    if log is not None:
        n = len(list(Path(log).glob(f"call-{a}-{b}-*")))
        (Path(log) / f"call-{a}-{b}-{n}").touch()
        if die_at is not None and a == die_at and not (Path(log) / "died").exists():
            (Path(log) / "died").touch()
            os._exit(3)
    if fail_at is not None and a == fail_at:
        raise ZeroDivisionError(f"cell a={a} fails on purpose")
    return {"prod": a * b, "ratio": a / b, "vec": np.arange(3) * a + b, "tag": f"{a}:{b}"}


def calls(log):
    return len(list(Path(log).glob("call-*")))


GRID = {"a": [1, 2, 3], "b": [10, 20]}   # 6 cells


# ---------------------------------------------------------------------------------------------------- grids
def test_grid_cells_product_order_and_list():
    cells, layout = grid_cells({"x": [1, 2], "y": ["p", "q", "r"]})
    assert len(cells) == 6 and cells[1] == {"x": 1, "y": "q"} and layout[0] == "product"
    cells, layout = grid_cells([{"x": 1, "w": (1, 2)}, {"x": 2, "w": (3,)}])
    assert cells[0]["w"] == (1, 2) and layout == ("list", ["x", "w"], None)


@pytest.mark.parametrize("grid, exc, words", [
    ({}, ValueError, "empty"),
    ({"a": 3}, TypeError, "grid['a']"),
    ({"a": "abc"}, TypeError, "grid['a']"),
    ({"a": []}, ValueError, "grid['a']"),
    ({"a": [1, 1]}, ValueError, "repeated"),
    ({"a": [float("nan")]}, ValueError, "finite"),
    ({"a": [object()]}, TypeError, "grid['a']"),
    ([{"a": 1}, {"b": 2}], ValueError, "same parameters"),
    ([{"a": 1}, {"a": 1}], ValueError, "repeats"),
    (5, TypeError, "dict of lists"),
])
def test_bad_grids(grid, exc, words):
    with pytest.raises(exc, match=words.replace("[", r"\[").replace("]", r"\]")):
        grid_cells(grid)


def test_cell_key_is_exact_and_separates():
    assert cell_key("f", {"a": 0.1, "b": 2}) == cell_key("f", {"b": 2, "a": 0.1})
    assert len({cell_key("f", {"a": 0.1}), cell_key("g", {"a": 0.1}), cell_key("f", {"a": 0.1 + 1e-17 + 1e-16}),
                cell_key("f", {"a": 0.1}, context={"n": 1})}) == 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="backend"):
        sweep(cell, GRID, backend="threads")
    with pytest.raises(ValueError, match="address"):
        sweep(cell, GRID, address="tcp://127.0.0.1:8786")
    with pytest.raises(TypeError, match="fn"):
        sweep(3, GRID)
    with pytest.raises(ValueError, match="retries"):
        sweep(cell, GRID, retries=-1)
    with pytest.raises(ValueError, match="lambda"):
        sweep(lambda a, b: {"x": a}, GRID, cache="unused")


def test_dask_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r'pip install "ibtoolkit\[distributed\]"'):
        sweep(cell, GRID, backend="dask", progress=False)


# ---------------------------------------------------------------------------------------------------- the Dataset
def test_dict_grid_dataset_and_dataframe():
    ds = sweep(cell, GRID, progress=False)
    assert ds["prod"].dims == ("a", "b") and ds["vec"].dims == ("a", "b", "vec_dim0")
    assert list(ds["a"].values) == [1, 2, 3] and list(ds["b"].values) == [10, 20]
    for a in GRID["a"]:
        for b in GRID["b"]:
            assert ds["prod"].sel(a=a, b=b).item() == a * b
            assert ds["tag"].sel(a=a, b=b).item() == f"{a}:{b}"
            np.testing.assert_array_equal(ds["vec"].sel(a=a, b=b), np.arange(3) * a + b)
    assert (ds["error"] == "").all() and ds.attrs["n_failed"] == 0 and ds.attrs["n_cells"] == 6
    df = ds.to_dataframe()
    assert len(df) == 18 and {"prod", "vec", "error"} <= set(df.columns)


def test_list_grid_has_cell_dimension():
    grid = [{"a": 1, "b": 10}, {"a": 5, "b": 2}]
    ds = sweep(cell, grid, progress=True)     # (the bar: tqdm when installed)
    assert ds["prod"].dims == ("cell",) and list(ds["prod"].values) == [10, 10]
    assert list(ds["a"].values) == [1, 5] and ds["a"].dims == ("cell",)
    assert len(ds.to_dataframe()) == 2 * 3


def test_dataset_results_keep_their_coordinates():
    def f(k):
        return xr.Dataset({"y": (("t",), np.arange(4.0) * k)}, coords={"t": [0, 2, 4, 8]})

    ds = sweep(f, {"k": [1, 2]}, progress=False)
    assert list(ds["t"].values) == [0, 2, 4, 8] and ds["y"].sel(k=2, t=8).item() == 6.0


def test_inconsistent_results_are_named():
    with pytest.raises(ValueError, match="'v'"):
        sweep(lambda n: {"v": np.zeros(n)}, {"n": [1, 2]}, progress=False)
    with pytest.raises(ValueError, match="clash"):
        sweep(lambda b: {"x": (("b",), [1.0])}, {"b": [1, 2]}, progress=False)


def test_failing_cell_is_recorded_and_others_kept():
    ds = sweep(functools.partial(cell, fail_at=2), GRID, progress=False)
    assert ds.attrs["n_failed"] == 2
    err = ds["error"].sel(a=2)
    assert all("ZeroDivisionError" in e and "fails on purpose" in e for e in err.values)
    assert (ds["error"].sel(a=[1, 3]) == "").all()
    assert np.isnan(ds["prod"].sel(a=2)).all() and ds["prod"].dtype == float    # int -> float for NaN
    assert ds["prod"].sel(a=3, b=20).item() == 60 and ds["tag"].sel(a=2, b=10).item() == ""
    bad = sweep(lambda a: {"x": object()}, {"a": [1]}, progress=False)
    assert "dtype object" in bad["error"].item()


# ---------------------------------------------------------------------------------------------------- cache, resume
def test_resume_skips_done_cells_and_retries_failures(tmp_path):
    log, cache = tmp_path / "log", tmp_path / "cache"
    log.mkdir()
    first = sweep(functools.partial(cell, log=str(log), fail_at=3), GRID, cache=cache, progress=False)
    assert calls(log) == 6 and first.attrs["n_failed"] == 2
    files = sorted(cache.iterdir())
    assert len(files) == 6 and all(f.suffix == ".npz" for f in files)     # one file per cell, no temporaries
    arrays, meta = load_npz(files[0], kind="sweep-cell", version=1)         # checksummed, with provenance
    assert "provenance" in meta and set(meta["params"]) == {"a", "b"} and "test_sweep.cell" in meta["fn"]
    # rerun: the 4 completed cells come from the cache; the 2 failed ones run again (and fail again)
    again = sweep(functools.partial(cell, log=str(log), fail_at=3), GRID, cache=cache, progress=False)
    assert calls(log) == 8 and again.attrs["n_cached"] == 4
    xr.testing.assert_equal(again.drop_vars("error"), first.drop_vars("error"))
    # keep recorded failures: nothing runs
    kept = sweep(functools.partial(cell, log=str(log), fail_at=3), GRID, cache=cache, progress=False,
                 retry_failed=False)
    assert calls(log) == 8 and kept.attrs["n_cached"] == 6 and "fails on purpose" in kept["error"].sel(a=3, b=10).item()
    # a lost cell file is recomputed alone
    files[0].unlink()
    sweep(functools.partial(cell, log=str(log), fail_at=3), GRID, cache=cache, progress=False, retry_failed=False)
    assert calls(log) == 9


def test_unreadable_cache_file_is_rerun(tmp_path):
    ds = sweep(cell, {"a": [1], "b": [2]}, cache=tmp_path, progress=False)
    (f,) = tmp_path.iterdir()
    f.write_bytes(b"not a zip file")
    with pytest.warns(UserWarning, match=f.name):
        again = sweep(cell, {"a": [1], "b": [2]}, cache=tmp_path, progress=False)
    xr.testing.assert_equal(again.drop_vars("error"), ds.drop_vars("error"))
    assert again.attrs["n_cached"] == 0


# ---------------------------------------------------------------------------------------------------- process pool
def test_process_pool_matches_serial_and_survives_a_dying_worker(tmp_path):
    serial = sweep(functools.partial(cell, fail_at=1), GRID, progress=False)
    par = sweep(functools.partial(cell, log=str(tmp_path), fail_at=1, die_at=2), GRID, backend="processes",
                n_workers=2, progress=False)
    assert (tmp_path / "died").exists()                 # a worker did exit mid-cell, and the cell was rerun
    xr.testing.assert_equal(par.drop_vars("error"), serial.drop_vars("error"))
    assert (par["error"] != "").sum() == 2 == par.attrs["n_failed"]


def test_process_pool_records_a_cell_whose_worker_always_dies():
    ds = sweep(functools.partial(cell, always_die_at=(1, 20)), GRID, backend="processes", n_workers=1, retries=0,
               progress=False)
    assert ds.attrs["n_failed"] == 1 and "died" in ds["error"].sel(a=1, b=20).item()
    assert ds["prod"].sel(a=1, b=10).item() == 10 and ds["prod"].sel(a=3, b=20).item() == 60


def test_cells_run_under_blas_threads_and_the_controller_is_made_once_per_process():
    from sims.sweep import backends

    for backend in ("local", "processes"):
        ds = sweep(blas_threads_now, {"a": [0, 1]}, backend=backend, n_workers=1, blas_threads=1, progress=False)
        assert (ds["n"] == 1).all(), backend
    first = backends._thread_limits()
    assert backends._thread_limits() is first              # no import since: the same controller
    sys.modules["_ibt_test_new_module"] = type(sys)("_ibt_test_new_module")
    try:
        assert backends._thread_limits() is not first       # an import may bring a native library: scan again
    finally:
        del sys.modules["_ibt_test_new_module"]


# ---------------------------------------------------------------------------------------------------- dask
def test_dask_local_cluster_matches_serial_with_failure_and_resume(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    fn = functools.partial(cell, log=str(log), fail_at=2)
    dist = sweep(fn, GRID, backend="dask", n_workers=2, cache=tmp_path / "cache", progress=False)
    assert calls(log) == 6
    serial = sweep(functools.partial(cell, fail_at=2), GRID, progress=False)
    xr.testing.assert_equal(dist.drop_vars("error"), serial.drop_vars("error"))
    assert ((dist["error"] != "") == (serial["error"] != "")).all() and dist.attrs["n_failed"] == 2
    assert all("fails on purpose" in e for e in dist["error"].sel(a=2).values)
    # resume from the cache the cluster's results were written to: only the failed cells run again
    sweep(fn, GRID, cache=tmp_path / "cache", progress=False)
    assert calls(log) == 8


def test_dask_killed_worker_is_retried_on_an_existing_cluster(tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        ds = sweep(functools.partial(cell, log=str(tmp_path), die_at=3), GRID, backend="dask",
                   address=cluster.scheduler_address, progress=False)
    # the clusters sweep starts itself give glibc a trim threshold that keeps NumPy temporaries off mmap
    env = sweep(worker_env, {"a": [1]}, backend="dask", n_workers=1, progress=False)
    assert env["trim"].item() == str(128 * 2 ** 20)
    assert (tmp_path / "died").exists()                 # a cell's worker exited mid-cell, and the cell was rerun
    assert ds.attrs["n_failed"] == 0 and ds["prod"].sel(a=3, b=20).item() == 60
    xr.testing.assert_equal(ds.drop_vars("error"), sweep(cell, GRID, progress=False).drop_vars("error"))


@pytest.mark.slow
def test_dask_records_a_cell_whose_worker_always_dies():
    ds = sweep(functools.partial(cell, always_die_at=(3, 10)), {"a": [1, 3], "b": [10]}, backend="dask",
               n_workers=2, retries=0, progress=False)
    assert ds.attrs["n_failed"] == 1 and "KilledWorker" in ds["error"].sel(a=3, b=10).item()
    assert ds["prod"].sel(a=1, b=10).item() == 10


# ---------------------------------------------------------------------------------------------------- packing
@pytest.fixture(scope="module")
def bits12():
    return datasets.tishby_12bit(train_fraction=0.8, seed=0)


NET = MLP([12, 6, 4, 2], activation="tanh")
PACK_GRID = {"lr": [1e-3, 3e-3, 1e-2], "seed": [0, 1], "init_scale": [0.5, 1.0]}   # 12 cells, one network shape


def counting(log):
    """A measure that leaves a file per training run in ``log`` (one run per pack; unique names, so that runs in
    parallel processes do not overwrite each other's file)."""
    def measure(run):
        (Path(log) / f"run-{os.getpid()}-{uuid.uuid4().hex}").touch()
        return {"final_loss": run.loss["train"][:, -1], "loss": (("member", "epoch"), run.loss["test"]),
                "theta": run.params[0][0].reshape(run.ensemble, -1)}
    return measure


def test_packing_equals_unpacked_cells(bits12, tmp_path):
    kw = dict(ensemble=2, epochs=8, batch_size=256, optimizer="adam", shuffle=False, log_epochs=3)
    (tmp_path / "p").mkdir(), (tmp_path / "u").mkdir()
    packed = sweep_train(NET, bits12, PACK_GRID, measure=counting(tmp_path / "p"), progress=False, **kw)
    unpacked = sweep_train(NET, bits12, PACK_GRID, measure=counting(tmp_path / "u"), pack=False, progress=False,
                           **kw)
    assert len(list((tmp_path / "p").iterdir())) == 1 and len(list((tmp_path / "u").iterdir())) == 12
    assert packed["final_loss"].dims == ("lr", "seed", "init_scale", "member")
    for v in ("final_loss", "loss", "theta"):
        np.testing.assert_allclose(packed[v], unpacked[v], rtol=0, atol=1e-12)
    # an unpacked cell is exactly sims.train's own call
    run = train(MLP([12, 6, 4, 2], activation="tanh", init_scale=0.5), bits12, lr=3e-3, seed=1, progress=False,
                **kw)
    np.testing.assert_array_equal(unpacked["final_loss"].sel(lr=3e-3, seed=1, init_scale=0.5),
                                  run.loss["train"][:, -1])
    assert not np.allclose(packed["final_loss"].sel(seed=0), packed["final_loss"].sel(seed=1))


def test_packing_with_shuffling_and_noise_equals_unpacked_cells(bits12, tmp_path):
    # every cell its own seed group: its own minibatch orders and training noise, exactly as in its own run
    kw = dict(ensemble=2, epochs=3, batch_size=64, shuffle=True, log_epochs=[0, 1, 3], progress=False)
    for d in ("p", "u", "s", "su"):
        (tmp_path / d).mkdir()
    grid = {"lr": [1e-3, 1e-2], "seed": [0, 1], "noise_std": [0.0, 0.05]}
    packed = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "p"), **kw)
    unpacked = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "u"), pack=False, **kw)
    assert len(list((tmp_path / "p").iterdir())) == 1 and len(list((tmp_path / "u").iterdir())) == 8
    for v in ("final_loss", "loss", "theta"):
        np.testing.assert_allclose(packed[v], unpacked[v], rtol=0, atol=1e-12)
    run = train(NET, bits12, lr=1e-2, seed=1, noise_std=0.05, **kw)
    np.testing.assert_allclose(packed["loss"].sel(lr=1e-2, seed=1, noise_std=0.05), run.loss["test"],
                               rtol=0, atol=1e-12)
    # different init scales are different networks: with shuffling, one pack per init scale, still exact
    grid = {"seed": [0, 1], "init_scale": [0.5, 1.0]}
    packed = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "s"), **kw)
    assert len(list((tmp_path / "s").iterdir())) == 2
    unpacked = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "su"), pack=False, **kw)
    for v in ("final_loss", "loss", "theta"):
        np.testing.assert_allclose(packed[v], unpacked[v], rtol=0, atol=1e-12)


def test_packing_with_shuffling_keeps_each_cells_start(bits12, tmp_path):
    kw = dict(ensemble=2, epochs=3, batch_size=64, shuffle=True, log_epochs=[0, 3], progress=False)
    grid = {"lr": [1e-3, 1e-2], "seed": [0, 1]}
    packed = sweep_train(NET, bits12, grid, cache=tmp_path, **kw)
    # the cache key is the cell's configuration, not how it was packed; other settings are other cells
    assert sweep_train(NET, bits12, grid, cache=tmp_path, pack=False, **kw).attrs["n_cached"] == 4
    assert sweep_train(NET, bits12, {"lr": [1e-3], "seed": [0]}, cache=tmp_path, **kw).attrs["n_cached"] == 1
    assert sweep_train(NET, bits12, grid, cache=tmp_path, **dict(kw, epochs=2, log_epochs=[0, 2])
                       ).attrs["n_cached"] == 0
    unpacked = sweep_train(NET, bits12, grid, pack=False, **kw)
    # epoch 0 depends only on the initial weights: identical; later epochs too, each cell drawing its own orders
    xr.testing.assert_equal(packed.sel(epoch=0), unpacked.sel(epoch=0))
    for v in packed.data_vars:
        if packed[v].dtype.kind == "f":
            np.testing.assert_allclose(packed[v], unpacked[v], rtol=0, atol=1e-12, err_msg=v)
    assert np.all(np.isfinite(packed["loss_train"])) and packed["loss_train"].dims[-2:] == ("member", "epoch")


def test_packed_failure_lands_on_its_cell_and_processes_split_packs(bits12, tmp_path):
    (tmp_path / "log").mkdir()
    grid = {"lr": [1e-3, -1.0, 1e-2], "seed": [0, 1]}     # lr < 0: sims.train raises for those cells only
    ds = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "log"), epochs=2, progress=False,
                     cache=tmp_path / "cache")
    assert ds.attrs["n_failed"] == 2 and all("lr" in e for e in ds["error"].sel(lr=-1.0).values)
    assert (ds["error"].sel(lr=[1e-3, 1e-2]) == "").all() and np.isfinite(ds["final_loss"].sel(lr=1e-2)).all()
    assert len(list((tmp_path / "log").iterdir())) == 4   # the packed run failed; the 4 good cells ran alone
    # on 2 processes: two packs of 3 cells, each failing, each cell then alone: the same cells, the same numbers
    par = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "log"), epochs=2, progress=False,
                      backend="processes", n_workers=2)
    assert len(list((tmp_path / "log").iterdir())) == 8
    xr.testing.assert_equal(par.drop_vars("error"), ds.drop_vars("error"))
    assert ((par["error"] != "") == (ds["error"] != "")).all()
    again = sweep_train(NET, bits12, grid, measure=counting(tmp_path / "log"), epochs=2, progress=False,
                        retry_failed=False, cache=tmp_path / "cache")
    assert again.attrs["n_cached"] == 6 and len(list((tmp_path / "log").iterdir())) == 8


def test_sweep_train_bad_arguments(bits12):
    with pytest.raises(ValueError, match="params"):
        sweep_train(NET, bits12, {"lr": [1e-3]}, params=None)
    with pytest.raises(ValueError, match=r"grid\['ensemble'\]"):
        sweep_train(NET, bits12, {"ensemble": [1, 2]})
    with pytest.raises(ValueError, match=r"grid\['colour'\]"):
        sweep_train(NET, bits12, {"colour": [1]})
    with pytest.raises(ValueError, match="seed"):
        sweep_train(NET, bits12, {"seed": [None]})
    with pytest.raises(TypeError, match="net"):
        sweep_train("net", bits12, {"lr": [1e-3]})
    with pytest.raises(TypeError, match="unexpected"):
        sweep_train(NET, bits12, {"lr": [1e-3]}, colour=1)


def test_packing_cells_with_their_own_data_splits(tmp_path):
    # each cell its own random split of the 12-bit task (shared analysis set: all 4096 patterns): one run
    splits = {f"split{s}": datasets.tishby_12bit(train_fraction=0.8, seed=s) for s in range(3)}
    kw = dict(ensemble=2, epochs=2, batch_size=256, shuffle=True, noise_std=0.01, log_epochs=[0, 2], progress=False)
    for d in ("p", "u"):
        (tmp_path / d).mkdir()
    grid = {"data": sorted(splits), "seed": [0, 1]}
    packed = sweep_train(NET, splits, grid, measure=counting(tmp_path / "p"), **kw)
    unpacked = sweep_train(NET, splits, grid, measure=counting(tmp_path / "u"), pack=False, **kw)
    assert len(list((tmp_path / "p").iterdir())) == 1 and len(list((tmp_path / "u").iterdir())) == 6
    for v in ("final_loss", "loss", "theta"):
        np.testing.assert_allclose(packed[v], unpacked[v], rtol=0, atol=1e-12)
    run = train(NET, splits["split2"], seed=1, **kw)
    np.testing.assert_allclose(packed["loss"].sel(data="split2", seed=1), run.loss["test"], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="grid parameter 'data'"):
        sweep_train(NET, splits, {"seed": [0]}, **kw)
    with pytest.raises(ValueError, match="not a name"):
        sweep_train(NET, splits, {"data": ["nope"]}, **kw)
    with pytest.raises(ValueError, match="data"):
        sweep_train(NET, datasets.tishby_12bit(), {"data": ["split0"]}, **kw)
