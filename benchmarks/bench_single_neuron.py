"""Exact single-neuron I(X;T) for 10^4 (w, b) pairs; accuracy checked against a 2000-node rule and mpmath.

Run: ``python -m benchmarks single_neuron``. Threads pinned by benchmarks._common.
"""
import benchmarks._common as common  # noqa: F401  (pins threads before numpy loads)

import time

import numpy as np

from analytic.noisy_chain import GaussianInput, chain_information
from minimal_models import SingleNeuron


def main():
    rng = np.random.default_rng(0)
    n_pairs = 10_000
    w = rng.uniform(0.0, 20.0, n_pairs)
    b = rng.uniform(-20.0, 5.0, n_pairs)
    print(f"threads: {common.THREADS}")
    for s in (0.01, 0.05):
        n = SingleNeuron(noise_std=s)
        ref = _mi_nodes(n, w, b, 2000)
        for nodes in (400, 1000):
            t = common.median_time(lambda: _mi_nodes(n, w, b, nodes), repeats=5, warmup=1)
            err = np.max(np.abs(_mi_nodes(n, w, b, nodes) - ref))
            print(f"noise_std {s}: {n_pairs} (w,b) pairs, {nodes:4d} Gauss-Hermite nodes: median {t:.3f} s "
                  f"({1e6 * t / n_pairs:.1f} us/pair), max |diff vs 2000 nodes| = {err:.1e} nats")
        idx = rng.choice(n_pairs, 5, replace=False)
        t0 = time.perf_counter()
        mp_err = max(abs(float(n.mi_mp(w[i], b[i])) - n.mi(w[i], b[i])) for i in idx)
        print(f"noise_std {s}: mpmath (30 digits) on 5 random pairs: max |diff| = {mp_err:.1e} nats "
              f"({(time.perf_counter() - t0) / 5:.2f} s per pair in mpmath)")
    # two-layer chain: cost of exact I(X;T1), I(X;T2) per parameter set (tanh-tanh on N(0, 0.25))
    p = np.stack([rng.uniform(0.5, 3.0, 20), rng.uniform(-0.3, 0.3, 20), rng.uniform(0.5, 3.0, 20),
                  rng.uniform(-0.3, 0.3, 20)])
    for res, kw in (("default", {}), ("coarse", dict(panel=2.0, nodes=4, grid=1.0))):
        t = common.median_time(lambda: chain_information(GaussianInput(0.0, 0.5), "tanh", p[0], p[1], "tanh", p[2],
                                                         p[3], noise_std=0.05, **kw), repeats=3, warmup=1)
        print(f"tanh-tanh chain on N(0, 0.25), {res} quadrature: {t / 20 * 1e3:.0f} ms per parameter set")


def _mi_nodes(n, w, b, nodes):
    from analytic.gaussian_mixture import mixture_mi
    return mixture_mi(n.means(w, b), n.noise_std, n.probs, n_nodes=nodes)


if __name__ == "__main__":
    main()
