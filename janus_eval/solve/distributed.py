"""torchrun support: `torchrun --nproc-per-node N -m janus_eval run ...`.

Each rank answers every N-th pending sample into its own samples file; rank 0
merges the files, scores and writes the run. Without torchrun (no WORLD_SIZE)
everything here is a no-op for a single process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from janus_eval.core.paths import default_device


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup(device: str | None) -> World:
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    cuda = (device or default_device()).startswith("cuda")
    if not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(local)
        # Rank 0 scores each task (judge calls can take hours) while the others wait at a barrier.
        dist.init_process_group(backend="nccl" if cuda else "gloo", timeout=timedelta(hours=24))
    return World(dist.get_rank(), dist.get_world_size(), local)


def barrier(world: World) -> None:
    if world.size > 1:
        import torch.distributed as dist

        dist.barrier()


def from_main(world: World, value: Any) -> Any:
    """Rank 0's value on every rank (e.g. a run id made from the clock)."""
    if world.size <= 1:
        return value
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
