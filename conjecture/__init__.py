"""Conjecture layer: frame search, convex relaxations, certificates, verdicts and reports.

Imports ``theory`` and ``numerics``; nothing imports ``conjecture``.

The public API (docs/api.md) is what ``__all__`` lists; every other module is internal.  Names are
imported on first use, so ``import conjecture`` stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "check": "conjecture.api", "sweep": "conjecture.api", "estimate": "conjecture.api",
    "CellCheck": "conjecture.api", "SweepReport": "conjecture.api", "NORMALISATION": "conjecture.report",
}
_SUBMODULES = ("certificate",)

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
