"""Images as DeepSeek's own Janus code feeds them to the model.

The official `VLMImageProcessor` (janus/models/image_processing_vlm.py) scales the
long side to the image size and the short side to `max(int(short / long * size),
min_size)` — truncation, where transformers' `JanusImageProcessor` rounds — with
torchvision's functional resize of the PIL image (bicubic, antialias), pastes the
result on a square of the mean colour at `(size - short) // 2`, then rescales to
[0, 1] and normalises with transformers' `rescale` / `normalize`. The functions
here make those same library calls in the same order, so the pixel values equal
the official ones exactly; the settings come from the checkpoint's image
processor config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ImageSettings:
    """What the official preprocessing needs from a checkpoint's image processor config."""

    size: int = 384
    min_size: int = 14
    mean: tuple[float, ...] = (0.5, 0.5, 0.5)
    std: tuple[float, ...] = (0.5, 0.5, 0.5)
    rescale_factor: float = 1 / 255

    @classmethod
    def of(cls, image_processor) -> "ImageSettings":
        size = image_processor.size  # a dict or transformers' SizeDict
        side, width = (size["height"], size["width"]) if isinstance(size, dict) else (size.height, size.width)
        if width != side:
            raise ValueError(f"Janus images are square; the image processor asks for {side}x{width}")
        return cls(
            size=int(side),
            min_size=int(getattr(image_processor, "min_size", 14) or 14),
            mean=tuple(float(x) for x in image_processor.image_mean),
            std=tuple(float(x) for x in image_processor.image_std),
            rescale_factor=float(getattr(image_processor, "rescale_factor", 1 / 255)),
        )

    @property
    def background(self) -> tuple[int, ...]:
        """The official pad colour: `tuple(int(x * 255) for x in image_mean)`, (127, 127, 127) at 0.5."""
        return tuple(int(x * 255) for x in self.mean)


def resized_size(width: int, height: int, settings: ImageSettings) -> tuple[int, int]:
    """(height, width) after the official resize: long side to `size`, short side truncated."""
    if width <= 0 or height <= 0:
        raise ValueError(f"an image of {width}x{height} pixels cannot be resized")
    long = max(width, height)
    return (
        max(int(height / long * settings.size), settings.min_size),
        max(int(width / long * settings.size), settings.min_size),
    )


def squared(image: Image.Image, settings: ImageSettings) -> Image.Image:
    """The official resize and `expand2square` of an RGB image: a `size` x `size` RGB image."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as tvf

    size = resized_size(*image.size, settings)
    image = tvf.resize(image, list(size), interpolation=InterpolationMode.BICUBIC, antialias=True)
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    square = Image.new(image.mode, (side, side), settings.background)
    square.paste(image, (0, (side - height) // 2) if width > height else ((side - width) // 2, 0))
    return square


def pixel_array(image: Image.Image, settings: ImageSettings) -> np.ndarray:
    """One image's official model input, [3, size, size] float32 (rescaled, then normalised)."""
    from transformers.image_transforms import normalize, rescale
    from transformers.image_utils import ChannelDimension

    x = np.transpose(np.asarray(squared(image, settings)), (2, 0, 1))
    x = rescale(x, scale=settings.rescale_factor, input_data_format=ChannelDimension.FIRST)
    return normalize(x, mean=settings.mean, std=settings.std, input_data_format=ChannelDimension.FIRST)


def pixel_values(images: list[Image.Image], settings: ImageSettings):
    """A batch's images, in order, as the [n, 3, size, size] float32 tensor the model takes."""
    import torch

    return torch.from_numpy(np.stack([pixel_array(img, settings) for img in images]))
