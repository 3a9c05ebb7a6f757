"""What a training run is: its validated inputs (:class:`TrainPlan`) and their JSON-able settings (:class:`TrainConfig`).

:func:`plan_training` turns the arguments of :func:`sims.train.train` into checked values (every bad input raises a
``ValueError`` / ``TypeError`` naming the argument, through :mod:`analytic.checks`) once, before anything is
computed. The :class:`TrainConfig` is the part that determines the numbers a run produces: the network, the data
(by SHA-256), the optimizer, learning rates and schedule, the seed, noise, mask, initial parameters and what is
recorded. It is frozen; its :attr:`~TrainConfig.fingerprint` (SHA-256 of its sorted JSON, also its ``hash``)
identifies the run, so a checkpoint is resumed only by the very same settings. ``run.config`` is
:meth:`TrainConfig.to_dict`. The number of threads, the checkpoint path and the progress bar are not part of it:
they do not change the numbers.

Example
-------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> from sims.mlp import MLP
>>> x = np.random.default_rng(0).normal(size=(8, 2)); data = SimpleNamespace(x_train=x, y_train=np.arange(8) % 2,
...     x_test=x[:2], y_test=np.array([0, 1]))
>>> plan = plan_training(MLP([2, 3, 2]), data, ensemble=2, epochs=3, seed=4)
>>> plan.config.seed, plan.config.batch_size, plan.config == plan_training(MLP([2, 3, 2]), data, ensemble=2,
...     epochs=3, seed=4).config
(4, 8, True)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic.checks import (finite_array, flag, labels_for, nonnegative, positive, positive_int, real_array,
                             real_scalar)
from analytic.checks import rng as check_rng
from sims.backend import Backend, get_backend
from sims.mlp import MLP, targets_from_labels
from sims.network import Sequential
from sims.optim import get_optimizer, get_schedule

if TYPE_CHECKING:
    from sims.optim import SGD, Adadelta, Adam, Schedule

__all__ = ["TrainConfig", "TrainPlan", "plan_training", "log_schedule", "resolve_seed", "resolve_seeds",
           "check_checkpoint_path", "array_hash"]


def log_schedule(log_epochs: int | Sequence[int] | None, epochs: int) -> np.ndarray:
    """Logged epochs: None -> ~200 log-spaced epochs, int n -> ~n log-spaced (both include 0 and ``epochs``),
    or an explicit list (sorted, unique, within [0, epochs])."""
    if log_epochs is None or isinstance(log_epochs, (int, np.integer)) and not isinstance(log_epochs, bool):
        n = 200 if log_epochs is None else positive_int(log_epochs, "log_epochs", minimum=2)
        if n >= epochs + 1:
            return np.arange(epochs + 1)
        m = n
        while True:  # geomspace rounds to repeated small epochs: add points until n distinct remain
            e = np.unique(np.concatenate([[0], np.round(np.geomspace(1, epochs, m - 1)).astype(np.int64)]))
            if len(e) >= n or m > 20 * n:
                return e
            m += 1
    try:
        e = np.asarray(log_epochs)
    except Exception:  # pragma: no cover
        raise ValueError(f"log_epochs must be None, an int or a list of epochs, got {log_epochs!r}") from None
    if e.ndim != 1 or e.size == 0 or e.dtype.kind not in "iu":
        raise ValueError(f"log_epochs must be a non-empty list of integer epochs, got {log_epochs!r}")
    if e.min() < 0 or e.max() > epochs:
        raise ValueError(f"log_epochs must lie in [0, epochs={epochs}]")
    return np.unique(e.astype(np.int64))


def resolve_seed(seed: np.random.Generator | int | None) -> int:
    """The int seed a run uses: ``seed`` itself (int >= 0), one drawn from fresh OS entropy (None) or from a
    numpy Generator; validated by :func:`analytic.checks.rng` (TypeError / ValueError naming ``seed``)."""
    gen = check_rng(seed, "seed")
    if seed is None or isinstance(seed, np.random.Generator):
        return int(gen.integers(0, 2**63 - 1))
    return int(seed)


def resolve_seeds(seed: np.random.Generator | int | Sequence[int] | None, ensemble: int) -> int | tuple[int, ...]:
    """The seed(s) a run of ``ensemble`` members uses: an int for a scalar ``seed`` (:func:`resolve_seed`), or,
    for a sequence of G ints >= 0 where G divides E, the tuple of those G ints: seed ``g`` drives the members
    g E/G ... (g+1) E/G - 1 (its *seed group*) exactly as ``seed=seed[g]`` drives a run of E/G members
    (G = E: one generator per member). ValueError / TypeError naming ``seed`` otherwise.

    >>> resolve_seeds(3, 4), resolve_seeds([5, 6], 4)
    (3, (5, 6))
    """
    if isinstance(seed, (str, bytes)) or not hasattr(seed, "__len__") or np.ndim(seed) != 1:
        return resolve_seed(seed)      # a scalar seed (or the error of one, naming ``seed``)
    seeds = list(seed)
    for s in seeds:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"seed: a sequence of seeds must hold ints >= 0, got {s!r}")
    if not seeds or ensemble % len(seeds):
        raise ValueError(f"seed: {len(seeds)} seeds for ensemble={ensemble}; give one seed per member or a number "
                         f"of seeds dividing the ensemble (each then drives ensemble / len(seed) consecutive members)")
    return tuple(resolve_seed(int(s)) for s in seeds)


def array_hash(*arrays) -> str:
    """SHA-256 over the shapes and bytes of ``arrays`` (how the config names data, masks and given parameters)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_checkpoint_path(path: str | os.PathLike | None) -> Path | None:
    """``path`` as a Path a checkpoint can be written to, checked before training starts: not a directory, its
    folder existing (or creatable) and writable (a temporary file is created and removed there). None passes."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)) or os.fspath(path) == "":
        raise ValueError(f"checkpoint must be a non-empty file path, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"checkpoint: {os.fspath(path)!r} is a directory; give a file path such as "
                         f"{os.fspath(path / 'checkpoint.npz')!r}")
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"checkpoint: cannot write into the folder {os.fspath(folder)!r} "
                         f"({type(exc).__name__}: {exc.strerror or exc})") from None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise ValueError(f"checkpoint: {os.fspath(path)!r} exists but is not readable and writable")
    return path


@dataclass(frozen=True)
class TrainConfig:
    """The settings that determine a run's numbers (JSON-able; see the module docstring)."""

    ensemble: int
    epochs: int
    batch_size: int
    optimizer: dict
    lr: tuple
    seed: int | tuple            # an int, or one int per seed group (:func:`resolve_seeds`)
    dtype: str
    loss: str
    shuffle: bool
    log_epochs: tuple
    noise_std: float | tuple     # a float, or one float per member
    analysis_noise_std: float
    orthonormality: float
    lr_schedule: dict
    record_params: bool
    record_activity: object      # False, True or "folder"
    mask: str | None             # SHA-256 of the (E, P) mask, or None
    init_params: str | None      # SHA-256 of the given initial parameters, or None (drawn from the seed)
    data: str                    # SHA-256 of the data arrays
    net: dict                    # the network's spec() (MLP or Sequential)

    def to_dict(self) -> dict:
        """The settings as a JSON-able dict (``run.config``)."""
        d = dataclasses.asdict(self)
        d["lr"], d["log_epochs"] = list(self.lr), list(self.log_epochs)
        for k in ("seed", "noise_std"):
            if isinstance(d[k], tuple):
                d[k] = list(d[k])
        return d

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the sorted JSON of :meth:`to_dict` (what a checkpoint is matched by)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def __hash__(self):
        return int(self.fingerprint[:16], 16)


