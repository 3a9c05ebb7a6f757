"""The information plane of a training run: I(X;T) and I(T;Y) per ensemble member, logged epoch and layer.

Two ways to get one:

* ``info_plane(run, "binned", edges=...)`` on a run recorded with ``record_activity`` (reads each layer's activity
  (E, L, S, units) and calls the estimator once per layer — and per block of epochs for wide layers — batched over
  ensemble members and epochs), with a progress bar (``progress=False`` to silence it);
* streaming, without storing activity: ``ip = InfoPlaneConsumer("kde", labels=data.y_analysis, noise_var=0.1)``,
  ``run = train(..., consumers={"ip": ip})``, then ``ip.to_info_plane(run, "ip")``.

``estimator`` is a name from :data:`sims.estimators.ESTIMATORS` or any callable
``f(activity, labels, **options) -> (i_xt, i_ty)`` following the estimator conventions. Results are in nats; the
plot helper (:func:`sims.plotting.plot_info_plane`) converts to bits. ``H(X)`` is the entropy of the distinct
analysis inputs (equiprobable samples: ``ln S`` when all are distinct, 12 ln 2 for the 12-bit task), ``H(Y)`` that
of the labels: binned I(X;T) <= H(X) and I(T;Y) <= H(Y).

Axis order (the toolkit's convention, see :mod:`sims.run`): ``InfoPlane.i_xt`` and ``i_ty`` are
(member, epoch, layer); :meth:`InfoPlane.to_xarray` labels them with dimensions ``member`` (the run's member
numbers), ``epoch`` (the logged epoch numbers) and ``layer`` (weight-layer indices, 0 = first hidden).

Binning "min-max over the whole run" (``binned`` / ``quantized`` with ``n_bins`` or ``bits`` and no
``value_range``): the range is taken per layer over all logged epochs and ensemble members (Saxe et al. 2018,
Sec. 2, for ReLU); the streaming consumer cannot know it in advance and requires ``value_range``.

>>> import numpy as np
>>> from sims.info_plane import InfoPlane
>>> ip = InfoPlane("binned", {}, np.array([0, 1]), (0,), np.zeros((3, 2, 1)), np.zeros((3, 2, 1)), 1.0, 0.5)
>>> ip.mean("i_xt").shape                                   # (epochs, layers), averaged over 3 members
(2, 1)
>>> ip
<InfoPlane binned: 3 members x 2 epochs (0..1) x 1 layers (0); nats; H(X)=1, H(Y)=0.5>
>>> ip.to_xarray()["i_xt"].dims
('member', 'epoch', 'layer')
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
from scipy.stats import entropy

from analytic.checks import finite_array, index, positive_int, selection
from analytic.units import to_bits
from sims import estimators as _est
from sims.io import FormatVersionError, load_npz, save_npz
from sims.progress import bar

if TYPE_CHECKING:
    import xarray

    from sims.run import Run

__all__ = ["InfoPlane", "info_plane", "InfoPlaneConsumer", "load_info_plane", "input_entropy", "label_entropy",
           "INFO_PLANE_FORMAT"]

INFO_PLANE_FORMAT = 2   # kind "info_plane"; 1: plain npz with a "header" array and (layers, members, epochs)

logger = logging.getLogger(__name__)


def _entropy_of_rows(a):
    a = np.asarray(a)
    a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a[:, None]
    _, counts = np.unique(a, axis=0, return_counts=True)
    return float(entropy(counts))


def input_entropy(inputs: np.ndarray) -> float:
    """H(X) in nats of equiprobable samples: the entropy of the distinct rows' frequencies (``ln S`` if distinct)."""
    return _entropy_of_rows(inputs)


def label_entropy(labels: np.ndarray) -> float:
    """H(Y) in nats of the empirical label distribution (rows of a target matrix count as symbols)."""
    return _entropy_of_rows(labels)


def _label_codes(labels):
    """Integer class codes (S,) for labels (S,) or target rows (S, k)."""
    y = np.asarray(labels)
    if y.ndim == 1:
        return y
    return np.unique(y.reshape(y.shape[0], -1), axis=0, return_inverse=True)[1].reshape(-1)


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return repr(o)


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, (float, np.floating)) else str(x)


