"""One cell of the conjecture sweep: (M, d, regime, activation) -> verdicts with their evidence.

``evaluate_cell(params, seed)`` is a pure top-level function (JSON in, JSON out), run by
``numerics.evidence.sweep.run_sweep`` (kind ``conjecture-cell``). The steps:

1. the ETF value F_ETF, closed form against the exact ETF in mpmath (``etf_reference``);
2. search, signed beta: structured frames + perturbed ETFs + Haar-random starts, batched Riemannian L-BFGS;
3. high-precision polish of the best frame (mpmath Newton) and the Riemannian Hessian spectrum there;
4. beta >= 0: Delsarte-Yudin bounds (tangent line, LP), certified with interval arithmetic; a beta >= 0 search
   when nothing certifies; the beta-QP at the ETF and at the best frame, checked through KKT and its dual bound;
5. signed beta: the sign-pattern SDP bounds (reported; KKT-checked, not interval-certified, never used for PROVEN);
6. a found frame below F_ETF is rationalised and its value enclosed by interval arithmetic (REFUTED);
7. verdicts (``verdict.decide``); for M > d + 1 a description of the best configuration.

Gaps are relative to C_target (the loss at beta = 0), which stays positive when F_ETF = 0 (M = 2, d = 1).

References: docs/model.md §4 and §5; the project's issue 4.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from fractions import Fraction

import mpmath
import numpy as np
from flint import arb, fmpq

from conjecture import frames as fr
from conjecture.certify import ltilde_arb
from conjecture.cost import ReducedCost
from conjecture.elliptope.stored import stored_proof
from conjecture.etf_reference import best_etf_orientation, etf_reference, exact_etf_rows
from conjecture.hessian import hessian_mp, spectrum
from conjecture.interval import compile_arb, interval_kernel, working_bits
from conjecture.polish import polish
from conjecture.refine import refine
from conjecture.relax_lp import PROOF_BITS, lp_bound, tangent_bound, tangent_quadratic_bound
from conjecture.relax_qp import solve_beta_qp
from conjecture.relax_sdp import sdp_bound
from conjecture.verdict import PROOF_RTOL, SEARCH_RTOL, decide
from theory.derive_bounds import DEFAULT_REGIME_III_LAW, DEFAULT_TILT_NORM
from theory.activations import get_activation
from theory.errors import InputError
from theory.etf import simplex_etf
from theory.regimes import REGIMES, regime_summary
from theory.summaries import finite_number

KIND = "conjecture-cell"
SOLVERS = ("CLARABEL", "SCS")
INJECTIONS = ("none", "lp_fail", "lp_inaccurate", "qp_fail", "qp_inaccurate")
OBJECTIVES = ("exact", "truncated")  # regime III: theory.exact_anisotropic, or theory.anisotropic's O(d^-2) b
# Polishing cost grows like (M (d-1))^2 mpmath gradient evaluations; above this tangent dimension it is skipped.
POLISH_MAX_DIM = 64
# A found frame counts as "the ETF" when its Gram matrix is within this of the ETF's (max entry): the refine
# tolerance 1e-10 on the gradient gives Gram errors ~1e-6 at worst on flat-ish directions.
GRAM_TOL = 1e-5


def _int(params: dict, key: str, default, lo: int, hi: int) -> int:
    v = params.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= int(v) <= hi:
        raise InputError(key, f"expected an integer in {lo}..{hi}", got=v)
    return int(v)


def _float(params: dict, key: str, default: float) -> float:
    return finite_number(params.get(key, default), key)


@dataclass(frozen=True)
class CellParams:
    """Validated parameters of one cell (see ``from_dict`` for defaults)."""

    M: int
    d: int
    regime: str
    activation: str
    starts: int
    abar: float
    tilt_norm: float
    law: str | None
    polish_dps: int
    max_iter: int
    lp_degree: int
    sdp: bool
    solver: str
    inject: str
    lp_always: bool = False
    user_frame: tuple | None = None
    objective: str | None = None   # regime III: 'exact' (theory.exact_anisotropic) or 'truncated' (O(d^-2))
    bnb_boxes: int = 60_000        # regime III: boxes and seconds of the SO(d) branch-and-bound
    bnb_seconds: float = 600.0

    @classmethod
    def from_dict(cls, params: dict) -> "CellParams":
        """Validate a parameter dict; raises InputError naming the bad argument.

        Examples
        --------
        >>> CellParams.from_dict({"M": 3, "d": 2}).regime
        'I'
        >>> CellParams.from_dict({"M": 1, "d": 2})
        Traceback (most recent call last):
        ...
        theory.errors.InputError: argument M: expected an integer in 2..64 (got 1)
        """
        if not isinstance(params, dict):
            raise InputError("params", "expected a dict", got=type(params).__name__)
        M = _int(params, "M", None, 2, 64)
        d = _int(params, "d", None, 1, 64)
        regime = str(params.get("regime", "I")).strip().upper()
        if regime not in REGIMES:
            raise InputError("regime", f"expected one of {', '.join(REGIMES)}", got=params.get("regime"))
        act = get_activation(params.get("activation", "relu"))
        solver = str(params.get("solver", "CLARABEL")).upper()
        if solver not in SOLVERS:
            raise InputError("solver", f"expected one of {', '.join(SOLVERS)}", got=params.get("solver"))
        inject = str(params.get("inject", "none"))
        if inject not in INJECTIONS:
            raise InputError("inject", f"expected one of {', '.join(INJECTIONS)}", got=inject)
        abar = _float(params, "abar", 1.0)
        if abar <= 0:
            raise InputError("abar", "expected a positive number", got=abar)
        tilt = _float(params, "tilt_norm", DEFAULT_TILT_NORM if regime == "II" else 0.0)
        if tilt < 0:
            raise InputError("tilt_norm", "expected ||m|| >= 0", got=tilt)
        law = params.get("law")
        if law is not None and not isinstance(law, str):
            raise InputError("law", "expected a law name such as 'rademacher'", got=law)
        if regime == "III" and law is None:
            law = DEFAULT_REGIME_III_LAW
        objective = params.get("objective")
        if regime == "III":
            objective = "exact" if objective is None else str(objective)
            if objective not in OBJECTIVES:
                raise InputError("objective", f"expected one of {', '.join(OBJECTIVES)}", got=params.get("objective"))
        elif objective is not None:
            raise InputError("objective", "applies to regime III only", got=objective)
        bnb_seconds = _float(params, "bnb_seconds", 600.0)
        if not 0 < bnb_seconds <= 86400:
            raise InputError("bnb_seconds", "expected seconds in (0, 86400]", got=bnb_seconds)
        return cls(M, d, regime, act.name, _int(params, "starts", 64, 1, 4096), abar, tilt, law,
                   _int(params, "polish_dps", 30, 0, 200), _int(params, "max_iter", 300, 1, 100000),
                   _int(params, "lp_degree", 8, 1, 40), bool(params.get("sdp", M <= 8)), solver, inject,
                   bool(params.get("lp_always", False)), _user_frame(params.get("user_frame"), M, d), objective,
                   _int(params, "bnb_boxes", 60_000, 1, 10**7), bnb_seconds)


def _param_dict(p: CellParams) -> dict:
    """The cell's parameters as stored (the regime III options only in regime III cells)."""
    out = asdict(p)
    if p.regime != "III":
        for key in ("objective", "bnb_boxes", "bnb_seconds"):
            out.pop(key)
    return out


