"""Timing of the scalar Gaussian minimal model: exact binned MI and exact noisy MI over a grid of w.

Run: ``python -m benchmarks scalar_gaussian`` (threads pinned by benchmarks._common). Reports medians.
"""
import benchmarks._common as common  # noqa: I001  (pins threads before numpy is imported)

import numpy as np

from analytic.binning import equal_edges, tishby_edges
from minimal_models import ScalarGaussian


def main():
    print(f"threads pinned to {common.THREADS}")
    tanh, relu = ScalarGaussian("tanh"), ScalarGaussian("relu")
    for n in (1_000, 10_000, 100_000):
        w = np.linspace(0.0, 10.0, n)
        t_tanh = common.median_time(lambda: tanh.binned_mi(w, tishby_edges()), repeats=7)
        t_relu = common.median_time(lambda: relu.binned_mi(w, equal_edges(0, 40, 100)), repeats=7)
        print(f"binned MI, {n:>7} w values: tanh 30 edges {t_tanh * 1e3:8.2f} ms | relu 101 edges "
              f"{t_relu * 1e3:8.2f} ms")
    w = np.geomspace(1e-2, 1e2, 32)
    for name in ("tanh", "relu", "linear"):
        m = ScalarGaussian(name)
        for s in (1e-3, 1e-1, 1.0):
            t = common.median_time(lambda: m.noisy_mi(w, s), repeats=3)
            print(f"noisy MI, {w.size} w values, {name:>6}, noise_std {s:g}: {t:7.2f} s "
                  f"({t / w.size * 1e3:6.1f} ms per w)")
    m = ScalarGaussian("relu")
    t = common.median_time(lambda: m.noisy_mi(2.0, 0.1, precision="mp"), repeats=1, warmup=0)
    print(f"noisy MI, mpmath route (verification), relu w=2 noise_std=0.1: {t:.1f} s per point")


if __name__ == "__main__":
    main()
