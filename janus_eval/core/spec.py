"""What one `run` invocation asks for: the model, where the run goes, how it is run.

`RunSpec` holds no scorer settings: a setting that can change a score lives in the
task's `TaskConfig.scoring` (command-line ones are put there before the run, see
tasks/registry.py `with_scoring_overrides`), so it is in the task's config hash and
the manifest. The image folder and the device the judges run on are per-invocation
context, handed to the scorer beside its settings (runner.score_records), never hashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunSpec:
    model: str
    output: Path = Path("results")
    run_id: str | None = None
    limit: int | None = None
    # --offset / --sample-id: like --limit they select samples, so a run with them is partial
    offset: int = 0
    sample_ids: tuple[str, ...] | None = None
    batch_size: int = 8
    demo: bool = False
    data_dir: Path | None = None
    device: str | None = None
    dtype: str | None = None
    seed: int = 0
    allow_pickle: bool = False
    progress: bool = True
    compile: bool = False  # static KV cache + compiled per-token step (CUDA)
    workers: int | None = None  # data workers; None: 4 on CUDA, 0 on CPU
    # the 95% intervals the runner writes beside each score (analyse/intervals.py): resamples, seed
    n_boot: int = 1000
    boot_seed: int = 0
    rank: int = 0  # torchrun: this process's rank and the world size
    world_size: int = 1
    # --config: {"path": the file, "options": what it held}, recorded in the manifest
    config: dict[str, Any] | None = field(default=None, compare=False, hash=False)

    @property
    def shard(self) -> int | None:
        return self.rank if self.world_size > 1 else None
