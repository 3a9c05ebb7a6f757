"""Helpers for benchmark scripts: pinned threads, median timing.

Import this module *before* numpy/torch in a benchmark script, so that the thread pins take effect.
"""
from __future__ import annotations

import os
import statistics
import time

THREADS = int(os.environ.get("IBT_BENCH_THREADS", "1"))
# BLAS/OpenMP threads: THREADS unless a script that runs its own threads (each calling BLAS) says otherwise
BLAS_THREADS = int(os.environ.get("IBT_BENCH_BLAS_THREADS", str(THREADS)))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = str(BLAS_THREADS)


def pin_torch_threads():
    """Pin torch to the same thread count as BLAS (torch's default threads distort comparisons)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(THREADS) if hasattr(torch, "set_num_interop_threads") else None
    return torch


def median_time(fn, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
