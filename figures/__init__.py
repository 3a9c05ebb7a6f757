"""Figures: one module per figure; ``python -m figures list | all | NAME [--out DIR] [--full]``.

Modules here only compose ``analytic``, ``minimal_models`` and ``sims`` and draw.
"""
from analytic import __version__  # noqa: F401  (the toolkit's one version)
from figures._registry import FIGURES, discover, figure, render

__all__ = ["FIGURES", "discover", "figure", "render"]
