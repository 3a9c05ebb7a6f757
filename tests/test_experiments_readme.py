"""The README's claims table is the output of ``python -m experiments claims`` (slow: runs every quick experiment
unless the cache, ``IBT_CACHE_DIR``, already holds them)."""
from __future__ import annotations

from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_claims_table_is_generated():
    from experiments import claims_table
    from experiments.__main__ import all_claims

    text = README.read_text()
    start, end = "<!-- claims-table:start -->", "<!-- claims-table:end -->"
    pasted = text[text.index(start) + len(start):text.index(end)].strip()
    assert pasted == claims_table(all_claims("quick")).strip()


def test_readme_has_the_claims_and_figure_sections():
    text = README.read_text()
    assert "## Claims" in text and "## Paper figure → command" in text
    assert "<!-- claims-table:start -->" in text and "| paper | figure | claim |" in text


def test_claims_order_does_not_depend_on_import_order():
    import importlib

    from experiments import MODULES, discover
    from experiments.__main__ import ordered_names
    for m in reversed(MODULES):                  # import in the opposite order first
        importlib.import_module(f"experiments.{m}")
    specs = discover()
    names = ordered_names()
    modules = [specs[n].fn.__module__ for n in names]
    assert modules == sorted(modules, key=lambda mod: MODULES.index(mod.rsplit(".", 1)[1]))
