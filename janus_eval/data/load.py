"""Samples: dataset rows with their text columns and lazily decoded images.

Three sources, tried in this order:
- `--demo`: small sample sets shipped in `janus_eval/tasks/<task>/demo.parquet`, in the
  HF dataset's own schema, with real (drawn) images;
- `--data-dir DIR`: a local copy in `DIR/<task>/` (parquet files, or a folder
  written by `datasets.save_to_disk`);
- the HF hub (or its local cache), at the task's pinned revision, trying the
  mirror organisations when the first id is missing.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from janus_eval.core.errors import UsageError
from janus_eval.core.hub import go_offline_if_unreachable
from janus_eval.core.sample import Sample
from janus_eval.core.task import DataSource, TaskConfig

PACKAGE_PREFIX = "package:"  # dataset.path of data shipped in the task's folder (a JSONL file)


class ImageError(Exception):
    """An image that cannot be decoded; the sample is recorded with this error."""


def to_rgb(value: Any) -> Image.Image:
    """Decode an HF image value (dict with bytes/path, PIL image, path, bytes) to RGB.

    CMYK, palette, alpha and 16-bit/float images are converted; truncated or
    unreadable files raise ImageError.
    """
    try:
        if isinstance(value, Image.Image):
            img = value
        elif isinstance(value, dict):
            if value.get("bytes") is not None:
                img = Image.open(io.BytesIO(value["bytes"]))
            elif value.get("path"):
                img = Image.open(value["path"])
            else:
                raise ImageError("image value has neither bytes nor path")
        elif isinstance(value, (bytes, bytearray)):
            img = Image.open(io.BytesIO(value))
        elif isinstance(value, (str, os.PathLike)):
            img = Image.open(value)
        else:
            raise ImageError(f"unsupported image value of type {type(value).__name__}")
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        img.load()
    except ImageError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"unreadable image: {exc}") from exc
    if img.width == 0 or img.height == 0:
        raise ImageError(f"image has no pixels ({img.width}x{img.height})")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return img if img.mode == "RGB" else img.convert("RGB")


class RowImages:
    """The raw image values of one dataset row, read from the Arrow table on demand
    (so a large dataset's images are never all held in memory)."""

    def __init__(self, dataset, index: int, columns: list[str]):
        self.dataset, self.index, self.columns = dataset, index, columns

    def __call__(self) -> list[Any]:
        if not self.columns:
            return []
        row = self.dataset[self.index]
        values: list[Any] = []
        for c in self.columns:  # a column may hold one image or a list of them (SEED-Bench)
            values += row[c] if isinstance(row[c], list) else [row[c]]
        return [v for v in values if v is not None]


def make_ids(rows: list[dict[str, Any]], id_columns: tuple[str, ...]) -> list[str]:
    """Sample ids from the id columns; repeats get `#1`, `#2`, ... in row order."""
    base = ["/".join(str(r.get(c, "")) for c in id_columns) for r in rows]
    counts = Counter(base)
    seen: Counter[str] = Counter()
    ids = []
    for b in base:
        if counts[b] > 1:
            seen[b] += 1
            ids.append(f"{b}#{seen[b]}")
        else:
            ids.append(b)
    return ids


@dataclass
class LoadedData:
    samples: list[Sample]  # the selected ones (--sample-id, --offset, --limit), in the task's order
    source: dict[str, Any]  # what was loaded, for the manifest
    total: int = 0  # the task's samples before the selection
    unmatched: frozenset[str] = frozenset()  # asked-for sample ids the task does not have


def select_samples(
    samples: list[Sample], *, offset: int = 0, limit: int | None = None, sample_ids: tuple[str, ...] | None = None
) -> list[Sample]:
    """The samples a run asks for, in the task's fixed order: those with the given ids (all when
    None), then from the `offset`-th on, at most `limit` of them."""
    if sample_ids is not None:
        wanted = set(sample_ids)
        samples = [s for s in samples if s.id in wanted]
    return samples[offset : None if limit is None else offset + limit]


def load_samples(
    task: TaskConfig,
    *,
    demo: bool = False,
    data_dir: Path | None = None,
    limit: int | None = None,
    offset: int = 0,
    sample_ids: tuple[str, ...] | None = None,
) -> LoadedData:
    """The task's samples, selected. Ids are made over the whole task before the selection, so
    a sample's id never depends on it (a repeated id's `#n` counts every row): a run resumed with
    another --offset, --limit or --sample-id finds its records."""
    if demo:
        dataset, source = _load_demo(task)
    elif task.dataset.path.startswith(PACKAGE_PREFIX):
        dataset, source = _load_package(task)
    elif data_dir is not None:
        dataset, source = _load_local(task, Path(data_dir))
    else:
        dataset, source = _load_hub(task.dataset, task.name)
    dataset = _keep_rows(task, dataset)
    samples = _to_samples(task, dataset, _joined_images(task, dataset, source, data_dir))
    unmatched = frozenset(sample_ids or ()) - {s.id for s in samples}
    chosen = select_samples(samples, offset=offset, limit=limit, sample_ids=sample_ids)
    return LoadedData(chosen, source, total=len(samples), unmatched=unmatched)


def _to_samples(task: TaskConfig, dataset, joined=None) -> list[Sample]:
    """Rows -> Samples; images come from `dataset` itself or from `joined`, a dataset
    aligned row by row with it (GQA's images live in another config)."""
    missing = [c for c in task.text_columns if c not in dataset.column_names]
    if missing:
        raise UsageError(
            f"task {task.name}: the data has no column(s) {', '.join(missing)}; "
            f"it has {', '.join(dataset.column_names)} (is this the right dataset/config?)"
        )
    text = dataset.remove_columns([c for c in dataset.column_names if c not in task.text_columns])
    rows = text.to_list()
    ids = make_ids(rows, task.id_columns)
    source = joined if joined is not None else dataset
    image_cols = [c for c in task.image_columns if c in source.column_names]
    images = source.select_columns(image_cols) if image_cols else None
    return [
        Sample(sid, row, RowImages(images, i, image_cols), decode=to_rgb) for i, (sid, row) in enumerate(zip(ids, rows))
    ]


def _keep_rows(task: TaskConfig, dataset):
    """The task's `where` filter: rows whose columns equal the given values."""
    where = task.dataset.where
    if not where:
        return dataset
    missing = [c for c in where if c not in dataset.column_names]
    if missing:
        raise UsageError(f"task {task.name}: cannot filter on missing column(s) {', '.join(missing)}")
    cols = list(where)
    wanted = [str(where[c]) for c in cols]
    return dataset.filter(lambda *vals: [str(v) for v in vals] == wanted, input_columns=cols)


def _undecoded(dataset):
    """Keep images as raw bytes so a bad one fails on its own sample, not the whole load."""
    from datasets import Image as ImageFeature
    from datasets import List, Sequence

    for name, feature in dataset.features.items():
        if isinstance(feature, ImageFeature):
            dataset = dataset.cast_column(name, ImageFeature(decode=False))
        elif isinstance(feature, (List, Sequence)) and isinstance(feature.feature, ImageFeature):
            dataset = dataset.cast_column(name, List(ImageFeature(decode=False)))
    return dataset


def _load_demo(task: TaskConfig):
    from datasets import Dataset

    path = _task_folder(task) / "demo.parquet"
    if not path.exists():
        raise UsageError(f"task {task.name} has no demo sample set ({path} is missing)")
    return _undecoded(Dataset.from_parquet(str(path))), {"kind": "demo", "path": f"{task.name}/{path.name}"}


def _task_folder(task: TaskConfig) -> Path:
    if task.folder is None:
        raise UsageError(f"task {task.name} has no folder: load it with janus_eval.tasks.registry.load_task")
    return Path(task.folder)


def _load_package(task: TaskConfig):
    """Prompt sets shipped in the task's folder (DPG-Bench, GenEval): `package:<file in the folder>`."""
    import hashlib

    from datasets import Dataset

    rel = task.dataset.path[len(PACKAGE_PREFIX) :]
    folder = _task_folder(task).resolve()
    path = (folder / rel).resolve()
    if folder not in path.parents or not path.is_file():
        raise UsageError(f"task {task.name}: the packaged data file {rel} is missing (reinstall janus-eval)")
    data = path.read_bytes()
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    source = {"kind": "package", "path": rel, "sha256": hashlib.sha256(data).hexdigest()[:16]}
    rows = [_package_row(i, r) for i, r in enumerate(rows)]
    columns = list(dict.fromkeys(k for r in rows for k in r))  # a key missing from some rows (GenEval's exclude)
    return Dataset.from_list([{k: r.get(k) for k in columns} for r in rows]), source


def _package_row(line: int, row: dict[str, Any]) -> dict[str, Any]:
    """A packaged row with its line number as `index` (GenEval names image folders by it);
    nested values (lists, dicts) as JSON text, since Arrow cannot hold GenEval's mixed
    `position` pairs such as ["right of", 0]."""
    out = {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()}
    out.setdefault("index", line)
    return out


def _local_dataset(folder: Path, split: str, config: str | None = None, exclude: tuple[str, ...] = ()):
    from datasets import Dataset, DatasetDict, load_from_disk

    if (folder / "state.json").exists() or (folder / "dataset_dict.json").exists():
        ds = load_from_disk(str(folder))
        if isinstance(ds, DatasetDict):
            if split not in ds:
                raise UsageError(f"{folder} has splits {list(ds)}, not '{split}'")
            ds = ds[split]
        return ds
    files = [f for f in sorted(folder.rglob("*.parquet")) if f.relative_to(folder).parts[0] not in exclude]
    # a whole-repo download holds every config in its own folder: take the task's
    config_files = [f for f in files if config and config in f.relative_to(folder).parts[:-1]]
    files = config_files or files
    split_files = [f for f in files if split in f.relative_to(folder).as_posix()]
    files = split_files or files
    if not files:
        return None
    # a cut download or another file named .parquet: one line naming it, not a traceback
    if sum(_parquet_rows(f) for f in files) == 0:
        raise UsageError(f"the parquet files in {folder} have no rows; download them again")
    try:
        return Dataset.from_parquet([str(f) for f in files])
    except _read_errors() as exc:
        reason = _first_line(exc)
        raise UsageError(f"the parquet files in {folder} cannot be read ({reason}); download them again") from exc


def _read_errors() -> tuple[type[Exception], ...]:
    """What reading a broken parquet file raises (pyarrow's, datasets' and the OS's errors)."""
    import pyarrow
    from datasets.exceptions import DatasetGenerationError

    return (OSError, ValueError, pyarrow.ArrowException, DatasetGenerationError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _parquet_rows(path: Path) -> int:
    """The file's row count from its footer (cheap: no data pages read)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(str(path)).num_rows
    except _read_errors() as exc:
        raise UsageError(f"{path} is not a readable parquet file ({_first_line(exc)}); download it again") from exc


def _load_local(task: TaskConfig, data_dir: Path):
    folder = data_dir / task.name
    exclude = (task.dataset.join["name"],) if task.dataset.join else ()
    ds = _local_dataset(folder, task.dataset.split, task.dataset.name, exclude) if folder.is_dir() else None
    if ds is None:
        raise UsageError(
            f"no local copy of {task.name} in {folder}: put the parquet files of "
            f"{task.dataset.path} (config {task.dataset.name or 'default'}, split {task.dataset.split}) "
            f"there, or a datasets.save_to_disk folder"
        )
    if len(ds) == 0:
        raise UsageError(f"the local copy of {task.name} in {folder} has no rows; download {task.dataset.path} again")
    return _undecoded(ds), {"kind": "local", "path": str(folder)}


def _download_hint(src: DataSource, task: str) -> str:
    return (
        f"dataset {src.path} (config {src.name or 'default'}, split {src.split}, revision {src.revision}) "
        f"is not in the local HF cache and the hub cannot be reached; on a machine with internet run "
        f"`hf download {src.path} --repo-type dataset --revision {src.revision} --local-dir DATA/{task}` "
        f"and pass --data-dir DATA"
    )


def _load_hub(src: DataSource, task_name: str):
    import datasets

    go_offline_if_unreachable()
    last_exc: Exception | None = None
    for repo in (src.path, *src.mirrors):
        try:
            ds = datasets.load_dataset(repo, src.name, split=src.split, revision=src.revision)
        except Exception as exc:  # the hub says missing, or no network: try the next id
            last_exc = exc
            continue
        return _undecoded(ds), {
            "kind": "hub",
            "path": repo,
            "name": src.name,
            "split": src.split,
            "revision_requested": src.revision,
            "revision": _resolved_revision(repo, src.revision),
            "fingerprint": getattr(ds, "_fingerprint", None),
        }
    if last_exc is not None and _is_offline_error(last_exc):
        raise UsageError(_download_hint(src, task_name)) from last_exc
    raise UsageError(f"could not load {src.path}: {str(last_exc).splitlines()[0] if last_exc else '?'}")


def _is_offline_error(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        k in text
        for k in ("offline", "connection", "couldn't reach", "not find", "doesn't exist", "resolve", "network")
    )


def _resolved_revision(repo: str, revision: str) -> str:
    """The commit sha actually loaded, when the hub can tell; else the requested revision."""
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(repo, revision=revision).sha or revision
    except Exception:
        return revision


def _joined_images(task: TaskConfig, dataset, source: dict[str, Any], data_dir: Path | None):
    """GQA-style data: the images live in another config, joined on a key column.
    Returns that config's rows aligned with `dataset` (a lazy index, no bytes read),
    or None when the task's own rows carry the images."""
    join = task.dataset.join
    if not join or join["column"] in dataset.column_names:
        return None
    if data_dir is not None:
        folder = Path(data_dir) / task.name / join["name"]
        images = _local_dataset(folder, join.get("split", task.dataset.split)) if folder.is_dir() else None
        if images is None:
            raise UsageError(
                f"no local copy of the images for {task.name} in {folder}: put the parquet files of "
                f"{task.dataset.path} config {join['name']} there"
            )
    else:
        repo = source.get("path", task.dataset.path)  # the id that served the questions
        src = DataSource(path=repo, name=join["name"], split=join.get("split", task.dataset.split),
                         revision=task.dataset.revision)  # fmt: skip
        images, _ = _load_hub(src, task.name)
    images = _undecoded(images)
    index = {key: i for i, key in enumerate(images[join["key"]])}
    wanted = [index.get(k) for k in dataset[join["on"]]]
    if any(w is None for w in wanted):
        missing = sum(w is None for w in wanted)
        raise UsageError(f"{task.name}: {missing} rows have no image in {join['name']}")
    return images.select(wanted)
