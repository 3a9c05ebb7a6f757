"""On-disk cache of experiment results, keyed by a hash of the configuration.

Folder: ``$IBT_CACHE_DIR`` if set, else ``~/.cache/ibtoolkit``; files ``experiments/NAME-KEY.npz`` where KEY is the
first 16 hex digits of the sha256 of the JSON configuration (sorted keys, plus :data:`CACHE_VERSION`, bumped when
the meaning of a cached result changes). Writes are atomic (via :mod:`sims.io`), so an interrupted run leaves either
no file or a complete one. Long runs train with a checkpoint beside the result (``NAME-KEY.ckpt.npz``,
:func:`checkpoint_path`): rerunning an interrupted experiment resumes training where it stopped (the simulator's
``checkpoint=`` argument, :func:`sims.train.train`), and the checkpoint is removed once the result is stored.

Two processes asking for the same key (two figures of ``python -m figures all --jobs 2`` that share a training,
or two shells) never both compute it: the one that computes holds an exclusive lock (``fcntl.flock``) on the key's
lock file ``NAME-KEY.lock`` (:func:`key_lock`), and the other waits for it, up to a timeout
(``$IBT_CACHE_LOCK_TIMEOUT`` seconds, default :data:`LOCK_TIMEOUT`), and then reads the stored result. A killed
process releases its lock with it (the kernel drops ``flock`` locks of a dead process), and the next one resumes
from the checkpoint. Where ``fcntl`` does not exist (Windows) there is no lock.

>>> config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})
True
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:                                  # pragma: no cover  (Windows: no flock, no lock)
    fcntl = None

__all__ = ["CACHE_VERSION", "cache_dir", "config_key", "result_path", "checkpoint_path", "lock_path", "key_lock",
           "CacheLockTimeout", "LOCK_TIMEOUT", "lock_timeout", "WAITED", "key_busy"]

logger = logging.getLogger("experiments")

#: Default seconds a process waits for another one computing the same key (``$IBT_CACHE_LOCK_TIMEOUT`` overrides):
#: long enough for a ``--full`` training, finite so that a hung process is reported rather than waited on forever.
LOCK_TIMEOUT = 24 * 3600.0

#: Seconds this process has spent waiting for other processes' locks (:func:`key_lock`); ``python -m figures all``
#: reports each figure's share.
WAITED = {"seconds": 0.0}

#: Part of every key: bump it when a change in the code changes what a cached result means.
CACHE_VERSION = 2


def cache_dir() -> Path:
    """``$IBT_CACHE_DIR`` or ``~/.cache/ibtoolkit``, subfolder ``experiments`` (created)."""
    root = os.environ.get("IBT_CACHE_DIR")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "ibtoolkit"
    d = base / "experiments"
    d.mkdir(parents=True, exist_ok=True)
    return d


def config_key(config: dict) -> str:
    """16 hex digits of sha256(JSON(config, sorted keys) + CACHE_VERSION)."""
    text = json.dumps({"config": config, "cache_version": CACHE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def result_path(name: str, config: dict) -> Path:
    """Where the result of experiment ``name`` with ``config`` is cached."""
    return cache_dir() / f"{name}-{config_key(config)}.npz"


def checkpoint_path(name: str, config: dict, part: str = "") -> Path:
    """The training checkpoint of that result (``part`` tells apart several trainings of one experiment)."""
    suffix = f"-{part}" if part else ""
    return cache_dir() / f"{name}-{config_key(config)}{suffix}.ckpt.npz"


def lock_path(result: str | os.PathLike) -> Path:
    """The lock file of a cached result ``NAME-KEY.npz``: ``NAME-KEY.lock`` beside it."""
    return Path(result).with_suffix(".lock")


class CacheLockTimeout(TimeoutError):
    """Another process held a cache key's lock for longer than the timeout; the message names the key's files and
    the holder's process id."""


def lock_timeout(timeout: float | None = None) -> float:
    """``timeout`` if given, else ``$IBT_CACHE_LOCK_TIMEOUT``, else :data:`LOCK_TIMEOUT` (seconds, > 0 or inf).
    Raises ValueError (naming the argument or the variable) for anything else."""
    name, value = "timeout", timeout
    if value is None:
        name, value = "IBT_CACHE_LOCK_TIMEOUT", os.environ.get("IBT_CACHE_LOCK_TIMEOUT")
        if value is None:
            return LOCK_TIMEOUT
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not seconds > 0 or math.isnan(seconds):
        raise ValueError(f"{name} must be > 0 seconds, got {value!r}")
    return seconds


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        return "unknown"
    return text or "unknown"


@contextlib.contextmanager
def key_lock(result: str | os.PathLike, timeout: float | None = None, poll: float = 0.2) -> Iterator[bool]:
    """Hold the exclusive lock of cached result ``result`` (its :func:`lock_path`) for the ``with`` block.

    Yields ``waited``: True when another process held the lock first (so the caller should look for the stored
    result again before computing). Waits at most ``timeout`` seconds (:func:`lock_timeout`), polling every
    ``poll`` seconds, logging once at INFO that it waits and for whom; then raises :class:`CacheLockTimeout`.
    The lock file holds the holder's pid and host and is removed on release (a waiter that then finds its file
    gone or replaced opens the new one, so no two processes ever hold locks on different files of one key).
    Without ``fcntl`` the block runs unlocked.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x-0123.npz")
    >>> with key_lock(p) as waited:
    ...     os.path.exists(lock_path(p)), waited
    (True, False)
    >>> os.path.exists(lock_path(p))
    False
    """
    if fcntl is None:                                # pragma: no cover
        yield False
        return
    limit = lock_timeout(timeout)
    path = lock_path(result)
    start = time.monotonic()
    waited = told = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            waited = True
            if not told:
                logger.info("waiting for %s: another process (%s) is computing it", Path(result).name,
                            _holder(path))
                told = True
            if time.monotonic() - start > limit:
                raise CacheLockTimeout(
                    f"cache key {Path(result).name}: waited {limit:g} s for the process that holds {path} "
                    f"({_holder(path)}) to finish computing it; if no such process is running any more, remove "
                    f"the lock file, or raise IBT_CACHE_LOCK_TIMEOUT") from None
            time.sleep(poll)
            continue
        except BaseException:
            os.close(fd)
            raise
        # Locked; but the file may have been unlinked (and perhaps recreated) by the previous holder meanwhile.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            continue
        break
    if waited:
        WAITED["seconds"] += time.monotonic() - start
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {os.uname().nodename}\n".encode())
        yield waited
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)                          # while still locked: waiters re-open and see it is gone
        os.close(fd)                                 # releases the lock


def key_busy(result: str | os.PathLike) -> bool:
    """Whether another process holds the lock of cached result ``result`` at this moment (computing it). A hint for
    choosing what to compute first (:func:`experiments.registry.cached_many`), never a guarantee: the answer may
    change right after. False without ``fcntl``."""
    if fcntl is None:                                # pragma: no cover
        return False
    try:
        fd = os.open(lock_path(result), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)                                 # (closing also drops the probe's own shared lock)
    return False
