"""The command line as its users expect it: --version, fast --help and list, readable output."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT

HEAVY = ("torch", "transformers", "datasets", "pandas")


def imported_by(*args: str) -> list[str]:
    """The heavy modules a `janus-eval ARGS` child process has imported when it exits."""
    probe = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: print('MODULES=' + json.dumps([m for m in {HEAVY!r} if m in sys.modules])))\n"
        f"sys.argv = ['janus-eval', *{list(args)!r}]\n"
        "from janus_eval.cli import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    line = [x for x in out.stdout.splitlines() if x.startswith("MODULES=")][-1]
    return json.loads(line.removeprefix("MODULES="))


def test_version(cli):
    code, out, _ = cli("--version")
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert code == 0 and out.strip() == f"janus-eval {version}"


def test_help_and_list_import_nothing_heavy():
    """`--help`, `--version` and `list` parse before anything heavy is imported (what made
    them take seconds): torch, transformers, datasets and pandas stay out."""
    for args in (["--help"], ["run", "--help"], ["--version"], ["list", "tasks"], ["list", "models"]):
        assert imported_by(*args) == [], args


def test_ctrl_c_names_the_run_to_resume(tmp_path, cli):
    """SIGINT on a real child process: exit 130, one line saying what was kept and the command
    that resumes it; the resumed run says how many samples it kept."""
    import os
    import signal

    args = ["run", "--tasks", "pope,mme,gqa", "--model", "janus-tiny", "--demo", "--batch-size", "1",
            "--output", str(tmp_path), "--no-progress"]  # fmt: skip
    env = {**os.environ, "JANUS_EVAL_PROGRESS_EVERY": "0"}
    child = subprocess.Popen([sys.executable, "-m", "janus_eval", *args], stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    seen = []
    assert child.stderr is not None
    for line in child.stderr:
        seen.append(line)
        if re.match(r"pope: [1-9]\d*/\d+ samples", line):
            break
    child.send_signal(signal.SIGINT)
    _, rest = child.communicate(timeout=120)
    assert child.returncode == 130, "".join(seen) + rest
    last = rest.strip().splitlines()
    assert len(last) == 1 and "Traceback" not in rest, rest
    line = last[0]
    m = re.fullmatch(r"interrupted: kept pope (\d+) samples; resume with: janus-eval (run .*--run-id (\S+))", line)
    assert m, line
    kept, resume, run_id = int(m.group(1)), m.group(2).split(), m.group(3)
    assert kept >= 1 and resume[:-2] == args and (tmp_path / run_id / "pope" / "samples.jsonl").is_file()

    code, _, err = cli(*resume[:2], "pope", *resume[3:])  # the resume command, for pope only
    assert code == 0
    assert re.search(rf"^pope: {kept} of \d+ samples kept from the earlier run$", err, re.M), err


def test_help_labels_read_as_click_words(cli):
    for args in (["--help"], ["run", "--help"], ["report", "--help"], ["score", "--help"], ["list", "--help"]):
        code, out, _ = cli(*args)
        assert code == 0
        for odd in ("<bool>", "<str>", "<int", "<list[", "<path>", "{"):
            assert odd not in out, (args, odd)
    assert "RUNS..." in cli("report", "--help")[1]


def test_list_tasks_is_a_table(cli):
    code, out, _ = cli("list", "tasks")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["task", "kind", "data", "headline", "Pro-7B", "description"]
    pope = next(x for x in lines if x.startswith("pope "))
    for column in ("kind", "data", "headline", "Pro-7B"):  # aligned under the header
        start = lines[0].index(column)
        assert pope[start - 2 : start] == "  " and pope[start] != " ", column
    assert "f1/random" in pope and "87.4" in pope and "lmms-lab/POPE" in pope
    assert any(x.split()[:2] == ["group", "tasks"] for x in lines)
    code, out, _ = cli("list", "models")
    assert out.splitlines()[0].split() == ["model", "weights"]


def test_counts_print_as_counts():
    import pandas as pd

    from janus_eval.cli import summary

    scores = pd.DataFrame(
        [("mmbench", "accuracy", "", 62.5, 8), ("mmbench", "unparsed", "", 5.0, 8),
         ("dpgbench", "mode", "corrected", 1.0, 3)],
        columns=["task", "metric", "subset", "value", "n"],
    )  # fmt: skip
    scores["paper"] = scores["delta"] = float("nan")
    rows = {tuple(x.split()[:2]): x.split() for x in summary(scores).splitlines()[1:]}
    assert rows[("mmbench", "unparsed")][2] == "5" and rows[("mmbench", "accuracy")][2] == "62.50"
    assert rows[("dpgbench", "mode")][2] == "corrected"


def test_plain_progress_lines(monkeypatch):
    """Without a terminal (or with --no-progress): a line at the start, every N seconds and at
    the end, so a CI log shows life; nothing for nothing to do."""
    import io

    from janus_eval.core.progress import PlainProgress, progress

    out = io.StringIO()
    with PlainProgress(4, "pope", "sample", stream=out, every=0) as bar:
        for _ in range(4):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert lines[0] == "pope: 4 samples to go" and re.fullmatch(r"pope: 4/4 samples in \d+\.\d s", lines[-1])
    assert any(re.match(r"pope: 2/4 samples, [\d.]+ samples/s, ~\d+ s left", x) for x in lines)
    quiet = io.StringIO()
    with PlainProgress(4, "pope", "sample", stream=quiet, every=3600) as bar:
        bar.update(4)
    assert len(quiet.getvalue().splitlines()) == 2  # start and end only inside the interval
    empty = io.StringIO()
    with PlainProgress(0, "pope", "sample", stream=empty):
        pass
    assert empty.getvalue() == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert isinstance(progress(3, "pope", "sample", enabled=True), PlainProgress)  # a log: no bar


def test_every_scorer_declares_its_metrics_units():
    """Each task's scorer declares every metric it writes with a unit, and the printed form
    (core/metric.py's name sets, which need no scorer import) agrees with each declaration."""
    from janus_eval.core.metric import COUNT_METRICS, TEXT_METRICS
    from janus_eval.tasks.registry import get_metrics, task_names

    for name in task_names():
        declared = get_metrics(name)
        assert declared, f"{name}'s scorer declares no METRICS"
        for metric in declared.values():
            assert (metric.unit == "count") == (metric.name in COUNT_METRICS), (name, metric)
            assert (metric.unit == "text") == (metric.name in TEXT_METRICS), (name, metric)


def test_scores_csv_and_report_say_each_rows_unit(cli, tmp_path):
    """scores.csv and the report's long CSV carry a `unit` column: MME's points, POPE's
    percent, the counts of errors and DPG-Bench's mode as text; every row written is declared."""
    import pandas as pd

    from janus_eval.tasks.registry import get_metrics

    code, _, err = cli("run", "--tasks", "pope,mme,dpgbench", "--model", "janus-tiny", "--demo",
                       "--output", tmp_path, "--run-id", "u", "--no-progress")  # fmt: skip
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "u" / "scores.csv", keep_default_na=False)
    assert list(scores.columns[:5]) == ["task", "metric", "subset", "value", "unit"]
    unit = {(r.task, r.metric): r.unit for r in scores.itertuples()}
    assert unit[("mme", "total")] == "points" and unit[("pope", "f1")] == "percent"
    assert unit[("pope", "errors")] == "count" and unit[("dpgbench", "mode")] == "text"
    assert unit[("dpgbench", "failed")] == "count"
    for r in scores.itertuples():  # nothing written that its scorer does not declare
        assert r.metric in get_metrics(r.task), (r.task, r.metric)

    assert cli("report", tmp_path / "u", "-o", tmp_path / "site")[0] == 0
    board = pd.read_csv(tmp_path / "site" / "leaderboard.csv", keep_default_na=False)
    paper_mme = board[(board.source == "paper") & (board.task == "mme") & (board.metric == "perception")]
    assert set(board[board.source == "run"].unit) == {"percent", "points", "count", "text"}
    assert set(paper_mme.unit) == {"points"}
