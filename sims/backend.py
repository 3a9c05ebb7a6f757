"""Array namespaces for the simulator: NumPy (default) and torch (optional, CPU or CUDA).

The training code is written once against the small interface below; a :class:`Backend` maps each
call to NumPy or torch. Only the operations the simulator needs are here, each with the same
semantics on both sides, so that a float64 run gives the same numbers (to rounding) on either. A backend is
also the array namespace the activations compute with (``act.value(z, xp=backend)``: the elementwise
operations of :class:`analytic.activations.NumpyOps`), so activations and the simulator share one dispatch.
The torch backend computes in torch, on the CPU as on CUDA.

The float64 tanh: ``NumpyBackend(fast_tanh=...)`` chooses between ``np.tanh`` and
:func:`analytic.fast_tanh.fast_tanh` (within 3 ulp, 3.5x faster where NumPy's float64 tanh is not AVX-512
code) for float64 arrays of at least 4096 values. ``None`` (default) decides from NumPy's dispatch report, once
per machine; ``True`` / ``False`` force it (results then change by at most a few ulp per tanh).

All randomness is drawn by NumPy's ``Generator`` *outside* the backend and copied in, so the two
backends see identical initial weights, shuffles and noise.

>>> be = get_backend("numpy")
>>> be.matmul(be.asarray([[1.0, 2.0]]), be.asarray([[3.0], [4.0]])).tolist()
[[11.0]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import scipy.special as sc
from numpy.typing import ArrayLike, DTypeLike

from analytic.activations import NumpyOps
from analytic.checks import positive_int
from analytic.fast_tanh import fast_tanh as _fast_tanh
from analytic.fast_tanh import numpy_float64_tanh_is_vectorized

if TYPE_CHECKING:
    import torch

__all__ = ["Backend", "NumpyBackend", "TorchBackend", "get_backend", "backend_of", "is_torch", "retain_freed_memory",
           "blas_threads_from_environment", "usable_cores", "thread_map", "work_array", "DTYPES"]

DTYPES = ("float64", "float32")


def _dtype_name(dtype) -> str:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    return name


def retain_freed_memory(max_bytes: int = 512 * 2**20) -> bool:
    """Let the C allocator (glibc) keep freed memory for reuse instead of returning it to the OS; process-wide.

    The simulator allocates and frees arrays of ~1 MB many times per step. By default glibc serves blocks this size
    from memory it returns to the OS soon after they are freed (its trim threshold), so each new array costs page
    faults and zeroing: measured 2.2x on a training step of the 12-bit ensemble (E = 50, B = 256; 4.2 ms -> 1.9 ms,
    BENCHMARKS.md). This call sets glibc's mmap threshold to 32 MiB and its trim threshold to ``max_bytes``, so up
    to ``max_bytes`` of freed memory stay in the process (resident) for reuse. It changes the whole process and
    cannot be undone (glibc then keeps these fixed thresholds), which is why the toolkit never calls it on its
    own. Returns False (and changes nothing) where the C library is not glibc.
    """
    import ctypes
    import ctypes.util
    max_bytes = positive_int(max_bytes, "max_bytes", minimum=0)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 32 * 2**20)) and bool(mallopt(M_TRIM_THRESHOLD, int(min(max_bytes, 2**31 - 1))))


def blas_threads_from_environment(default: int = 1) -> int:
    """Pin the BLAS libraries already loaded to ``OPENBLAS_NUM_THREADS`` (``default`` where unset), and return it.

    OpenBLAS reads its thread count once, when numpy loads it; a command-line entry point that sets the variable
    after ``import numpy`` (``python -m pkg`` imports ``pkg/__init__`` first) would otherwise have no effect. The
    toolkit's products are small: on a shared 2-core machine one BLAS thread was 11x faster than two for a whole
    experiment (``saxe-fig6``, measured at load 9). An explicit setting in the environment wins.

    >>> blas_threads_from_environment() >= 1
    True
    """
    import os

    from threadpoolctl import threadpool_limits

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(int(default)))
    try:
        n = max(1, int(os.environ["OPENBLAS_NUM_THREADS"]))
    except ValueError:
        raise ValueError(f"OPENBLAS_NUM_THREADS must be a whole number, got {os.environ['OPENBLAS_NUM_THREADS']!r}"
                         ) from None
    threadpool_limits(limits=n, user_api="blas")
    return n


def usable_cores() -> int:
    """The number of cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count()`` elsewhere).

    >>> usable_cores() >= 1
    True
    """
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                       # pragma: no cover  (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def thread_map(fn: Callable[..., Any], jobs: Sequence[Sequence[Any]], threads: int) -> list[Any]:
    """``[fn(*job) for job in jobs]``, spread over up to ``threads`` threads, BLAS pinned to one thread meanwhile.

    NumPy releases the GIL inside its array loops (exp, products, sorts), so independent estimates on two threads
    use two cores; the results are the same numbers as the serial loop's, in the order of ``jobs``.

    >>> thread_map(lambda a, b: a + b, [(1, 2), (3, 4)], threads=2)
    [3, 7]
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    jobs = list(jobs)
    n = int(threads)
    if n < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    with threadpool_limits(limits=1, user_api="blas"):
        if n == 1 or len(jobs) <= 1:
            return [fn(*j) for j in jobs]
        with ThreadPoolExecutor(max_workers=min(n, len(jobs))) as ex:
            return list(ex.map(lambda j: fn(*j), jobs))