def _user_frame(rows, M: int, d: int) -> tuple | None:
    """Validate a user frame given inline (list of M rows of d finite numbers of unit norm)."""
    if rows is None:
        return None
    try:
        arr = np.array(rows, dtype=float)
    except (TypeError, ValueError):
        raise InputError("frame", "expected a list of rows of numbers") from None
    if arr.shape != (M, d):
        raise InputError("frame", f"expected shape (M, d) = ({M}, {d})", got=arr.shape)
    if not np.all(np.isfinite(arr)):
        raise InputError("frame", "contains NaN or infinite entries")
    worst = float(np.max(np.abs(np.linalg.norm(arr, axis=1) - 1)))
    if worst > fr.UNIT_TOL:
        raise InputError("frame", f"rows must have unit norm (|norm - 1| <= {fr.UNIT_TOL:g})", got=round(worst, 12))
    return tuple(tuple(float(v) for v in row) for row in arr)


def make_summary(p: CellParams):
    """The TargetSummary of the cell's regime (regime II: m = tilt_norm e_1)."""
    if p.regime == "II":
        m = np.zeros(p.d)
        m[0] = p.tilt_norm
        return regime_summary("II", p.activation, p.d, abar=p.abar, tilt=m)
    if p.regime == "III":
        if p.objective == "exact":
            from theory.exact_anisotropic import exact_summary

            return exact_summary(p.activation, p.d, p.law, abar=p.abar)
        return regime_summary("III", p.activation, p.d, abar=p.abar, law=p.law)
    return regime_summary("I", p.activation, p.d, abar=p.abar)


