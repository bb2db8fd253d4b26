r"""LaTeX form of a report: a standalone document that compiles with ``pdflatex``.

It holds one compact table per result kind (the kind's own choice of columns, every number with its
bound), the findings, and the citation block.  Packages: geometry, booktabs, amsmath (stated
in the first lines, for copying the tables into a paper).

Examples
--------
>>> latex_escape("a_b & 50% #1 >= 2")
'a\\_b \\& 50\\% \\#1 $\\ge$ 2'
"""

from __future__ import annotations

import re
import textwrap

from numerics.evidence.reports.citation import citation_text
from numerics.evidence.reports.content import ReportContent
from numerics.evidence.reports.model import Table

PACKAGES = ("geometry", "booktabs", "amsmath", "graphicx")
_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": "$<$", ">": "$>$",
            "|": r"$|$", "≥": r"$\ge$", "≤": r"$\le$", "±": r"$\pm$", "β": r"$\beta$", "κ": r"$\kappa$",
            "ρ": r"$\rho$", "σ": r"$\sigma$", "μ": r"$\mu$", "α": r"$\alpha$", "×": r"$\times$", "−": "-",
            "–": "--", "·": r"$\cdot$", "√": r"$\surd$", "∞": r"$\infty$", "ᵀ": r"$^\top$", "⁻": r"$^-$", "¹": r"$^1$",
            "²": r"$^2$", "≈": r"$\approx$", "∈": r"$\in$", "≠": r"$\ne$", "…": r"\ldots{}", "‖": r"$\|$"}
CITATION_WIDTH = 95


_PAIRS = ((">=", r"$\ge$"), ("<=", r"$\le$"), ("+-", r"$\pm$"), ("||", r"$\|$"), ("--", "-{}-"))
# Rows per tabular: a table longer than this is split into several (each breaks to a new page if needed),
# so that one pdflatex pass lays it out (longtable needs several passes to align its columns).
ROWS_PER_TABULAR = 45


def latex_escape(text: str) -> str:
    r"""Escape LaTeX's special characters in plain text (and typeset the few symbols used: >=, <=, +-, ||).

    >>> latex_escape("||m|| >= 1 +- 2") == r"$\|$m$\|$ $\ge$ 1 $\pm$ 2"
    True
    """
    s = str(text)
    out, i = [], 0
    while i < len(s):
        pair = next((r for p, r in _PAIRS if s.startswith(p, i)), None)
        if pair is not None:
            out.append(pair)
            i += 2
            continue
        ch = s[i]
        out.append(_ESCAPES.get(ch, ch if ord(ch) < 128 else "?"))
        i += 1
    return "".join(out)


# A column other than the last wraps when one of its cells is longer than WRAP_CHARS characters; the wrapped
# columns share WRAP_SHARE of the text width (the last column has 0.3 of it).
WRAP_CHARS = 48
WRAP_SHARE = 0.5


def latex_table(table: Table) -> str:
    """Booktabs ``tabular``s in small type (split every ROWS_PER_TABULAR rows), then the table's note."""
    # the last column (free text: a certificate, a reason) wraps within a fixed width; so does any other column
    # with a cell longer than WRAP_CHARS (a check's description), sharing WRAP_SHARE of the text width
    wide = [j for j in range(table.width - 1)
            if max(len(str(v)) for v in [table.headers[j], *(row[j] for row in table.rows)]) > WRAP_CHARS]
    spec = "".join(rf"p{{{WRAP_SHARE / len(wide):.2f}\textwidth}}" if j in wide else "l"
                   for j in range(table.width - 1)) + r"p{0.3\textwidth}"
    head = " & ".join(latex_escape(h) for h in table.headers) + r" \\"
    chunks = [table.rows[i:i + ROWS_PER_TABULAR] for i in range(0, len(table.rows), ROWS_PER_TABULAR)] or [()]
    lines = [r"\begin{center}\normalsize " + latex_escape(table.title) + r"\end{center}", r"\nopagebreak"]
    for k, chunk in enumerate(chunks):
        lines += [r"{\footnotesize\setlength{\tabcolsep}{3.5pt}\noindent\begin{tabular}{" + spec + "}",
                  r"\toprule", head, r"\midrule"]
        lines += [" & ".join(latex_escape(v) for v in row) + r" \\" for row in chunk]
        lines += [r"\bottomrule", r"\end{tabular}}\par"]
        if k + 1 < len(chunks):
            lines.append(r"\smallskip")
    if table.note:
        lines += [r"\smallskip{\footnotesize " + latex_escape(table.note) + r"\par}", r"\medskip"]
    return "\n".join(lines)


