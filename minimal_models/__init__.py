"""The named small models of the papers, with their data, training dynamics and exact information.

May import :mod:`analytic` and :mod:`sims`.
"""
