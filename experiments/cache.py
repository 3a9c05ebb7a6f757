"""On-disk cache of experiment results, keyed by a hash of the configuration.

Folder: ``$IBT_CACHE_DIR`` if set, else ``~/.cache/ibtoolkit``; files ``experiments/NAME-KEY.npz`` where KEY is the
first 16 hex digits of the sha256 of the JSON configuration (sorted keys, plus :data:`CACHE_VERSION`, bumped when
the meaning of a cached result changes). Writes are atomic (via :mod:`sims.io`), so an interrupted run leaves either
no file or a complete one. Long runs train with a checkpoint beside the result (``NAME-KEY.ckpt.npz``,
:func:`checkpoint_path`): rerunning an interrupted experiment resumes training where it stopped (the simulator's
``checkpoint=`` argument, :func:`sims.train.train`), and the checkpoint is removed once the result is stored.

>>> config_key({"a": 1, "b": [1, 2]}) == config_key({"b": [1, 2], "a": 1})
True
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["CACHE_VERSION", "cache_dir", "config_key", "result_path", "checkpoint_path"]

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
