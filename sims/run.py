"""The result of :func:`sims.train`: logs at the logged epochs, final parameters, recorded activity.

**Axis order.** One convention for every in-memory result of the toolkit: **member first, then logged epoch, then
layer**, then whatever else the quantity has (split, samples, units, quantity). So ``run.accuracy["test"]`` is
(member, epoch), ``run.grad_stats["snr"]`` (member, epoch, layer), ``run.activity(l)`` (member, epoch, sample,
unit), :class:`sims.info_plane.InfoPlane` ``i_xt`` / ``i_ty`` (member, epoch, layer) and
:class:`sims.gradient_snr.GradientSNR` ``snr`` (member, epoch, layer). The labelled forms (``to_xarray()`` of a
:class:`Run`, ``InfoPlane`` or ``GradientSNR``; ``.to_dataframe()`` of those for a tidy table) use the dimension
names ``"member"``, ``"epoch"`` (coordinate: the actual epoch numbers), ``"layer"``, ``"split"`` and
``"quantity"``, and state units (``"nats"``) in the variables' ``attrs``.

Consumer results (``train(..., consumers=...)``) are the per-epoch outputs stacked over the logged epochs. A
consumer that declares the axes of its per-epoch output in an attribute ``dims`` (e.g.
:class:`sims.info_plane.InfoPlaneConsumer`: ``("member", "layer", "quantity")``) gets them in the convention:
(member, epoch, layer, quantity); the result of a consumer without ``dims`` (any plain function) keeps the
stacking axis first: (epoch, ...).

**Storage.** A :class:`Run` holds only small arrays in memory (losses, accuracies, gradient statistics) unless
activity or parameter histories were requested. Activity is kept either in memory (``record_activity=True``) or in
chunked ``.npz`` files in a folder (``record_activity=path``), each chunk written atomically with per-array
checksums (:func:`sims.io.save_npz`, uncompressed for speed) and read only when :meth:`Run.activity` is called.
:meth:`Run.save` writes one compressed, checksummed ``.npz`` with the configuration (including the seed actually
used) and provenance; disk-stored activity stays in its folder, recorded *relative* to the run file, so the two can
be moved or zipped together.

>>> from sims import MLP, datasets, train
>>> run = train(MLP([12, 4, 2]), datasets.tishby_12bit(seed=0), ensemble=2, epochs=3, log_epochs=2,
...             record_activity=True, progress=False, seed=0)
>>> run.accuracy["test"].shape, run.grad_stats["snr"].shape, run.activity(0).shape
((2, 2), (2, 2, 2), (2, 2, 4096, 4))
>>> ds = run.to_xarray(); ds["grad_snr"].dims
('member', 'epoch', 'layer')
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from analytic import checks
from sims.io import FormatVersionError, HEADER_KEY, load_npz, save_npz
from sims.network import network_from_spec

if TYPE_CHECKING:
    import xarray

__all__ = ["Run", "load_run", "MemoryActivity", "DiskActivity", "RUN_FORMAT", "ACTIVITY_FORMAT"]

RUN_FORMAT = 2          # format version of saved runs (kind "run"); 1: plain npz with a "meta" array
ACTIVITY_FORMAT = 1     # format version of activity chunk files (kind "activity")


class MemoryActivity:
    """Activity of every layer in memory: per layer an array (E, L, S, units), filled as epochs are logged."""

    kind = "memory"

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        self.arrays = list(arrays)

    @classmethod
    def allocate(cls, E: int, L: int, S: int, widths: Sequence[int], dtype: DTypeLike) -> MemoryActivity:
        return cls([np.full((E, L, S, w), np.nan, dtype=dtype) for w in widths])

    def write(self, i: int, acts: Sequence[np.ndarray]) -> None:
        for arr, a in zip(self.arrays, acts):
            arr[:, i] = a

    def flush(self) -> None:
        pass

    def layer(self, l: int, n_logged: int | None = None, index: int | slice | Sequence[int] | np.ndarray | None = None
              ) -> np.ndarray:
        arr = self.arrays[l] if n_logged is None else self.arrays[l][:, :n_logged]
        return arr if index is None else arr[:, index]

    def state(self, n_logged: int) -> dict[str, np.ndarray]:
        return {f"activity_{l}": a[:, :n_logged] for l, a in enumerate(self.arrays)}

    def meta(self, base: str | os.PathLike | None = None) -> dict[str, Any]:
        return {"kind": "memory"}


class DiskActivity:
    """Activity written to ``folder`` in chunks ``activity_XXXXX.npz`` (keys ``layer_0``, ...; each (E, c, S, units)).

    ``chunk_epochs`` logged epochs are buffered in memory before a chunk is written (atomically, with per-array
    checksums, by :func:`sims.io.save_npz`; kind ``"activity"``); :meth:`flush` writes a partial chunk (done
    before every checkpoint and at the end). Reading checks the checksum of every array read; a damaged or
    missing chunk raises an error naming the file.
    """

    kind = "disk"

    def __init__(self, folder: str | os.PathLike, widths: Sequence[int], E: int | None = None, S: int | None = None,
                 dtype: DTypeLike = np.float64, chunk_epochs: int | None = None,
                 chunks: Sequence[tuple[str, int, int]] | None = None) -> None:
        self.folder = Path(folder)
        self.widths = list(widths)
        self.chunks = list(chunks or [])  # [(file name, first logged index, count)]
        self.E, self.S, self.dtype = E, S, np.dtype(dtype)
        if E is not None:
            per_epoch = E * S * sum(self.widths) * self.dtype.itemsize
            self.chunk_epochs = chunk_epochs or max(1, int(64 * 2 ** 20 // max(per_epoch, 1)))
            self.buffer = [np.empty((E, self.chunk_epochs, S, w), dtype=self.dtype) for w in self.widths]
            self.n_buffered, self.first = 0, sum(c for _, _, c in self.chunks)

    def __getstate__(self):
        state = dict(self.__dict__)
        if state.get("n_buffered", 0) == 0 and "buffer" in state:
            del state["buffer"]                           # nothing unwritten: the copy only reads the chunks
            state["E"] = None
        return state

    def write(self, i: int, acts: Sequence[np.ndarray]) -> None:
        if self.n_buffered == 0:
            self.first = i
        for buf, a in zip(self.buffer, acts):
            buf[:, self.n_buffered] = a
        self.n_buffered += 1
        if self.n_buffered == self.chunk_epochs:
            self.flush()

    def flush(self) -> None:
        if self.E is None or self.n_buffered == 0:
            return
        name = f"activity_{self.first:05d}.npz"
        save_npz(self.folder / name, {f"layer_{l}": b[:, :self.n_buffered] for l, b in enumerate(self.buffer)},
                 {"first": int(self.first), "count": int(self.n_buffered), "widths": self.widths},
                 kind="activity", version=ACTIVITY_FORMAT, compress=False)
        self.chunks.append((name, self.first, self.n_buffered))
        self.n_buffered = 0

    def _read(self, name, l):
        path = self.folder / name
        if not self.folder.is_dir():
            raise FileNotFoundError(f"activity folder {os.fspath(self.folder)!r} not found (moved or deleted? "
                                    f"keep it next to the run file as it was saved)")
        arrays, _ = load_npz(path, kind="activity", version=ACTIVITY_FORMAT, names=[f"layer_{l}"])
        return arrays[f"layer_{l}"]

    def layer(self, l: int, n_logged: int | None = None, index: int | slice | Sequence[int] | np.ndarray | None = None
              ) -> np.ndarray:
        if not self.chunks:
            raise ValueError("activity: nothing recorded yet")
        total = sum(c for *_, c in self.chunks)
        want = np.arange(total) if index is None else np.arange(total)[index]
        scalar = np.ndim(want) == 0
        want = np.atleast_1d(want)
        parts, got = [], []
        for name, first, count in self.chunks:
            sel = want[(want >= first) & (want < first + count)]
            if sel.size:
                parts.append(self._read(name, l)[:, sel - first])
                got.append(sel)
        arr = np.concatenate(parts, axis=1)
        pos = {int(k): j for j, k in enumerate(np.concatenate(got))}
        arr = arr[:, [pos[int(k)] for k in want]]
        return arr[:, 0] if scalar else arr

    def state(self, n_logged: int) -> dict[str, np.ndarray]:
        return {}

    def meta(self, base: str | os.PathLike | None = None) -> dict[str, Any]:
        """JSON description; ``base``: folder the saved run file lies in (the folder is stored relative to it)."""
        absolute = self.folder.resolve()
        rel = None
        if base is not None:
            try:
                rel = os.path.relpath(absolute, Path(base).resolve())
            except ValueError:                            # another drive (Windows)
                rel = None
        return {"kind": "disk", "folder": rel if rel is not None else str(absolute), "relative": rel is not None,
                "folder_absolute": str(absolute), "widths": self.widths, "chunks": [list(c) for c in self.chunks]}


def _loss_units(config):
    loss = (config or {}).get("loss")
    return {"cross_entropy": "nats", "mse": "squared error (target units squared)"}.get(loss, "")


def _json_attr(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=lambda o: o.tolist() if hasattr(o, "tolist") else repr(o))


class Run:
    """Everything a training run logged (axis order: see the module docstring). Attributes (E members, L logged
    epochs):

    epochs (L,) int; loss / accuracy: dicts "train"/"test" -> (E, L) (accuracy NaN for regression);
    grad_stats: dict "mean_norm", "std_norm", "snr", "weight_norm" -> (E, L, n_layers) (weights only; over the
    minibatches of the logged epoch; NaN at epoch 0, where there were none); lr: (E, L) learning rate in force
    during the logged epoch; consumer_results: name -> (E, L, ...) for consumers that declare ``dims`` starting
    with "member", (L, ...) otherwise; consumer_dims: name -> the dims of the stored consumer result (None when the
    consumer declared none); config: the training arguments (JSON-able, including the seed actually used);
    provenance: where and when the run was saved (a loaded run; None otherwise).

    The constructor takes ``consumer_results`` as :func:`sims.train` stacks them, (L, per-epoch output), and
    ``consumer_dims`` as the consumers declare them (the per-epoch axes).
    """

    def __init__(self, *, net_spec: Mapping[str, Any], config: dict[str, Any], epochs: ArrayLike,
                 loss: Mapping[str, ArrayLike], accuracy: Mapping[str, ArrayLike], grad_stats: Mapping[str, ArrayLike],
                 lr: ArrayLike, theta: ArrayLike, inputs_analysis: ArrayLike, labels_analysis: ArrayLike,
                 consumer_results: Mapping[str, ArrayLike] | None = None,
                 activity: MemoryActivity | DiskActivity | None = None, params_history: np.ndarray | None = None,
                 consumer_dims: Mapping[str, Sequence[str] | None] | None = None,
                 provenance: dict[str, Any] | None = None) -> None:
        self.net = network_from_spec(net_spec)
        self.config = config
        self.epochs = np.asarray(epochs, dtype=np.int64)
        self.loss = {k: np.asarray(v) for k, v in loss.items()}
        self.accuracy = {k: np.asarray(v) for k, v in accuracy.items()}
        self.grad_stats = {k: np.asarray(v) for k, v in grad_stats.items()}
        self.lr = np.asarray(lr)
        self._theta = np.asarray(theta, dtype=np.float64)
        self.inputs_analysis = np.asarray(inputs_analysis)
        self.labels_analysis = np.asarray(labels_analysis)
        self.consumer_results, self.consumer_dims = {}, {}
        declared = dict(consumer_dims or {})
        for name, value in dict(consumer_results or {}).items():
            arr = np.asarray(value)
            dims = declared.get(name)
            dims = None if dims is None else tuple(str(d) for d in dims)
            if dims is not None and arr.ndim == len(dims) + 1 and arr.shape[0] == len(self.epochs):
                if dims and dims[0] == "member":
                    arr = np.moveaxis(arr, 0, 1)
                    dims = ("member", "epoch") + dims[1:]
                else:
                    dims = ("epoch",) + dims
            else:
                dims = None
            self.consumer_results[name] = arr
            self.consumer_dims[name] = dims
        self._activity = activity
        self._params_history = params_history
        self.provenance = provenance

    @property
    def ensemble(self) -> int:
        return self._theta.shape[0]

    @property
    def n_layers(self) -> int:
        return self.net.n_layers

    @property
    def layer_widths(self) -> tuple[int, ...]:
        return self.net.layer_widths

    @property
    def params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Final parameters ``[(W (E, in, out), b (E, out)), ...]`` (numpy float64)."""
        return self.net.views(self._theta)

    @property
    def params_history(self) -> np.ndarray | None:
        """Flat parameters at every logged epoch, (member, epoch, n_params) (a view; None unless the run was
        trained with ``record_params=True``). :meth:`MLP.views <sims.mlp.MLP.views>` of ``params_history[:, i]``
        gives the per-layer arrays; :meth:`params_at` does that for one logged index."""
        return None if self._params_history is None else self._params_history.swapaxes(0, 1)

    def params_at(self, i: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Parameters at logged index ``i`` (needs ``record_params=True``)."""
        if self._params_history is None:
            raise ValueError("params_at: parameters were not recorded (train with record_params=True)")
        i = checks.index(i, len(self.epochs), "i", "logged epochs")
        return self.net.views(self._params_history[i])

    def activity(self, layer: int, index: int | slice | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Analysis-set activity of weight layer ``layer`` (0 = first hidden, -1 = output): (E, L, S, units).

        ``index`` (int, slice, sequence of logged indices or boolean mask) reads only those logged epochs
        (an int drops the epoch axis).
        """
        if self._activity is None:
            raise ValueError("activity: not recorded (train with record_activity=True or a folder path)")
        n = self.n_layers
        layer = checks.index(layer, n, "layer", "weight layers")
        sel = None if index is None else checks.selection(index, len(self.epochs), "index", "logged epochs",
                                                          scalar=True)
        return self._activity.layer(layer, index=sel)

    # ------------------------------------------------------------------ labelled views
    def _consumer_variable(self, name, coords):
        arr, dims = self.consumer_results[name], self.consumer_dims.get(name)
        if dims is None:
            if arr.ndim >= 1 and arr.shape[0] == len(self.epochs) and len(self.epochs) > 0:
                dims = ("epoch",) + tuple(f"{name}_dim_{i}" for i in range(1, arr.ndim))
            else:
                dims = tuple(f"{name}_dim_{i}" for i in range(arr.ndim))
        fixed = []
        for d, size in zip(dims, arr.shape):
            if d in coords and np.size(coords[d] if not isinstance(coords[d], tuple) else coords[d][1]) != size:
                d = f"{name}_{d}"                        # e.g. a consumer that saw only some layers
            fixed.append(d)
        return tuple(fixed), arr

    def to_xarray(self) -> "xarray.Dataset":
        """The logs as an :class:`xarray.Dataset`.

        Dimensions ``member``, ``epoch`` (coordinate: the logged epoch numbers), ``layer`` (weight layers, with
        coordinate ``width``) and ``split`` ("train", "test"). Variables: ``loss`` and ``accuracy`` (member,
        epoch, split), ``lr`` (member, epoch), ``grad_mean_norm``, ``grad_std_norm``, ``grad_snr``,
        ``weight_norm`` (member, epoch, layer) and ``consumer_<name>`` for every consumer result (dimensions as the
        consumer declared them, else ``epoch`` and ``<name>_dim_<i>``). ``attrs``: the network and training
        configuration (JSON strings), the seed and the provenance of a loaded run. ``.to_dataframe()`` of a
        variable or of the dataset gives the tidy table.
        """
        import xarray as xr

        splits = [s for s in ("train", "test") if s in self.loss]
        coords = {"member": np.arange(self.ensemble), "epoch": self.epochs, "layer": np.arange(self.n_layers),
                  "split": splits, "width": ("layer", np.asarray(self.layer_widths))}
        data = {
            "loss": (("member", "epoch", "split"), np.stack([self.loss[s] for s in splits], -1),
                     {"long_name": f"{self.config.get('loss', '')} loss (noiseless)",
                      "units": _loss_units(self.config)}),
            "accuracy": (("member", "epoch", "split"), np.stack([self.accuracy[s] for s in splits], -1),
                         {"long_name": "accuracy", "units": "fraction"}),
            "lr": (("member", "epoch"), self.lr, {"long_name": "learning rate in force during the epoch"}),
        }
        names = {"mean_norm": ("grad_mean_norm", "norm of the mean minibatch weight gradient"),
                 "std_norm": ("grad_std_norm", "norm of the elementwise std of minibatch weight gradients"),
                 "snr": ("grad_snr", "gradient signal-to-noise ratio mean_norm / std_norm"),
                 "weight_norm": ("weight_norm", "Frobenius norm of the weights")}
        for k, v in self.grad_stats.items():
            var, long = names.get(k, (f"grad_{k}", k))
            data[var] = (("member", "epoch", "layer"), v, {"long_name": long})
        for name in self.consumer_results:
            dims, arr = self._consumer_variable(name, coords)
            data[f"consumer_{name}"] = (dims, arr, {"long_name": f"result of consumer {name!r}"})
        attrs = {"title": f"sims.train run of {self.net!r}", "net": _json_attr(self.net.spec()),
                 "config": _json_attr(self.config), "ensemble": self.ensemble,
                 "axis_order": "member, epoch, layer"}
        seed = (self.config or {}).get("seed")
        if seed is not None:
            attrs["seed"] = int(seed)
        if self.provenance:
            attrs["provenance"] = _json_attr(self.provenance)
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def __repr__(self) -> str:
        ep = self.epochs
        span = f"{int(ep[0])}..{int(ep[-1])}" if ep.size else "-"
        act = "none" if self._activity is None else self._activity.kind
        cons = f", consumers={sorted(self.consumer_results)}" if self.consumer_results else ""
        opt = (self.config or {}).get("optimizer")
        opt = opt.get("name", opt) if isinstance(opt, dict) else opt
        return (f"<Run {self.net!r}: {self.ensemble} members x {ep.size} logged epochs ({span}), "
                f"{self.n_layers} layers; optimizer={opt}, loss={(self.config or {}).get('loss')}, "
                f"seed={(self.config or {}).get('seed')}; activity={act}{cons}>")

    def _repr_html_(self) -> str:
        return self.to_xarray()._repr_html_()

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike, compress: bool = True) -> Path:
        """Write the run to ``path`` (one ``.npz``, atomically, compressed unless ``compress=False``).

        The file holds the logs, parameters, analysis set, consumer results and memory-recorded activity, plus
        the network, the full configuration, the seed actually used and provenance (:func:`sims.io.save_npz`;
        kind ``"run"``, format version :data:`RUN_FORMAT`). Disk-stored activity stays in its folder, which is
        recorded relative to ``path``'s folder (move or zip them together). Returns the path.
        """
        path = checks.file_path(path)
        arrays = {"epochs": self.epochs, "theta": self._theta, "lr": self.lr,
                  "inputs_analysis": self.inputs_analysis, "labels_analysis": self.labels_analysis}
        for k, v in self.loss.items():
            arrays[f"loss__{k}"] = v
        for k, v in self.accuracy.items():
            arrays[f"accuracy__{k}"] = v
        for k, v in self.grad_stats.items():
            arrays[f"grad__{k}"] = v
        for k, v in self.consumer_results.items():
            arrays[f"consumer__{k}"] = np.asarray(v)
        if self._params_history is not None:
            arrays["params_history"] = self._params_history
        if self._activity is not None:
            self._activity.flush()
            if self._activity.kind == "memory":
                arrays.update(self._activity.state(len(self.epochs)))
        meta = {"net": self.net.spec(), "config": self.config, "seed": (self.config or {}).get("seed"),
                "consumer_dims": {k: (None if d is None else list(d)) for k, d in self.consumer_dims.items()},
                "activity": None if self._activity is None else self._activity.meta(base=path.parent),
                "units": {"loss": _loss_units(self.config), "accuracy": "fraction"},
                "axis_order": "member, epoch, layer"}
        return save_npz(path, arrays, meta, kind="run", version=RUN_FORMAT, compress=compress)


