"""The samples contract: the fields a task's scorer reads from a samples file, with the JSON
types and the values its benchmark allows. A samples file for `score` is checked against it
line by line before anything is scored, so a value that would change a metric (a POPE
`category` that is an object, an MME answer that is neither Yes nor No) is one line naming the
file, the line, the field and what it should be, never a new split averaged into a score.

Each task's scorer module declares `SAMPLE_FIELDS` (a tuple of `Field`) and may declare
`check_sample(row) -> str | None` for rules across fields; `check_row` applies both. A scorer
whose rows point outside themselves (image files, a question file) also declares
`file_check(context) -> check`: a row check for one file's rows, built once per file from a
`Context` (the scorer's settings, the folder the image paths are relative to), that can also
see what earlier rows held (a prompt given twice)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from PIL import Image

JSON_TYPES: dict[type, str] = {str: "a string", int: "an integer", float: "a number", list: "a list", dict: "an object"}


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (what the user wrote)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN / Infinity: json accepts them, no benchmark does
    for kind, name in JSON_TYPES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


def shown(value: Any, width: int = 40) -> str:
    """A short rendering of a value for a one-line message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def yes_no(value: str) -> str:
    return value.strip().lower()


@dataclass(frozen=True)
class Field:
    """One field a scorer reads. `kinds`: the Python types of the JSON values allowed (bool and
    NaN/inf never count as numbers); `allowed`: the values allowed after `normalise`;
    `required`: the field must be present; `nullable`: null is allowed."""

    name: str
    kinds: tuple[type, ...] = (str,)
    allowed: tuple[str, ...] | None = None
    normalise: Callable[[str], str] | None = None
    required: bool = False
    nullable: bool = True
    items: type | None = None  # a list's element type

    def describe(self) -> str:
        if self.allowed is not None:
            what = "one of " + ", ".join(self.allowed)
        else:
            what = " or ".join(JSON_TYPES.get(k, k.__name__) for k in self.kinds)
            if self.items is not None:
                what += f" (of {JSON_TYPES.get(self.items, self.items.__name__)}s)"
        return what + (" or null" if self.nullable else "")

    def problem(self, row: dict[str, Any]) -> str | None:
        """What is wrong with this field in `row`, or None."""
        if self.name not in row:
            return f"missing field '{self.name}'; it should be {self.describe()}" if self.required else None
        value = row[self.name]
        if value is None:
            return None if self.nullable else f"field '{self.name}' is null; it should be {self.describe()}"
        bad = isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value))
        if bad or not isinstance(value, self.kinds):
            return f"field '{self.name}' is {json_type(value)} ({shown(value)}); it should be {self.describe()}"
        if isinstance(value, list) and self.items is not None:
            if not all(isinstance(v, self.items) and not isinstance(v, bool) for v in value):
                return f"field '{self.name}' is {shown(value)}; it should be {self.describe()}"
        if self.allowed is not None:
            key = self.normalise(value) if self.normalise is not None and isinstance(value, str) else value
            if key not in self.allowed:
                return f"field '{self.name}' is {shown(value)}; it should be {self.describe()}"
        return None


# What every task's scorer reads: the answer (null: not answered, counted in `errors`) and the
# error a run recorded for the sample.
COMMON = (Field("prediction", required=True), Field("error"))


def id_field(name: str) -> Field:
    """An id column: a string or an integer (it names the sample, nothing else)."""
    return Field(name, kinds=(str, int), required=True, nullable=False)


def check_row(
    row: dict[str, Any], fields: Iterable[Field], check: Callable[[dict], str | None] | None, *, common: bool = True
) -> str | None:
    """The first problem of a samples-file row under a task's contract, or None; `common`:
    also the fields every samples file has (a dataset row, before a run, has not)."""
    seen = set()
    for field in (*fields, *(COMMON if common else ())):  # a task's own spec of a common field wins
        if field.name in seen:
            continue
        seen.add(field.name)
        problem = field.problem(row)
        if problem:
            return problem
    return check(row) if check is not None else None


RowCheck = Callable[[dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class Context:
    """What a file's rows are checked against beyond themselves: the task's scorer `settings`
    (a question file's path), `root`, the folder image paths are relative to (None for dataset
    rows before a run, which point at no images yet), and `demo` (demo judges read the demo
    question file)."""

    settings: Mapping[str, Any] = dataclass_field(default_factory=dict)
    root: Path | None = None
    demo: bool = False


def answered(row: dict[str, Any]) -> bool:
    """A row the scorer judges (error null and a prediction); the others are only counted."""
    return row.get("error") is None and row.get("prediction") is not None


def outside_problem(name: str, value: str, root: Path) -> str | None:
    """An image path of field `name` must stay inside `root` (written relative to it, no `..`
    out of it; an absolute path only inside it), so a samples file cannot make a scorer read
    any file on the machine."""
    base = os.path.normpath(os.path.abspath(root))
    if os.path.commonpath([base, os.path.normpath(os.path.join(base, value))]) == base:
        return None
    return (
        f"field '{name}' names {shown(value)}, outside the samples file's folder {base}; "
        "it should be an image path relative to that folder"
    )


def image_path_problem(name: str, value: str, root: Path, *, readable: bool) -> str | None:
    """An image path inside `root` (`outside_problem`) that exists and, with `readable`, that
    PIL can read (its chunks and checksums; nothing is decoded, so this stays cheap)."""
    problem = outside_problem(name, value, root)
    if problem:
        return problem
    path = os.path.join(os.path.abspath(root), value)
    if not os.path.isfile(path):
        return f"field '{name}' names {shown(value)}, which is not a file in {root}; put it there or fix the path"
    if readable:
        try:
            with Image.open(path) as img:
                img.verify()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            reason = " ".join(str(exc).split())[:80] or type(exc).__name__
            return f"field '{name}' names {shown(value)}, which is not a readable image ({reason}); draw it again"
    return None
