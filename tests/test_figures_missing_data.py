"""``python -m figures all`` without optional data files (MNIST): those figures are skipped with a note, the rest
render, and nothing is downloaded."""
import pytest

import figures.__main__ as cli
from experiments import mnist


def test_all_skips_figures_whose_data_is_missing(monkeypatch, tmp_path, capsys):
    rendered = []

    def fake_render(name, out, full=False):
        if name.startswith(("mnist", "cnn")):
            raise FileNotFoundError("MNIST files not found")
        rendered.append(name)
        return []

    monkeypatch.setattr(cli, "render", fake_render)
    assert cli.main(["all", "--jobs", "1", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "skipped (data not installed)" in err and "mnist-fig1cd" in err
    assert "saxe-fig2" in rendered and not any(n.startswith("mnist") for n in rendered)


def test_one_missing_data_figure_fails_with_a_message(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "render", lambda *a, **k: (_ for _ in ()).throw(FileNotFoundError("MNIST files not found")))
    with pytest.raises(SystemExit) as exc:
        cli.main(["mnist-fig1cd", "--out", str(tmp_path / "out")])
    assert exc.value.code == 1


def test_experiments_never_download_mnist(monkeypatch, tmp_path):
    calls = []

    def fake_mnist(data_dir=None, download=True, **kw):
        calls.append(download)
        raise FileNotFoundError("absent")

    monkeypatch.setattr(mnist.datasets, "mnist", fake_mnist)
    monkeypatch.setattr(mnist.datasets, "MNIST_FILES", ("no-such-file",))
    with pytest.raises(FileNotFoundError, match="download=True"):
        mnist.load_mnist()
    assert calls and not any(calls)


def test_quick_scales_need_no_torch():
    """``make figures`` installs the core package only (no torch): no quick scale may ask for the torch backend."""
    from experiments import cnn
    assert cnn.CNN_SCALES["quick"]["backend"] == "numpy"
