"""Progress bars for long operations: tqdm when installed (the ``progress`` extra), silence otherwise.

In a Jupyter kernel with ``ipywidgets`` installed the bars are notebook widgets (``tqdm.auto``); without
``ipywidgets`` they fall back to text bars, without tqdm's "IProgress not found" warning (the fallback is logged
once at INFO level on the ``sims.progress`` logger). Without tqdm there is no bar at all.

>>> list(progress(range(3), enable=False))
[0, 1, 2]
>>> with bar(total=2, desc="demo", enable=False) as b:
...     b.update(2)
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Iterable

__all__ = ["progress", "bar", "tqdm_class"]

logger = logging.getLogger(__name__)
_warned = []


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
        return shell is not None and "IPKernelApp" in shell.config
    except Exception:                                     # pragma: no cover - foreign IPython states
        return False


def tqdm_class() -> type | None:
    """The tqdm class to use here and now (widgets in notebooks with ipywidgets, text otherwise), or None."""
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return None
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401
        except ImportError:
            if not _warned:
                _warned.append(True)
                logger.info("ipywidgets is not installed: text progress bars (pip install 'ibtoolkit[progress]' "
                            "for notebook widgets)")
            from tqdm.std import tqdm as cls
            return cls
    from tqdm.auto import tqdm as cls
    return cls


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
             enable: bool = True) -> Iterable:
    """Wrap ``iterable`` in a tqdm bar when tqdm is importable and ``enable``; else return it unchanged."""
    cls = tqdm_class() if enable else None
    if cls is not None:
        return cls(iterable, total=total, desc=desc, leave=False)
    return iterable if iterable is not None else range(total or 0)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def bar(total: int, desc: str | None = None, enable: bool = True) -> Any:
    """A manually updated bar (``with bar(n, "what") as b: ... b.update(k)``); a silent stand-in if disabled."""
    cls = tqdm_class() if enable else None
    if cls is None:
        return _NoBar()
    return cls(total=total, desc=desc, leave=False)
