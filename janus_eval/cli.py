"""The `janus-eval` command line: parses, calls one verb, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from .errors import UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate Janus / Janus-Pro models on the Janus-Pro report's benchmarks.",
)


def summary(scores: pd.DataFrame) -> str:
    """The overall rows of a score table (every variant is in scores.csv)."""
    rows = scores[scores["subset"].fillna("") == ""]
    cols = ["task", "metric", "value", "n", "paper", "delta"]
    return rows[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-")


@app.command()
def run(
    tasks: str = typer.Option(..., "--tasks", help="Comma-separated task names or groups (see `list tasks`)."),
    model: str = typer.Option(..., "--model", help="Janus-Pro-7B, Janus-Pro-1B, Janus-1.3B, janus-tiny, a hub id or a folder."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N samples of each task (fixed order)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Samples per model call."),
    output: Path = typer.Option(Path("results"), "--output", help="Results folder; the run goes in OUTPUT/RUN_ID."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Name of the run; rerun the same id to resume."),
    demo: bool = typer.Option(False, "--demo", help="Use the small sample sets shipped in the package (offline)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Local dataset copies in DATA_DIR/<task>/."),
    device: Optional[str] = typer.Option(None, "--device", help="cuda or cpu (default: cuda when available)."),
    dtype: Optional[str] = typer.Option(None, "--dtype", help="bfloat16 (CUDA default) or float32 (CPU default)."),
    seed: int = typer.Option(0, "--seed", help="Run seed (image generation)."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Allow non-safetensors weights (runs code)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Evaluate a model on tasks; writes OUTPUT/RUN_ID/ and prints the scores."""
    from .registry import resolve_tasks
    from .runner import RunOptions
    from .runner import run as run_tasks

    task_list = resolve_tasks(tasks)
    opts = RunOptions(
        model=model, output=output, run_id=run_id, limit=limit, batch_size=batch_size, demo=demo,
        data_dir=data_dir, device=device, dtype=dtype, seed=seed, allow_pickle=allow_pickle, progress=progress,
    )  # fmt: skip
    store = run_tasks(task_list, opts)
    typer.echo(summary(store.read_scores()))
    typer.echo(f"run folder: {store.root}  (every variant: {store.root / 'scores.csv'})")


@app.command()
def score(
    samples: Path = typer.Argument(..., help="A samples JSONL: the dataset's text columns + `prediction`."),
    task: str = typer.Option(..., "--task", help="The task the predictions are for."),
    output: Path = typer.Option(Path("results"), "--output", help="Results folder; the run goes in OUTPUT/RUN_ID."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Name of the run folder."),
    model: str = typer.Option("external", "--model", help="Which model made the predictions (for the paper column)."),
) -> None:
    """Score saved or external predictions into a run folder, as `run` would."""
    from .registry import load_task
    from .runner import score_file

    store = score_file(load_task(task), samples, output, run_id, model)
    typer.echo(summary(store.read_scores()))
    typer.echo(f"run folder: {store.root}")


@app.command("list")
def list_(what: str = typer.Argument("tasks", help="tasks or models")) -> None:
    """List the registered tasks or the known models."""
    if what == "tasks":
        from .registry import _groups, load_task, task_names

        for name in task_names():
            t = load_task(name)
            src = f"{t.dataset.path}" + (f" [{t.dataset.name}]" if t.dataset.name else "") + f" {t.dataset.split}"
            typer.echo(f"{name:<11} {t.kind:<14} {src:<48} {t.description}")
        for group, members in _groups().items():
            typer.echo(f"{group:<11} group          {', '.join(members)}")
    elif what == "models":
        from .models import KNOWN_MODELS
        from .models.tiny import TINY_NAME

        for name, known in KNOWN_MODELS.items():
            typer.echo(f"{name:<14} {known.hub_id}")
        typer.echo(f"{TINY_NAME:<14} tiny random Janus built offline (tests, quick start)")
    else:
        raise UsageError(f"unknown list '{what}'; use `janus-eval list tasks` or `janus-eval list models`")


def quiet_libraries() -> None:
    """Our own progress bar is the one a user reads; silence the libraries' bars and warnings."""
    import logging
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("datasets", "transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def main() -> None:
    quiet_libraries()
    try:
        app(standalone_mode=False)
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted; finished samples are saved — rerun with the same --run-id to resume", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's own usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
