"""Figures: one module per figure; ``python -m figures list | all | NAME [--out DIR] [--full]``.

Modules here only compose ``analytic``, ``minimal_models`` and ``sims`` and draw.
"""
from figures._registry import FIGURES, discover, figure, render

__all__ = ["FIGURES", "discover", "figure", "render"]
