"""Claims: a statement from a paper together with the measured numbers that test it.

A :class:`Claim` is produced by an experiment from its own results (never typed by hand): the per-member values
of one measured quantity (e.g. the compression of :mod:`experiments.compression`, in bits), the threshold it is
compared with, and the verdict. :func:`claims_table` renders the README's claims table.

>>> c = Claim.measured("Saxe et al. 2018", "Fig. 1A", "tanh compresses", [1.0, 2.0, 3.0], ">", 0.5,
...                    quantity="compression (bits)")
>>> c.holds, round(c.mean, 2), round(c.sd, 2)
(True, 2.0, 1.0)
>>> Claim.from_json(c.to_json()) == c
True
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import finite_array

__all__ = ["Claim", "claims_table", "claims_to_json", "claims_from_json"]

_OPS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


@dataclass(frozen=True)
class Claim:
    """One paper claim and its test.

    ``paper`` (authors, year), ``figure``, ``statement``; ``values``: the measured quantity per ensemble member;
    ``mean`` and ``sd`` (ddof=1, 0 for one member) over them; the claim holds when ``mean <op> threshold``;
    ``quantity`` names what was measured (with units); ``experiment`` the experiment that produced it;
    ``numbers``: further measured numbers (JSON-able) that the statement refers to.
    """

    paper: str
    figure: str
    statement: str
    quantity: str
    values: tuple
    mean: float
    sd: float
    op: str
    threshold: float
    holds: bool
    experiment: str = ""
    numbers: dict = field(default_factory=dict)

    @classmethod
    def measured(cls, paper: str, figure: str, statement: str, values: ArrayLike, op: Literal[">", "<", ">=", "<="],
                 threshold: float, *, quantity: str, experiment: str = "", numbers: dict | None = None) -> Claim:
        """A claim from per-member ``values``: mean, sd and the verdict ``mean op threshold`` computed here."""
        v = finite_array(values, "values", ndim=1).astype(float)
        if v.size == 0:
            raise ValueError("values must hold at least one member's value")
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        mean = float(v.mean())
        sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
        thr = float(threshold)
        return cls(str(paper), str(figure), str(statement), str(quantity), tuple(float(x) for x in v), mean, sd,
                   op, thr, bool(_OPS[op](mean, thr)), str(experiment), _plain(numbers or {}))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["values"] = list(self.values)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "Claim":
        d = dict(d)
        d["values"] = tuple(float(x) for x in d["values"])
        return cls(**d)

    @classmethod
    def from_json(cls, text: str) -> "Claim":
        return cls.from_dict(json.loads(text))

    def measured_text(self) -> str:
        """``mean ± sd (n = members) op threshold``, e.g. ``2.31 ± 0.40 (n=5) > 0.5``."""
        return f"{self.mean:.2f} ± {self.sd:.2f} (n={len(self.values)}) {self.op} {self.threshold:g}"


def _plain(o):
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, np.ndarray):
        return _plain(o.tolist())
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def claims_to_json(claims: Iterable[Claim]) -> list:
    """JSON-able list of claim dicts."""
    return [c.to_dict() for c in claims]


def claims_from_json(items: Iterable[dict]) -> list:
    """Claims from :func:`claims_to_json`'s output."""
    return [Claim.from_dict(d) for d in items]


def claims_table(claims: Iterable[Claim]) -> str:
    """Markdown table: paper, figure, claim, measured quantity, measured value, holds."""
    rows = ["| paper | figure | claim | quantity | measured (mean ± sd over members) | holds |",
            "|---|---|---|---|---|---|"]
    for c in claims:
        rows.append(f"| {c.paper} | {c.figure} | {c.statement} | {c.quantity} | {c.measured_text()} | "
                    f"{'yes' if c.holds else '**no**'} |")
    return "\n".join(rows)
