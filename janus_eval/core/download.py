"""One way to download a file: through pooch, verified against a pinned hash, resumable.

`fetch(url, dest, sha256=...)` returns `dest` once it holds exactly the pinned file:

- Verified: the bytes must match the pinned sha256 (the full 64 hex digits, handed to pooch
  as its `known_hash`, or the prefix an upstream file name carries, as OpenMMLab's
  `..._20220504_001756-c9d0c4f2.pth`: the first 8 hex digits of the file's sha256, the check
  mmengine and torch.hub themselves make), or a git blob id where that is all upstream
  publishes. A mismatch removes the bad file and is a UsageError naming the URL, both hashes
  and the fix.
- Resumable: bytes arrive in `dest.part`. A download cut midway (a dropped connection, a
  killed process) continues from the part's size with an HTTP Range request instead of
  starting over; a server that ignores Range (200) restarts the part cleanly. pooch's own
  HTTPDownloader always starts over, so pooch gets the small `_ResumingDownloader` below.
- Visible: a tqdm bar on a terminal, plain lines in a log.
- Offline or failing: one line saying which file to put where.

A file already at `dest` is checked once more and used without a request (downloaded again
when it no longer matches).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.core.progress import every_s, say

CHUNK = 1 << 20
RESUMES = 3  # dropped connections one fetch() picks up again before it gives up


class DownloadCut(Exception):
    """The connection ended before the whole file arrived; the part is kept for a resume."""


class Pin:
    """What a download must hash to: a sha256 (full, or the prefix of at least 8 hex digits an
    upstream file name carries) or a git blob id (sha1 over `blob <size>\\0` + content)."""

    def __init__(self, sha256: str | None = None, git_blob: str | None = None):
        if (sha256 is None) == (git_blob is None):
            raise ValueError("pin a download by exactly one of sha256 or git_blob")
        value = (sha256 or git_blob or "").lower()
        length_ok = 8 <= len(value) <= 64 if sha256 is not None else len(value) == 40
        if not (length_ok and re.fullmatch(r"[0-9a-f]+", value)):
            raise ValueError(f"not a hex digest for a pin: {value!r}")
        self.kind = "sha256" if sha256 is not None else "git blob"
        self.value = value

    @property
    def full_sha256(self) -> str | None:
        """pooch's `known_hash` when the whole sha256 is pinned, else None."""
        return f"sha256:{self.value}" if self.kind == "sha256" and len(self.value) == 64 else None

    def digest(self, path: Path) -> str:
        """The file's digest of this pin's kind, cut to the pinned length (one pass over it)."""
        full = _hash_file(hashlib.sha256(), path) if self.kind == "sha256" else git_blob_id(path)
        return full[: len(self.value)]

    def matches(self, path: Path) -> bool:
        return self.digest(path) == self.value

    def __str__(self) -> str:
        prefix = " prefix" if self.kind == "sha256" and len(self.value) < 64 else ""
        return f"{self.kind}{prefix} {self.value}"


def git_blob_id(path: Path) -> str:
    """The id git gives a file's content (`git hash-object`: sha1 over `blob <size>\\0` + content)."""
    return _hash_file(hashlib.sha1(b"blob %d\0" % path.stat().st_size), path)


def _hash_file(h: Any, path: Path) -> str:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return str(h.hexdigest())


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def fetch(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    *,
    git_blob: str | None = None,
    what: str | None = None,
    hint: str = "",
    timeout: float = 60.0,
) -> Path:
    """`dest`, downloaded from `url` when missing (or no longer matching), verified against the
    pinned `sha256` (or `git_blob`). `what` names the file in messages (default: its name);
    `hint` is appended to the offline message (another way to supply the file)."""
    import pooch

    dest = Path(dest).expanduser().absolute()
    pin = Pin(sha256, git_blob)
    what = what or dest.name
    if dest.is_file():
        if pin.matches(dest):
            return dest
        say(f"{dest} does not match its pinned {pin}: downloading {what} again")
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    downloader = _ResumingDownloader(dest, pin, what, hint, timeout)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # our own lines say what happens; pooch's would repeat them
    try:
        pooch.retrieve(url, known_hash=pin.full_sha256, fname=dest.name, path=dest.parent, downloader=downloader)
    finally:
        logger.setLevel(level)
    return dest


