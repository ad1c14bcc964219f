"""`run --config FILE.yaml`: a YAML mapping of `run`'s options, as lmms-eval and inspect_ai read one.

This module only reads the file (a missing file, one that is not YAML or not a mapping is a
UsageError naming it); the command line matches the keys to its options and hands the values
to click as if they had been typed (cli.py `config_defaults`), so they meet the same checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in the file, keys as written; an empty file is an empty mapping."""
    import yaml

    if not path.is_file():
        raise UsageError(f"--config {path}: no such file; give the path of a YAML file of run options")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--config {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 YAML") from exc
    except OSError as exc:
        raise UsageError(f"--config {path} cannot be read ({exc.strerror}); check the path") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"--config {path} is not YAML ({where}{problem}); write `option: value` lines") from exc
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UsageError(
            f"--config {path} holds a YAML {type(raw).__name__}, not a mapping; write `option: value` lines "
            "(e.g. `tasks: pope`)"
        )
    odd = [k for k in raw if not isinstance(k, str)]
    if odd:
        raise UsageError(f"--config {path}: key {odd[0]!r} is not an option name; keys are run's options (e.g. limit)")
    return raw
