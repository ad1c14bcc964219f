"""DPG-Bench's image layout: a prompt's images tiled in a grid of two columns, no padding.

The official evaluator (ELLA `dpg_bench/compute_dpg_bench.py`) crops the tiles
at `(0, 0, r, r)`, `(r, 0, 2r, r)`, `(0, r, r, 2r)`, `(r, r, 2r, 2r)` for a tile
size `r` and takes the first `pic_num` of them: 4 images make a 2x2 grid, one
image is saved as it is. Up to 4 images per prompt.
"""

from __future__ import annotations

from PIL import Image

MAX_TILES = 4


def grid_shape(n: int) -> tuple[int, int]:
    """(columns, rows) of the grid holding n images."""
    if not 1 <= n <= MAX_TILES:
        raise ValueError(f"a DPG-Bench grid holds 1 to {MAX_TILES} images, not {n}")
    return (1, 1) if n == 1 else (2, (n + 1) // 2)


def tile_boxes(n: int, size: int) -> list[tuple[int, int, int, int]]:
    """Crop boxes (left, top, right, bottom) of the n tiles, in the official order."""
    grid_shape(n)
    return [((i % 2) * size, (i // 2) * size, (i % 2 + 1) * size, (i // 2 + 1) * size) for i in range(n)]


def make_grid(images: list[Image.Image]) -> Image.Image:
    """Tile same-size square images left to right, top to bottom, without padding."""
    cols, rows = grid_shape(len(images))
    size = images[0].width
    if any(img.size != (size, size) for img in images):
        raise ValueError(f"grid images must all be square and {size}x{size}: {[i.size for i in images]}")
    grid = Image.new("RGB", (cols * size, rows * size))
    for img, box in zip(images, tile_boxes(len(images), size)):
        grid.paste(img.convert("RGB"), box[:2])
    return grid


def split_grid(grid: Image.Image, n: int) -> list[Image.Image]:
    """The n tiles of a grid written by `make_grid` (the tile size follows from the width)."""
    cols, rows = grid_shape(n)
    size = grid.width // cols
    if grid.width != cols * size or grid.height != rows * size:
        raise ValueError(
            f"a grid of {n} images must be {cols * size}x{rows * size} (tiles of {size} px), "
            f"got {grid.width}x{grid.height}"
        )
    return [grid.crop(box) for box in tile_boxes(n, size)]
