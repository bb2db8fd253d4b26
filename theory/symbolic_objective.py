"""Ltilde(beta, V) as one sympy expression in beta_j and the raw entries v_{j,i}, with its exact gradient.

Ltilde = C - 2 sum_j beta_j b(v^_j) + sum_{j,l} beta_j beta_l kappa(<v_j, v_l> / (||v_j|| ||v_l||)), kappa(1) on the
diagonal; b from the regime summary (I: abar c_d; II: abar mu_0^2 + mu_1^2 <m, v^>; III: abar c_d +
coef (sum_i v^_i^4 - 3/(d+2))). Differentiating the raw entries gives the gradient in each v_j directly (it is
tangent to the sphere and scales like 1/||v_j|| because Ltilde is scale invariant in v_j).
Lambdified to numpy (broadcast over leading axes of beta (..., M) and V (..., M, d)) and to mpmath.

References: docs/model.md §4; theory.objective is the hand-written numpy version it is checked against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import mpmath
import numpy as np
import sympy as sp

from theory.anisotropic import AnisotropicSummary
from theory.errors import InputError
from theory.kernels import RHO, dual_kernel
from theory.summaries import IsotropicSummary, LinearTiltSummary


@dataclass(frozen=True)
class SymbolicObjective:
    """``value`` and ``gradient`` (list: d/dbeta_j then d/dv_{j,i}) as sympy expressions, plus evaluators.

    Examples
    --------
    >>> from theory.regimes import regime_summary
    >>> obj = symbolic_objective(regime_summary("I", "relu", 2, abar=1.0), 2)
    >>> V = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> x, y = float(obj.numpy(np.array([0.5, 0.5]), V)), float(obj.mp([0.5, 0.5], V, 20))
    >>> abs(x - y) < 1e-15, round(x, 12)   # c_2 - 2 c_2 + 1/4 + 1/(4 pi), c_2 = 2/pi^2
    (True, 0.126935104261)
    """

    M: int
    d: int
    betas: tuple
    entries: tuple
    value: sp.Expr
    gradient: tuple
    _np_value: Callable = field(repr=False, compare=False)
    _np_grad: Callable = field(repr=False, compare=False)
    _mp_value: Callable = field(repr=False, compare=False)
    _mp_grad: Callable = field(repr=False, compare=False)

    def _args(self, beta, V):
        b = np.asarray(beta, dtype=float)
        v = np.asarray(V, dtype=float)
        if b.shape[-1:] != (self.M,) or v.shape[-2:] != (self.M, self.d):
            raise InputError("frame", f"expected beta (..., {self.M}) and V (..., {self.M}, {self.d})", got=(b.shape, v.shape))
        return [b[..., j] for j in range(self.M)] + [v[..., j, i] for j in range(self.M) for i in range(self.d)]

    def numpy(self, beta, V) -> np.ndarray:
        """Ltilde for a stack of frames (float64)."""
        args = self._args(beta, V)
        return np.broadcast_to(self._np_value(*args), np.broadcast(*args).shape) * 1.0

    def numpy_gradient(self, beta, V) -> tuple[np.ndarray, np.ndarray]:
        """(dLtilde/dbeta (..., M), dLtilde/dV (..., M, d)) for a stack of frames."""
        args = self._args(beta, V)
        shape = np.broadcast(*args).shape
        parts = [np.broadcast_to(g, shape) * 1.0 for g in self._np_grad(*args)]
        gb = np.stack(parts[: self.M], axis=-1)
        gv = np.stack(parts[self.M:], axis=-1).reshape(shape + (self.M, self.d))
        return gb, gv

    def mp(self, beta, V, dps: int = 30):
        """Ltilde at one point in mpmath (inputs taken as exact binary floats)."""
        with mpmath.workdps(dps + 10):
            args = [mpmath.mpf(float(x)) for x in self._args(beta, V)]
            out = self._mp_value(*args)
        with mpmath.workdps(dps):
            return +out

    def mp_gradient(self, beta, V, dps: int = 30) -> list:
        with mpmath.workdps(dps + 10):
            args = [mpmath.mpf(float(x)) for x in self._args(beta, V)]
            out = self._mp_grad(*args)
        with mpmath.workdps(dps):
            return [+x for x in out]


def _b_expr(summary, unit):
    if isinstance(summary, IsotropicSummary):
        return sp.Float(summary.abar, 30) * sp.Float(str(summary.sphere_avg), 40)
    if isinstance(summary, LinearTiltSummary):
        mu0 = summary.activation.hermite_coefficient(0) ** 2
        mu1 = summary.activation.hermite_coefficient(1) ** 2
        return sp.Float(summary.abar, 30) * mu0 + mu1 * sum(sp.Float(m, 30) * u for m, u in zip(summary.tilt, unit))
    if isinstance(summary, AnisotropicSummary):
        coef = sp.Float(summary.coefficient, 30)
        return (sp.Float(summary.abar, 30) * sp.Float(str(summary.sphere_avg), 40)
                + coef * (sum(u**4 for u in unit) - sp.Rational(3, summary.dim + 2)))
    raise InputError("summary", "symbolic objective supports IsotropicSummary, LinearTiltSummary, AnisotropicSummary",
                     got=type(summary).__name__)


def _constant_expr(summary):
    return sp.Float(str(summary.constant_mp(40)), 40)


def symbolic_objective(summary, M: int) -> SymbolicObjective:
    """Build Ltilde and its gradient for M neurons in R^d (d = summary.dim); keep M d small (<= ~30 symbols)."""
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise InputError("neurons", "M must be an integer >= 1", got=M)
    return _build(summary, M)


@lru_cache(maxsize=32)
def _build(summary, M: int) -> SymbolicObjective:
    d = summary.dim
    kern = dual_kernel(summary.activation)
    betas = sp.symbols(f"beta0:{M}", real=True)
    v = [[sp.Symbol(f"v{j}_{i}", real=True) for i in range(d)] for j in range(M)]
    norms = [sp.sqrt(sum(x**2 for x in row)) for row in v]
    units = [[x / n for x in row] for row, n in zip(v, norms)]
    k1 = kern.at_one
    value = _constant_expr(summary)
    for j in range(M):
        value -= 2 * betas[j] * _b_expr(summary, units[j])
        value += betas[j] ** 2 * k1
        for l in range(j + 1, M):
            rho = sum(a * b for a, b in zip(v[j], v[l])) / (norms[j] * norms[l])
            value += 2 * betas[j] * betas[l] * kern.expr.subs(RHO, rho)
    flat = [x for row in v for x in row]
    symbols = list(betas) + flat
    grad = tuple(sp.diff(value, s) for s in symbols)
    return SymbolicObjective(
        M=M, d=d, betas=tuple(betas), entries=tuple(flat), value=value, gradient=grad,
        _np_value=sp.lambdify(symbols, value, "numpy", cse=True),
        _np_grad=sp.lambdify(symbols, list(grad), "numpy", cse=True),
        _mp_value=sp.lambdify(symbols, value, "mpmath", cse=True),
        _mp_grad=sp.lambdify(symbols, list(grad), "mpmath", cse=True),
    )
