"""A run killed mid-way (a real subprocess, SIGKILL) resumes with the same run id:
finished samples are not recomputed, none is lost or duplicated, and the scores
equal an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import run_subprocess
from helpers import write_pope_copy

N = 120


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path):
    data = write_pope_copy(tmp_path / "data", N)
    args = ["run", "--tasks", "pope", "--model", "janus-tiny", "--data-dir", data, "--batch-size", "2",
            "--output", tmp_path / "out", "--no-progress"]  # fmt: skip
    samples = tmp_path / "out/killed/pope/samples.jsonl"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "janus_eval", *map(str, args), "--run-id", "killed"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline:
        if samples.exists() and samples.read_text().count("\n") >= 20:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _records(samples)
    assert 20 <= len(before) < N, "the kill must land mid-run"

    resumed = run_subprocess(*args, "--run-id", "killed")
    assert resumed.returncode == 0, resumed.stderr
    after = _records(samples)
    ids = [r["sample_id"] for r in after]
    assert len(ids) == N and len(set(ids)) == N
    manifest = json.loads((tmp_path / "out/killed/manifest.json").read_text())
    assert manifest["tasks"]["pope"]["resumed_samples"] == len(before)
    # the samples finished before the kill kept their predictions (not recomputed)
    by_id = {r["sample_id"]: r for r in after}
    assert all(by_id[r["sample_id"]]["prediction"] == r["prediction"] for r in before)

    straight = run_subprocess(*args, "--run-id", "straight")
    assert straight.returncode == 0, straight.stderr
    assert (tmp_path / "out/killed/scores.csv").read_text() == (tmp_path / "out/straight/scores.csv").read_text()
    plain = {r["sample_id"]: r["prediction"] for r in _records(tmp_path / "out/straight/pope/samples.jsonl")}
    assert plain == {k: v["prediction"] for k, v in by_id.items()}


def test_truncated_last_line_is_skipped_by_readers_and_cut_by_the_writer(tmp_path):
    from janus_eval.store.run_store import RunStore

    store = RunStore(tmp_path)
    store.append_records("pope", [{"sample_id": "a", "prediction": "yes"}, {"sample_id": "b", "prediction": "no"}])
    path = store.samples_path("pope")
    cut = path.read_bytes() + b'{"sample_id": "c", "predic'  # a kill mid-write
    path.write_bytes(cut)
    assert store.done_ids("pope") == {"a", "b"}
    assert path.read_bytes() == cut  # reading never writes (a live run, a read-only baseline)
    store.append_records("pope", [{"sample_id": "c", "prediction": "yes"}])
    assert [r["sample_id"] for r in store.read_records("pope")] == ["a", "b", "c"]


def test_malformed_record_line_is_one_clear_error(cli, tmp_path):
    from janus_eval.core.errors import UsageError
    from janus_eval.store.run_store import RunStore

    store = RunStore(tmp_path / "run")
    store.append_records("pope", [{"sample_id": "a", "prediction": "yes"}])
    path = store.samples_path("pope")
    path.write_text(path.read_text() + "{oops}\n")
    try:
        store.read_records("pope")
    except UsageError as exc:
        assert f"{path}:2" in str(exc)
    else:
        raise AssertionError("a malformed record must raise UsageError")
