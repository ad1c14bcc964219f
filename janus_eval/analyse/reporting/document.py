"""The report's document: what the HTML and markdown renderers draw (below them, so
renderers import it and the report module builds it; nothing imports back up)."""

from __future__ import annotations

from dataclasses import dataclass, field

from janus_eval.analyse.reporting.collect import Board, Key
from janus_eval.analyse.reporting.samples import FailureSet, Gallery
from janus_eval.analyse.reporting.tables import Table


@dataclass
class PlotFile:
    title: str
    png: bytes
    path: str  # relative to the report folder


@dataclass
class Section:
    index: int
    task: str
    kind: str
    headline: Key
    detail: Table
    plots: list[PlotFile] = field(default_factory=list)
    failures: list[FailureSet] = field(default_factory=list)
    galleries: list[Gallery] = field(default_factory=list)


@dataclass
class ReportData:
    board: Board
    leaderboard: Table
    runs: Table
    sections: list[Section]
    generated: str
    notes: list[str] = field(default_factory=list)
    thumb_paths: dict[int, str] = field(default_factory=dict)  # id(thumb) -> file, for the markdown