def is_torch(a: object) -> bool:
    """Whether ``a`` is a torch tensor (decided without importing torch)."""
    return type(a).__module__.startswith("torch")


class Backend:
    """Interface shared by the NumPy and torch namespaces (see the two subclasses).

    Conversion: ``asarray``, ``asindex``, ``to_numpy``, ``cast``, ``empty``, ``zeros``, ``copy``, ``contiguous``;
    products: ``matmul``, ``matmul_into``, ``shared_matmul``, ``mT``; gathers: ``take_columns``, ``take_rows``;
    reductions: ``sum``, ``sum_last_into``, ``logsumexp``, ``argmax``, ``all_finite``, ``max_abs_rows``;
    elementwise: ``exp``, ``log``, ``sqrt``, ``softplus``, ``sigmoid``, ``softmax``, ``tanh`` and the in-place
    ``*_into`` (``add``, ``sub``, ``mul``, ``div``, ``maximum``, ``sqrt``, ``exp``, ``tanh``) / ``assign``; and the
    activations' namespace (:class:`analytic.activations.NumpyOps`: ``tanh``, ``sigmoid``, ``exp``, ``expm1``,
    ``abs``, ``where``, ``relu``, ``clip``, ``softplus``, ``ones_like``, ``step``, ``inside``).
    """

    name = "abstract"


# Over the class axis 1 of an (E, k, S) array with few classes, k elementwise operations on contiguous (E, S)
# rows are several times faster than a reduction over the short axis (NumPy and torch on the CPU alike);
# written once against the backend interface.
def _class_max(be, z):
    """max over the class axis 1, as k - 1 elementwise maxima of (E, S) rows."""
    m = be.copy(z[:, 0])
    for j in range(1, z.shape[1]):
        be.maximum_into(m, z[:, j], m)
    return m


def _class_softmax(be, z, work=None):
    """softmax over the class axis 1: exp(z - max z) / sum exp(z - max z), by rows; ``work``: None or a workspace
    dict (:func:`work_array`) holding the result and the temporaries (the same values)."""
    if work is None:
        e = be.exp(z - _class_max(be, z)[:, None])
        s = be.copy(e[:, 0])
    else:
        rows = (z.shape[0], *z.shape[2:])
        m = work_array(work, be, "softmax_max", rows)
        be.assign(m, z[:, 0])
        for j in range(1, z.shape[1]):
            be.maximum_into(m, z[:, j], m)
        e = work_array(work, be, "softmax", tuple(z.shape))
        be.sub_into(z, m[:, None], e)
        be.exp_into(e, e)
        s = m                                   # the maximum is no longer needed: its array takes the sum
        be.assign(s, e[:, 0])
    for j in range(1, z.shape[1]):
        s += e[:, j]
    e /= s[:, None]
    return e


