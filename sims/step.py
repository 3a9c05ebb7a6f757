"""One training step of a group of ensemble members, the epoch loop around it, and the noiseless evaluation.

The simulator's arithmetic lives here, free of bookkeeping: :func:`step` is one minibatch update of the
members ``[m0, m1)`` of a :class:`MemberGroup` (forward, backprop, mask, gradient statistics, optimizer,
orthonormality), a function of its arguments only; :func:`train_epoch` draws the epoch's randomness (shuffles,
training noise) in the main thread, for the whole ensemble and in a fixed order, and runs the steps of every
member group on its thread (:class:`GroupRunner`); :class:`Evaluator` computes the noiseless loss and accuracy
of a split, from a pass over the analysis set where the split lies in it. The model is used only through its
public interface (``propagate``, ``backprop_into``, ``loss_per_member``, ``views``, ``orthonormality_step``),
so other layer types plug in without touching :func:`sims.train.train`.

Gradient statistics (Shwartz-Ziv & Tishby 2017, Sec. 3.4): at logged epochs each step adds the weight gradient
g_b, shifted by the epoch's first minibatch gradient k (for numerical stability), into running sums
s1 = sum (g_b - k) and s2 = sum (g_b - k)^2, so mean = k + s1/n and var = s2/n - (s1/n)^2.

>>> member_groups(5, 2)
[(0, 2), (2, 5)]
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from sims.backend import work_array

if TYPE_CHECKING:
    from sims.backend import Backend
    from sims.config import TrainPlan
    from sims.mlp import MLP
    from sims.optim import SGD, Adadelta, Adam
    from sims.state import TrainState

__all__ = ["MemberGroup", "member_groups", "GroupRunner", "Evaluator", "step", "train_epoch", "accuracy",
           "NOISE_BLOCK_FLOATS"]

NOISE_BLOCK_FLOATS = 1 << 23   # training noise is drawn ahead for blocks of steps of at most this many floats


def member_groups(ensemble: int, threads: int) -> list[tuple[int, int]]:
    """Split members 0..E-1 into min(threads, E) contiguous groups of (nearly) equal size, as (m0, m1) pairs."""
    bounds = np.linspace(0, ensemble, min(threads, ensemble) + 1).round().astype(int)
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


class MemberGroup:
    """Ensemble members ``[m0, m1)``: views of the run's parameter, gradient and optimizer arrays (rows of the
    flat (E, P) arrays), so that one thread can train these members while other threads train the rest."""

    def __init__(self, net: MLP, m0: int, m1: int, theta: Any, grad: Any, opt_state: dict[str, Any], mask: Any
                 ) -> None:
        rows = slice(m0, m1)
        self.m0, self.m1, self.rows = m0, m1, rows
        self.theta, self.grad = theta[rows], grad[rows]
        self.Ws, self.bs = zip(*net.views(self.theta))
        self.gWs, self.gbs = zip(*net.views(self.grad))
        self.opt_state = {k: v[rows] for k, v in opt_state.items()}
        self.mask = None if mask is None else mask[rows]
        self.work: dict = {}     # the step's reused arrays (sims.backend.work_array), used by this group's thread only


class GroupRunner:
    """Runs ``fn(group, *args)`` for every member group: groups 1.. on a thread pool, group 0 in this thread."""

    def __init__(self, groups: Sequence[MemberGroup]) -> None:
        self.groups = groups
        self.pool = ThreadPoolExecutor(len(groups) - 1, thread_name_prefix="ibt-train") if len(groups) > 1 else None

    def map(self, fn: Callable[..., Any], *args: Any) -> None:
        futures = [self.pool.submit(fn, g, *args) for g in self.groups[1:]] if self.pool is not None else []
        try:
            fn(self.groups[0], *args)
        finally:
            for f in futures:
                f.result()

    def call_all(self, calls: Sequence[Callable[[], Any]]) -> list:
        """Run the zero-argument callables ``calls`` spread over the threads; their results in order."""
        if self.pool is None or len(calls) < 2:
            return [c() for c in calls]
        futures = [self.pool.submit(c) for c in calls[1:]]
        first = calls[0]()
        return [first] + [f.result() for f in futures]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def accuracy(a_out: np.ndarray, y: np.ndarray, per_member: bool = False) -> np.ndarray:
    """Fraction correct per member (E,): argmax for k > 1 outputs, threshold 0.5 for one output; NaN for
    regression targets or an empty split. ``a_out``: (E, k, S); ``y``: labels (S,) shared, or (E, S) when
    ``per_member`` (targets (S, k) / (E, S, k) give NaN)."""
    if y.ndim != 1 + bool(per_member) or y.shape[-1] == 0:
        return np.full(a_out.shape[0], np.nan)
    pred = a_out.argmax(1) if a_out.shape[1] > 1 else (a_out[:, 0] > 0.5).astype(np.int64)
    return (pred == (y if per_member else y[None, :])).mean(-1)


def _rows_in(x: np.ndarray, pool: np.ndarray):
    """Indices i with pool[i] == x[j] row by row, or None when some row of ``x`` is not in ``pool``."""
    if x.shape[0] == 0:
        return None
    lookup = {}
    for i, row in enumerate(np.ascontiguousarray(pool)):
        lookup.setdefault(row.tobytes(), i)
    idx = [lookup.get(row.tobytes()) for row in np.ascontiguousarray(x)]
    return None if any(i is None for i in idx) else np.asarray(idx, dtype=np.int64)


class Evaluator:
    """The data on the backend (samples along the last axis) and the noiseless evaluation of member groups.

    Rows of train/test found in the analysis set (12-bit task: all 4096 patterns) are evaluated from ONE forward
    pass over the analysis set; splits not contained in it get their own pass.

    Per-member data (``data["per_member"]``: train/test arrays (U, n, .) of the U distinct datasets, the dataset
    ``data["member_data"][m]`` of every member m, one shared analysis set): the datasets' training sets lie side by
    side in ONE pool of U n columns (sample j of member m's dataset u is column u n + j), so that a minibatch of
    every member is one batched gather (:meth:`training_order`) and members that share a dataset share its copy;
    splits are evaluated per member (their rows in the analysis set are gathered member by member from one flat
    index).
    """

    def __init__(self, net: MLP, be: Backend, data: dict, loss: str) -> None:
        self.net, self.be, self.loss = net, be, loss
        self.per_member = bool(data.get("per_member", False))
        self.classification = bool(data["classification"])
        self.x_analysis = be.asarray(data["x_analysis"])     # samples first: the consumers' layout
        if self.per_member:
            U, n, _ = data["x_train"].shape
            self.member_data = np.asarray(data["member_data"], dtype=np.int64)     # (E,) dataset of every member
            self.n_train, self.offsets = n, self.member_data[:, None] * n
            self.x_train, self.t_train = (be.asarray(data[k].transpose(2, 0, 1).reshape(-1, U * n))
                                          for k in ("x_train", "t_train"))
            self.splits = {s: (be.asarray(np.ascontiguousarray(data[f"x_{s}"].transpose(0, 2, 1))),
                               be.asarray(np.ascontiguousarray(data[f"t_{s}"].transpose(0, 2, 1))), data[f"y_{s}"])
                           for s in ("train", "test")}
            found = {s: [_rows_in(x, data["x_analysis"]) for x in data[f"x_{s}"]] for s in ("train", "test")}
            where = {s: None if any(w is None for w in ws) else np.stack(ws) for s, ws in found.items()}
        else:
            self.offsets = None
            self.x_train, self.t_train = be.asarray(data["x_train"].T), be.asarray(data["t_train"].T)
            self.splits = {"train": (self.x_train, self.t_train, data["y_train"]),
                           "test": (be.asarray(data["x_test"].T), be.asarray(data["t_test"].T), data["y_test"])}
            where = {s: _rows_in(data[f"x_{s}"], data["x_analysis"]) for s in ("train", "test")}
        self.index_np = where
        self.index = {s: (None if w is None or self.per_member else be.asindex(w)) for s, w in where.items()}
        self.any_in_analysis = any(w is not None for w in where.values())
        self.t_rows = {s: be.asarray(data[f"t_{s}"]) for s in ("train", "test")}   # targets, samples first
        self._flat_index = {}

    def training_order(self, perm: np.ndarray | None) -> Any:
        """The columns of :attr:`x_train` each member trains on this epoch, in order, as a backend index (E, n):
        ``perm`` (E, n) (the members' permutations) or None (the data order); None for shared data in its order
        (then minibatches are slices)."""
        if self.offsets is None:
            return None if perm is None else self.be.asindex(perm)
        return self.be.asindex((np.arange(self.n_train)[None, :] if perm is None else perm) + self.offsets)

    def _member_rows(self, g: MemberGroup, split: str) -> Any:
        """Flat backend index of group ``g``'s members' ``split`` rows in its (members * S) analysis-set rows."""
        key = (g.m0, g.m1, split)
        if key not in self._flat_index:
            idx = self.index_np[split][self.member_data[g.rows]]
            S = self.x_analysis.shape[0]
            self._flat_index[key] = self.be.asindex((idx + np.arange(idx.shape[0])[:, None] * S).reshape(-1))
        return self._flat_index[key]

    def _of_members(self, a: Any, u: np.ndarray) -> Any:
        """Rows ``u`` (the datasets of a group's members) of a backend array over the U datasets: a view when they
        are consecutive (every member its own dataset), else a gathered copy."""
        if u.size and np.array_equal(u, np.arange(u[0], u[0] + u.size)):
            return a[int(u[0]):int(u[0]) + u.size]
        return a[self.be.asindex(u)]

    def split(self, g: MemberGroup, split: str, analysis_out: tuple | None = None
              ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """(loss, accuracy) of the members of group ``g`` on ``split``, each (members,), noiseless; from the
        analysis-set pass ``analysis_out`` (:meth:`analysis_output`) when the split lies in the analysis set."""
        be, net = self.be, self.net
        x, t, y = self.splits[split]
        pm = self.per_member
        n = y.shape[1] if pm else y.shape[0]
        if n == 0:
            return np.nan, np.nan
        if analysis_out is not None and self.index_np[split] is not None:
            z, a, lse, pred = analysis_out
            if pm:      # member-wise rows: one gather from the group's flattened (members * S) rows
                idx, E_g = self._member_rows(g, split), g.m1 - g.m0

                def take(v):
                    return be.take_rows(v.reshape(1, -1, *v.shape[2:]), idx).reshape(E_g, n, *v.shape[2:])

                u = self.member_data[g.rows]
                per = net.loss_per_sample(be, take(z), take(a), self._of_members(self.t_rows[split], u), self.loss,
                                          None if lse is None else take(lse))
                rows_pred = np.take_along_axis(pred, self.index_np[split][u], axis=1)
                y_cmp = y[u]
            else:
                idx = self.index[split]
                per = net.loss_per_sample(be, be.take_rows(z, idx), be.take_rows(a, idx), self.t_rows[split],
                                          self.loss, None if lse is None else be.take_rows(lse, idx))
                rows_pred, y_cmp = np.take(pred, self.index_np[split], axis=1), y[None, :]
            loss_v = be.to_numpy(be.sum(per, -1)).astype(float) / n
            if not self.classification:
                return loss_v, np.full(loss_v.shape[0], np.nan)
            return loss_v, (rows_pred == y_cmp).mean(-1)
        if pm:
            u = self.member_data[g.rows]
            x, t, y = self._of_members(x, u), self._of_members(t, u), y[u]
        zs, _, acts = net.propagate(be, g.Ws, g.bs, x)
        z_out, a_out = zs[-1], acts[-1]
        loss_v = be.to_numpy(net.loss_per_member(be, z_out, a_out, t, self.loss)).astype(float)
        return loss_v, accuracy(be.to_numpy(a_out), y, pm)

    def analysis_output(self, z: Any, a: Any) -> tuple[Any, Any, Any, np.ndarray]:
        """What the splits' loss and accuracy need from the analysis-set pass, computed once over all S samples:
        (z, a) (E, S, k), the log-sum-exp of z (E, S) for softmax cross-entropy (else None) and the predicted
        class (E, S) (NumPy)."""
        be = self.be
        lse = be.logsumexp(be.mT(z), 1) if self.loss == "cross_entropy" and self.net.output == "softmax" else None
        a_np = be.to_numpy(a)
        pred = a_np.argmax(-1) if a_np.shape[-1] > 1 else (a_np[..., 0] > 0.5).astype(np.int64)
        return z, a, lse, pred

    def logged(self, g: MemberGroup, noises: Sequence[Any] | None, acts_out: list | None,
               loss_out: dict[str, np.ndarray], acc_out: dict[str, np.ndarray]) -> None:
        """At a logged epoch: loss and accuracy of group ``g``'s members into rows of ``loss_out[split]`` /
        ``acc_out[split]`` (E,), and (if ``acts_out`` is a list) the analysis-set activity of every layer as
        (E, S, units): into its rows of ``acts_out[l]``, or, where ``acts_out[l]`` is None (one member group,
        float64), the array itself. ``noises``: analysis noise (E, S, units) per hidden layer (whole ensemble)."""
        be, rows = self.be, g.rows
        with np.errstate(all="ignore"):
            out = None
            if acts_out is not None or self.any_in_analysis:
                z, acts = self.net.forward_arrays(be, g.Ws, g.bs, self.x_analysis,
                                                  None if noises is None else [n[rows] for n in noises])
                if noises is None:                  # loss/accuracy are always noiseless
                    out = self.analysis_output(z, acts[-1])
                if acts_out is not None:
                    for l, a in enumerate(acts):
                        if acts_out[l] is None:
                            acts_out[l] = be.to_numpy(a)
                        else:
                            acts_out[l][rows] = be.to_numpy(a)
            for split in ("train", "test"):
                loss_out[split][rows], acc_out[split][rows] = self.split(g, split, out)


def step(net: MLP, be: Backend, g: MemberGroup, xb: Any, tb: Any, noises: Sequence[Any] | None, alpha: Any, t: int,
         optimizer: SGD | Adam | Adadelta, *, loss: str, orthonormality: float = 0.0, gstats: tuple | None = None,
         first: bool = False) -> None:
    """One minibatch update of the members of group ``g``, in place on its views.

    ``xb``, ``tb``: inputs (d, B) / targets (k, B), shared or per member (E_g, ., B); ``noises``: None or the
    training noise per hidden layer for these members (E_g, units, B); ``alpha``: (E_g, 1) learning rates;
    ``t``: the optimizer's step number (>= 1); ``gstats``: None or the group's rows of (shift, sum1, sum2)
    (module docstring), reset from this step's gradient when ``first``.
    """
    if getattr(net, "takes_workspace", False):      # models whose passes reuse arrays (MLP); others allocate
        zs, fs, acts = net.propagate(be, g.Ws, g.bs, xb, noises, workspace=g.work)
        net.backprop_into(be, g.Ws, zs, fs, acts, xb, tb, loss, g.gWs, g.gbs, workspace=g.work)
    else:
        zs, fs, acts = net.propagate(be, g.Ws, g.bs, xb, noises)
        net.backprop_into(be, g.Ws, zs, fs, acts, xb, tb, loss, g.gWs, g.gbs)
    if g.mask is not None:
        g.grad *= g.mask
    if gstats is not None:
        shift, sum1, sum2 = gstats
        if first:
            be.assign(shift, g.grad)
            be.assign(sum1, 0.0)
            be.assign(sum2, 0.0)
        d = g.grad - shift
        sum1 += d
        d *= d
        sum2 += d
    optimizer.step(be, g.theta, g.grad, g.opt_state, alpha, t)
    if orthonormality:
        net.orthonormality_step(be, g.Ws, orthonormality)
        if g.mask is not None:
            g.theta *= g.mask


def _group_steps(g, plan, ev, steps, t0, alpha, order, noises, gstats):
    """:func:`step` for consecutive minibatches ``steps`` (pairs: index in the epoch, first position) of group
    ``g``; ``noises``: None or, per step, the hidden-layer noise arrays of the whole ensemble."""
    be, B, rows = plan.backend, plan.config.batch_size, g.rows
    cfg = plan.config
    rows_g = None if gstats is None else [a[rows] for a in gstats]
    with np.errstate(all="ignore"):   # (thread-local: worker threads need their own)
        for j, (i, s) in enumerate(steps):
            if order is not None:
                idx = order[rows, s:s + B]
                shape = tuple(idx.shape)
                xb = be.take_columns(ev.x_train, idx, work_array(g.work, be, "xb", (ev.x_train.shape[0], *shape)))
                tb = be.take_columns(ev.t_train, idx, work_array(g.work, be, "tb", (ev.t_train.shape[0], *shape)))
            else:
                xb, tb = ev.x_train[:, s:s + B], ev.t_train[:, s:s + B]
            nz = None if noises is None else [n[rows] for n in noises[j]]
            step(plan.net, be, g, xb, tb, nz, alpha[rows], t0 + i + 1, plan.optimizer, loss=cfg.loss,
                 orthonormality=cfg.orthonormality, gstats=rows_g, first=i == 0)


def train_epoch(plan: TrainPlan, state: TrainState, runner: GroupRunner, ev: Evaluator, alpha: Any,
                gstats: tuple | None = None) -> None:
    """One epoch of updates of the whole ensemble: the epoch's shuffles and training noise are drawn from
    ``state.rngs`` here (main thread, whole ensemble, step order: independent of the number of threads; noise a
    block of steps at a time, at most :data:`NOISE_BLOCK_FLOATS` floats), the steps run on every member group.
    Each seed group (:attr:`sims.config.TrainPlan.seed_groups`) draws its members' permutations and noise from
    its own generator, in the order a run of those members alone draws them. ``alpha``: (E, 1) learning rates
    on the backend; ``gstats``: the (shift, sum1, sum2) arrays at logged epochs, else None. Advances
    ``state.steps``."""
    be, cfg = plan.backend, plan.config
    E, B, n = cfg.ensemble, cfg.batch_size, plan.n_train
    starts = list(range(0, n, B))
    perm = None
    if cfg.shuffle:
        perm = np.concatenate([r.permuted(np.broadcast_to(np.arange(n), (m1 - m0, n)), axis=1)
                               for r, (m0, m1) in zip(state.rngs, plan.seed_groups)])
    order = ev.training_order(perm)
    hidden = plan.net.layer_widths[:-1]
    noisy = plan.noise is not None and sum(hidden) > 0
    block = max(1, NOISE_BLOCK_FLOATS // (E * B * sum(hidden))) if noisy else len(starts)
    steps_all = list(enumerate(starts))
    for k in range(0, len(starts), block):
        steps = steps_all[k:k + block]
        noises = _training_noise(plan, state, [min(B, n - s) for _, s in steps], hidden) if noisy else None
        runner.map(_group_steps, plan, ev, steps, state.steps, alpha, order, noises, gstats)
    state.steps += len(starts)


def _training_noise(plan: TrainPlan, state: TrainState, sizes: Sequence[int], hidden: Sequence[int]) -> list:
    """Training noise for consecutive steps of batch sizes ``sizes``: per step, per hidden layer of width w, the
    backend array (E, w, b) = noise_std (per member) x N(0, 1). Each seed group draws ONE block of its members'
    normals, in step, layer, (member, sample, unit) order, which is the order of one draw (members, b, w) per step
    and layer (a Generator's normals are a stream: one draw of n1 + n2 values equals draws of n1 then n2); a
    group whose members all have noise_std 0 draws nothing, as it would alone."""
    be, E = plan.backend, plan.config.ensemble
    G = len(state.rngs)
    k = E // G
    flat = np.zeros((G, k * sum(sizes) * sum(hidden)))
    for g, (r, (m0, m1)) in enumerate(zip(state.rngs, plan.seed_groups)):
        if np.any(plan.noise[m0:m1]):
            r.standard_normal(out=flat[g])
    scale = plan.noise[:, None, None]
    out, off = [], 0
    for b in sizes:
        layers = []
        for w in hidden:
            layers.append(be.mT(be.asarray(scale * flat[:, off:off + k * b * w].reshape(E, b, w))))
            off += k * b * w
        out.append(layers)
    return out
