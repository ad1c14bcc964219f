"""A record: one line of `<run>/<task>/samples.jsonl`, the contract between the stages.

A record is flat on disk: the harness's own fields (below) beside the row's dataset
columns, in one JSON object per line. `Record` keeps the two apart in code: the
harness fields are typed properties, `columns` is the rest (the dataset's columns
and a layout's extra fields such as `n_images`). The harness key names are defined
here and nowhere else.

Key order on disk is the order the fields were set: `sample_id`, the row's columns,
then the harness fields as the run fills them (understanding: `prediction`, `error`,
`prompt`; generation: `error`, then the layout's fields), then `parsed` and `score`
when scored. A row column that shares a harness name keeps its place and takes the
harness's value (a generation task's `prompt` is the dataset's prompt, the text drawn).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SAMPLE_ID = "sample_id"  # the harness's id of the sample (data/load.py make_ids)
PROMPT = "prompt"  # the text the model was given (understanding: the full chat prompt)
PREDICTION = "prediction"  # the model's answer, or the folder / file of its images
ERROR = "error"  # why the sample was not answered (an image that cannot be decoded ...), or None
PARSED = "parsed"  # the scorer's reading of the prediction
SCORE = "score"  # the scorer's per-sample score
IMAGES = "images"  # generation: image paths relative to the task folder
LEGACY_ID = "id"  # the sample id of records written before `sample_id` (read, never written)

HARNESS_KEYS: tuple[str, ...] = (SAMPLE_ID, PROMPT, PREDICTION, ERROR, PARSED, SCORE, IMAGES)
SCORER_KEYS: tuple[str, ...] = (PARSED, SCORE)  # what scoring adds (compare drops them to rescore)
# Keys a report does not show as dataset columns (the legacy id included: old files carry it).
INTERNAL_KEYS = frozenset({*HARNESS_KEYS, LEGACY_ID})


class Record:
    """One sample's record; `data` is the flat mapping written as one JSON line."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]):
        self.data = data

    @classmethod
    def new(cls, sample_id: str, columns: Mapping[str, Any], **harness: Any) -> Record:
        """`sample_id`, the row's columns, then the given harness fields in the order given."""
        unknown = sorted(set(harness) - set(HARNESS_KEYS))
        if unknown:
            raise ValueError(f"not harness fields of a record: {', '.join(unknown)}")
        return cls({SAMPLE_ID: sample_id, **columns, **harness})

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def update(self, fields: Mapping[str, Any]) -> None:
        """Set fields (a layout's paths, say) in order, as one dict.update."""
        self.data.update(fields)

    @property
    def sample_id(self) -> str | None:
        return record_id(self.data)

    @property
    def columns(self) -> dict[str, Any]:
        """The row's own columns: everything that is not a harness field."""
        return dataset_columns(self.data)

    def _get(self, key: str) -> Any:
        return self.data.get(key)

    def _set(self, key: str, value: Any) -> None:
        self.data[key] = value

    prompt = property(lambda self: self._get(PROMPT), lambda self, v: self._set(PROMPT, v))
    prediction = property(lambda self: self._get(PREDICTION), lambda self, v: self._set(PREDICTION, v))
    error = property(lambda self: self._get(ERROR), lambda self, v: self._set(ERROR, v))
    parsed = property(lambda self: self._get(PARSED), lambda self, v: self._set(PARSED, v))
    score = property(lambda self: self._get(SCORE), lambda self, v: self._set(SCORE, v))
    images = property(lambda self: self._get(IMAGES) or [], lambda self, v: self._set(IMAGES, v))


def as_dict(record: Record | Mapping[str, Any]) -> dict[str, Any]:
    return record.data if isinstance(record, Record) else dict(record)


def record_id(record: Mapping[str, Any]) -> str | None:
    """A record's sample id (`sample_id`, or `id` in older files)."""
    value = record.get(SAMPLE_ID, record.get(LEGACY_ID))
    return None if value is None else str(value)


def dataset_columns(record: Mapping[str, Any], keys: Iterable[str] = INTERNAL_KEYS) -> dict[str, Any]:
    """The record's fields that are not the harness's, in record order."""
    skip = set(keys)
    return {k: v for k, v in record.items() if k not in skip}
