"""Which modules a source file imports (for the tests that a checker shares no code with its producer)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN_CALLS = ("eval", "exec", "__import__", "compile")


def imported_modules(path: Path) -> set[str]:
    """Every ``import m`` and ``from m import n`` (as m and m.n) in the file; fails on a call to eval and friends."""
    imported = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
            imported |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, node.func.id
    return imported
