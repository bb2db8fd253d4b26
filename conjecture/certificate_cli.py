"""``twolayer certificate``: re-verify certificates independently, and write the signed-beta elliptope proof.

    twolayer certificate check OUT/<run-id>/report.json [--json]
    twolayer certificate check OUT/latest [--json]
    twolayer certificate check conjecture/elliptope/data/relu_M3.json [--json]
    twolayer certificate prove --M 3 --out FILE [--json]

A report's PROVEN and REFUTED claims are re-verified by ``conjecture.certificate.check``; an elliptope certificate
(JSON of kind ``signed_beta_elliptope``) by ``conjecture.elliptope.checker``. Neither shares code with the producer.

The report checker has its own kernels and exact/interval arithmetic (fractions + mpmath.iv); the elliptope
checker rebuilds the bisection tree and re-derives every bound from kappa in arb balls.
Exit status 0 when every claim is confirmed, 1 when one failed (the first failing box for an elliptope
certificate) or is not checkable here, 2 for bad input. ``prove`` refuses to overwrite an existing FILE.
"""

from __future__ import annotations

import json
import os

from theory.cli_args import add_json_flag, print_json


def _elliptope_doc(path: str):
    """The parsed JSON when ``path`` is an elliptope certificate file, else None (a report or its folder)."""
    from conjecture.elliptope.checker import is_elliptope_certificate
    from theory.limits import read_bounded_json

    if not os.path.isfile(path) or not path.endswith(".json") or os.path.basename(path) == "report.json":
        return None
    doc = read_bounded_json(path, "path")
    return doc if is_elliptope_certificate(doc) else None


def _cmd_check(args) -> int:
    if _elliptope_doc(args.path) is not None:
        from conjecture.elliptope.checker import check_file

        result = check_file(args.path)
        passed = result.ok
    else:
        from conjecture.certificate import check

        result = check(args.path)
        passed = result.all_confirmed
    if args.json:
        print_json(json.loads(result.to_json()))
    else:
        print(repr(result))
    return 0 if passed else 1


def _cmd_prove(args) -> int:
    from conjecture.elliptope.prover import prove_m3
    from theory.cli_args import parse_int
    from theory.errors import InputError

    M = parse_int(args.M, "--M", lo=2, hi=64)
    if M != 3:
        raise InputError("--M", "only M = 3 has an elliptope prover; M = 4 and 5 are out of reach (docs/signed_beta.md)",
                         got=M)
    out = args.out
    if os.path.exists(out):
        raise InputError("--out", "the file exists; name a new file (nothing is overwritten)", got=out)
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise InputError("--out", "its folder does not exist", got=out)
    run = prove_m3()
    if not run.complete:
        print(f"proof incomplete: {run.unresolved} boxes unresolved at the depth limit; nothing written")
        return 1
    tmp = f"{out}.tmp-{os.getpid()}"
    with open(tmp, "x", encoding="utf-8") as fh:
        fh.write(run.to_json() + "\n")
    os.link(tmp, out)   # fails instead of replacing a file created meanwhile
    os.unlink(tmp)
    summary = {"file": out, "M": M, "boxes": len(run.boxes), "by_claim": run.counts, "wall_s": round(run.wall_s, 3),
               "boxes_per_second": round(len(run.boxes) / run.wall_s, 1) if run.wall_s else None}
    if args.json:
        print_json(summary)
    else:
        print(f"wrote {out}: M = 3, {len(run.boxes)} boxes ({', '.join(f'{k} {v}' for k, v in sorted(run.counts.items()))}) "
              f"in {run.wall_s:.2f} s; check it with: twolayer certificate check {out}")
    return 0


def register(subparsers) -> None:
    """Add ``certificate`` (with its action ``check``) to the ``twolayer`` parser."""
    p = subparsers.add_parser("certificate", help="re-verify the certificates of a conjecture report independently",
                              description=__doc__)
    actions = p.add_subparsers(dest="certificate_action", metavar="ACTION", required=True)
    c = actions.add_parser("check", help="re-verify every PROVEN and REFUTED claim of a report.json (or run folder)",
                           description=__doc__)
    c.add_argument("path", help="a report.json written by 'twolayer conjecture', its run folder OUT/<run-id>, or an "
                               "elliptope certificate .json")
    add_json_flag(c)
    c.set_defaults(handler=_cmd_check)
    pr = actions.add_parser("prove", help="prove q(G) <= q_ETF on the elliptope E_M (signed beta, ReLU) and write the "
                            "certificate", description=__doc__)
    pr.add_argument("--M", default="3", help="compressed width M (only 3 has a prover)")
    pr.add_argument("--out", required=True, help="the certificate file to write (must not exist)")
    add_json_flag(pr)
    pr.set_defaults(handler=_cmd_prove)
