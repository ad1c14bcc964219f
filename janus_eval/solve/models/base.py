"""The adapter interface every model implements."""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from janus_eval.core.requests import Ask, Draw


class ModelAdapter(Protocol):
    """What the runner needs from a model. Batched: one call answers a whole batch."""

    name: str

    def answer(self, asks: list[Ask]) -> list[str]: ...

    def draw(self, draws: list[Draw], batch_size: int | None = None) -> list[list[Image.Image]]:
        """Images for each Draw; `batch_size` counts images per forward pass (None: all at once)."""
        ...

    def describe(self) -> dict:
        """Model id, weights fingerprint, dtype and device, for the manifest."""
        ...