@dataclass(frozen=True, eq=False)
class TrainPlan:
    """Validated inputs of a run: the :class:`TrainConfig` and the objects and arrays it was computed from."""

    config: TrainConfig
    net: MLP
    data: dict                  # x_/y_/t_ train, test, analysis (numpy, samples first), "classification" and
    #                             "per_member" (then train/test arrays carry a leading axis over the U distinct
    #                             datasets, and "member_data" (E,) names each member's)
    backend: Backend
    optimizer: object
    schedule: object
    lr: np.ndarray              # (E,) base learning rates
    mask: np.ndarray | None     # (E, P) 0/1 multiplier or None
    init_params: np.ndarray | None   # (E, P) given initial parameters (masked) or None
    consumers: dict
    logged: np.ndarray          # logged epochs
    record_activity: object     # False, True or a folder path
    checkpoint: Path | None
    checkpoint_every: float
    threads: int
    progress: bool
    seeds: tuple = (0,)         # the seed of every seed group (one group for a scalar seed)
    seed_groups: tuple = ()     # (m0, m1) member range of every seed group
    noise: np.ndarray | None = None   # (E,) training noise std per member, or None (no training noise)

    @property
    def n_train(self) -> int:
        return self.data["x_train"].shape[-2]

    @property
    def per_member(self) -> bool:
        """True when every member has its own train/test data (``data`` a sequence of datasets)."""
        return bool(self.data.get("per_member", False))


