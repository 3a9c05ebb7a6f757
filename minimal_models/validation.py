"""Theory against estimates: every estimator beside the exact value, on models where the exact value is known.

Models (each draws n input samples, pushes them through the model, hands the activity to an estimator of
:mod:`sims.estimators`, and compares with the exact I(X;T) from :mod:`analytic` / :mod:`minimal_models`):

=================  =============================================================  =====================================
model              channel                                                        exact value
=================  =============================================================  =====================================
``scalar-binned``  X ~ N(0,1), T = bin(tanh(w X)), Tishby's 30 edges              ``analytic.binning`` (Saxe Fig. 2)
``scalar-noisy``   X ~ N(0,1), T = tanh(w X) + N(0, s^2)                          ``analytic.scalar_channel.noisy_mi``
``single-neuron``  X uniform on {-3,-1,1,3}, T = tanh(w X + b) + N(0, s^2)        ``SingleNeuron.mi`` (Goldfeld Sec. 3)
``chain``          T2 = tanh(w2 (tanh(w1 X + b1) + Z1) + b2) + Z2, X on 4 points  ``analytic.noisy_chain`` (Kong)
``linear``         X ~ N(0, I_3), T = W X + N(0, s^2 I_2)                         ``analytic.gaussian_channel_mi``
=================  =============================================================  =====================================

Estimators: ``binned`` (on the binned model), ``goldfeld`` (centres = the n noise-free samples, noise std s;
for the chain the conditional term comes from repeated noisy passes of each input), ``kde-upper``/``kde-lower``
(noise variance s^2, centres = the samples), ``kraskov`` (k = 2 on the noisy samples; the key keeps its old name,
the estimator is :func:`sims.estimators.kozachenko_leonenko`, a Kozachenko-Leonenko entropy estimate, not KSG).

What theory says, and what the result shows:

* binned: the plug-in entropy of n samples converges to the exact binned I(X;T) with bias ~ -(K-1)/(2n)
  (Miller-Madow) — with matching bins the estimate IS the exact quantity in the limit;
* Goldfeld: h(P_hat_n * N_s) is consistent; its error decays like n^(-1/2) (Goldfeld et al. 2019, Thm. 2);
  :func:`goldfeld_rate` fits the log-log slope;
* KDE: with the TRUE centres (the 4 points of the single neuron) lower <= exact <= upper always (Kolchinsky &
  Tracey); with sampled centres of a continuous X the estimates converge to the bounds, not to the exact value;
* Kraskov: consistent for the noisy (continuous) T, with a bias that shrinks with n.

>>> res = estimator_validation(models=("single-neuron",), estimators=("goldfeld",), n_grid=(50, 500), repeats=3)
>>> res.exact["single-neuron"] > 0
True
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from analytic import checks
from analytic.activations import get_activation
from analytic.binning import binned_entropy_gaussian, tishby_edges
from analytic.checks import positive_int
from analytic.gaussian_channel import gaussian_channel_mi
from analytic.noisy_chain import DiscreteInput, chain_information
from analytic.scalar_channel import noisy_mi
from minimal_models.single_neuron import SingleNeuron
from sims import estimators as est
from sims.progress import bar

__all__ = ["ValidationResult", "estimator_validation", "goldfeld_rate", "kde_true_centre_bracket", "binned_curve",
           "single_neuron_curve", "MODELS",
           "ESTIMATORS"]

POINTS = np.array([-3.0, -1.0, 1.0, 3.0])
SCALAR_W = 2.0
NOISE_STD = 0.1
NEURON = dict(w=0.5, b=0.0)
LINEAR_W = np.array([[1.0, 0.5, 0.0], [0.0, 0.3, 0.2]])
CHAIN = dict(w1=0.8, b1=0.0, w2=1.5, b2=0.0)

ESTIMATORS = ("binned", "goldfeld", "kde-upper", "kde-lower", "kraskov")


def _exact(model):
    if model == "scalar-binned":
        return float(binned_entropy_gaussian("tanh", SCALAR_W, tishby_edges()))
    if model == "scalar-noisy":
        return float(noisy_mi("tanh", SCALAR_W, NOISE_STD))
    if model == "single-neuron":
        return float(SingleNeuron(points=POINTS, noise_std=NOISE_STD).mi(NEURON["w"], NEURON["b"]))
    if model == "linear":
        return float(gaussian_channel_mi(LINEAR_W, np.eye(3), NOISE_STD ** 2))
    if model == "chain":
        r = chain_information(DiscreteInput(points=tuple(POINTS)), "tanh", CHAIN["w1"], CHAIN["b1"], "tanh",
                              CHAIN["w2"], CHAIN["b2"], noise_std=NOISE_STD)
        return float(r.i_xt2)
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


MODELS = ("scalar-binned", "scalar-noisy", "single-neuron", "chain", "linear")
_APPLIES = {"scalar-binned": ("binned",), "scalar-noisy": ("goldfeld", "kde-upper", "kde-lower", "kraskov"),
            "single-neuron": ("goldfeld", "kde-upper", "kde-lower", "kraskov"), "chain": ("goldfeld",),
            "linear": ("goldfeld", "kde-upper", "kde-lower", "kraskov")}


def _sample(model, n, rng):
    """(noise-free activity (n, d), labels (n,), inputs) for one draw of n samples."""
    tanh = get_activation("tanh").value
    if model in ("scalar-binned", "scalar-noisy"):
        x = rng.standard_normal(n)
        return tanh(SCALAR_W * x)[:, None], (x > 0).astype(int), x
    if model in ("single-neuron", "chain"):
        x = rng.choice(POINTS, size=n)
        s1 = tanh(NEURON["w"] * x + NEURON["b"]) if model == "single-neuron" else tanh(CHAIN["w1"] * x + CHAIN["b1"])
        if model == "single-neuron":
            return s1[:, None], (x == 3).astype(int), x
        t1 = s1 + NOISE_STD * rng.standard_normal(n)
        return tanh(CHAIN["w2"] * t1 + CHAIN["b2"])[:, None], (x == 3).astype(int), x
    if model == "linear":
        x = rng.standard_normal((n, 3))
        return x @ LINEAR_W.T, (x[:, 0] > 0).astype(int), x
    raise ValueError(f"model must be one of {MODELS}, got {model!r}")


def _chain_conditional(x, reps, rng):
    """For the chain: ``reps`` noise-free T2 samples per input (repeated noisy passes through layer 1)."""
    tanh = get_activation("tanh").value
    t1 = tanh(CHAIN["w1"] * x[:, None] + CHAIN["b1"]) + NOISE_STD * rng.standard_normal((x.size, reps))
    return tanh(CHAIN["w2"] * t1 + CHAIN["b2"])[..., None]


def _estimate(model, estimator, act, labels, x, rng):
    if estimator == "binned":
        return est.binned(act, labels, edges=tishby_edges())[0]
    if estimator == "goldfeld":
        cond = None
        if model == "chain":
            # h(T2 | X = x) from 512 repeated noisy passes of each distinct input (inputs with equal value share
            # their conditional law, so the conditional term of goldfeld(conditional=...) is grouped by value)
            pts, counts = np.unique(x, return_counts=True)
            c = _chain_conditional(pts, 512, rng)                             # (points, 512, 1)
            h_cond = est.goldfeld(c, np.zeros(512, int), NOISE_STD, n_noise=1, seed=rng)[0]
            return est.goldfeld(act, labels, NOISE_STD, n_noise=1, seed=rng)[0] - counts @ h_cond / x.size
        return est.goldfeld(act, labels, NOISE_STD, n_noise=1, seed=rng)[0]
    if estimator in ("kde-upper", "kde-lower"):
        return est.kde(act, labels, NOISE_STD ** 2, bound=estimator[4:])[0]
    if estimator == "kraskov":
        with warnings.catch_warnings():          # only I(X;T) is used; I(T;Y) may be clipped at 0
            warnings.simplefilter("ignore", est.BoundWarning)
            return est.kozachenko_leonenko(act, labels, k=2, noise_var=NOISE_STD ** 2, seed=rng)[0]
    raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")


@dataclass
class ValidationResult:
    """``estimates[(model, estimator)]``: array (len(n_grid), repeats) in nats; ``exact[model]`` in nats."""

    n_grid: np.ndarray
    repeats: int
    exact: dict
    estimates: dict = field(default_factory=dict)

    def bias(self, model: str, estimator: str) -> np.ndarray:
        """Mean estimate minus exact, per n (nats)."""
        return self.estimates[(model, estimator)].mean(axis=1) - self.exact[model]

    def spread(self, model: str, estimator: str) -> np.ndarray:
        """Standard deviation over repeats, per n (nats)."""
        return self.estimates[(model, estimator)].std(axis=1, ddof=1)

    def rmse(self, model: str, estimator: str) -> np.ndarray:
        return np.sqrt(np.mean((self.estimates[(model, estimator)] - self.exact[model]) ** 2, axis=1))

    def table(self) -> str:
        """Plain-text table: model, estimator, n, exact, mean, bias, spread (nats)."""
        lines = [f"{'model':14s} {'estimator':10s} {'n':>6s} {'exact':>8s} {'mean':>8s} {'bias':>9s} {'spread':>8s}"]
        for (m, e), v in self.estimates.items():
            for k, n in enumerate(self.n_grid):
                lines.append(f"{m:14s} {e:10s} {n:6d} {self.exact[m]:8.4f} {v[k].mean():8.4f} "
                             f"{self.bias(m, e)[k]:+9.4f} {self.spread(m, e)[k]:8.4f}")
        return "\n".join(lines)


def estimator_validation(models: Sequence[str] = MODELS, estimators: Sequence[str] = ESTIMATORS,
                         n_grid: Sequence[int] = (100, 300, 1000, 3000), repeats: int = 8,
                         seed: int = 0, progress: bool = True) -> ValidationResult:
    """Run every applicable (model, estimator) pair over ``n_grid`` sample sizes with ``repeats`` draws each.

    Seeds: one ``np.random.default_rng([seed, model index, estimator index])`` stream per (model, estimator), so
    results are reproducible. ``progress``: a progress bar over the estimates (:mod:`sims.progress`).
    """
    repeats = positive_int(repeats, "repeats", minimum=2)
    seed = positive_int(seed, "seed", minimum=0)
    n_grid = np.array([positive_int(n, "n_grid", minimum=8) for n in n_grid])
    for m in models:
        if m not in MODELS:
            raise ValueError(f"models: unknown model {m!r}; have {MODELS}")
    for e in estimators:
        if e not in ESTIMATORS:
            raise ValueError(f"estimators: unknown estimator {e!r}; have {ESTIMATORS}")
    exact = {}
    res = ValidationResult(n_grid, repeats, exact)
    pairs = sum(e in _APPLIES[m] for m in models for e in estimators)
    with bar(pairs * n_grid.size * repeats, desc="estimator validation", enable=progress) as pbar:
        for mi, m in enumerate(models):
            ex = _exact(m)
            if ex is None:
                continue
            exact[m] = ex
            for ei, e in enumerate(estimators):
                if e not in _APPLIES[m]:
                    continue
                rng = np.random.default_rng([seed, mi, ei])
                vals = np.empty((n_grid.size, repeats))
                for k, n in enumerate(n_grid):
                    for r in range(repeats):
                        act, labels, x = _sample(m, int(n), rng)
                        vals[k, r] = _estimate(m, e, act, labels, x, rng)
                        pbar.update(1)
                res.estimates[(m, e)] = vals
    return res


def goldfeld_rate(result: ValidationResult, model: str = "single-neuron") -> float:
    """Least-squares slope of log RMSE against log n for Goldfeld's estimator (theory: -1/2)."""
    r = result.rmse(model, "goldfeld")
    return float(np.polyfit(np.log(result.n_grid), np.log(r), 1)[0])


