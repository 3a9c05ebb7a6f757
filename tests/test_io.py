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
    code = ("import sys, time; from sims.io import atomic_path\n"
            f"with atomic_path({str(target)!r}) as tmp:\n"
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
