"""Progress bars: tqdm when installed (the ``progress`` extra), silence otherwise."""
from __future__ import annotations

__all__ = ["progress"]


def progress(iterable=None, *, total=None, desc=None, enable=True):
    """Wrap ``iterable`` in a tqdm bar when tqdm is importable and ``enable``; else return it unchanged."""
    if enable:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            pass
        else:
            return tqdm(iterable, total=total, desc=desc, leave=False)
    return iterable if iterable is not None else range(total or 0)
