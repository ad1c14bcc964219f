"""`torchrun ... tests/dist_driver.py`: a demo run of janus-tiny through `runner.run`, whose
rank `--kill-rank` kills itself (SIGKILL, as the OOM killer or a lost node would) in the
middle of its `--kill-at`-th model call, unless `--marker` exists (a job restarted after
the kill runs clean). Used by tests/test_multinode.py."""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import torch

torch.set_num_threads(1)


class Killing:
    """Forwards to the real adapter; counts answer/draw calls and dies inside one."""

    def __init__(self, inner, at: int, marker: Path):
        self.inner, self.at, self.marker, self.calls = inner, at, marker, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def _tick(self) -> None:
        self.calls += 1
        if self.calls == self.at and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)

    def generate(self, prepared):
        self._tick()
        return self.inner.generate(prepared)

    def draw(self, draws, batch_size=None):
        self._tick()
        return self.inner.draw(draws, batch_size=batch_size)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--batch-size", type=int, default=2)
    ap.add_argument("--kill-rank", type=int, default=-1)
    ap.add_argument("--kill-at", type=int, default=0)
    ap.add_argument("--marker", type=Path, default=Path("/nonexistent/marker"))
    args = ap.parse_args()

    from janus_eval.core.spec import RunSpec
    from janus_eval.runner import run
    from janus_eval.solve.models import load_model
    from janus_eval.tasks.registry import resolve_tasks

    rank = int(os.environ.get("RANK", "0"))

    def loader(*a, **kw):
        adapter = load_model(*a, **kw)
        return Killing(adapter, args.kill_at, args.marker) if rank == args.kill_rank else adapter

    opts = RunSpec(model="janus-tiny", demo=True, output=args.output, run_id=args.run_id,
                      batch_size=args.batch_size, progress=False)  # fmt: skip
    run(resolve_tasks(args.tasks), opts, load_model=loader)


if __name__ == "__main__":
    main()
