"""Install check: the package as a user gets it, away from the source tree.

1. copy the tracked (and not ignored) files of the repository into a temporary folder and build a wheel there
   (a clean copy: setuptools' build/ folder of the working tree cannot leak stale modules into the wheel);
2. create a fresh virtual environment (no system site-packages) and ``pip install`` the wheel with its declared
   dependencies (pip's cache makes repeated runs fast; no extras, so no torch);
3. from another temporary folder, with ``python -I`` (neither the working directory nor PYTHONPATH on sys.path),
   import every module of every package, check that each comes from the installed wheel, and run a smoke test:
   the exact binned MI of the scalar tanh model against the binned estimator on samples, and a 2-network,
   3-epoch training on the 12-bit task (whose data file must ship inside the package) with a streamed binned
   information plane; ``python -m figures --help``, ``python -m figures list`` and
   ``python -m experiments list`` must work and create nothing.

Usage: ``python .ci/install_check.py`` (``make install-check``); exit status 0 on success. ``--keep`` keeps the
temporary folders and prints where they are.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("analytic", "sims", "minimal_models", "experiments", "figures")

SMOKE = r'''
import importlib, os, pkgutil, sys, sysconfig
from importlib.metadata import version
from pathlib import Path

site = Path(sysconfig.get_paths()["purelib"]).resolve()
cwd_before = sorted(os.listdir("."))
packages = [p for p in PACKAGES if importlib.util.find_spec(p) is not None]
assert {"analytic", "sims", "minimal_models", "figures"} <= set(packages), packages
n_modules = 0
for name in packages:
    pkg = importlib.import_module(name)
    assert Path(pkg.__file__).resolve().is_relative_to(site), f"{name} imported from {pkg.__file__}, not the wheel"
    assert pkg.__version__ == version("ibtoolkit"), (name, pkg.__version__)
    assert (Path(pkg.__file__).parent / "py.typed").is_file(), f"{name}: py.typed not installed"
    for info in pkgutil.walk_packages(pkg.__path__, prefix=name + "."):
        if info.name.rsplit(".", 1)[-1] != "__main__":
            importlib.import_module(info.name)
            n_modules += 1

import numpy as np
from analytic import tishby_edges
from minimal_models import ScalarGaussian
from sims import MLP, datasets, estimators, train
from sims.info_plane import InfoPlaneConsumer

model = ScalarGaussian("tanh")
exact = float(model.binned_mi(np.array([0.87]), tishby_edges())[0])
x, h = model.sample(20_000, w=0.87, rng=0)
est, _ = estimators.binned(h[:, None], labels=(x > 0).astype(int), edges=tishby_edges())
assert abs(exact - 3.3625) < 1e-3, exact                 # Saxe et al. 2018, Fig. 2C: 4.851 bits near w = 0.87
assert abs(float(est) - exact) < 0.02, (float(est), exact)

data = datasets.tishby_12bit(train_fraction=0.8, seed=0)  # the .mat file inside the installed package
ip = InfoPlaneConsumer("binned", labels=data.y_analysis, edges=tishby_edges())
run = train(MLP([12, 10, 7, 5, 4, 3, 2], activation="tanh"), data, ensemble=2, epochs=3, batch_size=256,
            seed=0, log_epochs=[0, 1, 2, 3], consumers={"ip": ip}, progress=False)
assert run.accuracy["test"].shape == (2, 4), run.accuracy["test"].shape
plane = ip.to_info_plane(run, "ip")
i_xt = np.asarray(plane.i_xt)
assert i_xt.size and np.isfinite(i_xt).all() and (i_xt <= np.log(4096) + 1e-9).all()
assert sorted(os.listdir(".")) == cwd_before, "the smoke test wrote into the working directory"
print(f"install check: {n_modules} modules of {', '.join(packages)} imported from {site}; "
      f"binned MI exact {exact:.4f} / estimated {float(est):.4f} nats; 12-bit run {run.accuracy['test'].shape}")
'''


def _run(cmd, **kwargs):
    kwargs.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kwargs)


def _copy_tree(dest: Path) -> None:
    """The files git would ship (tracked + untracked-not-ignored), as they are in the working tree."""
    listed = _run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                  capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ibt-install-check-"))
    clock = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
               OPENBLAS_NUM_THREADS=env.get("OPENBLAS_NUM_THREADS", "1"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    try:
        src, dist, venv, outside = (work / d for d in ("src", "dist", "venv", "elsewhere"))
        for d in (src, dist, outside):
            d.mkdir()
        _copy_tree(src)
        # The build backend (setuptools, wheel) comes from the interpreter running this check: no download.
        _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", dist, src],
             env=env, cwd=work)
        wheels = sorted(dist.glob("ibtoolkit-*.whl"))
        assert len(wheels) == 1, wheels
        t_build = time.perf_counter() - clock
        _run([sys.executable, "-m", "venv", venv], env=env)
        python = venv / "bin" / "python"
        _run([python, "-m", "pip", "install", "-qq", wheels[0]], env=env, cwd=outside)
        t_install = time.perf_counter() - clock - t_build
        smoke = work / "smoke.py"
        smoke.write_text(f"PACKAGES = {PACKAGES!r}\n" + SMOKE)
        _run([python, "-I", smoke], env=env, cwd=outside)
        for package, cli, expected in (("figures", "--help", "ibtoolkit-figures"), ("figures", "list", "saxe-fig2"),
                                       ("experiments", "list", "saxe-fig1")):
            if package in PACKAGES and (src / package / "__main__.py").is_file():
                out = _run([python, "-I", "-m", package, cli], env=env, cwd=outside, capture_output=True, text=True)
                assert expected in out.stdout, f"python -m {package} {cli}: {out.stdout[-500:]}"
        assert not any(outside.iterdir()), f"files left in {outside}: {sorted(os.listdir(outside))}"
        print(f"install check passed: wheel {wheels[0].name} built in {t_build:.1f} s, fresh venv + install "
              f"{t_install:.1f} s, total {time.perf_counter() - clock:.1f} s", flush=True)
        return 0
    except (subprocess.CalledProcessError, AssertionError) as exc:
        print(f"install check FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
