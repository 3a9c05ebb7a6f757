"""Optimizers and learning-rate schedules acting on the flat ensemble parameter array theta (E, P).

Every update is a handful of in-place array operations on the whole ensemble at once; the learning
rate enters as ``alpha`` of shape (E, 1), so a learning-rate grid over the ensemble costs nothing extra.

* :class:`SGD`: theta <- theta - alpha * g (any minibatch size: 1 = Saxe's "SGD", full batch = "BGD").
* :class:`Adam` (Kingma & Ba 2015) with the **Keras / TensorFlow defaults**: beta1 = 0.9, beta2 = 0.999,
  epsilon = 1e-7, and TF's ``ApplyAdam`` form ("epsilon hat", Kingma & Ba Sec. 2 last paragraph):
  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  alpha_t = alpha sqrt(1-b2^t)/(1-b1^t);
  theta <- theta - alpha_t m / (sqrt(v) + epsilon).
  ``epsilon_hat=False`` gives the PyTorch / Algorithm-1 form theta <- theta - alpha m_hat/(sqrt(v_hat)+epsilon).
* :class:`Adadelta` (Zeiler 2012, Algorithm 1) in the form of Keras 2 (``keras.optimizers.Adadelta``, the
  optimizer of the Keras MNIST CNN example the CNN thesis of 2019 trains): rho = 0.95, epsilon = 1e-7
  (``K.epsilon()``), and a learning rate alpha multiplying the update, whose Keras default is **1.0** (pass
  ``lr=1.0`` to :func:`sims.train`; tf.keras from TF 2 changed the default to 0.001):
  a <- rho a + (1-rho) g^2;  u = g sqrt(d + epsilon) / sqrt(a + epsilon);  theta <- theta - alpha u;
  d <- rho d + (1-rho) u^2  (d accumulates the unscaled update, as Keras does).

Optimizer state (Adam's moments) lives outside the optimizer object, in the run's state: ``init_state(be, theta)``
creates it, ``step(be, theta, grad, state, alpha, t)`` advances it (``t``: the 1-based step number),
``state_dict(be, state)`` / ``load_state_dict(be, state, arrays)`` turn it into NumPy arrays and back (checkpoints).

Schedules return a per-member multiplier (E,) of the base learning rate. Their per-run state (which members
dropped their rate) is likewise a dict held by the run, made by ``init_state(ensemble)``, so one schedule object
can serve any number of runs without sharing state:

* :class:`Constant` (default);
* :class:`StepOnAccuracy`: multiply by ``factor`` once a member's accuracy on ``split`` reaches ``threshold``
  (Kong: factor 1/20 at test accuracy >= 0.99), checked before every epoch (the first included), member by member;
  the one statement of Kong's rule, shared with the minimal models' loop (:class:`sims.gd_loop.AccuracyDrop`);
* :class:`EpochFunction`: any ``f(epoch) -> multiplier`` (scalar or (E,)), evaluated at the start of each epoch.

>>> import numpy as np
>>> s = StepOnAccuracy(threshold=0.99, factor=1/20); state = s.init_state(3)
>>> s.update(1, np.array([0.5, 0.995, 1.0]), state); s.multiplier(2, state)
array([1.  , 0.05, 0.05])
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import finite_array, positive, real_scalar

if TYPE_CHECKING:
    from sims.backend import Backend

__all__ = ["SGD", "Adam", "Adadelta", "ADAM_PRESETS", "get_optimizer", "Schedule", "Constant", "StepOnAccuracy", "EpochFunction", "get_schedule"]


class SGD:
    """Plain (minibatch) gradient descent: theta <- theta - alpha * g."""

    name = "sgd"

    def spec(self) -> dict:
        return {"name": "sgd"}

    def init_state(self, be: Backend, theta: Any) -> dict:
        return {}

    def step(self, be: Backend, theta: Any, grad: Any, state: dict, alpha: Any, t: int) -> None:
        """theta <- theta - alpha * grad (``grad`` is overwritten)."""
        be.mul_into(grad, alpha, grad)
        theta -= grad

    def state_dict(self, be: Backend, state: dict) -> dict:
        return {}

    def load_state_dict(self, be: Backend, state: dict, arrays: Mapping[str, np.ndarray]) -> None:
        pass


class Adam:
    """Adam with Keras/TF defaults (beta1=0.9, beta2=0.999, epsilon=1e-7, epsilon-hat form); see module doc."""

    name = "adam"

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-7, epsilon_hat: bool = True
                 ) -> None:
        for v, n in ((beta1, "beta1"), (beta2, "beta2")):
            if not (0.0 <= float(v) < 1.0):
                raise ValueError(f"{n} must lie in [0, 1), got {v!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.epsilon = positive(epsilon, "epsilon")
        self.epsilon_hat = bool(epsilon_hat)

    def spec(self) -> dict:
        return {"name": "adam", "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon,
                "epsilon_hat": self.epsilon_hat}

    def init_state(self, be: Backend, theta: Any) -> dict:
        return {"m": be.zeros(tuple(theta.shape)), "v": be.zeros(tuple(theta.shape)),
                "tmp": be.empty(tuple(theta.shape))}

    def step(self, be: Backend, theta: Any, grad: Any, state: dict, alpha: Any, t: int) -> None:
        """One Adam update of ``theta`` (step number ``t`` >= 1) with the moments in ``state``."""
        m, v, tmp = state["m"], state["v"], state["tmp"]
        b1, b2 = self.beta1, self.beta2
        m *= b1
        be.mul_into(grad, 1.0 - b1, tmp)
        m += tmp
        v *= b2
        be.mul_into(grad, grad, tmp)
        tmp *= 1.0 - b2
        v += tmp
        be.sqrt_into(v, tmp)
        if self.epsilon_hat:
            tmp += self.epsilon
            scale = math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        else:
            tmp *= 1.0 / math.sqrt(1.0 - b2 ** t)
            tmp += self.epsilon
            scale = 1.0 / (1.0 - b1 ** t)
        be.div_into(m, tmp, tmp)
        be.mul_into(tmp, alpha * scale, tmp)
        theta -= tmp

    def state_dict(self, be: Backend, state: dict) -> dict:
        """The moments as NumPy arrays {"m", "v"} (the work buffer is not state)."""
        return {"m": be.to_numpy(state["m"]).copy(), "v": be.to_numpy(state["v"]).copy()}

    def load_state_dict(self, be: Backend, state: dict, arrays: Mapping[str, np.ndarray]) -> None:
        """Write saved moments into ``state`` in place (views of it stay valid)."""
        for k in ("m", "v"):
            if tuple(np.shape(arrays[k])) != tuple(state[k].shape):
                raise ValueError(f"optimizer state: {k} has shape {np.shape(arrays[k])}, expected {tuple(state[k].shape)}")
            be.assign(state[k], be.asarray(arrays[k]))


class Adadelta:
    """Adadelta with the Keras 2 defaults (rho=0.95, epsilon=1e-7; learning rate 1.0 given as ``lr``); see the
    module docstring for the update."""

    name = "adadelta"

    def __init__(self, rho: float = 0.95, epsilon: float = 1e-7) -> None:
        if not (0.0 <= float(rho) < 1.0):
            raise ValueError(f"rho must lie in [0, 1), got {rho!r}")
        self.rho = float(rho)
        self.epsilon = positive(epsilon, "epsilon")

    def spec(self) -> dict:
        return {"name": "adadelta", "rho": self.rho, "epsilon": self.epsilon}

    def init_state(self, be: Backend, theta: Any) -> dict:
        shape = tuple(theta.shape)
        return {"a": be.zeros(shape), "d": be.zeros(shape), "tmp": be.empty(shape)}

    def step(self, be: Backend, theta: Any, grad: Any, state: dict, alpha: Any, t: int) -> None:
        """One Adadelta update of ``theta`` with the accumulators in ``state`` (``grad`` is overwritten)."""
        a, d, tmp = state["a"], state["d"], state["tmp"]
        rho, eps = self.rho, self.epsilon
        a *= rho
        be.mul_into(grad, grad, tmp)
        tmp *= 1.0 - rho
        a += tmp                                  # a <- rho a + (1 - rho) g^2
        be.add_into(d, eps, tmp)
        be.sqrt_into(tmp, tmp)
        be.mul_into(grad, tmp, grad)              # g sqrt(d + eps)
        be.add_into(a, eps, tmp)
        be.sqrt_into(tmp, tmp)
        be.div_into(grad, tmp, grad)              # u = g sqrt(d + eps) / sqrt(a + eps)
        d *= rho
        be.mul_into(grad, grad, tmp)
        tmp *= 1.0 - rho
        d += tmp                                  # d <- rho d + (1 - rho) u^2
        be.mul_into(grad, alpha, grad)
        theta -= grad

    def state_dict(self, be: Backend, state: dict) -> dict:
        """The accumulators as NumPy arrays {"a", "d"}."""
        return {"a": be.to_numpy(state["a"]).copy(), "d": be.to_numpy(state["d"]).copy()}

    def load_state_dict(self, be: Backend, state: dict, arrays: Mapping[str, np.ndarray]) -> None:
        """Write saved accumulators into ``state`` in place."""
        for k in ("a", "d"):
            if tuple(np.shape(arrays[k])) != tuple(state[k].shape):
                raise ValueError(f"optimizer state: {k} has shape {np.shape(arrays[k])}, expected {tuple(state[k].shape)}")
            be.assign(state[k], be.asarray(arrays[k]))


#: Named Adam presets (the arguments of :class:`Adam`; the learning rate stays ``lr`` of :func:`sims.train`):
#: ``"adam_tf1"``: TensorFlow 1's ``tf.train.AdamOptimizer`` (beta1 0.9, beta2 0.999, epsilon 1e-8, epsilon-hat
#: form; the optimizer of Shwartz-Ziv & Tishby's (2017) IDNNs code); ``"adam_keras"``: Keras / tf.keras
#: (epsilon 1e-7, epsilon-hat form; the same as ``"adam"``); ``"adam_torch"``: ``torch.optim.Adam`` (epsilon 1e-8
#: added to sqrt(v_hat), Kingma & Ba's Algorithm 1 form).
ADAM_PRESETS = {
    "adam_tf1": {"epsilon": 1e-8, "epsilon_hat": True},
    "adam_keras": {"epsilon": 1e-7, "epsilon_hat": True},
    "adam_torch": {"epsilon": 1e-8, "epsilon_hat": False},
}


def get_optimizer(optimizer: str | SGD | Adam | Adadelta) -> SGD | Adam | Adadelta:
    """``"sgd"`` / ``"adam"`` / ``"adadelta"`` (Keras defaults), a named Adam preset of :data:`ADAM_PRESETS`
    (``"adam_tf1"``, ``"adam_keras"``, ``"adam_torch"``) or an :class:`SGD` / :class:`Adam` / :class:`Adadelta`
    instance.

    >>> get_optimizer("adam_tf1").spec()
    {'name': 'adam', 'beta1': 0.9, 'beta2': 0.999, 'epsilon': 1e-08, 'epsilon_hat': True}
    """
    if isinstance(optimizer, (SGD, Adam, Adadelta)):
        return optimizer
    if optimizer == "sgd":
        return SGD()
    if optimizer == "adam":
        return Adam()
    if isinstance(optimizer, str) and optimizer in ADAM_PRESETS:
        return Adam(**ADAM_PRESETS[optimizer])
    if optimizer == "adadelta":
        return Adadelta()
    raise ValueError(f"optimizer must be 'sgd', 'adam', 'adadelta', one of {sorted(ADAM_PRESETS)} or an "
                     f"SGD/Adam/Adadelta instance, got {optimizer!r}")


class Schedule:
    """Base of the learning-rate schedules: a per-member multiplier of ``lr`` for each epoch.

    Subclasses override :meth:`multiplier` (and, if they react to accuracy or keep state, ``split``,
    :meth:`init_state`, :meth:`update`). The per-run state is the dict :meth:`init_state` returns (NumPy arrays
    and the ensemble size), held by the run, never by the schedule object.
    """

    split = None  # the accuracy split :meth:`update` needs (None: no accuracy needed)

    def spec(self) -> dict:
        return {"name": type(self).__name__.lower()}

    def init_state(self, ensemble: int) -> dict:
        """Fresh per-run state for ``ensemble`` members."""
        return {"ensemble": int(ensemble)}

    def multiplier(self, epoch: int, state: dict) -> np.ndarray:
        raise NotImplementedError

    def update(self, epoch: int, accuracy: ArrayLike, state: dict) -> None:
        """React to the members' accuracy (E,) on ``split`` after ``epoch`` (in place on ``state``)."""

    def state_arrays(self, state: dict) -> dict:
        """The state's arrays (for checkpoints)."""
        return {k: v for k, v in state.items() if isinstance(v, np.ndarray)}

    def load_state_arrays(self, state: dict, arrays: Mapping[str, np.ndarray]) -> None:
        for k in self.state_arrays(state):
            state[k] = np.asarray(arrays[k]).astype(state[k].dtype).copy()


