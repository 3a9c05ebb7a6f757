"""Files: atomic writes, and self-describing ``.npz`` files with provenance and checksums.

Atomic writes go to a temporary file ``.NAME.<pid>-<random>.tmp`` in the target folder, which is then renamed
onto ``NAME``: an interrupt leaves either the old file or the new one, never a truncated one. The new file gets
the mode the process umask implies (``0o666 & ~umask``, as ``open()`` would give), not the 0600 of a private
temporary file. Temporary files that an interrupted (killed) save to the same path left behind are removed by
the next save to that path.

:func:`save_npz` / :func:`load_npz` are the toolkit's one file format for results (runs, information planes,
checkpoints, recorded activity). Besides the arrays, a file holds one JSON header (array ``__header__``) with

* ``kind`` (what the file is, e.g. ``"run"``) and ``version`` (the format version of that kind),
* ``meta``: the caller's JSON-able description (configuration, units, ...),
* ``provenance``: :func:`provenance` at writing time (package version, creation time in UTC, Python and NumPy
  versions),
* ``arrays``: per array its dtype, shape and the SHA-256 of dtype, shape and bytes.

:func:`load_npz` checks all of it and raises :class:`CorruptFileError` (a ``ValueError``) naming the file and
what is wrong for anything unreadable or inconsistent (truncated zip, damaged ``.npy`` header, missing array,
checksum mismatch), and :class:`FormatVersionError` (a ``ValueError``) naming both versions when the file was
written in another format version.

>>> import numpy as np, tempfile, os
>>> d = tempfile.mkdtemp(); p = os.path.join(d, "a.npz")
>>> _ = save_npz(p, {"x": np.arange(3)}, {"note": "demo"}, kind="demo", version=1)
>>> arrays, meta = load_npz(p, kind="demo", version=1)
>>> arrays["x"].tolist(), meta["note"], sorted(meta["provenance"])[:2]
([0, 1, 2], 'demo', ['created', 'numpy'])
>>> _ = atomic_savez(os.path.join(d, "b.npz"), y=np.arange(2)); np.load(os.path.join(d, "b.npz"))["y"].tolist()
[0, 1]
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from analytic.checks import file_path, positive_int

__all__ = ["atomic_path", "atomic_savez", "atomic_write_json", "save_npz", "load_npz", "read_header", "provenance",
           "array_checksum", "CorruptFileError", "FormatVersionError", "HEADER_KEY"]

HEADER_KEY = "__header__"

_ACTIVE: set[str] = set()          # temporary files this process is writing now (never removed as stale)
_ACTIVE_LOCK = threading.Lock()


class CorruptFileError(ValueError):
    """A saved file cannot be read or fails its checks; the message names the file and what is wrong."""


class FormatVersionError(ValueError):
    """A saved file was written in a format version this code does not read; the message names both versions."""


# ---------------------------------------------------------------------------------------------- atomic writes
def _umask() -> int:
    """The process umask, read without changing it where the OS allows (``/proc/self/status`` on Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True                                       # exists, owned by another user
    except (ProcessLookupError, OverflowError, ValueError, OSError):
        return False
    return True


def _remove_stale_temps(path: Path, own: Path) -> None:
    """Delete ``.NAME.*.tmp`` files of ``path`` older than ``own`` that no running writer owns."""
    pattern = re.compile(r"^\." + re.escape(path.name) + r"\.(?:(\d+)-)?[A-Za-z0-9_]{6,}\.tmp$")
    try:
        own_mtime = own.stat().st_mtime
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    with _ACTIVE_LOCK:
        active = set(_ACTIVE)
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or entry.path == str(own) or entry.path in active:
            continue
        pid = None if m.group(1) is None else int(m.group(1))
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            continue                                      # another process may still be writing it
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime <= own_mtime:
                os.unlink(entry.path)
        except OSError:
            pass


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Context manager yielding a temporary path in ``path``'s folder; on success it is renamed onto ``path``.

    The file gets mode ``0o666 & ~umask``; stale temporary files of earlier, interrupted saves to ``path`` are
    removed. On an exception the temporary file is deleted and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    os.close(fd)
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        _remove_stale_temps(path, Path(tmp))
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_savez(path: str | os.PathLike, compress: bool = False, **arrays: np.ndarray) -> Path:
    """``np.savez`` (or ``savez_compressed``) to ``path`` atomically; returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(fh, **arrays)
    return path


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """JSON to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True))
    return path


# ---------------------------------------------------------------------------------------------- provenance
def _package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("ibtoolkit")
        except PackageNotFoundError:
            pass
    except ImportError:                                   # pragma: no cover
        pass
    return str(getattr(sys.modules.get("sims"), "__version__", "unknown"))


def provenance() -> dict:
    """Where and when a file is written: ``{"package", "package_version", "created" (UTC, ISO 8601),
    "python", "numpy", "platform"}``."""
    return {"package": "ibtoolkit", "package_version": _package_version(),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "numpy": np.__version__, "platform": platform.platform()}


