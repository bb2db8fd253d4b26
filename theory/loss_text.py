"""A loss as text: never negative, always with its bound.

A population loss is E(f - g)^2 >= 0.  A float64 evaluation near zero can come out slightly negative;
within its rounding bound that is printed as ``0 (|rounding| < bound)``, and a value further below zero
than its bound is a bug, which raises instead of printing.

Examples
--------
>>> loss_text(-5.55e-17, 1e-16)
'0 (|rounding| < 1e-16)'
>>> loss_text(0.0010552479781924, 2.2e-16, digits=12)
'0.00105524797819 +- 2.2e-16'
"""

from __future__ import annotations

import math


def loss_text(value: float, bound: float, *, digits: int = 15, label: str = "") -> str:
    """``value +- bound`` (``label`` names the bound, e.g. 'rounding'); ``0 (|label| < bound)`` when
    the value is within its bound of zero."""
    if not (math.isfinite(value) and math.isfinite(bound)) or bound < 0:
        raise ValueError(f"loss {value!r} with bound {bound!r}: expected finite numbers and a bound >= 0")
    if value < -bound:
        raise ValueError(f"loss {value!r} is below zero by more than its bound {bound!r}")
    name = label or "rounding"
    if abs(value) <= bound:
        return f"0 (|{name}| < {bound:.2g})"
    suffix = f" ({label})" if label else ""
    return f"{value:.{digits}g} +- {bound:.2g}{suffix}"
