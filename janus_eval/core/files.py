"""The one atomic write: a file appears whole under its name or not at all.

A killed run never leaves half a manifest, image or download behind: the bytes
go to a temporary file beside the target, are flushed to disk, and replace the
target in one rename.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from janus_eval.core.errors import UsageError


def atomic_write(path: Path, write: Callable[[IO[bytes]], None], suffix: str = "") -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix or ".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    atomic_write(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def check_writable(folder: Path, option: str = "--output") -> None:
    """Before any work: `folder` (or, where it does not exist yet, the nearest folder above it)
    and the folders directly inside it take new files; else a UsageError naming the folder.
    A folder without any write bit counts as read-only even for root (as `rm` asks before
    removing a write-protected file): someone protected it, e.g. a finished baseline run."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {folder}: {existing} is a file, not a folder; give another {option}")
    folders = [existing]
    if existing == folder:
        folders += sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
    for d in folders:
        if not os.access(d, os.W_OK | os.X_OK) or not d.stat().st_mode & 0o222:
            raise UsageError(
                f"{option} {folder}: the folder {d} is read-only; make it writable or give another {option}"
            )


# A CSV cell a spreadsheet would run as a formula (OWASP, "CSV Injection"): text starting with one
# of these gets a leading `'`; so does text starting with `'`, so `from_csv_cell` undoes it exactly.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def to_csv_cell(value):
    """A text cell made safe for a spreadsheet; numbers and everything else unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def from_csv_cell(value):
    """The text `to_csv_cell` was given."""
    return value[1:] if isinstance(value, str) and value.startswith("'") else value


def csv_text(frame) -> str:
    """`frame` (a pandas DataFrame) as CSV text, every text cell through `to_csv_cell`: each CSV
    the harness writes from model or dataset text goes through here."""
    from pandas.api.types import is_numeric_dtype

    safe = frame.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column]):  # text: object or pandas' string dtype
            safe[column] = safe[column].map(to_csv_cell)
    return safe.to_csv(index=False)
