"""The information plane of a training run: I(X;T) and I(T;Y) per layer, logged epoch and ensemble member.

Two ways to get one:

* ``info_plane(run, "binned", edges=...)`` on a run recorded with ``record_activity`` (reads each layer's activity
  (E, L, S, units) and calls the estimator once per layer — and per block of epochs for wide layers — batched over
  ensemble members and epochs);
* streaming, without storing activity: ``ip = InfoPlaneConsumer("kde", labels=data.y_analysis, noise_var=0.1)``,
  ``run = train(..., consumers={"ip": ip})``, then ``ip.to_info_plane(run, "ip")``.

``estimator`` is a name from :data:`sims.estimators.ESTIMATORS` or any callable
``f(activity, labels, **options) -> (i_xt, i_ty)`` following the estimator conventions. Results are in nats; the
plot helper (:func:`sims.plotting.plot_info_plane`) converts to bits. ``H(X)`` is the entropy of the distinct
analysis inputs (equiprobable samples: ``ln S`` when all are distinct, 12 ln 2 for the 12-bit task), ``H(Y)`` that
of the labels: binned I(X;T) <= H(X) and I(T;Y) <= H(Y).

Binning "min-max over the whole run" (``binned`` / ``quantized`` with ``n_bins`` or ``bits`` and no
``value_range``): the range is taken per layer over all logged epochs and ensemble members (Saxe et al.'s rule for
ReLU); the streaming consumer cannot know it in advance and requires ``value_range``.

>>> import numpy as np
>>> from sims.info_plane import InfoPlane
>>> ip = InfoPlane("binned", {}, np.array([0, 1]), (0,), np.zeros((1, 3, 2)), np.zeros((1, 3, 2)), 1.0, 0.5)
>>> ip.mean("i_xt").shape                                   # (layers, epochs), averaged over 3 members
(1, 2)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import entropy

from analytic.checks import finite_array
from analytic.units import to_bits
from sims import estimators as _est
from sims.io import atomic_savez

__all__ = ["InfoPlane", "info_plane", "InfoPlaneConsumer", "load_info_plane", "input_entropy", "label_entropy",
           "twelve_bit_info_planes"]


def _entropy_of_rows(a):
    a = np.asarray(a)
    a = a.reshape(a.shape[0], -1) if a.ndim > 1 else a[:, None]
    _, counts = np.unique(a, axis=0, return_counts=True)
    return float(entropy(counts))


def input_entropy(inputs) -> float:
    """H(X) in nats of equiprobable samples: the entropy of the distinct rows' frequencies (``ln S`` if distinct)."""
    return _entropy_of_rows(inputs)


def label_entropy(labels) -> float:
    """H(Y) in nats of the empirical label distribution (rows of a target matrix count as symbols)."""
    return _entropy_of_rows(labels)


def _label_codes(labels):
    """Integer class codes (S,) for labels (S,) or target rows (S, k)."""
    y = np.asarray(labels)
    if y.ndim == 1:
        return y
    return np.unique(y.reshape(y.shape[0], -1), axis=0, return_inverse=True)[1].reshape(-1)


