"""Symbolic layer: activations, dual kernels, sphere averages, the mean-field objective.

``theory`` imports neither ``numerics`` nor ``conjecture``.

The public API (docs/api.md) is what ``__all__`` lists; every other module is internal.  Names are
imported on first use, so ``import theory`` stays light.
"""

from __future__ import annotations

from theory.errors import InputError
from theory.lazy_exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    "theory", {"derive": "theory.api", "DerivationReport": "theory.api", "get_activation": "theory.activations"},
    eager=("InputError",))