def _image_shapes(net) -> tuple:
    """Sample shapes accepted unflattened: the network's ``input_shape`` (C, H, W), and (H, W) when C = 1."""
    shape = tuple(getattr(net, "input_shape", ()))
    return (shape, shape[1:]) if len(shape) == 3 and shape[0] == 1 else (shape,)


def _dataset(data, net: MLP, loss: str) -> dict:
    """Validated numpy arrays from a Dataset-like object (x_train, y_train, x_test, y_test[, x_analysis, ...])."""
    out = {}
    k = net.widths[-1]
    for split in ("train", "test", "analysis"):
        x = getattr(data, f"x_{split}", None)
        y = getattr(data, f"y_{split}", None)
        if split == "analysis" and x is None:
            x = np.concatenate([out["x_train"], out["x_test"]])
            y = np.concatenate([out["y_train"], out["y_test"]])
        if x is None or y is None:
            raise ValueError(f"data must have x_{split} and y_{split}")
        x = real_array(x, f"data.x_{split}", allow_bool=True, dtype=None)
        if x.ndim > 2 and tuple(x.shape[1:]) in _image_shapes(net):   # images (n, C, H, W) / (n, H, W): flatten
            x = x.reshape(x.shape[0], -1)
        x = finite_array(x, f"data.x_{split}", ndim=2)
        if x.shape[1] != net.widths[0]:
            raise ValueError(f"data.x_{split} has {x.shape[1]} features but the network's input width is {net.widths[0]}")
        y = real_array(y, f"data.y_{split}", allow_bool=True, dtype=None)
        if y.dtype.hasobject:                   # real numbers only (checked): integer labels stay integers
            y = np.asarray(y.tolist())
        if y.ndim == 1:
            y = labels_for(y, x.shape[0], f"data.y_{split}")
        elif y.ndim != 2 or y.shape[0] != x.shape[0]:
            raise ValueError(f"data.y_{split} must have shape ({x.shape[0]},) or ({x.shape[0]}, k) to match the "
                             f"samples, got {y.shape}")
        t = targets_from_labels(y, k, f"data.y_{split}")
        if loss == "cross_entropy":
            if np.any((t < 0) | (t > 1)):
                raise ValueError(f"data.y_{split}: cross-entropy targets must lie in [0, 1]")
            if net.output == "softmax" and not np.allclose(t.sum(1), 1.0):
                raise ValueError(f"data.y_{split}: softmax cross-entropy targets must sum to 1 per sample")
        out[f"x_{split}"], out[f"y_{split}"], out[f"t_{split}"] = x, y, t
    if out["x_train"].shape[0] == 0:
        raise ValueError("data.x_train is empty")
    out["classification"] = out["y_train"].ndim == 1
    return out


_MEMBER_KEYS = ("x_train", "y_train", "t_train", "x_test", "y_test", "t_test")


