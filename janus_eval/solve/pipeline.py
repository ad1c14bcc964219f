"""Batches prepared off the critical path.

Image decoding, prompt building and the processor's preprocessing run in
DataLoader worker processes (`--workers N`), a few batches ahead of the model,
so the GPU does not wait on the CPU. With 0 workers the same function runs
in-process; both give the same batches in the same order.
"""

from __future__ import annotations

import os
import signal
import sys
from functools import partial
from typing import Any, Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from janus_eval.core.record import Record
from janus_eval.core.requests import Ask
from janus_eval.core.sample import Sample
from janus_eval.core.task import TaskConfig
from janus_eval.data.load import ImageError
from janus_eval.tasks.registry import build_prompt


def sample_record(sample: Sample) -> Record:
    return Record.new(sample.id, sample.row, prediction=None, error=None)


def prepare_batch(task: TaskConfig, preparer: Callable[[list[Ask]], Any], batch: list[Sample]):
    """Samples -> (records, slots of the asked samples, prepared model input or None).
    An image that cannot be decoded becomes that sample's `error`; the rest are asked."""
    records: list[Record] = []
    asks: list[Ask] = []
    slots: list[int] = []
    for sample in batch:
        rec = sample_record(sample)
        try:
            images = sample.images()
        except ImageError as exc:
            rec.error = str(exc)
        else:
            prompt = build_prompt(sample.row, task.prompt, task.prompt_builder)
            asks.append(Ask(images, prompt, task.max_new_tokens, task.system_prompt, task.roles))
            slots.append(len(records))
        records.append(rec)
    return records, slots, (preparer(asks) if asks else None)


class _PreparedBatches(Dataset):
    def __init__(self, batches: list[list[Sample]], fn: Callable):
        self.batches, self.fn = batches, fn

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int):
        return self.fn(self.batches[i])


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)


def _worker_init(parent: int, worker_id: int) -> None:
    """A data worker dies with the process that started it: on Linux the kernel kills it when
    its parent dies (else DataLoader's watchdog notices only within ~5 s, so a `kill -9`d run
    left workers decoding images behind it)."""
    _one_thread(worker_id)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(0)


def _as_is(item):
    return item


def prepared_batches(
    task: TaskConfig, preparer: Callable, batches: list[list[Sample]], workers: int, prefetch: int = 4
) -> Iterator[tuple[list[Record], list[int], Any]]:
    fn = partial(prepare_batch, task, preparer)
    if workers <= 0:
        yield from map(fn, batches)
        return
    loader = DataLoader(
        _PreparedBatches(batches, fn), batch_size=None, shuffle=False, num_workers=workers,
        prefetch_factor=prefetch, collate_fn=_as_is, worker_init_fn=partial(_worker_init, os.getpid()),
        multiprocessing_context="fork" if "fork" in torch.multiprocessing.get_all_start_methods() else None,
    )  # fmt: skip
    yield from loader
