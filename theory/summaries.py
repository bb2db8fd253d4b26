"""What the mean-field objective needs from a target: C_target and b(v^) (docs/model.md §4).

b(v^) = sum_k mu_k^2 <T_k, v^^{(x)k}> = E[alpha kappa(<w^, v^>)],  C_target = E f_inf^2.
Each summary evaluates b on stacks of unit vectors, shape (..., M, d) -> (..., M), with its
Euclidean gradient in v^ (the objective projects it onto the sphere), and in mpmath.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import mpmath
import numpy as np

from theory.activations import Activation
from theory.errors import InputError


class TargetSummary(Protocol):
    """The interface every regime implements."""

    activation: Activation
    dim: int

    def constant(self) -> float: ...
    def b(self, units: np.ndarray) -> np.ndarray: ...
    def b_grad(self, units: np.ndarray) -> np.ndarray: ...
    def constant_mp(self, dps: int): ...
    def b_mp(self, unit_row, dps: int): ...


def finite_number(value: object, argument: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InputError(argument, "expected a finite real number", got=value) from None
    if not np.isfinite(out):
        raise InputError(argument, "expected a finite real number", got=value)
    return out


@lru_cache(maxsize=None)
def mu_sq_mp(act: Activation, k: int, dps: int):
    """mu_k^2 as an mpmath number at ``dps`` digits (sympy's exact coefficient evaluated once, then cached)."""
    with mpmath.workdps(dps):
        return mpmath.mpf(act.hermite_coefficient(k).evalf(dps + 5) ** 2)


def sphere_avg_at(act: Activation, dim: int, value, digits: int | None, dps: int):
    """``value`` (c_d held to ``digits`` digits) when that is enough for ``dps``, else c_d recomputed at ``dps``."""
    if digits is None or dps <= digits:
        return value
    from theory.regimes import sphere_average_value  # theory.regimes builds summaries: imported when needed

    return sphere_average_value(act, dim, dps)


@dataclass(frozen=True)
class IsotropicSummary:
    """Regime (I): b(v^) = abar c_d for every v^, C_target = abar^2 c_d (exact at finite d).

    ``sphere_avg`` is c_d(sigma) as an mpmath number (use theory.sphere.sphere_average_mp).
    """

    activation: Activation
    dim: int
    abar: float
    sphere_avg: mpmath.mpf
    # Digits ``sphere_avg`` holds (None: as given, used at any precision).  Asked for more, constant_mp and
    # b_mp recompute c_d at the digits asked (theory.regimes.sphere_average_value), instead of padding a
    # 40-digit value with wrong digits.
    sphere_avg_digits: int | None = None

    def __post_init__(self) -> None:
        finite_number(self.abar, "abar")

    def sphere_avg_mp(self, dps: int):
        """c_d at ``dps`` digits."""
        return sphere_avg_at(self.activation, self.dim, self.sphere_avg, self.sphere_avg_digits, dps)

    def constant(self) -> float:
        return float(self.abar) ** 2 * float(self.sphere_avg)

    def b(self, units: np.ndarray) -> np.ndarray:
        return np.full(np.shape(units)[:-1], float(self.abar) * float(self.sphere_avg))

    def b_grad(self, units: np.ndarray) -> np.ndarray:
        return np.zeros(np.shape(units))

    def constant_mp(self, dps: int):
        c_d = self.sphere_avg_mp(dps)
        with mpmath.workdps(dps):
            return mpmath.mpf(self.abar) ** 2 * c_d

    def b_mp(self, unit_row, dps: int):
        c_d = self.sphere_avg_mp(dps)
        with mpmath.workdps(dps):
            return mpmath.mpf(self.abar) * c_d


@dataclass(frozen=True)
class LinearTiltSummary:
    """Regime (II), d -> infinity: b(v^) = abar mu_0^2 + mu_1^2 <m, v^>, C = abar^2 mu_0^2 + mu_1^2 ||m||^2."""

    activation: Activation
    dim: int
    abar: float
    tilt: tuple[float, ...]

    def __post_init__(self) -> None:
        finite_number(self.abar, "abar")
        if len(self.tilt) != self.dim or not all(np.isfinite(self.tilt)):
            raise InputError("tilt", f"expected {self.dim} finite numbers (the vector m in R^d)", got=self.tilt)

    def _mu_sq(self, k: int) -> float:
        return float(self.activation.hermite_coefficient(k) ** 2)

    def constant(self) -> float:
        m = np.asarray(self.tilt)
        return float(self.abar) ** 2 * self._mu_sq(0) + self._mu_sq(1) * float(m @ m)

    def b(self, units: np.ndarray) -> np.ndarray:
        return float(self.abar) * self._mu_sq(0) + self._mu_sq(1) * (np.asarray(units) @ np.asarray(self.tilt))

    def b_grad(self, units: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self._mu_sq(1) * np.asarray(self.tilt), np.shape(units)).copy()

    def constant_mp(self, dps: int):
        mu0, mu1 = mu_sq_mp(self.activation, 0, dps), mu_sq_mp(self.activation, 1, dps)
        with mpmath.workdps(dps):
            return mpmath.mpf(self.abar) ** 2 * mu0 + mu1 * mpmath.fsum(mpmath.mpf(x) ** 2 for x in self.tilt)

    def b_mp(self, unit_row, dps: int):
        mu0, mu1 = mu_sq_mp(self.activation, 0, dps), mu_sq_mp(self.activation, 1, dps)
        with mpmath.workdps(dps):
            return mpmath.mpf(self.abar) * mu0 + mu1 * mpmath.fsum(mpmath.mpf(m) * u for m, u in zip(self.tilt, unit_row))
