"""Kong's (2019) noisy one- and two-neuron networks: training as Kong did, exact I(X;T1), I(X;T2) along it.

The networks (Kong 2019, Sec. 2.3; noise std 0.05 after every nonlinearity, LeakyReLU(x) = max(x, x/10)):

    T1 = f1(w1 X + b1) + Z1,        T2 = f2(w2 T1 + b2) + Z2      (two-neuron chains)
    T1 = tanh(w X + b) + Z1                                         (single neuron)

and Kong's four setups (Kong 2019, Secs. 2.3-2.4 and 3), as named constructors:

=============================  ===================================  =====================  ==========  =========
constructor                    X                                    labels                 init        lr (Kong)
=============================  ===================================  =====================  ==========  =========
``kong_leaky_leaky()``         uniform on {1..8}                    0 (1-4), 0.25 (5-8)    0,4.5,-1,0  1e-4
``kong_tanh_tanh()``           N(0, 0.25)                           sign(x)                zeros       5e-3
``kong_leaky_tanh()``          N(0, 0.25)                           sign(x)                zeros       5e-3
``kong_mixture_neuron()``      1/2 N(-1, 0.25) + 1/2 N(1, 0.25)     sign(x)                zeros       1e-4
=============================  ===================================  =====================  ==========  =========

Training (:meth:`NoisyChain.train`) follows Kong's description and code: a training set of ``n_train`` points
sampled from X (labels by the rule above) and a separate test set of ``n_test``; SGD on minibatches of
``batch_size``, reshuffled every epoch, with fresh noise Z1, Z2 in every forward pass; before each epoch the
accuracy of the noisy outputs on the test set is measured and once it reaches 0.99 the learning rate is divided
by 20 (permanently; Kong 2019, Sec. 2.4). Loss: 1/2 mean squared error; Kong used PyTorch's ``MSELoss``
(no 1/2), so Kong's lr corresponds to twice ours; the constructors convert (``lr = 2 * lr_Kong``). Kong's code
never zeroes the gradient buffers, so each step there applies the sum of all gradients so far;
``accumulate_grad=True`` reproduces that and is the default of the ``kong_*`` constructors (it is what produced
Kong's figures: with plain SGD at Kong's learning rates the same epochs barely move the weights); pass
``accumulate_grad=False`` for ordinary SGD. The gradient of the tiny network is written out in closed form and
vectorized over an ensemble of independent runs (seeds); the loop is :func:`sims.gd_loop.descend`.

Noise matters for learning: from zero init the tanh-tanh population gradient in (w1, w2) vanishes identically
(dL/dw2 ~ E[T1 (f2 - y)] with T1 = Z1), so only the sampled noise starts learning.

After training, ``I(X;T1)`` and ``I(X;T2)`` at the logged epochs are exact (nested quadrature,
:mod:`analytic.noisy_chain`), with the densities of T1 and T2 on grids.

Example
-------
>>> net = NoisyChain.kong_leaky_leaky()
>>> run = net.train(epochs=3, seed=0)
>>> run.i_xt1.shape == run.epochs.shape and bool(np.all(run.i_xt2 <= run.i_xt1 + 1e-8))
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic import checks
from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, positive, positive_int, real_scalar
from analytic.noisy_chain import (DiscreteInput, GaussianInput, GaussianMixtureInput, chain_information,
                                  layer_information)
from sims.gd_loop import AccuracyDrop, check_threshold, descend, learning_rates
from sims.progress import bar
from sims.train import log_schedule

__all__ = ["NoisyChain", "ChainTrajectory"]


@dataclass(frozen=True)
class ChainTrajectory:
    """A training run of :class:`NoisyChain` logged at ``epochs`` (L,).

    Parameter arrays ``params`` have shape (E, L, P) (P = 2 per layer: w1, b1[, w2, b2]); information and
    accuracy (E, L); densities (E, L, G). With one run (seed an int) the leading E axis is dropped.
    ``i_xt2``/``p_t2``/``t2_grid`` are None for a single neuron.
    """

    epochs: np.ndarray
    params: np.ndarray
    lr: np.ndarray
    test_accuracy: np.ndarray
    i_xt1: np.ndarray
    i_xt2: np.ndarray | None
    t1_grid: np.ndarray
    p_t1: np.ndarray
    t2_grid: np.ndarray | None
    p_t2: np.ndarray | None
    settings: dict


class NoisyChain:
    """A chain of one or two noisy scalar neurons trained on a scalar input (Kong 2019).

    Parameters
    ----------
    activations : one or two activation names (first layer first).
    x_input : :class:`analytic.noisy_chain.DiscreteInput` or :class:`~analytic.noisy_chain.GaussianMixtureInput`.
    label_threshold, label_values : label ``label_values[1]`` if x > label_threshold else ``label_values[0]``;
        an output counts as correct when it lies on the label's side of the midpoint of ``label_values``.
    init : initial (w1, b1[, w2, b2]).
    noise_std : standard deviation of every Z, > 0.
    lr : learning rate for the 1/2-MSE; ``lr_drop`` (> 0) divides it once test accuracy >= ``accuracy_threshold``
        (a number in [0, 1]; None: no drop, the accuracy is still measured and logged). Kong (2019, Sec. 2.4): 20
        and 0.99. The training loop is :func:`sims.gd_loop.descend` (:class:`sims.gd_loop.AccuracyDrop`).
    n_train, n_test, batch_size : sampled training/test set sizes and minibatch size.
    accumulate_grad : default of :meth:`train` (True in the ``kong_*`` constructors: Kong's code).
    name : a label for plots.
    """

    def __init__(self, activations: str | Activation | Sequence[str | Activation],
                 x_input: DiscreteInput | GaussianMixtureInput, label_threshold: float, label_values: Sequence[float],
                 init: Sequence[float], noise_std: float = 0.05, lr: float = 1e-3, lr_drop: float = 20.0,
                 accuracy_threshold: float | None = 0.99, n_train: int = 100, n_test: int = 100, batch_size: int = 25,
                 accumulate_grad: bool = False, name: str = "chain") -> None:
        acts = (activations,) if isinstance(activations, str) else tuple(activations)
        if len(acts) not in (1, 2):
            raise ValueError(f"activations must name one or two layers, got {len(acts)}")
        self.activations = tuple(get_activation(a) for a in acts)
        if not isinstance(x_input, (DiscreteInput, GaussianMixtureInput)):
            raise ValueError("x_input must be a DiscreteInput or a GaussianMixtureInput")
        self.x_input = x_input
        self.label_threshold = real_scalar(label_threshold, "label_threshold")
        lv = finite_array(label_values, "label_values", ndim=1)
        if lv.shape != (2,) or lv[0] == lv[1]:
            raise ValueError("label_values must be two distinct values (below, above the threshold)")
        self.label_values = lv
        init = finite_array(init, "init", ndim=1)
        if init.size != 2 * len(acts):
            raise ValueError(f"init must hold {2 * len(acts)} values (w, b per layer), got {init.size}")
        self.init = init
        self.noise_std = positive(real_scalar(noise_std, "noise_std"), "noise_std")
        self.lr = float(learning_rates(lr, 1)[0])
        self.lr_drop = positive(real_scalar(lr_drop, "lr_drop"), "lr_drop")
        self.accuracy_threshold = check_threshold(accuracy_threshold)
        self.n_train = positive_int(n_train, "n_train")
        self.n_test = positive_int(n_test, "n_test")
        self.batch_size = positive_int(batch_size, "batch_size")
        self.accumulate_grad = bool(accumulate_grad)
        self.name = name

    # ---- Kong's four setups ------------------------------------------------------------------------
    @classmethod
    def kong_leaky_leaky(cls, **kw) -> NoisyChain:
        """LeakyReLU-LeakyReLU on X uniform {1..8}; labels 0 / 0.25; init w1=0, b1=4.5, w2=-1, b2=0; Kong lr 1e-4,
        training/test sets of 100, batch 100 (Kong's command line)."""
        opts = dict(activations=("leaky_relu", "leaky_relu"), x_input=DiscreteInput(tuple(range(1, 9))),
                    label_threshold=4.5, label_values=(0.0, 0.25), init=(0.0, 4.5, -1.0, 0.0), lr=2e-4,
                    n_train=100, n_test=100, batch_size=100, accumulate_grad=True,
                    name="LeakyReLU-LeakyReLU, X uniform on {1..8}")
        return cls(**{**opts, **kw})

    @classmethod
    def kong_tanh_tanh(cls, **kw) -> NoisyChain:
        """tanh-tanh on X ~ N(0, 0.25) with sign labels, zero init, Kong lr 5e-3 (sets of 30, batch 25)."""
        opts = dict(activations=("tanh", "tanh"), x_input=GaussianInput(0.0, 0.5), label_threshold=0.0,
                    label_values=(-1.0, 1.0), init=(0.0, 0.0, 0.0, 0.0), lr=1e-2, n_train=30, n_test=30,
                    batch_size=25, accumulate_grad=True, name="tanh-tanh, X ~ N(0, 0.25)")
        return cls(**{**opts, **kw})

    @classmethod
    def kong_leaky_tanh(cls, **kw) -> NoisyChain:
        """LeakyReLU-tanh on X ~ N(0, 0.25) with sign labels, zero init, Kong lr 5e-3 (sets of 30, batch 25)."""
        opts = dict(activations=("leaky_relu", "tanh"), x_input=GaussianInput(0.0, 0.5), label_threshold=0.0,
                    label_values=(-1.0, 1.0), init=(0.0, 0.0, 0.0, 0.0), lr=1e-2, n_train=30, n_test=30,
                    batch_size=25, accumulate_grad=True, name="LeakyReLU-tanh, X ~ N(0, 0.25)")
        return cls(**{**opts, **kw})

    @classmethod
    def kong_mixture_neuron(cls, **kw) -> NoisyChain:
        """Single tanh neuron on 1/2 N(-1, 0.25) + 1/2 N(1, 0.25), sign labels, zero init, Kong lr 1e-4."""
        opts = dict(activations=("tanh",), x_input=GaussianMixtureInput((-1.0, 1.0), (0.5, 0.5)),
                    label_threshold=0.0, label_values=(-1.0, 1.0), init=(0.0, 0.0), lr=2e-4, n_train=30,
                    n_test=30, batch_size=25, accumulate_grad=True,
                    name="tanh neuron, X ~ mixture of N(-1, 0.25), N(1, 0.25)")
        return cls(**{**opts, **kw})

    def __repr__(self):
        return f"NoisyChain({self.name!r}, noise_std={self.noise_std}, lr={self.lr})"

    @property
    def n_layers(self) -> int:
        return len(self.activations)

    # ---- data, forward pass, gradient --------------------------------------------------------------
    def labels(self, x: ArrayLike) -> np.ndarray:
        return np.where(np.asarray(x) > self.label_threshold, self.label_values[1], self.label_values[0])

    def forward(self, params: np.ndarray, x: ArrayLike, z: np.ndarray | None = None) -> tuple[list, list]:
        """Activities. params (E, P); x (E, S); z None (noise-free) or (n_layers, E, S) standard normals.

        Returns the list of layer outputs T_l (E, S) (with noise ``noise_std * z`` when z is given) and the
        pre-activations.
        """
        outs, pres = [], []
        h = x
        for layer, f in enumerate(self.activations):
            a = params[:, 2 * layer, None] * h + params[:, 2 * layer + 1, None]
            h = f.value(a)
            if z is not None:
                h = h + self.noise_std * z[layer]
            pres.append(a)
            outs.append(h)
        return outs, pres

    def gradient(self, params: np.ndarray, x: ArrayLike, y: ArrayLike, z: np.ndarray | None = None) -> np.ndarray:
        """Closed-form gradient (E, P) of ``mean_s 1/2 (T_last - y)^2`` (backpropagation written out)."""
        outs, pres = self.forward(params, x, z)
        grad = np.empty_like(params)
        delta = (outs[-1] - y) / x.shape[-1]
        for layer in reversed(range(self.n_layers)):
            d_a = delta * self.activations[layer].derivative(pres[layer])
            inp = x if layer == 0 else outs[layer - 1]
            grad[:, 2 * layer] = np.sum(d_a * inp, axis=-1)
            grad[:, 2 * layer + 1] = np.sum(d_a, axis=-1)
            delta = d_a * params[:, 2 * layer, None]
        return grad

    def population_loss(self, params: np.ndarray, n_samples: int = 20_000, seed: np.random.Generator | int | None = 0
                        ) -> np.ndarray:
        """Monte Carlo estimate of E[1/2 (T_last - y)^2] (noise included), shape (E,)."""
        rng = checks.rng(seed, "seed")
        x = np.broadcast_to(self.x_input.sample(n_samples, rng), (params.shape[0], n_samples))
        z = rng.standard_normal((self.n_layers,) + x.shape)
        return 0.5 * np.mean((self.forward(params, x, z)[0][-1] - self.labels(x)) ** 2, axis=-1)

    def accuracy(self, out: ArrayLike, y: ArrayLike) -> np.ndarray:
        mid = 0.5 * (self.label_values[0] + self.label_values[1])
        pred = np.where(out > mid, self.label_values[1], self.label_values[0])
        return np.mean(pred == y, axis=-1)

    # ---- training ----------------------------------------------------------------------------------
    def train(self, epochs: int, seed: np.random.Generator | int | None | Sequence[int] = 0,
              log_epochs: int | Sequence[int] | None = None, accumulate_grad: bool | None = None,
              lr: float | None = None, resolution: Literal["fine", "coarse"] = "fine", t1_grid: ArrayLike | None = None,
              t2_grid: ArrayLike | None = None, n_grid: int = 301, progress: bool = True) -> ChainTrajectory:
        """SGD as Kong did (module docstring); exact I(X;T1), I(X;T2) and densities at the logged epochs.

        Parameters
        ----------
        epochs : passes over the training set.
        seed : int >= 0 or a numpy Generator (one run), or a sequence of ints (an ensemble; runs are independent).
        log_epochs : None (~200 log-spaced incl. 0 and ``epochs``), int n, or explicit epochs.
        accumulate_grad : True reproduces Kong's code (gradients summed over all steps, never zeroed); None: the
            network's default (True for the ``kong_*`` constructors).
        lr : overrides the network's learning rate.
        resolution : "fine" (quadrature to ~1e-8 nats) or "coarse" (~3e-4 nats, ~5x faster; for plots).
        t1_grid, t2_grid, n_grid : density grids (default: ``n_grid`` points over the outputs of the inputs within
            4 std of the input components (all points for discrete X), +- 4 noise_std); ``n_grid`` >= 2.
        progress : progress bars over the epochs and the exact information (:mod:`sims.progress`; shown only
            when tqdm is installed).

        Raises :class:`sims.divergence.TrainingDiverged` (epoch and member) when a run diverges.
        """
        log = log_schedule(log_epochs, positive_int(epochs, "epochs", minimum=0))
        accumulate_grad = self.accumulate_grad if accumulate_grad is None else bool(accumulate_grad)
        generator = isinstance(seed, np.random.Generator)
        seeds = np.atleast_1d(np.asarray(0 if generator else seed))
        if seeds.dtype.kind not in "iu" or seeds.ndim != 1 or seeds.size == 0:
            raise ValueError(f"seed must be an int or a non-empty 1-D sequence of ints, got {seed!r}")
        if np.any(seeds < 0):
            raise ValueError(f"seed must be >= 0, got {seed!r}")
        single = np.ndim(seed) == 0
        lr0 = self.lr if lr is None else float(learning_rates(lr, 1)[0])
        if resolution not in ("fine", "coarse"):
            raise ValueError(f"resolution must be 'fine' or 'coarse', got {resolution!r}")
        n_grid = positive_int(n_grid, "n_grid", minimum=2)
        E, P = seeds.size, self.init.size
        rngs = [seed] if generator else [np.random.default_rng(int(s)) for s in seeds]
        x_tr = np.stack([self.x_input.sample(self.n_train, r) for r in rngs])
        x_te = np.stack([self.x_input.sample(self.n_test, r) for r in rngs])
        y_tr, y_te = self.labels(x_tr), self.labels(x_te)
        rng = seed if generator else np.random.default_rng([int(s) for s in seeds])
        rows = np.arange(E)[:, None]

        def test_accuracy(params):     # before every epoch, on the test set, fresh noise (Kong's schedule)
            z = rng.standard_normal((self.n_layers,) + x_te.shape)
            return self.accuracy(self.forward(params[0], x_te, z)[0][-1], y_te)

        def batches(epoch):
            perm = rng.permuted(np.broadcast_to(np.arange(self.n_train), (E, self.n_train)), axis=1)
            for s0 in range(0, self.n_train, self.batch_size):
                sel = perm[:, s0:s0 + self.batch_size]
                yield x_tr[rows, sel], y_tr[rows, sel]

        def gradient(params, batch):
            xb, yb = batch
            return [self.gradient(params[0], xb, yb, rng.standard_normal((self.n_layers,) + xb.shape))]

        run = descend([np.broadcast_to(self.init, (E, P))], gradient, epochs=log, lr=lr0, batches=batches,
                      accumulate=accumulate_grad,
                      lr_drop=AccuracyDrop(test_accuracy, self.accuracy_threshold, self.lr_drop),
                      record=lambda p: {"params": p[0].copy()}, progress=progress, desc=f"train {self.name}")
        out_params, out_acc, out_lr = run.records["params"], run.accuracy, run.lr
        info = self.information(out_params.reshape(-1, P), resolution=resolution, t1_grid=t1_grid,
                                t2_grid=t2_grid, n_grid=n_grid, progress=progress)
        res = dict(epochs=log, params=out_params, lr=out_lr, test_accuracy=out_acc)
        for key, val in info.items():
            res[key] = val.reshape((E, log.size) + val.shape[1:]) if key.startswith(("i_", "p_")) and val is not None \
                else val
        if single:
            res = {k: (v[0] if k in ("params", "lr", "test_accuracy", "i_xt1", "i_xt2", "p_t1", "p_t2")
                       and v is not None else v) for k, v in res.items()}
        res["settings"] = dict(epochs=int(epochs), seed=repr(seed) if generator else seeds.tolist(), lr=lr0, accumulate_grad=accumulate_grad,
                               noise_std=self.noise_std, n_train=self.n_train, n_test=self.n_test,
                               batch_size=self.batch_size, lr_drop=self.lr_drop,
                               accuracy_threshold=self.accuracy_threshold, name=self.name)
        return ChainTrajectory(**res)

    def information(self, params: ArrayLike, resolution: Literal["fine", "coarse"] = "fine",
                    t1_grid: ArrayLike | None = None, t2_grid: ArrayLike | None = None, n_grid: int = 301,
                    progress: bool = False) -> dict:
        """Exact I(X;T1) (and I(X;T2)) for parameter rows ``params`` (B, P), with densities on grids."""
        params = finite_array(params, "params", ndim=2)
        if params.shape[1] != self.init.size:
            raise ValueError(f"params must have {self.init.size} columns, got {params.shape[1]}")
        if resolution not in ("fine", "coarse"):
            raise ValueError(f"resolution must be 'fine' or 'coarse', got {resolution!r}")
        n_grid = positive_int(n_grid, "n_grid", minimum=2)
        t1_grid = None if t1_grid is None else finite_array(t1_grid, "t1_grid", ndim=1)
        t2_grid = None if t2_grid is None else finite_array(t2_grid, "t2_grid", ndim=1)
        q = dict(panel=1.0, nodes=5, grid=0.5) if resolution == "fine" else dict(panel=2.0, nodes=4, grid=1.0)
        s = self.noise_std
        x_lo, x_hi = self._x_range()
        xs = np.linspace(x_lo, x_hi, 401)[None, :]
        outs, _ = self.forward(params, np.broadcast_to(xs, (params.shape[0], xs.shape[1])))
        if t1_grid is None:
            t1_grid = np.linspace(outs[0].min() - 4 * s, outs[0].max() + 4 * s, n_grid)
        if self.n_layers == 2 and t2_grid is None:
            f2 = self.activations[1]
            lo1, hi1 = outs[0].min() - 5 * s, outs[0].max() + 5 * s
            ends = f2.value(params[:, 2:3] * np.array([lo1, hi1]) + params[:, 3:4])
            t2_grid = np.linspace(ends.min() - 4 * s, ends.max() + 4 * s, n_grid)
        # the quadrature size of a batch is set by its widest row, so rows are grouped by the width of T1's range
        order = np.argsort(np.ptp(outs[0], axis=1) / s, kind="stable")
        keys = ("i_xt1", "i_xt2", "p_t1", "p_t2")
        parts = {k: [] for k in keys}
        with bar(order.size, desc=f"exact information {self.name}", enable=progress) as pbar:
            for g0 in range(0, order.size, 16):
                rows = params[order[g0:g0 + 16]]
                if self.n_layers == 1:
                    i1, p1 = layer_information(self.x_input, self.activations[0], rows[:, 0], rows[:, 1], s,
                                               t_grid=t1_grid, **q)
                    got = dict(i_xt1=i1, i_xt2=None, p_t1=p1, p_t2=None)
                else:
                    r = chain_information(self.x_input, self.activations[0], rows[:, 0], rows[:, 1],
                                          self.activations[1], rows[:, 2], rows[:, 3], s, t1_grid=t1_grid,
                                          t2_grid=t2_grid, **q)
                    got = dict(i_xt1=r.i_xt1, i_xt2=r.i_xt2, p_t1=r.p_t1, p_t2=r.p_t2)
                for k in keys:
                    parts[k].append(got[k])
                pbar.update(min(16, order.size - g0))
        inverse = np.argsort(order)
        out = {k: (None if parts[k][0] is None else np.concatenate(parts[k])[inverse]) for k in keys}
        return dict(out, t1_grid=t1_grid, t2_grid=t2_grid if self.n_layers == 2 else None)

    def _x_range(self):
        """Support of X (discrete) or, for density plots, the means -+ 4 std of the mixture components."""
        if isinstance(self.x_input, DiscreteInput):
            return min(self.x_input.points), max(self.x_input.points)
        mu, sd = np.array(self.x_input.means), np.array(self.x_input.stds)
        return float(np.min(mu - 4 * sd)), float(np.max(mu + 4 * sd))

    def monte_carlo_information(self, params: ArrayLike, n_samples: int = 100_000,
                                seed: np.random.Generator | int | None = 0, n_hidden_nodes: int = 30
                                ) -> tuple[float, float]:
        """Plain Monte Carlo of I(X;T_last) for ONE parameter vector (an independent check of the exact value).

        Draw (X, Z1[, Z2]) and average ``ln p(T|X) - ln p(T)`` over the samples. ``p(t | x)``: Gaussian for one
        layer; for two layers, Gauss-Hermite with ``n_hidden_nodes`` nodes over T1 | x ~ N(m(x), s^2).
        ``p(t) = E_X p(t | X)``: exact sum for discrete X; for continuous X the trapezoidal rule on a uniform
        x-grid fine enough that m(x) moves by <= s/2 per step (a different rule from the exact route's panels).
        Returns (estimate, stderr) in nats; the cost grows with the x-grid, so keep w1 moderate.
        """
        from analytic.gaussian_mixture import hermite_rule

        params = finite_array(params, "params", ndim=1)
        n_samples = positive_int(n_samples, "n_samples", minimum=2)
        if params.size != self.init.size:
            raise ValueError(f"params must hold {self.init.size} values, got {params.size}")
        rng = checks.rng(seed, "seed")
        s = self.noise_std
        x = self.x_input.sample(n_samples, rng)
        z = rng.standard_normal((self.n_layers, 1, n_samples))
        t = self.forward(params[None, :], x[None, :], z)[0][-1][0]
        u, wu = hermite_rule(n_hidden_nodes, trim=1e-18)
        f1, w1, b1 = self.activations[0], params[0], params[1]

        def centers(xv):   # (K,) -> centers (K, Q) and their weights (Q,) of p(t | x) as a Gaussian mixture
            m1 = f1.value(w1 * xv + b1)
            if self.n_layers == 1:
                return m1[:, None], np.ones(1)
            return self.activations[1].value(params[2] * (m1[:, None] + s * u) + params[3]), wu

        c_own, q_own = centers(x)
        zz = (t[:, None] - c_own) / s
        log_cond = np.log(np.exp(-0.5 * zz * zz) @ q_own / (s * np.sqrt(2 * np.pi)))
        if isinstance(self.x_input, DiscreteInput):
            xs, ps = np.array(self.x_input.points), np.array(self.x_input.probs)
        else:
            lo, hi, _ = self.x_input.support
            step = s / (2.0 * max(abs(w1), 1e-12))
            xs = np.linspace(lo, hi, int(min(2e4, np.ceil((hi - lo) / step))) + 1)
            ps = self.x_input.pdf(xs)
            ps = ps / ps.sum()
        c, q = centers(xs)                                               # (K, Q)
        cw = (ps[:, None] * q[None, :]).ravel()
        c = c.ravel()
        keep = cw > 1e-300
        c, cw = c[keep], cw[keep]
        marg = np.empty(n_samples)
        rows = max(1, 2 ** 22 // c.size)
        for a in range(0, n_samples, rows):
            zz = (t[a:a + rows, None] - c) / s
            marg[a:a + rows] = np.exp(-0.5 * zz * zz) @ cw / (s * np.sqrt(2 * np.pi))
        d = log_cond - np.log(marg)
        return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))
