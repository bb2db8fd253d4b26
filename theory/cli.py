"""``twolayer derive``: print the theory layer's closed forms for one activation, law, d and M."""

from __future__ import annotations

import json

import mpmath
import sympy as sp

from theory.derivation import Derivation, derive


def register(subparsers) -> None:
    """Add ``derive`` to the ``twolayer`` parser."""
    p = subparsers.add_parser(
        "derive",
        help="closed forms: Hermite coefficients, dual kernel, c_d, law moments, ETF values, finite-N constants",
        description="Derive the theory layer's closed forms (defaults: relu, gaussian, d=3, M=3, dps 30).",
    )
    p.add_argument("--activation", default="relu",
                   help="relu, leaky_relu(s), abs, step, relu^k (k=0..3), or pw(t<b: P; ...; else: P)")
    p.add_argument("--law", default="gaussian", help="gaussian, gaussian(s), rademacher, uniform, moments(m4=..,m6=..)")
    p.add_argument("--dim", type=int, default=3, help="input dimension d >= 1")
    p.add_argument("--neurons", type=int, default=3, help="compressed width M, 1 <= M <= d+1 (simplex ETF)")
    p.add_argument("--dps", type=int, default=30, help="decimal digits for numeric values (10..500)")
    p.add_argument("--order", type=int, default=6, help="highest Hermite order printed (0..40)")
    p.add_argument("--tilt", type=float, default=0.5, help="||m|| for the regime II tilted family")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON; numbers as decimal strings at --dps digits")
    fmt.add_argument("--latex", action="store_true", help="LaTeX align environment, ready for a paper")
    p.set_defaults(handler=run_derive)


def _num(value, dps: int) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    with mpmath.workdps(dps + 5):
        return mpmath.nstr(value, dps, min_fixed=-5, max_fixed=dps + 5, strip_zeros=False)


def to_json(result: Derivation) -> dict:
    """The derivation as JSON-ready data (exact forms as sympy strings, numbers as decimal strings)."""
    return {
        "activation": result.activation, "law": result.law, "dim": result.dim, "neurons": result.neurons,
        "dps": result.dps,
        "entries": [
            {"section": e.section, "name": e.name, "exact": None if e.exact is None else str(e.exact),
             "value": _num(e.value, result.dps), "source": e.source}
            for e in result.entries
        ],
    }


def to_text(result: Derivation) -> str:
    lines = [f"twolayer derive: activation={result.activation} law={result.law} d={result.dim} "
             f"M={result.neurons} dps={result.dps}"]
    section = None
    for e in result.entries:
        if e.section != section:
            section = e.section
            lines.append(f"\n[{section}]")
        parts = []
        if e.exact is not None:
            parts.append(str(e.exact))
        if e.value is not None:
            parts.append(f"= {_num(e.value, result.dps)}")
        lines.append(f"  {e.name}: {' '.join(parts) if parts else ''}   ({e.source})")
    return "\n".join(lines)


def to_latex(result: Derivation) -> str:
    lines = [f"% twolayer derive --activation {result.activation} --law {result.law} --dim {result.dim} "
             f"--neurons {result.neurons} --dps {result.dps}", r"\begin{align*}"]
    for e in result.entries:
        if e.exact is None and e.value is None:
            continue
        label = r"\text{" + e.name.replace("_", r"\_").replace("^", r"\^{}") + "}"
        rhs = []
        if e.exact is not None:
            rhs.append(sp.latex(e.exact))
        if e.value is not None and (e.exact is None or not sp.sympify(e.exact).is_Rational):
            rhs.append(r"\approx " + _num(e.value, result.dps))
        lines.append(f"  {label} &= {' '.join(rhs)} \\\\")
    lines.append(r"\end{align*}")
    return "\n".join(lines)


def run_derive(args) -> int:
    result = derive(args.activation, args.law, args.dim, args.neurons, args.dps, order=args.order, tilt=args.tilt)
    if args.json:
        print(json.dumps(to_json(result), indent=1))
    elif args.latex:
        print(to_latex(result))
    else:
        print(to_text(result))
    return 0
