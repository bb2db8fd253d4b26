"""Sample statistics with standard errors, ratio confidence intervals and power-law fits (log-log WLS).

    mean:      xbar +- z * s / sqrt(R)
    variance:  s^2 +- z * sqrt((max(m_4, 3 s^4) - s^4) / R)   (delta method, kurtosis floored at 3)
    ratio:     measured / predicted, CI = (measured +- z se) / predicted
    power law: log y = log C + p log x, weighted least squares with weights 1/se(log y)^2;
               se(p) from the error bars, inflated by sqrt(reduced chi^2) when that exceeds 1 and there are
               >= 3 residual degrees of freedom (then Student t quantiles).

References: standard (e.g. Casella & Berger, "Statistical Inference", 2nd ed., sections 5.5 and 11.3).

Examples
--------
>>> import numpy as np
>>> fit = fit_power_law([10, 100, 1000], [1.0, 0.1, 0.01], [0.01, 0.001, 0.0001])
>>> round(fit.exponent, 12), round(fit.constant, 9)
(-1.0, 10.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054  # two-sided 95% normal quantile
# Floor for the kurtosis in the standard error of a sample variance: L_N is a sum of many i.i.d. terms
# (kurtosis >= about 3), and the sample kurtosis of ~100 draws is biased low, which would make the
# delta-method CI overconfident.
GAUSSIAN_KURTOSIS = 3.0


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error and 95% confidence interval."""

    value: float
    se: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.value - Z95 * self.se, self.value + Z95 * self.se)

    def as_dict(self) -> dict:
        return {"value": self.value, "se": self.se, "ci95": list(self.ci)}


def mean_estimate(samples) -> Estimate:
    """Sample mean and its standard error s / sqrt(R)."""
    x = np.asarray(samples, dtype=float)
    return Estimate(float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size)))


def relative_variance_se(samples) -> float:
    """sqrt((max(m_4 / s^4, 3) - 1) / R): the standard error of s^2 / sigma^2 (scale-free, for pooling)."""
    x = np.asarray(samples, dtype=float)
    s2 = float(np.var(x, ddof=1))
    m4 = float(np.mean((x - x.mean()) ** 4))
    return math.sqrt((max(m4 / (s2 * s2), GAUSSIAN_KURTOSIS) - 1.0) / x.size) if s2 > 0 else math.inf


def variance_estimate(samples) -> Estimate:
    """Unbiased sample variance and its delta-method standard error sqrt((max(m_4, 3 s^4) - s^4) / R)."""
    x = np.asarray(samples, dtype=float)
    r = x.size
    s2 = float(np.var(x, ddof=1))
    m4 = float(np.mean((x - x.mean()) ** 4))
    return Estimate(s2, math.sqrt(max(m4, GAUSSIAN_KURTOSIS * s2 * s2) - s2 * s2) / math.sqrt(r))


@dataclass(frozen=True)
class Ratio:
    """measured / predicted with a 95% CI (the prediction is taken as exact)."""

    value: float
    low: float
    high: float

    def contains(self, x: float = 1.0) -> bool:
        return self.low <= x <= self.high

    def as_dict(self) -> dict:
        return {"ratio": self.value, "ci95": [self.low, self.high]}


def ratio(measured: Estimate, predicted: float) -> Ratio:
    """Ratio of an estimate to an exact prediction."""
    lo, hi = measured.ci
    return Ratio(measured.value / predicted, min(lo, hi) / predicted if predicted > 0 else hi / predicted,
                 max(lo, hi) / predicted if predicted > 0 else lo / predicted)


def pooled_ratio(measured: list[Estimate], predicted: list[float], relative_se: list[float] | None = None) -> Ratio:
    """Inverse-variance weighted mean of r_k = measured_k / predicted_k with its 95% CI.

    ``relative_se`` (optional) gives each r_k's standard error in units of its expected value 1, so that
    weights do not depend on the level of r_k itself; use it for sample variances, whose standard error
    is proportional to the estimate (weights 1/se_k^2 from the estimate would favour low draws).
    """
    r = np.array([m.value / p for m, p in zip(measured, predicted)])
    if relative_se is not None:
        se = np.asarray(relative_se, dtype=float)
    else:
        se = np.array([m.se / abs(p) for m, p in zip(measured, predicted)])
    se = np.where(se > 0, se, np.min(se[se > 0]) if np.any(se > 0) else 1.0)
    w = 1.0 / se**2
    mean = float(np.sum(w * r) / np.sum(w))
    s = float(1.0 / math.sqrt(np.sum(w)))
    return Ratio(mean, mean - Z95 * s, mean + Z95 * s)