class Constant(Schedule):
    """Constant learning rate (multiplier 1)."""

    def spec(self) -> dict:
        return {"name": "constant"}

    def multiplier(self, epoch: int, state: dict) -> np.ndarray:
        return np.ones(state["ensemble"])


class StepOnAccuracy(Schedule):
    """Kong's step-on-accuracy drop (Kong 2019, Sec. 2.4: the learning rate divided by 20 once the test accuracy
    is >= 0.99): the toolkit's one statement of the rule, used by both training paths, :func:`sims.train.train`
    (``lr_schedule=StepOnAccuracy(...)``) and the minimal models' loop :func:`sims.gd_loop.descend` (through
    :class:`sims.gd_loop.AccuracyDrop`, which supplies the model's accuracy).

    Before every epoch's updates (the first included) each member's accuracy on ``split`` is checked (noiselessly);
    from the first check at which it is >= ``threshold`` on, the member trains with the rate ``lr0 * factor``
    (:meth:`rate`), for good: the drop happens once (the rate is ``lr0 * factor``, not multiplied again at later
    checks), member by member. ``threshold`` in [0, 1] (0: drop from the start); ``factor`` > 0 (Kong: 1/20).
    """

    def __init__(self, threshold: float = 0.99, factor: float = 1.0 / 20.0, split: Literal["train", "test"] = "test"
                 ) -> None:
        self.threshold = real_scalar(threshold, "threshold")
        if not (0.0 <= self.threshold <= 1.0):
            raise ValueError(f"threshold must lie in [0, 1] (an accuracy), got {threshold!r}")
        self.factor = positive(real_scalar(factor, "factor"), "factor")
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.split = split

    def spec(self) -> dict:
        return {"name": "step_on_accuracy", "threshold": self.threshold, "factor": self.factor, "split": self.split}

    def init_state(self, ensemble: int) -> dict:
        return {"ensemble": int(ensemble), "dropped": np.zeros(ensemble, dtype=bool)}

    def multiplier(self, epoch: int, state: dict) -> np.ndarray:
        return np.where(state["dropped"], self.factor, 1.0)

    def update(self, epoch: int, accuracy: ArrayLike, state: dict) -> None:
        """Record the check before the updates of epoch ``epoch + 1``: members at ``accuracy >= threshold`` drop."""
        state["dropped"] |= np.asarray(accuracy) >= self.threshold

    def rate(self, lr0: np.ndarray, state: dict) -> np.ndarray:
        """The members' learning rates (E,) now: ``lr0 * multiplier`` (``lr0`` (E,), the base rates)."""
        return lr0 * self.multiplier(0, state)


