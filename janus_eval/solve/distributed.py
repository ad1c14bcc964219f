"""torchrun support: `torchrun --nproc-per-node N -m janus_eval run ...`, on one node or many.

Each rank answers every N-th pending sample into its own samples file; rank 0
merges the files, scores and writes the run. Across nodes the results folder must
be one shared folder (`check_shared` refuses to start otherwise). Without torchrun
(no WORLD_SIZE) everything here is a no-op for a single process.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError
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


def check_shared(world: World, root: Path) -> None:
    """Every rank must see the run folder rank 0 sees: rank 0 writes a token file there and
    each rank looks for it. On a cluster whose nodes each have their own disk at that path,
    rank 0 would merge only its own node's records; this stops every rank before any work."""
    if world.size <= 1:
        return
    import torch.distributed as dist

    token = root / f".shared-check-{from_main(world, uuid.uuid4().hex)}"
    if world.main:
        root.mkdir(parents=True, exist_ok=True)
        token.write_text(socket.gethostname())
    barrier(world)
    seen: list[Any] = [None] * world.size
    dist.all_gather_object(seen, (token.is_file(), socket.gethostname()))
    barrier(world)
    if world.main:
        token.unlink(missing_ok=True)
    blind = [f"rank {r} on {host}" for r, (ok, host) in enumerate(seen) if not ok]
    if blind:
        raise UsageError(
            f"the results folder {root} is not shared: {', '.join(blind)} cannot see the files rank 0 writes there; "
            "give --output a folder on a filesystem every node mounts at the same path (NFS, Lustre, GPFS...)"
        )
