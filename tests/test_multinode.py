"""More than one node: two torchrun agents (`--nnodes 2 --nproc-per-node 1`, c10d rendezvous
on 127.0.0.1) stand for two nodes of a cluster writing one shared results folder. Their
records equal a one-process run's, for understanding and generation; a rank killed mid-run
and the job restarted resumes with nothing lost or duplicated; a results folder that is
not shared is refused before any work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from janus_eval.core.spec import RunSpec
from janus_eval.runner import run
from janus_eval.tasks.registry import resolve_tasks

TESTS = Path(__file__).resolve().parent
TASKS = "pope,mme,dpgbench"


def _records(run_dir: Path, task: str) -> list[dict]:
    return [json.loads(line) for line in (run_dir / task / "samples.jsonl").read_text().splitlines()]


def _two_nodes(port: int, *args: str, outputs: tuple[Path, Path] | None = None, timeout: float = 120):
    """Start two torchrun agents (one per 'node') on one c10d rendezvous; wait for both.
    `args` run under each (a script and its arguments, or -m janus_eval ...); `outputs`
    gives each node its own --output (a folder the other node cannot see)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", f"job{port}",
                "--max-restarts", "0", "--local-addr", "127.0.0.1"]  # fmt: skip
    procs = []
    for node in range(2):
        extra = ["--output", str(outputs[node])] if outputs else []
        procs.append(subprocess.Popen([*launcher, *args, *extra], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))  # fmt: skip
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return results


def _one_process(out: Path, run_id: str = "one"):
    """The run in one process (the runner writes each score's interval, as the command line's run)."""
    opts = RunSpec(model="janus-tiny", demo=True, output=out, run_id=run_id, batch_size=2, progress=False)
    return run(resolve_tasks(TASKS), opts)


def test_two_nodes_write_the_records_of_one_process(tmp_path):
    one = _one_process(tmp_path).root
    cli = ["-m", "janus_eval", "run", "--tasks", TASKS, "--model", "janus-tiny", "--demo", "--batch-size", "2",
           "--output", str(tmp_path), "--run-id", "nodes", "--no-progress"]  # fmt: skip
    results = _two_nodes(29611, *cli)
    assert [r[0] for r in results] == [0, 0], "\n".join(r[2][-2000:] for r in results)
    nodes = tmp_path / "nodes"
    for task in TASKS.split(","):
        assert _records(nodes, task) == _records(one, task)
        assert not list((nodes / task).glob("samples.rank*.jsonl"))
    assert (nodes / "scores.csv").read_text() == (one / "scores.csv").read_text()
    for grid in (one / "dpgbench/images").iterdir():  # images drawn on either node are the same
        assert (nodes / "dpgbench/images" / grid.name).read_bytes() == grid.read_bytes()
    assert json.loads((nodes / "manifest.json").read_text())["world_size"] == 2
    assert not list(nodes.glob(".shared-check-*"))


def test_rank_killed_mid_run_then_job_restarted_loses_and_repeats_nothing(tmp_path):
    one = _one_process(tmp_path).root
    marker = tmp_path / "killed.pid"
    driver = [str(TESTS / "dist_driver.py"), "--tasks", TASKS, "--output", str(tmp_path), "--run-id", "job",
              "--batch-size", "2", "--kill-rank", "1", "--kill-at", "3", "--marker", str(marker)]  # fmt: skip
    first = _two_nodes(29621, *driver)
    assert marker.exists()  # rank 1 died in its third model call (POPE, 2 batches written)
    assert all(code != 0 for code, _, _ in first)  # the job failed as a whole, no node hung
    assert not (tmp_path / "job/scores.csv").exists()
    partial = [json.loads(x) for f in (tmp_path / "job/pope").glob("samples*.jsonl") for x in f.read_text().splitlines()]
    assert 0 < len(partial) < len(_records(one, "pope"))  # work of both ranks kept on disk

    second = _two_nodes(29631, *driver)  # the job restarted (e.g. Slurm --requeue): same command
    assert [r[0] for r in second] == [0, 0], "\n".join(r[2][-2000:] for r in second)
    job = tmp_path / "job"
    manifest = json.loads((job / "manifest.json").read_text())
    assert manifest["tasks"]["pope"]["resumed_samples"] == len({r["sample_id"] for r in partial})
    for task in TASKS.split(","):
        records = _records(job, task)
        assert len({r["sample_id"] for r in records}) == len(records)  # nothing duplicated
        assert records == _records(one, task)  # nothing lost, nothing changed
    assert (job / "scores.csv").read_text() == (one / "scores.csv").read_text()


def test_a_results_folder_the_nodes_do_not_share_is_refused(tmp_path):
    driver = [str(TESTS / "dist_driver.py"), "--tasks", "pope", "--run-id", "split"]
    results = _two_nodes(29641, *driver, outputs=(tmp_path / "node0", tmp_path / "node1"))
    assert [r[0] for r in results] != [0, 0]
    err = "".join(r[2] for r in results)
    assert "is not shared: rank 1" in err
    assert not list((tmp_path / "node1").rglob("samples*.jsonl"))  # refused before any work
