"""Laws of the target's inner weights: w_i = z / sqrt(d), z with i.i.d. symmetric entries.

A law is given by the even moments m_2, m_4, ... of one entry z (odd moments are 0). Built in:

* ``gaussian`` / ``gaussian(s)``: z ~ N(0, s^2), so w ~ N(0, s^2 I / d) (default s = 1);
* ``rademacher``: z = +-1, so ||w|| = 1 exactly;
* ``uniform``: z uniform on [-sqrt 3, sqrt 3] (unit variance);
* ``sparse_rademacher(p)``: z = 0 with probability 1 - p, +-1/sqrt(p) with probability p/2 each (unit variance,
  kappa_4 = 1/p - 3: from -2 at p = 1, the Rademacher law, to large positive values as p -> 0);
* ``moments(m4=..., m6=..., m8=...)``: unit variance (m2 = 1 unless given) and the listed even
  moments; sampling uses the discrete symmetric law with the fewest atoms that matches them
  (Gauss quadrature of the moment sequence, Golub-Welsch).

Outer weights are a_i = 1, so the scaling factor of a degree-n neuron is alpha = ||w||^n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from theory.activations import check_spec_length, parse_number
from theory.closed_form import tidy_number
from theory.errors import InputError

LAW_NAMES = ("gaussian", "gaussian(s)", "rademacher", "uniform", "sparse_rademacher(p)", "moments(m4=..., m6=..., ...)")

# ---- limits on --law text (MAX_SPEC_CHARS, MAX_NUMBER_DIGITS, MAX_EXPONENT: see theory.activations) ----
# Largest scale s of gaussian(s): the float64 quantities scale like E alpha^4 = E||w||^12 ~ s^12 <= 1e72 (degree 3),
# far below the overflow at 1.8e308 (gaussian(1e308) overflowed).
MAX_SCALE = 10**6
# Smallest scale s: the same quantities stay >= s^12 = 1e-72, far above the float64 underflow at 2e-308.
MIN_SCALE = sp.Rational(1, 10**6)
# Largest |m_k| in moments(...): covers the Gaussian m16 = 15!! ~ 2e6 with a wide margin, and keeps the Hankel
# matrix of the atom computation (40 digits) and the float64 sampling of the atoms finite.
MAX_MOMENT = 10**12
# Highest moment order m_k (k even): the discrete law then has at most 9 atoms.
MAX_MOMENT_ORDER = 16
# Smallest p of sparse_rademacher(p): kappa_4 = 1/p - 3 <= 997 and the nonzero atom 1/sqrt(p) <= 32 keep E alpha^4
# (up to p^-5 for degree 3 at d = 1) near 1e15, far from the float64 overflow, while a law with almost every
# entry 0 is still described (at d <= 8 a neuron is w = 0 with probability >= 0.992).
MIN_SPARSITY = sp.Rational(1, 1000)


def _exact_number(text: str, argument: str, what: str = "a number", bound=MAX_MOMENT) -> sp.Rational:
    """A decimal or a fraction a/b as an exact rational (``theory.activations.parse_number``: no eval, limits)."""
    return parse_number(text, argument, what=what, bound=bound)


@dataclass(frozen=True)
class ScalingMoments:
    """abar = E[a ||w||^n], alpha_sq = E[alpha^2], and E[alpha^k] for k = 1..4 (mpmath at ``dps``).

    ``method[k-1]`` says how E[alpha^k] was obtained: 'exact' (closed form, ``exact[k-1]`` holds it),
    'quadrature' (Laplace-transform integral, accurate to about dps digits) or
    'expansion O(d^-r)' (1/d expansion whose remainder is O(d^-r)).
    """

    law: str
    dim: int
    degree: int
    dps: int
    alpha_moments: tuple
    method: tuple[str, ...]
    exact: tuple
    source: str

    @property
    def abar(self):
        return self.alpha_moments[0]

    @property
    def alpha_sq(self):
        return self.alpha_moments[1]

    @property
    def abar_method(self) -> str:
        return self.method[0]

    @property
    def alpha_sq_method(self) -> str:
        return self.method[1]


@dataclass(frozen=True)
class TargetLaw:
    """Entry law of z = sqrt(d) w_i (symmetric); ``moments`` holds exact m_2, m_4, ... as far as known.

    Examples
    --------
    >>> law = get_law("uniform")
    >>> law.moment(4), law.kappa4
    (9/5, -6/5)
    >>> a, W = get_law("rademacher").sample(2, 4, np.random.default_rng(0))
    >>> a.tolist(), np.abs(W * 2).tolist()
    ([1.0, 1.0], [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    """

    name: str
    kind: str
    scale: sp.Rational = sp.Integer(1)
    given: tuple = ()
    sparsity: sp.Rational = sp.Integer(1)  # p of sparse_rademacher(p)

    def moment(self, k: int):
        """E z^k exactly, or None when the law does not fix it (moment-specified laws)."""
        if k % 2:
            return sp.Integer(0)
        j = k // 2
        if self.kind == "gaussian":
            return self.scale**k * (sp.factorial2(k - 1) if k else 1)
        if self.kind == "rademacher":
            return sp.Integer(1)
        if self.kind == "uniform":
            return sp.Integer(3) ** j / (k + 1)
        if self.kind == "sparse_rademacher":  # E z^(2j) = p (1/p)^j for j >= 1
            return self.sparsity ** (1 - j) if j else sp.Integer(1)
        if j == 0:
            return sp.Integer(1)
        return self.given[j - 1] if j - 1 < len(self.given) else None

    @property
    def variance(self) -> sp.Rational:
        return self.moment(2)

    @property
    def kappa4(self) -> sp.Rational:
        """Standardised fourth cumulant m_4 / m_2^2 - 3 of an entry."""
        return sp.nsimplify(self.moment(4) / self.moment(2) ** 2 - 3)

    # -- sampling ---------------------------------------------------------------------------------
    def sample(self, n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n target neurons in R^d: (a, W) with a = ones(n) and rows w_i = z_i / sqrt(d)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InputError("n", "number of neurons must be an integer >= 1", got=n)
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise InputError("dim", "dimension must be an integer >= 1", got=d)
        if self.kind == "gaussian":
            z = rng.standard_normal((n, d)) * float(self.scale)
        elif self.kind == "rademacher":
            z = rng.choice(np.array([-1.0, 1.0]), size=(n, d))
        elif self.kind == "uniform":
            z = rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), size=(n, d))
        elif self.kind == "sparse_rademacher":
            p = float(self.sparsity)
            z = rng.choice(np.array([-1.0, 0.0, 1.0]), size=(n, d), p=[p / 2, 1 - p, p / 2]) / np.sqrt(p)
        else:
            nodes, weights = self.atoms()
            z = rng.choice(nodes, size=(n, d), p=weights)
        return np.ones(n), z / np.sqrt(d)

    def atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and weights of the smallest symmetric discrete law with the given moments (Rademacher and sparse
        Rademacher: their own atoms)."""
        if self.kind == "rademacher":
            return np.array([-1.0, 1.0]), np.array([0.5, 0.5])
        if self.kind == "sparse_rademacher":
            p, a = float(self.sparsity), 1 / np.sqrt(float(self.sparsity))
            if p == 1:
                return np.array([-1.0, 1.0]), np.array([0.5, 0.5])
            return np.array([-a, 0.0, a]), np.array([p / 2, 1 - p, p / 2])
        if self.kind in ("gaussian", "uniform"):
            raise InputError("law", "a continuous law has no atoms", got=self.name)
        return _moment_atoms(tuple(self.moment(2 * j) for j in range(len(self.given) + 1)))

    # -- scaling factors -------------------------------------------------------------------------
    def scaling_moments(self, d: int, degree: int, dps: int = 30) -> ScalingMoments:
        """E[alpha^k], alpha = ||w||^degree, k = 1..4, with how each was obtained.

        References: derived here (docs/derivations.md, "scaling factors").

        Examples
        --------
        >>> sm = get_law("gaussian").scaling_moments(3, 1)
        >>> sm.exact[0], sm.method[1]
        (2*sqrt(6)/(3*sqrt(pi)), 'exact')
        >>> mpmath.nstr(get_law("uniform").scaling_moments(3, 1, dps=20).abar, 15)
        '0.960591956455053'
        """
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise InputError("dim", "dimension must be an integer >= 1", got=d)
        if degree not in (0, 1, 2, 3):
            raise InputError("degree", "homogeneity degree must be 0, 1, 2 or 3", got=degree)
        values, methods, exact = [], [], []
        for k in range(1, 5):
            value, method, ex = self._norm_power(d, k * degree, dps)
            values.append(value)
            methods.append(method)
            exact.append(ex)
        return ScalingMoments(
            law=self.name, dim=d, degree=degree, dps=dps, alpha_moments=tuple(values), method=tuple(methods),
            exact=tuple(exact), source="derived here: docs/derivations.md, 'scaling factors'",
        )

    def norm_moment(self, d: int, p: int, dps: int = 30):
        """E ||w||^p as an mpmath number (see ``scaling_moments`` for how it is obtained)."""
        if isinstance(p, bool) or not isinstance(p, int) or p < 0:
            raise InputError("p", "power must be an integer >= 0", got=p)
        return self._norm_power(d, p, dps)[0]

    def _norm_power(self, d: int, p: int, dps: int):
        """E ||w||^p = E (S/d)^(p/2), S = sum z_i^2."""
        if p == 0:
            return mpmath.mpf(1), "exact", sp.Integer(1)
        if self.kind == "gaussian":
            ex = (self.scale**2 / d) ** sp.Rational(p, 2) * 2 ** sp.Rational(p, 2) * sp.gamma(sp.Rational(d + p, 2)) / sp.gamma(sp.Rational(d, 2))
            ex = tidy_number(ex)
            return _ev(ex, dps), "exact", ex
        if self.kind == "rademacher":
            return mpmath.mpf(1), "exact", sp.Integer(1)
        if p % 2 == 0:
            ex = _power_sum_moment(tuple(self.moment(2 * j) for j in range(p // 2 + 1)), d, p // 2)
            if ex is not None:
                ex = ex / sp.Integer(d) ** (p // 2)
                return _ev(ex, dps), "exact", ex
        if self.kind == "uniform":
            return _laplace_norm_power(_uniform_e, d, p, dps), "quadrature", None
        if self.kind == "sparse_rademacher":  # ||z||^2 = K / p, K ~ Binomial(d, p): a finite sum
            q = self.sparsity
            ex = sum(sp.binomial(d, k) * q**k * (1 - q) ** (d - k) * (sp.Integer(k) / (q * d)) ** sp.Rational(p, 2)
                     for k in range(1, d + 1))
            return _ev(ex, dps), "exact", ex
        return self._expansion(d, p, dps)

    def _expansion(self, d: int, p: int, dps: int):
        """E (1+X)^(p/2), X = S/d - 1, to O(d^-3) (needs m4, m6) or O(d^-2) (needs m4)."""
        m4, m6 = self.moment(4), self.moment(6)
        if m4 is None:
            raise InputError("law", "a moment-specified law needs m4", got=self.name)
        h = sp.Rational(p, 2)
        k2 = m4 - 1
        value = 1 + sp.binomial(h, 2) * k2 / d
        order = 2
        if m6 is not None:
            k3 = m6 - 3 * m4 + 2
            value += (sp.binomial(h, 3) * k3 + 3 * sp.binomial(h, 4) * k2**2) / sp.Integer(d) ** 2
            order = 3
        return _ev(value, dps), f"expansion O(d^-{order})", None


def _ev(expr: sp.Expr, dps: int):
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr, dps + 10))


def _power_sum_moment(moments: tuple, d: int, j: int):
    """E S^j, S = sum_{i<=d} z_i^2, exactly: j! [t^j] (sum_i m_{2i} t^i / i!)^d; None if a moment is missing."""
    if any(m is None for m in moments[: j + 1]):
        return None
    base = [sp.Rational(moments[i]) / sp.factorial(i) for i in range(j + 1)]

    def mul(a, b):
        out = [sp.Integer(0)] * (j + 1)
        for i, x in enumerate(a):
            for k, y in enumerate(b[: j + 1 - i]):
                out[i + k] += x * y
        return out

    result, power, e = [sp.Integer(1)] + [sp.Integer(0)] * j, base, d
    while e:
        if e & 1:
            result = mul(result, power)
        power = mul(power, power)
        e >>= 1
    return result[j] * sp.factorial(j)


def _uniform_e(j: int, s):
    """e_j(s) = E[z^{2j} exp(-s z^2)] for z uniform on [-sqrt 3, sqrt 3]."""
    a2 = mpmath.mpf(3)
    if s == 0:
        return a2**j / (2 * j + 1)
    return mpmath.gammainc(j + mpmath.mpf(1) / 2, 0, s * a2) / (2 * s ** (j + mpmath.mpf(1) / 2) * mpmath.sqrt(a2))


def gaussian_e(j: int, s, var=1):
    """e_j(s) = E[z^{2j} exp(-s z^2)] = (2j-1)!! var^j (1 + 2 s var)^{-j-1/2} for z ~ N(0, var)."""
    return mpmath.fac2(2 * j - 1) * mpmath.mpf(var) ** j * (1 + 2 * s * var) ** (-j - mpmath.mpf(1) / 2)


def _laplace_norm_power(e_fn, d: int, p: int, dps: int):
    """E (S/d)^(p/2) for odd p: x^(k-1/2) = pi^(-1/2) int_0^inf x^k e^(-tau x) tau^(-1/2) dtau, k = (p+1)/2.

    E[x^k e^(-tau x)] = d^-k E[S^k e^(-s S)], s = tau/d, and E[S^k e^(-sS)] = (-d/ds)^k psi(s)^d with
    psi(s) = E e^(-s z^2), psi^(j) = (-1)^j e_j; the derivatives of psi^d = exp(d log psi) come from the
    recursions F^(k) = sum_j C(k-1, j) L^(j+1) F^(k-1-j) (F = exp L) and the same one solved for log psi.
    """
    k = (p + 1) // 2
    with mpmath.workdps(dps + 15):

        def moment_at(tau):
            s = tau / d
            psi = [(-1) ** j * e_fn(j, s) for j in range(k + 1)]
            ell = [mpmath.log(psi[0])] + [mpmath.mpf(0)] * k
            for m in range(1, k + 1):
                acc = psi[m] - mpmath.fsum(mpmath.binomial(m - 1, j) * ell[j + 1] * psi[m - 1 - j] for j in range(m - 1))
                ell[m] = acc / psi[0]
            big = [d * x for x in ell]
            F = [mpmath.exp(big[0])] + [mpmath.mpf(0)] * k
            for m in range(1, k + 1):
                F[m] = mpmath.fsum(mpmath.binomial(m - 1, j) * big[j + 1] * F[m - 1 - j] for j in range(m))
            return (-1) ** k * F[k] / mpmath.mpf(d) ** k

        integral = 2 * mpmath.quad(lambda u: moment_at(u * u), [0, 1, 10, mpmath.inf])
        value = integral / mpmath.sqrt(mpmath.pi)
    with mpmath.workdps(dps):
        return +value


@lru_cache(maxsize=None)
def _moment_atoms(moments: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Golub-Welsch: atoms of the symmetric law with moments m_0 = 1, m_2, ..., m_{2J} (odd ones 0)."""
    full = []
    for j, m in enumerate(moments):
        full += [m] if j == 0 else [sp.Integer(0), m]
    size = len(moments)  # K = J + 1 atoms match m_0 .. m_{2K-1} (odd ones vanish by symmetry)
    with mpmath.workdps(40):
        for n in range(size, 0, -1):
            H = mpmath.matrix(n, n)
            for i in range(n):
                for j in range(n):
                    H[i, j] = mpmath.mpf(sp.N(full[i + j], 50))
            try:
                R = mpmath.cholesky(H).T  # upper triangular, H = R^T R
            except (ZeroDivisionError, ValueError):
                continue
            if any(R[i, i] <= mpmath.mpf(10) ** -25 for i in range(n)):
                continue
            J = mpmath.matrix(n, n)  # Jacobi matrix; zero diagonal because the law is symmetric
            for i in range(n - 1):
                J[i, i + 1] = J[i + 1, i] = R[i + 1, i + 1] / R[i, i]
            evals, evecs = mpmath.eigsy(J)
            nodes = np.array([float(x) for x in evals])
            weights = np.array([float(evecs[0, i] ** 2) for i in range(n)])
            weights = np.clip(weights, 0, None)
            weights /= weights.sum()
            if not np.allclose([np.sum(weights * nodes ** (2 * j)) for j in range(len(moments))],
                               [float(m) for m in moments], rtol=1e-9, atol=1e-12):
                raise InputError("law", "these moments are not matched by any symmetric discrete law", got=moments)
            return nodes, weights
    raise InputError("law", "the moments are not those of a probability law (Hankel matrix not positive)", got=moments)


_MOMENT_KEY = re.compile(r"^m([0-9]+)$", re.ASCII)


def get_law(spec) -> TargetLaw:
    """Parse a target law (whitelist: regular expressions and exact rationals, no eval).

    Examples
    --------
    >>> get_law("gaussian(1/2)").moment(2)
    1/4
    >>> get_law("moments(m4=2, m6=5)").kappa4
    -1
    >>> get_law("t(3)")
    Traceback (most recent call last):
    ...
    theory.errors.InputError: argument law: unknown law; valid: gaussian, gaussian(s), rademacher, uniform, sparse_rademacher(p), moments(m4=..., m6=..., ...) (got 't(3)')
    >>> get_law("sparse_rademacher(1/4)").kappa4
    1
    """
    if isinstance(spec, TargetLaw):
        return spec
    if spec is None:
        spec = "gaussian"
    if not isinstance(spec, str):
        raise InputError("law", f"expected a name; valid: {', '.join(LAW_NAMES)}", got=spec)
    check_spec_length(spec, "law")
    key = spec.strip().lower().replace(" ", "")
    if key in ("gaussian", "normal"):
        return TargetLaw("gaussian", "gaussian")
    if key.startswith("gaussian(") and key.endswith(")"):
        s = _exact_number(key[len("gaussian("):-1], "law", "the scale s of gaussian(s)", MAX_SCALE)
        if s <= 0:
            raise InputError("law", "gaussian(s) needs s > 0 (entries N(0, s^2/d))", got=spec)
        if s < MIN_SCALE:
            raise InputError("law", f"gaussian(s) needs s >= {float(MIN_SCALE):g}", got=spec)
        return TargetLaw(f"gaussian({s})", "gaussian", scale=s)
    if key == "rademacher":
        return TargetLaw("rademacher", "rademacher")
    if key == "uniform":
        return TargetLaw("uniform", "uniform")
    if key.startswith("sparse_rademacher(") and key.endswith(")"):
        p = _exact_number(key[len("sparse_rademacher("):-1], "law", "the probability p of sparse_rademacher(p)", 1)
        if not MIN_SPARSITY <= p <= 1:
            raise InputError("law", f"sparse_rademacher(p) needs {MIN_SPARSITY} <= p <= 1 (p: probability of a "
                                    "nonzero entry)", got=spec)
        return TargetLaw(f"sparse_rademacher({p})", "sparse_rademacher", sparsity=p)
    if key.startswith("moments(") and key.endswith(")"):
        body = key[len("moments("):-1]
        given: dict[int, sp.Rational] = {}
        for item in filter(None, body.split(",")):
            if "=" not in item:
                raise InputError("law", "moments(...) takes items m4=..., m6=...", got=spec)
            name, value = item.split("=", 1)
            match = _MOMENT_KEY.match(name)
            order = int(match.group(1)) if match and len(match.group(1)) <= 2 else -1
            if order % 2 or order < 2 or order > MAX_MOMENT_ORDER:
                raise InputError("law", f"moment names are m2, m4, ..., m{MAX_MOMENT_ORDER} (the law is symmetric)",
                                 got=name)
            if order in given:
                raise InputError("law", f"moment m{order} is given twice", got=spec)
            given[order] = _exact_number(value, "law", f"moment m{order}", MAX_MOMENT)
        given.setdefault(2, sp.Integer(1))
        if 4 not in given:
            raise InputError("law", "moments(...) needs at least m4", got=spec)
        top = max(given)
        missing = [k for k in range(2, top + 1, 2) if k not in given]
        if missing:
            raise InputError("law", f"moments must be consecutive; missing m{missing[0]}", got=spec)
        values = tuple(given[k] for k in range(2, top + 1, 2))
        law = TargetLaw("moments(" + ",".join(f"m{k}={given[k]}" for k in range(2, top + 1, 2)) + ")", "moments",
                        given=values)
        law.atoms()  # validates the moment sequence
        return law
    raise InputError("law", f"unknown law; valid: {', '.join(LAW_NAMES)}", got=spec)