_ASCII = {"β": "beta", "≥": ">=", "≤": "<=", "±": "+-", "κ": "kappa", "ρ": "rho", "σ": "sigma", "μ": "mu",
          "α": "alpha", "×": "x", "−": "-", "–": "-", "·": "*", "…": "..."}


def _verbatim(text: str) -> str:
    """Text for a ``verbatim`` block: ASCII only (pdflatex's verbatim has no Unicode), wrapped to the page."""
    text = "".join(_ASCII.get(ch, ch if ord(ch) < 128 else "?") for ch in text)
    wrapped = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        wrapped += textwrap.wrap(line, CITATION_WIDTH, subsequent_indent=" " * (indent + 2),
                                 break_long_words=True, break_on_hyphens=False) or [""]
    return "\n".join(wrapped).replace("\\end{verbatim}", "\\end {verbatim}")


_RATIO = re.compile(r"^measured / predicted = (\S+) \(95% CI (\S+?)\.\.(\S+?);")


def _ratio_of(detail: str) -> str:
    """'1.0316 [1.0078, 1.0554]' from a finding's 'measured / predicted = 1.0316 (95% CI 1.0078..1.0554; ...', else '-'.

    >>> _ratio_of("measured / predicted = 1.0316 (95% CI 1.0078..1.0554; prediction: 1); more")
    '1.0316 [1.0078, 1.0554]'
    >>> _ratio_of("max |z| = 2.01")
    '-'
    """
    m = _RATIO.match(detail or "")
    return f"{m.group(1)} [{m.group(2)}, {m.group(3)}]" if m else "-"


def _figure(fig) -> str:
    """A report PNG (written next to report.tex) with its caption, not floating; a note if the PNG is absent, so the
    .tex still compiles on its own."""
    name = latex_escape(fig.name)
    return (r"\begin{center}\IfFileExists{" + fig.name + r"}{\includegraphics[width=0.9\linewidth,"
            r"height=0.4\textheight,keepaspectratio]{" + fig.name + r"}}{\fbox{figure " + name
            + r" (not next to this file)}}\par{\small " + latex_escape(fig.caption) + r"}\end{center}")


def latex_report(content: ReportContent) -> str:
    """The whole document."""
    tables = [k.compact for k in content.kinds if k.compact is not None]
    # a report-level section (a study computed outside the store) may bring its own compact table
    tables += [s.compact for s in content.sections if s.compact is not None]
    if content.all_findings:
        tables.insert(0, Table("Findings", ("check", "verdict", "measured / predicted (95% CI)"),
                               tuple((f.name, f.verdict, _ratio_of(f.detail)) for f in content.all_findings),
                               "Ratio: the pooled measured / predicted of the check ('-': a check without a ratio); "
                               "the evidence behind each finding is in report.html and report.md."))
    summary = [latex_escape(f"{t.kind}: {t.text()}") for t in content.tallies]
    summary += [latex_escape(f"Normalisation: {n}") for n in content.normalisations]
    body = [
        f"% {content.title} -- generated by twolayer; report {content.report_id}, results {content.content_hash}",
        "% Standalone: pdflatex report.tex. To copy a table into a paper, load: " + ", ".join(PACKAGES),
        r"\documentclass[10pt]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{booktabs,amsmath,graphicx}",
        r"\begin{document}",
        r"\section*{" + latex_escape(content.title) + "}",
        (latex_escape(content.description) + r"\par\smallskip") if content.description else "",
        r"\noindent Report \texttt{" + latex_escape(content.report_id) + r"}; "
        + f"{len(content.records)} cells." + r"\par",
        *(r"\noindent " + s + r"\par" for s in summary),
        r"\medskip",
        *(latex_table(t) for t in tables),
        *(_figure(f) for f in content.figures),
        r"\subsection*{How to cite this evidence}",
        r"{\footnotesize\begin{verbatim}",
        _verbatim(citation_text(content)),
        r"\end{verbatim}}",
        r"\end{document}",
        "",
    ]
    return "\n".join(b for b in body if b != "")
