"""A read-only --output (new run, resume of a finished run, score, report -o) is one line naming
the folder and exit 2, checked before any work; the finished run is left untouched (issue 16).
Tests run as root here, so read-only means no write bit (which janus-eval honours even for root)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from conftest import run_subprocess

RO = stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH


def snapshot(folder):
    return {
        p.relative_to(folder): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def set_tree_mode(folder, read_only: bool):
    for p in [folder, *folder.rglob("*")]:
        if p.is_dir():
            p.chmod(RO if read_only else 0o755)
        else:
            p.chmod(0o444 if read_only else 0o644)


def one_line(proc, *needles):
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "read-only" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])


@pytest.fixture
def finished_run(tmp_path, cli):
    code, out, err = cli(
        "run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", tmp_path / "results",
        "--run-id", "done", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    root = tmp_path / "results" / "done"
    yield root
    set_tree_mode(tmp_path / "results", read_only=False)


def test_new_run_into_a_read_only_folder(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(RO)
    try:
        proc = run_subprocess("run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--output", out, timeout=180)
        one_line(proc, out, "--output")
        assert not any(out.iterdir())
    finally:
        out.chmod(0o755)


def test_resume_score_and_report_into_read_only_folders(tmp_path, finished_run):
    results = finished_run.parent
    set_tree_mode(results, read_only=True)
    before = snapshot(results)
    proc = run_subprocess(
        "run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", results,
        "--run-id", "done", "--no-progress", timeout=180,
    )  # fmt: skip
    one_line(proc, finished_run)

    row = {"question_id": "1", "question": "q", "answer": "yes", "category": "random", "prediction": "Yes"}
    samples = tmp_path / "s.jsonl"
    samples.write_text(json.dumps(row) + "\n")
    one_line(run_subprocess("score", "--task", "pope", samples, "--output", results, timeout=120), results)

    report_dir = tmp_path / "report"
    report_dir.mkdir()
    report_dir.chmod(RO)
    try:
        one_line(run_subprocess("report", finished_run, "-o", report_dir, timeout=120), report_dir, "-o")
        assert not any(report_dir.iterdir())
    finally:
        report_dir.chmod(0o755)
    assert snapshot(results) == before  # the finished run untouched
    assert os.access(samples, os.R_OK)


def test_resume_removes_a_failed_writes_temp_file(tmp_path, cli, finished_run):
    samples = finished_run / "pope" / "samples.jsonl"
    before = samples.read_bytes()
    stale = finished_run / "pope" / ".samples.jsonl.k2j3h4.part"
    stale.write_bytes(before[: len(before) // 2])  # what a full disk leaves mid-write
    code, out, err = cli(
        "run", "--tasks", "pope", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", finished_run.parent,
        "--run-id", "done", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert not stale.exists() and samples.read_bytes() == before


def test_compare_output_into_a_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(RO)
    try:
        one_line(run_subprocess("compare", "a", "b", "--output", ro / "compare.md", timeout=120), ro)
    finally:
        ro.chmod(0o755)
