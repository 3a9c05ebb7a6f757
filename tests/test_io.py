import os
import re
import stat
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from sims.io import (CorruptFileError, FormatVersionError, atomic_path, atomic_savez, atomic_write_json, load_npz,
                     provenance, save_npz)


def test_atomic_savez_roundtrip(tmp_path):
    p = atomic_savez(tmp_path / "sub" / "a.npz", x=np.arange(5.0))
    np.testing.assert_array_equal(np.load(p)["x"], np.arange(5.0))
    assert not [f for f in p.parent.iterdir() if f.name.endswith(".tmp")]


def test_interrupted_write_leaves_old_file(tmp_path):
    target = tmp_path / "r.txt"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert target.read_text() == "old"
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


# ---------------------------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_atomic_files_get_the_umask_mode(tmp_path, mask):
    old = os.umask(mask)
    try:
        p1 = atomic_savez(tmp_path / "a.npz", x=np.arange(3))
        p2 = atomic_write_json(tmp_path / "b.json", {"a": 1})
        p3 = save_npz(tmp_path / "c.npz", {"x": np.arange(3)}, {}, kind="t", version=1)
    finally:
        os.umask(old)
    for p in (p1, p2, p3):
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask


# ---------------------------------------------------------------------------------------------- stale temps
def test_stale_temp_of_killed_save_removed_by_next_save(tmp_path):
    target = tmp_path / "r.npz"
    import sims.io
    code = ("import importlib.util, time\n"                # sims/io.py alone: a quick start
            f"spec = importlib.util.spec_from_file_location('ibt_io', {sims.io.__file__!r})\n"
            "io = importlib.util.module_from_spec(spec); spec.loader.exec_module(io)\n"
            f"with io.atomic_path({str(target)!r}) as tmp:\n"
            "    tmp.write_bytes(b'half'); print(tmp, flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    tmp_name = proc.stdout.readline().strip()
    proc.kill()
    proc.wait()
    proc.stdout.close()
    assert os.path.exists(tmp_name)                       # the killed save left its temp file
    other = tmp_path / ".other.npz.abcdefgh.tmp"          # a temp file of a different target stays
    other.write_bytes(b"x")
    time.sleep(0.01)
    save_npz(target, {"x": np.arange(3)}, {}, kind="t", version=1)
    assert not os.path.exists(tmp_name)
    assert other.exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == [".other.npz.abcdefgh.tmp", "r.npz"]


def test_temp_of_a_live_writer_is_kept(tmp_path):
    target = tmp_path / "r.npz"
    with atomic_path(target) as outer:                    # this process is still writing `outer`
        outer.write_bytes(b"in progress")
        atomic_savez(target, x=np.arange(2))
        assert outer.exists()
    assert (target).read_bytes() == b"in progress"


def test_legacy_temp_name_removed(tmp_path):
    target = tmp_path / "r.npz"
    stale = tmp_path / ".r.npz.k3j_x9ab.tmp"              # name given by earlier versions (no pid)
    stale.write_bytes(b"half")
    past = time.time() - 3600
    os.utime(stale, (past, past))
    atomic_savez(target, x=np.arange(2))
    assert not stale.exists()


# ---------------------------------------------------------------------------------------------- save/load npz
def _write(tmp_path, compress=True, name="f.npz"):
    arrays = {"a": np.arange(3000.0).reshape(3, 1000), "b": np.array([1, 2, 3], dtype=np.int32),
              "s": np.array("text")}
    return save_npz(tmp_path / name, arrays, {"config": {"lr": 0.1}, "units": "nats"}, kind="demo", version=2,
                    compress=compress), arrays


@pytest.mark.parametrize("compress", [True, False])
def test_save_load_roundtrip(tmp_path, compress):
    p, arrays = _write(tmp_path, compress)
    got, meta = load_npz(p, kind="demo", version=2)
    assert set(got) == set(arrays)
    for k in arrays:
        np.testing.assert_array_equal(got[k], arrays[k])
        assert got[k].dtype == arrays[k].dtype
    assert meta["config"] == {"lr": 0.1} and meta["units"] == "nats"
    prov = meta["provenance"]
    assert {"package_version", "created", "python", "numpy"} <= set(prov)
    assert prov["numpy"] == np.__version__
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", prov["created"])
    with zipfile.ZipFile(p) as zf:
        kinds = {i.compress_type for i in zf.infolist()}
    assert kinds == ({zipfile.ZIP_DEFLATED} if compress else {zipfile.ZIP_STORED})


def test_provenance_fields():
    p = provenance()
    assert p["package"] == "ibtoolkit" and isinstance(p["package_version"], str) and p["package_version"]
    assert p["python"].count(".") == 2


def test_wrong_kind(tmp_path):
    p, _ = _write(tmp_path)
    with pytest.raises(CorruptFileError, match=r"f\.npz.*'demo'.*expected 'run'"):
        load_npz(p, kind="run", version=2)


def test_newer_and_older_version(tmp_path):
    p, _ = _write(tmp_path)
    with pytest.raises(FormatVersionError, match=r"f\.npz.*version 2.*reads format version 1.*newer"):
        load_npz(p, kind="demo", version=1)
    with pytest.raises(FormatVersionError, match=r"f\.npz.*version 2.*reads format version 3.*older"):
        load_npz(p, kind="demo", version=3)
    assert issubclass(FormatVersionError, ValueError)


def test_truncated_file(tmp_path):
    p, _ = _write(tmp_path)
    data = p.read_bytes()
    for n in (0, 10, len(data) // 2, len(data) - 5):
        q = tmp_path / f"t{n}.npz"
        q.write_bytes(data[:n])
        with pytest.raises(CorruptFileError, match=re.escape(str(q))):
            load_npz(q, kind="demo", version=2)


def _flip_shape_digit(p, out):
    """Rewrite the uncompressed zip ``p`` with one digit of array ``a``'s .npy header shape changed (3 -> 2)."""
    data = bytearray(p.read_bytes())
    i = data.index(b"'shape': (3, 1000)")
    data[i + len("'shape': (")] = ord("2")
    out.write_bytes(bytes(data))


def test_flipped_digit_in_npy_header_is_caught(tmp_path):
    p, _ = _write(tmp_path, compress=False)
    q = tmp_path / "flipped.npz"
    _flip_shape_digit(p, q)
    with np.load(q) as z:                                 # numpy alone reads garbage silently
        assert z["a"].shape == (2, 1000)
    with pytest.raises(CorruptFileError, match=r"flipped\.npz.*'a'"):
        load_npz(q, kind="demo", version=2)


def test_flipped_data_byte_is_caught(tmp_path):
    p, arrays = _write(tmp_path, compress=False)
    data = bytearray(p.read_bytes())
    needle = arrays["a"].tobytes()
    i = data.index(needle)
    data[i + 3] ^= 0x10
    q = tmp_path / "bitflip.npz"
    q.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"bitflip\.npz.*'a'"):
        load_npz(q, kind="demo", version=2)


def test_every_single_byte_corruption_is_an_error_or_exact(tmp_path):
    p, arrays = _write(tmp_path, compress=True)
    data = p.read_bytes()
    rng = np.random.default_rng(0)
    for k, pos in enumerate(rng.choice(len(data), size=60, replace=False)):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(8))
        q = tmp_path / f"c{k}.npz"
        q.write_bytes(bytes(bad))
        try:
            got, _ = load_npz(q, kind="demo", version=2)
        except CorruptFileError as e:
            assert str(q) in str(e)
        else:                                             # a flip in zip metadata numpy never reads
            for name in arrays:
                np.testing.assert_array_equal(got[name], arrays[name])


