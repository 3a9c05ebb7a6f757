"""Sphinx configuration of the API reference (``make docs``: warnings are errors, no network needed).

Pages: one per package (``api/*.rst``), each listing its modules, whose pages autosummary generates from the
docstrings (numpydoc format; math rendered by MathJax in the browser); the figure gallery (``gallery.rst`` and the
committed images in ``images/``, both written by ``render_images.py``).
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the source tree (also when it is not installed)
os.environ.setdefault("MPLBACKEND", "Agg")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from analytic import __version__  # noqa: E402

project = "ibtoolkit"
author = "ibtoolkit contributors"
copyright = "2026, ibtoolkit contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax", "sphinx.ext.viewcode",
              "numpydoc"]
templates_path = ["_templates"]
exclude_patterns = ["_build", "render_images.py"]
autosummary_generate = True
autosummary_generate_overwrite = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_inherit_docstrings = False  # no docstrings of NumPy/SciPy functions our classes wrap
autodoc_typehints = "none"          # signatures as written; the numpydoc sections carry the types
numpydoc_show_class_members = False  # members are documented by autodoc below each class
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Exact and simulated information flow in neural networks",
                      "fixed_sidebar": True}


# ---- plain-text mathematics in docstrings ----------------------------------------------------------------------
# The docstrings write formulas as plain text (|w|, ||mean||, lambda_+), which reStructuredText would read as
# substitution references and hyperlink targets. Outside inline literals, roles, doctest and literal blocks, a
# bar and a word-final underscore are therefore escaped before numpydoc and docutils see them: the page shows the
# text as written.
import re  # noqa: E402

import numpy as np  # noqa: E402

_INLINE = re.compile(r"(``.+?``|:[\w:.-]+:`[^`]*`|`[^`]*`_{0,2})")
_TARGET = re.compile(r"(?<=\w)_(?=[\s.,;:!?)\]}'\"/\\>-]|$)")


def _escape_text(text: str) -> str:
    parts = _INLINE.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = _TARGET.sub(r"\\_", parts[i].replace("|", r"\|"))
    return "".join(parts)


def escape_plain_math(app, what, name, obj, options, lines):
    literal_indent = None   # indentation of the line that opened a literal block ("::" or a directive)
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if not stripped:
            in_doctest = False
            continue
        if literal_indent is not None:
            if indent > literal_indent:
                continue
            literal_indent = None
        if stripped.startswith(">>>") or in_doctest:
            in_doctest = True
            continue
        if stripped.startswith((".. ", "| ", "+-", "+=")):  # directives, line blocks, grid tables
            if stripped.startswith(".. "):
                literal_indent = indent
            continue
        lines[i] = _escape_text(line)
        if stripped.endswith("::"):
            literal_indent = indent


def skip_foreign_callables(app, what, name, obj, skip, options):
    """NumPy/SciPy ufuncs assigned as class attributes are not ours to document (and autodoc cannot sign them)."""
    if isinstance(obj, np.ufunc):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", escape_plain_math, priority=400)  # before numpydoc (500)
    app.connect("autodoc-skip-member", skip_foreign_callables)
