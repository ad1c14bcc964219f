"""Ctrl-C on `score`, `report` and `compare`, sent as a real SIGINT to a real child process:
one line saying what was kept (or that nothing was written) and how to go on, exit 130 (never
0 or 1, which a CI gate reads as a verdict), no traceback. (`run`'s: tests/test_cli_ux.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, run_subprocess
from llm_server import ChatServer, mmvet_grader

ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def interrupt(child: subprocess.Popen, ready) -> tuple[int, str]:
    """Wait until `ready()` (at most 120 s), send SIGINT, return (exit code, stderr)."""
    deadline = time.monotonic() + 120
    while not ready():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never got to the point to interrupt"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    return child.returncode, err


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_score_keeps_the_judges_replies(tmp_path, concurrency):
    """Interrupted while the judge is asked (one request at a time, or four at once with
    requests hanging in other threads): no run folder (score writes it whole), the replies
    already given are in the cache, and the same command asks only the others."""
    rows = [{"question_id": f"v{i}", "question": f"What is thing {i}?", "answer": "cat", "capability": "rec",
             "prediction": "a cat"} for i in range(8)]  # fmt: skip
    samples = tmp_path / "mmvet.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cache = tmp_path / "cache"
    answered = 3

    def cached() -> int:  # the replies in the judge's cache file so far
        path = cache / "llm-judge.jsonl"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def slow_after_three(body, n):  # the first three answered at once, then the judge stalls
        return mmvet_grader(body, n) if n < answered else ("sleep", 60, "1.0")

    args = ["score", "--task", "mmvet", str(samples), "--output", str(tmp_path / "out"), "--run-id", "s",
            "--judge-model", "grader-x", "--judge-runs", "1", "--judge-concurrency", concurrency]  # fmt: skip
    with ChatServer(slow_after_three) as server:
        child = subprocess.Popen(
            [sys.executable, "-m", "janus_eval", *args, "--judge-base-url", server.base_url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, **ENV, "JANUS_EVAL_CACHE": str(cache)},
        )  # fmt: skip
        started = time.monotonic()
        code, err = interrupt(child, lambda: len(server.requests) > answered and cached() == answered)
        assert time.monotonic() - started < 50  # the hanging requests do not hold the exit
    lines = err.strip().splitlines()
    assert lines[0] == f"mmvet: judging: {len(rows)} samples to go", err  # the judging bar's start line
    lines = lines[1:]  # then, cut short, no end line: one line saying what was kept
    assert code == 130 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("interrupted: no run folder written") and str(cache) in lines[0], lines[0]
    assert not (tmp_path / "out" / "s").exists()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())  # no temp folder left

    with ChatServer(mmvet_grader) as server:
        proc = run_subprocess(*args, "--judge-base-url", server.base_url, env={"JANUS_EVAL_CACHE": str(cache)})
        assert proc.returncode == 0, proc.stderr
        assert len(server.requests) == len(rows) - answered  # the cached replies are not asked again
    assert (tmp_path / "out" / "s" / "scores.csv").is_file()


def patched_child(target: str, ready_file, args: list[str]) -> subprocess.Popen:
    """`janus-eval ARGS` in a child whose `target` (module:function, as the command imports
    it) marks `ready_file` and then works for a minute: a real process in the middle of the
    verb's work, interrupted at a known moment rather than by a race with a fast machine."""
    module, name = target.split(":")
    probe = (
        "import sys, time, pathlib, importlib\n"
        f"mod = importlib.import_module({module!r})\n"
        "def slow(*a, **k):\n"
        f"    pathlib.Path({str(ready_file)!r}).write_text('ready')\n"
        "    time.sleep(60)\n"
        f"setattr(mod, {name!r}, slow)\n"
        f"sys.argv = ['janus-eval', *{args!r}]\n"
        "from janus_eval.cli import main\n"
        "main()\n"
    )
    return subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env={**os.environ, **ENV})  # fmt: skip


def test_report_says_the_report_is_incomplete(tmp_path):
    run = tmp_path / "results" / "r1"
    run.mkdir(parents=True)
    ready = tmp_path / "ready"
    child = patched_child("janus_eval.analyse.report:build_report", ready,
                          ["report", str(run), "-o", str(tmp_path / "rep")])  # fmt: skip
    code, err = interrupt(child, ready.exists)
    lines = err.strip().splitlines()
    assert code == 130 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0] == f"interrupted: the report in {tmp_path / 'rep'} is incomplete; rerun the same command to " \
                       "write it whole"  # fmt: skip


def test_compare_is_never_read_as_a_verdict(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ready = tmp_path / "ready"
    out = tmp_path / "gate.md"
    child = patched_child("janus_eval.analyse.compare:compare", ready,
                          ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--output", str(out)])  # fmt: skip
    code, err = interrupt(child, ready.exists)
    lines = err.strip().splitlines()
    assert code == 130 and lines == ["interrupted: nothing compared and nothing written; rerun the same command"], err
    assert not out.exists()
