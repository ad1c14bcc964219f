"""Requests a model is asked, and the adapter interface every model implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image


@dataclass
class Ask:
    """An understanding request: images (in prompt order) and a user prompt.

    `prompt` holds one `<image>` marker per image where the image goes; a prompt
    without markers gets its images in front of the text.
    """

    images: list[Image.Image]
    prompt: str
    max_new_tokens: int = 64
    system_prompt: str = ""


@dataclass
class Draw:
    """A text-to-image request: `n_images` images of `prompt`, each seeded from `seeds[i]`."""

    prompt: str
    n_images: int
    seeds: list[int] = field(default_factory=list)
    cfg: float = 5.0
    temperature: float = 1.0
    system_prompt: str = ""  # the official text-to-image example uses none


IMAGE_MARKER = "<image>"


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
