"""One vectorized gradient-descent loop for models whose gradient is written in closed form.

The minimal models (:class:`minimal_models.SingleNeuron`, :class:`~minimal_models.NoisyChain`,
:class:`~minimal_models.LinearStudentTeacher`, :func:`minimal_models.linear_student_teacher.deep_linear_gd`)
compute their own gradients; this loop does everything else once:

* an ensemble of E independent runs, ensemble axis first in every parameter array, one learning rate per member;
* minibatches supplied per epoch by the model (``batches(epoch)``; default one full-batch step per epoch);
* Kong's accumulated gradients (``accumulate=True``): Kong (2019)'s code never zeroes PyTorch's gradient buffers,
  so step k applies ``g_1 + ... + g_k``, the sum of every gradient so far;
* Kong's step-on-accuracy drop (:class:`AccuracyDrop`): before every epoch the model's accuracy is measured, and
  a member whose accuracy reaches the threshold trains on with ``lr * (1 / factor)`` from then on (Kong 2019,
  Sec. 2.4: factor 20 once the test accuracy is at least 0.99), by the rule :class:`sims.optim.StepOnAccuracy`
  that :func:`sims.train.train` uses too;
* records at the logged epochs (epoch k = after k passes; 0 = before any update), stacked (member, epoch, ...);
* divergence by the one criterion of :mod:`sims.divergence` (parameters every epoch, the loss at logged epochs),
  raised as :class:`sims.divergence.TrainingDiverged` (NumPy's overflow warnings are silenced inside the loop:
  a non-finite result always ends in that error);
* a progress bar (:mod:`sims.progress`).

The update of member e is ``theta <- theta - lr_e * g`` with ``g`` the batch gradient (or the accumulated sum):
plain (stochastic) gradient descent, no momentum.

Example
-------
Gradient descent on ``L(theta) = 1/2 theta^2`` for two members with learning rates 0.5 and 0.1:

>>> import numpy as np
>>> out = descend([np.array([1.0, 1.0])], lambda p, batch: [p[0]], epochs=np.array([0, 1, 2]), lr=[0.5, 0.1])
>>> out.records["params"][0].round(4).tolist()
[[1.0, 0.5, 0.25], [1.0, 0.9, 0.81]]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Hashable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic import checks
from sims.divergence import DivergenceMonitor
from sims.optim import StepOnAccuracy
from sims.progress import bar

__all__ = ["descend", "Descent", "AccuracyDrop", "learning_rates", "check_threshold"]


class AccuracyDrop:
    """Kong's schedule for :func:`descend`: once a member's accuracy reaches ``threshold``, its learning rate is
    ``lr0 / factor``, computed by the rule :class:`sims.optim.StepOnAccuracy` (threshold, multiplier
    ``1 / factor``), the same object :func:`sims.train.train` uses, so both paths state the rule once.

    Parameters
    ----------
    accuracy : callable ``accuracy(params) -> (E,)``, measured before every epoch (and logged).
    threshold : accuracy in [0, 1] at which the rate drops (Kong: 0.99); None: never drop (accuracy still
        measured and logged).
    factor : the drop, > 0 (Kong: 20). The drop is permanent and happens once: the rate becomes
        ``lr0 * (1 / factor)``, not ``rate / factor`` at every epoch.
    """

    def __init__(self, accuracy: Callable, threshold: float | None = 0.99, factor: float = 20.0) -> None:
        if not callable(accuracy):
            raise TypeError(f"accuracy must be callable, got {accuracy!r}")
        self.accuracy = accuracy
        self.threshold = check_threshold(threshold)
        self.factor = checks.positive_scalar(factor, "lr_drop")
        self.rule = None if self.threshold is None else StepOnAccuracy(self.threshold, 1.0 / self.factor, "test")

    def __repr__(self):
        return f"AccuracyDrop(threshold={self.threshold}, factor={self.factor})"

    def init_state(self, n_members: int) -> dict:
        """The per-run state of the rule (which members dropped), :meth:`sims.optim.StepOnAccuracy.init_state`."""
        return {} if self.rule is None else self.rule.init_state(n_members)

    def rate(self, accuracy: ArrayLike, state: dict, lr0: np.ndarray) -> np.ndarray:
        """The learning rates (E,) after the check of ``accuracy`` (E,) (``state`` updated in place; ``lr0``: the
        base rates)."""
        if self.rule is None:
            return lr0.copy()
        self.rule.update(0, accuracy, state)
        return self.rule.rate(lr0, state)


def learning_rates(lr: ArrayLike, n_members: int, name: str = "lr") -> np.ndarray:
    """``lr`` (a real scalar or one value per member) as an (E,) float array, every entry finite and > 0."""
    lr = checks.positive(lr, name)
    try:
        return np.array(np.broadcast_to(lr, (n_members,)), dtype=float)
    except ValueError:
        raise ValueError(f"{name} must be a scalar or have one value per member ({n_members}), "
                         f"got shape {np.shape(lr)}") from None


def check_threshold(threshold: float | None, name: str = "accuracy_threshold") -> float | None:
    """An accuracy threshold: None (no drop) or a real number in [0, 1] (an accuracy above 1 is never reached)."""
    if threshold is None:
        return None
    value = checks.real_scalar(threshold, name)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1] (an accuracy), got {value!r}; pass None for no drop")
    return value


@dataclass(frozen=True)
class Descent:
    """What :func:`descend` returns.

    ``epochs`` (L,) logged epochs; ``params`` the final parameters (list, ensemble axis first); ``records`` each
    key of the ``record`` callback stacked to (E, L, ...) (a list of such arrays when the callback returned a
    list); ``lr`` (E, L) the rate in force for the epoch that follows each logged point; ``accuracy`` (E, L) when an
    :class:`AccuracyDrop` was given, else None.
    """

    epochs: np.ndarray
    params: list
    records: dict
    lr: np.ndarray
    accuracy: np.ndarray | None = None
    settings: dict = field(default_factory=dict)


def _default_record(params):
    return {"params": [p.copy() for p in params]}


def _stack(values):
    first = values[0]
    if isinstance(first, list):
        return [np.stack([v[i] for v in values], axis=1) for i in range(len(first))]
    return np.stack(values, axis=1)


def descend(params: Sequence[np.ndarray], gradient: Callable, *, epochs: ArrayLike, lr: ArrayLike,
            batches: Callable | None = None, accumulate: bool = False,
            lr_drop: AccuracyDrop | None = None, record: Callable | None = None, loss: Callable | None = None,
            progress: bool = False, desc: str = "train", members: Sequence[Hashable] | None = None) -> Descent:
    """Run (stochastic) gradient descent on an ensemble and record it at the logged ``epochs``.

    Parameters
    ----------
    params : list of arrays (E, ...), ensemble axis first (copied; the originals are not modified).
    gradient : ``gradient(params, batch) -> list of arrays`` shaped like ``params``: the gradient of the loss on
        ``batch`` (the objects ``batches`` yields; None for full-batch steps).
    epochs : sorted logged epochs (``sims.train.log_schedule``); training runs to ``epochs[-1]``.
    lr : learning rate, scalar or (E,), > 0.
    batches : ``batches(epoch)`` -> iterable of batches for that epoch (it may draw random numbers: it is
        called after the epoch's logging). None: one step per epoch with ``batch=None``.
    accumulate : Kong's accumulated gradients (module docstring).
    lr_drop : an :class:`AccuracyDrop`, or None.
    record : ``record(params) -> dict`` of (E, ...) arrays (or lists of them) at the logged epochs; default
        ``{"params": copies of params}``.
    loss : ``loss(params) -> (E,)``; when given it is checked at every logged epoch against its value at epoch 0
        (criterion 3 of :mod:`sims.divergence`). Parameters are checked every epoch.
    progress : show a progress bar over epochs. ``desc``: its label.
    members : labels of the members for :class:`sims.divergence.TrainingDiverged` (default 0..E-1).

    Raises :class:`sims.divergence.TrainingDiverged` naming the epoch (the number of passes done) and the member.
    """
    params = [np.array(p, dtype=float) for p in params]
    if not params or any(p.ndim == 0 for p in params):
        raise ValueError("params must be a non-empty list of arrays with the ensemble axis first")
    n = params[0].shape[0]
    if any(p.shape[0] != n for p in params):
        raise ValueError(f"params: every array needs the same ensemble size, got {[p.shape for p in params]}")
    log = np.asarray(epochs)
    if log.ndim != 1 or log.size == 0 or log.dtype.kind not in "iu" or np.any(np.diff(log) <= 0) or log[0] < 0:
        raise ValueError("epochs must be a non-empty increasing 1-D array of integers >= 0")
    lr0 = learning_rates(lr, n)
    rate = lr0.copy()
    drop_state = lr_drop.init_state(n) if lr_drop is not None else None
    record = _default_record if record is None else record
    acc_grads = [np.zeros_like(p) for p in params] if accumulate else None
    monitor = None if loss is not None else DivergenceMonitor(params0=params, members=members)
    records, lrs, accs = [], [], []
    k = 0
    last = int(log[-1])
    # overflow inside a diverging step is reported once, as TrainingDiverged, not as a stream of RuntimeWarnings
    with bar(last + 1, desc=desc, enable=progress) as pbar, np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(last + 1):
            if epoch == 0 and loss is not None:
                monitor = DivergenceMonitor(loss0=loss(params), params0=params, members=members)
            elif epoch:
                monitor.check(epoch, params=params)
            if lr_drop is not None:
                accuracy = np.asarray(lr_drop.accuracy(params), dtype=float)
                rate = lr_drop.rate(accuracy, drop_state, lr0)
            if epoch == log[k]:
                if loss is not None and epoch:
                    monitor.check(epoch, loss=loss(params))
                records.append(record(params))
                lrs.append(rate.copy())
                if lr_drop is not None:
                    accs.append(accuracy)
                k += 1
                if k == log.size:
                    pbar.update(1)
                    break
            shaped = [rate.reshape((n,) + (1,) * (p.ndim - 1)) for p in params]
            for batch in (batches(epoch) if batches is not None else (None,)):
                grads = gradient(params, batch)
                if accumulate:
                    for a, g in zip(acc_grads, grads):
                        a += g
                    grads = acc_grads
                params = [p - r * g for p, r, g in zip(params, shaped, grads)]
            pbar.update(1)
    stacked = {key: _stack([r[key] for r in records]) for key in records[0]}
    return Descent(epochs=log, params=params, records=stacked, lr=np.stack(lrs, axis=1),
                   accuracy=np.stack(accs, axis=1) if lr_drop is not None else None,
                   settings=dict(accumulate=bool(accumulate), lr=lr0.tolist(),
                                 lr_drop=None if lr_drop is None else (lr_drop.threshold, lr_drop.factor)))
