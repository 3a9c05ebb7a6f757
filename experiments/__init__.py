"""The papers' network experiments, one function (and one command) each, with the claims they rest on measured.

Layering: analytic -> sims -> minimal_models -> experiments -> figures. An experiment is a function whose
defaults are the paper's configuration, ``scale="quick"`` (what ``make figures`` uses) or ``"full"`` (the paper's
scale), returning an :class:`~experiments.result.ExperimentResult`: an ``xarray.Dataset`` (information planes per
layer, member and epoch; accuracy and loss; the configuration in ``attrs``) and a list of
:class:`~experiments.claims.Claim`. Trainings are cached on disk (:mod:`experiments.cache`).

Command line: ``python -m experiments list | NAME [--scale quick|full] | claims``.
"""
from __future__ import annotations

import importlib

from analytic import __version__  # noqa: F401  (the toolkit's one version)
from experiments.claims import Claim, claims_table
from experiments.compression import compression, compression_detail
from experiments.registry import EXPERIMENTS, experiment
from experiments.result import ExperimentResult, load_result

__all__ = ["Claim", "claims_table", "compression", "compression_detail", "EXPERIMENTS", "experiment",
           "ExperimentResult", "load_result", "discover", "run", "MODULES"]

#: Modules that register experiments (imported by :func:`discover`).
MODULES = ("shwartz_ziv", "saxe2018", "saxe_netinput", "saxe_histograms", "deep_linear", "generalization",
           "goldfeld2019", "mnist", "cnn", "compression_study", "saxe_linear")


def discover() -> dict:
    """Import every experiment module and return the registry (name -> spec), sorted by name."""
    for m in MODULES:
        try:
            importlib.import_module(f"experiments.{m}")
        except ModuleNotFoundError as exc:
            if exc.name != f"experiments.{m}":
                raise
    return dict(sorted(EXPERIMENTS.items()))


def run(name: str, scale: str = "quick", verbose: bool = False, **overrides) -> ExperimentResult:
    """Run (or read from the cache) experiment ``name``."""
    specs = discover()
    if name not in specs:
        raise ValueError(f"name: unknown experiment {name!r}; available: {', '.join(specs)}")
    return specs[name].fn(scale, verbose=verbose, **overrides)