_FAST_TANH_MIN_SIZE = 4096   # below this, np.tanh's lower call overhead wins (measured crossover ~2-3k values)


class NumpyBackend(Backend, NumpyOps):
    """NumPy arrays on the CPU; ``fast_tanh``: None (decide from NumPy's dispatch report), True or False."""

    name = "numpy"

    def __init__(self, dtype: DTypeLike = "float64", device: str | None = None, fast_tanh: bool | None = None) -> None:
        if device not in (None, "cpu"):
            raise ValueError(f"device must be None or 'cpu' for the numpy backend, got {device!r}")
        if fast_tanh is not None and not isinstance(fast_tanh, (bool, np.bool_)):
            raise TypeError(f"fast_tanh must be None, True or False, got {fast_tanh!r}")
        self.fast_tanh = (not numpy_float64_tanh_is_vectorized()) if fast_tanh is None else bool(fast_tanh)
        self.dtype_name = _dtype_name(dtype)
        self.dtype = np.dtype(self.dtype_name)
        self.device = "cpu"
        self._ones = np.ones((1, 1), dtype=self.dtype)   # grown on demand by sum_last_into

    def tanh(self, x: np.ndarray) -> np.ndarray:
        """np.tanh, or :func:`analytic.fast_tanh.fast_tanh` for float64 arrays of >= 4096 values when
        ``self.fast_tanh``."""
        if self.fast_tanh and x.dtype == np.float64 and x.size >= _FAST_TANH_MIN_SIZE:
            return _fast_tanh(x)
        return np.tanh(x)

    def tanh_into(self, x: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = tanh(x)`` by the same choice as :meth:`tanh` (``out`` may be ``x``; identical values)."""
        if self.fast_tanh and x.dtype == np.float64 and x.size >= _FAST_TANH_MIN_SIZE:
            _fast_tanh(x, out=out)
        else:
            np.tanh(x, out=out)

    # conversion
    def asarray(self, a: ArrayLike) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=self.dtype)

    def asindex(self, a: ArrayLike) -> np.ndarray:
        return np.asarray(a, dtype=np.intp)

    def to_numpy(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(a)

    def cast(self, a: np.ndarray) -> np.ndarray:
        """``a`` in the working dtype (activations of the shared set compute in float64 on NumPy)."""
        return a if a.dtype == self.dtype else a.astype(self.dtype)

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.empty(shape, dtype=self.dtype)

    def zeros(self, shape: tuple[int, ...]) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    def copy(self, a: np.ndarray) -> np.ndarray:
        return a.copy()

    # linear algebra
    matmul = staticmethod(np.matmul)

    @staticmethod
    def matmul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        np.matmul(a, b, out=out)

    @staticmethod
    def mT(a: np.ndarray) -> np.ndarray:
        return a.swapaxes(-1, -2)

    @staticmethod
    def take_columns(xT: np.ndarray, idx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Columns of a (d, n) array for an (E, B) index array, as (E, d, B) (a view of np.take's (d, E, B);
        np.take is several times faster than fancy indexing); ``out``: optional (d, E, B) array to take into."""
        return np.take(xT, idx, axis=1, out=out).transpose(1, 0, 2)

    @staticmethod
    def take_rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """``a[:, idx]`` for an index array ``idx`` (np.take: faster than fancy indexing)."""
        return np.take(a, idx, axis=1)

    def sum_last_into(self, a: np.ndarray, out: np.ndarray) -> None:
        """``out[...] = a.sum(axis=-1)`` for a (E, h, B) array, as the product (E, h, B) @ (B, 1) with a ones
        vector (BLAS; faster than np.sum's pairwise reduction for these short rows)."""
        B = a.shape[-1]
        if self._ones.shape[0] < B:
            self._ones = np.ones((B, 1), dtype=self.dtype)
        np.matmul(a, self._ones[:B], out=out[..., None])

    @staticmethod
    def contiguous(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a)

    # elementwise / reductions
    @staticmethod
    def sum(a: np.ndarray, axis: int) -> np.ndarray:
        return a.sum(axis=axis)

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)

    def logsumexp(self, z: np.ndarray, axis: int) -> np.ndarray:
        """log sum exp over ``axis``; over the class axis 1 with k <= 32 classes as k elementwise operations on
        contiguous (E, S) rows, max-shifted as scipy.special.logsumexp (which is ~3x slower on these short
        axes: 23 ms against 7 ms for a (50, 2, 3276) array)."""
        if axis != 1 or z.shape[1] > 32:
            return sc.logsumexp(z, axis=axis)
        k = z.shape[1]
        m = _class_max(self, z)
        s = np.exp(z[:, 0] - m)
        for j in range(1, k):
            s += np.exp(z[:, j] - m)
        np.log(s, out=s)
        s += m
        return s

    @staticmethod
    def softplus(z: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, z)

    @staticmethod
    def sigmoid(z: np.ndarray) -> np.ndarray:
        return sc.expit(z)

    def softmax(self, z: np.ndarray, work: dict | None = None) -> np.ndarray:
        """softmax over axis 1 (the classes of an (E, k, S) array); by rows for k <= 32 (``_class_softmax``:
        1.6 ms against 5.5 ms for scipy.special.softmax on 2 classes), into reused arrays with ``work`` (a
        workspace dict, :func:`work_array`)."""
        return sc.softmax(z, axis=1) if z.shape[1] > 32 else _class_softmax(self, z, work)

    @staticmethod
    def argmax(a: np.ndarray, axis: int) -> np.ndarray:
        return a.argmax(axis=axis)

    @staticmethod
    def all_finite(a: np.ndarray) -> bool:
        return bool(np.isfinite(a).all())

    @staticmethod
    def max_abs_rows(a: np.ndarray) -> np.ndarray:
        """max |a| over axis 1 of an (E, P) array, (E,) (NaN propagates)."""
        return np.abs(a).max(axis=1, initial=0.0)

    @staticmethod
    def add_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        np.add(a, b, out=out)

    @staticmethod
    def maximum_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        np.maximum(a, b, out=out)

    @staticmethod
    def sub_into(a: np.ndarray | float, b: np.ndarray, out: np.ndarray) -> None:
        np.subtract(a, b, out=out)

    @staticmethod
    def mul_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        np.multiply(a, b, out=out)

    @staticmethod
    def div_into(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        np.divide(a, b, out=out)

    @staticmethod
    def sqrt_into(a: np.ndarray, out: np.ndarray) -> None:
        np.sqrt(a, out=out)

    @staticmethod
    def exp_into(a: np.ndarray, out: np.ndarray) -> None:
        np.exp(a, out=out)

    @staticmethod
    def assign(dst: np.ndarray, src: np.ndarray | float) -> None:
        dst[...] = src


class TorchBackend(Backend):
    """torch tensors on ``device`` (``None``/'cpu' or 'cuda'); requires the optional torch extra."""

    name = "torch"

    def __init__(self, dtype: DTypeLike = "float64", device: str | torch.device | None = None) -> None:
        try:
            import torch
        except ImportError:  # pragma: no cover - exercised only without torch
            raise ValueError("backend: 'torch' needs the optional torch package (pip install torch)") from None
        self.torch = torch
        self.dtype_name = _dtype_name(dtype)
        self.dtype = getattr(torch, self.dtype_name)
        dev = "cpu" if device is None else str(device)
        if dev.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device: {device!r} requested but torch sees no CUDA device")
        try:
            self.device = torch.device(dev)
        except RuntimeError as exc:
            raise ValueError(f"device: {exc}") from None
        self._cpu = self.device.type == "cpu"

    def asarray(self, a: ArrayLike | torch.Tensor) -> torch.Tensor:
        if isinstance(a, self.torch.Tensor):
            return a.to(device=self.device, dtype=self.dtype).contiguous()
        return self.torch.as_tensor(np.ascontiguousarray(a), dtype=self.dtype, device=self.device)

    def asindex(self, a: ArrayLike) -> torch.Tensor:
        return self.torch.as_tensor(np.asarray(a, dtype=np.int64), device=self.device)

    def to_numpy(self, a: torch.Tensor) -> np.ndarray:
        return a.detach().cpu().numpy()

    def cast(self, a: torch.Tensor) -> torch.Tensor:
        return a if a.dtype == self.dtype else a.to(self.dtype)

    def empty(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def zeros(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    @staticmethod
    def copy(a: torch.Tensor) -> torch.Tensor:
        return a.clone()

    def matmul(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.torch.matmul(a, b)

    def matmul_into(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> None:
        if out.is_contiguous():
            self.torch.matmul(a, b, out=out)
        else:
            out.copy_(self.torch.matmul(a, b))

    @staticmethod
    def mT(a: torch.Tensor) -> torch.Tensor:
        return a.transpose(-1, -2)

    def take_columns(self, xT: torch.Tensor, idx: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """As :meth:`NumpyBackend.take_columns` (``out``: optional (d, E, B) tensor to take into, on the CPU)."""
        d = xT.shape[0]
        if out is not None and self._cpu:
            self.torch.index_select(xT, 1, idx.reshape(-1), out=out.view(d, -1))
            return out.permute(1, 0, 2)
        cols = xT.index_select(1, idx.reshape(-1)).reshape(d, *idx.shape).permute(1, 0, 2)
        # on the GPU a contiguous copy makes the batched products cheaper (measured 9% per training step on an
        # H100, E = 50); on the CPU the strided view is used as it is
        return cols if self._cpu else cols.contiguous()

    @staticmethod
    def sum(a: torch.Tensor, axis: int) -> torch.Tensor:
        return a.sum(dim=axis)

    @staticmethod
    def take_rows(a: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return a.index_select(1, idx)

    def sum_last_into(self, a: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.sum(a, dim=-1, out=out) if out.is_contiguous() else out.copy_(a.sum(dim=-1))

    @staticmethod
    def contiguous(a: torch.Tensor) -> torch.Tensor:
        return a.contiguous()

    def exp(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.exp(a)

    def log(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.log(a)

    def sqrt(self, a: torch.Tensor) -> torch.Tensor:
        return self.torch.sqrt(a)

    def logsumexp(self, z: torch.Tensor, axis: int) -> torch.Tensor:
        return self.torch.logsumexp(z, dim=axis)

    def softplus(self, z: torch.Tensor) -> torch.Tensor:
        # log(1 + e^z) without torch's threshold approximation (which is not exact in float64)
        return self.torch.logaddexp(self.torch.zeros((), dtype=z.dtype, device=z.device), z)

    def sigmoid(self, z: torch.Tensor) -> torch.Tensor:
        return self.torch.sigmoid(z)

    # the elementwise operations of analytic.activations.NumpyOps, in torch
    def tanh(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.tanh(x)

    def tanh_into(self, x: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.tanh(x, out=out)

    def expm1(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.expm1(x)

    def abs(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.abs(x)

    def where(self, cond: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.torch.where(cond, a, b)

    def relu(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.relu(x)

    def clip(self, x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        return self.torch.clamp(x, lo, hi)

    def ones_like(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch.ones_like(x)

    @staticmethod
    def step(x: torch.Tensor) -> torch.Tensor:
        return (x > 0).to(x.dtype)

    @staticmethod
    def inside(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        return ((x > lo) & (x < hi)).to(x.dtype)

    def softmax(self, z: torch.Tensor, work: dict | None = None) -> torch.Tensor:
        """As :meth:`NumpyBackend.softmax` (over axis 1): row-wise max and sum for k <= 32 classes (torch.softmax
        over a class axis of length 2 is several times slower than these few elementwise operations on the
        CPU)."""
        return self.torch.softmax(z, dim=1) if z.shape[1] > 32 else _class_softmax(self, z, work)

    @staticmethod
    def argmax(a: torch.Tensor, axis: int) -> torch.Tensor:
        return a.argmax(dim=axis)

    def all_finite(self, a: torch.Tensor) -> bool:
        return bool(self.torch.isfinite(a).all())

    @staticmethod
    def max_abs_rows(a: torch.Tensor) -> torch.Tensor:
        return a.abs().amax(dim=1)

    def add_into(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.add(a, b, out=out)

    def maximum_into(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.maximum(a, b, out=out)

    def sub_into(self, a: torch.Tensor | float, b: torch.Tensor, out: torch.Tensor) -> None:
        if isinstance(a, (int, float)):             # c - b as (-b) + c: the same rounding
            self.torch.neg(b, out=out)
            out.add_(a)
        else:
            self.torch.sub(a, b, out=out)

    def mul_into(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.mul(a, b, out=out)

    def div_into(self, a: torch.Tensor, b: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.div(a, b, out=out)

    def sqrt_into(self, a: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.sqrt(a, out=out)

    def exp_into(self, a: torch.Tensor, out: torch.Tensor) -> None:
        self.torch.exp(a, out=out)

    @staticmethod
    def assign(dst: torch.Tensor, src: torch.Tensor | float) -> None:
        dst.copy_(src)


def work_array(work: dict, be: Backend, key: Any, shape: tuple[int, ...]) -> Any:
    """The array ``(key, shape)`` of the workspace ``work`` (a dict its owner keeps between calls), made by
    ``be.empty(shape)`` on first use: the training step's temporaries are allocated once and reused, so that no
    step allocates (each fresh ~1 MB array costs page faults when the C allocator has returned the freed one to the
    OS: a training step of the 12-bit ensemble 2.9 -> 1.9 ms, BENCHMARKS.md). Its contents are undefined."""
    k = (key, tuple(shape))
    a = work.get(k)
    if a is None:
        a = work[k] = be.empty(tuple(shape))
    return a


def get_backend(backend: str | Backend = "numpy", dtype: DTypeLike = "float64", device: str | None = None) -> Backend:
    """A :class:`Backend` from its name (``"numpy"`` or ``"torch"``) or pass one through."""
    if isinstance(backend, Backend):
        return backend
    if backend == "numpy":
        return NumpyBackend(dtype, device)
    if backend == "torch":
        return TorchBackend(dtype, device)
    raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")


def backend_of(array: Any, dtype: DTypeLike | None = None) -> Backend:
    """The backend an array belongs to (torch tensor -> torch on its device; else numpy)."""
    if is_torch(array):
        return TorchBackend(dtype or str(array.dtype).replace("torch.", ""), array.device)
    return NumpyBackend(dtype or np.asarray(array).dtype.name)


def _shared_first_layer_numpy(W: np.ndarray, xT: np.ndarray) -> np.ndarray:
    """W^T x^T for every member: (E, d, h) and (d, S) -> (E, h, S), as ONE (E*h, d) @ (d, S) GEMM (faster than
    E small GEMMs)."""
    E, d, h = W.shape
    return (W.transpose(0, 2, 1).reshape(E * h, d) @ xT).reshape(E, h, xT.shape[1])


def _shared_first_layer_torch(self: TorchBackend, W: torch.Tensor, xT: torch.Tensor) -> torch.Tensor:
    E, d, h = W.shape
    return (W.transpose(1, 2).reshape(E * h, d) @ xT).reshape(E, h, xT.shape[1])


NumpyBackend.shared_matmul = staticmethod(_shared_first_layer_numpy)
TorchBackend.shared_matmul = _shared_first_layer_torch
