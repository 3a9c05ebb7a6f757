"""Data files shipped inside the package: ``var_u.mat``, the 12-bit task of Shwartz-Ziv & Tishby (2017).

Read it with :func:`sims.datasets.tishby_12bit` (which checks its sha256); this package holds no code.
"""
