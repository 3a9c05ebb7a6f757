"""Figure registry: each figure module registers its drawing functions with :func:`figure`.

A figure function takes ``full: bool`` (False: the quick default used by ``make figures``;
True: the paper-scale run) and returns a :class:`matplotlib.figure.Figure`. Figure modules only
compose the library: data come from ``analytic``, ``minimal_models``, ``sims`` or ``experiments``; no science
lives here. A figure drawn from an experiment attaches that experiment's claims with :func:`attach_claims`.

:func:`render` writes ``NAME.png``, ``NAME.pdf`` and ``NAME.json``: the claims behind the figure (if any) and the
numbers drawn, read back from the figure itself (every line's and scatter's x/y data, per axes with its title and
axis labels), so the JSON always matches the picture.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import pkgutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from analytic.checks import file_path
from sims.io import atomic_path, atomic_write_json

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["figure", "FIGURES", "discover", "render", "attach_claims", "figure_numbers", "DECLARED_SECONDS",
           "draw_safely", "worker_init"]

#: Declared cost in seconds of the figures whose quick default takes more than a few seconds from an empty cache:
#: each figure's time in a cold ``python -m figures all --jobs 2`` on 2 cores shared with other work (load 3-4.5,
#: 2026-12-01; ``cnn-thesis`` at its present quick scale, retrained alone at load 3). A figure's time includes the
#: trainings it was the first to need (e.g. ``generalization`` trains the tanh and ReLU 12-bit runs that
#: ``saxe-fig1`` then reads). ``python -m figures all`` starts the long ones first; a cold time recorded in the same
#: cache folder (``figure-seconds-quick.json``) takes precedence. The figures not listed took under 5 s each.
DECLARED_SECONDS: dict[str, float] = {
    "compression-study": 566, "mnist-fig1cd": 228, "mnist-sigmoid": 89, "mnist-arch": 82, "saxe-fig8": 76,
    "cnn-thesis": 74, "generalization": 65, "goldfeld-noisy-12bit": 51, "saxe-fig12": 32, "shwartz-ziv-fig2": 16,
    "saxe-fig5": 12, "saxe-fig13-15": 6,
}


@dataclass(frozen=True)
class FigureSpec:
    name: str
    description: str
    draw: Callable


FIGURES: dict[str, FigureSpec] = {}


def figure(name: str, description: str) -> Callable[[Callable], Callable]:
    """Decorator registering ``draw(full=False) -> Figure`` under ``name``."""
    def register(draw):
        if name in FIGURES and FIGURES[name].draw.__qualname__ != draw.__qualname__:
            raise ValueError(f"figure name {name!r} registered twice")
        FIGURES[name] = FigureSpec(name, description, draw)
        return draw
    return register


def discover() -> dict[str, FigureSpec]:
    """Import every figure module of this package so that all figures are registered."""
    pkg = importlib.import_module("figures")
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"figures.{info.name}")
    return dict(sorted(FIGURES.items()))


def _atomic_savefig(fig, path: Path, fmt: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")


def attach_claims(fig: Figure, claims: Iterable, **numbers: Any) -> Figure:
    """Attach claims (``experiments.claims.Claim``) and extra numbers to ``fig`` for ``NAME.json``."""
    fig._ibt_claims = list(getattr(fig, "_ibt_claims", [])) + list(claims)
    fig._ibt_numbers = {**getattr(fig, "_ibt_numbers", {}), **numbers}
    return fig


def _finite_list(a):
    import numpy as np
    a = np.ma.filled(np.ma.asarray(a, dtype=float), np.nan)
    return [None if not math.isfinite(v) else round(float(v), 6) for v in a.reshape(-1)]


def figure_numbers(fig: Figure) -> list:
    """The numbers drawn in ``fig``: per axes its title, labels, and each line's / scatter's data."""
    out = []
    for ax in fig.axes:
        entry = {"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "series": []}
        for line in ax.get_lines():
            entry["series"].append({"kind": "line", "label": line.get_label(), "x": _finite_list(line.get_xdata()),
                                    "y": _finite_list(line.get_ydata())})
        for coll in ax.collections:
            off = coll.get_offsets() if hasattr(coll, "get_offsets") else None
            if off is not None and len(off):
                item = {"kind": "points", "label": coll.get_label(), "x": _finite_list(off[:, 0]),
                        "y": _finite_list(off[:, 1])}
                arr = coll.get_array()
                if arr is not None and len(arr) == len(off):
                    item["colour_value"] = _finite_list(arr)
                entry["series"].append(item)
        out.append(entry)
    return out


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    return repr(o)


def render(name: str, out_dir: str | os.PathLike, full: bool = False) -> list[Path]:
    """Draw figure ``name`` and write ``NAME.png``, ``NAME.pdf`` and ``NAME.json`` into ``out_dir`` (atomically)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = file_path(out_dir, "out_dir")          # checked first: '' would write into the working directory
    specs = discover()
    if name not in specs:
        raise ValueError(f"figure: unknown name {name!r}; available: {', '.join(specs)}")
    out.mkdir(parents=True, exist_ok=True)
    fig = specs[name].draw(full=full)
    paths = []
    for fmt in ("png", "pdf"):
        path = out / f"{name}.{fmt}"
        _atomic_savefig(fig, path, fmt)
        paths.append(path)
    record = {"figure": name, "description": specs[name].description, "scale": "full" if full else "quick",
              "claims": [c.to_dict() for c in getattr(fig, "_ibt_claims", [])],
              "numbers": getattr(fig, "_ibt_numbers", {}), "axes": figure_numbers(fig)}
    paths.append(atomic_write_json(out / f"{name}.json", json.loads(json.dumps(record, default=_json_default))))
    plt.close(fig)
    return paths


def draw_safely(name: str, out_dir: str | os.PathLike, full: bool = False, render_fn: Callable | None = None
                ) -> tuple:
    """:func:`render` one figure without raising (what ``python -m figures all`` runs in each worker: an exception
    of a worker might not even pickle). Returns ``(name, status, detail, seconds, trained, waited)``: status ``"ok"``
    (detail: the written paths as strings), ``"skipped"`` (its data files are not installed, FileNotFoundError;
    detail: the message) or ``"failed"`` (any other exception; detail: its traceback); ``trained``: whether it
    computed an experiment's training (``experiments.registry.TRAININGS`` grew); ``waited``: the seconds of it
    spent waiting for another process computing a training this figure needs (``experiments.cache.WAITED``).
    ``render_fn``: instead of
    :func:`render` (the command line passes its own, so that tests can replace it)."""
    from experiments.cache import WAITED
    from experiments.registry import TRAININGS
    before, waited = sum(TRAININGS.values()), WAITED["seconds"]
    start = time.perf_counter()
    try:
        paths = (render_fn or render)(name, out_dir, full=full)
        status, detail = "ok", [str(p) for p in paths]
    except FileNotFoundError as exc:             # a figure whose data files are not installed (e.g. MNIST)
        status, detail = "skipped", str(exc)
    except Exception:                            # noqa: BLE001  (reported; the other figures go on)
        status, detail = "failed", traceback.format_exc()
    return (name, status, detail, time.perf_counter() - start, sum(TRAININGS.values()) > before,
            WAITED["seconds"] - waited)


def worker_init() -> None:
    """Set up a ``python -m figures all`` worker process: one BLAS / OpenMP / torch thread (the environment set
    before the worker started covers NumPy's BLAS; threadpoolctl and torch, where installed, are told as well),
    and every figure module imported once (not inside the first figure's time)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:                          # pragma: no cover
        pass
    discover()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