def _member_datasets(data, net, loss: str, E: int) -> dict:
    """Per-member data: a sequence of E Dataset-likes with equal train/test shapes and one shared analysis set,
    as :func:`_dataset`'s dict with the train/test arrays of the U DISTINCT datasets stacked along a leading axis
    (U, n, .) and ``member_data`` (E,), the dataset of every member. Members given the same object, or equal
    arrays, share one copy (a sweep packs k members per dataset: U copies, not E)."""
    if len(data) != E:
        raise ValueError(f"data: {len(data)} datasets for ensemble={E}; a list or tuple is per-member data, one "
                         "Dataset-like per member (pass a single Dataset-like to share it)")
    parts, by_id, by_hash, member_data = [], {}, {}, np.empty(E, dtype=np.int64)
    for m, d in enumerate(data):
        if id(d) in by_id:                      # the same object again: no validation, no copy
            member_data[m] = by_id[id(d)]
            continue
        try:
            p = _dataset(d, net, loss)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"data[{m}]: {exc}") from None
        h = array_hash(*(p[k] for k in _MEMBER_KEYS), p["x_analysis"], p["t_analysis"])
        u = next((i for i in by_hash.get(h, ()) if all(np.array_equal(p[k], parts[i][1][k]) for k in _MEMBER_KEYS)),
                 None)                          # equal arrays in another object share the first one's copy
        if u is None:
            u = len(parts)
            parts.append((m, p))
            by_hash.setdefault(h, []).append(u)
        by_id[id(d)] = member_data[m] = u
    m0, ref = parts[0]
    for m, p in parts[1:]:
        for k in _MEMBER_KEYS:
            if p[k].shape != ref[k].shape:
                raise ValueError(f"data[{m}].{k} has shape {p[k].shape} but data[0].{k} has {ref[k].shape}: "
                                 "per-member datasets must have equal shapes")
        if p["classification"] != ref["classification"]:
            raise ValueError(f"data[{m}]: class labels and regression targets mixed across members")
        if not (np.array_equal(p["x_analysis"], ref["x_analysis"]) and np.array_equal(p["t_analysis"],
                                                                                     ref["t_analysis"])):
            raise ValueError(f"data[{m}]: its analysis set differs from data[0]'s; per-member datasets share one "
                             "analysis set (e.g. all 4096 patterns of the 12-bit task): give every member the same "
                             "x_analysis and y_analysis")
    out = {k: np.stack([p[k] for _, p in parts]) for k in _MEMBER_KEYS}
    out.update({k: ref[k] for k in ("x_analysis", "y_analysis", "t_analysis", "classification")})
    out["per_member"], out["member_data"] = True, member_data
    return out


def _noise_stds(noise_std, E: int):
    """``noise_std`` >= 0 as a float (scalar) or a tuple of E floats (one per member)."""
    arr = nonnegative(noise_std, "noise_std")
    if np.ndim(arr) == 0:
        return arr
    if arr.ndim != 1 or arr.shape[0] != E:
        raise ValueError(f"noise_std must be a scalar or have shape (ensemble,) = ({E},), got shape {arr.shape}")
    return tuple(float(v) for v in arr)


def _learning_rates(lr, E: int) -> np.ndarray:
    """``lr`` > 0 as an (E,) float array: a real scalar or one value per member (booleans, strings, complex refused)."""
    arr = np.asarray(positive(lr, "lr"), dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != E):
        raise ValueError(f"lr must be a scalar or have shape (ensemble,) = ({E},), got shape {arr.shape}")
    return np.broadcast_to(arr, (E,)).copy()


