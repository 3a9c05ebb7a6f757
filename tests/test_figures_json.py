"""Every rendered figure writes NAME.json beside NAME.png: its claims and the numbers drawn."""
from __future__ import annotations

import json

import numpy as np

from experiments.claims import Claim
from figures import _registry as reg


def test_render_writes_claims_and_numbers(tmp_path, monkeypatch):
    def draw(full=False):
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [0.5, np.nan, 2.0], label="curve")
        ax.scatter([1.0], [3.0], c=[7.0])
        ax.set_title("T")
        c = Claim.measured("P 2000", "Fig. 1", "s", [1.0, 2.0], ">", 0.5, quantity="q")
        return reg.attach_claims(fig, [c], extra=np.arange(2))

    monkeypatch.setitem(reg.FIGURES, "test-json-fig", reg.FigureSpec("test-json-fig", "a test", draw))
    monkeypatch.setattr(reg, "discover", lambda: dict(reg.FIGURES))
    paths = reg.render("test-json-fig", tmp_path)
    assert sorted(p.suffix for p in paths) == [".json", ".pdf", ".png"]
    rec = json.loads((tmp_path / "test-json-fig.json").read_text())
    assert rec["claims"][0]["figure"] == "Fig. 1" and rec["claims"][0]["holds"] is True
    assert rec["numbers"] == {"extra": [0, 1]}
    ax = rec["axes"][0]
    assert ax["title"] == "T"
    line = next(s for s in ax["series"] if s["kind"] == "line")
    assert line["label"] == "curve" and line["y"] == [0.5, None, 2.0]
    pts = next(s for s in ax["series"] if s["kind"] == "points")
    assert pts["x"] == [1.0] and pts["colour_value"] == [7.0]


def test_hidden_under_marks_overdrawn_curves_and_ignores_undrawn_ones():
    """A curve within 0.05 of an earlier one is marked as drawn over it; curves drawn nowhere (all NaN) mark
    nothing and raise no warning."""
    import warnings
    import numpy as np
    from figures._infoplane import hidden_under
    nan = np.nan
    curves = [np.array([1.0, 2.0]), np.array([1.01, 2.0]), np.array([nan, nan]), np.array([nan, nan]),
              np.array([5.0, nan])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = hidden_under(curves, ["a (x)", "b (y)", "c", "d", "e"])
    assert names == ["a (x)", "b (y), drawn over a", "c", "d", "e"]
