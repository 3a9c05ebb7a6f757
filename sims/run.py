"""The result of :func:`sims.train`: logs at the logged epochs, final parameters, recorded activity.

A :class:`Run` holds only small arrays in memory (losses, accuracies, gradient statistics: (E, L) or
(E, L, n_layers)) unless activity or parameter histories were requested. Activity is kept either in memory
(``record_activity=True``) or in chunked ``.npz`` files in a folder (``record_activity=path``), each chunk
written atomically and read only when :meth:`Run.activity` is called.

>>> # run = sims.train(net, data, ensemble=5, epochs=10, record_activity=True, progress=False)
>>> # run.accuracy["test"].shape == (5, len(run.epochs)); run.activity(0).shape  # (5, L, S, 10)
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from sims.io import atomic_savez
from sims.mlp import MLP

__all__ = ["Run", "load_run", "MemoryActivity", "DiskActivity"]


class MemoryActivity:
    """Activity of every layer in memory: per layer an array (E, L, S, units), filled as epochs are logged."""

    kind = "memory"

    def __init__(self, arrays):
        self.arrays = list(arrays)

    @classmethod
    def allocate(cls, E, L, S, widths, dtype):
        return cls([np.full((E, L, S, w), np.nan, dtype=dtype) for w in widths])

    def write(self, i, acts):
        for arr, a in zip(self.arrays, acts):
            arr[:, i] = a

    def flush(self):
        pass

    def layer(self, l, n_logged=None, index=None):
        arr = self.arrays[l] if n_logged is None else self.arrays[l][:, :n_logged]
        return arr if index is None else arr[:, index]

    def state(self, n_logged):
        return {f"activity_{l}": a[:, :n_logged] for l, a in enumerate(self.arrays)}

    def meta(self):
        return {"kind": "memory"}


class DiskActivity:
    """Activity written to ``folder`` in chunks ``activity_XXXXX.npz`` (keys ``layer_0``, ...; each (E, c, S, units)).

    ``chunk_epochs`` logged epochs are buffered in memory before a chunk is written (atomically);
    :meth:`flush` writes a partial chunk (done before every checkpoint and at the end).
    """

    kind = "disk"

    def __init__(self, folder, widths, E=None, S=None, dtype=np.float64, chunk_epochs=None, chunks=None):
        self.folder = Path(folder)
        self.widths = list(widths)
        self.chunks = list(chunks or [])  # [(file name, first logged index, count)]
        self.E, self.S, self.dtype = E, S, np.dtype(dtype)
        if E is not None:
            per_epoch = E * S * sum(self.widths) * self.dtype.itemsize
            self.chunk_epochs = chunk_epochs or max(1, int(64 * 2 ** 20 // max(per_epoch, 1)))
            self.buffer = [np.empty((E, self.chunk_epochs, S, w), dtype=self.dtype) for w in self.widths]
            self.n_buffered, self.first = 0, sum(c for _, _, c in self.chunks)

    def write(self, i, acts):
        if self.n_buffered == 0:
            self.first = i
        for buf, a in zip(self.buffer, acts):
            buf[:, self.n_buffered] = a
        self.n_buffered += 1
        if self.n_buffered == self.chunk_epochs:
            self.flush()

    def flush(self):
        if self.E is None or self.n_buffered == 0:
            return
        name = f"activity_{self.first:05d}.npz"
        atomic_savez(self.folder / name, **{f"layer_{l}": b[:, :self.n_buffered] for l, b in enumerate(self.buffer)})
        self.chunks.append((name, self.first, self.n_buffered))
        self.n_buffered = 0

    def layer(self, l, n_logged=None, index=None):
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
                with np.load(self.folder / name) as f:
                    parts.append(f[f"layer_{l}"][:, sel - first])
                got.append(sel)
        arr = np.concatenate(parts, axis=1)
        pos = {int(k): j for j, k in enumerate(np.concatenate(got))}
        arr = arr[:, [pos[int(k)] for k in want]]
        return arr[:, 0] if scalar else arr

    def state(self, n_logged):
        return {}

    def meta(self):
        return {"kind": "disk", "folder": str(self.folder.resolve()), "widths": self.widths,
                "chunks": [list(c) for c in self.chunks]}


class Run:
    """Everything a training run logged. Attributes (E = ensemble, L = logged epochs):

    epochs (L,) int; loss / accuracy: dicts "train"/"test" -> (E, L) (accuracy NaN for regression);
    grad_stats: dict "mean_norm", "std_norm", "snr", "weight_norm" -> (E, L, n_layers) (weights only; over the
    minibatches of the logged epoch; NaN at epoch 0, where there were none); lr: (E, L) learning rate in force
    during the logged epoch; consumer_results: name -> (L, ...); config: the training arguments (JSON-able).
    """

    def __init__(self, *, net_spec, config, epochs, loss, accuracy, grad_stats, lr, theta, inputs_analysis,
                 labels_analysis, consumer_results=None, activity=None, params_history=None):
        self.net = MLP.from_spec(net_spec)
        self.config = config
        self.epochs = np.asarray(epochs, dtype=np.int64)
        self.loss = {k: np.asarray(v) for k, v in loss.items()}
        self.accuracy = {k: np.asarray(v) for k, v in accuracy.items()}
        self.grad_stats = {k: np.asarray(v) for k, v in grad_stats.items()}
        self.lr = np.asarray(lr)
        self._theta = np.asarray(theta, dtype=np.float64)
        self.inputs_analysis = np.asarray(inputs_analysis)
        self.labels_analysis = np.asarray(labels_analysis)
        self.consumer_results = dict(consumer_results or {})
        self._activity = activity
        self._params_history = params_history

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
    def params(self):
        """Final parameters ``[(W (E, in, out), b (E, out)), ...]`` (numpy float64)."""
        return self.net.views(self._theta)

    def params_at(self, i: int):
        """Parameters at logged index ``i`` (needs ``record_params=True``)."""
        if self._params_history is None:
            raise ValueError("params_at: parameters were not recorded (train with record_params=True)")
        return self.net.views(self._params_history[i])

    def activity(self, layer: int, index=None) -> np.ndarray:
        """Analysis-set activity of weight layer ``layer`` (0 = first hidden, -1 = output): (E, L, S, units).

        ``index`` (int, slice or list of logged indices) reads only those logged epochs.
        """
        if self._activity is None:
            raise ValueError("activity: not recorded (train with record_activity=True or a folder path)")
        n = self.n_layers
        if not isinstance(layer, (int, np.integer)) or not -n <= layer < n:
            raise ValueError(f"layer must be an integer in [{-n}, {n - 1}], got {layer!r}")
        return self._activity.layer(int(layer) % n, index=index)

    def __repr__(self):
        return (f"Run({self.net!r}, ensemble={self.ensemble}, logged epochs={len(self.epochs)}, "
                f"last epoch={int(self.epochs[-1]) if len(self.epochs) else None})")

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the run to ``path`` (a single .npz, atomically). Disk-stored activity stays in its folder."""
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
        meta = {"net": self.net.spec(), "config": self.config, "format": 1,
                "activity": None if self._activity is None else self._activity.meta()}
        if self._activity is not None and self._activity.kind == "memory":
            arrays.update(self._activity.state(len(self.epochs)))
        arrays["meta"] = np.array(json.dumps(meta))
        atomic_savez(path, **arrays)
        return Path(path)


def load_run(path) -> Run:
    """Load a run written by :meth:`Run.save`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: no saved run at {os.fspath(path)!r}")
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        get = lambda prefix: {k[len(prefix):]: f[k] for k in f.files if k.startswith(prefix)}  # noqa: E731
        act_meta = meta["activity"]
        activity = None
        if act_meta is not None and act_meta["kind"] == "memory":
            n = len(meta["net"]["widths"]) - 1
            activity = MemoryActivity([f[f"activity_{l}"] for l in range(n)])
        elif act_meta is not None:
            activity = DiskActivity(act_meta["folder"], act_meta["widths"], chunks=[tuple(c) for c in act_meta["chunks"]])
        return Run(net_spec=meta["net"], config=meta["config"], epochs=f["epochs"], loss=get("loss__"),
                   accuracy=get("accuracy__"), grad_stats=get("grad__"), lr=f["lr"], theta=f["theta"],
                   inputs_analysis=f["inputs_analysis"], labels_analysis=f["labels_analysis"],
                   consumer_results=get("consumer__"), activity=activity,
                   params_history=f["params_history"] if "params_history" in f.files else None)
