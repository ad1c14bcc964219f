"""After a `kill -9` of a run, its data workers die with it, not ~5 s later (issue 16)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_data_workers_die_with_a_killed_run(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "janus_eval", "run", "--tasks", "pope,mme", "--model", "janus-tiny", "--demo",
         "--workers", "2", "--batch-size", "1", "--no-progress", "--output", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            workers = children(proc.pid)
        if len(workers) < 2:
            pytest.skip("the run ended before its workers were seen")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        gone_by = time.monotonic() + 2.0
        while any(alive(w) for w in workers) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not any(alive(w) for w in workers), "data workers outlived the killed run"
    finally:
        if proc.poll() is None:
            proc.kill()
