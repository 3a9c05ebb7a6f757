"""The empirical side: ensemble simulator, datasets, activity recording, MI estimators, sweeps.

May import :mod:`analytic`; never imports :mod:`minimal_models` or :mod:`figures`.
"""
from sims import datasets  # noqa: F401
