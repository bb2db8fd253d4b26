"""``twolayer certificate check PATH``: re-verify the PROVEN and REFUTED claims of a conjecture report.

    twolayer certificate check OUT/<run-id>/report.json [--json]
    twolayer certificate check OUT/latest [--json]

Every PROVEN and REFUTED claim of the report is re-verified by ``conjecture.certificate.check``, which shares no
code with the producer (its own kernels, its own exact/interval arithmetic: fractions + mpmath.iv).
Exit status 0 when every claim is confirmed, 1 when one failed or is not checkable here, 2 for bad input.
"""

from __future__ import annotations

import json

from theory.cli_args import add_json_flag, print_json


def _cmd_check(args) -> int:
    from conjecture.certificate import check

    result = check(args.path)
    if args.json:
        print_json(json.loads(result.to_json()))
    else:
        print(repr(result))
    return 0 if result.all_confirmed else 1


def register(subparsers) -> None:
    """Add ``certificate`` (with its action ``check``) to the ``twolayer`` parser."""
    p = subparsers.add_parser("certificate", help="re-verify the certificates of a conjecture report independently",
                              description=__doc__)
    actions = p.add_subparsers(dest="certificate_action", metavar="ACTION", required=True)
    c = actions.add_parser("check", help="re-verify every PROVEN and REFUTED claim of a report.json (or run folder)",
                           description=__doc__)
    c.add_argument("path", help="a report.json written by 'twolayer conjecture', or its run folder OUT/<run-id>")
    add_json_flag(c)
    c.set_defaults(handler=_cmd_check)