@dataclass(frozen=True)
class PowerFit:
    """y ~ constant * x^exponent, with 95% CIs and the fit's reduced chi^2."""

    exponent: float
    exponent_ci: tuple[float, float]
    constant: float
    constant_ci: tuple[float, float]
    chi2_reduced: float
    n_points: int

    def as_dict(self) -> dict:
        return {"exponent": self.exponent, "exponent_ci95": list(self.exponent_ci), "constant": self.constant,
                "constant_ci95": list(self.constant_ci), "chi2_reduced": self.chi2_reduced, "n_points": self.n_points}


def fit_power_law(x, y, se_y) -> PowerFit:
    """Weighted least squares of log y on log x (y > 0); se(log y) = se_y / y."""
    x, y, se_y = (np.asarray(v, dtype=float) for v in (x, y, se_y))
    keep = (y > 0) & np.isfinite(y) & (x > 0)
    x, y, se_y = x[keep], y[keep], se_y[keep]
    if x.size < 2:
        return PowerFit(math.nan, (math.nan, math.nan), math.nan, (math.nan, math.nan), math.nan, int(x.size))
    lx, ly = np.log(x), np.log(y)
    sl = np.maximum(se_y / y, 1e-15)
    w = 1.0 / sl**2
    A = np.stack([np.ones_like(lx), lx], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * ly))
    resid = ly - A @ coef
    dof = x.size - 2
    chi2 = float(np.sum(w * resid**2) / dof) if dof > 0 else math.nan
    # With >= 3 residual degrees of freedom, scatter beyond the error bars widens the CI (Student t);
    # with fewer, the residual scale is too noisy to use and the error bars alone set the CI (normal).
    if dof >= 3:
        scale, q = max(1.0, chi2), float(stats.t.ppf(0.975, dof))
    else:
        scale, q = 1.0, Z95
    se = np.sqrt(np.diag(cov) * scale)
    p, lc = float(coef[1]), float(coef[0])
    return PowerFit(p, (p - q * se[1], p + q * se[1]), math.exp(lc),
                    (math.exp(lc - q * se[0]), math.exp(lc + q * se[0])),
                    chi2, int(x.size))


@dataclass(frozen=True)
class TwoTermFit:
    """y ~ A x^p + B x^q (fixed p, q) by weighted least squares, with 95% CIs on A and B."""

    powers: tuple[float, float]
    A: float
    A_ci: tuple[float, float]
    B: float
    B_ci: tuple[float, float]
    chi2_reduced: float

    def as_dict(self) -> dict:
        return {"powers": list(self.powers), "A": self.A, "A_ci95": list(self.A_ci), "B": self.B,
                "B_ci95": list(self.B_ci), "chi2_reduced": self.chi2_reduced}


def fit_two_terms(x, y, se_y, powers: tuple[float, float] = (-0.5, -1.0)) -> TwoTermFit:
    """Weighted least squares of y on (x^p, x^q); CIs from the error bars (normal quantiles).

    Examples
    --------
    >>> f = fit_two_terms([100, 400, 1600], [0.05, 0.0175, 0.006875], [1e-4] * 3)   # 0.2 N^-1/2 + 3 N^-1
    >>> round(f.A, 9), round(f.B, 9)
    (0.2, 3.0)
    """
    x, y, se = (np.asarray(v, dtype=float) for v in (x, y, se_y))
    A = np.stack([x ** powers[0], x ** powers[1]], axis=1)
    w = 1.0 / np.maximum(se, 1e-300) ** 2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    coef = cov @ (A.T @ (w * y))
    dof = x.size - 2
    chi2 = float(np.sum(w * (y - A @ coef) ** 2) / dof) if dof > 0 else math.nan
    s = np.sqrt(np.diag(cov))
    return TwoTermFit(tuple(powers), float(coef[0]), (float(coef[0] - Z95 * s[0]), float(coef[0] + Z95 * s[0])),
                      float(coef[1]), (float(coef[1] - Z95 * s[1]), float(coef[1] + Z95 * s[1])), chi2)
