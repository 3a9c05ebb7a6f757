"""``python -m experiments list | NAME [--scale quick|full] | claims [--scale ...]``.

``list`` names every experiment; ``NAME`` runs one (or reads it from the cache, ``IBT_CACHE_DIR``) and prints its
claims; ``claims`` prints the claims table of every experiment (the README's "Claims" section), generated from the
runs, never typed.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from sims.backend import blas_threads_from_environment  # noqa: E402

blas_threads_from_environment()        # the package imported numpy first: the variables alone come too late

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from experiments import EXPERIMENTS, MODULES, claims_table, discover, run  # noqa: E402


def ordered_names() -> list[str]:
    """Experiment names in the order of :data:`experiments.MODULES`, then of registration within a module, whatever
    order the modules happened to be imported in (so the claims table does not depend on who imported what first)."""
    rank = {f"experiments.{m}": i for i, m in enumerate(MODULES)}
    registered = list(EXPERIMENTS)
    return sorted(registered, key=lambda n: (rank.get(EXPERIMENTS[n].fn.__module__, len(rank)), registered.index(n)))


def all_claims(scale="quick", verbose=False) -> list:
    """The claims of every registered experiment at ``scale`` (cached runs are read, missing ones trained), each
    claim once (composite experiments repeat their parts' claims). An experiment whose data files are missing
    (FileNotFoundError) is reported on stderr and left out."""
    out, seen = [], set()
    discover()
    for name in ordered_names():                   # paper by paper (MODULES), figure by figure
        try:
            res = run(name, scale, verbose=verbose)
        except FileNotFoundError as exc:           # e.g. MNIST files not installed: say so, keep going
            print(f"experiments claims: {name} not run ({str(exc).splitlines()[0]})", file=sys.stderr)
            continue
        for c in res.claims:
            key = (c.paper, c.figure, c.statement)
            if key not in seen:
                seen.add(key)
                out.append(c)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="'list', 'claims', or an experiment name")
    parser.add_argument("--scale", default="quick", choices=("quick", "full"))
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="  %(message)s",
                        stream=sys.stderr)
    specs = discover()
    if args.name == "list":
        width = max(len(n) for n in specs)
        for name, spec in specs.items():
            print(f"{name:<{width}}  {spec.description}")
        return 0
    if args.name == "claims":
        print(claims_table(all_claims(args.scale, verbose=False)))
        return 0
    if args.name not in specs:
        parser.error(f"unknown experiment {args.name!r}; run 'python -m experiments list'")
    t0 = time.perf_counter()
    res = run(args.name, args.scale, verbose=not args.quiet)
    print(claims_table(res.claims))
    print(f"({args.name}, scale {args.scale}: {time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
