"""Progress a user (or a CI log) can read: a bar on a terminal, plain lines elsewhere.

A tqdm bar rewrites one line with carriage returns; in a log file that is one growing line
and its final state printed twice. So the bar is drawn only when stderr is a terminal and
progress is on; otherwise (`--no-progress`, a pipe, a CI job) a plain line is written when
the phase starts, every `$JANUS_EVAL_PROGRESS_EVERY` seconds (default 30) and when it ends,
so a long job shows it is alive.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType
from typing import Any, TextIO

DEFAULT_EVERY_S = 30.0


def say(line: str, stream: TextIO | None = None) -> None:
    """One status line on stderr (through tqdm when a bar is being drawn, so it is not torn)."""
    from tqdm import tqdm

    tqdm.write(line, file=stream or sys.stderr)


def every_s() -> float:
    """Seconds between plain progress lines: $JANUS_EVAL_PROGRESS_EVERY, else 30."""
    try:
        return float(os.environ.get("JANUS_EVAL_PROGRESS_EVERY", DEFAULT_EVERY_S))
    except ValueError:
        return DEFAULT_EVERY_S


class PlainProgress:
    """tqdm's `update` / context-manager interface, writing a line per `every` seconds."""

    def __init__(self, total: int, desc: str, unit: str, stream: TextIO | None = None, every: float | None = None):
        self.total, self.desc, self.unit = total, desc, unit
        self.stream = stream or sys.stderr
        self.every = every_s() if every is None else every
        self.n = 0
        self.started = self.last = time.monotonic()
        if total:
            self._line(f"{desc}: {total} {unit}s to go")

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.every and self.n < self.total:
            self.last = now
            rate = self.n / max(now - self.started, 1e-9)
            left = (self.total - self.n) / rate if rate > 0 else float("nan")
            unit = self.unit
            self._line(f"{self.desc}: {self.n}/{self.total} {unit}s, {rate:.2f} {unit}s/s, ~{left:.0f} s left")

    def close(self) -> None:
        if self.total:
            elapsed = time.monotonic() - self.started
            self._line(f"{self.desc}: {self.n}/{self.total} {self.unit}s in {elapsed:.1f} s")

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()


def progress(total: int, desc: str, unit: str, enabled: bool = True) -> Any:
    """A bar (terminal, progress on) or plain lines (otherwise) over `total` units; nothing
    at all for nothing to do (a fully resumed task)."""
    if enabled and total and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True)
    return PlainProgress(total, desc, unit)
