import numpy as np

from sims.io import atomic_path, atomic_savez


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
