"""Figure registry: each figure module registers its drawing functions with :func:`figure`.

A figure function takes ``full: bool`` (False: the quick default used by ``make figures``;
True: the paper-scale run) and returns a :class:`matplotlib.figure.Figure`. Figure modules only
compose the library: data come from ``analytic``, ``minimal_models`` or ``sims``; no science lives here.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["figure", "FIGURES", "discover", "render"]


@dataclass(frozen=True)
class FigureSpec:
    name: str
    description: str
    draw: Callable


FIGURES: dict[str, FigureSpec] = {}


def figure(name: str, description: str):
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
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt, dpi=150, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render(name: str, out_dir, full: bool = False) -> list[Path]:
    """Draw figure ``name`` and write ``NAME.png`` and ``NAME.pdf`` into ``out_dir`` (atomically)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    specs = discover()
    if name not in specs:
        raise ValueError(f"figure: unknown name {name!r}; available: {', '.join(specs)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig = specs[name].draw(full=full)
    paths = []
    for fmt in ("png", "pdf"):
        path = out / f"{name}.{fmt}"
        _atomic_savefig(fig, path, fmt)
        paths.append(path)
    plt.close(fig)
    return paths
