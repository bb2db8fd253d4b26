"""Log-log PNG plots of a rate check: measured points with 95% error bars and the predicted line.

Rendered with matplotlib's Agg canvas on a private Figure (no global pyplot state).  The legend sits to
the right of the axes, outside them, so that it never covers a point; points <= 0 cannot be drawn on a
log scale and are left out (``loglog_png`` counts them: ``omitted_points``).

Examples
--------
>>> png = loglog_png([{"label": "d = 8", "x": [10, 100], "y": [0.1, 0.01], "se": [0.01, 0.001],
...                    "predicted": [0.1, 0.01]}], title="demo", xlabel="N", ylabel="bias")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> omitted_points([{"x": [1, 2], "y": [0.5, -0.1]}])
1
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from numerics.estimates import Z95

_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
# One marker per series (filled, then hollow), so that coinciding points of two series stay visible.
_MARKERS = [("o", True), ("s", False), ("^", True), ("D", False), ("v", True), ("P", False), ("X", True)]
TITLE_WIDTH = 80
DPI = 100


def omitted_points(series: list[dict]) -> int:
    """How many measured points a log-log plot cannot show (y <= 0 or not finite)."""
    return int(sum(np.count_nonzero(~(np.asarray(s["y"], dtype=float) > 0)) for s in series))


def loglog_png(series: list[dict], *, title: str, xlabel: str, ylabel: str,
               reference_slope: float | None = None, point_label: str = "measured") -> bytes:
    """One PNG: each series' points (error bars = 1.96 se, clipped at zero) and, if given, its predicted line.

    ``series``: dicts with ``label``, ``x``, ``y``, ``se`` and ``predicted`` (a list, or None); a
    ``reference_slope`` draws a dashed line of that slope through the first series' geometric mean;
    ``point_label`` names the points in the legend ('measured', or 'computed' for deterministic values)."""
    fig = Figure(figsize=(6.4, 3.8), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for k, s in enumerate(series):
        colour = _COLOURS[k % len(_COLOURS)]
        marker, filled = _MARKERS[k % len(_MARKERS)]
        x = np.asarray(s["x"], dtype=float)
        y = np.asarray(s["y"], dtype=float)
        se = np.nan_to_num(np.asarray(s["se"], dtype=float), nan=0.0)
        keep = y > 0
        lower = np.minimum(Z95 * se, y * 0.999)
        ax.errorbar(x[keep], y[keep], yerr=[lower[keep], (Z95 * se)[keep]], fmt=marker, ms=5, color=colour, capsize=3,
                    mfc=colour if filled else "none", label=f"{s['label']}, {point_label}")
        if s.get("predicted") is not None:
            order = np.argsort(x)
            pred = np.asarray(s["predicted"], dtype=float)[order]
            ax.plot(x[order], pred, "-", color=colour, alpha=0.7, label=f"{s['label']}, predicted")
    if reference_slope is not None and series:
        x0 = np.asarray(series[0]["x"], dtype=float)
        y0 = np.asarray(series[0]["y"], dtype=float)
        if np.any(y0 > 0):
            xs = np.array([x0.min(), x0.max()])
            anchor = float(np.exp(np.mean(np.log(y0[y0 > 0]))))
            xm = float(np.exp(np.mean(np.log(x0[y0 > 0]))))
            ax.plot(xs, anchor * (xs / xm) ** reference_slope, "k--", alpha=0.5,
                    label=f"slope {reference_slope:g} (reference)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("\n".join(textwrap.wrap(title, TITLE_WIDTH)), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, borderaxespad=0.0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
