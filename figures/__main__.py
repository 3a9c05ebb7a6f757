"""Command line: ``python -m figures list``, ``python -m figures all``, ``python -m figures NAME``.

Figures are written to ``--out DIR``, by default ``./ibtoolkit-figures`` (a name that is none of the toolkit's
packages, so running this anywhere never creates a folder that would shadow ``figures``, ``sims``, ... for later
imports from that directory). ``make figures`` passes ``--out figures/out`` inside the repository.
"""
from __future__ import annotations

import os

# The figures' matrices are small: multi-threaded BLAS on a busy machine is 10-50x slower than one thread.
# An explicit setting in the environment still wins.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from figures._registry import discover, render  # noqa: E402

DEFAULT_OUT = "ibtoolkit-figures"
#: Top-level packages of the toolkit: a new folder of one of these names in the working directory would shadow
#: the installed package for every later ``python -m ...`` started there.
PACKAGE_NAMES = ("analytic", "sims", "minimal_models", "experiments", "figures")


def _output_folder(out: str) -> Path:
    """Check ``--out`` before any figure is computed; return the folder (created). Raises ValueError."""
    if not out.strip():
        raise ValueError("--out must name a folder, not an empty string")
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {out!r} is an existing file, not a folder")
    # The first folder this call would create: refuse it if it is named like a package and sits in the
    # working directory (where Python looks first for ``python -m figures``).
    missing = path if path.is_absolute() else Path.cwd() / path
    first_new = None
    while not missing.exists():
        first_new, missing = missing, missing.parent
    if first_new is not None:
        if not missing.is_dir():
            raise ValueError(f"--out {out!r}: {str(missing)!r} is a file, not a folder")
        if first_new.name in PACKAGE_NAMES and missing.resolve() == Path.cwd().resolve():
            raise ValueError(f"--out {out!r} would create a folder {first_new.name!r} in the working directory, "
                             f"which would shadow the {first_new.name!r} package; choose another name "
                             f"(default: {DEFAULT_OUT})")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ValueError(f"--out {out!r} is not a writable folder: {exc.strerror or exc}") from None
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m figures", description="Render the toolkit's figures (PNG and PDF, one pair per figure).",
        epilog="Output: --out DIR, default ./" + DEFAULT_OUT + " in the working directory (make figures uses "
               "figures/out inside the repository).")
    parser.add_argument("name", help="'list', 'all', or a figure name")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output folder, created if missing (default: ./{DEFAULT_OUT})")
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
    try:
        out = _output_folder(args.out)
    except ValueError as exc:
        parser.error(str(exc))
    skipped = []
    for name in names:
        start = time.perf_counter()
        try:
            paths = render(name, out, full=args.full)
        except FileNotFoundError as exc:          # a figure whose data files are not installed (e.g. MNIST)
            if args.name != "all":
                parser.exit(1, f"python -m figures: {name}: {exc}\n")
            skipped.append(name)
            print(f"{name}: skipped, {exc}", file=sys.stderr, flush=True)
            continue
        print(f"{name}: {', '.join(str(p) for p in paths)} ({time.perf_counter() - start:.1f} s)", flush=True)
    if skipped:
        print(f"skipped (data not installed): {', '.join(skipped)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
