"""Command line: ``python -m figures list``, ``python -m figures all``, ``python -m figures NAME``."""
from __future__ import annotations

import os

# The figures' matrices are small: multi-threaded BLAS on a busy machine is 10-50x slower than one thread.
# An explicit setting in the environment still wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from figures._registry import discover, render  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m figures", description="Render the toolkit's figures.")
    parser.add_argument("name", help="'list', 'all', or a figure name")
    parser.add_argument("--out", default="figures/out", help="output folder (default figures/out)")
    parser.add_argument("--full", action="store_true", help="paper-scale runs instead of the quick defaults")
    args = parser.parse_args(argv)
    specs = discover()
    if args.name == "list":
        width = max((len(n) for n in specs), default=0)
        for name, spec in specs.items():
            print(f"{name:<{width}}  {spec.description}")
        return 0
    names = list(specs) if args.name == "all" else [args.name]
    for name in names:
        if name not in specs:
            parser.error(f"unknown figure {name!r}; run 'python -m figures list'")
        start = time.perf_counter()
        paths = render(name, args.out, full=args.full)
        print(f"{name}: {', '.join(str(p) for p in paths)} ({time.perf_counter() - start:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