def plan_training(net: MLP | Sequential, data: Any | Sequence[Any], ensemble: int = 1, epochs: int = 1000,
                  batch_size: int | Literal["full"] | None = 256, optimizer: str | SGD | Adam | Adadelta = "adam",
                  lr: ArrayLike = 4e-4, seed: np.random.Generator | int | Sequence[int] | None = 0,
                  backend: str | Backend = "numpy", device: str | None = None,
                  dtype: Literal["float64", "float32"] = "float64",
                  loss: Literal["cross_entropy", "mse"] = "cross_entropy", shuffle: bool = True,
                  log_epochs: int | Sequence[int] | None = None, record_activity: bool | str | os.PathLike = False,
                  record_params: bool = False, consumers: Mapping[str, Callable] | None = None,
                  noise_std: ArrayLike = 0.0, analysis_noise_std: float = 0.0, orthonormality: float = 0.0,
                  mask: Sequence[ArrayLike | None] | None = None, lr_schedule: Schedule | Callable | None = None,
                  params: Sequence[tuple[ArrayLike, ArrayLike]] | None = None,
                  checkpoint: str | os.PathLike | None = None, checkpoint_every: float = 60.0, progress: bool = True,
                  threads: int = 1) -> TrainPlan:
    """Check the arguments of :func:`sims.train.train` (same names and meaning) and return the :class:`TrainPlan`."""
    if not isinstance(net, (MLP, Sequential)):
        raise ValueError(f"net must be an MLP or a Sequential network, got {type(net).__name__}")
    net.check_loss(loss)
    E = positive_int(ensemble, "ensemble")
    epochs = positive_int(epochs, "epochs", minimum=0)
    if isinstance(data, (list, tuple)):
        D = _member_datasets(data, net, loss, E)
    else:
        D = _dataset(data, net, loss)
        D["per_member"] = False
    n_train = D["x_train"].shape[-2]
    if batch_size is None or (isinstance(batch_size, str) and batch_size == "full"):
        B = n_train
    else:
        B = min(positive_int(batch_size, "batch_size"), n_train)
    opt = get_optimizer(optimizer)
    lr_arr = _learning_rates(lr, E)
    schedule = get_schedule(lr_schedule)
    noise_std = _noise_stds(noise_std, E)
    analysis_noise_std = nonnegative(real_scalar(analysis_noise_std, "analysis_noise_std"), "analysis_noise_std")
    ortho = nonnegative(real_scalar(orthonormality, "orthonormality"), "orthonormality")
    shuffle = flag(shuffle, "shuffle")
    consumers = dict(consumers or {})
    for name, fn in consumers.items():
        if not callable(fn):
            raise ValueError(f"consumers[{name!r}] must be callable")
    logged = log_schedule(log_epochs, epochs)
    checkpoint_every = nonnegative(real_scalar(checkpoint_every, "checkpoint_every"), "checkpoint_every")
    be = get_backend(backend, dtype, device)
    threads = positive_int(threads, "threads")
    if threads > 1 and str(be.device) != "cpu":
        raise ValueError(f"threads: member-parallel threads are for CPU backends; device={device!r} takes "
                         "threads=1 (one GPU stream already runs the whole ensemble)")
    if not (record_activity is True or record_activity is False or record_activity is None
            or isinstance(record_activity, (str, Path))):
        raise ValueError(f"record_activity must be True, False or a folder path, got {record_activity!r}")
    mask_flat = net.flat_mask(mask, E)
    seed = resolve_seeds(seed, E)
    init = None
    if params is not None:
        init = net.flatten(params, E)
        if init.shape[0] != E:
            raise ValueError(f"params: ensemble axis has {init.shape[0]} members, expected {E}")
        if mask_flat is not None:
            init = init * mask_flat
    checkpoint = check_checkpoint_path(checkpoint)
    seeds = seed if isinstance(seed, tuple) else (seed,)
    config = TrainConfig(
        ensemble=E, epochs=epochs, batch_size=B, optimizer=opt.spec(), lr=tuple(lr_arr.tolist()), seed=seed,
        dtype=be.dtype_name, loss=loss, shuffle=bool(shuffle), log_epochs=tuple(logged.tolist()),
        noise_std=noise_std, analysis_noise_std=analysis_noise_std, orthonormality=ortho,
        lr_schedule=schedule.spec(), record_params=bool(record_params),
        record_activity=("folder" if isinstance(record_activity, (str, Path)) else bool(record_activity)),
        mask=None if mask_flat is None else array_hash(mask_flat),
        init_params=None if init is None else array_hash(init),
        data=array_hash(D["x_train"], D["y_train"], D["x_test"], D["y_test"], D["x_analysis"],
                        *((D["member_data"],) if D["per_member"] else ())), net=net.spec())
    return TrainPlan(config=config, net=net, data=D, backend=be, optimizer=opt, schedule=schedule, lr=lr_arr,
                     mask=mask_flat, init_params=init, consumers=consumers, logged=logged,
                     record_activity=record_activity or False, checkpoint=checkpoint,
                     checkpoint_every=checkpoint_every, threads=threads, progress=bool(progress), seeds=seeds,
                     seed_groups=tuple((g * k, (g + 1) * k) for k in [E // len(seeds)] for g in range(len(seeds))),
                     noise=np.broadcast_to(np.asarray(noise_std, float), (E,)).copy() if np.any(noise_std) else None)