def test_missing_array_and_no_header(tmp_path):
    p, _ = _write(tmp_path, compress=False)
    q = tmp_path / "partial.npz"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(q, "w") as dst:
        for info in src.infolist():
            if info.filename != "b.npy":
                dst.writestr(info, src.read(info.filename))
    with pytest.raises(CorruptFileError, match=r"partial\.npz.*'b' is missing"):
        load_npz(q, kind="demo", version=2)
    plain = atomic_savez(tmp_path / "plain.npz", x=np.arange(3))
    with pytest.raises(CorruptFileError, match=r"plain\.npz.*no ibtoolkit header"):
        load_npz(plain, kind="demo", version=2)


def test_not_a_zip_and_missing_file(tmp_path):
    q = tmp_path / "text.npz"
    q.write_text("hello")
    with pytest.raises(CorruptFileError, match=r"text\.npz"):
        load_npz(q, kind="demo", version=1)
    with pytest.raises(FileNotFoundError, match=r"nope\.npz"):
        load_npz(tmp_path / "nope.npz", kind="demo", version=1)
    with pytest.raises(FileNotFoundError, match="directory"):
        load_npz(tmp_path, kind="demo", version=1)


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="path"):
        load_npz(None, kind="demo", version=1)
    with pytest.raises(TypeError, match="path"):
        save_npz(None, {}, {}, kind="demo", version=1)
    with pytest.raises(ValueError, match="object"):
        save_npz(tmp_path / "o.npz", {"x": np.array([None, 1])}, {}, kind="demo", version=1)
    with pytest.raises(TypeError, match="meta"):
        save_npz(tmp_path / "o.npz", {}, {"f": object()}, kind="demo", version=1)
    with pytest.raises(ValueError, match="version"):
        save_npz(tmp_path / "o.npz", {}, {}, kind="demo", version=True)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------- saved runs
