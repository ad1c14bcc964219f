"""A non-editable install carries what the harness reads at run time: the task
registry, the report's tables, the demo sets and the generation prompt files."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_ships_tasks_paper_tables_and_data(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("janus_eval-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    tasks = {p.name for p in (ROOT / "tasks").glob("*.yaml")}
    assert tasks and {f"janus_eval/tasks/{t}" for t in tasks} <= names
    assert "janus_eval/paper_tables/janus_pro.csv" in names
    demos = {p.name for p in (ROOT / "janus_eval/demo").glob("*.parquet")}
    assert {f"janus_eval/demo/{d}" for d in demos} <= names
    assert "janus_eval/data_files/geneval/evaluation_metadata.jsonl" in names
    assert "janus_eval/data_files/dpg_bench/prompts.jsonl" in names
