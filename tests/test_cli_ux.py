"""The command line as its users expect it: --version, fast --help and list, readable output."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import ROOT

HEAVY = ("torch", "transformers", "datasets", "pandas")


def imported_by(*args: str) -> list[str]:
    """The heavy modules a `janus-eval ARGS` child process has imported when it exits."""
    probe = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: print('MODULES=' + json.dumps([m for m in {HEAVY!r} if m in sys.modules])))\n"
        f"sys.argv = ['janus-eval', *{list(args)!r}]\n"
        "from janus_eval.cli import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    line = [x for x in out.stdout.splitlines() if x.startswith("MODULES=")][-1]
    return json.loads(line.removeprefix("MODULES="))


def test_version(cli):
    code, out, _ = cli("--version")
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert code == 0 and out.strip() == f"janus-eval {version}"


def test_help_and_list_import_nothing_heavy():
    """`--help`, `--version` and `list` parse before anything heavy is imported (what made
    them take seconds): torch, transformers, datasets and pandas stay out."""
    for args in (["--help"], ["run", "--help"], ["--version"], ["list", "tasks"], ["list", "models"]):
        assert imported_by(*args) == [], args
