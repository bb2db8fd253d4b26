"""Phase diagram of verdicts over (M, d): one panel per beta-sign mode, one coloured square per cell."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from conjecture.verdict import Verdict  # noqa: E402

COLOURS = {
    Verdict.PROVEN.value: "#1a9850",
    Verdict.SUPPORTED.value: "#91cf60",
    Verdict.REFUTED.value: "#d73027",
    Verdict.NOT_APPLICABLE.value: "#bdbdbd",
    Verdict.INCONCLUSIVE.value: "#fee08b",
}


def phase_plot(cells: list[dict], path: str | Path, *, title: str) -> Path:
    """Write a PNG with verdict_nonneg and verdict_signed over the (d, M) grid; returns the path.

    Examples
    --------
    >>> import tempfile, os
    >>> cells = [{"params": {"M": 2, "d": 1}, "verdict_nonneg": "PROVEN", "verdict_signed": "SUPPORTED"}]
    >>> p = phase_plot(cells, os.path.join(tempfile.mkdtemp(), "x.png"), title="t")
    >>> p.stat().st_size > 0
    True
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, key, label in ((axes[0], "verdict_nonneg", "beta >= 0"), (axes[1], "verdict_signed", "beta signed")):
        for c in cells:
            M, d = c["params"]["M"], c["params"]["d"]
            ax.add_patch(plt.Rectangle((d - 0.45, M - 0.45), 0.9, 0.9, color=COLOURS.get(c[key], "white")))
        Ms = [c["params"]["M"] for c in cells]
        ds = [c["params"]["d"] for c in cells]
        ax.set_xlim(min(ds) - 0.6, max(ds) + 0.6)
        ax.set_ylim(min(Ms) - 0.6, max(Ms) + 0.6)
        ax.plot([min(ds) - 1, max(ds) + 1], [min(ds), max(ds) + 2], "k--", lw=0.8)  # M = d + 1
        ax.set_xticks(range(min(ds), max(ds) + 1))
        ax.set_yticks(range(min(Ms), max(Ms) + 1))
        ax.set_xlabel("d")
        ax.set_title(label)
    axes[0].set_ylabel("M")
    handles = [Patch(color=v, label=k) for k, v in COLOURS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle(title + "   (dashed: M = d + 1)")
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
