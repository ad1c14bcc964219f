"""DPG-Bench's question file `dpg_bench.csv`: a local path, the cache, or one download.

The file lives in github.com/TencentQQGYLab/ELLA (`dpg_bench/dpg_bench.csv`); it
is fetched from the commit that added it (core/download.fetch: resumed when cut) and
checked against its git blob id, so a changed or truncated download is refused. The blob
id is the only hash of that file upstream publishes (git's own), so it is the pin rather
than a sha256. `--demo` runs use the small hand-written question file shipped with the
demo prompts instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from janus_eval.core.download import fetch
from janus_eval.core.errors import UsageError
from janus_eval.core.paths import cache_root

DPG_CSV_URL = "https://raw.githubusercontent.com/TencentQQGYLab/ELLA/1cf31cea8230376ea51012b61352e61c402f64ed/dpg_bench/dpg_bench.csv"
DPG_CSV_BLOB = "98457fc9901943f51ff9a30367250fc292533bed"  # git blob id of that file
DEMO_CSV = Path(__file__).resolve().parent / "demo_questions.csv"


def cached_csv_path() -> Path:
    return cache_root() / "dpg_bench" / "dpg_bench.csv"


def resolve_dpg_csv(
    path: str | os.PathLike | None = None,
    *,
    demo: bool = False,
    url: str = DPG_CSV_URL,
    blob: str = DPG_CSV_BLOB,
) -> Path:
    """The question file to score with: `path` if given, the demo file for demo runs, else the
    cached download (downloading it once when missing; a cached copy got there verified)."""
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise UsageError(f"--dpg-csv {p} does not exist; pass the path of DPG-Bench's dpg_bench.csv")
        return p
    if demo:
        return DEMO_CSV
    cached = cached_csv_path()
    if cached.is_file():
        return cached
    return fetch(
        url, cached, git_blob=blob, what="DPG-Bench's question file dpg_bench.csv", hint="or pass --dpg-csv PATH"
    )
