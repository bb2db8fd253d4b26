"""Results that show themselves: one mixin gives every public result type its text, HTML, LaTeX, JSON and
citation forms, from a few methods the type defines.

A result type defines ``text()`` (what the command line prints) and ``as_json()`` (the dict the command
line's ``--json`` prints); it may define ``html_body()``, ``latex_body()`` and ``cite()``.  The mixin
then provides ``__repr__`` (the text), ``_repr_html_`` and ``_repr_latex_`` (for Jupyter) and
``to_json()`` (the strict JSON string, exactly what ``--json`` prints).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, repr=False)
... class Value(Rendered):
...     x: float
...     def text(self): return f"x = {self.x}"
...     def as_json(self): return {"x": self.x, "y": float("nan")}
>>> Value(1.5)
x = 1.5
>>> Value(1.5).to_json()
'{"x": 1.5, "y": null}'
>>> Value(1.5)._repr_html_()
'<pre class="twolayer">x = 1.5</pre>'
"""

from __future__ import annotations

import html


class Rendered:
    """Mixin for result dataclasses (declare them with ``repr=False`` so that this ``__repr__`` is used)."""

    def text(self) -> str:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def as_json(self) -> dict:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def html_body(self) -> str:
        """An HTML fragment; by default the text, preformatted."""
        return f'<pre class="twolayer">{html.escape(self.text())}</pre>'

    def latex_body(self) -> str | None:
        """A LaTeX fragment for Jupyter (None: Jupyter shows the text)."""
        return None

    def cite(self) -> str:
        """The citation block of this result (by default its text)."""
        return self.text()

    def to_json(self, *, indent: int | None = None) -> str:
        """Strict JSON (no NaN or Infinity tokens): what the command's ``--json`` prints."""
        from theory.cli_args import strict_json

        return strict_json(self.as_json(), indent=indent)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return self.html_body()

    def _repr_latex_(self) -> str | None:
        return self.latex_body()