import ast  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

from sims import MLP, datasets, load_run, train  # noqa: E402
from sims.info_plane import InfoPlane, info_plane, load_info_plane  # noqa: E402
from sims.io import HEADER_KEY  # noqa: E402
from sims.run import RUN_FORMAT  # noqa: E402


def _small_run(activity=True, seed=3, **kw):
    data = datasets.tishby_12bit(seed=0)
    return train(MLP([12, 4, 2]), data, ensemble=2, epochs=3, log_epochs=3, record_activity=activity,
                 progress=False, seed=seed, **kw)


def test_run_file_has_provenance_seed_and_is_compressed(tmp_path):
    run = _small_run(seed=None)                           # the seed drawn from fresh entropy is recorded
    seed = run.config["seed"]
    assert isinstance(seed, int) and seed >= 0
    p = run.save(tmp_path / "run.npz")
    with zipfile.ZipFile(p) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    _, meta = load_npz(p, kind="run", version=RUN_FORMAT)
    assert meta["seed"] == seed and meta["config"] == run.config
    assert {"package_version", "created", "python", "numpy"} <= set(meta["provenance"])
    back = load_run(p)
    assert back.provenance["created"] == meta["provenance"]["created"]
    again = _small_run(seed=back.config["seed"])          # the recorded seed reproduces the run
    np.testing.assert_array_equal(again._theta, back._theta)


def test_run_folder_can_be_moved_and_zipped(tmp_path):
    exp = tmp_path / "exp"
    run = _small_run(activity=exp / "activity")
    run.save(exp / "run.npz")
    ref = run.activity(1)
    _, meta = load_npz(exp / "run.npz", kind="run", version=RUN_FORMAT)
    assert meta["activity"]["folder"] == "activity" and meta["activity"]["relative"]
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(str(exp), str(moved))
    np.testing.assert_array_equal(load_run(moved / "run.npz").activity(1), ref)
    archive = shutil.make_archive(str(tmp_path / "bundle"), "zip", moved)
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(archive, unpacked)
    shutil.rmtree(moved)                                  # the original is gone: only the unpacked copy is read
    np.testing.assert_array_equal(load_run(unpacked / "run.npz").activity(1), ref)


def test_missing_activity_folder_is_named(tmp_path):
    run = _small_run(activity=tmp_path / "act")
    run.save(tmp_path / "run.npz")
    shutil.rmtree(tmp_path / "act")
    with pytest.warns(UserWarning, match="activity folder"):
        back = load_run(tmp_path / "run.npz")
    with pytest.raises(FileNotFoundError, match="act"):
        back.activity(0)


def test_damaged_or_missing_activity_chunk_is_named(tmp_path):
    run = _small_run(activity=tmp_path / "act")
    chunk = sorted((tmp_path / "act").glob("activity_*.npz"))[0]
    data = bytearray(chunk.read_bytes())
    arr = np.ascontiguousarray(run.activity(0)[:, 0])
    i = data.index(arr.tobytes()[:64])                    # chunks are stored uncompressed
    data[i + 7] ^= 0x01
    chunk.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=re.escape(chunk.name)):
        run.activity(0)
    chunk.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(chunk.name)):
        run.activity(1)


