"""``python -m figures all --jobs N`` (a process pool, longest figures first, failures isolated) and the cache's
per-key lock (two processes asking for one training compute it once)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import figures.__main__ as cli
from experiments import cache

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IBT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ---------------------------------------------------------------- the cache lock, two real processes
_CHILD = textwrap.dedent('''
    import json, logging, sys, time
    from pathlib import Path
    import numpy as np, xarray as xr
    from experiments import cache, registry
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    tmp = Path(sys.argv[1])

    def compute(ckpt):
        (tmp / "started").write_text("1")
        with open(tmp / "computed", "a") as fh:
            fh.write(sys.argv[2] + "\\n")
        deadline = time.monotonic() + 60
        while not (tmp / "go").exists():          # hold the lock until the test says go
            if time.monotonic() > deadline:
                raise SystemExit("no go")
            time.sleep(0.05)
        return xr.Dataset({"x": ("i", np.arange(5.0) * 3)}, attrs={"config": "{}"})

    res = registry.cached("locktest", {"a": 1}, compute)
    print(json.dumps({"x": res.data.x.values.tolist(), "trained": sum(registry.TRAININGS.values()),
                      "waited": cache.WAITED["seconds"] > 0}))
''')


def _child(tmp_path, tag):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    out, err = open(tmp_path / f"{tag}.out", "w"), open(tmp_path / f"{tag}.err", "w")
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path), tag], cwd=tmp_path, env=env,
                            stdout=out, stderr=err, text=True)


def _wait_for(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_two_processes_asking_for_one_key_compute_it_once(tmp_path, cache_dir):
    """The first process computes under the key's lock; the second, started while the first is computing, waits
    (and says so) and then reads the stored result: one training, the same numbers in both."""
    import json
    first = _child(tmp_path, "first")
    _wait_for(lambda: (tmp_path / "started").exists() or first.poll() is not None)
    assert first.poll() is None, (tmp_path / "first.err").read_text()
    locks = list((cache_dir / "experiments").glob("locktest-*.lock"))
    assert len(locks) == 1 and f"pid {first.pid}" in locks[0].read_text()
    second = _child(tmp_path, "second")
    _wait_for(lambda: second.poll() is not None or "waiting for" in (tmp_path / "second.err").read_text())
    assert second.poll() is None, (tmp_path / "second.err").read_text()
    (tmp_path / "go").write_text("1")
    assert first.wait(timeout=120) == 0, (tmp_path / "first.err").read_text()
    assert second.wait(timeout=120) == 0, (tmp_path / "second.err").read_text()
    r1 = json.loads((tmp_path / "first.out").read_text().splitlines()[-1])
    r2 = json.loads((tmp_path / "second.out").read_text().splitlines()[-1])
    assert r1 == {"x": [0.0, 3.0, 6.0, 9.0, 12.0], "trained": 1, "waited": False}
    assert r2 == {"x": r1["x"], "trained": 0, "waited": True}  # read, not trained
    assert (tmp_path / "computed").read_text().split() == ["first"]
    err2 = (tmp_path / "second.err").read_text()
    assert "waiting for locktest-" in err2 and f"pid {first.pid}" in err2
    assert not list((cache_dir / "experiments").glob("*.lock"))  # released and removed


def test_lock_timeout_names_the_holder(tmp_path):
    target = tmp_path / "unit-0123456789abcdef.npz"
    with cache.key_lock(target) as waited:
        assert waited is False
        start = time.monotonic()
        with pytest.raises(cache.CacheLockTimeout, match=rf"waited 0.3 s .*pid {os.getpid()}.*IBT_CACHE_LOCK_TIMEOUT"):
            with cache.key_lock(target, timeout=0.3, poll=0.05):
                pass
        assert 0.3 <= time.monotonic() - start < 5
    assert not cache.lock_path(target).exists()
    with cache.key_lock(target, timeout=0.3):                   # free again
        pass


def test_lock_timeout_argument_and_environment(monkeypatch):
    assert cache.lock_timeout(5) == 5.0
    monkeypatch.setenv("IBT_CACHE_LOCK_TIMEOUT", "2.5")
    assert cache.lock_timeout() == 2.5
    monkeypatch.setenv("IBT_CACHE_LOCK_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="IBT_CACHE_LOCK_TIMEOUT"):
        cache.lock_timeout()
    monkeypatch.delenv("IBT_CACHE_LOCK_TIMEOUT")
    assert cache.lock_timeout() == cache.LOCK_TIMEOUT
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="timeout"):
            cache.lock_timeout(bad)
    with pytest.raises(TypeError, match="timeout"):
        cache.lock_timeout(True)


# ---------------------------------------------------------------- python -m figures all --jobs N
def test_order_is_longest_first_recorded_before_declared(monkeypatch):
    monkeypatch.setattr(cli, "DECLARED_SECONDS", {"b": 100.0, "c": 5.0})
    monkeypatch.setattr(cli, "UNKNOWN_SECONDS", 60.0)
    assert cli.figure_order(["a", "b", "c", "d"]) == ["b", "a", "d", "c"]     # a, d: UNKNOWN_SECONDS
    cli._record_seconds({"c": 500.0}, full=False)
    assert cli.recorded_seconds() == {"c": 500.0}
    assert cli.figure_order(["a", "b", "c", "d"]) == ["c", "b", "a", "d"]
    assert cli.figure_order(["a", "b", "c"], full=True) == ["a", "b", "c"]  # nothing declared or recorded for full


def test_declared_costs_name_registered_figures():
    from figures._registry import DECLARED_SECONDS, discover
    assert set(DECLARED_SECONDS) <= set(discover()) and all(v > 0 for v in DECLARED_SECONDS.values())


def test_recorded_seconds_survive_a_damaged_file():
    cli._times_path(False).write_text("{not json")
    assert cli.recorded_seconds() == {} and cli.figure_order(["x", "y"]) == ["x", "y"]


def test_jobs_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["all", "--jobs", "0", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2 and "--jobs" in capsys.readouterr().err
    with pytest.raises(ValueError, match="jobs"):
        cli.draw_all(["saxe-fig2"], tmp_path, jobs=0)


def test_default_jobs_is_the_usable_cores():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cli.usable_cores() == expected


def test_sequential_failure_does_not_lose_the_others(monkeypatch, tmp_path, capsys):
    drawn = []

    def fake_render(name, out, full=False):
        if name == "saxe-fig3":
            raise RuntimeError("broken figure")
        drawn.append(name)
        return [Path(out) / f"{name}.png"]
    monkeypatch.setattr(cli, "render", fake_render)
    assert cli.main(["all", "--jobs", "1", "--out", str(tmp_path / "out")]) == 1
    captured = capsys.readouterr()
    assert "saxe-fig3: FAILED" in captured.err and "RuntimeError: broken figure" in captured.err
    assert "failed: saxe-fig3" in captured.err
    assert "saxe-fig2" in drawn and "saxe-fig4ab" in drawn and "saxe-fig3" not in drawn
    assert "figures in" in captured.out


def test_pool_draws_in_workers_and_isolates_a_failure(tmp_path, cache_dir):
    """``python -m figures A B --jobs 2`` as a user runs it (two spawned workers): the figures are written, a figure
    that fails (its PNG path is a folder) is reported with its traceback and does not lose the other, exit code 1."""
    out = tmp_path / "out"
    (out / "smg-modes.png").mkdir(parents=True)                 # savefig cannot replace a folder: smg-modes fails
    env = {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "4"}
    proc = subprocess.run([sys.executable, "-m", "figures", "saxe-fig2", "smg-modes", "--jobs", "2", "--out",
                           str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "smg-modes: FAILED" in proc.stderr and "Traceback" in proc.stderr and "failed: smg-modes" in proc.stderr
    assert "worker process died" not in proc.stderr
    assert {p.name for p in out.iterdir()} == {"saxe-fig2.png", "saxe-fig2.pdf", "saxe-fig2.json", "smg-modes.png"}
    assert "saxe-fig2: " in proc.stdout and "done: 1 of 2 figures" in proc.stdout and "(2 jobs)" in proc.stdout


def test_workers_get_one_blas_thread(monkeypatch):
    """worker_init pins BLAS to one thread (threadpoolctl) and imports every figure module."""
    import threadpoolctl
    from figures import _registry
    calls = []
    monkeypatch.setattr(_registry, "discover", lambda: calls.append(1) or {})
    with threadpoolctl.threadpool_limits(limits=None):          # restores this process's limits on exit
        _registry.worker_init()
        assert all(i["num_threads"] == 1 for i in threadpoolctl.threadpool_info()) and calls == [1]


def test_several_names_go_through_the_pool_path(monkeypatch, tmp_path, capsys):
    drawn = []
    monkeypatch.setattr(cli, "render", lambda name, out, full=False: drawn.append(name) or [])
    assert cli.main(["saxe-fig2", "smg-modes", "saxe-fig2", "--jobs", "1", "--out", str(tmp_path / "o")]) == 0
    assert sorted(drawn) == ["saxe-fig2", "smg-modes"] and "2 of 2 figures" in capsys.readouterr().out
    for bad in (["all", "saxe-fig2"], ["list", "all"], ["saxe-fig2", "nope"]):
        with pytest.raises(SystemExit) as exc:
            cli.main([*bad, "--out", str(tmp_path / "o")])
        assert exc.value.code == 2


def test_cached_many_computes_what_no_one_else_is_computing_first(tmp_path):
    """While another holder has key A's lock, cached_many([A, B]) computes B first (and then waits for A: here it
    times out, as the holder never finishes); once A is free it is computed, results in the order given."""
    import numpy as np
    import xarray as xr
    from experiments import registry
    order = []

    def job(tag):
        def compute(ckpt):
            order.append(tag)
            return xr.Dataset({"v": ("i", np.array([ord(tag)], float))}, attrs={"config": "{}"})
        return ("manytest", {"tag": tag}, compute)
    a, b = job("a"), job("b")
    with cache.key_lock(cache.result_path("manytest", {"tag": "a"})):
        assert cache.key_busy(cache.result_path("manytest", {"tag": "a"}))
        assert not cache.key_busy(cache.result_path("manytest", {"tag": "b"}))
        with pytest.raises(cache.CacheLockTimeout):
            registry.cached_many([a, b], lock_timeout=0.3)
    assert order == ["b"]
    res = registry.cached_many([a, b])
    assert order == ["b", "a"] and [r.data.v.values[0] for r in res] == [ord("a"), ord("b")]
    assert registry.cached_many([b, a])[0].data.v.values[0] == ord("b") and order == ["b", "a"]   # both stored