class EpochFunction(Schedule):
    """Multiplier ``f(epoch)`` (scalar or (E,)) for the updates of epoch ``epoch`` (1-based)."""

    def __init__(self, fn: Callable[[int], ArrayLike], name: str | None = None) -> None:
        if not callable(fn):
            raise ValueError("lr_schedule: expected a callable f(epoch) -> multiplier")
        self.fn, self.name = fn, name or getattr(fn, "__name__", "function")

    def spec(self) -> dict:
        return {"name": "epoch_function", "fn": self.name}

    def multiplier(self, epoch: int, state: dict) -> np.ndarray:
        m = finite_array(self.fn(epoch), "lr_schedule(epoch)")
        m = np.broadcast_to(m, (state["ensemble"],)).astype(float)
        if np.any(m <= 0):
            raise ValueError(f"lr_schedule(epoch) must be > 0, got {m} at epoch {epoch}")
        return m


def get_schedule(schedule: str | Schedule | Callable[[int], ArrayLike] | None) -> Schedule:
    """None / ``"constant"`` / a schedule object / a callable f(epoch) -> multiplier."""
    if schedule is None or schedule == "constant":
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if callable(schedule):
        return EpochFunction(schedule)
    raise ValueError(f"lr_schedule must be None, 'constant', a schedule object or a callable, got {schedule!r}")
