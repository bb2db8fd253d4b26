"""Figures of a report, rendered to PNG bytes with matplotlib's Agg canvas (no global pyplot state).

* ``verdict_map_png``: one panel per verdict column (e.g. beta >= 0 and signed beta) on a grid of two
  parameters, every tile coloured and labelled by its verdict, one legend for all panels.
* ``value_plot_png``: named series of (x, y, error) points, labelled axes, the legend outside the data.

Examples
--------
>>> png = verdict_map_png([{"M": 2, "d": 3, "v": "PROVEN"}], "M", "d", [("signed", "v")])
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from collections import Counter
from typing import TYPE_CHECKING, Sequence


from numerics.evidence.reports.table import as_float

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not when the reports are loaded
    from matplotlib.figure import Figure

# Fixed colours per verdict (Okabe-Ito, colour-blind safe); other verdicts cycle through the rest.
VERDICT_COLOURS = {
    "proven": "#009E73", "agree": "#009E73", "confirmed": "#009E73", "match": "#009E73", "optimal": "#009E73",
    "supported": "#56B4E9", "consistent": "#56B4E9",
    "refuted": "#D55E00", "disagree": "#D55E00", "mismatch": "#D55E00", "not_confirmed": "#D55E00",
    "not_optimal": "#D55E00", "inconsistent": "#D55E00",
    "inconclusive": "#E69F00", "not_applicable": "#999999",
}
SHORT = {"PROVEN": "PROVEN", "SUPPORTED": "SUPP.", "REFUTED": "REFUTED", "NOT_APPLICABLE": "n/a",
         "INCONCLUSIVE": "INCONCL."}
_EXTRA = ["#0072B2", "#CC79A7", "#F0E442", "#000000"]
DPI = 100


def _sort_key(v):
    f = as_float(v)
    return (0, f, "") if f is not None else (1, 0.0, str(v))


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def verdict_colours(verdicts: Sequence[str]) -> dict:
    """Colour of each verdict (fixed for the known ones)."""
    out, extra = {}, iter(_EXTRA * 10)
    for v in sorted(set(map(str, verdicts))):
        out[v] = VERDICT_COLOURS.get(v.lower()) or next(extra)
    return out


def verdict_map_png(rows: Sequence[dict], x: str, y: str | None, panels: Sequence[tuple[str, str]], *,
                    title: str = "", xlabel: str | None = None, ylabel: str | None = None) -> bytes:
    """``verdict_map_figure`` rendered to PNG."""
    return _png(verdict_map_figure(rows, x, y, panels, title=title, xlabel=xlabel, ylabel=ylabel))


def verdict_map_figure(rows: Sequence[dict], x: str, y: str | None, panels: Sequence[tuple[str, str]], *,
                       title: str = "", xlabel: str | None = None, ylabel: str | None = None) -> Figure:
    """Verdicts over (x, y), one panel per (panel title, verdict key), one legend naming every verdict
    shown; several cells on one grid point (another parameter varying) are labelled 'VERDICT k/n' with
    the majority verdict."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    xs = sorted({r.get(x) for r in rows}, key=_sort_key)
    ys = sorted({r.get(y) for r in rows}, key=_sort_key) if y else [None]
    verdicts = [str(r.get(key)) for r in rows for _, key in panels if r.get(key) is not None]
    colours = verdict_colours(verdicts)
    # cells shrink on big grids, so that a panel stays within about 7 x 6 in and its text readable at page width
    cell_w = min(0.75, 6.0 / len(xs))
    cell_h = min(0.5, 4.0 / len(ys))
    label_size = min(6.5, cell_w * 72 / 4.2)  # 'PROVEN' is about 4 em wide
    width = max(2.6, cell_w * len(xs) + 1.2)
    height = max(2.0, cell_h * len(ys) + 1.9)
    fig = Figure(figsize=(width * len(panels) + 0.6, height))
    for p, (panel_title, key) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), p + 1)
        for i, xv in enumerate(xs):
            for j, yv in enumerate(ys):
                here = [str(r.get(key)) for r in rows
                        if r.get(x) == xv and (y is None or r.get(y) == yv) and r.get(key) is not None]
                if not here:
                    continue
                top, n = Counter(here).most_common(1)[0]
                label = SHORT.get(top, top[:9]) + ("" if n == len(here) else f" {n}/{len(here)}")
                ax.add_patch(Rectangle((i - 0.48, j - 0.48), 0.96, 0.96, facecolor=colours[top], edgecolor="white"))
                ax.text(i, j, label, ha="center", va="center", fontsize=label_size,
                        color="white" if top != "SUPPORTED" else "black")
        ax.set_xlim(-0.5, len(xs) - 0.5)
        ax.set_ylim(-0.5, len(ys) - 0.5)
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys] if y else [])
        ax.set_xlabel(xlabel or x)
        if y and p == 0:  # the panels share the y axis: one label, so that it never runs into the next panel
            ax.set_ylabel(ylabel or y)
        ax.set_title(panel_title, fontsize=9)
    handles = [Patch(facecolor=c, edgecolor="none", label=v) for v, c in colours.items()]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(bottom=min(0.28, 0.8 / height))  # room for the x labels and the legend: about 0.8 in
    return fig


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def value_plot_png(series: dict, *, xlabel: str, ylabel: str, title: str = "", logy: bool = False,
                   logx: bool = False) -> bytes:
    """``series``: label -> [(x, y, error or None), ...]; error bars where given; the legend sits to the
    right of the axes so that it never covers a point."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    for k, (label, pts) in enumerate(series.items()):
        pts = sorted(p for p in pts if p[0] is not None and p[1] is not None)
        if not pts:
            continue
        errs = [0.0 if p[2] is None else p[2] for p in pts]
        # the colour cycle has 10 colours: the marker changes with each further 10 series, so no two look alike
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=errs if any(errs) else None,
                    marker=_MARKERS[(k // 10) % len(_MARKERS)], ms=3.5, lw=1, capsize=2, label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    xs = [p[0] for pts in series.values() for p in pts if p[0] is not None]
    if not logx and xs and all(float(x).is_integer() for x in xs):  # d, M, n: integer ticks only
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title or f"{ylabel} against {xlabel}", fontsize=9)
    return _png(fig)
