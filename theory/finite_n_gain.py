"""The gain of the finite-N minimum over the mean-field value: E[G_N] = A(d, M) N^-1/2 + O(N^-1), and the O(N^-1) terms.

For a target (a_i, w_i) with alpha_i = a_i ||w_i||^n, w^_i = w_i/||w_i||, abar_N = mean alpha_i and
T_N = (1/N^2) sum_{i,i'} alpha_i alpha_i' kappa(<w^_i, w^_i'>), exactly L_N = Ltilde_N + Z_N with Ltilde_N the regime-I
objective at (abar_N, T_N) and Z_N(theta) = -2 sum_j beta_j z_j(V), z_j = (1/N) sum_i alpha_i (kappa(<w^_i, v^_j>) - c_d).
The gain is G_N = Ltilde_N* - min_theta L_N >= 0, Ltilde_N* = T_N - abar_N^2 c_d^2 q_M, q_M = M / lambda.

* First order (docs/finite_n_gain.md, steps 1-3): on the flat orbit of rotated ETFs with beta0 = abar c_d / lambda,
  the degree-1 harmonic of kappa cancels (sum_j v_j = 0) and the degree-2 one is 2 a_2 beta0 (M/(M-1)) tr(P S_N),
  P the projector on the span, S_N = (1/N) sum_i alpha_i (w^_i w^_i^T - I/d). Its maximum over rotations is the sum
  of the k = M - 1 largest eigenvalues of S_N, and sqrt(N) S_N -> s H0, H0 traceless GOE, s^2 = E[alpha^2]/(d(d+2)):

      A(d, M) = 2 a_2 beta0 (M / (M-1)) s E[sum_{i<=k} lambda_i(H0)],
      large d (semicircle edge): A ~ 4 a_2 beta0 M sqrt(E[alpha^2] / (d + 2)) -> 4 mu_2^2 mu_0^2 abar M sqrt(E alpha^2 / d) / lambda.

* O(1/N) (steps 4-6), evaluated here: the finite-N law of S_N (its top-k mean at the actual N, Monte Carlo over
  targets), and the second-order gain Y = Y_beta + Y_def of theory.second_order_gain at the selected frame: in the
  Gaussian limit split into the degree-2 part (Haar average over the frame's orientation inside the span) and the
  rest (Monte Carlo over a target neuron's direction), and on simulated targets' own fields, whose difference from
  the limit (the field's correlation with S_N's top eigenspace at finite N, O(N^-3/2)) is reported as a term.
  Not evaluated: the choice of the orientation inside the span by the degree >= 4 harmonics and the second-order
  terms (a max over O(M-1); measured in benchmarks/bench_finite_n_gain.py, +0.4% at most), and O(N^-3/2) beyond.

Versions: G_N uses abar_N; with the population abar, G_N^pop = T_N - abar^2 c_d^2 q_M - min L_N = G_N +
(abar_N^2 - abar^2) c_d^2 q_M, so E[G_N^pop] = E[G_N] + c_d^2 q_M Var(alpha) / N exactly, while its spread carries the
orientation-free fluctuation 2 abar c_d^2 q_M (abar_N - abar) ~ N^-1/2 that G_N removes.

References: docs/finite_n_gain.md (the derivation, each approximation and its measured size); docs/model.md §6.

Examples
--------
>>> lead = leading_constant("relu", 16, 5, samples=4000, seed=1)
>>> round(lead.A, 3), round(lead.A_edge, 3), lead.goe.method
(0.046, 0.069, 'Monte Carlo')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from theory.errors import InputError
from theory.etf import check_neurons_dim
from theory.goe_top_sum import GOETopSum, semicircle_top_sum, traceless_goe_top_sum
from theory.regimes import as_activation
from theory.second_order_gain import SecondOrderModel, data_fields, second_order_model
from theory.target_laws import get_law

# Monte Carlo sizes (defaults) and the reason for each.
GOE_SAMPLES = 20_000        # relative SE of E[top-k] ~ 5e-4 at d = 16
TARGET_SAMPLES = 2_000      # targets drawn for the finite-N law of S_N: relative SE ~ 2e-3
SPHERE_SAMPLES = 200_000    # directions for E_w[Y(psi_r)]: relative SE ~ 3e-3
MAX_N = 10**5
MAX_D = 128
# A target draw costs about N d (d + 2) flops; TARGET_SAMPLES is cut so that samples x that stays below this.
TARGET_FLOP_BUDGET = 5e9
MIN_TARGET_SAMPLES = 50


@dataclass(frozen=True)
class GainSetup:
    """The constants of the derivation for one activation, law, d and M (float64 from exact closed forms)."""

    activation: str
    law: str
    d: int
    M: int
    abar: float          # E alpha
    alpha_sq: float      # E alpha^2
    c_d: float
    a2: float            # degree-2 Gegenbauer coefficient (theory.gegenbauer_kernel)
    lam: float           # kappa(1) + (M-1) kappa(-1/(M-1))
    beta0: float         # abar c_d / lambda
    s: float             # sqrt(E alpha^2 / (d (d+2))): sqrt(N) S_N -> s H0
    degree_two_factor: float   # 2 a_2 M / (M-1): the degree-2 gain is this x beta x (sum of top k eigenvalues of S_N)

    @property
    def k(self) -> int:
        return self.M - 1

    @property
    def q(self) -> float:
        return self.M / self.lam


def _setup(act, d: int, M: int, law) -> tuple[GainSetup, SecondOrderModel]:
    act = as_activation(act)
    check_neurons_dim(M, d)
    if d == M - 1:
        raise InputError("d", f"at d = M - 1 = {d} the ETF spans R^d, tr(P S_N) = tr S_N = 0 and the degree-2 term "
                         "vanishes: the N^-1/2 constant then comes from degree 4, which is not implemented; use d >= M",
                         got=d)
    target_law = get_law(law)
    if target_law.kind != "gaussian":
        raise InputError("law", "the finite-N gain is derived for a rotation-invariant target: gaussian or gaussian(s) "
                         "(other entry laws break isotropy at order 1/d^2, regime III)", got=target_law.name)
    sm = target_law.scaling_moments(d, act.degree, dps=20)
    abar, alpha_sq = float(sm.abar), float(sm.alpha_sq)
    model = second_order_model(act, M, d, abar=abar)
    if model.a2 <= 0:
        raise InputError("activation", "the degree-2 Gegenbauer coefficient vanishes (an odd activation): the "
                         "first-order gain is not the top-eigenvalue sum", got=act.name)
    setup = GainSetup(act.name, target_law.name, d, M, abar, alpha_sq, model.c_d, model.a2, model.lam, model.beta0,
                      math.sqrt(alpha_sq / (d * (d + 2))), 2 * model.a2 * M / (M - 1))
    return setup, model


@dataclass(frozen=True)
class LeadingConstant:
    """A(d, M) with its Monte Carlo standard error, its semicircle-edge form and its d -> infinity form."""

    setup: GainSetup
    A: float
    A_se: float
    A_edge: float            # E[top-k] replaced by 2 k sqrt(d) (semicircle edge), a_2, c_d exact
    A_asymptotic: float      # 4 mu_2^2 mu_0^2 abar M sqrt(E alpha^2 / d) / lambda (d -> infinity constants)
    goe: GOETopSum
    formula: str = "A = 2 a_2 beta0 (M/(M-1)) s E[sum_{i<=M-1} lambda_i(H0)], s = sqrt(E[alpha^2]/(d(d+2)))"


def leading_constant(activation="relu", d: int = 16, M: int = 5, *, law="gaussian", samples: int = GOE_SAMPLES,
                     seed: int = 0) -> LeadingConstant:
    """The N^-1/2 constant A(d, M) of E[G_N] (module docstring), GOE expectation by seeded Monte Carlo."""
    setup, model = _setup(activation, d, M, law)
    goe = traceless_goe_top_sum(d, setup.k, samples=samples, seed=seed)
    scale = setup.degree_two_factor * setup.beta0 * setup.s
    act = model.activation
    mu0 = float(act.hermite_coefficient(0) ** 2)
    mu2 = float(act.hermite_coefficient(2) ** 2)
    asym = 4 * mu2 * mu0 * setup.abar * M * math.sqrt(setup.alpha_sq / d) / setup.lam
    return LeadingConstant(setup, scale * goe.mean, scale * goe.mean_se, scale * semicircle_top_sum(d, setup.k), asym,
                           goe)


@dataclass(frozen=True)
class GainTerm:
    """One term of E[G_N]: value, Monte Carlo standard error, order in N and how it was obtained."""

    name: str
    value: float
    se: float
    order: str
    method: str

    def as_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "se": self.se, "order": self.order, "method": self.method}


@dataclass(frozen=True)
class FiniteNGain:
    """Predicted E[G_N] = sum of ``terms`` (with its standard error), and the related predictions.

    ``population_shift`` = c_d^2 q_M Var(alpha)/N is E[G_N^pop] - E[G_N] (exact); ``gap_mean`` the predicted
    E[min L_N - Ltilde*] = (E[alpha^2] kappa(1) - abar^2 c_d)/N - population_shift - E[G_N] against the population
    mean-field minimum Ltilde* = abar^2 c_d (1 - c_d q_M); ``deformation_rms`` the predicted root mean square of the
    minimiser's distance from the nearest rigid ETF (Frobenius, unit rows) and ``gram_rms`` of ||G - G_ETF||_F, both
    from the Newton step delta = -H^+ g on the simulated targets (N^-1/2 to leading order). ``total`` and its
    standard error come from the per-target sum of the degree-2 term and Y over the simulated targets.
    """

    setup: GainSetup
    N: int
    leading: LeadingConstant
    terms: tuple[GainTerm, ...]
    total: float
    total_se: float
    population_shift: float
    gap_mean: float
    deformation_rms: float
    gram_rms: float
    samples: dict
    seed: int
    not_included: str = ("the selection of the ETF's orientation inside the top eigenspace by the degree >= 4 harmonics "
                         "and the second-order terms (a maximum over O(M-1); measured +0.4% at most, benchmarks/"
                         "bench_finite_n_gain.py), and the O(N^-3/2) terms of the expansion itself")
    source: str = "theory.finite_n_gain; derivation in docs/finite_n_gain.md"

    @property
    def leading_term(self) -> float:
        return self.leading.A / math.sqrt(self.N)

    def as_dict(self) -> dict:
        s = self.setup
        return {
            "activation": s.activation, "law": s.law, "d": s.d, "M": s.M, "N": self.N, "seed": self.seed,
            "predicted_mean_gain": self.total, "predicted_mean_gain_se": self.total_se,
            "leading_constant_A": self.leading.A, "leading_constant_A_se": self.leading.A_se,
            "leading_term": self.leading_term, "A_semicircle_edge": self.leading.A_edge,
            "A_large_d": self.leading.A_asymptotic, "A_formula": self.leading.formula,
            "terms": [t.as_dict() for t in self.terms],
            "population_abar_shift": self.population_shift,
            "predicted_mean_gain_population_abar": self.total + self.population_shift,
            "predicted_mean_gap_to_mean_field_minimum": self.gap_mean,
            "predicted_rms_deformation": self.deformation_rms, "predicted_rms_gram_distance": self.gram_rms,
            "constants": {"abar": s.abar, "E_alpha_sq": s.alpha_sq, "c_d": s.c_d, "a_2": s.a2, "lambda": s.lam,
                          "beta0": s.beta0, "s": s.s, "q_M": s.q,
                          "goe_top_sum_mean": self.leading.goe.mean, "goe_top_sum_se": self.leading.goe.mean_se},
            "samples": self.samples, "not_included": self.not_included, "source": self.source,
            "normalisation": self.normalisation(),
        }

    def normalisation(self) -> str:
        """How the values are scaled (the target's own scale, not divided by abar^2)."""
        return (f"the target's own scale, a_i = 1 and w_i from the {self.setup.law} law, abar = E[a ||w||^n] = "
                f"{self.setup.abar:.6g}; losses and gains are not divided by abar^2")

    def text(self) -> str:
        s = self.setup
        lines = [f"finite-N gain G_N = Ltilde_N* - min L_N: {s.activation}, law {s.law} (a_i = 1), d = {s.d}, "
                 f"M = {s.M}, N = {self.N}",
                 f"  predicted E[G_N] = {self.total:.6g} +- {self.total_se:.2g} (1 s.e., Monte Carlo)",
                 f"  leading A N^-1/2: A = {self.leading.A:.6g} +- {self.leading.A_se:.2g}  "
                 f"({self.leading.formula})",
                 f"  large-d forms of A (asymptotic, not this d's value): semicircle edge {self.leading.A_edge:.5g}, "
                 f"d -> oo constants {self.leading.A_asymptotic:.5g}",
                 f"  normalisation: {self.normalisation()}",
                 "  terms:"]
        width = max(len(t.name) for t in self.terms)
        for t in self.terms:
            lines.append(f"    {t.name:<{width}}  {t.value:+.5e} +- {t.se:.1e}  [{t.order}] {t.method}")
        lines += [f"  with the population abar: E[G_N^pop] = {self.total + self.population_shift:.6g} "
                  f"(+ c_d^2 q_M Var(alpha)/N = {self.population_shift:.3g}, exact)",
                  f"  E[min L_N - Ltilde*] = {self.gap_mean:.6g}",
                  f"  minimiser: rms distance from the nearest rigid ETF {self.deformation_rms:.4g}, "
                  f"rms ||G - G_ETF||_F {self.gram_rms:.4g} (leading order)",
                  f"  not included: {self.not_included}"]
        return "\n".join(lines)


def sample_targets(setup: GainSetup, model: SecondOrderModel, N: int, samples: int, rng: np.random.Generator) -> dict:
    """Draw ``samples`` targets of width N from the setup's law. Per draw: the top-k eigenvalues of S_N, abar_N, and
    the exact first-order term 2 beta_N sum_j z_j and the second-order model (Y_beta, Y_def, ||delta||^2, ||dG||^2,
    shape (4, samples)), both on the draw's own field at the ETF spanning S_N's top eigenspace (orientation in it
    Haar-random)."""
    from theory.activations import get_activation

    law = get_law(setup.law)
    n = get_activation(setup.activation).degree
    k = setup.k
    top = np.empty((samples, k))
    abar_n = np.empty(samples)
    second = np.empty((4, samples))
    first = np.empty(samples)
    qs = haar_orientations(k, samples, rng)
    for r in range(samples):
        a, W = law.sample(N, setup.d, rng)
        norms = np.linalg.norm(W, axis=1)
        alpha = a * norms**n
        units = W / norms[:, None]
        abar_n[r] = alpha.mean()
        evals, evecs = np.linalg.eigh(spectral_matrix(alpha, units))
        evals, evecs = evals[::-1], evecs[:, ::-1]
        top[r] = evals[:k]
        O = np.hstack([evecs[:, :k] @ qs[r], evecs[:, k:]])
        z, gz = data_fields(alpha, units @ O, model)
        first[r] = 2 * abar_n[r] * setup.c_d / setup.lam * float(np.sum(z))
        yb, yd = model.gains(z, gz)
        delta = model.deformation(z, gz)
        second[:, r] = yb, yd, np.sum(delta**2), np.sum(model.gram_change(delta) ** 2)
    return {"top": top, "abar_n": abar_n, "second": second, "first": first}


def orientation_selection(setup: GainSetup, model: SecondOrderModel, N: int, samples: int,
                          rng: np.random.Generator, *, starts: int = 2) -> np.ndarray:
    """Per simulated target: max over the ETF's orientation Q inside S_N's top eigenspace of the first + second-order
    gain (every harmonic degree, the target's own field), minus its value at a Haar-random Q. The first-order
    degree-2 term does not depend on Q, so the degree >= 4 harmonics and the second-order terms make this choice.
    Nelder-Mead over the k(k-1)/2 angles of Q = expm(A), from ``starts`` random starts (a local search: a lower
    bound on the selection gain)."""
    from scipy.linalg import expm
    from scipy.optimize import minimize

    from theory.activations import get_activation

    law = get_law(setup.law)
    n = get_activation(setup.activation).degree
    k = setup.k
    iu = np.triu_indices(k, 1)
    out = np.empty(samples)
    for r in range(samples):
        a, W = law.sample(N, setup.d, rng)
        norms = np.linalg.norm(W, axis=1)
        alpha = a * norms**n
        units = W / norms[:, None]
        evals, evecs = np.linalg.eigh(spectral_matrix(alpha, units))
        evecs = evecs[:, ::-1]
        beta_n = float(np.mean(alpha)) * setup.c_d / setup.lam

        def gain(x: np.ndarray) -> float:
            A = np.zeros((k, k))
            A[iu] = x
            O = np.hstack([evecs[:, :k] @ expm(A - A.T), evecs[:, k:]])
            z, gz = data_fields(alpha, units @ O, model)
            return 2 * beta_n * float(np.sum(z)) + float(sum(model.gains(z, gz)))

        x0 = rng.standard_normal((starts, iu[0].size)) * np.pi
        best = max(-minimize(lambda x: -gain(x), x, method="Nelder-Mead",
                             options={"xatol": 1e-4, "fatol": 1e-9 * abs(gain(x)), "maxiter": 1000}).fun
                   for x in x0)
        out[r] = best - gain(rng.standard_normal(iu[0].size) * np.pi)
    return out


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))