@dataclass
class InfoPlane:
    """Information-plane result. ``i_xt``, ``i_ty``: (n_layers, E, L) in nats; ``layers``: weight-layer indices
    (0 = first hidden); ``epochs`` (L,); ``h_x``, ``h_y``: H(X), H(Y) in nats; ``options``: the estimator's
    keyword arguments (JSON-able values)."""

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
        want = (len(self.layers), self.i_xt.shape[1] if self.i_xt.ndim == 3 else -1, self.epochs.size)
        if self.i_xt.ndim != 3 or self.i_xt.shape != want or self.i_ty.shape != want:
            raise ValueError(f"i_xt and i_ty must have shape (layers, ensemble, epochs) = {want}, "
                             f"got {self.i_xt.shape} and {self.i_ty.shape}")

    @property
    def ensemble(self) -> int:
        return self.i_xt.shape[1]

    def _get(self, quantity, bits):
        if quantity not in ("i_xt", "i_ty"):
            raise ValueError(f"quantity must be 'i_xt' or 'i_ty', got {quantity!r}")
        v = getattr(self, quantity)
        return to_bits(v) if bits else v

    def mean(self, quantity="i_xt", bits=False) -> np.ndarray:
        """Ensemble mean, (n_layers, L)."""
        return self._get(quantity, bits).mean(axis=1)

    def std(self, quantity="i_xt", bits=False) -> np.ndarray:
        """Ensemble standard deviation (ddof=1; 0 for a single member), (n_layers, L)."""
        v = self._get(quantity, bits)
        return v.std(axis=1, ddof=1) if v.shape[1] > 1 else np.zeros(v.shape[::2])

    def save(self, path):
        """Atomic ``.npz`` with the arrays and a JSON header; ``load_info_plane(path)`` restores it."""
        header = {"estimator": self.estimator, "options": self.options, "layers": list(self.layers),
                  "h_x": self.h_x, "h_y": self.h_y, "meta": self.meta, "units": "nats"}
        return atomic_savez(path, epochs=self.epochs, i_xt=self.i_xt, i_ty=self.i_ty,
                            header=np.array(json.dumps(header, default=_jsonable)))

    @classmethod
    def load(cls, path) -> "InfoPlane":
        with np.load(path, allow_pickle=False) as z:
            h = json.loads(str(z["header"]))
            return cls(h["estimator"], h["options"], z["epochs"], tuple(h["layers"]), z["i_xt"], z["i_ty"],
                       h["h_x"], h["h_y"], h.get("meta", {}))


def load_info_plane(path) -> InfoPlane:
    """Read an :class:`InfoPlane` written by :meth:`InfoPlane.save`."""
    return InfoPlane.load(path)


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    return repr(o)


def _resolve(estimator):
    if callable(estimator):
        return getattr(estimator, "__name__", "custom"), estimator
    if estimator not in _est.ESTIMATORS:
        raise ValueError(f"estimator must be one of {sorted(_est.ESTIMATORS)} or a callable, got {estimator!r}")
    return estimator, _est.ESTIMATORS[estimator]


def _needs_global_range(name, options):
    return (name in ("binned", "quantized") and options.get("value_range") is None
            and (options.get("n_bins") is not None or name == "quantized"))


def info_plane(run, estimator, layers=None, epoch_block=None, epoch_index=None, members=None,
               **options) -> InfoPlane:
    """Apply ``estimator`` to every chosen layer (default: all weight layers) and logged epoch of ``run``.

    ``epoch_block``: read and evaluate this many logged epochs at a time (None: all at once; use a small value for
    wide layers such as MNIST's 1024 units). ``epoch_index``: logged-epoch indices to evaluate (default all);
    ``members``: ensemble members to evaluate (default all). ``options`` go to the estimator (e.g. ``edges=``,
    ``n_bins=``, ``noise_var=``, ``bound=``, ``k=``). Returns an :class:`InfoPlane` (nats).
    Min-max ranges (see the module docstring) are taken over the evaluated epochs and members.
    """
    name, fn = _resolve(estimator)
    n = run.n_layers
    layers = tuple(range(n)) if layers is None else tuple(int(l) % n for l in layers)
    idx_all = np.arange(len(run.epochs))
    idx_all = idx_all if epoch_index is None else np.atleast_1d(idx_all[epoch_index])
    mem = np.arange(run.ensemble) if members is None else np.atleast_1d(np.arange(run.ensemble)[members])
    L = idx_all.size
    block = L if epoch_block is None else max(1, int(epoch_block))
    labels = _label_codes(run.labels_analysis)
    i_xt = np.empty((len(layers), mem.size, L))
    i_ty = np.empty_like(i_xt)
    used = {}

    def read(layer, s):
        a = run.activity(layer, index=list(idx_all[s:s + block]))
        return a if members is None else a[mem]

    for li, layer in enumerate(layers):
        opts = dict(options)
        if _needs_global_range(name, opts):
            lo, hi = np.inf, -np.inf
            for s in range(0, L, block):
                a = read(layer, s)
                lo, hi = min(lo, float(a.min())), max(hi, float(a.max()))
            opts["value_range"] = (lo, hi) if hi > lo else None
            used[f"value_range_layer{layer}"] = [lo, hi]
        for s in range(0, L, block):
            a, b = fn(read(layer, s), labels, **opts)
            i_xt[li, :, s:s + block], i_ty[li, :, s:s + block] = a, b
    meta = {} if members is None else {"members": mem.tolist()}
    return InfoPlane(name, {**options, **used}, run.epochs[idx_all], layers, i_xt, i_ty,
                     input_entropy(run.inputs_analysis), label_entropy(labels), meta)


