"""The orientation map as a figure: alignment of the best ETF orientation against kappa_4, and the gain of the free
optimum over it, one panel pair per M and one line per d (PNG bytes, matplotlib's Agg canvas, no pyplot state).

Examples
--------
>>> rows = [{"M": 3, "d": 3, "kappa4": k, "alignment": a, "gain_rel": g, "optimum": o}
...         for k, a, g, o in ((-2.0, 0.2, 1e-4, "deformed"), (1.0, 0.9, 0.0, "ETF"))]
>>> orientation_png(rows)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
from typing import Sequence

# Okabe-Ito colours, one per d (colour-blind safe).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DPI = 100
# Gains below this (relative to C_target) are drawn on the linear part of the symmetric-log axis.
GAIN_LINEAR = 1e-8


def _marker(optimum: str, colour: str) -> dict:
    if optimum == "ETF":
        return {"marker": "o", "color": colour, "mfc": colour, "ms": 6}
    if optimum == "deformed":
        return {"marker": "o", "color": colour, "mfc": "white", "ms": 6}
    return {"marker": "x", "color": "0.45", "ms": 6}


def _short(law: str) -> str:
    """A short axis label for a law name."""
    if law.startswith("sparse_rademacher(") and law.endswith(")"):
        return "p=" + law[len("sparse_rademacher("):-1]
    return {"rademacher": "Rad.", "uniform": "unif."}.get(law, law[:10])


def orientation_png(rows: Sequence[dict], *, title: str = "") -> bytes:
    """Top: axis alignment of the best ETF orientation (0: rows on cube diagonals, 1: on axes; mean over the rows
    and, as a bar, their range) against kappa_4;
    bottom: (F_ETF - F_free) / C_target. Laws are evenly spaced in the order of kappa_4. Filled markers: the optimum
    is the ETF; open: a deformed frame beats it; crosses: unresolved (the cubature's error is not small against the
    gain)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    Ms = sorted({r["M"] for r in rows})
    fig = Figure(figsize=(4.4 * len(Ms) + 1.4, 7.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(Ms), squeeze=False, sharex=True)
    # laws at evenly spaced positions in the order of kappa_4, labelled with kappa_4 and the law
    laws = sorted({(r["kappa4"], r.get("law", "")) for r in rows})
    pos = {law: i for i, law in enumerate(laws)}
    where = lambda r: pos[(r["kappa4"], r.get("law", ""))]  # noqa: E731
    top_gain = max([r["gain_rel"] for r in rows] + [GAIN_LINEAR])
    for col, M in enumerate(Ms):
        top, bottom = axes[0][col], axes[1][col]
        ds = sorted({r["d"] for r in rows if r["M"] == M})
        for i, d in enumerate(ds):
            pts = sorted((r for r in rows if r["M"] == M and r["d"] == d), key=where)
            colour = COLOURS[i % len(COLOURS)]
            x = [where(r) + 0.06 * (i - (len(ds) - 1) / 2) for r in pts]  # a small offset per d
            top.plot(x, [r["alignment"] for r in pts], "-", color=colour, lw=1.2, label=f"d = {d}")
            bottom.plot(x, [max(r["gain_rel"], 0.0) for r in pts], "-", color=colour, lw=1.2)
            for xi, r in zip(x, pts):
                lo, hi = r.get("alignment_range", (r["alignment"], r["alignment"]))
                top.plot([xi] * 2, [lo, hi], "-", color=colour, lw=3, alpha=0.35)
                style = _marker(r["optimum"], colour)
                top.plot([xi], [r["alignment"]], **style)
                bottom.plot([xi], [max(r["gain_rel"], 0.0)], **style)
        top.set_title(f"M = {M}")
        top.set_ylim(-0.05, 1.05)
        bottom.set_yscale("symlog", linthresh=GAIN_LINEAR)
        bottom.set_ylim(0, 3 * top_gain)
        bottom.set_xlabel("fourth cumulant kappa_4 of the entries (law)")
        top.legend(fontsize=8, loc="best")
        top.grid(alpha=0.3)
        bottom.grid(alpha=0.3)
        bottom.set_xticks(range(len(laws)))
        bottom.set_xticklabels([f"{k:.3g}\n{_short(name)}" for k, name in laws], fontsize=7)
    axes[0][0].set_ylabel("axis alignment of the best ETF orientation\n(0: cube diagonals, 1: coordinate axes;"
                          "\nmarker: mean over rows, bar: range)")
    axes[1][0].set_ylabel("(F_ETF - F_best frame) / C_target")
    handles = [Line2D([], [], ls="", label="optimum is the ETF", **_marker("ETF", "0.3")),
               Line2D([], [], ls="", label="a deformed frame is better", **_marker("deformed", "0.3")),
               Line2D([], [], ls="", label="unresolved (cubature error > gain / 10)", **_marker("unresolved", "0.3"))]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=9)
    fig.suptitle(title or "Regime III: best ETF orientation against the entries' fourth cumulant (abar = 1)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
