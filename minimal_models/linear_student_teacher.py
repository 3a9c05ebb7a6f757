"""Deep linear student learning a noisy linear teacher, with its exact information plane along training.

Saxe et al. (ICLR 2018) Sec. 5, Figs. 3, 4A-B and 6. The task:

* inputs x in R^{n_in}, x ~ N(0, I/n_in) (so Sigma_x = I/n_in); teacher Y = W_o x + eps with W_o entries N(0, 1)
  (sigma_w^2 = 1) and label noise eps ~ N(0, (1/snr) I); with ``n_relevant`` = k only the first k inputs carry
  teacher weight, the other n_in - k columns of W_o are zero (task-irrelevant inputs, Fig. 6);
* P = ``n_train`` training samples; the student is a linear network x -> W_D ... W_1 x with ``depth`` hidden layers
  of ``n_hidden`` units (depth = 0: one weight matrix), initial entries N(0, init_scale^2 / fan_in);
* loss L = (1/B) sum_{mu in batch} 1/2 |y_mu - yhat_mu|^2 (the simulator's "mse"); full-batch gradient descent
  (B = P, "gd"), minibatch SGD (B = ``batch_size``, reshuffled each epoch, "sgd"), or exact gradient flow
  dW/dt = -dL_P/dW ("flow": closed form through the eigenvectors of X^T X for depth 0, scipy's solve_ivp
  otherwise), vectorized over ``n_trials`` independent (teacher, data, initialisation) draws;
* training error (1/P) sum_mu |y_mu - yhat_mu|^2; test error, exact for the current weights,
  E|y - yhat|^2 = |W_o - W_tot|_F^2 / n_in + n_out/snr (Saxe et al. 2018, Sec. 5);
* information plane, exact: layer l carries T_l = Wbar_l x + N(0, noise_var_mi I) with Wbar_l = W_l ... W_1
  (analysis noise only, never used in training), I(T_l;X) and I(T_l;Y) from :mod:`analytic.gaussian_channel`;
  with ``n_relevant`` set also the relevant / irrelevant subspace information in both definitions
  (``marginal`` = I(T; X_S), other inputs as noise; ``submap`` = the sub-map alone = I(T; X_S | X_rest)).

Why a trainer of its own: every trial here draws its own teacher, data and initialisation, while
:func:`sims.train` trains an ensemble on one shared dataset. The update is the same: the test-suite checks that a
full-batch GD run equals ``sims.train`` (linear layers, output "linear", loss "mse", bias=False, optimizer "sgd")
to 1e-10 for the same weights and data.

Time: a step of learning rate eta on the mean loss of a batch of B samples applies each of those samples'
gradients with weight eta / B, so one epoch advances the gradient-flow time t/tau of the SUMMED loss used by
:mod:`analytic.advani_saxe` by eta / B (eta / P for GD). ``LinearRun.as_time`` = lr * epoch / B reports it, so
GD and SGD runs with lr_sgd = lr_gd * batch_size / n_train share one time axis.

Example
-------
>>> model = LinearStudentTeacher(n_in=20, n_hidden=20, depth=1, n_train=20, snr=1.0, init_scale=0.1, n_trials=2)
>>> run = model.train("gd", lr=1.0, epochs=50, log_epochs=[0, 50])
>>> run.test_error.shape, run.i_xt.shape
((2, 2), (2, 2, 2))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic import checks
from analytic.gaussian_channel import gaussian_channel_mi, gaussian_channel_mi_ty, subspace_mi
from analytic.linear_dynamics import linear_flow
from sims.gd_loop import descend
from sims.train import log_schedule

__all__ = ["LinearStudentTeacher", "LinearRun", "advani_saxe_simulation", "deep_linear_gd"]


@dataclass(frozen=True)
class LinearRun:
    """What :meth:`LinearStudentTeacher.train` returns. Arrays are (trials, logged epochs[, layers]); MI in nats.

    ``as_time``: the logged points in the gradient-flow time t/tau of :func:`analytic.advani_saxe_errors`
    (summed loss): lr * epoch / batch size (batch size P for "gd" and "flow").
    ``subspace``: keys ``relevant_marginal``, ``relevant_submap``, ``irrelevant_marginal``,
    ``irrelevant_submap`` -> (trials, logged, layers) arrays of I(T_l; X_subset) (only with n_relevant).
    """

    method: str
    epochs: np.ndarray
    as_time: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    subspace: dict = field(default_factory=dict)
    weights: list = field(default_factory=list)


def _products(weights):
    """Wbar_l = W_l ... W_1 for every layer l: list of (E, n_l, n_in)."""
    out = [weights[0]]
    for w in weights[1:]:
        out.append(w @ out[-1])
    return out


def _gradients(weights, x, y):
    """Gradients of (1/B) sum 1/2 |y - W_D..W_1 x|^2; x (E, B, n_in), y (E, B, n_out); weights (E, out, in)."""
    acts = [x]
    for w in weights:
        acts.append(acts[-1] @ np.swapaxes(w, -1, -2))
    delta = (acts[-1] - y) / x.shape[-2]
    grads = [None] * len(weights)
    for i in range(len(weights) - 1, -1, -1):
        grads[i] = np.swapaxes(delta, -1, -2) @ acts[i]
        if i:
            delta = delta @ weights[i]
    return grads


def _mean_loss(weights, x, y):
    """(1/P) sum_mu 1/2 |y_mu - W_D..W_1 x_mu|^2 per trial, shape (E,)."""
    r = y - x @ np.swapaxes(_products(weights)[-1], -1, -2)
    return 0.5 * np.mean(np.sum(r * r, axis=-1), axis=-1)


def deep_linear_gd(weights: Sequence[ArrayLike], sigma_x: ArrayLike, sigma_yx: ArrayLike, lr: float, steps: int,
                   log_steps: ArrayLike) -> np.ndarray:
    """Gradient descent on L = 1/2 E|y - W_D..W_1 x|^2 given the input correlation ``sigma_x`` (n_in, n_in)
    and the input-output correlation ``sigma_yx`` = E[y x^T] (n_out, n_in) (population loss, SMG 2014).

    ``weights``: list of (E, out, in) arrays (or (out, in)), updated W_l <- W_l - lr dL/dW_l with
    dL/dW_l = -(W_D..W_{l+1})^T (sigma_yx - W_tot sigma_x) (W_{l-1}..W_1)^T. Returns the total maps
    W_tot at ``log_steps`` as an array (len(log_steps), E, n_out, n_in). One step = time lr in units of tau.
    """
    ws = [np.array(w, dtype=float) for w in weights]
    lr = checks.positive(lr, "lr")
    steps = checks.positive_int(steps, "steps", minimum=0)
    log_steps = np.unique(np.asarray(log_steps, dtype=int))
    if log_steps.size == 0 or log_steps[0] < 0 or log_steps[-1] > steps:
        raise ValueError(f"log_steps must lie in [0, steps={steps}]")
    sigma_x = checks.finite_array(sigma_x, "sigma_x", ndim=2)
    sigma_yx = checks.finite_array(sigma_yx, "sigma_yx", ndim=2)
    single = all(w.ndim == 2 for w in ws)
    if single:
        ws = [w[None] for w in ws]
    run = descend(ws, lambda w, _: _population_gradients(w, sigma_x, sigma_yx), epochs=log_steps, lr=lr,
                  record=lambda w: {"w_tot": _products(w)[-1]})
    out = np.swapaxes(run.records["w_tot"], 0, 1)                 # (len(log_steps), E, n_out, n_in)
    return out[:, 0] if single else out


def _population_gradients(ws, sigma_x, sigma_yx):
    """dL/dW_l = -(W_D..W_{l+1})^T (sigma_yx - W_tot sigma_x) (W_{l-1}..W_1)^T for every layer (first first)."""
    prods = _products(ws)
    resid = sigma_yx - prods[-1] @ sigma_x            # (E, n_out, n_in)
    back = None
    grads = []
    for i in range(len(ws) - 1, -1, -1):
        left = resid if back is None else np.swapaxes(back, -1, -2) @ resid
        right = prods[i - 1] if i else None
        g = -(left @ np.swapaxes(right, -1, -2)) if right is not None else -left
        grads.append(g)
        back = ws[i] if back is None else back @ ws[i]
    return grads[::-1]


@dataclass
class LinearStudentTeacher:
    """Linear student-teacher task of Saxe et al. (2018) Sec. 5 (module docstring for every convention).

    Defaults are the paper's Fig. 3 setting: n_in = n_hidden = n_train = 100, one hidden layer, one output,
    SNR 1. ``init_scale``: initial weight entries N(0, init_scale^2 / fan_in). ``noise_var_mi``: variance of the
    analysis noise of the information plane (sigma^2_MI = 1 in Saxe et al. 2018, Sec. 5). ``n_relevant``: number of
    inputs with non-zero teacher weight (None: all); Fig. 6 uses 30 of 100.
    """

    n_in: int = 100
    n_hidden: int = 100
    depth: int = 1
    n_train: int = 100
    snr: float = 1.0
    init_scale: float = 0.1
    n_out: int = 1
    n_relevant: int | None = None
    noise_var_mi: float = 1.0
    n_trials: int = 1
    seed: int = 0

    def __post_init__(self):
        self.n_in = checks.positive_int(self.n_in, "n_in")
        self.n_hidden = checks.positive_int(self.n_hidden, "n_hidden")
        self.depth = checks.positive_int(self.depth, "depth", minimum=0)
        self.n_train = checks.positive_int(self.n_train, "n_train")
        self.snr = checks.positive(checks.real_scalar(self.snr, "snr"), "snr")
        self.init_scale = checks.nonnegative(checks.real_scalar(self.init_scale, "init_scale"), "init_scale")
        self.n_out = checks.positive_int(self.n_out, "n_out")
        self.noise_var_mi = checks.positive(checks.real_scalar(self.noise_var_mi, "noise_var_mi"), "noise_var_mi")
        self.n_trials = checks.positive_int(self.n_trials, "n_trials")
        checks.rng(self.seed, "seed")                     # validated here; sample() draws from it
        if self.n_relevant is not None:
            self.n_relevant = checks.positive_int(self.n_relevant, "n_relevant")
            if self.n_relevant >= self.n_in:
                raise ValueError(f"n_relevant must be < n_in = {self.n_in}, got {self.n_relevant}")

    # ---- the task -------------------------------------------------------------------------------------
    @property
    def label_noise_var(self) -> float:
        return 1.0 / self.snr

    @property
    def cov_x(self) -> np.ndarray:
        return np.eye(self.n_in) / self.n_in

    @property
    def widths(self) -> list[int]:
        return [self.n_in] + [self.n_hidden] * self.depth + [self.n_out]

    def sample(self, rng: np.random.Generator | int | None = None) -> tuple:
        """(W_o (E, n_out, n_in), X (E, P, n_in), Y (E, P, n_out), initial weights list of (E, out, in))."""
        rng = checks.rng(self.seed if rng is None else rng, "rng")
        e = self.n_trials
        w_o = rng.standard_normal((e, self.n_out, self.n_in))
        if self.n_relevant is not None:
            w_o[..., self.n_relevant:] = 0.0
        x = rng.standard_normal((e, self.n_train, self.n_in)) / np.sqrt(self.n_in)
        y = x @ np.swapaxes(w_o, -1, -2) + rng.standard_normal((e, self.n_train, self.n_out)) * np.sqrt(
            self.label_noise_var)
        ws = [rng.standard_normal((e, fo, fi)) * self.init_scale / np.sqrt(fi)
              for fi, fo in zip(self.widths[:-1], self.widths[1:])]
        return w_o, x, y, ws

    # ---- measurements ---------------------------------------------------------------------------------
    def measure(self, weights: Sequence[np.ndarray], w_o: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict:
        """Errors and exact information of the current weights: dict of (E,) and (E, layers) arrays."""
        prods = _products(weights)
        w_tot = prods[-1]
        yhat = x @ np.swapaxes(w_tot, -1, -2)
        train = np.mean(np.sum((y - yhat) ** 2, axis=-1), axis=-1)
        test = np.sum((w_o - w_tot) ** 2, axis=(-1, -2)) / self.n_in + self.n_out * self.label_noise_var
        cov = self.cov_x
        i_xt = np.stack([gaussian_channel_mi(p, cov, self.noise_var_mi) for p in prods], axis=-1)
        i_ty = np.stack([gaussian_channel_mi_ty(p, w_o, cov, self.noise_var_mi, self.label_noise_var)
                         for p in prods], axis=-1)
        out = {"train": train, "test": test, "i_xt": i_xt, "i_ty": i_ty}
        if self.n_relevant is not None:
            rel = np.arange(self.n_relevant)
            irr = np.arange(self.n_relevant, self.n_in)
            for name, idx in (("relevant", rel), ("irrelevant", irr)):
                for definition in ("marginal", "submap"):
                    out[f"{name}_{definition}"] = np.stack(
                        [subspace_mi(p, cov, self.noise_var_mi, idx, definition) for p in prods], axis=-1)
        return out

    # ---- training -------------------------------------------------------------------------------------
    def train(self, method: Literal["gd", "sgd", "flow"] = "gd", lr: float = 1.0, epochs: int = 1000,
              batch_size: int = 5, log_epochs: int | Sequence[int] | None = None,
              rng: np.random.Generator | int | None = None, progress: bool = False) -> LinearRun:
        """Train and log errors and the exact information plane (see module docstring).

        ``method``: "gd" (full batch), "sgd" (minibatches of ``batch_size``, reshuffled every epoch) or "flow"
        (exact gradient flow of the full-batch mean loss; ``epochs`` then counts units of time 1/lr, so the
        flow at epoch k is where GD with step lr would be after k steps if it followed the flow exactly).
        ``log_epochs``: None (~100 log-spaced incl. 0), an int n, or explicit epochs. ``rng``: None (the model's
        ``seed``), an int or a numpy Generator. ``progress``: a progress bar over epochs ("gd", "sgd").

        "gd" and "sgd" run on :func:`sims.gd_loop.descend` and raise :class:`sims.divergence.TrainingDiverged`
        (epoch and trial) when a trial diverges.
        """
        if method not in ("gd", "sgd", "flow"):
            raise ValueError(f"method must be 'gd', 'sgd' or 'flow', got {method!r}")
        lr = checks.positive(checks.real_scalar(lr, "lr"), "lr")
        epochs = checks.positive_int(epochs, "epochs", minimum=0)
        batch_size = checks.positive_int(batch_size, "batch_size")
        if method == "sgd" and self.n_train % batch_size:
            raise ValueError(f"batch_size must divide n_train = {self.n_train}, got {batch_size}")
        logged = log_schedule(100 if log_epochs is None else log_epochs, epochs)  # default: ~100 log-spaced
        rng = checks.rng(self.seed if rng is None else rng, "rng")
        w_o, x, y, ws = self.sample(rng)
        if method == "flow":
            records = self._flow(ws, w_o, x, y, logged * lr)
            stack = {k: np.stack([r[k] for r in records], axis=1) for k in records[0]}
        else:
            batches = None
            if method == "sgd":
                def batches(epoch):
                    order = np.argsort(rng.random((self.n_trials, self.n_train)), axis=-1)
                    xs = np.take_along_axis(x, order[..., None], axis=1)
                    ys = np.take_along_axis(y, order[..., None], axis=1)
                    for start in range(0, self.n_train, batch_size):
                        yield xs[:, start:start + batch_size], ys[:, start:start + batch_size]

            run = descend(ws, lambda w, batch: _gradients(w, x, y) if batch is None else _gradients(w, *batch),
                          epochs=logged, lr=lr, batches=batches, record=lambda w: self.measure(w, w_o, x, y),
                          loss=lambda w: _mean_loss(w, x, y), progress=progress, desc="LinearStudentTeacher")
            stack, ws = run.records, run.params
        b_eff = self.n_train if method in ("gd", "flow") else batch_size
        as_time = logged * lr / b_eff
        sub = {k: v for k, v in stack.items() if k.endswith(("_marginal", "_submap"))}
        return LinearRun(method=method, epochs=logged, as_time=as_time, train_error=stack["train"],
                         test_error=stack["test"], i_xt=stack["i_xt"], i_ty=stack["i_ty"], subspace=sub,
                         weights=ws)

    def _flow(self, ws, w_o, x, y, times):
        """Exact gradient flow dW/dt = -dL_P/dW of the mean loss at ``times``; records measurements."""
        p = self.n_train
        if self.depth == 0:
            # dw/dt = -(1/P) X^T (X w - y): closed form in the eigenbasis of X^T X (analytic.linear_flow)
            w_t = linear_flow(x, y, np.swapaxes(ws[0], -1, -2), times, rate=1.0 / p)    # (E, T, n_in, n_out)
            records = [self.measure([np.swapaxes(w_t[:, i], -1, -2)], w_o, x, y) for i in range(len(times))]
            ws[0][...] = np.swapaxes(w_t[:, -1], -1, -2)
            return records
        from scipy.integrate import solve_ivp

        shapes = [w.shape for w in ws]
        sizes = [int(np.prod(s)) for s in shapes]

        def unpack(v):
            out, k = [], 0
            for s, n in zip(shapes, sizes):
                out.append(v[k:k + n].reshape(s))
                k += n
            return out

        def rhs(_, v):
            return -np.concatenate([g.ravel() for g in _gradients(unpack(v), x, y)])

        v0 = np.concatenate([w.ravel() for w in ws])
        sol = solve_ivp(rhs, (0.0, float(times[-1])), v0, t_eval=np.asarray(times, float), method="DOP853",
                        rtol=1e-9, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"gradient-flow integration failed: {sol.message}")
        records = [self.measure(unpack(sol.y[:, i]), w_o, x, y) for i in range(sol.y.shape[1])]
        for w, wf in zip(ws, unpack(sol.y[:, -1])):
            w[...] = wf
        return records


def advani_saxe_simulation(t: ArrayLike, alpha: float, snr: float, n_in: int, n_trials: int, init_var: float = 0.0,
                           tau: float = 1.0, seed: np.random.Generator | int | None = 0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Finite-N check of :func:`analytic.advani_saxe_errors`: exact gradient flow of sampled students.

    For each trial: teacher wbar ~ N(0, I), X (P x N, P = round(alpha N)) with rows N(0, I/N), label noise
    N(0, 1/snr), w(0) ~ N(0, init_var I); the flow tau dw/dt = X^T (y - X w) of the SUMMED loss is solved exactly
    in the eigenbasis of X^T X (:func:`analytic.linear_dynamics.linear_flow`). Returns (train, test), each
    (n_trials, len(t)): the mean squared training error over the P samples and the exact test error
    |w - wbar|^2 / N + 1/snr of that trial's weights.
    """
    alpha = checks.positive(alpha, "alpha")
    snr = checks.positive(snr, "snr")
    n = checks.positive_int(n_in, "n_in")
    e = checks.positive_int(n_trials, "n_trials")
    init_var = checks.nonnegative(init_var, "init_var")
    tau = checks.positive(tau, "tau")
    tt = np.atleast_1d(checks.nonnegative(t, "t")) / tau
    p = max(1, int(round(alpha * n)))
    rng = checks.rng(seed, "seed")
    wbar = rng.standard_normal((e, n))
    x = rng.standard_normal((e, p, n)) / np.sqrt(n)
    eps = rng.standard_normal((e, p)) / np.sqrt(snr)
    w0 = rng.standard_normal((e, n)) * np.sqrt(init_var)
    # the error e = w - wbar follows tau de/dt = X^T (eps - X e): the least-squares flow with targets eps
    err = linear_flow(x, eps, w0 - wbar, tt)                              # (E, T, N)
    test = np.sum(err ** 2, axis=-1) / n + 1.0 / snr
    resid = eps[:, None, :] - err @ np.swapaxes(x, -1, -2)                # y - X w = eps - X (w - wbar)
    train = np.mean(resid ** 2, axis=-1)
    return train, test
