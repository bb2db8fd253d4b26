"""The pieces every report form renders: tables of text cells, figures, sections and verdict tallies.

A result kind turns its stored cells into a ``KindContent`` (see ``kinds``); the HTML, Markdown, LaTeX
and citation writers only lay these pieces out, so they cannot disagree on a number or a count.
Every number in a ``Table`` is already text with its error bound or tolerance.

Examples
--------
>>> t = Table("ETF values", ("M", "q(M)"), (("2", "4 (exact)"),))
>>> t.width, VerdictTally("cell", "signed", {"PROVEN": 2}).text()
(2, 'signed: 2 PROVEN')
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; ``note`` says what the numbers are and how they are bounded."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""

    @property
    def width(self) -> int:
        return len(self.headers)


@dataclass(frozen=True)
class Figure:
    """One figure: a file name, a caption and PNG bytes."""

    name: str
    caption: str
    png: bytes = field(repr=False)


@dataclass(frozen=True)
class Section:
    """A titled part of a report: paragraphs, tables and figures."""

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    compact: "Table | None" = None  # a narrower table for LaTeX (a study outside the store has no kind of its own)


@dataclass(frozen=True)
class VerdictTally:
    """How many cells of one kind got each verdict in one verdict column, and which were certified."""

    kind: str
    column: str
    counts: dict
    certified: tuple[str, ...] = ()

    def text(self) -> str:
        """'beta >= 0: 3 PROVEN, 1 NOT_APPLICABLE' (largest count first)."""
        parts = ", ".join(f"{n} {v}" for v, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return f"{self.column}: {parts or 'no cells'}"


@dataclass(frozen=True)
class Finding:
    """A report-level verdict that is not one cell's (e.g. a rate check pooled over many cells)."""

    name: str
    verdict: str
    detail: str

    def as_dict(self) -> dict:
        """{name, verdict, detail}: how every JSON form (report.json, --json) states it."""
        return {"name": self.name, "verdict": self.verdict, "detail": self.detail}


@dataclass(frozen=True)
class PaperSource:
    """The paper whose claims a result kind checks: the line the citation block prints, its BibTeX key and entry."""

    text: str
    key: str
    bibtex: tuple[str, ...]


AMANI_2022 = PaperSource(
    "Amani, Bombari, Mondelli, Pukdee, Rini, ITW 2022, arXiv:2205.08199", "amani2022sharp",
    ("@inproceedings{amani2022sharp,",
     "  title = {Sharp asymptotics on the compression of two-layer neural networks},",
     "  author = {Amani, Mohammad Hossein and Bombari, Simone and Mondelli, Marco and Pukdee, Rattana and Rini, Stefano},",
     "  booktitle = {IEEE Information Theory Workshop (ITW)},",
     "  year = {2022},",
     "  eprint = {2205.08199},",
     "  archivePrefix = {arXiv}",
     "}"))


@dataclass(frozen=True)
class KindContent:
    """What one result kind shows: its sections, its verdict tallies, one compact table for LaTeX and
    the normalisation its values use (stated on every form)."""

    kind: str
    sections: tuple[Section, ...]
    tallies: tuple[VerdictTally, ...] = ()
    compact: Table | None = None
    normalisation: str = ""
    findings: tuple[Finding, ...] = ()
    source: PaperSource = AMANI_2022  # the paper whose claims the kind checks (cited in the citation block)
