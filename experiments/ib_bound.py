r"""The information-bottleneck bound of the 12-bit task (Shwartz-Ziv & Tishby 2017), from its exact p(x, y).

All 4096 patterns are equiprobable and the label is a function of the pattern
(:func:`sims.datasets.tishby_12bit`), so p(x, y) = 1/4096 for y = label(x) and 0 otherwise. The bound is the IB
curve of :func:`analytic.ib_bound.ib_curve` (the iterative algorithm of Tishby, Pereira & Bialek 1999) on this
joint, computed twice: on the 4096 rows as given, and after merging rows of equal p(y|x) (the minimal sufficient
statistic, here the label itself). Because Y is a deterministic function of X, the curve has the closed form
R(r) = min(r, H(Y)) (Kolchinsky, Tracey & Van Kuyk 2019): a layer can at best keep one nat of label information
per nat of input information until it holds all H(Y) = 0.9992 bits. :func:`twelve_bit_bound` returns the curve and
the largest distance of each computation from the closed form.

>>> curve, check = twelve_bit_bound()
>>> check["max_err_merged"] < 1e-12, round(float(check["h_y"] / np.log(2)), 4)
(True, 0.9992)
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from numpy.typing import ArrayLike

from analytic.ib_bound import IBCurve, ib_curve
from sims import datasets

__all__ = ["twelve_bit_joint", "twelve_bit_bound", "closed_form"]


def twelve_bit_joint() -> np.ndarray:
    """p(x, y) (4096, 2) of the 12-bit task: every pattern 1/4096, all mass on its label."""
    d = datasets.tishby_12bit(train_fraction=0.8, seed=0)
    y = np.asarray(d.y_analysis)
    # the analysis set is train + test: every pattern exactly once
    if np.unique(np.asarray(d.x_analysis), axis=0).shape[0] != y.size:
        raise ValueError("tishby_12bit: the analysis set does not hold every pattern exactly once")
    pxy = np.zeros((y.size, 2))
    pxy[np.arange(y.size), y] = 1.0 / y.size
    return pxy


def closed_form(pxy: np.ndarray, r: ArrayLike) -> np.ndarray:
    """min(r, H(Y)) (nats) for a joint whose Y is a function of X."""
    py = pxy.sum(axis=0)
    h_y = float(-(py[py > 0] * np.log(py[py > 0])).sum())
    return np.minimum(np.asarray(r, float), h_y)


def twelve_bit_bound(beta: ArrayLike | None = None, full_check: bool = False, n_t_full: int = 4, restarts: int = 3,
                     seed: np.random.Generator | int | None = 0) -> tuple[IBCurve, dict]:
    """The 12-bit IB curve (merged rows) and a check ``{"max_err_merged", "h_y", "i_xy"}`` (nats): the largest
    |envelope - min(r, H(Y))| on a grid of r; with ``full_check`` also ``"max_err_full"``, the same for the
    iteration on all 4096 rows (``n_t_full`` representation values; about 20 s of CPU)."""
    pxy = twelve_bit_joint()
    b = np.geomspace(0.5, 50.0, 24) if beta is None else beta
    merged = ib_curve(pxy, b, restarts=restarts, seed=seed)
    r = np.linspace(0.0, np.log(4096.0), 200)
    exact = closed_form(pxy, r)
    check = {"max_err_merged": float(np.max(np.abs(merged.bound(r) - exact))),
             "h_y": float(closed_form(pxy, np.inf)), "i_xy": merged.i_xy}
    if full_check:
        full = ib_curve(pxy, b[::3], n_t=n_t_full, restarts=2, seed=seed, merge=False, n_iter=300)
        check["max_err_full"] = float(np.max(np.abs(full.bound(r) - exact)))
    return merged, check
