"""Divergence of a training run: one error and one criterion for every trainer of the toolkit.

Every training loop (:func:`sims.train`, the minimal models' loop :mod:`sims.gd_loop`) checks its ensemble with
:func:`check_divergence` (or a :class:`DivergenceMonitor`, which remembers the starting point) and raises
:class:`TrainingDiverged`, naming the epoch, the first diverging member and the reason.

The criterion
-------------
Member ``e`` has diverged at an epoch when any of these holds:

1. its loss or any of its parameters is NaN or infinite;
2. a parameter is larger in magnitude than ``param_limit * max(1, max|theta0_e|)`` (default ``param_limit``
   = 1e6), ``theta0_e`` the member's parameters at the start of training (1 when they are not given);
3. its loss exceeds ``loss_factor * |L0_e| + loss_margin`` (defaults 100 and 10), ``L0_e`` its loss at the
   start of training.

Why these bounds stop blow-ups but not honest runs:

* (2) A weight a million times its initial scale (and at least 1e6) multiplies its inputs into pre-activations
  of ~1e6: a tanh or sigmoid unit then returns exactly +-1 (float64 ``tanh`` is exactly 1 above ~19.1), so its
  derivative is exactly 0 and no gradient step can bring it back; a ReLU or linear unit's squared error grows
  like 1e12. Trained parameters of the networks studied here stay far below (measured: Goldfeld's neuron after
  gradient flow to epoch 1e8, max |w|, |b| = 6.3; trained as Kong's code for 2000 epochs, 102; Kong's four
  chains, 5 seeds, <= 19; 12-10-7-5-4-3-2 networks on the 12-bit task after 3000 epochs of Adam or SGD, tanh or
  ReLU, <= 6.1), a margin of 1e4 or more. This catches the finite
  blow-ups that never overflow: one gradient step of a huge learning rate into a saturated region, after which
  the gradient vanishes and the parameters stay finite forever.
* (3) Gradient descent with a small enough step does not increase the loss, and an honest stochastic run rises
  little above its start (measured on the 12-bit task, 4 networks each of tanh/ReLU with Adam lr 4e-4 / 4e-3 and
  SGD lr 0.5 / 0.1, 1000 epochs logged every 5: at most 1.002 times the starting loss). A training loss a
  hundred times its start (plus 10 nats or squared units, so that a start near 0 is not flagged by noise) means
  the steps overshoot (e.g. a ReLU network on the 12-bit task with SGD at lr 1e3 sits at a cross-entropy of ~274
  against ~0.69 at the start). No warm-up is needed: the bound holds from the first epoch.
* (1) speaks for itself; it is what criterion (2) and (3) usually reach only later.

Example
-------
>>> import numpy as np
>>> check_divergence(np.array([0.5, 0.6]), np.array([[1.0, 2.0], [3.0, 4.0]]), loss0=0.7, epoch=3)
>>> try:
...     check_divergence(np.array([0.5, 0.6]), np.array([[1.0, 2.0], [3.0, 2e6]]), loss0=0.7, epoch=3)
... except TrainingDiverged as err:
...     print(err.epoch, err.member)
3 1
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["TrainingDiverged", "check_divergence", "DivergenceMonitor", "parameter_bound", "PARAM_LIMIT", "LOSS_FACTOR",
           "LOSS_MARGIN"]

#: parameters beyond ``PARAM_LIMIT * max(1, max|theta0|)`` in magnitude count as diverged (module docstring)
PARAM_LIMIT = 1e6
#: a loss above ``LOSS_FACTOR * |L0| + LOSS_MARGIN`` counts as diverged (module docstring)
LOSS_FACTOR = 100.0
LOSS_MARGIN = 10.0


class TrainingDiverged(FloatingPointError):
    """Training of an ensemble member diverged (criterion: :mod:`sims.divergence`).

    Attributes
    ----------
    epoch : the epoch at which it was detected.
    member : the first diverging member (its index, or its label when the caller passed ``members``).
    reason : what was seen, e.g. "non-finite parameters" or "|parameter| = 1.5e+06 > bound 1e+06".
    members : all members that diverged at that check (``member`` is the first).
    """

    def __init__(self, epoch: int, member: Hashable, reason: str, members: Sequence[Hashable] | None = None) -> None:
        self.epoch = epoch
        self.member = member
        self.reason = reason
        self.members = tuple(members) if members is not None else (member,)
        others = "" if len(self.members) <= 1 else f" ({len(self.members)} members diverged: {list(self.members)})"
        super().__init__(f"training diverged at epoch {epoch}, ensemble member {member}: {reason}{others}; "
                         f"lower the learning rate")

    def __reduce__(self):
        return (type(self), (self.epoch, self.member, self.reason, self.members))


def _as_list(params):
    if params is None:
        return []
    if isinstance(params, (list, tuple)):
        return [np.asarray(p) for p in params]
    return [np.asarray(params)]


def _member_max_abs(params, n_members):
    """Largest |entry| per member over all arrays (NaN/inf propagate): shape (E,), or None without params."""
    arrays = _as_list(params)
    if not arrays:
        return None
    out = np.zeros(n_members)
    for a in arrays:
        if a.ndim == 0 or a.shape[0] != n_members:
            raise ValueError(f"params: every array needs the ensemble axis first with {n_members} members, "
                             f"got shape {a.shape}")
        # max and maximum propagate NaN, so a NaN entry makes the member's value NaN (caught as "not <= bound")
        out = np.maximum(out, np.abs(a.reshape(n_members, -1)).max(axis=1, initial=0.0))
    return out


def _n_members(loss, params):
    if loss is not None:
        return int(np.size(loss))
    arrays = _as_list(params)
    if not arrays or arrays[0].ndim == 0:
        raise ValueError("params: need the ensemble axis first (or a loss of shape (E,))")
    return int(arrays[0].shape[0])


def parameter_bound(params0: np.ndarray | Sequence[np.ndarray] | None, n_members: int | None = None,
                    param_limit: float = PARAM_LIMIT) -> np.ndarray:
    """Per-member parameter bound ``param_limit * max(1, max|theta0_e|)``, shape (E,) (criterion 2)."""
    if params0 is None:
        return np.full(n_members if n_members is not None else 1, float(param_limit))
    n = n_members if n_members is not None else _n_members(None, params0)
    scale = _member_max_abs(params0, n)
    if not np.all(np.isfinite(scale)):
        raise ValueError("params0 contains NaN or inf")
    return param_limit * np.maximum(1.0, scale)


def _raise(epoch, bad, reasons, members):
    idx = np.flatnonzero(bad)
    labels = list(range(bad.size)) if members is None else list(members)
    if len(labels) != bad.size:
        raise ValueError(f"members must have one label per ensemble member ({bad.size}), got {len(labels)}")
    first = int(idx[0])
    raise TrainingDiverged(epoch, labels[first], reasons(first), [labels[i] for i in idx])


def check_divergence(loss: ArrayLike | None = None, params: np.ndarray | Sequence[np.ndarray] | None = None, *,
                     loss0: ArrayLike | None = None, params0: np.ndarray | Sequence[np.ndarray] | None = None,
                     epoch: int, members: Sequence[Hashable] | None = None, param_limit: float = PARAM_LIMIT,
                     loss_factor: float = LOSS_FACTOR, loss_margin: float = LOSS_MARGIN,
                     bound: ArrayLike | None = None) -> None:
    """Raise :class:`TrainingDiverged` if any member meets the criterion of :mod:`sims.divergence`.

    Parameters
    ----------
    loss : (E,) current loss per member, or None (parameters only).
    params : (E, ...) array or a list of such arrays (ensemble axis first), or None (loss only).
    loss0 : (E,) or scalar starting loss; None skips criterion 3.
    params0 : starting parameters (same layout as ``params``); None: scale 1 in criterion 2.
    epoch : the epoch, reported in the error.
    members : labels of the E members for the error (default 0..E-1), e.g. global indices of a member group.
    param_limit, loss_factor, loss_margin : the criterion's constants (module docstring).
    bound : precomputed (E,) parameter bound (:class:`DivergenceMonitor` passes it); overrides params0.

    Vectorized over the ensemble axis: one pass over the parameters.
    """
    n = _n_members(loss, params)
    loss = None if loss is None else np.asarray(loss, dtype=float).reshape(-1)
    if bound is None:
        bound = parameter_bound(params0, n, param_limit)
    bad = np.zeros(n, dtype=bool)
    loss_bad = np.zeros(n, dtype=bool)
    limit = None
    if loss is not None:
        if loss0 is not None:
            limit = loss_factor * np.abs(np.asarray(loss0, dtype=float)) + loss_margin
            loss_bad = ~(loss <= limit)           # NaN compares False: caught here
        else:
            loss_bad = ~np.isfinite(loss)
        bad |= loss_bad
    size = _member_max_abs(params, n)
    if size is not None:
        bad |= ~(size <= bound)                   # NaN, inf and over-bound in one comparison
    if not bad.any():
        return

    def reasons(e):
        if loss is not None and not np.isfinite(loss[e]):
            return f"non-finite loss ({loss[e]})"
        if size is not None and not np.isfinite(size[e]):
            return "non-finite parameters (NaN or inf)"
        if size is not None and size[e] > np.broadcast_to(bound, (n,))[e]:
            return f"|parameter| = {size[e]:.3g} > bound {np.broadcast_to(bound, (n,))[e]:.3g}"
        return (f"loss {loss[e]:.6g} > {loss_factor:g} * |starting loss| + {loss_margin:g} "
                f"= {np.broadcast_to(limit, (n,))[e]:.6g}")

    _raise(epoch, bad, reasons, members)


class DivergenceMonitor:
    """The criterion of :mod:`sims.divergence` with the starting point remembered.

    >>> import numpy as np
    >>> mon = DivergenceMonitor(loss0=np.array([0.7, 0.7]), params0=np.zeros((2, 3)))
    >>> mon.check(1, loss=np.array([0.6, 0.5]), params=np.ones((2, 3)))
    >>> try:
    ...     mon.check(2, loss=np.array([0.6, 300.0]))
    ... except TrainingDiverged as err:
    ...     print(err)
    training diverged at epoch 2, ensemble member 1: loss 300 > 100 * |starting loss| + 10 = 80; lower the learning rate
    """

    def __init__(self, loss0: ArrayLike | None = None, params0: np.ndarray | Sequence[np.ndarray] | None = None, *,
                 members: Sequence[Hashable] | None = None, param_limit: float = PARAM_LIMIT,
                 loss_factor: float = LOSS_FACTOR, loss_margin: float = LOSS_MARGIN) -> None:
        self.loss0 = None if loss0 is None else np.asarray(loss0, dtype=float)
        if self.loss0 is not None and not np.all(np.isfinite(self.loss0)):
            raise ValueError("loss0 contains NaN or inf (the run diverged before it started)")
        self.members = members
        self.loss_factor, self.loss_margin = float(loss_factor), float(loss_margin)
        self.param_limit = float(param_limit)
        self.bound = self.param_limit if params0 is None else parameter_bound(params0, None, self.param_limit)

    def check(self, epoch: int, loss: ArrayLike | None = None, params: np.ndarray | Sequence[np.ndarray] | None = None
              ) -> None:
        """Raise :class:`TrainingDiverged` if a member diverged by ``epoch`` (see :func:`check_divergence`)."""
        check_divergence(loss, params, loss0=self.loss0, epoch=epoch, members=self.members,
                         param_limit=self.param_limit, loss_factor=self.loss_factor, loss_margin=self.loss_margin,
                         bound=self.bound)
