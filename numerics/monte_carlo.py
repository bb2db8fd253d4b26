"""Monte Carlo estimate of the population loss over x, the independent cross-check of the closed form.

    L_N ~ (1/S) sum_s (f_N(x_s) - g(x_s))^2,  x_s ~ N(0, I_d) i.i.d.,
    standard error = sd_s[(f_N - g)^2] / sqrt(S).

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

import numpy as np

from numerics.networks import NetworkPair
from numerics.population_loss import LossResult, LossStatus
from theory.activations import Activation
from theory.errors import InputError

MC_FORMULA = "L_N ~ mean_s (f_N(x_s) - g(x_s))^2, x_s ~ N(0, I_d); error_bound = one standard error"


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


def monte_carlo_population_loss(target_a, target_W, student_b, student_V, activation: str | Activation = "relu",
                                *, n_samples: int = 100_000, seed: int = 0, batch: int = 4096) -> LossResult:
    """Sample-mean estimate of L_N with its standard error (status STATISTICAL, not a bound)."""
    pair = NetworkPair.from_arrays(target_a, target_W, student_b, student_V, activation)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise InputError("n_samples", "expected an integer >= 2", got=n_samples)
    rng = np.random.default_rng(seed)
    total, total_sq, done = 0.0, 0.0, 0
    wt = pair.W.T.copy()
    vt = pair.V.T.copy()
    while done < n_samples:
        m = min(batch, n_samples - done)
        x = rng.standard_normal((m, pair.dim))
        f = activation_values(pair.activation, x @ wt) @ pair.a / pair.n_target
        g = activation_values(pair.activation, x @ vt) @ pair.b
        sq = (f - g) ** 2
        total += math.fsum(sq)
        total_sq += math.fsum(sq * sq)
        done += m
    mean = total / n_samples
    var = max(total_sq / n_samples - mean * mean, 0.0) * n_samples / (n_samples - 1)
    return LossResult(value=mean, error_bound=math.sqrt(var / n_samples), terms=(math.nan, math.nan, math.nan),
                      method=f"monte-carlo ({n_samples} samples)", precision="float64",
                      status=LossStatus.STATISTICAL, n_target=pair.n_target, n_student=pair.n_student,
                      dim=pair.dim, activation=pair.activation.name, seed=seed, source=MC_FORMULA)
