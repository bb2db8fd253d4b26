"""docs/api.md: its snippets run as doctests, and the public API it documents is what each layer exports.

A documented name that disappears from a package's ``__all__`` (or stops resolving) fails here, as does an
exported name that docs/api.md does not mention.
"""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
API_DOC = REPO / "docs" / "api.md"
LAYERS = ("theory", "numerics", "conjecture")


def _documented_names() -> set[tuple[str, str]]:
    """(package, name) for every `package.name` written in docs/api.md (outside its doctest lines)."""
    text = "\n".join(line for line in API_DOC.read_text().splitlines() if not line.startswith((">>>", "...")))
    found = set()
    for m in re.finditer(r"\b(theory|numerics|conjecture)\.([A-Za-z_][A-Za-z0-9_]*)", text):
        found.add((m.group(1), m.group(2)))
    return found


def test_api_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the snippets write reports and stores into temporary folders only
    result = doctest.testfile(str(API_DOC), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 15 and result.failed == 0, result


@pytest.mark.parametrize("package", LAYERS)
def test_every_exported_name_is_documented_and_resolves(package):
    mod = importlib.import_module(package)
    documented = {name for pkg, name in _documented_names() if pkg == package}
    for name in mod.__all__:
        assert getattr(mod, name) is not None
        if name != "InputError":
            assert name in documented, f"{package}.{name} is exported but not in docs/api.md"


def test_every_documented_top_level_name_is_exported():
    internal_modules = {"api", "loss_api", "verify_report", "etf_sweep_api", "evidence", "claims", "md", "py"}
    for package, name in _documented_names():
        if name in internal_modules:
            continue
        mod = importlib.import_module(package)
        assert name in mod.__all__, f"docs/api.md documents {package}.{name}, which {package}.__all__ lacks"
        assert getattr(mod, name) is not None