def check_width(N: object, argument: str = "N") -> int:
    if isinstance(N, bool) or not isinstance(N, int) or not 10 <= N <= MAX_N:
        raise InputError(argument, f"target width must be an integer in 10..{MAX_N}", got=N)
    return N


def default_goe_samples(d: int) -> int:
    """GOE_SAMPLES, cut to about 4e9 / d^3 flops of eigenvalue work for large d (at least 1000)."""
    return int(max(1000, min(GOE_SAMPLES, 4e9 / d**3)))


def finite_n_gain(activation="relu", d: int = 16, M: int = 5, N: int = 1000, *, law="gaussian", seed: int = 0,
                  goe_samples: int | None = None, target_samples: int | None = None,
                  sphere_samples: int = SPHERE_SAMPLES, selection_samples: int = 0) -> FiniteNGain:
    """Predicted E[G_N] with its components (module docstring), for a_i = 1 and w_i with i.i.d. entries of ``law``.

    ``target_samples`` defaults to TARGET_SAMPLES, cut to TARGET_FLOP_BUDGET / (N d (d + 2)) (at least
    MIN_TARGET_SAMPLES), ``goe_samples`` to ``default_goe_samples(d)``; every Monte Carlo draws from a child of
    numpy's SeedSequence(seed). ``selection_samples`` > 0 adds the orientation-selection term
    (``orientation_selection``, ~0.5 s a target: off by default).

    Examples
    --------
    >>> g = finite_n_gain("relu", 8, 3, 400, goe_samples=2000, target_samples=200, sphere_samples=20000, seed=2)
    >>> [t.name for t in g.terms][:2], 0.9 < g.total / g.leading_term < 1.4
    (['leading, degree 2, GOE limit', 'finite-N law of S_N (degree 2)'], True)
    """
    N = check_width(N)
    if isinstance(d, int) and not isinstance(d, bool) and d > MAX_D:
        raise InputError("d", f"the Monte Carlo over targets is bounded to d <= {MAX_D}", got=d)
    setup, model = _setup(activation, d, M, law)
    seeds = np.random.SeedSequence(seed).spawn(4)
    goe_samples = default_goe_samples(d) if goe_samples is None else goe_samples
    lead = leading_constant(activation, d, M, law=law, samples=goe_samples, seed=int(seeds[0].generate_state(1)[0]))
    if target_samples is None:
        target_samples = int(max(MIN_TARGET_SAMPLES, min(TARGET_SAMPLES, TARGET_FLOP_BUDGET / (N * d * (d + 2)))))
    blocks = sample_targets(setup, model, N, target_samples, np.random.default_rng(seeds[1]))
    top, abar_n, second = blocks["top"], blocks["abar_n"], blocks["second"]
    tsum = top.sum(axis=1)
    degree_two = setup.degree_two_factor * abar_n * setup.c_d / setup.lam * tsum
    deg2_mean, deg2_se = _mean_se(degree_two)
    haar = model.haar_average(top)                       # (4, samples): degree-2 Y_beta, Y_def, |delta|^2, |dG|^2
    g = np.random.default_rng(seeds[2]).standard_normal((sphere_samples, d))
    rest = model.rest_expectations(g / np.linalg.norm(g, axis=1, keepdims=True))
    factor = setup.alpha_sq / N
    (yb2, yb2_se), (yd2, yd2_se) = _mean_se(haar[0]), _mean_se(haar[1])
    (ybr, ybr_se), (ydr, ydr_se) = _mean_se(factor * rest[0]), _mean_se(factor * rest[1])
    lead_term, lead_se = lead.A / math.sqrt(N), lead.A_se / math.sqrt(N)
    terms = (
        GainTerm("leading, degree 2, GOE limit", lead_term, lead_se, "N^-1/2",
                 f"A / sqrt(N); E[top-{setup.k} sum] of the traceless GOE by Monte Carlo ({lead.goe.samples} matrices)"),
        GainTerm("finite-N law of S_N (degree 2)", deg2_mean - lead_term, math.hypot(deg2_se, lead_se), "N^-1",
                 f"E[2 a_2 beta_N (M/(M-1)) top-{setup.k}(S_N)] over {target_samples} targets, minus the GOE limit"),
        GainTerm("beta re-optimisation, degree 2", yb2, yb2_se, "N^-1",
                 "E z^T K^-1 z of the degree-2 field, orientation in the span Haar-averaged"),
        GainTerm("deformation, degree 2", yd2, yd2_se, "N^-1",
                 "E (1/2) g^T H^+ g of the degree-2 field, orientation in the span Haar-averaged"),
        GainTerm("beta re-optimisation, other degrees", ybr, ybr_se, "N^-1",
                 f"(E alpha^2/N) E_w[z_r^T K^-1 z_r] over {sphere_samples} directions (degree 1 dominates)"),
        GainTerm("deformation, other degrees", ydr, ydr_se, "N^-1",
                 f"(E alpha^2/N) E_w[(1/2) g_r^T H^+ g_r] over {sphere_samples} directions (degree-1 tilt included)"),
    )
    # The first-order term (every degree) and the second-order model on the simulated targets' own fields: equal to
    # the degree-2 term plus the four terms above in the Gaussian limit; the difference is the finite-N correlation
    # of the field (degrees != 2) with the selected span, O(N^-3/2).
    y_target = blocks["first"] - degree_two + second[0] + second[1]
    limit = yb2 + yd2 + ybr + ydr
    y_mean, y_se = _mean_se(y_target)
    terms += (GainTerm("finite-N correlation of the field with S_N's top eigenspace", y_mean - limit,
                       math.sqrt(y_se**2 + yb2_se**2 + yd2_se**2 + ybr_se**2 + ydr_se**2), "N^-3/2",
                       f"E[first order (all degrees) - degree 2 + Y_beta + Y_def] on {target_samples} simulated "
                       "targets' own fields (span on S_N's top eigenspace, Haar orientation), minus the four "
                       "Gaussian-limit terms above"),)
    total, total_se = _mean_se(degree_two + y_target)
    not_included = FiniteNGain.not_included
    if selection_samples:
        sel = orientation_selection(setup, model, N, selection_samples, np.random.default_rng(seeds[3]))
        sel_mean, sel_se = _mean_se(sel)
        terms += (GainTerm("orientation inside the span (selection)", sel_mean, sel_se, "N^-1",
                           f"E[max over Q - Haar Q] of first + second order on {selection_samples} simulated targets "
                           "(Nelder-Mead, 2 starts)"),)
        total, total_se = total + sel_mean, math.hypot(total_se, sel_se)
        not_included = "the O(N^-3/2) terms of the expansion itself"
    bias = (setup.alpha_sq * model.kappa_one - setup.abar**2 * setup.c_d) / N
    shift = setup.c_d**2 * setup.q * (setup.alpha_sq - setup.abar**2) / N
    dist2, gram2 = float(np.mean(second[2])), float(np.mean(second[3]))
    return FiniteNGain(setup, N, lead, terms, total, total_se, shift, bias - shift - total, math.sqrt(dist2),
                       math.sqrt(gram2), {"goe": lead.goe.samples, "targets": target_samples, "sphere": sphere_samples,
                                          "selection": selection_samples}, seed, not_included)


