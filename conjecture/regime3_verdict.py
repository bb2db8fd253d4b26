"""The certified evidence of one regime III cell (exact law): which ETF orientation is best, and whether any is.

Two statements are distinguished, and every verdict names the one it is about:

* "the ETF (some orientation) is optimal": min over frames of F equals min over ETF orientations R of F(R);
* "this orientation is optimal": a named orientation attains the minimum over all frames.

Certificates (each is interval arithmetic on the exact objective, ``conjecture.ball_objective``):

* PROVEN, beta >= 0, when an ETF orientation puts every row at a maximiser of b: for beta >= 0 the
  Delsarte-Yudin bound beta^T K beta >= A (sum beta)^2 (``relax_lp.tangent_bound``, A = Q_ETF up to 1e-60) and
  b(v_j) <= b_max give Ltilde >= C - 2 b_max s + A s^2 >= C - b_max^2 / A, and that ETF attains C - b_max^2 / Q_ETF
  (all b_j = b_max, K 1 = lambda 1). b_max is certified by ``conjecture.b_maximum``; the ETF is searched among the
  signed permutations of the maximiser (a clique of inner products -1/(M-1)), e.g. the cube diagonals for M = 4, d = 3.
* PROVEN, signed beta, when F = 0 at an exact ETF: Ltilde(beta, V) = E_x (f_inf(x) - g(x))^2 >= 0 for every frame
  (the exact objective is the population loss against the mean-field target), so a certified |F_ETF| <= 1e-30 C
  proves that ETF optimal. Rademacher, d = 3, M = 4: the target (1/8) sum_s relu(<s, x>) / sqrt 3 equals
  (1/4) sum over the four cube diagonals t of relu(<t, x>) / sqrt 3, because |a| = 2 relu(a) - a and the diagonals sum
  to 0 (four neurons represent it exactly).
* REFUTED: a rational frame and rational beta whose Ltilde enclosure lies below a threshold T that
  ``conjecture.etf_family_bound`` proves to be below F at every ETF orientation (branch-and-bound over SO(d));
  T = V + (F_ETF,numerical - V) / 2, so the certified gap is (T - V) / C_target.

References: derived here (docs/regime3.md); docs/conjecture.md (the Delsarte-Yudin bound).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, arb_mat, fmpq

from conjecture.b_maximum import certify_b_maximum
from conjecture.ball_objective import ball_objective
from conjecture.etf_family_bound import certify_family_lower, family_minimum
from conjecture.etf_orientations import orientation_family
from conjecture.etf_rotation_search import etf_orientation_search
from conjecture.orientation_stored import stored_family_bound
from conjecture.interval import interval_kernel, working_bits

STATEMENT_SOME = "the ETF (some orientation) is optimal"
# Fraction of the numerical gap (F_ETF - V) at which the threshold T is put above the counterexample's value V.
REFUTE_FRACTION = Fraction(1, 2)
# Precision of the zero-loss and maximiser certificates (the ETF value's ball has radius ~1e-90).
PROOF_BITS = 320
# |F_ETF| <= ZERO_TOL C_target counts as F_ETF = 0 proved (PROOF_RTOL of conjecture.verdict).
ZERO_TOL = 1e-30


def statement_this(description: str) -> str:
    return f"this orientation ({description}) is optimal"


@dataclass(frozen=True)
class Regime3Budget:
    """Effort allowed to the regime III certificates of one cell."""

    family_boxes: int = 60_000
    family_seconds: float = 600.0
    bmax_boxes: int = 50_000
    bmax_seconds: float = 120.0
    orientation_starts: int = 32


def best_orientation(summary, M: int, d: int, rng: np.random.Generator, starts: int = 32) -> dict:
    """The numerical minimum of F over ETF orientations: descent on SO(d) (``etf_rotation_search``) and, where a
    chart exists, multi-start in the chart; the better of the two."""
    res = etf_orientation_search(summary, M, d, rng, starts=starts)
    out = {"value": res.value, "rows": np.round(res.rows, 12).tolist(), "row_fourth_moments":
           [round(x, 10) for x in res.row_fourth_moments], "so_d_search": res.as_dict(), "chart": None}
    out["so_d_search"].pop("rows")
    fam = orientation_family(M, d)
    if fam is not None:
        fm = family_minimum(summary, M, d, rng, starts=16, family=fam)
        out["chart"] = fm.as_dict()
        if fm.value < out["value"]:
            rows = np.array(fm.rows)
            out.update(value=fm.value, rows=np.round(rows, 12).tolist(),
                       row_fourth_moments=[round(float(x), 10) for x in np.sum(rows**4, axis=1)])
    out["method"] = ("min over ETF orientations: Barzilai-Borwein descent on SO(d) from "
                     f"{res.starts} rotations" + (f", and L-BFGS-B in the {fam.name} chart" if fam else "") +
                     " (numerical: an upper estimate of the family minimum)")
    return out


def _orbit(k: int, d: int) -> list[tuple]:
    """Signed permutations of (1^k, 0^(d-k)) as integer vectors, one per +- pair... all of them."""
    out = set()
    for support in itertools.combinations(range(d), k):
        for signs in itertools.product((1, -1), repeat=k):
            v = [0] * d
            for i, s in zip(support, signs):
                v[i] = s
            out.add(tuple(v))
    return sorted(out)


def etf_in_orbit(k: int, d: int, M: int, max_orbit: int = 20000) -> list[tuple] | None:
    """M integer vectors from the B_d orbit of (1^k, 0^(d-k)) with pairwise inner products -k/(M-1) (an ETF at the
    maximisers), by backtracking; None when there is none (or the orbit is larger than ``max_orbit``)."""
    target = Fraction(-k, M - 1)
    if target.denominator != 1:
        return None
    t = int(target)
    orbit = _orbit(k, d)
    if len(orbit) > max_orbit:
        return None
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731

    def extend(chosen, start):
        if len(chosen) == M:
            return list(chosen)
        for i in range(start, len(orbit)):
            v = orbit[i]
            if all(dot(v, c) == t for c in chosen):
                got = extend(chosen + [v], i + 1)
                if got:
                    return got
        return None

    return extend([orbit[0]], 1)


def _etf_value_ball(obj, rows_int: list[tuple], k: int, M: int):
    """F at the exact ETF rows_int / sqrt(k) in ball arithmetic: (F, b_j, beta_j)."""
    kap = interval_kernel(obj.activation).value
    k1, k0 = kap(arb(1)), kap(arb(fmpq(-1, M - 1)))
    K = arb_mat(M, M)
    for j in range(M):
        for m in range(M):
            K[j, m] = k1 if j == m else k0
    bs = [obj.b([arb(x) for x in r]) for r in rows_int]
    beta = K.solve(arb_mat([[b] for b in bs]))
    F = obj.constant() - sum((bs[j] * beta[j, 0] for j in range(M)), arb(0))
    return F, bs, [beta[j, 0] for j in range(M)]


def proven_certificates(summary, M: int, d: int, budget: Regime3Budget, activation) -> dict:
    """The PROVEN routes: b-maximum + ETF at maximisers (beta >= 0), and F_ETF = 0 (both signs)."""
    from conjecture.relax_lp import tangent_bound

    t0 = time.perf_counter()
    out: dict = {"b_maximum": None, "etf_at_maximisers": None, "nonneg_gap_rel": None, "zero_loss": None}
    cert = certify_b_maximum(summary.activation, d, summary.law, max_boxes=budget.bmax_boxes,
                             max_seconds=budget.bmax_seconds) if summary.points.exact else None
    if cert is None:
        out["note"] = "no certificate: the uniform law's objective is a cubature estimate"
        return out
    out["b_maximum"] = cert.as_dict()
    k = int(round(1 / cert.maximiser_rows[0] ** 2))
    rows = etf_in_orbit(k, d, M)
    C = summary.constant()
    if rows is None:
        out["etf_at_maximisers"] = {"exists": False, "why": f"no {M} signed permutations of the maximiser "
                                                           f"{cert.maximiser} have inner products -1/{M - 1}"}
        out["seconds"] = round(time.perf_counter() - t0, 3)
        return out
    with working_bits(PROOF_BITS):
        obj = ball_objective(summary, d)
        F, bs, beta = _etf_value_ball(obj, rows, k, M)
        kap = interval_kernel(obj.activation).value
        lam = kap(arb(1)) + (M - 1) * kap(arb(fmpq(-1, M - 1)))
        info = {"exists": True, "rows_integer": [list(r) for r in rows], "scale": f"1/sqrt({k})",
                "F_ETF": F.str(30, radius=True), "b_rows": bs[0].str(30), "beta": [b.str(20) for b in beta]}
        gap_nonneg = None
        if cert.certified:
            tb = tangent_bound(activation, M, d)
            if tb.valid:
                A_lo = arb(tb.a_certified_str) - arb(10) ** -38  # the printed 40 digits, widened: a lower end of A
                bmax = bs[0]  # every row is a signed permutation of v*, so b(v_j) = b(v*) = max b (certified)
                lower = obj.constant() - bmax * bmax / A_lo
                etf_val = obj.constant() - bs[0] * bs[0] * M / lam
                gap = (etf_val - lower) / obj.constant()
                gap_nonneg = max(float(gap.upper().mid()), 0.0)
                info["nonneg_bound"] = {"A_certified": tb.a_certified_str, "lower_bound": lower.str(30),
                                        "etf_value": etf_val.str(30), "gap_rel_upper": gap_nonneg,
                                        "argument": "beta >= 0: Ltilde >= C - 2 b_max sum(beta) + A sum(beta)^2 >= "
                                                    "C - b_max^2 / A; the ETF at maximisers attains C - b_max^2 M / "
                                                    "lambda"}
        out["etf_at_maximisers"] = info
        out["nonneg_gap_rel"] = gap_nonneg
        if F.upper() <= ZERO_TOL * C and F.lower() >= -ZERO_TOL * C:
            positive = all(b > 0 for b in beta)
            out["zero_loss"] = {"F_ETF": F.str(30, radius=True), "bound_rel": float(abs(F).upper().mid()) / C,
                                "beta_positive": positive,
                                "argument": "Ltilde = E_x (f_inf - g)^2 >= 0 for every frame and beta (exact "
                                            "objective), and |F_ETF| is certified below 1e-30 C_target"}
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _rational(x) -> Fraction:
    return Fraction(float(x))


def counterexample(summary, frame: np.ndarray, beta: np.ndarray, bits: int = 192) -> dict:
    """Ltilde at the frame and beta rounded to rationals (float64 values taken exactly), enclosed in arb."""
    frame_q = [[_rational(v) for v in row] for row in frame]
    beta_q = [_rational(b) for b in beta]
    with working_bits(bits):
        obj = ball_objective(summary, summary.dim)
        val = obj.ltilde(beta_q, frame_q)
        return {"value": val, "value_enclosure": val.str(25, radius=True), "C_target": obj.constant().str(25),
                "frame_rational": [[f"{q.numerator}/{q.denominator}" for q in row] for row in frame_q],
                "beta_rational": [f"{q.numerator}/{q.denominator}" for q in beta_q],
                "beta_nonnegative": all(b >= 0 for b in beta_q)}


def refutation(summary, M: int, d: int, etf_value: float, frames: list, budget: Regime3Budget,
               rng: np.random.Generator, proven: dict | None = None) -> dict:
    """Enclose Ltilde at each candidate (frame, beta, label), put T halfway up to F_ETF above the largest, and prove
    min over ETF orientations of F > T by branch-and-bound. ``certified[label]`` says which labels are refuted.

    M = 2 needs no search: the ETF is an antipodal pair {v, -v}, F = C - 2 b(v)^2 / (kappa(1) + kappa(-1)) decreases
    with b(v), so its minimum over orientations is F at the certified maximiser of b (``proven``)."""
    t0 = time.perf_counter()
    fam = orientation_family(M, d)
    cands = {label: counterexample(summary, x, b) for x, b, label in frames}
    C = summary.constant()
    out = {"candidates": {k: {kk: vv for kk, vv in v.items() if kk != "value"} for k, v in cands.items()},
           "certified": {k: False for k in cands}}
    pair = ((proven or {}).get("etf_at_maximisers") or {})
    if M == 2 and ((proven or {}).get("b_maximum") or {}).get("certified") and pair.get("exists"):
        with_ball = arb(pair["F_ETF"])  # the certified F at the antipodal pair along the maximiser
        for k, v in cands.items():
            out["certified"][k] = bool(v["value"] < with_ball)
            gap = (with_ball - v["value"]) / arb(C)
            out["candidates"][k]["gap_rel_certified"] = float(gap.lower().mid()) if out["certified"][k] else None
        out["family_minimum"] = {"F": pair["F_ETF"], "argument": "M = 2: F = C - 2 b(v)^2 / (kappa(1) + kappa(-1)) "
                                                               "is smallest at the certified maximiser of b"}
        out["seconds"] = round(time.perf_counter() - t0, 3)
        return out
    if fam is None:
        out["why"] = (f"no chart of ETF orientations for (M, d) = ({M}, {d}) (implemented: (3, 2), (3, 3), (4, 3), "
                      "(4, 4)): the minimum over orientations is not certified")
        return out
    uppers = {k: float(v["value"].upper().mid()) for k, v in cands.items()}
    usable = {k: u for k, u in uppers.items() if u < etf_value}
    if not usable:
        out["why"] = "no candidate's certified value is below the best ETF orientation found"
        return out
    top = max(usable.values())
    stored = stored_family_bound(summary, M, d)
    if stored is not None and stored.intact and Fraction(top) < stored.threshold < Fraction(etf_value):
        return _with_bound(out, cands, usable, stored.threshold, stored.as_dict(), True, C, t0)
    T = Fraction(top) + (Fraction(etf_value) - Fraction(top)) * REFUTE_FRACTION
    T = T.limit_denominator(10**15)
    if not Fraction(top) < T < Fraction(etf_value):
        T = (Fraction(top) + Fraction(etf_value)) / 2
    bound = certify_family_lower(summary, M, d, T, rng=rng, max_boxes=budget.family_boxes,
                                 max_seconds=budget.family_seconds)
    return _with_bound(out, cands, usable, T, bound.as_dict(), bound.certified, C, t0)


def _with_bound(out: dict, cands: dict, usable: dict, T: Fraction, bound: dict, certified: bool, C, t0) -> dict:
    """Record the family lower bound F > T and which candidates it refutes (certified value below T)."""
    out["family_lower_bound"] = bound
    for k, u in usable.items():
        below = cands[k]["value"] < arb(fmpq(T.numerator, T.denominator))
        out["certified"][k] = bool(certified and below)
        out["candidates"][k]["gap_rel_certified"] = float((T - Fraction(u)) / Fraction(C)) if certified else None
    out["threshold"] = str(T)
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def budget_from(params) -> Regime3Budget:
    """The budget of a cell (its parameters ``bnb_boxes`` and ``bnb_seconds``)."""
    return Regime3Budget(family_boxes=params.bnb_boxes, family_seconds=params.bnb_seconds)


__all__ = ["STATEMENT_SOME", "Regime3Budget", "best_orientation", "budget_from", "counterexample", "etf_in_orbit",
           "proven_certificates", "refutation", "statement_this"]


# ---- the pieces conjecture.cells combines into verdicts ----
def nonneg_gap(proven: dict | None) -> float | None:
    """The certified beta >= 0 gap: the maximiser bound, or F_ETF = 0 when the ETF's beta* > 0."""
    if not proven:
        return None
    from conjecture.verdict import PROOF_RTOL

    own = proven.get("nonneg_gap_rel")
    if own is not None and own <= PROOF_RTOL:  # the beta >= 0 argument itself (max b on every row)
        return own
    zero = proven.get("zero_loss") or {}
    return zero.get("bound_rel") if zero.get("beta_positive") else own