def _starts(p: CellParams, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    fam = fr.structured_frames(p.M, p.d)
    if p.regime == "II" and p.d >= p.M:
        fam["tilted_etf"] = np.array([fr.tilted_etf(p.M, p.d, t) for t in np.linspace(0.05, 1.4, 8)])
    batches, counts = list(fam.values()), {k: int(v.shape[0]) for k, v in fam.items()}
    n_pert = p.starts // 4 if p.M <= p.d + 1 else 0
    if n_pert:
        batches.append(fr.perturbed_etfs(rng, n_pert, p.M, p.d, 0.3))
        counts["perturbed_etf(radius=0.3)"] = n_pert
    n_rand = p.starts - n_pert
    batches.append(fr.random_frames(rng, n_rand, p.M, p.d))
    counts["haar_random"] = n_rand
    if p.user_frame is not None:
        batches.append(np.array(p.user_frame)[None])
        counts["user_frame"] = 1
    return np.concatenate(batches, axis=0), counts


def describe_frame(x: np.ndarray, beta: np.ndarray) -> dict:
    """Gram spectrum, histogram of off-diagonal inner products (10 bins on [-1, 1]), beta, the rows."""
    G = x @ x.T
    off = G[~np.eye(len(G), dtype=bool)]
    hist, edges = np.histogram(off, bins=10, range=(-1, 1))
    return {"gram_eigenvalues": np.round(np.linalg.eigvalsh(G), 10).tolist(), "inner_product_histogram": hist.tolist(),
            "histogram_edges": np.round(edges, 3).tolist(), "distinct_inner_products": sorted(set(np.round(off, 6).tolist())),
            "beta": np.round(beta, 10).tolist(), "frame": np.round(x, 12).tolist()}


def _is_etf(x: np.ndarray) -> bool:
    M = x.shape[0]
    G = x @ x.T
    target = (M * np.eye(M) - 1) / (M - 1)
    return bool(np.max(np.abs(G - target)) < GRAM_TOL)


def _inject_lp(mode: str):
    if mode == "lp_fail":
        def solve(*_):
            raise RuntimeError("injected LP solver failure")
        return solve
    if mode == "lp_inaccurate":  # an 'optimal' answer whose h is 1e-3 too high: h <= kappa is false
        return lambda h_true: tuple(x + Fraction(1, 1000) if i == 0 else x for i, x in enumerate(h_true))
    return None


def _inject_qp(mode: str):
    if mode == "qp_fail":
        return lambda K, b: (np.full(len(b), np.nan), np.zeros(len(b)))
    if mode == "qp_inaccurate":
        return lambda K, b: (np.linalg.solve(K, b) * 1.01, np.zeros(len(b)))
    return None


def _refute(summary, p: CellParams, x: np.ndarray, beta: np.ndarray, etf_value: str) -> dict:
    """Rationalise (x, beta) and enclose Ltilde by interval arithmetic; certified if its upper end < F_ETF lower end."""
    act = summary.activation
    kap = interval_kernel(act).value
    frame_q = [[Fraction(float(v)) for v in row] for row in x]
    beta_q = [Fraction(float(v)) for v in beta]
    with working_bits(PROOF_BITS):
        if p.regime == "I":
            # C and b = abar c_d from 60-digit mpmath values (c_d exact to 40+ digits): balls of radius 1e-35
            const = arb(mpmath.nstr(summary.constant_mp(60), 50), 1e-35)
            bconst = arb(mpmath.nstr(summary.b_mp([1.0] * p.d, 60), 50), 1e-35)
            b_fn = lambda row: bconst
        elif p.regime == "II":
            mu0 = compile_arb(act.hermite_coefficient(0) ** 2)(arb(0))
            mu1 = compile_arb(act.hermite_coefficient(1) ** 2)(arb(0))
            m = [arb(fmpq(Fraction(float(v)).numerator, Fraction(float(v)).denominator)) for v in summary.tilt]
            a = arb(fmpq(Fraction(p.abar).numerator, Fraction(p.abar).denominator))
            const = a * a * mu0 + mu1 * sum((v * v for v in m), arb(0))
            b_fn = lambda row: a * mu0 + mu1 * sum((mi * r for mi, r in zip(m, row)), arb(0))
        else:
            return {"certified": False, "reason": "regime III: no interval enclosure of b and no certified ETF minimum"}
        val = ltilde_arb(beta_q, frame_q, kap, b_fn, const, bits=PROOF_BITS)
        etf = arb(etf_value, 1e-28)  # F_ETF to 30 significant digits: a generous enclosure
        ok = bool(val < etf)
        return {"certified": ok, "value_enclosure": val.str(20), "etf_enclosure": etf.str(20),
                "frame_rational": [[f"{q.numerator}/{q.denominator}" for q in row] for row in frame_q],
                "beta_rational": [f"{q.numerator}/{q.denominator}" for q in beta_q]}


def evaluate_cell(params: dict, seed: int) -> dict:
    """Verdicts for one cell with all their evidence (JSON-serialisable).

    Examples
    --------
    >>> out = evaluate_cell({"M": 3, "d": 2, "starts": 4, "polish_dps": 0, "sdp": False}, 0)
    >>> out["verdict_nonneg"], out["verdict_signed"]   # signed: the elliptope certificate (docs/signed_beta.md)
    ('PROVEN', 'PROVEN')
    >>> evaluate_cell({"M": 4, "d": 3, "starts": 4, "polish_dps": 0, "sdp": False}, 0)["verdict_signed"]
    'SUPPORTED'
    >>> evaluate_cell({"M": 2, "d": 1, "starts": 4, "polish_dps": 0}, 0)["verdict_signed"]  # F_ETF = 0 <= Ltilde
    'PROVEN'
    """
    t0 = time.perf_counter()
    p = CellParams.from_dict(params)
    rng = np.random.default_rng(seed)
    summary = make_summary(p)
    act = summary.activation
    etf_exists = p.M <= p.d + 1
    C = float(summary.constant())
    out: dict = {"params": _param_dict(p), "seed": int(seed), "etf_exists": etf_exists, "C_target": C,
                 "source": "docs/model.md §4, §5; conjecture.cells"}
    ref = None
    if etf_exists and p.regime in ("I", "II"):
        ref = etf_reference(summary, p.regime, p.M, p.d, dps=max(p.polish_dps, 30) + 10)
        out["etf"] = asdict(ref)
    # ---- search, signed beta
    cost = ReducedCost(summary, "signed")
    if p.user_frame is not None:
        uf = np.array(p.user_frame)[None]
        ev = cost.evaluate(uf)
        out["user_frame"] = {"value_signed": float(ev.value[0]), "beta": ev.beta[0].tolist(), "cond_K": float(ev.condition[0]),
                             "gap_rel": None}
    starts, counts = _starts(p, rng)
    res = refine(cost, starts, max_iter=p.max_iter)
    i = res.best
    best_x, best_v, best_beta = res.points[i], float(res.values[i]), res.betas[i]
    etf_v = ref.value if ref is not None else None
    r3 = None  # regime III, exact objective: the certificates of conjecture.regime3_verdict
    if etf_exists and p.regime == "III" and p.objective == "exact":
        from conjecture import regime3_verdict as r3v

        orient = r3v.best_orientation(summary, p.M, p.d, rng)
        etf_v = orient["value"]
        out["etf"] = {"orientation_min": etf_v, "objective": summary.objective, **orient}
        r3 = {}
    elif etf_exists and p.regime == "III":
        orient = best_etf_orientation(cost, p.M, p.d, rng)
        etf_v = orient["value"]
        out["etf"] = {"sampled_orientations_min": etf_v, "objective": "truncated O(d^-2)", **orient}
    hits = int(np.sum(res.values <= best_v + SEARCH_RTOL * C))
    if p.user_frame is not None and etf_v is not None:
        out["user_frame"]["gap_rel"] = (out["user_frame"]["value_signed"] - etf_v) / C
    out["search_signed"] = {"starts": counts, "total_starts": int(starts.shape[0]), "max_iter": p.max_iter,
                            "best_value": best_v, "best_value_rounding": cost.rounding_bound(best_x, best_beta),
                            "hits_of_best": hits, "converged": int(res.converged.sum()),
                            "evaluations": int(res.evaluations), "seconds": round(res.seconds, 3),
                            "best_is_etf": etf_exists and _is_etf(best_x),
                            "gap_rel": None if etf_v is None else (best_v - etf_v) / C}
    # ---- polish and Hessian
    if p.polish_dps and etf_exists and p.M * (p.d - 1) <= POLISH_MAX_DIM and p.d > 1:
        pol = polish(best_x, summary, dps=p.polish_dps + 10)
        with mpmath.workdps(p.polish_dps + 20):
            pol_val = mpmath.mpf(pol.value)
            shown = mpmath.nstr(pol_val, p.polish_dps, strip_zeros=False)
        info = {"value": shown, "grad_norm": pol.grad_norm, "steps": pol.steps,
                "converged": pol.converged, "is_etf": _is_etf(pol.point),
                "hessian": asdict(pol.hessian)}
        if ref is not None:
            with mpmath.workdps(p.polish_dps + 20):
                closed = mpmath.mpf(ref.closed_form)
                diff = abs(pol_val - closed)
                # relative to |F_ETF| (to C_target when F_ETF = 0)
                denom = abs(closed) if closed != 0 else mpmath.mpf(C)
                # identical to all compared digits: report the compared precision (a lower bound on the agreement)
                info["digits_vs_closed_form"] = float(p.polish_dps + 10) if diff == 0 else min(float(-mpmath.log10(diff / denom)), p.polish_dps + 10.0)
            if p.regime == "I":
                with mpmath.workdps(p.polish_dps + 20):
                    bb = summary.b_mp([1.0] * p.d, p.polish_dps + 20)
                    ones = (summary.constant_mp(p.polish_dps + 20) - pol_val) / (bb * bb)
                info["ones_Kinv_ones"] = mpmath.nstr(ones, p.polish_dps)
        if not info["is_etf"] and p.regime == "I":
            H, _, _ = hessian_mp(exact_etf_rows(p.M, p.d, p.polish_dps + 20), summary, p.polish_dps + 20)
            info["hessian_at_etf"] = asdict(spectrum(H, p.polish_dps + 20))
        out["polish"] = info
    # ---- beta >= 0
    cert_gap = None
    lp_info = {}
    if etf_exists and p.regime == "I":
        bounds = []
        if p.inject == "none":
            bounds.append(tangent_bound(act, p.M, p.d))
            if not bounds[0].valid and p.d == p.M - 1 and p.d >= 2:
                bounds.append(tangent_quadratic_bound(act, p.M, p.d))
        if not any(b.valid and b.gap_upper <= PROOF_RTOL for b in bounds) or p.lp_always:
            bounds.append(lp_bound(act, p.M, p.d, degree=p.lp_degree, solver=p.solver, override=_inject_lp(p.inject)))
        b2 = float(summary.b(best_x[None])[0, 0]) ** 2
        for bd in bounds:
            lp_info[bd.source] = {"valid": bd.valid, "gap_upper_Q": bd.gap_upper, "delta": str(bd.delta),
                                  "h": [str(h) for h in bd.h], "intervals": bd.certificate.intervals,
                                  "lp_status": bd.lp_status, "A_certified": bd.a_certified_str, "Q_etf": bd.q_etf_str}
            if bd.valid and np.isfinite(bd.gap_upper):
                # L_bound = C - b^2/A, L_ETF = C - b^2/Q: gap = b^2 (Q - A)/(A Q) <= b^2 gap_Q / (A Q)
                q = float(bd.q_etf_str)
                g = b2 * max(bd.gap_upper, 0.0) / (max(bd.a_certified, 1e-300) * q) / C
                cert_gap = g if cert_gap is None else min(cert_gap, g)
        out["bounds_nonneg"] = lp_info
        qp = solve_beta_qp(cost.kernel(simplex_etf(p.M, p.d)[None])[0], summary.b(simplex_etf(p.M, p.d)[None])[0], C,
                           nonneg=True, solver=p.solver, override=_inject_qp(p.inject))
        qp_ok = qp.verified and abs(qp.value - etf_v) <= 1e-9 * C
        out["qp_at_etf_nonneg"] = {**asdict(qp), "agrees_with_closed_form": qp_ok}
        if not qp_ok and cert_gap is not None:
            out["qp_at_etf_nonneg"]["note"] = "QP check failed: the certificate is not used for PROVEN"
            cert_gap = None
    if r3 is not None and summary.points.exact:  # regime III: b at its maximum on every ETF row; F_ETF = 0
        r3["proven"] = r3v.proven_certificates(summary, p.M, p.d, r3v.budget_from(p), act)
        cert_gap = r3v.nonneg_gap(r3["proven"])
    nonneg_search_gap = None
    nonneg_best = None
    if etf_exists and (cert_gap is None or cert_gap > PROOF_RTOL):
        cost_p = ReducedCost(summary, "nonneg")
        sp_, _ = _starts(CellParams(**{**asdict(p), "starts": min(p.starts, 32)}), rng)
        rp = refine(cost_p, sp_, max_iter=min(p.max_iter, 200))
        j = rp.best
        nonneg_best = (rp.points[j], rp.betas[j])
        nonneg_search_gap = (float(rp.values[j]) - etf_v) / C if etf_v is not None else None
        out["search_nonneg"] = {"total_starts": int(sp_.shape[0]), "best_value": float(rp.values[j]),
                                "best_value_rounding": cost_p.rounding_bound(rp.points[j], rp.betas[j]),
                                "gap_rel": nonneg_search_gap,
                                "seconds": round(rp.seconds, 3)}
        if nonneg_search_gap is not None and nonneg_search_gap < -SEARCH_RTOL and ref is not None:
            out["refutation_nonneg"] = _refute(summary, p, rp.points[j], rp.betas[j], ref.closed_form)
    elif etf_exists:
        nonneg_search_gap = out["search_signed"]["gap_rel"]  # signed min <= nonneg min, so this is a lower estimate
    # ---- QP at the best frame (signed), KKT-checked
    qs = solve_beta_qp(cost.kernel(best_x[None])[0], summary.b(best_x[None])[0], C, nonneg=False, solver=p.solver,
                       override=_inject_qp(p.inject))
    out["qp_at_best_signed"] = {k: v for k, v in asdict(qs).items() if k not in ("beta", "multiplier")}
    # ---- SDP bounds, signed beta
    if p.sdp and etf_exists and p.regime == "I":
        sdps = [sdp_bound(act, p.M, k, solver=p.solver) for k in range(p.M)]
        out["sdp_signed"] = [{"negatives": s.negatives, "A_k": s.value, "kkt_ok": s.kkt.ok, "note": s.note} for s in sdps]
    # ---- refutation of the signed conjecture
    signed_gap = out["search_signed"]["gap_rel"]
    refuted = False
    if signed_gap is not None and signed_gap < -SEARCH_RTOL and ref is not None:
        out["refutation_signed"] = _refute(summary, p, best_x, best_beta, ref.closed_form)
        refuted = out["refutation_signed"]["certified"]
    if r3 is not None and summary.points.exact:  # regime III: SO(d) branch-and-bound below a rational frame
        r3["refutation"] = r3v.refute_if_below(summary, p, etf_v, (best_x, best_beta), nonneg_best, signed_gap,
                                               nonneg_search_gap, rng, r3.get("proven"))
        refuted = r3v.refuted(r3["refutation"], "signed")
    # ---- F_ETF = 0 exactly: Ltilde is a squared loss (>= 0), so the ETF is a global minimiser for any beta
    signed_cert = None
    if ref is not None and p.regime == "I":  # regime I: Ltilde = E_x (f_inf(x) - g(x))^2 exactly (docs/model.md §4)
        with mpmath.workdps(60):
            if mpmath.mpf(ref.closed_form) == 0:
                signed_cert = 0.0
                cert_gap = 0.0
                out["zero_loss_certificate"] = "F_ETF = 0 exactly (closed form) and Ltilde = E (f - g)^2 >= 0"
    # ---- signed beta proved on the whole elliptope (regime I: b = abar c_d 1), by a shipped, re-checked certificate
    if signed_cert is None and etf_exists and p.regime == "I":
        proof = stored_proof(p.M, act.name)
        if proof is not None:
            out["elliptope_certificate"] = proof.summary()
            if proof.check.ok:
                signed_cert = 0.0
    # ---- verdicts
    v_signed, why_signed = decide(etf_exists=etf_exists, certified_gap_rel=signed_cert, search_gap_rel=signed_gap, refutation_certified=refuted)
    refuted_nn = bool(out.get("refutation_nonneg", {}).get("certified", False))
    if r3 is not None:
        signed_cert = r3v.signed_gap(r3.get("proven"))
        v_signed, why_signed = decide(etf_exists=etf_exists, certified_gap_rel=signed_cert, search_gap_rel=signed_gap,
                                      refutation_certified=refuted)
        refuted_nn = r3v.refuted(r3.get("refutation"), "nonneg")
    v_nn, why_nn = decide(etf_exists=etf_exists, certified_gap_rel=cert_gap, search_gap_rel=nonneg_search_gap, refutation_certified=refuted_nn)
    if "zero_loss_certificate" in out:
        why_signed = why_nn = out["zero_loss_certificate"]
    elif (out.get("elliptope_certificate") or {}).get("checked") and v_signed.value == "PROVEN":
        why_signed = stored_proof(p.M, act.name).reason()
    if r3 is not None:
        why_signed, why_nn = r3v.reasons(v_signed, why_signed, v_nn, why_nn, r3, out["etf"])
        out["regime3"] = r3
    out.update(verdict_signed=v_signed.value, reason_signed=why_signed, verdict_nonneg=v_nn.value, reason_nonneg=why_nn,
               certified_gap_rel=cert_gap)
    if not etf_exists:
        out["best_configuration"] = describe_frame(best_x, best_beta)
    elif p.regime != "I" or not out["search_signed"]["best_is_etf"]:
        out["best_configuration"] = describe_frame(best_x, best_beta)
    out["verdict"] = v_signed.value
    out["values"] = {"best_signed": best_v, "etf": etf_v}
    out["precision_digits"] = p.polish_dps if "polish" in out else 12
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


try:  # register the kind so that ``twolayer reproduce`` can re-run stored cells in a fresh process
    from numerics.evidence.sweep import register_cell_kind

    register_cell_kind(KIND, evaluate_cell)
except ImportError:  # numerics.evidence.sweep not available: cells still run in-process
    pass
