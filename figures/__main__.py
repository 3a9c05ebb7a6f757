"""Command line: ``python -m figures list``, ``python -m figures all [--jobs N]``, ``python -m figures NAME ...``.

``all`` (or several names) draws the figures in a pool of ``--jobs`` worker processes (default: the number of cores
this process may use, ``len(os.sched_getaffinity(0))``), each worker with one BLAS thread; the most expensive
figures start first (:func:`figure_order`: the cold time recorded for a figure by an earlier run on this machine,
else its declared cost, :data:`figures._registry.DECLARED_SECONDS`). Figures sharing a training do not train it
twice: the second one waits for the first one's result (:func:`experiments.cache.key_lock`). Each figure's line is
printed when it is done; a figure that fails is reported (its traceback on stderr) and the others are still drawn,
and the exit code is 1 when any failed. Figures whose data files are not installed (MNIST) are skipped with a note
(exit code 0). ``--jobs 1`` draws them one after another in this process.

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

from sims.backend import blas_threads_from_environment, usable_cores  # noqa: E402

blas_threads_from_environment()        # the package imported numpy first: the variables alone come too late

import argparse  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from pathlib import Path  # noqa: E402

from figures._registry import DECLARED_SECONDS, discover, draw_safely, render, worker_init  # noqa: E402

DEFAULT_OUT = "ibtoolkit-figures"
#: Top-level packages of the toolkit: a new folder of one of these names in the working directory would shadow
#: the installed package for every later ``python -m ...`` started there.
PACKAGE_NAMES = ("analytic", "sims", "minimal_models", "experiments", "figures")
_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: Cost (seconds) assumed for a figure with neither a recorded nor a declared one (the declared list names every
#: figure above 5 s; a new figure's cold time is recorded by its first run).
UNKNOWN_SECONDS = 5.0


def _times_path(full: bool) -> Path:
    """Where the figures' recorded cold times live: ``figure-seconds-{quick,full}.json`` in the cache folder."""
    from experiments.cache import cache_dir
    return cache_dir().parent / f"figure-seconds-{'full' if full else 'quick'}.json"


def recorded_seconds(full: bool = False) -> dict:
    """The seconds each figure took (less any wait for another figure's training) when it last computed a training
    in this cache folder (``{}`` when nothing is recorded or the file is unreadable: the order is only a schedule,
    never a reason to fail). A fresh cache folder starts from the declared costs."""
    try:
        data = json.loads(_times_path(full).read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}


def _record_seconds(new: dict, full: bool) -> None:
    if not new:
        return
    from sims.io import atomic_write_json
    try:
        atomic_write_json(_times_path(full), {**recorded_seconds(full), **{k: round(v, 1) for k, v in new.items()}})
    except OSError:                              # a read-only cache: the schedule just stays the declared one
        pass


def figure_order(names: list[str], full: bool = False) -> list[str]:
    """``names`` sorted longest first (the classic longest-processing-time schedule, so that a long figure does not
    start last and leave the other workers idle): by the recorded cold time (:func:`recorded_seconds`), else the
    declared one (:data:`figures._registry.DECLARED_SECONDS`, quick scale), else :data:`UNKNOWN_SECONDS`; ties keep
    the order of ``names``."""
    recorded = recorded_seconds(full)
    declared = {} if full else DECLARED_SECONDS

    def cost(name):
        return recorded.get(name, declared.get(name, UNKNOWN_SECONDS))
    return sorted(names, key=lambda n: -cost(n))


