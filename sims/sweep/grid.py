"""Grids and cell identity of :mod:`sims.sweep`: a grid as its list of cells, the canonical JSON of a cell and its
SHA-256 key (what the per-cell cache files are named by), and the name of the swept function."""
from __future__ import annotations

import functools
import hashlib
import json
import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["grid_cells", "cell_key"]


def _canon(v, name):
    """A grid value as a JSON-able Python value (tuples for sequences); TypeError/ValueError naming the parameter."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            raise ValueError(f"grid[{name!r}]: values must be finite, got {v!r}")
        return float(v)
    if isinstance(v, str) or v is None:
        return v
    if isinstance(v, (tuple, list)):
        return tuple(_canon(u, name) for u in v)
    raise TypeError(f"grid[{name!r}]: values must be numbers, strings, booleans, None or tuples of them, "
                    f"got {type(v).__name__} {v!r}")


def jsonable(v: Any) -> Any:
    """A canonical grid value as JSON (tuples as lists, recursively)."""
    return [jsonable(u) for u in v] if isinstance(v, tuple) else v


def grid_cells(grid: Mapping[str, Sequence] | Sequence[Mapping[str, Any]]) -> tuple[list[dict], tuple]:
    """The cells of ``grid`` as a list of dicts, and its layout: ``("product", names, value lists)`` for a dict of
    lists, ``("list", names, None)`` for a list of dicts.

    >>> grid_cells({"a": [1, 2], "b": ["x"]})[0]
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if isinstance(grid, dict):
        if not grid:
            raise ValueError("grid: empty dict (give at least one parameter with a list of values)")
        names, lists = [], []
        for name, values in grid.items():
            if not isinstance(name, str):
                raise TypeError(f"grid: parameter names must be strings, got {name!r}")
            if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
                raise TypeError(f"grid[{name!r}] must be a list of values, got {values!r}")
            vals = [_canon(v, name) for v in values]
            if not vals:
                raise ValueError(f"grid[{name!r}]: empty list of values")
            if len(set(map(json.dumps, map(jsonable, vals)))) != len(vals):
                raise ValueError(f"grid[{name!r}]: repeated values {vals!r}")
            names.append(name)
            lists.append(vals)
        cells = [dict(zip(names, combo)) for combo in _product(lists)]
        return cells, ("product", names, lists)
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise ValueError("grid: empty list of cells")
        names = None
        cells, seen = [], set()
        for i, cell in enumerate(grid):
            if not isinstance(cell, dict) or not cell:
                raise TypeError(f"grid[{i}] must be a non-empty dict of parameters, got {cell!r}")
            if names is None:
                names = list(cell)
            elif set(cell) != set(names):
                raise ValueError(f"grid[{i}] has parameters {sorted(cell)}, but grid[0] has {sorted(names)}; "
                                 "every cell of a list grid must name the same parameters")
            c = {k: _canon(cell[k], k) for k in names}
            key = json.dumps({k: jsonable(v) for k, v in c.items()}, sort_keys=True)
            if key in seen:
                raise ValueError(f"grid[{i}] repeats an earlier cell: {c}")
            seen.add(key)
            cells.append(c)
        return cells, ("list", names, None)
    raise TypeError(f"grid must be a dict of lists or a list of dicts, got {type(grid).__name__}")


def _product(lists):
    if not lists:
        yield ()
        return
    for v in lists[0]:
        for rest in _product(lists[1:]):
            yield (v,) + rest


def cell_key(name: str, params: dict, context: Any = None) -> str:
    """SHA-256 (hex) identifying a cell: the function's ``name``, the cell's ``params`` and any fixed ``context``
    (JSON-able), as canonical JSON (sorted keys; floats by their shortest exact repr).

    >>> cell_key("f", {"a": 1}) == cell_key("f", {"a": 1}) != cell_key("f", {"a": 1.0})
    True
    """
    doc = {"fn": name, "params": {k: jsonable(v) for k, v in params.items()}, "context": context}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def fn_name(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of ``fn``; for a functools.partial, its function's name and its bound arguments."""
    if isinstance(fn, functools.partial):
        bound = {"args": [spec_value(a, "fn") for a in fn.args],
                 "keywords": {k: spec_value(v, k) for k, v in sorted(fn.keywords.items())}}
        return f"{fn_name(fn.func)}{json.dumps(bound, sort_keys=True)}"
    mod = getattr(fn, "__module__", None) or type(fn).__module__
    qual = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{mod}.{qual}"


def spec_value(v: Any, name: str) -> Any:
    """A fixed training argument as JSON for the cache key."""
    if hasattr(v, "spec") and callable(v.spec):
        return {"spec": v.spec()}
    if isinstance(v, np.ndarray):
        return {"array": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest(), "shape": list(v.shape)}
    if callable(v):
        return {"callable": fn_name(v)}
    if isinstance(v, dict):
        return {str(k): spec_value(u, f"{name}[{k!r}]") for k, u in v.items()}
    if isinstance(v, (list, tuple)):
        return [spec_value(u, name) for u in v]
    try:
        json.dumps(v)
    except TypeError:
        raise TypeError(f"{name}: {type(v).__name__} cannot identify a sweep cell; pass a number, string, list "
                        "or an object with .spec()") from None
    return v
