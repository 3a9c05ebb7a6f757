"""The README runs as written: every ```python block, in a fresh namespace, from an empty temporary folder.

A block preceded by the line ``<!-- readme-test: slow -->`` (invisible on the rendered page) runs only with
``make test-slow``; every other block runs in the default suite. The images the README shows must be files in the
repository that git does not ignore, and the text cites papers, not documents that are not in the repository.
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SLOW_MARK = "<!-- readme-test: slow -->"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


def readme_blocks(text):
    """[(line, heading, slow, code)] for the python blocks of a markdown text (line: 1-based, of the fence)."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[:match.start()]
        line = before.count("\n") + 1
        headings = re.findall(r"^#{1,4} (.+)$", before, re.M)
        previous = before.rstrip("\n").rsplit("\n", 1)[-1].strip()
        blocks.append((line, headings[-1] if headings else "top", previous == SLOW_MARK, match.group(1)))
    return blocks


def _params():
    params = []
    for line, heading, slow, code in readme_blocks(README.read_text()):
        slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")[:40]
        params.append(pytest.param(line, code, id=f"line{line}-{slug}", marks=[pytest.mark.slow] if slow else []))
    return params


def test_block_parser_finds_blocks_and_marks():
    text = "# T\n\n```python\na = 1\n```\n\n## S\n" + SLOW_MARK + "\n```python\nb = 2\n```\n```bash\nls\n```\n"
    assert readme_blocks(text) == [(3, "T", False, "a = 1\n"), (9, "S", True, "b = 2\n")]
    assert len(_params()) >= 8


@pytest.mark.parametrize("line, code", _params())
def test_readme_python_block_runs(line, code, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    monkeypatch.chdir(tmp_path)
    try:
        exec(compile(code, f"README.md, block at line {line}", "exec"), {"__name__": "__main__"})
    finally:
        plt.close("all")


def test_readme_starts_with_make_figures_and_make_test():
    text = README.read_text()
    first = re.search(r"^```bash\n(.*?)^```", text, re.S | re.M)
    assert first and text.index(first.group(0)) < text.index("```python")
    commands = [ln.split("#")[0].split() for ln in first.group(1).splitlines() if ln.strip()]
    assert commands[:2] == [["make", "figures"], ["make", "test"]]
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))
    assert {c[1] for c in commands if c[0] == "make"} <= targets
    assert "make docs" in text


def test_readme_images_are_committed_files():
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", README.read_text())
    images += re.findall(r"<img[^>]+src=\"([^\"]+)\"", README.read_text())
    assert images, "the README shows no image"
    git = shutil.which("git") and (REPO / ".git").exists()
    for rel in images:
        assert not re.match(r"[a-z]+://", rel), f"{rel}: the README must show files of the repository"
        assert (REPO / rel).is_file(), f"{rel}: no such file"
        if git:
            ignored = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", rel]).returncode == 0
            assert not ignored, f"{rel} is ignored by git: missing on a fresh clone"


_OUTSIDE_DOCUMENTS = re.compile(r"SPECS|\b[Ss]eed 0\d\d\b")


def test_citations_are_papers_not_documents_outside_the_repository():
    """The science reference the developers used (a SPECS file and numbered 'seed' documents) is not part of the
    repository, so neither the README nor any docstring or comment may cite it."""
    offenders = []
    for path in [README, *REPO.glob("*.md")] + [p for top in ("analytic", "sims", "minimal_models", "experiments",
                                                             "figures", "tests", "benchmarks", "docs")
                                               for p in (REPO / top).rglob("*") if p.suffix in (".py", ".rst", ".md")]:
        if path.resolve() == Path(__file__).resolve():
            continue
        for number, text in enumerate(path.read_text().splitlines(), 1):
            if _OUTSIDE_DOCUMENTS.search(text):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {text.strip()[:100]}")
    assert not offenders, "\n".join(offenders)