# ---------------------------------------------------------------------------------------------- npz format
def array_checksum(a: np.ndarray) -> str:
    """SHA-256 (hex) of an array's dtype, shape and C-order bytes."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256()
    h.update(a.dtype.str.encode())
    h.update(repr(tuple(int(s) for s in a.shape)).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return os.fspath(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"meta: {type(o).__name__} value {o!r} is not JSON-able")


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray], meta: dict, *, kind: str, version: int,
             compress: bool = True) -> Path:
    """Write ``arrays`` (name -> array) and ``meta`` (JSON-able) to ``path`` as a self-describing ``.npz``.

    Written atomically (see :func:`atomic_path`), compressed unless ``compress=False``, with the header described
    in the module docstring (``kind``, ``version``, ``meta``, :func:`provenance`, per-array checksums). Object
    arrays are refused (files are read with ``allow_pickle=False``). Returns the path.
    """
    path = file_path(path)
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    version = positive_int(version, "version", minimum=0)
    if not isinstance(arrays, dict):
        raise TypeError(f"arrays must be a dict of name -> array, got {type(arrays).__name__}")
    out, info = {}, {}
    for name, a in arrays.items():
        if not isinstance(name, str) or not name or name == HEADER_KEY or "/" in name:
            raise ValueError(f"arrays: invalid array name {name!r}")
        a = np.asarray(a)
        if a.dtype.hasobject:
            raise ValueError(f"arrays[{name!r}]: object arrays cannot be saved (dtype {a.dtype})")
        out[name] = a
        info[name] = {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": array_checksum(a)}
    header = {"kind": kind, "version": int(version), "meta": meta, "provenance": provenance(), "arrays": info}
    out[HEADER_KEY] = np.array(json.dumps(header, default=_jsonable))
    return atomic_savez(path, compress=compress, **out)


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError, OSError, UnicodeDecodeError,
                json.JSONDecodeError, IndexError, TypeError, AttributeError, NotImplementedError, SyntaxError)


def read_header(path: str | os.PathLike) -> dict:
    """The JSON header (kind, version, meta, provenance, arrays) of a :func:`save_npz` file, without reading or
    checking the arrays; ``{}`` for an ``.npz`` without one. Unreadable files raise :class:`CorruptFileError`."""
    path = file_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{os.fspath(path)!r}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if HEADER_KEY not in z.files:
                return {}
            h = json.loads(str(z[HEADER_KEY][()]))
    except _READ_ERRORS as e:
        raise CorruptFileError(f"{os.fspath(path)!r} is not a readable .npz file "
                               f"({type(e).__name__}: {e})") from e
    if not isinstance(h, dict):
        raise CorruptFileError(f"{os.fspath(path)!r}: its header is not a JSON object")
    return h


def load_npz(path: str | os.PathLike, *, kind: str, version: int,
             names: Iterable[str] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_npz`; returns ``(arrays, meta)`` with ``meta["provenance"]`` added.

    ``names``: read (and check) only these arrays (default: all).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    FormatVersionError
        the file's format version differs from ``version`` (the message names both).
    CorruptFileError
        the file is unreadable, is not a ``kind`` file, or an array is missing, damaged or fails its checksum.
    """
    path = file_path(path)
    where = os.fspath(path)
    if not path.is_file():
        raise FileNotFoundError(f"{where!r}: no such file" + (" (it is a directory)" if path.is_dir() else ""))
    try:
        with np.load(path, allow_pickle=False) as z:
            files = list(z.files)
            if HEADER_KEY not in files:
                raise CorruptFileError(f"{where!r} has no ibtoolkit header: not a {kind!r} file written by "
                                       f"sims.io.save_npz (or one from before format version 1)")
            header = json.loads(str(z[HEADER_KEY][()]))
            if not isinstance(header, dict) or not {"kind", "version", "arrays"} <= set(header):
                raise CorruptFileError(f"{where!r}: damaged header (kind, version or array list missing)")
            if header["kind"] != kind:
                raise CorruptFileError(f"{where!r} holds a {header['kind']!r} file, expected {kind!r}")
            if header["version"] != version:
                raise FormatVersionError(
                    f"{where!r} is a {kind!r} file of format version {header['version']}, but this version of "
                    f"ibtoolkit ({_package_version()}) reads format version {version}"
                    + (" (written by a newer ibtoolkit; upgrade to read it)" if isinstance(header["version"], int)
                       and header["version"] > version else " (written by an older ibtoolkit)"))
            arrays = {}
            wanted = header["arrays"] if names is None else {n: header["arrays"].get(n) for n in names}
            for name, info in wanted.items():
                if info is None:
                    raise CorruptFileError(f"{where!r}: has no array {name!r} (it holds {sorted(header['arrays'])})")
                if name not in files:
                    raise CorruptFileError(f"{where!r}: array {name!r} is missing")
                try:
                    a = z[name]
                except _READ_ERRORS as e:
                    raise CorruptFileError(f"{where!r}: array {name!r} is unreadable "
                                           f"({type(e).__name__}: {e})") from e
                if a.dtype.str != info["dtype"] or list(a.shape) != list(info["shape"]):
                    raise CorruptFileError(f"{where!r}: array {name!r} has dtype {a.dtype.str} and shape "
                                           f"{a.shape}, the header says {info['dtype']} and {tuple(info['shape'])}")
                if array_checksum(a) != info["sha256"]:
                    raise CorruptFileError(f"{where!r}: array {name!r} fails its SHA-256 checksum (damaged data)")
                arrays[name] = a
    except (CorruptFileError, FormatVersionError):
        raise
    except _READ_ERRORS as e:
        raise CorruptFileError(f"{where!r} is not a readable .npz file ({type(e).__name__}: {e})") from e
    meta = dict(header.get("meta") or {})
    meta["provenance"] = header.get("provenance", {})
    return arrays, meta