@dataclass(repr=False)
class InfoPlane:
    """Information-plane result. ``i_xt``, ``i_ty``: (E, L, n_layers) = (member, epoch, layer) in nats;
    ``layers``: weight-layer indices (0 = first hidden); ``epochs`` (L,); ``h_x``, ``h_y``: H(X), H(Y) in nats;
    ``options``: the estimator's keyword arguments (JSON-able values); ``meta``: e.g. ``{"members": [...]}``
    (the run's member numbers when only some were evaluated)."""

    estimator: str
    options: dict
    epochs: np.ndarray
    layers: tuple
    i_xt: np.ndarray
    i_ty: np.ndarray
    h_x: float
    h_y: float
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.epochs = np.asarray(self.epochs, dtype=np.int64)
        self.layers = tuple(int(l) for l in self.layers)
        self.i_xt = np.asarray(self.i_xt, dtype=float)
        self.i_ty = np.asarray(self.i_ty, dtype=float)
        want = (self.i_xt.shape[0] if self.i_xt.ndim == 3 else -1, self.epochs.size, len(self.layers))
        if self.i_xt.ndim != 3 or self.i_xt.shape != want or self.i_ty.shape != want:
            raise ValueError(f"i_xt and i_ty must have shape (member, epoch, layer) = {want}, "
                             f"got {self.i_xt.shape} and {self.i_ty.shape}")

    @property
    def ensemble(self) -> int:
        return self.i_xt.shape[0]

    @property
    def members(self) -> np.ndarray:
        """The run's member numbers of the rows of ``i_xt`` (0..E-1 unless a subset was evaluated)."""
        m = self.meta.get("members") if isinstance(self.meta, dict) else None
        return np.asarray(m if m is not None else np.arange(self.ensemble), dtype=np.int64)

    def _get(self, quantity, bits):
        if quantity not in ("i_xt", "i_ty"):
            raise ValueError(f"quantity must be 'i_xt' or 'i_ty', got {quantity!r}")
        v = getattr(self, quantity)
        return to_bits(v) if bits else v

    def mean(self, quantity: str = "i_xt", bits: bool = False) -> np.ndarray:
        """Ensemble mean, (L, n_layers) = (epoch, layer)."""
        return self._get(quantity, bits).mean(axis=0)

    def std(self, quantity: str = "i_xt", bits: bool = False) -> np.ndarray:
        """Ensemble standard deviation (ddof=1; 0 for a single member), (L, n_layers) = (epoch, layer)."""
        v = self._get(quantity, bits)
        return v.std(axis=0, ddof=1) if v.shape[0] > 1 else np.zeros(v.shape[1:])

    def to_xarray(self) -> "xarray.Dataset":
        """An :class:`xarray.Dataset` with variables ``i_xt`` and ``i_ty`` (member, epoch, layer) in nats,
        coordinates ``member`` (the run's member numbers), ``epoch`` (logged epoch numbers), ``layer``; attrs:
        the estimator, its options (JSON), H(X), H(Y) and the units. ``.to_dataframe()`` gives the tidy table
        (one row per member, epoch and layer)."""
        import xarray as xr

        dims = ("member", "epoch", "layer")
        common = {"units": "nats", "estimator": self.estimator}
        return xr.Dataset(
            {"i_xt": (dims, self.i_xt, {**common, "long_name": "I(X;T)"}),
             "i_ty": (dims, self.i_ty, {**common, "long_name": "I(T;Y)"})},
            coords={"member": self.members, "epoch": self.epochs, "layer": np.asarray(self.layers, dtype=np.int64)},
            attrs={"estimator": self.estimator, "options": json.dumps(self.options, sort_keys=True,
                                                                      default=_jsonable),
                   "h_x": float(self.h_x), "h_y": float(self.h_y), "units": "nats",
                   "meta": json.dumps(self.meta, sort_keys=True, default=_jsonable),
                   "axis_order": "member, epoch, layer"})

    def __repr__(self) -> str:
        ep = self.epochs
        span = f"{int(ep[0])}..{int(ep[-1])}" if ep.size else "-"
        layers = ",".join(map(str, self.layers))
        opts = ", ".join(f"{k}={_fmt(v)}" for k, v in self.options.items()
                         if np.ndim(v) == 0 and not isinstance(v, (dict, list, tuple)))
        return (f"<InfoPlane {self.estimator}{'(' + opts + ')' if opts else ''}: {self.ensemble} members x "
                f"{ep.size} epochs ({span}) x {len(self.layers)} layers ({layers}); nats; "
                f"H(X)={_fmt(self.h_x)}, H(Y)={_fmt(self.h_y)}>")

    def _repr_html_(self) -> str:
        return self.to_xarray()._repr_html_()

    def save(self, path: str | os.PathLike, compress: bool = True) -> Path:
        """Atomic, compressed, checksummed ``.npz`` (:func:`sims.io.save_npz`, kind ``"info_plane"``) with the
        arrays, the estimator and its options and provenance; ``load_info_plane(path)`` restores it."""
        header = {"estimator": self.estimator, "options": json.loads(json.dumps(self.options, default=_jsonable)),
                  "layers": list(self.layers), "h_x": float(self.h_x), "h_y": float(self.h_y),
                  "meta": json.loads(json.dumps(self.meta, default=_jsonable)), "units": "nats",
                  "axis_order": "member, epoch, layer"}
        return save_npz(path, {"epochs": self.epochs, "i_xt": self.i_xt, "i_ty": self.i_ty}, header,
                        kind="info_plane", version=INFO_PLANE_FORMAT, compress=compress)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "InfoPlane":
        """Read an :class:`InfoPlane` written by :meth:`save` (errors name the file; see :func:`sims.io.load_npz`)."""
        if path is None or not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be the path of a saved InfoPlane (str or os.PathLike), "
                            f"got {type(path).__name__}")
        _check_legacy(Path(path))
        a, h = load_npz(path, kind="info_plane", version=INFO_PLANE_FORMAT)
        meta = dict(h.get("meta") or {})
        meta.setdefault("provenance", h.get("provenance"))
        return cls(h["estimator"], h["options"], a["epochs"], tuple(h["layers"]), a["i_xt"], a["i_ty"],
                   h["h_x"], h["h_y"], meta)


