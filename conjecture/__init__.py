"""Conjecture layer: frame search, convex relaxations, certificates, verdicts and reports.

Imports ``theory`` and ``numerics``; nothing imports ``conjecture``.

The public API (docs/api.md) is what ``__all__`` lists; every other module is internal.  Names are
imported on first use, so ``import conjecture`` stays light.
"""

from __future__ import annotations

from theory.lazy_exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports("conjecture", {
    "check": "conjecture.api", "sweep": "conjecture.api", "estimate": "conjecture.api",
    "CellCheck": "conjecture.api", "SweepReport": "conjecture.api", "NORMALISATION": "conjecture.report",
}, submodules=("certificate",))
