"""A Sample: one dataset row as the data stage hands it on (its id, text columns, images)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image


@dataclass
class Sample:
    id: str
    row: dict[str, Any]  # the text columns, under the dataset's own names
    image_values: Any = None  # a list of raw image values, or a callable returning one (read lazily)
    decode: Callable[[Any], Image.Image] | None = field(default=None, repr=False, compare=False)  # value -> RGB

    def raw_images(self) -> list[Any]:
        values = self.image_values() if callable(self.image_values) else self.image_values
        return list(values or [])

    def images(self) -> list[Image.Image]:
        """The row's images as RGB, decoded by the data stage's `decode` (janus_eval/data/load.py)."""
        values = self.raw_images()
        if values and self.decode is None:
            raise ValueError(f"sample {self.id} has images but no decoder")
        return [self.decode(v) for v in values] if self.decode is not None else []
