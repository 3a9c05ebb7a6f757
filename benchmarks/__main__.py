"""``python -m benchmarks all`` runs every ``benchmarks/bench_*.py`` script; ``python -m benchmarks NAME`` one."""
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv):
    scripts = sorted(HERE.glob("bench_*.py"))
    which = argv[0] if argv else "all"
    chosen = scripts if which == "all" else [s for s in scripts if s.stem in (which, f"bench_{which}")]
    if not chosen:
        sys.exit(f"unknown benchmark {which!r}; have: {', '.join(s.stem for s in scripts)}")
    for s in chosen:
        print(f"== {s.stem}", flush=True)
        runpy.run_path(str(s), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
