"""Package attributes imported on first use (PEP 562), so that importing a layer stays light.

Examples
--------
>>> getattr_, dir_, names = lazy_exports("theory", {"derive": "theory.api"})
>>> names, getattr_("derive").__name__
(['derive'], 'derive')
"""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str], submodules: tuple[str, ...] = (),
                 eager: tuple[str, ...] = ()) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """(``__getattr__``, ``__dir__``, ``__all__``) for ``package``: each name of ``exports`` is read from its
    module, each of ``submodules`` is imported, when first asked for; ``eager`` names are already defined."""
    names = sorted([*exports, *submodules, *eager])

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        if name in submodules:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return names

    return __getattr__, __dir__, names
