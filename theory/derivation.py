"""Everything the theory layer derives for one (activation, law, d, M), as ordered named entries.

Each entry carries an exact sympy form when there is one, its value at the requested precision, where it comes
from, and its *normalisation*: the ETF and regime II values are those of ``twolayer conjecture``, normalised to
abar = 1 (a loss is Ltilde / abar^2, a beta is beta / abar; Ltilde is quadratic in (abar, m)), entries that
depend on the entry law's own scale say so and give that abar, and law-free entries (Hermite coefficients,
kappa, c_d, 1^T K^-1 1, relative losses) have an empty normalisation. ``theory.cli`` renders the list as text,
JSON or LaTeX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from theory.activations import Activation, get_activation
from theory.closed_form import tidy_number
from theory.errors import InputError
from theory.etf_values import best_tilt, etf_values
from theory.finite_n import finite_n_constants
from theory.pair_average import pair_average, pair_average_disc
from theory.derive_bounds import DEFAULT_TILT_NORM, MAX_D, MAX_DPS, MAX_M, MAX_ORDER, MIN_DPS  # the inputs' bounds
from theory.kernels import SERIES_ORDER, dual_kernel, kernel_series
from theory.sphere import sphere_average_expr, sphere_average_series, sphere_moment
from theory.target_laws import get_law

# The uniform law's odd norm moments come from a Laplace-transform quadrature whose cost grows steeply with the
# precision (about 5 s at 40 digits, 18 s at 120, 5 minutes at 250, whatever d): derive computes them at most
# to this many digits and says so.
LAW_QUADRATURE_DPS = 40
# An exact form with more decimal digits than this (numerators and denominators together) is not printed: its
# decimal value is, with the note "exact form has N digits, omitted" (c_d at d = 10000 has thousands of digits).
MAX_EXACT_DIGITS = 200

UNIT_ABAR = "abar = 1"
LAW_FREE = ""

MODEL_HOMOGENEITY = "docs/model.md §2 'Homogeneity and scaling factors'"
MODEL_KERNEL = "docs/model.md §3 'Dual kernel'"
MODEL_OBJECTIVE = "docs/model.md §4 'The mean-field objective'"
MODEL_ETF = "docs/model.md §5 'The ETF question'"
MODEL_FINITE_N = "docs/model.md §6 'Finite N'"
DERIV_SPHERE = "docs/derivations.md §3 'Sphere moments and c_d'"
DERIV_LAWS = "docs/derivations.md §4 'Scaling factors of the target laws'"
DERIV_III = "docs/derivations.md §5 'Regime III: the fourth-cumulant term'"
DERIV_ETF = "docs/derivations.md §7 'ETF values'"
DERIV_FINITE_N = "docs/derivations.md §9 'Finite N'"


@dataclass(frozen=True)
class Entry:
    """One derived object.

    ``exact`` (sympy or None), ``value`` (mpmath number, float or None), ``source`` (where it comes from),
    ``normalisation`` ("abar = 1", "law scale: abar = ... (law)", or "" for a law-free entry), ``note``
    (e.g. why an exact form is omitted) and ``digits`` (significant digits of ``value`` when fewer than dps).
    """

    section: str
    name: str
    exact: sp.Expr | None
    value: object
    source: str
    normalisation: str = LAW_FREE
    note: str = ""
    digits: int | None = None


@dataclass(frozen=True)
class Derivation:
    activation: str
    law: str
    d: int
    M: int
    dps: int
    tilt_norm: float
    degree: int | None      # homogeneity degree n of the activation (None: not positively homogeneous)
    abar: object            # the law's own abar = E[a ||w||^n] (mpmath), None for a non-homogeneous activation
    law_normalisation: str  # the normalisation string of entries at the law's scale
    entries: tuple[Entry, ...]


def _check_int(value, argument: str, lo: int, hi: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InputError(argument, f"{what} must be an integer in {lo}..{hi}", got=value)
    return value


def _ev(expr, dps):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 10))


def _int_digits(n: int) -> int:
    n = abs(int(n))
    if n.bit_length() < 10_000:
        return len(str(n))
    return int(n.bit_length() * math.log10(2)) + 1  # str() refuses integers of more than 4300 digits


def exact_digits(expr) -> int:
    """Decimal digits of the rational numbers in ``expr`` (numerators and denominators together)."""
    total = 0
    for r in sp.sympify(expr).atoms(sp.Rational):
        total += _int_digits(r.p) + (_int_digits(r.q) if r.q != 1 else 0)
    return total


def _tidy(expr):
    """The shorter of tidy_number(expr) and tidy_number(expr with acos(-x) -> pi - acos(x) for numbers x > 0), which
    merges acos(1/4) and acos(-1/4) in the abs activation's ETF forms; a form that will be omitted for its
    length is returned as it is (simplifying thousands of digits is slow)."""
    expr = sp.sympify(expr)
    if exact_digits(expr) > MAX_EXACT_DIGITS:
        return expr
    plain = tidy_number(expr)
    if not expr.has(sp.acos):
        return plain
    turned = expr.replace(lambda e: isinstance(e, sp.acos) and e.args[0].is_number and bool(e.args[0] < 0),
                          lambda e: sp.pi - sp.acos(-e.args[0]))
    turned = tidy_number(turned)
    return turned if len(str(turned)) < len(str(plain)) else plain


def _etf_float(M: int, d: int) -> np.ndarray:
    """Float64 simplex ETF (M, d): centred basis vectors of R^M, scaled to unit length, in the Helmert basis of
    the hyperplane sum = 0 (the same frame as theory.etf.simplex_etf, built in numpy: sympy is slow for large M)."""
    if M == 1:
        out = np.zeros((1, d))
        out[0, 0] = 1.0
        return out
    H = np.zeros((M - 1, M))
    for k in range(1, M):
        H[k - 1, :k] = 1.0
        H[k - 1, k] = -k
        H[k - 1] /= math.sqrt(k * (k + 1))
    centred = np.eye(M) - 1.0 / M
    coords = math.sqrt(M / (M - 1)) * centred @ H.T
    return np.hstack([coords, np.zeros((M, d - (M - 1)))])


def _finite_n_digits(fc, act, d: int, M: int, beta) -> tuple[dict, dict, float]:
    """Correct digits and error bounds of the float64 finite-N constants, and the gap between the two
    pair-average quadratures.

    The variance constants need the pair average Phi_d at the ETF's correlations (1 and -1/(M-1)); its quadrature
    (theory.pair_average) loses accuracy as d grows (the two independent rules differ by ~1e-9 at d = 100 and
    ~1e-5 at d = 400), and v1 = 4 Var D is an O(1/d) difference of O(1) terms. The error estimate is the gap g
    between the two rules, propagated: |dv1| <= 4 m_2 g (sum_j |beta_j|)^2, |dv2|, |dv3| <= 2 m_2^2 g, plus
    float64 rounding (1e-14 of the terms' size). At least 1 digit (a value within its bound is not printed), at
    most 15.
    """
    rhos = [1.0] + ([-1.0 / (M - 1)] if M > 1 else [])
    gap = 0.0
    if d >= 3:
        gap = max(abs(pair_average(act, d, r) - pair_average_disc(act, d, r)) for r in rhos)
    m1, m2, _, m4 = fc.alpha_moments
    c, k1 = fc.sphere_avg, fc.kappa_one
    babs = float(np.sum(np.abs(beta)))
    phi1 = pair_average(act, d, 1.0)
    size = m2 * (phi1 * babs**2 + m1 * m1 * c * c) + m2 * m2 * phi1 + k1 * k1 * abs(m4) + m2 * k1
    rounding = 1e-14 * size
    errors = {"bias": 1e-15 * (m2 * k1 + m1 * m1 * c), "v1": 4 * m2 * gap * babs**2 + rounding,
              "v2": 2 * m2 * m2 * gap + rounding, "v3": 2 * m2 * m2 * gap + rounding}
    values = {"bias": fc.bias_coefficient, "v1": fc.variance_first, "v2": fc.variance_second, "v3": fc.variance_third}
    digits = {}
    for key, err in errors.items():
        v = abs(values[key])
        digits[key] = 15 if err == 0 or v == 0 else int(max(1, min(15, math.floor(math.log10(v / err)))))
    return digits, errors, gap


def law_normalisation(law_name: str, degree: int, abar) -> str:
    """'law scale: abar = E[a||w||] = 0.9213177319... (gaussian)'."""
    moment = {0: "E[a]", 1: "E[a||w||]"}.get(degree, f"E[a||w||^{degree}]")
    return f"law scale: abar = {moment} = {mpmath.nstr(abar, 10, strip_zeros=False)}... ({law_name})"


def derive(activation: str = "relu", law: str = "gaussian", d: int = 3, M: int = 3, dps: int = 30,
           *, order: int = 6, tilt_norm: float | None = None) -> Derivation:
    """Hermite coefficients, kernel, sphere averages, law moments, ETF values, regime II/III and finite-N constants.

    ``tilt_norm`` = ||m|| / abar of the regime II tilted family (None: the default 0.5; giving it where the
    family does not apply, M outside 2..d or a non-homogeneous activation, is an InputError).

    Examples
    --------
    >>> out = derive("relu", "gaussian", 3, 3, 20)
    >>> [e.exact for e in out.entries if e.name == "c_d at d"]
    [3/16]
    >>> [(e.exact, e.normalisation) for e in out.entries if e.name == "C_target"]
    [(3/16, 'abar = 1')]
    """
    dps = _check_int(dps, "dps", MIN_DPS, MAX_DPS, "precision")
    d = _check_int(d, "d", 1, MAX_D, "the input dimension d")
    M = _check_int(M, "M", 1, MAX_M, "the compressed width M")
    order = _check_int(order, "order", 0, MAX_ORDER, "the Hermite order")
    if tilt_norm is not None:
        if isinstance(tilt_norm, bool) or not isinstance(tilt_norm, (int, float)) or not math.isfinite(tilt_norm) \
                or tilt_norm < 0:
            raise InputError("tilt-norm", "expected a finite number >= 0 (||m|| / abar)", got=tilt_norm)
    act = get_activation(activation, allow_general=True)
    target_law = get_law(law)
    homogeneous = isinstance(act, Activation)
    if homogeneous and M > d + 1:
        raise InputError("M", f"the simplex ETF needs M <= d + 1 = {d + 1}", got=M)
    if tilt_norm is not None and not homogeneous:
        raise InputError("tilt-norm", "the regime II tilted family needs a positively homogeneous activation",
                         got=tilt_norm)
    if tilt_norm is not None and not 2 <= M <= d:
        raise InputError("tilt-norm", f"the regime II tilted family needs 2 <= M <= d (here M = {M}, d = {d})",
                         got=tilt_norm)
    tilt = float(DEFAULT_TILT_NORM if tilt_norm is None else tilt_norm)

    E: list[Entry] = []

    def add(section, name, exact, value, source, normalisation=LAW_FREE, note="", digits=None):
        # the bound is for numbers whose size grows with d (c_d and what contains it); symbolic forms (the
        # kernel and its series, bounded by --order) are always printed
        if exact is not None and sp.sympify(exact).is_number and exact_digits(exact) > MAX_EXACT_DIGITS:
            note = (note + "; " if note else "") + f"exact form has {exact_digits(exact)} digits, omitted"
            if value is None:
                value = _ev(exact, dps)
            exact = None
        E.append(Entry(section, name, exact, value, source, normalisation, note, digits))

    sec = "activation"
    add(sec, "sigma(t)", act.expression(), None, "definition")
    for k in range(order + 1):
        mu = act.hermite_coefficient(k)
        add(sec, f"mu_{k}", mu, _ev(mu, dps), f"exact Gaussian integral (normalised Hermite basis, {MODEL_KERNEL})")
    kern = dual_kernel(act)
    add(sec, "kappa(1) = E sigma^2", act.second_moment(), _ev(act.second_moment(), dps), "exact")
    if not homogeneous:
        add(sec, "kappa(rho)", None, None, f"the Hermite series truncated at order {SERIES_ORDER}: "
            f"sum_(k<={SERIES_ORDER}) mu_k^2 rho^k, its error at most the tail bound below on [-1, 1] ({MODEL_KERNEL})")
        add(sec, "kernel tail bound", kern.tail_bound, _ev(kern.tail_bound, dps), "E sigma^2 - sum_{k<=K} mu_k^2")
        add(sec, "note", None, None, f"not positively homogeneous: no scaling-factor reduction ({MODEL_HOMOGENEITY}); "
            "the sphere, law, ETF, regime and finite-N sections need a homogeneous activation")
        return Derivation(act.name, target_law.name, d, M, dps, tilt, None, None, "", tuple(E))
    add(sec, "kappa(rho)", kern.expr, None, f"arc-cosine kernel (Cho & Saul 2009), {MODEL_KERNEL}")
    add(sec, f"kappa series to rho^{order}", kernel_series(act, order), None, f"sum_k mu_k^2 rho^k, {MODEL_KERNEL}")

    sec = "sphere"
    add(sec, "E<w^,e1>^2", sphere_moment(2), None, f"Gaussian factorisation, {DERIV_SPHERE}")
    add(sec, "E<w^,e1>^4", sphere_moment(4), None, f"Gaussian factorisation, {DERIV_SPHERE}")
    add(sec, "c_d", sphere_average_expr(act), None, f"E kappa(<w^, e_1>), {DERIV_SPHERE}")
    c_exact = sphere_average_expr(act, sp.Integer(d))
    add(sec, "c_d at d", c_exact, _ev(c_exact, dps), "closed form")
    add(sec, "c_d 1/d expansion (ID = 1/d)", sphere_average_series(act, 3), None,
        f"Bernoulli-polynomial asymptotics of Gamma ratios, {DERIV_SPHERE}")

    sec = "law"
    law_dps = dps
    if target_law.kind == "uniform" and act.degree % 2 == 1:  # odd powers of ||w||: quadrature (see above)
        law_dps = min(dps, LAW_QUADRATURE_DPS)
    sm = target_law.scaling_moments(d, act.degree, dps=law_dps + 10)
    abar_digits = None if sm.exact[0] is not None else law_dps
    law_norm = law_normalisation(target_law.name, act.degree, sm.abar)
    add(sec, "kappa_4 of entries", target_law.kappa4, _ev(target_law.kappa4, dps), "m4/m2^2 - 3")
    for k, name in ((0, "abar = E[a||w||^n]"), (1, "E[alpha^2]")):
        exact_k = sm.exact[k]
        value_k = _ev(exact_k, dps) if exact_k is not None else sm.alpha_moments[k]
        add(sec, name, exact_k, value_k, f"{sm.method[k]}, {DERIV_LAWS}", law_norm,
            digits=None if exact_k is not None else law_dps)

    sec = "etf"
    ev = etf_values(act, M, d, dps=dps, law=target_law, scaling=sm)
    lam_note = "lambda = kappa(1) + (M-1) kappa(rho0)"
    ones = ev.ones_Kinv_ones_exact
    # values from the exact forms (sympy's evalf reaches dps correct digits through the cancellation in F_ETF)
    beta_exact, f_exact = c_exact * ones / M, c_exact - c_exact**2 * ones
    add(sec, "rho0 = -1/(M-1)", ev.rho0, None, f"simplex ETF, {MODEL_ETF}")
    add(sec, "1^T K^-1 1", _tidy(ones), ev.ones_Kinv_ones, f"M / lambda, {lam_note}; {DERIV_ETF}")
    add(sec, "beta*_j", _tidy(beta_exact), _ev(beta_exact, dps), f"c_d / lambda; {DERIV_ETF}", UNIT_ABAR)
    add(sec, "C_target", c_exact, _ev(c_exact, dps), f"C = abar^2 c_d, {MODEL_OBJECTIVE}", UNIT_ABAR)
    add(sec, "F_ETF", _tidy(f_exact), _ev(f_exact, dps),
        f"c_d - c_d^2 1^T K^-1 1 (as twolayer conjecture's F_ETF); {DERIV_ETF}", UNIT_ABAR)
    add(sec, "Ltilde*/C_target", _tidy(ev.relative_loss_exact), ev.relative_loss, f"1 - c_d 1^T K^-1 1; {DERIV_ETF}")
    add(sec, "Ltilde* at the law's abar", None if ev.ltilde_star_exact is None else _tidy(ev.ltilde_star_exact),
        ev.ltilde_star, f"abar^2 F_ETF; {DERIV_ETF}", law_norm, digits=abar_digits)

    sec = "regime II"
    if 2 <= M <= d:
        work = min(dps, 30)
        tv = best_tilt(act, M, 1, tilt, dps=work)
        src = f"equal-tilt family v_j = cos(t) m^ + sin(t) s_j, {DERIV_ETF} (tilted family); {MODEL_OBJECTIVE} (II)"
        given = "option --tilt-norm" if tilt_norm is not None else f"default of --tilt-norm ({DEFAULT_TILT_NORM})"
        add(sec, "||m||/abar", sp.Rational(repr(tilt)), tilt, given)
        add(sec, "best tilt angle t", None, tv.angle, "golden section on t in [0, pi/2]", digits=work // 2 + 2)
        add(sec, "Ltilde*(t)", None, tv.value, src, UNIT_ABAR, digits=work)
        add(sec, "Ltilde*(t)/C", None, tv.value / tv.constant, "relative to C = mu_0^2 + mu_1^2 ||m||^2 at abar = 1",
            digits=work)
    else:
        add(sec, "note", None, None, f"the tilted family needs 2 <= M <= d (here M = {M}, d = {d})")

    sec = "regime III"
    mu4 = act.hermite_coefficient(4) ** 2
    coef = tidy_number(mu4 * target_law.kappa4 / sp.Integer(d) ** 2)
    add(sec, "anisotropy coefficient mu_4^2 kappa_4 / d^2", coef, _ev(coef, dps),
        f"b(v^) = abar c_d + coef (sum v_i^4 - 3/(d+2)) + O(d^-3), {DERIV_III}", law_norm)

    sec = "finite N (at the ETF, beta*)"
    beta_law = np.array([float(x) for x in ev.beta_star])
    fc = finite_n_constants(beta_law, _etf_float(M, d), act, d, target_law)
    if not fc.law_rotation_invariant:
        add(sec, "note", None, None, "the entry law is not rotation invariant: these are the regime I model values "
            "(directions taken uniform and independent of alpha), accurate up to the O(1/d^2) anisotropy of regime III")
    digits, errors, pair_gap = _finite_n_digits(fc, act, d, M, beta_law)
    for name, value, what, key in [
        ("bias coefficient", fc.bias_coefficient, "E L_N - Ltilde = coef / N (exact)", "bias"),
        ("variance 1/N coefficient", fc.variance_first, "4 Var[alpha (g - abar c_d)]", "v1"),
        ("variance 1/N^2 coefficient", fc.variance_second, "2 Var h2 - 4 Cov(D, E)", "v2"),
        ("variance 1/N^3 coefficient", fc.variance_third, "Var E - 2 Var h2", "v3"),
    ]:
        how = "float64 closed form" if key == "bias" else "float64, pair average by quadrature"
        src = f"{what}; {how}; {DERIV_FINITE_N}"
        if abs(value) <= errors[key]:
            add(sec, name, None, None, src, law_norm,
                note=f"not printed: indistinguishable from 0 within its error bound {errors[key]:.1e} (float64; "
                     f"the two pair-average quadratures of theory.pair_average differ by {pair_gap:.1e} at d = {d})")
        else:
            add(sec, name, None, value, src, law_norm, digits=digits[key])
    return Derivation(act.name, target_law.name, d, M, dps, tilt, act.degree, sm.abar, law_norm, tuple(E))
