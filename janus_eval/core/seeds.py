"""Per-image seeds: an image's random draws depend on nothing but the run seed and which image it is."""

from __future__ import annotations

import hashlib
import json


def image_seed(run_seed: int, task: str, prompt_id: str, index: int) -> int:
    """A stable 63-bit seed for one image (sha256; independent of Python's hash salt)."""
    blob = json.dumps([int(run_seed), str(task), str(prompt_id), int(index)], ensure_ascii=True)
    return int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big") & ((1 << 63) - 1)