class InfoPlaneConsumer:
    """Streaming estimator for ``train(..., consumers={"ip": InfoPlaneConsumer(...)})``.

    At each logged epoch it receives the analysis-set activities (list over weight layers of (E, S, units)) and
    returns an array (2, n_layers, E): I(X;T) and I(T;Y) in nats. ``to_info_plane(run, name)`` turns the stacked
    ``run.consumer_results[name]`` (L, 2, n_layers, E) into an :class:`InfoPlane`.
    """

    def __init__(self, estimator, labels, layers=None, **options):
        self.name, self.fn = _resolve(estimator)
        self.labels = _label_codes(labels)
        self.layers = None if layers is None else tuple(int(l) for l in layers)
        if _needs_global_range(self.name, options):
            raise ValueError("value_range: streaming min-max binning needs an explicit value_range (the whole "
                             "run's range is unknown while training); or use info_plane on recorded activity")
        self.options = options

    def __call__(self, epoch, activities):
        n = len(activities)
        layers = tuple(range(n)) if self.layers is None else tuple(l % n for l in self.layers)
        out = [self.fn(np.asarray(activities[l]), self.labels, **self.options) for l in layers]
        return np.array([[o[0] for o in out], [o[1] for o in out]], dtype=float)

    def to_info_plane(self, run, name: str) -> InfoPlane:
        res = finite_array(run.consumer_results[name], f"run.consumer_results[{name!r}]", ndim=4)
        n = run.n_layers
        layers = tuple(range(n)) if self.layers is None else tuple(l % n for l in self.layers)
        i_xt = np.transpose(res[:, 0], (1, 2, 0))
        i_ty = np.transpose(res[:, 1], (1, 2, 0))
        return InfoPlane(self.name, self.options, run.epochs, layers, i_xt, i_ty,
                         input_entropy(run.inputs_analysis), label_entropy(self.labels))


def twelve_bit_info_planes(activation="tanh", epochs: int = 150, ensemble: int = 3, log_epochs=20, lr=4e-4,
                           seed: int = 0, kde_members=(0,), kde_every: int = 3, kde_noise_var: float = 0.1,
                           progress: bool = False, threads: int = 1):
    """Shwartz-Ziv & Tishby's experiment (Saxe et al. Fig. 1): 12-10-7-5-4-3-2 on the 12-bit task.

    Trains ``ensemble`` networks (Adam, ``lr``, batch 256, truncated-normal init, 80/20 split, cross-entropy)
    with the simulator and returns ``{"run", "binned", "kde"}``: the binned information plane over all members
    and logged epochs — tanh: Tishby's 30 edges on [-1, 1]; any other activation: 100 equal bins between the
    min and max of each layer's activity over the whole run (Saxe's rule) — and the KDE upper-bound plane
    (noise variance ``kde_noise_var``, Saxe: 0.1) for ``kde_members`` at every ``kde_every``-th logged epoch
    (plus the last). MI over all 4096 equiprobable patterns with their true labels. ``threads``: CPU threads
    training groups of members concurrently (see :func:`sims.train.train`).
    """
    from analytic.binning import tishby_edges
    from sims import MLP, datasets, train

    data = datasets.tishby_12bit(train_fraction=0.8, seed=seed)
    net = MLP([12, 10, 7, 5, 4, 3, 2], activation=activation)
    run = train(net, data, ensemble=ensemble, epochs=epochs, batch_size=256, optimizer="adam", lr=lr, seed=seed,
                log_epochs=log_epochs, record_activity=True, progress=progress, threads=threads)
    name = activation if isinstance(activation, str) else activation.name
    opts = {"edges": tishby_edges()} if name == "tanh" else {"n_bins": 100}
    binned_ip = info_plane(run, "binned", **opts)
    idx = sorted(set(range(0, len(run.epochs), max(1, int(kde_every)))) | {len(run.epochs) - 1})
    kde_ip = info_plane(run, "kde", epoch_index=idx, members=list(kde_members), noise_var=kde_noise_var)
    return {"run": run, "binned": binned_ip, "kde": kde_ip}