def draw_all(names: list[str], out: Path, full: bool = False, jobs: int = 1) -> tuple[list, list]:
    """Draw ``names`` into ``out`` with ``jobs`` worker processes (1: in this process, one after another), longest
    first (:func:`figure_order`), printing each figure's line when it is done and each failure's traceback on
    stderr. Returns ``(skipped, failed)``, lists of names. Raises ValueError for ``jobs`` < 1."""
    from analytic.checks import positive_int
    jobs = positive_int(jobs, "jobs")
    order = figure_order(names, full)
    skipped, failed, times = [], [], {}

    def report(result):
        name, status, detail, seconds, trained, waited = result
        if status == "ok":
            wait = f", {waited:.1f} s of it waiting for a training another figure computed" if waited >= 0.05 else ""
            print(f"{name}: {', '.join(detail)} ({seconds:.1f} s{wait})", flush=True)
            if trained:
                times[name] = seconds - waited           # its own cost, not the time another figure made it wait
        elif status == "skipped":
            skipped.append(name)
            print(f"{name}: skipped, {detail}", file=sys.stderr, flush=True)
        else:
            failed.append(name)
            print(f"{name}: FAILED after {seconds:.1f} s\n{detail}", file=sys.stderr, flush=True)

    try:
        if jobs == 1 or len(order) == 1:
            for name in order:
                report(draw_safely(name, str(out), full, render_fn=render))
        else:
            saved = {v: os.environ.get(v) for v in _BLAS_VARS}
            os.environ.update({v: "1" for v in _BLAS_VARS})     # inherited by the workers as they start
            pool = ProcessPoolExecutor(max_workers=min(jobs, len(order)), initializer=worker_init,
                                       mp_context=multiprocessing.get_context("spawn"))
            try:
                # workers run functions of figures._registry: a spawned worker cannot import this __main__
                futures = {pool.submit(draw_safely, name, str(out), full): name for name in order}
                for fut in as_completed(futures):
                    try:
                        report(fut.result())
                    except Exception as exc:     # noqa: BLE001  (the worker died: killed, out of memory)
                        report((futures[fut], "failed", f"worker process died: {exc!r}", 0.0, False, 0.0))
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            else:
                pool.shutdown()
            finally:
                for v, old in saved.items():
                    if old is None:
                        os.environ.pop(v, None)
                    else:
                        os.environ[v] = old
    finally:
        _record_seconds(times, full)
    return skipped, failed


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
    parser.add_argument("name", nargs="+", help="'list', 'all', or one or more figure names")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help=f"output folder, created if missing (default: ./{DEFAULT_OUT})")
    parser.add_argument("--full", action="store_true", help="paper-scale runs instead of the quick defaults")
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="worker processes for 'all' or several names, each with one BLAS thread (default: the "
                             f"usable cores, here {usable_cores()}); 1 draws them one after another")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    specs = discover()
    if args.name == ["list"]:
        width = max((len(n) for n in specs), default=0)
        for name, spec in specs.items():
            print(f"{name:<{width}}  {spec.description}")
        return 0
    if len(args.name) > 1 and ({"list", "all"} & set(args.name)):
        parser.error("'list' and 'all' stand alone; otherwise give figure names")
    names = list(specs) if args.name == ["all"] else list(dict.fromkeys(args.name))
    for name in names:
        if name not in specs:
            parser.error(f"unknown figure {name!r}; run 'python -m figures list'")
    try:
        out = _output_folder(args.out)
    except ValueError as exc:
        parser.error(str(exc))
    if args.name != ["all"] and len(names) == 1:
        name = names[0]
        start = time.perf_counter()
        try:
            paths = render(name, out, full=args.full)
        except FileNotFoundError as exc:          # a figure whose data files are not installed (e.g. MNIST)
            parser.exit(1, f"python -m figures: {name}: {exc}\n")
        print(f"{name}: {', '.join(str(p) for p in paths)} ({time.perf_counter() - start:.1f} s)", flush=True)
        return 0
    jobs = usable_cores() if args.jobs is None else args.jobs
    start = time.perf_counter()
    skipped, failed = draw_all(names, out, full=args.full, jobs=jobs)
    print(f"done: {len(names) - len(skipped) - len(failed)} of {len(names)} figures in "
          f"{time.perf_counter() - start:.1f} s ({jobs} job{'s' if jobs > 1 else ''})", flush=True)
    if skipped:
        print(f"skipped (data not installed): {', '.join(skipped)}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