def kde_true_centre_bracket(w: ArrayLike, b: ArrayLike, noise_std: float) -> tuple:
    """(lower, exact, upper) in nats for the single neuron with its TRUE 4 centres: lower <= exact <= upper.

    Vectorized over broadcast ``w``, ``b``; KDE bounds via :func:`sims.estimators.kde` on the 4 equiprobable
    centres, exact via :meth:`SingleNeuron.mi`.
    """
    neuron = SingleNeuron(points=POINTS, noise_std=noise_std)
    mu = neuron.means(w, b)[..., None]
    labels = (POINTS == 3).astype(int)
    up = est.kde(mu, labels, noise_std ** 2, bound="upper")[0]
    lo = est.kde(mu, labels, noise_std ** 2, bound="lower")[0]
    return lo, neuron.mi(w, b), up


def binned_curve(w_grid: ArrayLike, n: int = 10_000, repeats: int = 3, edges: ArrayLike | None = None, seed: int = 0
                 ) -> tuple:
    """Scalar tanh model over ``w_grid``: (exact binned I, mean estimate, spread) in nats, Tishby edges default.

    The estimate is :func:`sims.estimators.binned` on ``n`` samples of ``tanh(w X)``, X ~ N(0,1), with the SAME
    edges as the exact value (:func:`analytic.binning.binned_entropy_gaussian`), so the two must agree up to the
    plug-in bias ~ -(K-1)/(2n) and sampling spread.
    """
    edges = tishby_edges() if edges is None else edges
    w = np.asarray(w_grid, dtype=float)
    exact = np.asarray(binned_entropy_gaussian("tanh", w, edges), dtype=float)
    rng = checks.rng(seed, "seed")
    x = rng.standard_normal((repeats, n, 1))
    act = np.tanh(w[:, None, None, None] * x[None])                      # (w, repeats, n, 1)
    est_ = est.binned(act, np.zeros(n, int), edges=edges)[0]
    return exact, est_.mean(axis=1), est_.std(axis=1, ddof=1)


