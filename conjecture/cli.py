"""``twolayer conjecture``: sweep (M, d) cells for a regime and activation and write the verdict reports.

With no arguments it runs the embedded default (regime I, ReLU, M = 2..5, d = 1..4, 32 starts per cell).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from theory.errors import InputError

DEFAULT_M = "2-5"
DEFAULT_D = "1-4"
DEFAULT_STARTS = 32
DEFAULT_OUT = "conjecture_out"


def parse_range(text: str, argument: str, lo: int, hi: int = 64) -> list[int]:
    """'3', '2-5' or '2,4,6' -> sorted integers in [lo, hi] (parsed by hand, no eval).

    Examples
    --------
    >>> parse_range("2-4", "M", 2), parse_range("3,1", "d", 1)
    ([2, 3, 4], [1, 3])
    """
    out: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
                start, stop = int(a), int(b)
                if stop < start:
                    raise ValueError
                out.update(range(start, stop + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise InputError(argument, "expected an integer, a range a-b or a comma list", got=text) from None
    if not out or min(out) < lo or max(out) > hi:
        raise InputError(argument, f"values must lie in {lo}..{hi}", got=text)
    return sorted(out)


def register(subparsers) -> None:
    """Add ``twolayer conjecture`` to the parser."""
    p = subparsers.add_parser("conjecture", help="ETF conjecture: search, relaxations, certificates, verdicts over (M, d)",
                              description=__doc__)
    p.add_argument("--regime", default="I", help="I (isotropic), II (linear tilt, d -> inf), III (non-Gaussian entries)")
    p.add_argument("--activation", default="relu", help="relu, leaky_relu(s), abs, step, relu^k")
    p.add_argument("--M", default=DEFAULT_M, help=f"neurons: 3, 2-8 or 2,4 (default {DEFAULT_M})")
    p.add_argument("--d", default=DEFAULT_D, help=f"input dimension(s): 1-4, 2,5 or relative M-1,M+2 (default {DEFAULT_D})")
    p.add_argument("--starts", type=int, default=DEFAULT_STARTS, help="random + perturbed-ETF starts per cell (structured frames are added)")
    p.add_argument("--seed", type=int, default=0, help="sweep seed (cell seeds derive from it; recorded)")
    p.add_argument("--out", default=DEFAULT_OUT, help="output folder for reports and the result store")
    p.add_argument("--frame", default=None, help="JSON file with a user frame (list of M unit rows of length d)")
    p.add_argument("--tilt-norm", type=float, default=0.5, help="regime II: ||m|| / abar (m along e_1)")
    p.add_argument("--law", default=None, help="regime III: entry law (e.g. rademacher)")
    p.add_argument("--polish-dps", type=int, default=30, help="digits for the mpmath polish (0: off)")
    p.add_argument("--max-iter", type=int, default=300, help="L-BFGS iterations per start")
    p.add_argument("--no-sdp", action="store_true", help="skip the signed-beta SDP bounds")
    p.add_argument("--solver", default="CLARABEL", help="cvxpy solver for the QP/LP/SDP: CLARABEL or SCS")
    p.add_argument("--store", default=None, metavar="PATH", help="result store: SQLite file or project directory (default OUT)")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address tcp://host:port (passed to run_sweep)")
    p.add_argument("--workers", type=int, default=None, help="local worker processes (0: in-process)")
    p.add_argument("--study", default=None, help="extra study: polygons (regime I, d = 2) or tilt (regime II threshold)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)


def parse_dims(text: str, Ms: list[int]) -> dict[int, list[int]]:
    """d values per M: absolute ('1-4', '3,5') or relative to M ('M-1,M+2'); relative values below 1 are dropped.

    Examples
    --------
    >>> parse_dims("M-1,M+2", [2, 3])
    {2: [1, 4], 3: [2, 5]}
    """
    if "M" not in str(text).upper():
        ds = parse_range(text, "d", 1)
        return {M: ds for M in Ms}
    offsets = []
    for part in str(text).upper().split(","):
        part = part.strip()
        if not part.startswith("M"):
            raise InputError("d", "mix of absolute and relative values; use e.g. M-1,M+2", got=text)
        rest = part[1:].strip() or "+0"
        try:
            if rest[0] not in "+-":
                raise ValueError
            offsets.append(int(rest))
        except (ValueError, IndexError):
            raise InputError("d", "relative values look like M-1 or M+2", got=text) from None
    return {M: sorted({M + o for o in offsets if 1 <= M + o <= 64}) for M in Ms}


def _cells(args) -> list[dict]:
    Ms = parse_range(args.M, "M", 2)
    dims = parse_dims(args.d, Ms)
    ds = sorted({d for v in dims.values() for d in v})
    if args.study is not None and args.study.strip().lower() not in ("polygons", "tilt"):
        raise InputError("study", "expected polygons or tilt", got=args.study)
    regime = str(args.regime).strip().upper()
    if regime not in ("I", "II", "III"):
        raise InputError("regime", "expected one of I, II, III", got=args.regime)
    if args.starts < 1 or args.starts > 4096:
        raise InputError("starts", "expected an integer in 1..4096", got=args.starts)
    if args.tilt_norm != args.tilt_norm or args.tilt_norm < 0 or args.tilt_norm == float("inf"):
        raise InputError("tilt-norm", "expected a finite number >= 0", got=args.tilt_norm)
    from theory.activations import get_activation

    act = get_activation(args.activation).name
    user = None
    if args.frame is not None:
        from conjecture.frames import load_user_frame

        arr = load_user_frame(args.frame)
        if len(Ms) > 1 or len(ds) > 1:
            Ms, ds = [arr.shape[0]], [arr.shape[1]]
        if (Ms[0], ds[0]) != arr.shape:
            raise InputError("frame", f"shape {arr.shape} does not match --M {Ms[0]} --d {ds[0]}")
        user = arr.tolist()
    if args.frame is not None:
        dims = {Ms[0]: ds}
    cells = []
    for M in Ms:
        for d in dims[M]:
            c = {"M": M, "d": d, "regime": regime, "activation": act, "starts": args.starts, "polish_dps": args.polish_dps,
                 "max_iter": args.max_iter, "solver": args.solver.upper()}
            if regime == "II":
                c["tilt_norm"] = args.tilt_norm
            if regime == "III":
                c["law"] = args.law or "rademacher"
            if args.no_sdp:
                c["sdp"] = False
            if user is not None:
                c["user_frame"] = user
            cells.append(c)
    from conjecture.cells import CellParams

    for c in cells:  # validate everything before any work starts
        CellParams.from_dict(c)
    return cells


def run(args) -> int:
    t0 = time.perf_counter()
    cells = _cells(args)
    out = Path(args.out)
    from conjecture.cells import KIND, evaluate_cell
    from conjecture.report import write_reports
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.sweep import run_sweep

    outcome = run_sweep(evaluate_cell, cells, kind=KIND, store=args.store or out, seed=args.seed, scheduler=args.scheduler,
                        n_workers=args.workers, quiet=args.quiet, argv=["twolayer", "conjecture", *sys.argv[2:]])
    results = [r.result for r in outcome.records]
    provenance = outcome.provenance
    how = f"numerics.evidence.sweep.run_sweep ({outcome.scheduler}; computed {outcome.computed}, reused {outcome.reused}; store {outcome.store_path})"
    studies = {}
    if args.study is not None:
        key = args.study.strip().lower()
        if key == "polygons":
            from conjecture.polygons import polygon_study

            studies["polygons"] = polygon_study(range(3, 10), activation=cells[0]["activation"], seed=args.seed)
        elif key == "tilt":
            from conjecture.tilt import tilt_study

            studies["tilt"] = [tilt_study(M, activation=cells[0]["activation"], seed=args.seed) for M in (3, 4, 5)]
        else:
            raise InputError("study", "expected polygons or tilt", got=args.study)
    r0 = cells[0]
    title = f"ETF conjecture, regime {r0['regime']}, {r0['activation']}"
    meta = {"regime": r0["regime"], "activation": r0["activation"], "M": args.M, "d": args.d, "starts per cell": args.starts,
            "sweep seed": args.seed, "cell seeds": "numerics.evidence.sweep.cell_seed(sweep seed, params) (recorded per cell in the JSON)",
            "run": how, "wall seconds": round(time.perf_counter() - t0, 1)}
    paths = write_reports(results, out, title=title, meta=meta, provenance=provenance, studies=studies or None)
    bundle = write_sweep_reports(outcome, out, title=title, x="M", y="d", value="best_signed",
                                 description="Signed-beta verdict per cell; conjecture.md has both verdicts and the evidence.")
    paths = {**paths, **{f"evidence_{k}": str(v) for k, v in bundle.paths.items()}}
    print(f"{title}: {len(results)} cells, starts/cell {args.starts}, seed {args.seed}; {how}")
    print(f"{'M':>3} {'d':>3}  {'beta>=0':<14} {'signed':<14} {'F_ETF (closed form)':>22} {'best found':>22} "
          f"{'etf':>5} {'polish':>6}  seconds")
    for c in sorted(results, key=lambda c: (c["params"]["M"], c["params"]["d"])):
        etf = c.get("etf", {})
        ev = etf.get("closed_form") or (f"{etf['value']:.17g}" if "value" in etf else "-")  # regime III: best orientation
        pol = c.get("polish", {})
        dig = pol.get("digits_vs_closed_form") if pol.get("is_etf") else None  # only meaningful when the best is the ETF
        edig = etf.get("digits_agree") if isinstance(etf, dict) else None
        print(f"{c['params']['M']:>3} {c['params']['d']:>3}  {c['verdict_nonneg']:<14} {c['verdict_signed']:<14} "
              f"{(ev[:20] if ev != '-' else '-'):>22} {c['search_signed']['best_value']:>22.15g} "
              f"{('-' if edig is None else f'{edig:.0f}'):>5} {('-' if dig is None else f'{dig:.1f}'):>6}  {c['seconds']:.1f}")
    print("digits: etf = closed form vs exact ETF in mpmath; polish = mpmath-polished best frame vs closed form "
          "(capped at the compared precision, polish dps + 10)")
    for name, st in studies.items():
        if name == "polygons":
            for r in st["rows"]:
                print(f"polygons d=2 M={r['M']}: regular M-gon {'optimal' if r['polygon_optimal'] else 'NOT optimal'} "
                      f"(M-gon - best = {r['polygon_minus_best_rel']:.3e} C); best gaps {r['best_gaps_deg']}")
        if name == "tilt":
            for s in st:
                print(f"tilt M={s['M']}: type change at ||m||/abar = {s['threshold']:.9f} (bracket width "
                      f"{s['threshold_bracket'][1] - s['threshold_bracket'][0]:.1e}); checks agree: {s['checks_agree']}")
    print("reports: " + ", ".join(paths.values()))
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0