def signed_gap(proven: dict | None) -> float | None:
    """The certified signed-beta gap: only F_ETF = 0 (Ltilde >= 0) proves the signed statement."""
    zero = (proven or {}).get("zero_loss") or {}
    return zero.get("bound_rel")


def refute_if_below(summary, params, etf_value, signed_best, nonneg_best, signed_gap_rel, nonneg_gap_rel,
                    rng: np.random.Generator, proven: dict | None = None) -> dict | None:
    """Run ``refutation`` for the searches that found frames below the best ETF orientation (None if none did)."""
    from conjecture.verdict import SEARCH_RTOL

    frames = []
    if signed_gap_rel is not None and signed_gap_rel < -SEARCH_RTOL:
        frames.append((signed_best[0], signed_best[1], "signed"))
    if nonneg_best is not None and nonneg_gap_rel is not None and nonneg_gap_rel < -SEARCH_RTOL:
        frames.append((nonneg_best[0], nonneg_best[1], "nonneg"))
    if not frames:
        return None
    return refutation(summary, params.M, params.d, etf_value, frames, budget_from(params), rng, proven)


def refuted(ref: dict | None, label: str) -> bool:
    """Whether ``label`` ('signed' or 'nonneg') is refuted; a signed counterexample with beta >= 0 refutes both."""
    if not ref:
        return False
    cert = ref.get("certified", {})
    if cert.get(label):
        return True
    if label == "nonneg":
        sig = ref.get("candidates", {}).get("signed", {})
        return bool(cert.get("signed") and sig.get("beta_nonnegative"))
    return False