@dataclass(frozen=True)
class PerDrawGain:
    """The degree-2 prediction of G_N for one target: 2 a_2 beta_N (M/(M-1)) (sum of the top M-1 eigenvalues of S_N).

    ``top_eigenvalues`` of S_N, ``eigenvectors`` their d x (M-1) basis (the predicted span of the minimiser),
    ``abar_n`` the target's mean scaling factor; ``first_order`` and ``second_order``: the exact first-order term
    2 beta_N sum_j z_j (every harmonic degree) and Y_beta + Y_def of the target's own field at the ETF with that span,
    averaged over the given orientations Q in O(M-1) (None unless ``orientations`` is given).
    """

    degree_two: float
    top_eigenvalues: np.ndarray = field(repr=False)
    eigenvectors: np.ndarray = field(repr=False)
    abar_n: float = 0.0
    first_order: float | None = None
    second_order: float | None = None

    @property
    def total(self) -> float | None:
        """first_order + second_order: the per-draw second-order predictor (None without orientations)."""
        return None if self.second_order is None else self.first_order + self.second_order


def spectral_matrix(alpha: np.ndarray, units: np.ndarray) -> np.ndarray:
    """S_N = (1/N) sum_i alpha_i (w^_i w^_i^T - I/d)."""
    alpha = np.asarray(alpha, dtype=float)
    units = np.asarray(units, dtype=float)
    S = (units.T * alpha) @ units / alpha.size
    S[np.diag_indices(units.shape[1])] -= alpha.mean() / units.shape[1]
    return S