def test_corrupted_run_files_raise_naming_the_file(tmp_path):
    data = datasets.tishby_12bit(seed=0)
    from sims.info_plane import InfoPlaneConsumer
    run = train(MLP([12, 4, 2]), data, ensemble=2, epochs=3, log_epochs=3, progress=False, seed=0,
                consumers={"ip": InfoPlaneConsumer("binned", data.y_analysis, edges=np.linspace(-1, 1, 30))})
    p = run.save(tmp_path / "run.npz", compress=False)
    raw = bytearray(p.read_bytes())
    # the consumer array's .npy header: shape (2, L, 2, 2) -> (2, 1, 2, 2) (numpy alone would load garbage)
    shape = run.consumer_results["ip"].shape
    assert shape[0] == 2 and shape[1] > 1
    i = raw.index(f"'shape': {shape}".encode())
    raw[i + len("'shape': (2, ")] = ord("1")
    q = tmp_path / "shape.npz"
    q.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError, match=r"shape\.npz.*consumer__ip"):
        load_run(q)
    whole = p.read_bytes()
    for n in (20, len(whole) // 3, len(whole) - 30):
        t = tmp_path / f"trunc{n}.npz"
        t.write_bytes(whole[:n])
        with pytest.raises(CorruptFileError, match=re.escape(t.name)):
            load_run(t)


def test_run_format_versions_are_named(tmp_path):
    old = tmp_path / "old.npz"                            # the format-1 layout: arrays and a "meta" array
    atomic_savez(old, epochs=np.arange(3), meta=np.array(json.dumps({"format": 1, "net": {}})))
    with pytest.raises(FormatVersionError, match=r"old\.npz.*format version 1.*reads format version 2"):
        load_run(old)
    newer = save_npz(tmp_path / "newer.npz", {"epochs": np.arange(3)}, {}, kind="run", version=RUN_FORMAT + 1)
    with pytest.raises(FormatVersionError, match=rf"newer\.npz.*version {RUN_FORMAT + 1}.*reads format version "
                                                 rf"{RUN_FORMAT}.*newer"):
        load_run(newer)
    ip_file = save_npz(tmp_path / "ip.npz", {"epochs": np.arange(3)}, {}, kind="info_plane", version=2)
    with pytest.raises(CorruptFileError, match=r"ip\.npz.*'info_plane'.*expected 'run'"):
        load_run(ip_file)


def test_load_run_bad_path(tmp_path):
    with pytest.raises(TypeError, match="path"):
        load_run(None)
    with pytest.raises(TypeError, match="path"):
        load_run(3.5)
    with pytest.raises(ValueError, match="path"):
        load_run(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="path"):
        load_run(tmp_path)


def test_saved_run_and_info_plane_respect_umask(tmp_path):
    run = _small_run()
    ip = info_plane(run, "binned", n_bins=8, progress=False)
    old = os.umask(0o027)
    try:
        p1, p2 = run.save(tmp_path / "run.npz"), ip.save(tmp_path / "ip.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p1.stat().st_mode) == stat.S_IMODE(p2.stat().st_mode) == 0o640


def test_memory_run_roundtrip_keeps_labels_and_dims(tmp_path):
    data = datasets.tishby_12bit(seed=0)
    from sims.info_plane import InfoPlaneConsumer
    run = train(MLP([12, 4, 2]), data, ensemble=2, epochs=3, log_epochs=3, progress=False, seed=0,
                record_activity=True,
                consumers={"ip": InfoPlaneConsumer("binned", data.y_analysis, edges=np.linspace(-1, 1, 30)),
                           "m": lambda e, a: a[0].mean(axis=(1, 2))})
    back = load_run(run.save(tmp_path / "run.npz"))
    assert back.consumer_dims == run.consumer_dims
    for k in run.consumer_results:
        np.testing.assert_array_equal(back.consumer_results[k], run.consumer_results[k])
    np.testing.assert_array_equal(back.activity(-1), run.activity(-1))
    assert back.to_xarray().drop_attrs().identical(run.to_xarray().drop_attrs())


# ---------------------------------------------------------------------------------------------- info planes
def test_info_plane_file(tmp_path):
    ip = InfoPlane("kde", {"noise_var": 0.1}, np.array([0, 5]), (0, 2), np.ones((3, 2, 2)), np.zeros((3, 2, 2)),
                   2.0, 0.5, {"members": [0, 4, 7]})
    p = ip.save(tmp_path / "ip.npz")
    with zipfile.ZipFile(p) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    back = load_info_plane(p)
    np.testing.assert_array_equal(back.i_xt, ip.i_xt)
    assert back.members.tolist() == [0, 4, 7] and back.options == {"noise_var": 0.1}
    assert "created" in back.meta["provenance"]
    legacy = atomic_savez(tmp_path / "legacy.npz", epochs=np.arange(2), header=np.array("{}"))
    with pytest.raises(FormatVersionError, match=r"legacy\.npz.*version 1.*reads format version 2"):
        load_info_plane(legacy)
    q = tmp_path / "trunc.npz"
    q.write_bytes(p.read_bytes()[:-40])
    with pytest.raises(CorruptFileError, match=r"trunc\.npz"):
        load_info_plane(q)
    with pytest.raises(TypeError, match="path"):
        load_info_plane(None)


def test_library_modules_never_print():
    root = Path(__file__).resolve().parents[1] / "sims"
    for name in ("io.py", "run.py", "info_plane.py", "gradient_snr.py", "progress.py"):
        tree = ast.parse((root / name).read_text())
        calls = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Name) and n.func.id == "print"]
        assert not calls, (name, calls)


