"""Atomic file writes: write to a temporary file in the target folder, then rename.

An interrupt therefore leaves either the old file or the new one, never a truncated one.

>>> import numpy as np, tempfile, os
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "a.npz")
>>> atomic_savez(p, x=np.arange(3)); list(np.load(p)["x"])
[0, 1, 2]
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_path", "atomic_savez", "atomic_write_json"]


@contextlib.contextmanager
def atomic_path(path):
    """Context manager yielding a temporary path; on success it is renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_savez(path, compress: bool = False, **arrays) -> Path:
    """``np.savez`` (or ``savez_compressed``) to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
    return path


def atomic_write_json(path, obj) -> Path:
    """JSON to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True))
    return path