def _check_legacy(path: Path) -> None:
    """Format 1 (a "header" array, no sims.io header): say so, naming both versions."""
    try:
        with np.load(path, allow_pickle=False) as z:
            legacy = "header" in z.files and "__header__" not in z.files
    except Exception:                                     # unreadable: load_npz reports it
        return
    if legacy:
        raise FormatVersionError(f"{os.fspath(path)!r} is an 'info_plane' file of format version 1, but this "
                                 f"version of ibtoolkit reads format version {INFO_PLANE_FORMAT} (written by an "
                                 f"older ibtoolkit; recompute or convert it)")


def load_info_plane(path: str | os.PathLike) -> InfoPlane:
    """Read an :class:`InfoPlane` written by :meth:`InfoPlane.save`."""
    return InfoPlane.load(path)


def _resolve(estimator):
    if callable(estimator):
        return getattr(estimator, "__name__", "custom"), estimator
    if estimator not in _est.ESTIMATORS:
        raise ValueError(f"estimator must be one of {sorted(_est.ESTIMATORS)} or a callable, got {estimator!r}")
    return estimator, _est.ESTIMATORS[estimator]


def _needs_global_range(name, options):
    return (name in ("binned", "quantized") and options.get("value_range") is None
            and (options.get("n_bins") is not None or name == "quantized"))


def _layer_indices(layers, n: int, name: str = "layers") -> tuple:
    """Weight-layer indices in [-n, n-1] (negative from the output end) -> tuple in [0, n-1]; never wraps."""
    if layers is None:
        return tuple(range(n))
    if isinstance(layers, (int, np.integer)) and not isinstance(layers, (bool, np.bool_)):
        layers = [layers]
    try:
        items = list(layers)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of layer indices, got {layers!r}") from None
    if not items:
        raise ValueError(f"{name}: empty; give at least one layer index in [{-n}, {n - 1}]")
    out = [index(l, n, name, "weight layers (negative: from the output)") for l in items]
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated layer in {items!r}")
    return tuple(out)


