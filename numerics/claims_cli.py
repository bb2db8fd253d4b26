"""``twolayer claims``: list the theorem checks beyond compression, or run one (stored cells, reports).

    twolayer claims [list] [--json]
    twolayer claims run NAME [claim options] [--store PATH] [--seed S] [--workers K | --scheduler ADDR]
                             [--out ROOT] [--json]

Claims (docs/claims.md): memorization, ntk-memorization, condensation.  An option that does not apply to
the claim is an error (exit 2).  Exit status 0 when the run finished (a claim NOT SUPPORTED here is a
finding, not a failure), 1 when a cell's check failed ('fails': a label not reproduced), 2 for bad input.
"""

from __future__ import annotations

from theory.cli_args import add_json_flag, parse_int, parse_int_set, print_json
from theory.errors import InputError
from numerics.claims import CLAIMS

MAX_SEEDS = 64
MAX_CELLS = 2_000
# Claim-specific options: (flag, dest, help). Each claim names the ones it takes and their defaults.
OPTIONS = (
    ("--construction", "construction", "memorization: threshold, relu or both (comma list)"),
    ("--n", "n", "number of points, e.g. 100,1000 or 100-400"),
    ("--d", "d", "input dimension(s), e.g. 2,5,10"),
    ("--seeds", "seeds", f"repetitions (seeds) per configuration, 1..{MAX_SEEDS}"),
    ("--features", "features", "ntk-memorization: ntk and/or rf (the control; comma list)"),
    ("--eps", "eps", "ntk-memorization: relative training errors in (0, 1) (comma list)"),
    ("--activation", "activation", "condensation: tanh, xtanh, x2tanh, sigmoid, softplus (comma list)"),
    ("--init-scale", "init_scale", "condensation: standard deviations of the initial parameters (comma list)"),
    ("--steps", "steps", "condensation: full-batch training steps"),
    ("--optimizer", "optimizer", "condensation: adam and/or gd (comma list)"),
    ("--checkpoint", "checkpoint", "condensation: modal (the count held at most checkpoints) or preactivation "
                                   "(stop when max |w.x + b| reaches 1)"),
)
DEFAULTS = {
    "memorization": {"construction": "threshold,relu", "n": "10,100,1000,10000", "d": "2,5,10", "seeds": "1"},
    "ntk-memorization": {"features": "ntk,rf", "n": "100,200,400", "d": "4,8,16", "eps": "0.3,0.1,0.03,0.01",
                         "seeds": "5"},
    "condensation": {"activation": "tanh,xtanh,x2tanh,sigmoid,softplus", "d": "1,5", "init_scale": "0.005,0.5",
                     "seeds": "5", "steps": "1000", "optimizer": "adam", "checkpoint": "modal"},
}


def _options(args, name: str) -> dict:
    defaults = DEFAULTS[name]
    got = {}
    for flag, dest, _ in OPTIONS:
        value = getattr(args, dest)
        if dest not in defaults:
            if value is not None:
                raise InputError(flag.lstrip("-"), f"does not apply to the claim {name!r}", got=value)
            continue
        got[dest] = defaults[dest] if value is None else value
    return got


def _names(text: str, argument: str, allowed: tuple[str, ...]) -> list[str]:
    items = [t.strip() for t in str(text).split(",")]
    if len(str(text)) > 1000 or not items or any(t not in allowed for t in items):
        raise InputError(argument, f"expected a comma list of {', '.join(allowed)}", got=text)
    return list(dict.fromkeys(items))


def _cells_memorization(opt: dict) -> list[dict]:
    from numerics.memorization_check import MAX_D, MAX_N

    cons = _names(opt["construction"], "construction", ("threshold", "relu"))
    ns = parse_int_set(opt["n"], "n", lo=1, hi=MAX_N)
    ds = parse_int_set(opt["d"], "d", lo=1, hi=MAX_D)
    seeds = parse_int(opt["seeds"], "seeds", lo=1, hi=MAX_SEEDS)
    return [{"construction": c, "n": n, "d": d, **({"replicate": k} if seeds > 1 else {})}
            for c in cons for d in ds for n in ns for k in range(seeds)]


def _cell_builder(name: str):
    if name == "memorization":
        return _cells_memorization
    if name == "ntk-memorization":
        from numerics.ntk_scaling import cells_from_options as ntk_cells
        return ntk_cells
    from numerics.condensation_check import cells_from_options
    return cells_from_options


def _cell_function(name: str):
    import importlib

    claim = CLAIMS[name]
    module = importlib.import_module(claim.module)
    return module.CELL_FUNCTION


