"""Figures of a sweep, rendered to PNG bytes with matplotlib's Agg canvas (no global pyplot state).

* ``phase_diagram_png``: verdict of each cell on a grid of two parameters (a strip for one).
* ``value_plot_png``: one result value against a parameter, one line per value of a second parameter.

Examples
--------
>>> png = phase_diagram_png([{"M": 2, "d": 3, "verdict": "agree"}], "M", "d")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from numerics.evidence.reports.table import as_float

# Fixed colours per common verdict (colour-blind safe palette); other verdicts cycle through the rest.
VERDICT_COLOURS = {
    "agree": "#009E73", "holds": "#009E73", "match": "#009E73", "confirmed": "#009E73", "pass": "#009E73",
    "disagree": "#D55E00", "fails": "#D55E00", "mismatch": "#D55E00", "counterexample": "#D55E00",
    "inconclusive": "#E69F00", "unknown": "#999999", "None": "#BBBBBB",
}
_EXTRA = ["#0072B2", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
DPI = 100


def _sort_key(v):
    f = as_float(v)
    return (0, f, "") if f is not None else (1, 0.0, str(v))


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def verdict_colours(verdicts: Sequence[str]) -> dict:
    """Colour of each verdict (fixed for the known ones)."""
    out, extra = {}, iter(_EXTRA * 10)
    for v in sorted(set(map(str, verdicts))):
        out[v] = VERDICT_COLOURS.get(v.lower(), None) or next(extra)
    return out


def phase_diagram_png(rows: Sequence[dict], x: str, y: str | None, *, verdict_key: str = "verdict",
                      title: str = "") -> bytes:
    """Verdict map over (x, y): each cell a coloured square labelled with its verdict; several cells on
    one grid point (other parameters varying) are shown as 'k/n agree'-style majority labels."""
    xs = sorted({r.get(x) for r in rows}, key=_sort_key)
    ys = sorted({r.get(y) for r in rows}, key=_sort_key) if y else [None]
    colours = verdict_colours([str(r.get(verdict_key)) for r in rows])
    fig = Figure(figsize=(max(3.0, 0.8 * len(xs) + 2.2), max(1.6, 0.55 * len(ys) + 1.4)))
    ax = fig.add_subplot(1, 1, 1)
    from collections import Counter

    for i, xv in enumerate(xs):
        for j, yv in enumerate(ys):
            here = [str(r.get(verdict_key)) for r in rows if r.get(x) == xv and (y is None or r.get(y) == yv)]
            if not here:
                continue
            top, n = Counter(here).most_common(1)[0]
            label = top if n == len(here) else f"{top} {n}/{len(here)}"
            ax.add_patch(_rect(i, j, colours[top]))
            ax.text(i, j, label, ha="center", va="center", fontsize=7, color="white")
    ax.set_xlim(-0.5, len(xs) - 0.5)
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys] if y else [])
    ax.set_xlabel(x)
    if y:
        ax.set_ylabel(y)
    ax.set_title(title or f"verdict by {x}" + (f" and {y}" if y else ""), fontsize=9)
    return _png(fig)


def _rect(i: float, j: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((i - 0.48, j - 0.48), 0.96, 0.96, facecolor=colour, edgecolor="white")


def value_plot_png(rows: Sequence[dict], x: str, value: str, *, group: str | Sequence[str] | None = None,
                   title: str = "", logy: bool = False) -> bytes:
    """``value`` (a column holding numbers or decimal strings) against parameter ``x``, one line per
    combination of the ``group`` parameters (a name or a list of names)."""
    keys = [] if group is None else ([group] if isinstance(group, str) else list(group))
    fig = Figure(figsize=(5.4, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    combos = sorted({tuple(r.get(k) for k in keys) for r in rows}, key=lambda t: [_sort_key(v) for v in t])
    for combo in combos:
        pts = [(as_float(r.get(x)), as_float(r.get(value))) for r in rows
               if tuple(r.get(k) for k in keys) == combo]
        pts = sorted(p for p in pts if p[0] is not None and p[1] is not None)
        if pts:
            label = ", ".join(f"{k} = {v}" for k, v in zip(keys, combo)) or None
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(value)
    ax.grid(alpha=0.3)
    if keys and len(combos) <= 12:
        ax.legend(fontsize=6)
    ax.set_title(title or f"{value} against {x}", fontsize=9)
    return _png(fig)