def info_plane(run: Run, estimator: str | Callable, layers: Sequence[int] | None = None,
               epoch_block: int | None = None, epoch_index: int | slice | Sequence[int] | np.ndarray | None = None,
               members: int | slice | Sequence[int] | np.ndarray | None = None, progress: bool = True,
               **options) -> InfoPlane:
    """Apply ``estimator`` to every chosen layer (default: all weight layers) and logged epoch of ``run``.

    ``layers``: weight-layer indices in [-n, n-1] (negative counted from the output layer; anything else is a
    ValueError). ``epoch_block``: read and evaluate this many logged epochs at a time (None: all at once; use a
    small value for wide layers such as MNIST's 1024 units). ``epoch_index``: logged-epoch indices to evaluate
    (default all); ``members``: ensemble members to evaluate (default all). ``progress``: show a progress bar
    (tqdm, if installed) over layers and epoch blocks. ``options`` go to the estimator (e.g. ``edges=``,
    ``n_bins=``, ``noise_var=``, ``bound=``, ``k=``). Returns an :class:`InfoPlane` (nats; (member, epoch, layer)).
    Min-max ranges (see the module docstring) are taken over the evaluated epochs and members.
    """
    name, fn = _resolve(estimator)
    if not all(hasattr(run, a) for a in ("activity", "epochs", "n_layers", "ensemble")):
        raise ValueError(f"run must be a sims.Run (from sims.train or load_run), got {type(run).__name__}")
    n = run.n_layers
    layers = _layer_indices(layers, n)
    idx_all = selection(epoch_index, len(run.epochs), "epoch_index", "logged epochs")
    mem = selection(members, run.ensemble, "members", "ensemble members")
    L = idx_all.size
    block = L if epoch_block is None else positive_int(epoch_block, "epoch_block")
    labels = _label_codes(run.labels_analysis)
    i_xt = np.empty((mem.size, L, len(layers)))
    i_ty = np.empty_like(i_xt)
    used = {}

    def read(layer, s):
        a = run.activity(layer, index=idx_all[s:s + block])
        return a if members is None else a[mem]

    n_blocks = -(-L // block)
    steps = sum(n_blocks * (2 if _needs_global_range(name, options) else 1) for _ in layers)
    logger.debug("info_plane: %s on layers %s, %d logged epochs, %d members", name, layers, L, mem.size)
    with bar(steps, desc=f"info plane ({name})", enable=progress) as pbar:
        for li, layer in enumerate(layers):
            opts = dict(options)
            if _needs_global_range(name, opts):
                lo, hi = np.inf, -np.inf
                for s in range(0, L, block):
                    a = read(layer, s)
                    lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
                    pbar.update(1)
                opts["value_range"] = (lo, hi) if hi > lo else None
                used[f"value_range_layer{layer}"] = [lo, hi]
            for s in range(0, L, block):
                a, b = fn(read(layer, s), labels, **opts)
                i_xt[:, s:s + block, li], i_ty[:, s:s + block, li] = a, b
                pbar.update(1)
    meta = {} if members is None else {"members": mem.tolist()}
    return InfoPlane(name, {**options, **used}, run.epochs[idx_all], layers, i_xt, i_ty,
                     input_entropy(run.inputs_analysis), label_entropy(labels), meta)


class InfoPlaneConsumer:
    """Streaming estimator for ``train(..., consumers={"ip": InfoPlaneConsumer(...)})``.

    At each logged epoch it receives the analysis-set activities (list over weight layers of (E, S, units)) and
    returns an array (E, n_layers, 2) = (member, layer, quantity): I(X;T) and I(T;Y) in nats (its ``dims``
    attribute says so, and the run stores the results as (member, epoch, layer, quantity)).
    ``to_info_plane(run, name)`` turns ``run.consumer_results[name]`` into an :class:`InfoPlane`.
    """

    dims = ("member", "layer", "quantity")

    def __init__(self, estimator: str | Callable, labels: np.ndarray, layers: Sequence[int] | None = None,
                 **options: Any) -> None:
        self.name, self.fn = _resolve(estimator)
        self.labels = _label_codes(labels)
        if layers is not None:
            _layer_indices(layers, 10 ** 9)               # types and repeats now; the range once the net is known
        self.layers = None if layers is None else tuple(int(l) for l in layers)
        if _needs_global_range(self.name, options):
            raise ValueError("value_range: streaming min-max binning needs an explicit value_range (the whole "
                             "run's range is unknown while training); or use info_plane on recorded activity")
        self.options = options

    def __call__(self, epoch: int, activities: Sequence[np.ndarray]) -> np.ndarray:
        layers = _layer_indices(self.layers, len(activities))
        out = [self.fn(np.asarray(activities[l]), self.labels, **self.options) for l in layers]
        return np.stack([np.stack([np.asarray(o[0], dtype=float) for o in out], -1),
                         np.stack([np.asarray(o[1], dtype=float) for o in out], -1)], -1)

    def __repr__(self):
        opts = ", ".join(f"{k}={_fmt(v)}" for k, v in self.options.items() if np.ndim(v) == 0)
        return f"InfoPlaneConsumer({self.name!r}{', ' + opts if opts else ''}, layers={self.layers})"

    def to_info_plane(self, run: Run, name: str) -> InfoPlane:
        """The streamed results ``run.consumer_results[name]`` (member, epoch, layer, quantity) as an InfoPlane."""
        if name not in run.consumer_results:
            raise ValueError(f"name: run has no consumer results {name!r} (it has {sorted(run.consumer_results)})")
        res = finite_array(run.consumer_results[name], f"run.consumer_results[{name!r}]", ndim=4)
        layers = _layer_indices(self.layers, run.n_layers)
        if (getattr(run, "consumer_dims", {}).get(name) is None and res.shape[0] == len(run.epochs)
                and res.shape[2:] == (len(layers), 2)):
            res = np.moveaxis(res, 0, 1)                  # stacked by a train() that did not pass the dims
        if res.shape[1:] != (len(run.epochs), len(layers), 2):
            raise ValueError(f"run.consumer_results[{name!r}]: shape {res.shape} is not (member, epoch, layer, "
                             f"quantity) = (E, {len(run.epochs)}, {len(layers)}, 2) of this consumer")
        return InfoPlane(self.name, self.options, run.epochs, layers, res[..., 0], res[..., 1],
                         input_entropy(run.inputs_analysis), label_entropy(self.labels))
