"""A terminal progress bar for long work: drawn only on a terminal, silent under --quiet or a pipe.

    [#########...........]  45/100 cells  12.3 s  eta 15.0 s

Examples
--------
>>> import io
>>> bar = ProgressBar(3, label="cells", stream=io.StringIO())  # not a terminal: draws nothing
>>> bar.enabled
False
>>> bar.update(); bar.close(); bar.done
1
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 24
_MIN_INTERVAL_S = 0.1


class ProgressBar:
    """Progress of ``total`` units of work, drawn in place on ``stream`` (stderr by default).

    Enabled only when ``quiet`` is False and ``stream.isatty()``; ``force=True`` draws anyway (tests).
    """

    def __init__(self, total: int, *, label: str = "cells", quiet: bool = False, stream: TextIO | None = None,
                 force: bool = False, initial: int = 0) -> None:
        self.total = max(int(total), 0)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(force or (not quiet and callable(isatty) and isatty()))
        self.done = int(initial)
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._drawn_done = -1
        self._closed = False
        self._draw(force=True)

    def _line(self) -> str:
        frac = 1.0 if self.total == 0 else min(self.done / self.total, 1.0)
        filled = int(round(frac * _WIDTH))
        elapsed = time.monotonic() - self._start
        eta = ""
        if 0 < self.done < self.total and elapsed > 0:
            eta = f"  eta {elapsed / self.done * (self.total - self.done):.1f} s"
        return f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {self.done:>{len(str(self.total))}}/{self.total} {self.label}  {elapsed:.1f} s{eta}"

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < _MIN_INTERVAL_S:
            return
        self._last_draw = now
        self._drawn_done = self.done
        self.stream.write("\r" + self._line() + "\033[K")
        self.stream.flush()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.done += int(n)
        self._draw(force=self.done >= self.total)

    def close(self) -> None:
        """Finish the line (newline) if anything was drawn."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            if self._drawn_done != self.done:
                self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
