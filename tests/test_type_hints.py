"""Every public function and method of the toolkit carries type hints (parameters and return).

Public: the names in a module's ``__all__`` (or, without one, the names not starting with an underscore that
the module defines), in every non-private module of the five packages; for a class, its public methods and
``__init__`` / ``__call__`` / ``__new__`` defined in the class itself, properties included (their getter).
``self`` / ``cls`` and ``*args`` / ``**kwargs`` may go unannotated. Names that a private module defines are
checked where a package re-exports them. The hints must also evaluate in their module (no misspelt or
unimported names; names imported under ``if TYPE_CHECKING:`` count as defined).

``NOT_YET_HINTED`` lists the modules still without full hints. It only shrinks: a listed module that is now
fully hinted fails :func:`test_allow_list_only_shrinks` until its entry is removed.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

PACKAGES = ("analytic", "sims", "minimal_models", "experiments", "figures")
CLASS_DUNDERS = ("__init__", "__call__", "__new__")

#: Modules not yet fully hinted (issue 11, item 7). Remove an entry once its module is done; never add one
#: for a new module (write the hints with it).
NOT_YET_HINTED: set[str] = set()


def _modules():
    for name in PACKAGES:
        pkg = importlib.import_module(name)
        yield pkg
        for info in pkgutil.walk_packages(pkg.__path__, name + "."):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            yield importlib.import_module(info.name)


def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] in PACKAGES


def _public_objects(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, o in vars(module).items()
                 if not n.startswith("_") and getattr(o, "__module__", None) == module.__name__]
    return [getattr(module, n) for n in names]


def _functions(obj):
    """The functions of a public object that must be hinted (none for constants and submodules)."""
    if inspect.isfunction(obj) and _ours(obj):
        yield obj
    elif inspect.isclass(obj) and _ours(obj):
        for name, attr in vars(obj).items():
            if name.startswith("_") and name not in CLASS_DUNDERS:
                continue
            if isinstance(attr, (staticmethod, classmethod)):
                attr = attr.__func__
            elif isinstance(attr, property):
                attr = attr.fget
            if inspect.isfunction(attr) and attr.__qualname__.startswith(obj.__qualname__ + "."):
                yield attr   # defined in the class itself (not generated, not inherited)


def _missing(fn) -> list[str]:
    sig = inspect.signature(fn)
    out = []
    for i, (name, p) in enumerate(sig.parameters.items()):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or (i == 0 and name in ("self", "cls")):
            continue
        if p.annotation is p.empty:
            out.append(name)
    if sig.return_annotation is sig.empty:
        out.append("return")
    return out


def _public_functions():
    seen = set()
    for module in _modules():
        for obj in _public_objects(module):
            for fn in _functions(obj):
                key = (fn.__module__, fn.__qualname__)
                if key not in seen:
                    seen.add(key)
                    yield fn


def _report(functions):
    """module name -> (number of public functions, {qualname: missing annotations})."""
    report = {}
    for fn in functions:
        count, missing = report.setdefault(fn.__module__, [0, {}])
        report[fn.__module__][0] = count + 1
        gaps = _missing(fn)
        if gaps:
            missing[fn.__qualname__] = gaps
    return report


class _TypeCheckingName:
    """Stands for a name imported only under ``if TYPE_CHECKING:`` (not imported at run time)."""

    def __getattr__(self, name):
        return self

    def __getitem__(self, item):
        return self

    def __or__(self, other):
        return self

    __ror__ = __or__


def _type_checking_names(module) -> set[str]:
    tree = ast.parse(inspect.getsource(module))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in ast.walk(node):
                if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
    return names


@pytest.fixture(scope="module")
def functions():
    return list(_public_functions())


@pytest.fixture(scope="module")
def report(functions):
    return _report(functions)


def test_public_functions_are_hinted(report):
    gaps = {f"{mod}.{qual}": miss for mod, (_, missing) in report.items() if mod not in NOT_YET_HINTED
            for qual, miss in missing.items()}
    assert not gaps, "public functions without type hints (parameter names, 'return'):\n" + "\n".join(
        f"  {name}: {miss}" for name, miss in sorted(gaps.items()))


def test_allow_list_only_shrinks(report):
    done = sorted(mod for mod in NOT_YET_HINTED if mod in report and not report[mod][1])
    assert not done, f"fully hinted now: remove from NOT_YET_HINTED in {__file__}: {done}"


def test_hints_name_what_they_mean(functions):
    # every annotation (strings, under ``from __future__ import annotations``) evaluates in its module, names
    # imported under TYPE_CHECKING standing in as placeholders: no misspelt or unimported names
    spaces, bad = {}, []
    for fn in functions:
        if fn.__module__ in NOT_YET_HINTED:
            continue
        if fn.__module__ not in spaces:
            module = sys.modules[fn.__module__]
            spaces[fn.__module__] = {**{n: _TypeCheckingName() for n in _type_checking_names(module)},
                                     **vars(module)}
        for name, hint in fn.__annotations__.items():
            if isinstance(hint, str):
                try:
                    eval(hint, dict(spaces[fn.__module__]))
                except Exception as exc:  # noqa: BLE001 - any failure is the finding
                    bad.append(f"{fn.__module__}.{fn.__qualname__} {name}: {hint!r} ({type(exc).__name__}: {exc})")
    assert not bad, "annotations that do not evaluate:\n" + "\n".join(bad)


def test_the_walk_finds_the_api(report):
    # the walk reaches the packages' main entry points (a broken walk would pass the tests above vacuously)
    for mod in ("analytic.scalar_channel", "sims.estimators.binned", "sims.run", "minimal_models.single_neuron"):
        assert report.get(mod, [0])[0] > 0, mod
    assert sum(count for count, _ in report.values()) > 200