def _check_legacy(path: Path, kind: str, version: int) -> None:
    """Files of format version 1 had no header: name their version instead of calling them corrupt."""
    try:
        with np.load(path, allow_pickle=False) as f:
            if HEADER_KEY in f.files or "meta" not in f.files:
                return
            old = json.loads(str(f["meta"])).get("format", 1)
    except Exception:                                     # unreadable: load_npz reports it
        return
    raise FormatVersionError(f"{os.fspath(path)!r} is a {kind!r} file of format version {old}, but this version "
                             f"of ibtoolkit reads format version {version} (written by an older ibtoolkit; load "
                             f"it with that version and save it again, or re-run)")


def load_run(path: str | os.PathLike) -> Run:
    """Load a run written by :meth:`Run.save`; its ``provenance`` attribute says where and when it was saved.

    Raises ``TypeError`` if ``path`` is not a path, ``ValueError`` if there is no file at ``path``,
    :class:`sims.io.FormatVersionError` for another format version and :class:`sims.io.CorruptFileError`
    (naming the file) for a damaged file. Disk-recorded activity is looked up relative to the run file first,
    then at its absolute location at saving time; if neither exists the run still loads (with a warning) and
    :meth:`Run.activity` raises ``FileNotFoundError``.
    """
    path = checks.file_path(path)
    if not path.is_file():
        raise ValueError(f"path: no saved run at {os.fspath(path)!r}")
    _check_legacy(path, "run", RUN_FORMAT)
    f, meta = load_npz(path, kind="run", version=RUN_FORMAT)

    def get(prefix):
        return {k[len(prefix):]: v for k, v in f.items() if k.startswith(prefix)}

    act_meta = meta["activity"]
    activity = None
    if act_meta is not None and act_meta["kind"] == "memory":
        n = len(meta["net"]["widths"]) - 1
        activity = MemoryActivity([f[f"activity_{l}"] for l in range(n)])
    elif act_meta is not None:
        folder = Path(act_meta["folder"])
        if act_meta.get("relative", False):
            folder = path.parent / folder
        if not folder.is_dir() and Path(act_meta.get("folder_absolute", folder)).is_dir():
            folder = Path(act_meta["folder_absolute"])
        if not folder.is_dir():
            warnings.warn(f"load_run: the activity folder of {os.fspath(path)!r} is missing (looked for "
                          f"{os.fspath(folder)!r}); run.activity() will fail", stacklevel=2)
        activity = DiskActivity(folder, act_meta["widths"], chunks=[tuple(c) for c in act_meta["chunks"]])
    dims = meta.get("consumer_dims") or {}
    consumers, consumer_dims = {}, {}
    for k, v in get("consumer__").items():             # back to the constructor's (L, per-epoch) layout
        d = dims.get(k)
        if d is not None and len(d) >= 2 and d[:2] == ["member", "epoch"]:
            v = np.moveaxis(v, 1, 0)
        consumers[k] = v
        consumer_dims[k] = None if d is None else tuple(x for x in d if x != "epoch")
    return Run(net_spec=meta["net"], config=meta["config"], epochs=f["epochs"], loss=get("loss__"),
               accuracy=get("accuracy__"), grad_stats=get("grad__"), lr=f["lr"], theta=f["theta"],
               inputs_analysis=f["inputs_analysis"], labels_analysis=f["labels_analysis"],
               consumer_results=consumers, consumer_dims=consumer_dims, activity=activity,
               params_history=f.get("params_history"), provenance=meta.get("provenance"))
