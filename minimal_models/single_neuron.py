"""Goldfeld's single noisy neuron: exact I(X;T) and its training trajectory.

Goldfeld et al. (ICML 2019, Sec. 3 and Fig. 5; poster "Clustering as the driver of compression") take
``X ~ Unif{-3, -1, 1, 3}`` with label +1 only for ``X = 3`` and the noisy neuron

    T = f(w X + b) + Z,   Z ~ N(0, noise_std^2),   f = tanh.

``X -> T`` is an additive white Gaussian noise channel with the four symbols ``mu_k = f(w x_k + b)``, so

    I(X;T) = h(sum_k p_k N(mu_k, noise_std^2)) - 1/2 ln(2 pi e noise_std^2),

a function of (w, b) computed here to ~1e-14 nats by :func:`analytic.gaussian_mixture.mixture_mi`. When symbols
merge into clusters, I(X;T) approaches the entropy of the cluster sizes: ln 4 (four clusters), 1.5 ln 2 (sizes
{2,1,1}), ln 2 ({2,2}), H(1/4, 3/4) = 0.5623 nats ({3,1}); :meth:`SingleNeuron.cluster_levels` lists them.

Training (:meth:`SingleNeuron.train`) minimizes the MSE ``L = sum_k p_k 1/2 (f(w x_k + b) - y_k)^2`` (the
simulator's convention; PyTorch's ``MSELoss`` has no 1/2, so its lr corresponds to twice ours). Kong (2019) trains
from w = b = 0 with noise_std 0.05 and SGD (lr 5e-4 with ``MSELoss``, i.e. 1e-3 here). Methods:

* ``"flow"``: gradient flow ``d(w,b)/dt = -grad L`` with ``t = lr * epoch`` (scipy ``solve_ivp``, LSODA,
  rtol 1e-10): the small-lr limit of full-batch gradient descent, fast at any horizon;
* ``"gd"``: full-batch gradient descent on the population loss, one step per epoch (exact iteration);
* ``"sgd"``: Kong's setup: a training set of ``n_train`` points sampled from X, minibatches of ``batch_size``,
  reshuffled each epoch, Gaussian noise added to the output in the forward pass. ``accumulate_grad=True``
  reproduces Kong's code, which never zeroes PyTorch's gradient buffers, so each step applies the SUM of all
  gradients so far.

The zero-mean output noise does not change the population gradient (``E[(f + Z - y) f'] = (f - y) f'``), so
"flow" and "gd" ignore it.

Example
-------
>>> n = SingleNeuron(noise_std=0.05)
>>> round(float(n.mi(0.0, 0.0)), 12)                       # all four symbols at tanh(0) = 0
0.0
>>> bool(abs(n.mi(20.0, -40.0) - n.cluster_levels()[((-3.0, -1.0, 1.0), (3.0,))]) < 1e-12)
True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.integrate import solve_ivp

from analytic import checks
from analytic.activations import Activation, get_activation
from analytic.checks import finite_array, labels_for, positive, positive_int, probability_vector, real_scalar
from analytic.gaussian_mixture import mixture_mi, mixture_mi_mp
from sims.gd_loop import AccuracyDrop, check_threshold, descend, learning_rates
from sims.train import log_schedule

__all__ = ["SingleNeuron", "SingleNeuronTrajectory"]


@dataclass(frozen=True)
class SingleNeuronTrajectory:
    """A training run of :class:`SingleNeuron`, logged at ``epochs``.

    Arrays have shape (L,) for one run or (E, L) for an ensemble (w0, b0 or lr given as arrays of length E).
    ``mi``: exact I(X;T) in nats; ``density``: p_T on ``t_grid``, shape (..., L, G); ``loss``: population MSE.
    ``lr``: the learning rate in force after each logged epoch ("gd", "sgd"; None for "flow"); ``test_accuracy``:
    the accuracy measured for the step-on-accuracy drop (None without it).
    """

    epochs: np.ndarray
    w: np.ndarray
    b: np.ndarray
    mi: np.ndarray
    loss: np.ndarray
    t_grid: np.ndarray
    density: np.ndarray
    noise_std: float
    method: str
    settings: dict
    lr: np.ndarray | None = None
    test_accuracy: np.ndarray | None = None


class SingleNeuron:
    """The noisy neuron ``T = f(w X + b) + Z`` on a discrete input (Goldfeld et al. 2019, Sec. 3).

    Parameters
    ----------
    points : support of X (default Goldfeld's (-3, -1, 1, 3)); distinct finite values.
    labels : training targets, one per point (default (-1, -1, -1, 1)).
    noise_std : standard deviation of Z, > 0.
    probs : P(X = x_k) (default uniform).
    activation : name or :class:`analytic.activations.Activation` (default tanh).
    """

    def __init__(self, points: Sequence[float] = (-3, -1, 1, 3), labels: Sequence[float] = (-1, -1, -1, 1),
                 noise_std: float = 0.1, probs: ArrayLike | None = None, activation: str | Activation = "tanh") -> None:
        x = finite_array(points, "points", ndim=1)
        if x.size < 1:
            raise ValueError("points must contain at least one value")
        if np.unique(x).size != x.size:
            raise ValueError("points must be distinct")
        self.points = x
        self.labels = finite_array(labels_for(labels, x.size, "labels"), "labels")
        self.noise_std = positive(real_scalar(noise_std, "noise_std"), "noise_std")
        self.probs = (np.full(x.size, 1.0 / x.size) if probs is None
                      else probability_vector(probs, "probs"))
        if self.probs.shape != x.shape:
            raise ValueError(f"probs must have shape {x.shape} to match points, got {self.probs.shape}")
        self.activation = get_activation(activation)

    def __repr__(self):
        return (f"SingleNeuron(points={tuple(self.points)}, labels={tuple(self.labels)}, "
                f"noise_std={self.noise_std}, activation={self.activation.name!r})")

    # ---- exact information ------------------------------------------------------------------------
    def _wb(self, w, b):
        w = finite_array(w, "w")
        b = finite_array(b, "b")
        try:
            return np.broadcast_arrays(w, b)
        except ValueError:
            raise ValueError(f"w and b must broadcast together, got shapes {w.shape} and {b.shape}") from None

    def means(self, w: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Noise-free outputs ``f(w x_k + b)``, shape ``broadcast(w, b).shape + (n_points,)``."""
        w, b = self._wb(w, b)
        return self.activation.value(w[..., None] * self.points + b[..., None])

    def mi(self, w: ArrayLike, b: ArrayLike) -> np.ndarray | float:
        """Exact I(X;T) in nats, vectorized over (broadcast) arrays ``w``, ``b``; see the module docstring.

        >>> SingleNeuron(noise_std=0.1).mi(np.array([0.0, 100.0]), 0.0).round(10).tolist()
        [0.0, 0.6931471806]
        """
        return mixture_mi(self.means(w, b), self.noise_std, self.probs)

    def mi_mp(self, w: float, b: float, dps: int = 30) -> object:
        """I(X;T) for one (w, b) at ``dps`` >= 30 digits: activation and entropy integral in mpmath (mpf).

        The independent verification route: tanh (any activation, via its sympy form) is evaluated in mpmath
        from the exact binary values of w, b, x_k, and the entropy by tanh-sinh quadrature in t
        (:func:`analytic.gaussian_mixture.mixture_entropy_mp`).
        """
        import mpmath as mp
        import sympy as sp

        w, b = (float(v) for v in self._wb(w, b))
        s = sp.Symbol("s", real=True)
        f = sp.lambdify(s, self.activation.sympy(s), "mpmath")
        with mp.workdps(dps):
            mus = [f(mp.mpf(w) * mp.mpf(float(x)) + mp.mpf(b)) for x in self.points]
            mus = [mp.mpf(m) for m in mus]
        return mixture_mi_mp(mus, self.noise_std, self.probs, dps=dps)

    def cluster_levels(self) -> dict:
        """Limits of I(X;T) when the symbols merge into clusters, in nats.

        For a non-decreasing activation the symbols keep the order of the points, so clusters are runs of
        consecutive (sorted) points. Returns ``{groups: H(group probabilities)}`` for every such partition,
        ``groups`` a tuple of tuples of points, sorted by decreasing value. For Goldfeld's default this gives
        ln 4, 1.5 ln 2 (sizes {2,1,1} in any order), ln 2 ({2,2}), H(1/4,3/4) ({3,1}) and 0.

        >>> levels = SingleNeuron().cluster_levels()
        >>> bool(abs(levels[((-3.0, -1.0), (1.0, 3.0))] - np.log(2)) < 1e-15)
        True
        """
        order = np.argsort(self.points)
        x, p = self.points[order], self.probs[order]
        n = x.size
        out = {}
        for mask in range(2 ** (n - 1)):
            cuts = [0] + [k + 1 for k in range(n - 1) if mask >> k & 1] + [n]
            groups = tuple(tuple(float(v) for v in x[a:c]) for a, c in zip(cuts[:-1], cuts[1:]))
            q = np.array([p[a:c].sum() for a, c in zip(cuts[:-1], cuts[1:])])
            q = q[q > 0]
            out[groups] = float(-np.sum(q * np.log(q))) + 0.0   # + 0.0: no -0.0 for one cluster
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def density(self, w: ArrayLike, b: ArrayLike, t_grid: ArrayLike) -> np.ndarray:
        """p_T(t) = sum_k p_k N(t; f(w x_k + b), noise_std^2) on ``t_grid``; shape ``(..., len(t_grid))``."""
        t = finite_array(t_grid, "t_grid", ndim=1, allow_bool=False)
        mu = self.means(w, b)
        z = (t[:, None] - mu[..., None, :]) / self.noise_std
        return np.exp(-0.5 * z * z) @ self.probs / (self.noise_std * np.sqrt(2.0 * np.pi))

    # ---- training ----------------------------------------------------------------------------------
    def loss(self, w: ArrayLike, b: ArrayLike) -> np.ndarray:
        """Population MSE ``sum_k p_k 1/2 (f(w x_k + b) - y_k)^2`` (noise-free part; Z adds noise_std^2/2)."""
        r = self.means(w, b) - self.labels
        return 0.5 * (r * r) @ self.probs

    def gradient(self, w: ArrayLike, b: ArrayLike, x: ArrayLike | None = None, y: ArrayLike | None = None,
                 weights: ArrayLike | None = None, z: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Closed-form gradient of ``sum_s weights_s 1/2 (f(w x_s + b) + z_s - y_s)^2`` in (w, b).

        Defaults: the population (points, labels, probs, z = 0). Vectorized: w, b of shape (E,), x, y, z, weights
        of shape (S,) or (E, S). Returns (dL/dw, dL/db), each of shape (E,).
        """
        x = self.points if x is None else x
        y = self.labels if y is None else y
        weights = self.probs if weights is None else weights
        pre = w[..., None] * x + b[..., None]
        f = self.activation.value(pre)
        r = (f - y if z is None else f + z - y) * self.activation.derivative(pre) * weights
        return np.sum(r * x, axis=-1), np.sum(r, axis=-1)

    def train(self, epochs: int, lr: ArrayLike = 1e-3, loss: Literal["mse"] = "mse", w0: ArrayLike = 0.0,
              b0: ArrayLike = 0.0, method: Literal["flow", "gd", "sgd"] = "flow", batch_size: int = 25,
              n_train: int = 30, seed: np.random.Generator | int | None = 0,
              log_epochs: int | Sequence[int] | None = None, accumulate_grad: bool = False,
              t_grid: ArrayLike | None = None, accuracy_threshold: float | None = None, lr_drop: float = 20.0,
              n_test: int = 30, progress: bool = False) -> SingleNeuronTrajectory:
        """Train (w, b) from (w0, b0) and return the exact I(X;T) and the density of T at the logged epochs.

        Parameters
        ----------
        epochs : number of epochs (method "gd": one full-batch step each; "sgd": one pass over the training set;
            "flow": continuous time ``t = lr * epoch``).
        lr : learning rate for the 1/2-MSE (scalar, or an array of length E for an ensemble).
        loss : only "mse" (Goldfeld's and Kong's choice).
        w0, b0 : initial values (scalars or arrays of length E).
        method : "flow", "gd" or "sgd" (module docstring).
        batch_size, n_train, seed, accumulate_grad : "sgd" only (Kong: n_train 30, batch 25, accumulate True).
        log_epochs : None (~200 log-spaced incl. 0 and ``epochs``), an int, or explicit epochs.
        t_grid : grid for the density of T (default 401 points over the symbols' range +- 5 noise_std).
        accuracy_threshold, lr_drop, n_test : Kong's step-on-accuracy schedule ("gd" and "sgd"): before every
            epoch the accuracy of the noisy outputs on a test set of ``n_test`` points sampled from X (seed
            ``seed``) is measured, and once it reaches ``accuracy_threshold`` (in [0, 1]) the learning rate is
            ``lr / lr_drop`` from then on (the test set and its noise come from a child stream of ``seed``: the
            training draws are the same with and without the drop). None (default): no drop. Kong (2019,
            Sec. 2.4) trained this network on {-3, -1, 1, 3} at a fixed learning rate and used the drop only for
            the other setups.
        progress : show a progress bar over epochs ("gd", "sgd").

        Raises :class:`sims.divergence.TrainingDiverged` (with the epoch and member) when a run diverges
        ("gd", "sgd"; criterion of :mod:`sims.divergence`).

        Example: ``SingleNeuron(noise_std=0.05).train(10**8, lr=1e-3, method="flow")`` rises to 1.3856 nats
        (ln 4 = 1.3863), sits at 1.04 = 1.5 ln 2 near epoch 2.5e4 and ends at 0.5629 (H(1/4, 3/4) = 0.5623);
        ``method="sgd", accumulate_grad=True, seed=0`` (Kong's code) does the same within ~100 epochs
        (tests/test_single_neuron.py).
        """
        if loss != "mse":
            raise ValueError(f"loss must be 'mse', got {loss!r}")
        if method not in ("flow", "gd", "sgd"):
            raise ValueError(f"method must be 'flow', 'gd' or 'sgd', got {method!r}")
        log = log_schedule(log_epochs, positive_int(epochs, "epochs", minimum=0))
        ensemble = any(np.ndim(v) > 0 for v in (w0, b0, lr))
        w0, b0 = (finite_array(v, n) for v, n in ((w0, "w0"), (b0, "b0")))
        lr = learning_rates(lr, 1)[0] if np.ndim(lr) == 0 else learning_rates(lr, np.size(lr))
        try:
            w, b, lr_arr = (np.array(a, dtype=float).reshape(-1)
                            for a in np.broadcast_arrays(np.atleast_1d(w0), np.atleast_1d(b0), np.atleast_1d(lr)))
        except ValueError:
            raise ValueError("w0, b0 and lr must broadcast to one ensemble shape (E,)") from None
        accuracy_threshold = check_threshold(accuracy_threshold)
        lr_drop = positive(real_scalar(lr_drop, "lr_drop"), "lr_drop")
        if method == "sgd" or accuracy_threshold is not None:
            checks.rng(seed, "seed")                  # validated before training (an int seed gives a fresh stream)
        drop = None
        if accuracy_threshold is not None:
            if method == "flow":
                raise ValueError("accuracy_threshold: the step-on-accuracy drop needs method 'gd' or 'sgd'")
            drop = dict(threshold=accuracy_threshold, factor=lr_drop, seed=seed,
                        n_test=positive_int(n_test, "n_test"))
        lr_log = acc_log = None
        if method == "flow":
            W, B = self._flow(w, b, lr_arr, log)
        else:
            sgd = None
            if method == "sgd":
                batch_size = positive_int(batch_size, "batch_size")
                n_train = positive_int(n_train, "n_train")
                sgd = dict(batch_size=batch_size, n_train=n_train, seed=seed, accumulate=bool(accumulate_grad))
            run = self._iterate(w, b, lr_arr, log, sgd, drop, progress)
            W, B, lr_log, acc_log = run.records["w"], run.records["b"], run.lr, run.accuracy
        mi = self.mi(W, B)
        if t_grid is None:
            lo, hi = self.activation.range
            mu = self.means(W, B)
            lo = max(lo, float(mu.min())) if np.isfinite(lo) else float(mu.min())
            hi = min(hi, float(mu.max())) if np.isfinite(hi) else float(mu.max())
            t_grid = np.linspace(lo - 5 * self.noise_std, hi + 5 * self.noise_std, 401)
        t_grid = finite_array(t_grid, "t_grid", ndim=1)
        dens = self.density(W, B, t_grid)
        L = self.loss(W, B)
        if not ensemble:
            W, B, mi, L, dens = W[0], B[0], mi[0], L[0], dens[0]
            lr_log, acc_log = (None if a is None else a[0] for a in (lr_log, acc_log))
        settings = dict(epochs=int(epochs), lr=lr, w0=w0.tolist(), b0=b0.tolist(), loss=loss,
                        batch_size=batch_size, n_train=n_train, seed=seed, accumulate_grad=accumulate_grad,
                        accuracy_threshold=accuracy_threshold, lr_drop=lr_drop, n_test=n_test)
        return SingleNeuronTrajectory(log, W, B, mi, L, t_grid, dens, self.noise_std, method, settings,
                                      lr_log, acc_log)

    def _flow(self, w, b, lr, log):
        """Gradient flow for each ensemble member; returns (E, L) arrays at times lr * log."""
        E = w.size

        def rhs(_, th):
            gw, gb = self.gradient(th[:E], th[E:])
            return np.concatenate([-gw, -gb])

        # integrate in s = lr_ref * epoch with per-member speed lr / lr_ref (one solve for the ensemble)
        ref = lr.max()
        scale = np.concatenate([lr, lr]) / ref

        def rhs_scaled(t, th):
            return scale * rhs(t, th)

        times = log * ref
        if times[-1] == 0:
            return np.repeat(w[:, None], log.size, 1), np.repeat(b[:, None], log.size, 1)
        sol = solve_ivp(rhs_scaled, (0.0, times[-1]), np.concatenate([w, b]), method="LSODA",
                        t_eval=times, rtol=1e-10, atol=1e-12)
        if not sol.success:
            raise RuntimeError(f"gradient flow integration failed: {sol.message}")
        return sol.y[:E], sol.y[E:]

    def accuracy(self, out: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Fraction of outputs ``out`` (..., S) whose nearest label value is the target ``y`` (..., S)."""
        values = np.unique(self.labels)
        pred = values[np.argmin(np.abs(np.asarray(out)[..., None] - values), axis=-1)]
        return np.mean(pred == y, axis=-1)

    def _iterate(self, w, b, lr, log, sgd, drop, progress):
        """Discrete GD / SGD on :func:`sims.gd_loop.descend`; returns (E, L) arrays of w, b at the logged epochs."""
        E = w.size
        rng = checks.rng(sgd["seed"] if sgd is not None else drop["seed"], "seed") \
            if sgd is not None or drop is not None else None
        batches = None
        if sgd is not None:
            idx = rng.choice(self.points.size, size=(E, sgd["n_train"]), p=self.probs)
            xs, ys = self.points[idx], self.labels[idx]
            rows = np.arange(E)[:, None]
            n_train, size = sgd["n_train"], sgd["batch_size"]

            def batches(epoch):
                perm = rng.permuted(np.broadcast_to(np.arange(n_train), (E, n_train)), axis=1)
                for s0 in range(0, n_train, size):
                    sel = perm[:, s0:s0 + size]
                    xb, yb = xs[rows, sel], ys[rows, sel]
                    yield xb, yb, rng.normal(0.0, self.noise_std, size=xb.shape)

            def gradient(params, batch):
                xb, yb, z = batch
                return self.gradient(params[0], params[1], xb, yb, np.full(xb.shape, 1.0 / xb.shape[1]), z)
        else:
            def gradient(params, batch):
                return self.gradient(params[0], params[1])
        schedule = None
        if drop is not None:
            # Kong's test set: n_test points sampled from X; outputs measured with fresh noise before every epoch.
            # Drawn from a child stream of the seed, so the training randomness is the same with and without it.
            test_rng = rng.spawn(1)[0]
            idx_te = test_rng.choice(self.points.size, size=(E, drop["n_test"]), p=self.probs)
            x_te, y_te = self.points[idx_te], self.labels[idx_te]

            def test_accuracy(params):
                out = self.activation.value(params[0][:, None] * x_te + params[1][:, None])
                return self.accuracy(out + test_rng.normal(0.0, self.noise_std, size=out.shape), y_te)

            schedule = AccuracyDrop(test_accuracy, drop["threshold"], drop["factor"])
        run = descend([w, b], gradient, epochs=log, lr=lr, batches=batches,
                      accumulate=sgd is not None and sgd["accumulate"], lr_drop=schedule,
                      record=lambda p: {"w": p[0].copy(), "b": p[1].copy()},
                      loss=lambda p: self.loss(p[0], p[1]), progress=progress, desc="SingleNeuron")
        return run
