"""The compiled J_n kernel (``_jkernel.c``) through ctypes, when the optional extension was built.

``compiled_kernel()`` returns None when the library is missing (no C compiler at install time) or when the
environment sets ``TWOLAYER_NUMPY_KERNEL=1``; callers then use the numpy ufuncs of numerics.kappa.  ctypes
releases the GIL during each call, so the thread pool of numerics.population_loss runs the kernel on all
its threads.  The kernel needs no libm: its arccos is the polynomial certified by numerics.compiled.asin_bound,
so it gives the same bits on every machine.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DISABLE_VARIABLE = "TWOLAYER_NUMPY_KERNEL"
SOURCE = "numerics/compiled/_jkernel.c"


def _contiguous_float(x: np.ndarray, name: str) -> None:
    if x.dtype != np.float64 or not x.flags.c_contiguous or not x.flags.writeable:
        raise ValueError(f"{name} must be a writeable C-contiguous float64 array")


@dataclass(frozen=True)
class CompiledKernel:
    """The loaded library and where it was found."""

    library: ctypes.CDLL
    path: str

    def j_negated(self, x: np.ndarray, degree: int) -> np.ndarray:
        """J_n(rho) in place from x = -rho (clipped to [-1, 1] first), as ``FastKappa.evaluate_negated``."""
        _contiguous_float(x, "x")
        if self.library.twolayer_j_negated(x.ctypes.data, x.size, degree) != 0:
            raise ValueError(f"degree must be 0..3, got {degree}")
        return x

    def j_weighted_rows(self, x: np.ndarray, weights: np.ndarray, degree: int) -> np.ndarray:
        """out_r = sum_j J_n(rho_rj) w_j for a 2-d block of x = -rho whose rows are contiguous (a column
        slice of a C-contiguous array will do); x is not modified.  Fixed summation order (see the C file)."""
        if x.ndim != 2 or x.dtype != np.float64 or x.strides[1] != 8 or x.strides[0] % 8:
            raise ValueError("x must be a float64 2-d block with contiguous rows")
        w = np.ascontiguousarray(weights, dtype=np.float64)
        if w.shape != (x.shape[1],):
            raise ValueError(f"weights must have shape ({x.shape[1]},), got {w.shape}")
        out = np.empty(x.shape[0])
        if self.library.twolayer_j_weighted_rows(x.ctypes.data, x.shape[0], x.shape[1], x.strides[0] // 8,
                                                 w.ctypes.data, out.ctypes.data, degree) != 0:
            raise ValueError(f"degree must be 0..3, got {degree}")
        return out

    def arccos(self, x: np.ndarray) -> np.ndarray:
        """The kernel's own arccos (clipped argument), for its accuracy tests."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.empty_like(x)
        self.library.twolayer_arccos(x.ctypes.data, out.ctypes.data, x.size)
        return out

    def asin_coefficients(self) -> tuple[float, ...]:
        """p_0..p_K of asin(y) = y + y z P(z), exactly as the library holds them."""
        out = np.empty(self.library.twolayer_asin_degree() + 1)
        self.library.twolayer_asin_coefficients(out.ctypes.data)
        return tuple(float(c) for c in out)


def _load(path: str) -> CompiledKernel:
    lib = ctypes.CDLL(path)
    lib.twolayer_j_negated.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int]
    lib.twolayer_j_negated.restype = ctypes.c_int
    lib.twolayer_j_weighted_rows.argtypes = [ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_ssize_t,
                                             ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.twolayer_j_weighted_rows.restype = ctypes.c_int
    lib.twolayer_arccos.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ssize_t]
    lib.twolayer_arccos.restype = None
    lib.twolayer_asin_degree.argtypes = []
    lib.twolayer_asin_degree.restype = ctypes.c_int
    lib.twolayer_asin_coefficients.argtypes = [ctypes.c_void_p]
    lib.twolayer_asin_coefficients.restype = None
    return CompiledKernel(library=lib, path=path)


@lru_cache(maxsize=1)
def _built() -> CompiledKernel | None:
    spec = importlib.util.find_spec("numerics.compiled._jkernel")
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return None
    try:
        return _load(spec.origin)
    except (OSError, AttributeError):  # a stale or foreign build: fall back to numpy
        return None


def compiled_kernel() -> CompiledKernel | None:
    """The compiled kernel, or None (not built, or ``TWOLAYER_NUMPY_KERNEL=1``)."""
    if os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
        return None
    return _built()