def test_header_is_json_with_checksums(tmp_path):
    p = save_npz(tmp_path / "h.npz", {"x": np.arange(4)}, {"a": 1}, kind="k", version=7)
    with np.load(p) as z:
        h = json.loads(str(z[HEADER_KEY]))
    assert h["kind"] == "k" and h["version"] == 7 and len(h["arrays"]["x"]["sha256"]) == 64
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_npz(p, kind="k", version=7)


def test_read_header(tmp_path):
    from sims.io import read_header
    p = save_npz(tmp_path / "h.npz", {"x": np.arange(4)}, {"a": 1}, kind="k", version=7)
    h = read_header(p)
    assert h["kind"] == "k" and h["version"] == 7 and h["meta"] == {"a": 1} and "created" in h["provenance"]
    assert read_header(atomic_savez(tmp_path / "plain.npz", x=np.arange(2))) == {}
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(CorruptFileError, match=r"bad\.npz"):
        read_header(tmp_path / "bad.npz")


def test_flipped_digit_in_the_json_header_is_caught(tmp_path):
    """A changed digit inside the metadata (here the learning rate) must not load as a different configuration:
    the header is read whole, so the zip CRC sees it."""
    p = save_npz(tmp_path / "m.npz", {"x": np.arange(3)}, {"config": {"lr": 0.125}}, kind="demo", version=1,
                 compress=False)
    raw = bytearray(p.read_bytes())
    i = raw.index("0.125".encode("utf-32-le"))            # numpy stores the JSON string as UTF-32
    raw[i + 4 * 4] = ord("7")                             # 0.125 -> 0.127
    q = tmp_path / "m2.npz"
    q.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError, match=r"m2\.npz"):
        load_npz(q, kind="demo", version=1)


def test_random_corruption_of_a_saved_run(tmp_path):
    run = _small_run(seed=0)
    p = run.save(tmp_path / "run.npz")
    data = p.read_bytes()
    rng = np.random.default_rng(1)
    loaded = 0
    for k, pos in enumerate(rng.choice(len(data), size=40, replace=False)):
        bad = bytearray(data)
        bad[pos] ^= 1 << int(rng.integers(8))
        q = tmp_path / f"bad{k}.npz"
        q.write_bytes(bytes(bad))
        try:
            back = load_run(q)
        except (CorruptFileError, FormatVersionError) as e:
            assert q.name in str(e)
        else:                                             # only flips in zip bookkeeping numpy never reads
            loaded += 1
            np.testing.assert_array_equal(back._theta, run._theta)
            np.testing.assert_array_equal(back.activity(0), run.activity(0))
            assert back.config == run.config
    assert loaded < 40
