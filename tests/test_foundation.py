"""The shared core: activations, checks, units, figure registry, layering."""
import ast
import os
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from analytic import checks
from analytic.activations import ACTIVATION_NAMES, get_activation
from analytic.units import to_bits, to_nats

REPO = Path(__file__).resolve().parents[1]
X = np.linspace(-4, 4, 81)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_finite_difference(name):
    f = get_activation(name)
    x = X[np.abs(X) > 1e-3]
    x = x[np.abs(np.abs(x) - 1) > 1e-3]  # away from kinks (relu at 0, hardtanh at +-1)
    h = 1e-6
    fd = (f.value(x + h) - f.value(x - h)) / (2 * h)
    np.testing.assert_allclose(f.derivative(x), fd, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_generalized_inverse_is_exact_threshold(name):
    """f(x) < y  <=>  x < g(y) for non-decreasing f: checked on a dense grid of x and y."""
    f = get_activation(name)
    x = np.linspace(-6, 6, 2401)
    y = np.concatenate([np.linspace(-2.5, 2.5, 101), [-1.0, 0.0, 1.0]])
    g = f.generalized_inverse(y)
    lhs = f.value(x)[None, :] < y[:, None]
    rhs = x[None, :] < g[:, None]
    assert np.array_equal(lhs, rhs)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_sympy_form_matches_numeric(name):
    f = get_activation(name)
    s = sp.Symbol("s", real=True)
    g = sp.lambdify(s, f.sympy(s), "mpmath")
    for x in (-2.3, -0.4, 0.7, 3.1):
        assert abs(float(g(x)) - float(f.value(x))) < 1e-12


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_from_value_is_exact_identity(name):
    f = get_activation(name)
    z = np.concatenate([np.linspace(-40, 40, 4001), [0.0, -0.0, 1e-300, -1.0, 1.0]])
    np.testing.assert_allclose(f.derivative_from_value(f.value(z)), f.derivative(z), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_stays_float32(name):
    f = get_activation(name)
    z = np.linspace(-3, 3, 7, dtype=np.float32)
    assert f.value(z).dtype == np.float32
    assert f.derivative(z).dtype == np.float32
    assert f.derivative_from_value(f.value(z)).dtype == np.float32
    assert f.value([1, 2]).dtype == np.float64  # integers are computed in float64


def test_ranges_and_atoms():
    assert get_activation("tanh").range == (-1.0, 1.0) and get_activation("tanh").double_saturating
    assert not get_activation("relu").double_saturating and get_activation("relu").atoms == (0.0,)
    assert get_activation("hardtanh").atoms == (-1.0, 1.0)
    assert get_activation("leaky_relu", slope=0.25).value(-4.0) == -1.0


def test_bad_activation_input():
    with pytest.raises(ValueError, match="activation"):
        get_activation("swishy")
    with pytest.raises(ValueError, match="slope"):
        get_activation("leaky_relu", slope=1.5)
    with pytest.raises(ValueError, match="activation"):
        get_activation("tanh", slope=0.1)


def test_checks_name_the_argument():
    with pytest.raises(ValueError, match="noise_std"):
        checks.positive(0.0, "noise_std")
    with pytest.raises(ValueError, match="w"):
        checks.finite_array([1.0, np.nan], "w")
    with pytest.raises(ValueError, match="edges"):
        checks.sorted_edges([0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="labels"):
        checks.labels_for(np.zeros(3), 4)
    with pytest.raises(ValueError, match="width"):
        checks.positive_int(0, "width")


def test_gaussian_entropy_matches_scipy():
    """Closed form (d/2) ln(2 pi e var) against scipy.stats' independent implementation."""
    from scipy.stats import multivariate_normal, norm

    from analytic.gaussian import gaussian_entropy
    for var in (1e-6, 0.01, 1.0, 37.5):
        assert gaussian_entropy(var) == pytest.approx(norm(scale=np.sqrt(var)).entropy(), rel=1e-13, abs=1e-13)
        for d in (2, 5):
            ref = multivariate_normal(mean=np.zeros(d), cov=var * np.eye(d)).entropy()
            assert gaussian_entropy(var, d) == pytest.approx(ref, rel=1e-12, abs=1e-12)


def test_units_roundtrip():
    assert to_bits(np.log(2.0)) == pytest.approx(1.0)
    np.testing.assert_allclose(to_nats(to_bits(np.arange(4.0))), np.arange(4.0))


def _imports(package):
    found = set()
    for path in (REPO / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_layering():
    """analytic imports nothing of ours; sims only analytic; minimal_models not experiments or figures;
    experiments not figures."""
    assert not _imports("analytic") & {"sims", "minimal_models", "experiments", "figures"}
    assert not _imports("sims") & {"minimal_models", "experiments", "figures"}
    assert not _imports("minimal_models") & {"experiments", "figures"}
    assert "figures" not in _imports("experiments")


def test_figure_registry_lists_and_renders(tmp_path):
    from figures import discover, render
    specs = discover()
    assert specs, "no figures registered"
    with pytest.raises(ValueError, match="figure"):
        render("no-such-figure", tmp_path)


# ---- python -m figures: output folder (never a package-shadowing folder), bad --out --------------------------------

def _figures_cli(cwd, *args):
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "figures", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_figures_cli_outside_repo_creates_no_package_folder(tmp_path):
    """From a temp dir: the default output folder is ./ibtoolkit-figures, stated in --help; nothing named like a
    package appears, and a second call still finds every figure (the shadowing trap of a ./figures folder)."""
    from figures.__main__ import DEFAULT_OUT, PACKAGE_NAMES
    assert DEFAULT_OUT not in PACKAGE_NAMES
    help_text = _figures_cli(tmp_path, "--help")
    assert help_text.returncode == 0 and "ibtoolkit-figures" in help_text.stdout
    first = _figures_cli(tmp_path, "saxe-fig2")
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ibtoolkit-figures"]
    written = {p.name for p in (tmp_path / "ibtoolkit-figures").iterdir()}
    assert {"saxe-fig2.png", "saxe-fig2.pdf"} <= written and all(n.startswith("saxe-fig2.") for n in written)
    listed = _figures_cli(tmp_path, "list")
    assert listed.returncode == 0 and "saxe-fig2" in listed.stdout and "goldfeld-single-neuron" in listed.stdout
    refused = _figures_cli(tmp_path, "saxe-fig2", "--out", "figures/out")
    assert refused.returncode == 2 and "shadow" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize("out, message", [("", "empty"), ("   ", "empty"), ("afile", "existing file"),
                                          ("afile/sub", "is a file"), ("sims", "shadow")])
def test_figures_cli_rejects_bad_out(tmp_path, monkeypatch, capsys, out, message):
    from figures.__main__ import main
    (tmp_path / "afile").write_text("x")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["saxe-fig2", "--out", out])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--out" in err and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_figures_cli_read_only_out(tmp_path, monkeypatch, capsys):
    """A folder that cannot be written is reported before any figure is computed (chmod where that binds, and a
    simulated refusal for root, whom chmod does not stop)."""
    import figures.__main__ as cli
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):  # root: simulate the refusal the OS would give anyone else
            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied")
            monkeypatch.setattr(cli.tempfile, "TemporaryFile", refuse)
        monkeypatch.setattr(cli, "render", lambda *a, **k: pytest.fail("rendered into an unwritable folder"))
        with pytest.raises(SystemExit) as exc:
            cli.main(["saxe-fig2", "--out", str(ro)])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "not a writable folder" in err and "Permission denied" in err
    finally:
        ro.chmod(0o755)