def per_draw_gain(alpha: np.ndarray, units: np.ndarray, M: int, activation="relu", *, law="gaussian",
                  orientations: np.ndarray | None = None) -> PerDrawGain:
    """The per-draw predictor on a given target's S_N; with ``orientations`` (n, M-1, M-1), also the exact first-order
    term and the second-order gain of the ETF spanning the top eigenspace, averaged over those orientations in it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W = rng.standard_normal((500, 8)) / np.sqrt(8)
    >>> p = per_draw_gain(np.linalg.norm(W, axis=1), W / np.linalg.norm(W, axis=1)[:, None], 3)
    >>> 0.0 < p.degree_two < 0.01, p.eigenvectors.shape, p.total
    (True, (8, 2), None)
    """
    units = np.asarray(units, dtype=float)
    setup, model = _setup(activation, units.shape[1], M, law)
    S = spectral_matrix(alpha, units)
    evals, evecs = np.linalg.eigh(S)
    evals, evecs = evals[::-1], evecs[:, ::-1]
    abar_n = float(np.mean(alpha))
    beta_n = abar_n * setup.c_d / setup.lam
    pred = setup.degree_two_factor * beta_n * float(np.sum(evals[: setup.k]))
    first = second = None
    if orientations is not None:
        firsts, seconds = [], []
        for Q in np.asarray(orientations, dtype=float):
            O = np.hstack([evecs[:, : setup.k] @ Q, evecs[:, setup.k:]])
            z, gz = data_fields(alpha, units @ O, model)
            firsts.append(2 * beta_n * float(np.sum(z)))
            seconds.append(float(sum(model.gains(z, gz))))
        first, second = float(np.mean(firsts)), float(np.mean(seconds))
    return PerDrawGain(pred, evals[: setup.k], evecs[:, : setup.k], abar_n, first, second)


def haar_orientations(k: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n Haar-distributed orthogonal k x k matrices (QR of Gaussian matrices with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k, k)))
    return q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
