"""Monte Carlo estimate of the population loss over x, the independent cross-check of the closed form.

    L_N ~ (1/S) sum_s (f_N(x_s) - g(x_s))^2,  x_s ~ N(0, I_d) i.i.d.,
    standard error = sd_s[(f_N - g)^2] / sqrt(S);
    the three terms of the closed form are estimated alongside: means of f_N^2, -2 f_N g and g^2.

Samples are drawn in batches from an explicit ``numpy.random.Generator`` seeded by ``seed``; sigma is
evaluated from its definition p relu(t)^n + q relu(-t)^n (not from the dual kernel).

References: MODEL.md section 1.

Examples
--------
>>> res = monte_carlo_population_loss([1.0], [[1.0, 0.0]], [0.0], [[0.0, 1.0]], "relu", n_samples=20000, seed=1)
>>> abs(res.value - 0.5) < 4 * res.error_bound     # E relu(g)^2 = 1/2
True
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from numerics.networks import NetworkPair
from numerics.population_loss import LossResult, LossStatus
from theory.activations import Activation
from theory.errors import InputError

MC_FORMULA = ("L_N ~ mean_s (f_N(x_s) - g(x_s))^2, x_s ~ N(0, I_d); error_bound = one standard error; "
              "terms = means of f^2, -2 f g, g^2")
MC_MAX_ELEMENTS = 2**22  # pre-activations per batch array (32 MiB of float64)


def activation_values(act: Activation, pre: np.ndarray) -> np.ndarray:
    """sigma(t) = p max(t, 0)^n + q max(-t, 0)^n elementwise (sigma(0) = 0 for n >= 1, (p + q)/2 for n = 0)."""
    p, q, n = float(act.p), float(act.q), int(act.degree)
    if n == 0:
        return np.where(pre > 0, p, np.where(pre < 0, q, (p + q) / 2))
    pos = np.maximum(pre, 0.0) ** n
    out = p * pos
    if q != 0.0:
        out = out + q * np.maximum(-pre, 0.0) ** n
    return out


def batch_rows(n_target: int, n_student: int, batch: int = 4096) -> int:
    """Samples per batch: at most ``batch``, and at most MC_MAX_ELEMENTS pre-activations per array, so a
    wide network (N = 10^6) samples a few rows at a time instead of allocating batch x N floats."""
    return max(1, min(batch, MC_MAX_ELEMENTS // max(1, n_target + n_student)))


def _mean_and_error(total: float, total_sq: float, n: int) -> tuple[float, float]:
    mean = total / n
    var = max(total_sq / n - mean * mean, 0.0) * n / (n - 1)
    return mean, math.sqrt(var / n)


def monte_carlo_population_loss(target_a, target_W, student_b, student_V, activation: str | Activation = "relu",
                                *, n_samples: int = 100_000, seed: int = 0, batch: int = 4096) -> LossResult:
    """Sample-mean estimate of L_N with its standard error (status STATISTICAL, not a bound).

    ``terms`` are the sample means of f^2, -2 f g and g^2 (the Monte Carlo estimates of the closed
    form's three terms; their sum is ``value`` up to rounding), ``term_errors`` their standard errors.
    Batches hold at most ``batch`` samples and MC_MAX_ELEMENTS pre-activations (``batch_rows``); the
    draws are the same for any batch size (one stream of normals, row by row).
    """
    pair = NetworkPair.from_arrays(target_a, target_W, student_b, student_V, activation)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise InputError("n_samples", "expected an integer >= 2", got=n_samples)
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise InputError("seed", "expected an integer >= 0 (numpy seeds are non-negative)", got=seed)
    rng = np.random.default_rng(seed)
    rows = batch_rows(pair.n_target, pair.n_student, batch)
    # running sums of (f - g)^2, f^2, f g, g^2 and of their squares
    sums, sums_sq, done = [0.0] * 4, [0.0] * 4, 0
    wt = pair.W.T.copy()
    vt = pair.V.T.copy()
    while done < n_samples:
        m = min(rows, n_samples - done)
        x = rng.standard_normal((m, pair.dim))
        f = activation_values(pair.activation, x @ wt) @ pair.a / pair.n_target
        g = activation_values(pair.activation, x @ vt) @ pair.b
        for i, q in enumerate(((f - g) ** 2, f * f, f * g, g * g)):
            sums[i] += math.fsum(q)
            sums_sq[i] += math.fsum(q * q)
        done += m
    (mean, se), (ff, se_ff), (fg, se_fg), (gg, se_gg) = (_mean_and_error(t, t2, n_samples)
                                                          for t, t2 in zip(sums, sums_sq))
    return LossResult(value=mean, error_bound=se, terms=(ff, -2.0 * fg, gg), term_errors=(se_ff, 2.0 * se_fg, se_gg),
                      method=f"monte-carlo ({n_samples} samples)", precision="float64",
                      status=LossStatus.STATISTICAL, n_target=pair.n_target, n_student=pair.n_student,
                      dim=pair.dim, activation=pair.activation.name, seed=seed, source=MC_FORMULA)
