"""Judging shows progress (the last part of the progress-holes issue): GenEval's detector,
DPG-Bench's VQA judge and the LLM judge (MM-Vet, MMBench) each get a bar on a terminal, or
plain lines at the start, every $JANUS_EVAL_PROGRESS_EVERY seconds and at the end elsewhere
and with `run --no-progress`; and the bar changes no record and no score."""

from __future__ import annotations

import json
import re
import sys

import pytest
from llm_server import ChatServer
from test_judge_concurrency import InFlight, mmvet_file

from janus_eval.score.judges.llm import ask_all


def judging_lines(err: str, desc: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"{desc}: judging")]


def check_plain(lines: list[str], desc: str, total: int, unit: str) -> None:
    """Start line, lines with a rising count, end line, all with `total`."""
    assert lines[0] == f"{desc}: judging: {total} {unit}s to go", lines
    assert re.fullmatch(rf"{desc}: judging: {total}/{total} {unit}s in \d+\.\d s", lines[-1]), lines
    counts = [int(m.group(1)) for x in lines[1:-1] if (m := re.match(rf"{desc}: judging: (\d+)/{total} {unit}s, ", x))]
    assert len(counts) == len(lines) - 2 and counts == sorted(set(counts)), lines  # every 0 s: a line per update


def tty(monkeypatch, on: bool) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: on, raising=False)


def test_demo_run_prints_geneval_and_dpgbench_judging_lines(cli, tmp_path, monkeypatch):
    """With --no-progress the judging lines come even on a terminal (the flag reaches the
    scorers), with the totals of the images (GenEval) and prompts (DPG-Bench) judged; a run with
    bars writes the same records and scores."""
    monkeypatch.setenv("JANUS_EVAL_PROGRESS_EVERY", "0")
    tty(monkeypatch, True)
    args = ("run", "--tasks", "geneval,dpgbench", "--model", "janus-tiny", "--demo", "--output", tmp_path)
    code, _, err = cli(*args, "--run-id", "plain", "--no-progress")
    assert code == 0, err
    run = tmp_path / "plain"
    geneval = [json.loads(x) for x in (run / "geneval" / "samples.jsonl").read_text().splitlines()]
    dpg = (run / "dpgbench" / "samples.jsonl").read_text().splitlines()
    check_plain(judging_lines(err, "geneval"), "geneval", sum(len(r["images"]) for r in geneval), "image")
    check_plain(judging_lines(err, "dpgbench"), "dpgbench", len(dpg), "prompt")
    lines = err.splitlines()  # judging comes after the runner's "scoring" line, before the next task
    assert lines.index(f"geneval: scoring {len(geneval)} samples") < lines.index(judging_lines(err, "geneval")[0])
    assert lines.index(judging_lines(err, "geneval")[-1]) < lines.index(f"dpgbench: {len(dpg)} prompts to go")

    code, _, err = cli(*args, "--run-id", "bars")  # progress on, on a terminal: tqdm's bars
    assert code == 0, err
    assert not judging_lines(err, "geneval")[0].endswith("to go") and "geneval: judging: 100%" in err
    assert "dpgbench: judging: 100%" in err
    for name in ("geneval/samples.jsonl", "dpgbench/samples.jsonl", "scores.csv"):
        assert (tmp_path / "bars" / name).read_bytes() == (run / name).read_bytes(), name


@pytest.mark.parametrize("concurrency", [1, 4])
def test_mmvet_judging_lines_and_unchanged_scores(cli, tmp_path, monkeypatch, concurrency):
    """MM-Vet's judging counts its samples as they are graded, at concurrency 1 and 4 (in the
    pool the counts move from the calling thread); records and scores equal a run with a bar."""
    monkeypatch.setenv("JANUS_EVAL_PROGRESS_EVERY", "0")
    path = mmvet_file(tmp_path)
    n = len(path.read_text().splitlines())
    judged = {}
    with ChatServer(InFlight(delay=0.01)) as server:
        for mode in ("plain", "bar"):
            tty(monkeypatch, mode == "bar")
            monkeypatch.setenv("JANUS_EVAL_CACHE", str(tmp_path / f"cache-{mode}"))  # every reply asked
            code, _, err = cli(
                "score", "--task", "mmvet", path, "--output", tmp_path / "out", "--run-id", mode,
                "--judge-model", "grader-x", "--judge-base-url", server.base_url,
                "--judge-concurrency", concurrency, "--judge-runs", "2",
            )  # fmt: skip
            assert code == 0, err
            judged[mode] = judging_lines(err, "mmvet")
    check_plain(judged["plain"], "mmvet", n, "sample")
    assert re.search(rf"mmvet: judging: 100%\|.*\| {n}/{n} ", judged["bar"][-1]), judged["bar"]
    out = tmp_path / "out"
    for name in ("mmvet/samples.jsonl", "scores.csv"):
        assert (out / "plain" / name).read_bytes() == (out / "bar" / name).read_bytes(), name


def test_ask_all_without_a_label_prints_nothing(capsys, monkeypatch):
    """A caller that gives no `desc` gets no lines (as before); a stand-in judge (not an
    LLMJudge) with one gets them too, and the results are the same either way."""
    monkeypatch.setenv("JANUS_EVAL_PROGRESS_EVERY", "0")
    tty(monkeypatch, False)
    assert ask_all(object(), str.upper, ["a", "b", "c"]) == ["A", "B", "C"]
    assert capsys.readouterr().err == ""
    assert ask_all(object(), str.upper, ["a", "b", "c"], desc="x: judging") == ["A", "B", "C"]
    check_plain(capsys.readouterr().err.splitlines(), "x", 3, "sample")
