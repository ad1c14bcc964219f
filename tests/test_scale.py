"""Scale paths give exactly the records of the plain path: torchrun with two CPU
processes (gloo) and the worker data path."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import write_pope_copy

from janus_eval.core.spec import RunSpec
from janus_eval.runner import run
from janus_eval.tasks.registry import resolve_tasks


def _records(run_dir, task):
    return [json.loads(line) for line in (run_dir / task / "samples.jsonl").read_text().splitlines()]


def test_torchrun_two_processes_match_one(tmp_path):
    common = ["run", "--tasks", "pope,mme,dpgbench", "--model", "janus-tiny", "--demo", "--batch-size", "3",
              "--output", str(tmp_path), "--no-progress"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    one = subprocess.run([sys.executable, "-m", "janus_eval", *common, "--run-id", "one"], env=env,
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert one.returncode == 0, one.stderr
    two = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29533",
         "-m", "janus_eval", *common, "--run-id", "two"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    for task in ("pope", "mme", "dpgbench"):
        assert _records(tmp_path / "two", task) == _records(tmp_path / "one", task)
        assert not list((tmp_path / "two" / task).glob("samples.rank*.jsonl"))  # merged and removed
    assert (tmp_path / "two/scores.csv").read_text() == (tmp_path / "one/scores.csv").read_text()
    for grid in (tmp_path / "one/dpgbench/images").iterdir():  # images drawn by either rank are the same
        assert (tmp_path / "two/dpgbench/images" / grid.name).read_bytes() == grid.read_bytes()
    manifest = json.loads((tmp_path / "two/manifest.json").read_text())
    assert manifest["world_size"] == 2
    assert two.stdout.count("f1_mean") == 1  # rank 0 alone reports


def test_worker_data_path_matches_in_process(tmp_path):
    data = write_pope_copy(tmp_path / "data", 10)
    records = {}
    for workers in (0, 2):
        opts = RunSpec(model="janus-tiny", output=tmp_path, run_id=f"w{workers}", batch_size=3,
                          data_dir=data, workers=workers, progress=False)  # fmt: skip
        store = run(resolve_tasks("pope"), opts)
        records[workers] = store.read_records("pope")
        assert json.loads(store.manifest_path.read_text())["data_workers"] == workers
    assert records[0] == records[2] and len(records[0]) == 10
