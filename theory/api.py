"""The theory layer's public API: ``derive`` the closed forms for one activation, entry law, d and M.

``twolayer derive`` is a thin layer over it.  The result shows itself: ``repr`` is the text the command
prints, ``to_json()`` its ``--json``, ``latex()`` its ``--latex`` document; in Jupyter it renders as a
table.  ETF and regime II values are at abar = 1 and each entry says so.

Examples
--------
>>> from theory import derive
>>> r = derive(activation="relu", d=3, M=3, dps=20)
>>> r.entry("F_ETF").value > 0
True
>>> r.value_text("1^T K^-1 1")
'4.9261263232453725391'

"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from theory.cli_args import parse_int
from theory.derivation import MAX_D, MAX_DPS, MAX_M, MAX_ORDER, MIN_DPS, Derivation, Entry
from theory.errors import InputError
from theory.job_budget import JobEstimate, Part, check_budget
from theory.rendering import Rendered

# derive's hard bounds (d <= MAX_D, M <= MAX_M, dps <= MAX_DPS) keep it within seconds: measured 1-1.3 s of
# derivation plus ~2 s of imports on 2 cores, up to 5 s at the corners under load; DERIVE_FIXED_S +
# DERIVE_DPS_S dps^2 bounds that.
DERIVE_FIXED_S = 4.0
DERIVE_DPS_S = 2e-5
DERIVE_BYTES = 250 * 2**20  # peak RSS measured 130-200 MiB


def derive_estimate(dps: int) -> JobEstimate:
    """The time and memory of one derivation (bounded by derive's own limits, so never over budget)."""
    return JobEstimate("derive", (Part(DERIVE_BYTES, DERIVE_FIXED_S + DERIVE_DPS_S * dps * dps, "dps",
                                       f"the sympy derivation and its numbers at {dps} digits"),))


@dataclass(frozen=True, repr=False)
class DerivationReport(Rendered):
    """One derivation (``derivation`` holds every entry with its exact form, value, source and normalisation)."""

    derivation: Derivation

    def entry(self, name: str) -> Entry:
        """The entry called ``name`` (KeyError naming the available ones otherwise)."""
        for e in self.derivation.entries:
            if e.name == name:
                return e
        raise KeyError(f"no entry {name!r}; entries: {[e.name for e in self.derivation.entries]}")

    def value_text(self, name: str) -> str | None:
        """The entry's value as printed: a decimal at the digits it holds (None: no numeric value)."""
        from theory.derivation_text import entry_value

        return entry_value(self.entry(name), self.derivation)

    def text(self) -> str:
        from theory.derivation_text import to_text

        return to_text(self.derivation)

    def as_json(self) -> dict:
        from theory.derivation_text import to_json

        return to_json(self.derivation)

    def latex(self) -> str:
        """The standalone LaTeX document of ``twolayer derive --latex``."""
        from theory.derivation_latex import to_latex

        return to_latex(self.derivation)

    def html_body(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(e['section'])}</td><td>{html.escape(e['name'])}</td>"
                       f"<td>{html.escape(str(e.get('value')))}</td><td>{html.escape(e.get('normalisation') or '')}"
                       f"</td></tr>" for e in self.as_json()["entries"])
        r = self.derivation
        return (f"<p><b>twolayer derive</b>: {html.escape(r.activation)}, law {html.escape(r.law)}, d = {r.d}, "
                f"M = {r.M}, {r.dps} digits</p><table class='twolayer-derive'><tr><th>section</th><th>entry</th>"
                f"<th>value</th><th>normalisation</th></tr>{rows}</table>")

    def cite(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("twolayer-compression")
        except PackageNotFoundError:
            v = "unknown"
        r = self.derivation
        return (f"twolayer {v}, theory.derive(activation={r.activation!r}, law={r.law!r}, d={r.d}, M={r.M}, "
                f"dps={r.dps}) (twolayer derive --activation '{r.activation}' --law '{r.law}' --d {r.d} --M {r.M} "
                f"--dps {r.dps}); values at abar = 1 where marked.")


def _tilt_norm(value) -> float | None:
    """None when not given, else a finite number >= 0 (derive refuses it where it does not apply)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("tilt-norm", "expected a finite number >= 0 (||m|| / abar)", got=value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError("tilt-norm", "expected a finite number >= 0 (||m|| / abar)",
                         got=value if len(str(value)) <= 60 else str(value)[:60] + "...") from None
    if not math.isfinite(x) or x < 0:
        raise InputError("tilt-norm", "expected a finite number >= 0 (||m|| / abar)", got=value)
    return x


@dataclass(frozen=True)
class DeriveRequest:
    """derive's arguments, parsed and bounded."""

    activation: str
    law: str
    d: int
    M: int
    dps: int
    order: int
    tilt_norm: float | None

    @property
    def estimate(self) -> JobEstimate:
        return derive_estimate(self.dps)


def derive_request(*, activation="relu", law="gaussian", d=3, M=3, dps=30, order=6, tilt_norm=None) -> DeriveRequest:
    """Parse and bound derive's arguments (ints or the command line's strings), nothing computed yet."""
    if not isinstance(activation, str):
        raise InputError("activation", "expected an activation name such as relu", got=activation)
    if not isinstance(law, str):
        raise InputError("law", "expected a law name such as gaussian", got=law)
    return DeriveRequest(activation, law, parse_int(d, "d", lo=1, hi=MAX_D), parse_int(M, "M", lo=1, hi=MAX_M),
                         parse_int(dps, "dps", lo=MIN_DPS, hi=MAX_DPS), parse_int(order, "order", lo=0, hi=MAX_ORDER),
                         _tilt_norm(tilt_norm))


def derive(*, activation: str = "relu", law: str = "gaussian", d=3, M=3, dps=30, order=6,
           tilt_norm: float | None = None) -> DerivationReport:
    """Hermite coefficients, kernel, sphere averages, law moments, ETF values, regime II/III and finite-N
    constants for one activation, entry law, input dimension d and compressed width M, at ``dps`` digits."""
    from theory.derivation import derive as derive_entries

    req = derive_request(activation=activation, law=law, d=d, M=M, dps=dps, order=order, tilt_norm=tilt_norm)
    check_budget(req.estimate, allow_large=False)
    return DerivationReport(derive_entries(req.activation, req.law, req.d, req.M, req.dps, order=req.order,
                                           tilt_norm=req.tilt_norm))


# ---- derive --finite-n-gain -------------------------------------------------------------------------------------
# Bounds of the finite-N gain: N and d keep the Monte Carlo over targets within seconds (theory.finite_n_gain cuts
# its sample count to a flop budget); M <= 10 keeps the degree-2 polarisation (k^4 small matrices) small.
GAIN_MIN_N, GAIN_MAX_N = 10, 10**5
GAIN_MAX_D = 128
GAIN_MAX_M = 10
MAX_SEED = 2**32 - 1
GAIN_FIXED_S = 6.0       # imports, GOE and sphere Monte Carlo, Hessian: 3-6 s measured at d = 16
GAIN_BYTES = 400 * 2**20


@dataclass(frozen=True)
class FiniteNGainRequest:
    """``derive --finite-n-gain``'s arguments, parsed and bounded."""

    activation: str
    law: str
    d: int
    M: int
    N: int
    seed: int

    @property
    def estimate(self) -> JobEstimate:
        from theory.finite_n_gain import TARGET_FLOP_BUDGET

        return JobEstimate("derive --finite-n-gain", (Part(GAIN_BYTES, GAIN_FIXED_S + TARGET_FLOP_BUDGET / 1e9, "N",
                                                           "Monte Carlo over targets, GOE matrices and directions"),))


def finite_n_gain_request(*, activation="relu", law="gaussian", d=16, M=5, N=None, seed=None) -> FiniteNGainRequest:
    """Parse and bound ``derive --finite-n-gain`` (ints or the command line's strings): N in 10..10^5, d in 2..128,
    M in 3..min(10, d + 1), seed in 0..2^32 - 1 (default 0)."""
    if not isinstance(activation, str):
        raise InputError("activation", "expected an activation name such as relu", got=activation)
    if not isinstance(law, str):
        raise InputError("law", "expected a law name such as gaussian", got=law)
    if N is None:
        raise InputError("N", f"--finite-n-gain needs the target width --N (an integer in {GAIN_MIN_N}..{GAIN_MAX_N})")
    n = parse_int(N, "N", lo=GAIN_MIN_N, hi=GAIN_MAX_N)
    dd = parse_int(d, "d", lo=2, hi=GAIN_MAX_D)
    m = parse_int(M, "M", lo=3, hi=GAIN_MAX_M)
    if m > dd + 1:
        raise InputError("M", f"the simplex ETF needs M <= d + 1 = {dd + 1}", got=M)
    return FiniteNGainRequest(activation, law, dd, m, n, 0 if seed is None else parse_int(seed, "seed", lo=0,
                                                                                       hi=MAX_SEED))


def finite_n_gain(*, activation="relu", law="gaussian", d=16, M=5, N=None, seed=None):
    """Predicted E[G_N] of the finite-N minimum with its components and uncertainties (theory.finite_n_gain).

    Examples
    --------
    >>> g = finite_n_gain(d=8, M=3, N=400)
    >>> g.N, g.setup.d, round(g.total / g.leading_term, 1)
    (400, 8, 1.3)
    """
    from theory.finite_n_gain import finite_n_gain as predict

    req = finite_n_gain_request(activation=activation, law=law, d=d, M=M, N=N, seed=seed)
    check_budget(req.estimate, allow_large=False)
    return predict(req.activation, req.d, req.M, req.N, law=req.law, seed=req.seed)

