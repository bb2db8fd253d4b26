"""How a derivation reads: its numbers at their digits, and the text and strict-JSON forms ``twolayer
derive`` prints (theory.derivation_latex: the LaTeX form).  ETF and regime II values are at abar = 1, each
entry says so.
"""

from __future__ import annotations

import mpmath

from theory.derivation import Derivation, Entry
from theory.derive_bounds import NORMALISATION_NOTE


# ---- numbers -------------------------------------------------------------------------------------------------


def _digits(e: Entry, result: Derivation) -> int:
    return min(e.digits or result.dps, result.dps)


def number_text(value, digits: int) -> str | None:
    """A decimal string at ``digits`` significant digits; None for no value or a non-finite one."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or abs(value) == float("inf"):
            return None
        return repr(value) if digits >= 17 else f"{value:.{digits}g}"
    with mpmath.workdps(digits + 5):
        v = mpmath.mpf(value)
        if not mpmath.isfinite(v):
            return None
        return mpmath.nstr(v, digits, min_fixed=-5, max_fixed=digits + 5, strip_zeros=False)


def entry_value(e: Entry, result: Derivation) -> str | None:
    return number_text(e.value, _digits(e, result))


# ---- JSON and text --------------------------------------------------------------------------------------------


def to_json(result: Derivation) -> dict:
    """The derivation as JSON-ready data (exact forms as sympy strings, numbers as decimal strings)."""
    return {
        "command": "derive", "activation": result.activation, "law": result.law, "d": result.d, "M": result.M,
        "dps": result.dps, "tilt_norm": result.tilt_norm,
        "law_abar": number_text(result.abar, result.dps), "normalisation": NORMALISATION_NOTE,
        "entries": [
            {"section": e.section, "name": e.name, "exact": None if e.exact is None else str(e.exact),
             "value": entry_value(e, result), "digits": None if e.value is None else _digits(e, result),
             "normalisation": e.normalisation, "source": e.source, "note": e.note}
            for e in result.entries
        ],
    }


def to_text(result: Derivation) -> str:
    lines = [f"twolayer derive: activation={result.activation} law={result.law} d={result.d} M={result.M} "
             f"dps={result.dps}", f"normalisation: {NORMALISATION_NOTE}"]
    section = None
    for e in result.entries:
        if e.section != section:
            section = e.section
            lines.append(f"\n[{section}]")
        if e.name == "note":
            lines.append(f"  note: {e.note or e.source}")
            continue
        parts = []
        if e.exact is not None:
            parts.append(str(e.exact))
        value = entry_value(e, result)
        if value is not None:
            parts.append(f"= {value}")
        elif e.value is not None:
            parts.append("= (not finite)")
        tags = [t for t in (e.normalisation, e.note) if t]
        tag = f"   [{'; '.join(tags)}]" if tags else ""
        lines.append(f"  {e.name}: {' '.join(parts)}{tag}   ({e.source})")
    return "\n".join(lines)
