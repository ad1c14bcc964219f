"""A non-editable install carries what the harness reads at run time: the task
registry (one folder per benchmark), the report's tables, the demo sets, the generation
prompt files and the HTML report's template."""

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
    folders = [p.parent.name for p in (ROOT / "janus_eval/tasks").glob("*/task.yaml")]
    assert len(folders) == 9
    for task in folders:  # each benchmark's folder: its YAML, scorer and demo set
        for part in ("task.yaml", "scorer.py", "__init__.py", "demo.parquet"):
            assert f"janus_eval/tasks/{task}/{part}" in names, (task, part)
    assert "janus_eval/tasks/groups.yaml" in names
    assert "janus_eval/paper_tables/janus_pro.csv" in names
    assert "janus_eval/tasks/geneval/data/evaluation_metadata.jsonl" in names
    assert "janus_eval/tasks/dpgbench/data/prompts.jsonl" in names
    assert "janus_eval/tasks/dpgbench/demo_questions.csv" in names
    assert "janus_eval/score/judges/geneval_object_names.txt" in names
    assert "janus_eval/analyse/reporting/templates/leaderboard.html.j2" in names  # the HTML report's page
    assert "janus_eval/analyse/reporting/templates/leaderboard.css" in names


def test_the_package_list_names_every_package():
    """pyproject's explicit package list (needed beside the paper tables' mapping) misses none."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "janus_eval").rglob("__init__.py")}
    assert found | {"janus_eval.paper_tables"} == listed
