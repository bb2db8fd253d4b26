"""Symbolic layer: activations, dual kernels, sphere averages, the mean-field objective.

``theory`` imports neither ``numerics`` nor ``conjecture``.

The public API (docs/api.md) is what ``__all__`` lists; every other module is internal.  Names are
imported on first use, so ``import theory`` stays light.
"""

from __future__ import annotations

import importlib

from theory.errors import InputError

_EXPORTS = {"derive": "theory.api", "DerivationReport": "theory.api", "get_activation": "theory.activations"}

__all__ = sorted(["InputError", *_EXPORTS])


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
