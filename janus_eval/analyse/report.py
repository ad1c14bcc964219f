"""`janus-eval report RUN_DIR... -o DIR`: the leaderboard of runs beside the Janus-Pro report.

Writes, reading the runs only through the run store:
- `DIR/leaderboard.html`: one self-contained page (inline CSS, images as data URIs,
  no script, a Content-Security-Policy that forbids scripts and remote loads);
- `DIR/leaderboard.md` with its images in `DIR/leaderboard_files/`;
- `DIR/leaderboard.csv`: the long table, one row per run (or paper model) and
  task/metric/subset, with the paper's value and the delta.

Every string a model wrote, and every string from a run folder, is escaped.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from janus_eval.analyse.reporting import plots as plotting
from janus_eval.analyse.reporting.collect import Board, collect
from janus_eval.analyse.reporting.document import PlotFile, ReportData, Section
from janus_eval.analyse.reporting.page_html import render_html
from janus_eval.analyse.reporting.page_md import render_markdown
from janus_eval.analyse.reporting.samples import failures, gallery
from janus_eval.analyse.reporting.tables import detail, leaderboard, runs
from janus_eval.core.files import atomic_write_text, csv_text

ASSETS = "leaderboard_files"


def gather(board: Board, failure_limit: int = 50, gallery_limit: int = 24) -> ReportData:
    notes = []
    can_plot = plotting.available()
    if not can_plot:
        notes.append("plots left out: matplotlib is not installed (pip install matplotlib)")
    partial = [r for r in board.runs if r.info.partial]
    if partial:
        notes.append(
            f"{', '.join(r.label for r in partial)}: partial run(s), on a selection of each task's samples "
            "(the label says which: --limit, --offset, --sample-id); their numbers are not the whole benchmark's"
        )
    demo = [r.label for r in board.runs if r.info.demo]
    if demo:
        notes.append(
            f"{', '.join(demo)}: demo run(s), on the shipped sample sets with random-weight judges; "
            "their numbers test the pipeline, not a model, and are never set against the paper"
        )
    sections = []
    n_plot = 0
    for i, task in enumerate(board.tasks, start=1):
        sec = Section(i, task, board.kinds[task], board.headline[task], detail(board, task))
        if can_plot:
            for make in (plotting.headline_plot, plotting.breakdown_plot):
                plot = make(board, task)
                if plot is not None:
                    n_plot += 1
                    sec.plots.append(PlotFile(plot.title, plot.png, f"{ASSETS}/plot-{n_plot:02d}.png"))
        for run in board.runs:
            if task not in run.info.store.tasks():
                continue
            if sec.kind == "generation":
                sec.galleries.append(gallery(run, task, gallery_limit))
            else:
                sec.failures.append(failures(run, task, failure_limit))
        sections.append(sec)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return ReportData(board, leaderboard(board), runs(board), sections, stamp, notes)


def _write_assets(data: ReportData, out: Path) -> None:
    assets = out / ASSETS
    if assets.exists():
        shutil.rmtree(assets)  # the report's own folder of images: stale files would mislead
    assets.mkdir(parents=True)
    for sec in data.sections:
        for plot in sec.plots:
            (out / plot.path).write_bytes(plot.png)
    n = 0
    for sec in data.sections:
        for gal in sec.galleries:
            for item in gal.items:
                for thumb in item.thumbs:
                    if thumb.data is not None:
                        n += 1
                        rel = f"{ASSETS}/thumb-{n:04d}.jpg"
                        (out / rel).write_bytes(thumb.data)
                        data.thumb_paths[id(thumb)] = rel


def build_report(
    run_dirs: list[Path],
    out_dir: Path,
    *,
    failure_limit: int = 50,
    gallery_limit: int = 24,
    paper: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Path]:
    """Write the leaderboard of `run_dirs` into `out_dir`; returns the paths written by kind.
    Every value gets its 95% interval (`n_boot` resamples, `seed`) from the runs' stored records."""
    board = collect([Path(p) for p in run_dirs], paper, n_boot, seed)
    data = gather(board, failure_limit, gallery_limit)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_assets(data, out)
    paths = {"html": out / "leaderboard.html", "md": out / "leaderboard.md", "csv": out / "leaderboard.csv"}
    atomic_write_text(paths["csv"], csv_text(board.long()))  # formula-like text neutralised
    atomic_write_text(paths["md"], render_markdown(data))
    atomic_write_text(paths["html"], render_html(data))
    for path in paths.values():
        path.chmod(0o644)  # a report is for reading (the atomic writer leaves 0600)
    return paths