def _cmd_list(args) -> int:
    rows = [{"name": c.name, "source": c.source, "statement": c.statement, "kind": c.kind, "docs": c.docs}
            for c in CLAIMS.values()]
    if args.json:
        print_json({"claims": rows})
    else:
        for r in rows:
            print(f"{r['name']:<18} {r['statement']}\n{'':<18} source: {r['source']}\n{'':<18} docs: {r['docs']}")
    return 0


def _check_name(name: object) -> str:
    if not isinstance(name, str) or name not in CLAIMS:
        raise InputError("name", f"unknown claim; valid: {', '.join(CLAIMS)}", got=name)
    return name


def _cmd_run(args) -> int:
    from numerics import claims_report  # noqa: F401  (registers the report content of the kinds)
    from numerics.evidence.reports import write_sweep_reports
    from numerics.evidence.run_folder import check_output_root, new_run_folder
    from numerics.evidence.sweep import run_sweep, sweep_kwargs

    name = _check_name(args.name)
    opt = _options(args, name)
    cells = _cell_builder(name)(opt)
    if len(cells) > MAX_CELLS:
        raise InputError("n", f"too many cells ({len(cells)} > {MAX_CELLS})")
    kw = sweep_kwargs(args)
    root = check_output_root(args.out)
    claim = CLAIMS[name]
    outcome = run_sweep(_cell_function(name), cells, kind=claim.kind, **kw)
    folder = new_run_folder(root, outcome.run_id)
    bundle = write_sweep_reports(outcome, folder, title=args.title or f"Claim check: {name}",
                                 description=f"{claim.statement}. Source: {claim.source}. See {claim.docs}.")
    from numerics.evidence.reports.kinds import kind_content

    content = kind_content(claim.kind, outcome.records)
    verdicts: dict[str, int] = {}
    for r in outcome.records:
        verdicts[r.result.get("verdict")] = verdicts.get(r.result.get("verdict"), 0) + 1
    findings = [{"name": f.name, "verdict": f.verdict, "detail": f.detail} for f in content.findings]
    if args.json:
        print_json({"claim": name, "source": claim.source, "kind": claim.kind, "run_id": outcome.run_id,
                    "store": outcome.store_path, "cells": len(outcome.records), "computed": outcome.computed,
                    "reused": outcome.reused, "wall_seconds": outcome.wall_seconds, "verdicts": verdicts,
                    "findings": findings,
                    "rows": [{"cell_id": r.cell_id, **r.params, "verdict": r.result.get("verdict"),
                              "values": r.result.get("values")} for r in outcome.records],
                    "report_dir": str(folder), "report_id": bundle.report_id})
    else:
        print(f"claim {name} ({claim.source})")
        print(f"run {outcome.run_id}: {len(outcome.records)} cells ({outcome.computed} computed, {outcome.reused} "
              f"reused) on {outcome.scheduler} in {outcome.wall_seconds:.2f} s; store {outcome.store_path}")
        if content.compact is not None:
            t = content.compact
            print("  ".join(t.headers))
            for row in t.rows:
                print("  ".join(row))
        print("cell verdicts: " + ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda kv: str(kv[0]))))
        for f in findings:
            print(f"finding {f['name']}: {f['verdict']} ({f['detail']})")
        print(f"report {bundle.report_id}: {bundle.paths['html']}")
    return 1 if verdicts.get("fails") else 0


def register(subparsers) -> None:
    """Add ``claims`` (with ``list`` and ``run NAME``) to the ``twolayer`` parser."""
    from numerics.evidence.sweep import add_sweep_arguments

    c = subparsers.add_parser("claims", help="theorem checks beyond compression: memorisation, NTK scaling, condensation",
                              description=__doc__)
    add_json_flag(c)
    c.set_defaults(handler=_cmd_list)
    sub = c.add_subparsers(dest="claims_action", metavar="ACTION")
    lst = sub.add_parser("list", help="list the claims with their sources")
    add_json_flag(lst)
    lst.set_defaults(handler=_cmd_list)
    run = sub.add_parser("run", help="run one claim's check: stored cells and reports",
                         description=__doc__ + "\nDefaults per claim: " +
                         "; ".join(f"{k}: " + ", ".join(f"--{o.replace('_', '-')} {v}" for o, v in d.items())
                                   for k, d in DEFAULTS.items()))
    run.add_argument("name", metavar="NAME", help=f"the claim: {', '.join(CLAIMS)}")
    for flag, dest, text in OPTIONS:
        run.add_argument(flag, dest=dest, default=None, help=text + " (default: per claim, see above)")
    add_sweep_arguments(run)
    run.add_argument("--out", default="claims_out", metavar="ROOT", help="write the reports to ROOT/<run-id>/")
    run.add_argument("--title", default=None, help="report title (default: 'Claim check: NAME')")
    add_json_flag(run)
    run.set_defaults(handler=_cmd_run)
