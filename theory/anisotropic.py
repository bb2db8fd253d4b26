"""Regime (III): i.i.d. non-Gaussian entries break rotation invariance at order 1/d^2.

For w = z / sqrt(d) with i.i.d. symmetric unit-variance entries z of fourth cumulant kappa_4, and a
degree-n activation with Hermite coefficients mu_k,

    b(v^) = E[||w||^n kappa(<w^, v^>)] = abar c_d + mu_4^2 kappa_4 (sum_i v_i^4 - 3/(d+2)) / d^2 + O(d^-3),
    C_target = abar^2 c_d + O(d^-3).

The isotropic part abar c_d is exact (it is the average of b over v^ uniform on the sphere); only the
orientation-dependent part is truncated. 3/(d+2) = E sum_i v_i^4 for v^ uniform, so the correction has
sphere average 0.

References: derived here (docs/derivations.md, "regime III"); docs/model.md §4 (III).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np

from theory.summaries import sphere_avg_at
from theory.activations import Activation
from theory.summaries import finite_number


@dataclass(frozen=True)
class AnisotropicSummary:
    """b(v^) = abar c_d + coefficient (sum_i v_i^4 - 3/(d+2)), coefficient = mu_4^2 kappa_4 / d^2.

    ``sphere_avg`` is c_d(sigma) (mpmath); ``kappa4`` the entries' standardised fourth cumulant;
    ``mu4_sq`` = mu_4^2 of the activation. ``order`` = 2: terms O(d^-3) are dropped.

    Examples
    --------
    >>> from theory.activations import get_activation
    >>> s = AnisotropicSummary(get_activation("relu"), 4, 1.0, mpmath.mpf(3) / 16, -2.0, 1 / (48 * np.pi))
    >>> e1, diag = np.eye(4)[:1], np.full((1, 4), 0.5)
    >>> bool(s.b(e1)[0] < s.b(diag)[0])   # Rademacher (kappa_4 = -2) favours the diagonal direction
    True
    """

    activation: Activation
    dim: int
    abar: float
    sphere_avg: mpmath.mpf
    kappa4: float
    mu4_sq: float
    order: int = 2
    source: str = "derived here: docs/derivations.md, 'regime III' (fourth-cumulant term of T_4)"
    sphere_avg_digits: int | None = None  # as in theory.summaries.IsotropicSummary

    def __post_init__(self) -> None:
        finite_number(self.abar, "abar")
        finite_number(self.kappa4, "kappa4")

    @property
    def objective(self) -> str:
        """Which regime III b this is (theory.exact_anisotropic's are 'exact' and 'cubature')."""
        return f"truncated O(d^-{self.order})"

    @property
    def coefficient(self) -> float:
        return float(self.mu4_sq) * float(self.kappa4) / self.dim**2

    def constant(self) -> float:
        return float(self.abar) ** 2 * float(self.sphere_avg)

    def b(self, units: np.ndarray) -> np.ndarray:
        u = np.asarray(units, dtype=float)
        return float(self.abar) * float(self.sphere_avg) + self.coefficient * (np.sum(u**4, axis=-1) - 3.0 / (self.dim + 2))

    def b_grad(self, units: np.ndarray) -> np.ndarray:
        return 4.0 * self.coefficient * np.asarray(units, dtype=float) ** 3

    def sphere_avg_mp(self, dps: int):
        """c_d at ``dps`` digits."""
        return sphere_avg_at(self.activation, self.dim, self.sphere_avg, self.sphere_avg_digits, dps)

    def constant_mp(self, dps: int):
        c_d = self.sphere_avg_mp(dps)
        with mpmath.workdps(dps):
            return mpmath.mpf(self.abar) ** 2 * c_d

    def b_mp(self, unit_row, dps: int):
        c_d = self.sphere_avg_mp(dps)
        with mpmath.workdps(dps):
            coef = mpmath.mpf(self.mu4_sq) * mpmath.mpf(self.kappa4) / self.dim**2
            quartic = mpmath.fsum(mpmath.mpf(x) ** 4 for x in unit_row) - mpmath.mpf(3) / (self.dim + 2)
            return mpmath.mpf(self.abar) * c_d + coef * quartic