def _orientation_text(etf: dict) -> str:
    m4 = etf.get("row_fourth_moments") or []
    return "rows' sum_i v_i^4 = " + ", ".join(f"{x:.4g}" for x in m4)


def _bnb_text(ref: dict | None) -> str:
    if not ref:
        return ""
    if "family_minimum" in ref:
        return "; min over ETF orientations = F at the certified maximiser of b (M = 2, no search needed)"
    if "family_lower_bound" not in ref:
        return "; " + ref.get("why", "")
    s = ref["family_lower_bound"]["search"]
    text = (f"; SO(d) branch-and-bound ({ref['family_lower_bound']['family']}): {s['boxes']} boxes, {s['seconds']:.1f} s, "
            f"{s['reason']}")
    if s.get("projected_seconds"):
        text += f", covered {100 * s['covered_fraction']:.3g}% of the chart, projected {s['projected_seconds']:.3g} s"
    return text


def reasons(v_signed, why_signed: str, v_nn, why_nn: str, r3: dict, etf: dict) -> tuple[str, str]:
    """Verdict reasons naming the statement each is about (see the module docstring)."""
    proven = r3.get("proven") or {}
    ref = r3.get("refutation")
    at_max = proven.get("etf_at_maximisers") or {}
    if at_max.get("exists"):
        where = (proven.get("b_maximum") or {}).get("maximiser", "a maximiser")
        desc = f"ETF with every row at a maximiser of b: signed permutations of the {where}"
    else:
        desc = _orientation_text(etf)
    out = []
    for v, why, label in ((v_signed, why_signed, "signed"), (v_nn, why_nn, "nonneg")):
        name = v.value
        if name == "PROVEN":
            how = ("F_ETF = 0 and Ltilde = E(f - g)^2 >= 0" if (label == "signed" or not proven.get("nonneg_gap_rel"))
                   else "beta >= 0: b is certified maximal on every row and the Delsarte-Yudin bound is tight")
            text = f"{statement_this(desc)}, hence {STATEMENT_SOME}: PROVEN ({how}; {why})"
        elif name == "REFUTED":
            cand = (ref or {}).get("candidates", {})
            gap = (cand.get(label) or cand.get("signed") or {}).get("gap_rel_certified")
            text = (f"{STATEMENT_SOME}: REFUTED, a rational frame is certified below every ETF orientation by "
                    f"{gap:.3g} C_target ({why}){_bnb_text(ref)}")
        elif name == "SUPPORTED":
            text = (f"{STATEMENT_SOME}: SUPPORTED, the search found nothing below the best ETF orientation "
                    f"({_orientation_text(etf)}; {etf.get('method', '')}); {why}")
        else:
            text = f"{STATEMENT_SOME}: {name} ({why}){_bnb_text(ref)}"
        out.append(text)
    return out[0], out[1]