class _ResumingDownloader:
    """pooch's `downloader(url, output_file, pooch)`: fills `dest.part`, resuming it with a
    Range request, verifies it and hands it to pooch at `output_file` (pooch's temporary file,
    which pooch moves onto `dest`)."""

    def __init__(self, dest: Path, pin: Pin, what: str, hint: str, timeout: float):
        self.dest, self.pin, self.what, self.hint, self.timeout = dest, pin, what, hint, timeout
        self.part = part_path(dest)

    def __call__(self, url: str, output_file: str, pooch: Any) -> None:
        for attempt in range(RESUMES + 1):
            before = self.part.stat().st_size if self.part.exists() else 0
            try:
                self._download(url)
                break
            except DownloadCut as exc:
                have = self.part.stat().st_size if self.part.exists() else 0
                if attempt == RESUMES or have <= before:
                    raise UsageError(
                        f"download of {self.what} from {url} stopped at {exc} ({self.part} kept): "
                        f"run again to resume, or put the file at {self.dest}"
                    ) from exc
                say(f"{self.what}: connection dropped at {have} bytes, resuming")
        got = self.pin.digest(self.part)
        if got != self.pin.value:
            self.part.unlink()
            raise UsageError(
                f"the file downloaded from {url} is not the pinned {self.what} (expected {self.pin}, "
                f"got {got}); it was removed: run again, or put a trusted copy at {self.dest}"
            )
        os.replace(self.part, output_file)

    def _download(self, url: str) -> None:
        have = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        request = urllib.request.Request(url, headers=headers)
        try:
            resp = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # the part is not a prefix the server knows: start over
                self.part.unlink()
                return self._download(url)
            raise self._failed(url, f"HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self._failed(url, f"{type(reason).__name__}: {reason}") from exc
        with resp:
            start = _resumed_at(resp, have)
            total = _total(resp, start)
            mode = "ab" if start else "wb"  # 200: the server sent the whole file, restart the part
            with open(self.part, mode) as out, _Progress(self.what, url, self.dest, start, total) as bar:
                try:
                    for block in iter(lambda: resp.read(CHUNK), b""):
                        out.write(block)
                        bar.update(len(block))
                except (http.client.IncompleteRead, OSError) as exc:
                    out.flush()
                    raise DownloadCut(f"{start + bar.n} of {total or '?'} bytes") from exc
            if total is not None and start + bar.n < total:
                raise DownloadCut(f"{start + bar.n} of {total} bytes")

    def _failed(self, url: str, reason: str) -> UsageError:
        hint = f" {self.hint}" if self.hint else ""
        return UsageError(
            f"{self.what}: download failed from {url} ({reason}); put the file at {self.dest} "
            f"(downloaded from that URL on a machine with internet){hint}"
        )


def _resumed_at(resp: Any, have: int) -> int:
    """Where the body starts in the file: `have` on a 206 answering our Range, else 0."""
    if resp.status != 206:
        return 0
    match = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
    if not match or int(match.group(1)) != have:
        raise DownloadCut(f"a Range answer starting at {match.group(1) if match else '?'}, not {have}")
    return have


def _total(resp: Any, start: int) -> int | None:
    length = resp.headers.get("Content-Length")
    return start + int(length) if length and length.isdigit() else None


class _Progress:
    """A tqdm bar over the bytes on a terminal; off one, a line at the start, one every
    `core.progress.every_s()` seconds (as every other phase's plain lines) and one at the end."""

    def __init__(self, what: str, url: str, dest: Path, start: int, total: int | None):
        self.n, self.start, self.total = 0, start, total
        self.bar: Any = None
        self.began = self.last = time.monotonic()
        self.what = what
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, unit="B", unit_scale=True, desc=what, dynamic_ncols=True)
        else:
            size = f" ({_mb(total)})" if total else ""
            resume = f", resuming at {_mb(start)}" if start else ""
            say(f"downloading {what}{size} from {url} to {dest}{resume}")

    def update(self, n: int) -> None:
        self.n += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= every_s():
            self.last = now
            of = f" of {_mb(self.total)}" if self.total else ""
            say(f"{self.what}: {_mb(self.start + self.n)}{of}")

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if self.bar is not None:
            self.bar.close()
        elif kind is None:
            say(f"{self.what}: {_mb(self.start + self.n)} in {time.monotonic() - self.began:.1f} s")


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1e6:.1f} MB"