def single_neuron_curve(w_grid: ArrayLike, b: float = 0.0, noise_std: float = NOISE_STD, n: int = 1000,
                        repeats: int = 4, seed: int = 0) -> dict:
    """Single noisy tanh neuron over ``w_grid``: dict of nats arrays.

    ``exact`` (:meth:`SingleNeuron.mi`), ``kde_lower`` / ``kde_upper`` (true 4 centres; always bracket exact),
    ``goldfeld_mean`` / ``goldfeld_std`` (n sampled inputs, ``repeats`` draws), ``kraskov_mean`` / ``kraskov_std``.
    """
    w = np.asarray(w_grid, dtype=float)
    lo, exact, up = kde_true_centre_bracket(w, b, noise_std)
    rng = checks.rng(seed, "seed")
    g = np.empty((w.size, repeats))
    k = np.empty((w.size, repeats))
    for r in range(repeats):
        x = rng.choice(POINTS, size=n)
        act = np.tanh(w[:, None] * x[None, :] + b)[..., None]            # (w, n, 1)
        lab = (x == 3).astype(int)
        g[:, r] = est.goldfeld(act, lab, noise_std, n_noise=1, seed=rng)[0]
        with warnings.catch_warnings():          # only I(X;T) is used; I(T;Y) may be clipped at 0
            warnings.simplefilter("ignore", est.BoundWarning)
            k[:, r] = est.kozachenko_leonenko(act, lab, k=2, noise_var=noise_std ** 2, seed=rng)[0]
    return {"exact": exact, "kde_lower": lo, "kde_upper": up, "goldfeld_mean": g.mean(1),
            "goldfeld_std": g.std(1, ddof=1), "kraskov_mean": k.mean(1), "kraskov_std": k.std(1, ddof=1)}
