"""The package as installed from a wheel: contents (fast), a fresh-venv install used from elsewhere (slow), and the
docstring examples with torch unavailable."""
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("install_check", REPO / ".ci" / "install_check.py")
install_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_check)

PACKAGE_DIRS = [p for p in install_check.PACKAGES if (REPO / p / "__init__.py").is_file()]


def _source_packages():
    """Every folder with an __init__.py below the top-level packages, as dotted names."""
    return sorted(".".join(init.parent.relative_to(REPO).parts)
                  for top in PACKAGE_DIRS for init in (REPO / top).rglob("__init__.py")
                  if "__pycache__" not in init.parts)


def test_wheel_contains_every_package_data_and_license(tmp_path):
    src, dist = tmp_path / "src", tmp_path / "dist"
    src.mkdir()
    install_check._copy_tree(src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(dist), str(src)], check=True, capture_output=True)
    (wheel,) = dist.glob("ibtoolkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for pkg in _source_packages():
        assert f"{pkg.replace('.', '/')}/__init__.py" in names, f"{pkg} missing from the wheel"
    for top in PACKAGE_DIRS:
        assert f"{top}/py.typed" in names
    assert "sims/data/var_u.mat" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    assert any(n.endswith("licenses/LICENSE") for n in names)


@pytest.mark.slow
def test_fresh_venv_install_used_from_a_temp_dir():
    """``.ci/install_check.py`` (also ``make install-check``, run by CI): measured ~26 s with pip's cache warm."""
    assert install_check.main([]) == 0


_BLOCK_TORCH = r'''
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoTorch())
import pytest
sys.exit(pytest.main(sys.argv[1:]))
'''


@pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                    reason="torch is not installed: the default run already collects the doctests without it")
def test_doctests_collect_and_pass_without_torch(tmp_path):
    """With torch unimportable (as on an install without the torch extra), every docstring example is collected
    and passes (torch-only examples skip themselves)."""
    runner = tmp_path / "no_torch_pytest.py"
    runner.write_text(_BLOCK_TORCH)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(runner), "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--doctest-modules", *PACKAGE_DIRS], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
