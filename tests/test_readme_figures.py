"""The README's Figures table lists exactly the registered figures (``python -m figures list``)."""
import re
from pathlib import Path

from figures._registry import discover

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_figures_table_lists_every_registered_figure():
    text = README.read_text()
    section = text[text.index("## Figures"):text.index("## Paper figure")]
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, re.M))
    names = set(discover())
    assert not names - rows, f"figures missing from the README table: {sorted(names - rows)}"
    assert not rows - names, f"README rows for figures that do not exist: {sorted(rows - names)}"
