"""The package's layout is its architecture: folders are the stages and every import points down.

Stages from the bottom up (README, Layout): core (types that import nothing else of the
package) < store < data < score (shared scoring helpers, judges) < tasks (one folder per
benchmark) < solve (model adapters, batching, the generation path) < analyse (report,
compare) < runner < cli. A module may import its own stage and the stages below it; every
import counts, those inside functions too. A benchmark's folder imports only itself, the
shared prompt builders and lower stages, so a new benchmark is one folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

STAGES = ["core", "store", "data", "score", "tasks", "solve", "analyse", "runner", "cli"]
PACKAGE = ROOT / "janus_eval"
BENCHMARKS = {p.parent.name for p in (PACKAGE / "tasks").glob("*/task.yaml")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__", "cli"):
        return "cli"
    return parts[1]


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of janus_eval in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("janus_eval"):
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "<relative>"))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("janus_eval")]
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_stage():
    assert {stage(module_name(f)) for f in FILES} <= set(STAGES)
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(STAGES) - {
        "runner",
        "cli",
    }


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path):
    here = module_name(path)
    rank = STAGES.index(stage(here))
    wrong = []
    for line, target in imports(path):
        if target == "<relative>":
            wrong.append(f"line {line}: a relative import (write janus_eval.<stage>...)")
            continue
        if STAGES.index(stage(target)) > rank:
            wrong.append(f"line {line}: {target} is above {stage(here)}")
        parts = here.split(".")
        if stage(here) == "tasks" and len(parts) > 3 and parts[2] in BENCHMARKS:
            tparts = target.split(".")
            other = tparts[2] if len(tparts) > 2 and stage(target) == "tasks" else None
            if other not in (None, parts[2], "prompts"):
                wrong.append(f"line {line}: benchmark {parts[2]} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_core_imports_nothing_else_of_the_package():
    for path in (PACKAGE / "core").glob("*.py"):
        assert all(stage(t) == "core" for _, t in imports(path)), path


def test_the_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from janus_eval.runner import run\n")
    assert imports(bad) == [(2, "janus_eval.runner")]
    assert STAGES.index(stage("janus_eval.runner")) > STAGES.index(stage("janus_eval.core.task"))
