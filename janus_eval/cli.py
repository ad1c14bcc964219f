"""The `janus-eval` command line: parses, calls one verb, prints."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from janus_eval.core.errors import UsageError

if TYPE_CHECKING:  # pandas costs half a second: `--help`, `--version` and `list` do without it
    import pandas as pd

def readable_help_labels() -> None:
    """Help in click's words: typer 0.2x labels each option with a Python type (`<str>`,
    `<int range>`, `<list[Path]>`, `--help <bool>`) and each required argument `{name}`;
    show TEXT / INTEGER / FLOAT / PATH, nothing for a flag, and NAME for an argument. Any typer
    without these hooks keeps its own labels."""
    core: Any = getattr(typer, "core", None)
    base: Any = getattr(core, "_TyperParameter", None)
    option: Any = getattr(core, "TyperOption", None)
    argument: Any = getattr(core, "TyperArgument", None)
    if not (hasattr(base, "display_type") and hasattr(option, "display_type_rich")):
        return
    words = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "bool": "BOOLEAN"}
    original = base.display_type

    def display_type(self, ctx) -> str:
        label = str(original(self, ctx)).strip("<>").replace(" range", "")
        many = label.startswith("list[")
        label = label.removeprefix("list[").removesuffix("]").lower()
        return words.get(label, label.upper()) + ("..." if many else "")

    def display_type_rich(self, ctx) -> str | None:
        if getattr(self, "is_flag", False):
            return None
        if self.metavar is not None:
            return self.metavar
        return display_type(self, ctx) + ("..." if self.nargs != 1 else "")

    def usage_name(self) -> str:
        name = self.display_name_raw.upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    base.display_type = display_type
    option.display_type_rich = display_type_rich
    if hasattr(argument, "_usage_display_name") and hasattr(argument, "display_name_raw"):
        argument._usage_display_name = usage_name


readable_help_labels()
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate Janus / Janus-Pro models on the Janus-Pro report's benchmarks.",
)


def show_version(value: bool) -> None:
    if value:
        from janus_eval import __version__

        typer.echo(f"janus-eval {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Evaluate Janus / Janus-Pro models on the Janus-Pro report's benchmarks."""


def summary(scores: pd.DataFrame) -> str:
    """The overall rows of a score table, every row compared with the paper (POPE's is the
    random split's F1) and how the run was scored (`mode`); every variant is in scores.csv.
    Counts print as counts (`unparsed 5`)."""
    from janus_eval.analyse.verdicts import terminal_table, verdict_line  # each value with its 95% interval

    return "\n".join(filter(None, [terminal_table(scores), verdict_line(scores)]))


JUDGE_HELP = "OpenAI-compatible chat model that grades MM-Vet and matches MMBench answers."
# the LLM judge's options, shared by `run` and `score`
JudgeModel = Annotated[Optional[str], typer.Option("--judge-model", help=JUDGE_HELP)]
JudgeBaseUrl = Annotated[Optional[str], typer.Option("--judge-base-url", help="Judge endpoint (default OpenAI's).")]
JudgeApiKeyEnv = Annotated[
    Optional[str],
    typer.Option("--judge-api-key-env", help="Variable holding the judge's API key (default OPENAI_API_KEY)."),
]
JudgeRuns = Annotated[Optional[int], typer.Option("--judge-runs", min=1, help="MM-Vet grading runs averaged.")]
JUDGE_TIMEOUT_HELP = (
    "Seconds the judge may take per request (default 60); a judge with no reply for 5 x that in a row stops "
    "the command."
)


JudgeConcurrency = Annotated[
    int,
    typer.Option("--judge-concurrency", min=1, help="Judge requests in flight at once (1: one after another)."),
]


def make_judges(
    judge_model: Optional[str], judge_base_url: Optional[str], judge_api_key_env: Optional[str],
    judge_runs: Optional[int], demo: bool = False, judge_timeout: Optional[float] = None,
    judge_concurrency: Optional[int] = None,
):  # fmt: skip
    from janus_eval.score.judges import Judges, make_llm_judge

    return Judges(
        llm=make_llm_judge(judge_model, judge_base_url, judge_api_key_env, timeout=judge_timeout,
                           concurrency=judge_concurrency),
        demo=demo, llm_runs=judge_runs,
    )  # fmt: skip


def scoring_overrides(
    dpg_csv: Optional[Path], vqa_model: Optional[str], official_quirks: bool, geneval_dir: Optional[Path] = None
) -> dict:
    """Scorer settings given on the command line (only those given). The runner puts each into
    the `scoring` of the tasks whose scorer takes it, so it is in their config hash."""
    out: dict = {}
    if geneval_dir is not None:
        out["geneval_dir"] = str(geneval_dir)
    if dpg_csv is not None:
        out["csv"] = str(dpg_csv)
    if vqa_model:
        out["vqa_model"] = vqa_model
    if official_quirks:
        out["official_quirks"] = True
    return out


DPG_CSV_HELP = "DPG-Bench question file dpg_bench.csv (default: downloaded once into the cache)."
VQA_HELP = "DPG-Bench VQA judge: mplug (official, needs modelscope) or a BLIP/ViLT VQA folder."
QUIRKS_HELP = "DPG-Bench: score as the official script (first csv row skipped, last-tile categories)."
GENEVAL_DIR_HELP = (
    "GenEval: folder with the detector and CLIP checkpoints (default: $JANUS_EVAL_GENEVAL_DIR or the cache; "
    "downloaded there once when online)."
)
PROTOCOL_HELP = (
    "Whose prompts and chat roles: janus-pro (the authors' evaluation prompts in each checkpoint's own chat "
    "format) or vlmevalkit (VLMEvalKit's Janus wrapper exactly: User/Assistant roles for every model)."
)
Protocol = Annotated[str, typer.Option("--protocol", help=PROTOCOL_HELP)]
# the generation scorers' options, shared by `run` and `score`
DpgCsv = Annotated[Optional[Path], typer.Option("--dpg-csv", help=DPG_CSV_HELP)]
VqaModel = Annotated[Optional[str], typer.Option("--vqa-model", help=VQA_HELP)]
OfficialQuirks = Annotated[bool, typer.Option("--official-quirks", help=QUIRKS_HELP)]
GenevalDir = Annotated[Optional[Path], typer.Option("--geneval-dir", help=GENEVAL_DIR_HELP)]
# the intervals' options (analyse/intervals.py), shared by `run`, `score` and `report`
NBoot = Annotated[int, typer.Option("--n-boot", help="Bootstrap resamples of each 95% interval (at least 100).")]


DTYPES = ("bfloat16", "float16", "float32")


def check_device(value: Optional[str]) -> Optional[str]:
    """cpu, cuda or cuda:N: anything else would fail only after the model loaded."""
    if value is None:
        return value
    head, _, index = value.partition(":")
    if head == "cpu" and not index or head == "cuda" and (not _ or index.isdigit()):
        return value
    raise typer.BadParameter(f"'{value}' is not a device; use cpu, cuda or cuda:N")


def check_dtype(value: Optional[str]) -> Optional[str]:
    if value is None or value in DTYPES:
        return value
    raise typer.BadParameter(f"'{value}' is not a model dtype; use {', '.join(DTYPES)}")


def check_finite(value: Optional[float]) -> Optional[float]:
    """nan and inf parse as floats and would sample garbage; refuse them at the boundary."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


def check_temperature(value: Optional[float]) -> Optional[float]:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a temperature; use a finite number > 0")
    return value


def check_timeout(value: Optional[float]) -> Optional[float]:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a number of seconds > 0")
    return value


JudgeTimeout = Annotated[
    Optional[float], typer.Option("--judge-timeout", callback=check_timeout, help=JUDGE_TIMEOUT_HELP)
]

CONFIG_HELP = "YAML file of run's options (`tasks: pope`, `batch-size: 4`, ...); the command line wins over it."
CONFIG_META = "janus_eval.config"  # ctx.meta: the --config file read, for error lines and the manifest
COMMA_LISTS = ("tasks",)  # options taking a comma-separated list: a YAML list is joined with commas


def load_config(ctx: typer.Context, value: Optional[Path]) -> Optional[Path]:
    """The eager --config callback: the file's options become the command's defaults (click's
    `default_map`, its documented way to read a config file), so the command line wins, a
    required option is satisfied by the file, and every value from it is converted and checked
    (types, ranges, callbacks) exactly as a typed one."""
    if value is None or ctx.resilient_parsing:
        return value
    from janus_eval.core.config_file import read_config_file

    raw = read_config_file(value)
    defaults, spelled = config_defaults(ctx, value, raw)
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta[CONFIG_META] = {"path": value, "keys": spelled, "options": raw}
    return value


def config_defaults(ctx: typer.Context, path: Path, raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(option name -> value as typed text, option name -> the key as the file spells it);
    a key may be spelled with `-` or `_` (lmms-eval's YAML uses `_`)."""
    import difflib

    params = {p.name: p for p in ctx.command.params if p.name and p.name != "config"}
    defaults: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in raw.items():
        name = key.strip().removeprefix("--").replace("-", "_")
        param = params.get(name)
        if param is None:
            close = difflib.get_close_matches(name, list(params), n=1)
            hint = f"did you mean {close[0].replace('_', '-')}? " if close else ""
            raise UsageError(
                f"--config {path}: unknown key '{key}'; {hint}the keys are run's options "
                "(see `janus-eval run --help`)"
            )
        if value is None:
            raise UsageError(f"--config {path}: key '{key}' has no value; give one or remove the line")
        defaults[name] = config_value(path, key, param, value)
        spelled[name] = key
    return defaults, spelled


def config_value(path: Path, key: str, param: Any, value: Any) -> Any:
    """A value from the file as the command line would type it (text), so click parses and
    checks it as it would a typed one (`limit: 2.5` fails as `--limit 2.5` does); a list only
    where the option takes several values. A YAML list of --sample-id ids is taken item by item
    (an id may hold a comma, as MME's questions do); a string is split at commas, as typed."""
    many = isinstance(value, list)
    if isinstance(value, dict) or many and not (param.multiple or param.name in COMMA_LISTS):
        what = "a list" if many else "a mapping"
        raise UsageError(f"--config {path}: key '{key}' holds {what}; give it one value (`{key}: VALUE`)")
    if param.multiple:
        return [as_typed(v) for v in value] if many else as_typed(value).split(",")
    if many:
        return ",".join(as_typed(v) for v in value)
    return as_typed(value)


def as_typed(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def sample_id_list(ctx: typer.Context, values: Optional[list[str]]) -> Optional[tuple[str, ...]]:
    """--sample-id values, each a comma-separated list when typed (a --config file's list is
    already one id per item); repeats dropped, order kept."""
    if not values:
        return None
    source = ctx.get_parameter_source("sample_id")
    typed = getattr(source, "name", "COMMANDLINE") != "DEFAULT_MAP"
    ids = [part.strip() for v in values for part in (v.split(",") if typed else [v])]
    ids = [i for i in ids if i]
    if not ids:
        raise UsageError("--sample-id needs at least one sample id (e.g. --sample-id 12,57)")
    return tuple(dict.fromkeys(ids))


def config_record(ctx: typer.Context) -> Optional[dict[str, Any]]:
    """What the manifest keeps of --config: the file's path and the options it held."""
    read = ctx.meta.get(CONFIG_META)
    if read is None:
        return None
    return {"path": str(Path(read["path"]).resolve()), "options": dict(read["options"])}


@app.command()
def run(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", is_eager=True, callback=load_config, help=CONFIG_HELP),
    tasks: str = typer.Option(
        ..., "--tasks", help="Comma-separated task names or groups (see `list tasks`); here or in --config."
    ),
    model: str = typer.Option(
        ..., "--model",
        help="Janus-Pro-7B, Janus-Pro-1B, Janus-1.3B, janus-tiny, a hub id or a folder; here or in --config.",
    ),  # fmt: skip
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="First N samples of each task (fixed order)."),
    offset: int = typer.Option(
        0, "--offset", min=0, help="Skip the first N samples of each task (with --limit: samples N to N+LIMIT)."
    ),
    sample_id: Optional[list[str]] = typer.Option(
        None, "--sample-id", help="Only these sample ids (comma-separated or repeated), as in a run's samples.jsonl."
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Samples per model call."),
    output: Path = typer.Option(Path("results"), "--output", help="Results folder; the run goes in OUTPUT/RUN_ID."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Name of the run; rerun the same id to resume."),
    demo: bool = typer.Option(False, "--demo", help="Use the small sample sets shipped in the package (offline)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Local dataset copies in DATA_DIR/<task>/."),
    device: Optional[str] = typer.Option(
        None, "--device", callback=check_device, help="cuda or cpu (default: cuda when available)."
    ),
    dtype: Optional[str] = typer.Option(
        None, "--dtype", callback=check_dtype, help="bfloat16 (CUDA default) or float32 (CPU default)."
    ),
    seed: int = typer.Option(0, "--seed", help="Run seed (image generation)."),
    allow_pickle: bool = typer.Option(False, "--allow-pickle", help="Allow non-safetensors weights (runs code)."),
    progress: bool = typer.Option(
        True, "--progress/--no-progress",
        help="Progress bars on a terminal; off (or in a log): a plain line per phase every 30 s.",
    ),  # fmt: skip
    compile: bool = typer.Option(
        False, "--compile", help="Static KV cache and a compiled per-token step (faster decoding on CUDA)."
    ),
    workers: Optional[int] = typer.Option(
        None, "--workers", min=0, help="Data workers decoding images ahead of the model (default: 4 on CUDA, 0 on CPU)."
    ),
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_api_key_env: JudgeApiKeyEnv = None,
    judge_runs: JudgeRuns = None,
    judge_timeout: JudgeTimeout = None,
    judge_concurrency: JudgeConcurrency = 4,
    cfg: Optional[float] = typer.Option(
        None, "--cfg", callback=check_finite, help="Generation: CFG weight (official default 5)."
    ),
    temperature: Optional[float] = typer.Option(
        None, "--temperature", callback=check_temperature, help="Generation: temperature (default 1.0)."
    ),
    images_per_prompt: Optional[int] = typer.Option(
        None, "--images-per-prompt", min=1, help="Generation: images per prompt (default 4)."
    ),
    dpg_csv: DpgCsv = None,
    vqa_model: VqaModel = None,
    official_quirks: OfficialQuirks = False,
    geneval_dir: GenevalDir = None,
    protocol: Protocol = "janus-pro",
    n_boot: NBoot = 1000,
    boot_seed: int = typer.Option(0, "--boot-seed", help="Seed of the intervals' bootstrap (--seed: the run's)."),
) -> None:
    """Evaluate a model on tasks; writes OUTPUT/RUN_ID/ and prints the scores."""
    quiet_heavy_libraries()
    from janus_eval.analyse.intervals import check_n_boot
    from janus_eval.core.spec import RunSpec
    from janus_eval.runner import default_run_id, tasks_with_judges
    from janus_eval.runner import run as run_tasks
    from janus_eval.solve.generation import with_generation_overrides
    from janus_eval.tasks.registry import resolve_tasks

    check_n_boot(n_boot)  # before any model work

    judges = make_judges(
        judge_model, judge_base_url, judge_api_key_env, judge_runs, demo, judge_timeout, judge_concurrency
    )
    task_list, skipped = tasks_with_judges(tasks, resolve_tasks(tasks, protocol), judges)
    for note in skipped:
        typer.echo(note, err=True)
    task_list = [
        with_generation_overrides(t, cfg=cfg, temperature=temperature, images_per_prompt=images_per_prompt)
        for t in task_list
    ]
    spec = RunSpec(
        model=model, output=output, limit=limit, offset=offset, sample_ids=sample_id_list(ctx, sample_id),
        config=config_record(ctx), batch_size=batch_size, demo=demo,
        run_id=run_id or default_run_id(model),  # named here, so a Ctrl-C can say which run to resume
        data_dir=data_dir, device=device, dtype=dtype, seed=seed, allow_pickle=allow_pickle, progress=progress,
        workers=workers, compile=compile, n_boot=n_boot, boot_seed=boot_seed,
    )  # fmt: skip
    overrides = scoring_overrides(dpg_csv, vqa_model, official_quirks, geneval_dir)
    try:
        store = run_tasks(task_list, spec, judges, scoring_overrides=overrides)
    except KeyboardInterrupt:
        if int(os.environ.get("RANK", "0")) == 0:
            typer.echo(interrupted_line(output, spec.run_id, [t.name for t in task_list]), err=True)
        raise typer.Exit(130) from None
    if int(os.environ.get("RANK", "0")) != 0:
        return  # torchrun: rank 0 reports
    typer.echo(summary(store.read_scores()))  # with the intervals the runner wrote
    if demo:
        typer.echo("demo: shipped sample sets and random-weight judges; these numbers test the pipeline, not a model")
    typer.echo(f"run folder: {store.root}  (every variant: {store.root / 'scores.csv'})")


def interrupted_line(output: Path, run_id: str | None, tasks: list[str]) -> str:
    """What a Ctrl-C kept and the command that resumes it: the same command line with
    `--run-id` (appended when the run was named by default)."""
    import shlex

    from janus_eval.store.run_store import RunStore

    kept = []
    if run_id is not None:
        store = RunStore(Path(output) / run_id)
        kept = [f"{name} {len(store.done_ids(name))}" for name in tasks if store.samples_path(name).exists()]
    args = sys.argv[1:]
    if "--run-id" not in args and not any(a.startswith("--run-id=") for a in args):
        args = [*args, "--run-id", str(run_id)]
    what = f"kept {', '.join(kept)} samples" if kept else "no samples finished yet"
    return f"interrupted: {what}; resume with: janus-eval {shlex.join(args)}"


@app.command()
def score(
    samples: Path = typer.Argument(..., help="A samples JSONL: the dataset's text columns + `prediction`."),
    task: str = typer.Option(..., "--task", help="The task the predictions are for."),
    output: Path = typer.Option(Path("results"), "--output", help="Results folder; the run goes in OUTPUT/RUN_ID."),
    run_id: Optional[str] = typer.Option(None, "--run-id", help="Name of the run folder."),
    model: str = typer.Option("external", "--model", help="Which model made the predictions (for the paper column)."),
    judge_model: JudgeModel = None,
    judge_base_url: JudgeBaseUrl = None,
    judge_api_key_env: JudgeApiKeyEnv = None,
    judge_runs: JudgeRuns = None,
    judge_timeout: JudgeTimeout = None,
    judge_concurrency: JudgeConcurrency = 4,
    dpg_csv: DpgCsv = None,
    vqa_model: VqaModel = None,
    official_quirks: OfficialQuirks = False,
    geneval_dir: GenevalDir = None,
    protocol: Protocol = "janus-pro",
    n_boot: NBoot = 1000,
    seed: int = typer.Option(0, "--seed", help="Seed of the intervals' bootstrap."),
) -> None:
    """Score saved or external predictions into a run folder, as `run` would."""
    quiet_heavy_libraries()
    from janus_eval.analyse.intervals import check_n_boot
    from janus_eval.runner import score_file, tasks_with_judges
    from janus_eval.tasks.registry import load_task

    check_n_boot(n_boot)

    judges = make_judges(
        judge_model, judge_base_url, judge_api_key_env, judge_runs, judge_timeout=judge_timeout,
        judge_concurrency=judge_concurrency,
    )  # fmt: skip
    task_list, _ = tasks_with_judges(task, [load_task(task, protocol)], judges)
    overrides = scoring_overrides(dpg_csv, vqa_model, official_quirks, geneval_dir)
    try:
        store = score_file(
            task_list[0], samples, output, run_id, model, judges, scoring_overrides=overrides, n_boot=n_boot,
            boot_seed=seed,
        )  # fmt: skip
    except KeyboardInterrupt:
        typer.echo(score_interrupted_line(judges), err=True)
        raise typer.Exit(130) from None
    typer.echo(summary(store.read_scores()))
    typer.echo(f"run folder: {store.root}")


def score_interrupted_line(judges) -> str:
    """`score` writes its run folder whole at the end, so a Ctrl-C leaves none; what it keeps
    is the judge's replies, cached as they come, which the same command does not ask again."""
    if judges.llm is None:
        return "interrupted: no run folder written; rerun the same command"
    return (
        f"interrupted: no run folder written; the judge's replies so far are cached in {judges.llm.cache_path}, "
        "so the same command does not ask them again"
    )


@app.command()
def report(
    runs: list[Path] = typer.Argument(
        ..., help="Run folders, or results folders (each stands for every finished run it holds)."
    ),
    output: Path = typer.Option(Path("report"), "-o", "--output", help="Folder for leaderboard.html/.md/.csv."),
    failures: int = typer.Option(50, "--failures", min=0, help="Wrong answers shown per run and task (HTML)."),
    gallery: int = typer.Option(24, "--gallery", min=0, help="Generated samples shown per run and task."),
    n_boot: NBoot = 1000,
    seed: int = typer.Option(0, "--seed", help="Seed of the intervals' bootstrap."),
) -> None:
    """Leaderboard of runs beside the Janus-Pro report: self-contained HTML, markdown, long CSV."""
    from janus_eval.analyse.intervals import check_n_boot
    from janus_eval.analyse.report import build_report
    from janus_eval.core.files import check_writable

    check_n_boot(n_boot)
    check_writable(output, "-o")  # before reading the runs
    try:
        built = build_report(runs, output, failure_limit=failures, gallery_limit=gallery, n_boot=n_boot, seed=seed)
    except KeyboardInterrupt:
        typer.echo(f"interrupted: the report in {output} is incomplete; rerun the same command to write it whole",
                   err=True)  # fmt: skip
        raise typer.Exit(130) from None
    for kind, path in built.items():
        typer.echo(f"{kind:<5} {path}")


@app.command()
def compare(
    baseline: Path = typer.Argument(..., help="The baseline run folder."),
    new: Path = typer.Argument(..., help="The run folder to check."),
    tolerance: float = typer.Option(
        0.0, "--tolerance", min=0.0, callback=check_finite, help="Allowed drop, in the metric's units."
    ),
    tolerances: Optional[Path] = typer.Option(None, "--tolerances", help="YAML of per-metric tolerances."),
    output: Optional[Path] = typer.Option(None, "--output", help="Also write the markdown table to this file."),
    gate: str = typer.Option("headline", "--gate", help="headline: gate each task's headline; all: every metric."),
    n_boot: int = typer.Option(1000, "--n-boot", min=100, help="Bootstrap resamples."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
) -> None:
    """Regression gate: paired bootstrap of NEW - BASELINE; exit 1 on a regression, 2 on unusable input."""
    from janus_eval.analyse.compare import compare as compare_runs
    from janus_eval.core.files import atomic_write_text, check_writable

    if output is not None:
        check_writable(output.parent)
    try:
        result = compare_runs(baseline, new, tolerance, tolerances, n_boot, seed, gate)
    except KeyboardInterrupt:  # 130, never 0 or 1: a CI gate must not read an interrupted check as a verdict
        typer.echo("interrupted: nothing compared and nothing written; rerun the same command", err=True)
        raise typer.Exit(130) from None
    text = result.markdown()
    typer.echo(text)
    if output is not None:
        atomic_write_text(output, text)
    raise typer.Exit(result.exit_code)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns under a header, two spaces apart (the last column is not padded)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


@app.command("list")
def list_(what: str = typer.Argument("tasks", help="tasks or models")) -> None:
    """List the registered tasks or the known models."""
    if what == "tasks":
        from janus_eval.analyse.paper import paper_numbers
        from janus_eval.tasks.registry import groups, load_task, task_names

        paper = paper_numbers("Janus-Pro-7B")
        rows = []
        for name in task_names():
            t = load_task(name)
            data = t.dataset.path + (f" [{t.dataset.name}]" if t.dataset.name else "") + f" {t.dataset.split}"
            metric, _, subset = t.headline.partition("/")
            number = paper.get((name, metric, subset))
            shown = "-" if number is None else f"{number:g}"
            rows.append([name, t.kind, data, t.headline.rstrip("/"), shown, t.description])
        typer.echo(text_table(["task", "kind", "data", "headline", "Pro-7B", "description"], rows))
        typer.echo("")
        typer.echo(text_table(["group", "tasks"], [[g, ", ".join(m)] for g, m in groups().items()]))
    elif what == "models":
        from janus_eval.solve.models import KNOWN_MODELS
        from janus_eval.solve.models.tiny import TINY_NAME

        rows = [[name, known.hub_id] for name, known in KNOWN_MODELS.items()]
        rows.append([TINY_NAME, "tiny random Janus built offline (tests, quick start)"])
        typer.echo(text_table(["model", "weights"], rows))
    else:
        raise UsageError(f"unknown list '{what}'; use `janus-eval list tasks` or `janus-eval list models`")


def quiet_libraries() -> None:
    """Our own progress bar is the one a user reads; silence the libraries' bars and warnings.
    Cheap: nothing heavy is imported here (see quiet_heavy_libraries)."""
    import logging
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for module in ("mmdet", "mmengine", "mmcv", "torch", "timm", "open_clip"):  # the judges' own chatter
        warnings.filterwarnings("ignore", category=UserWarning, module=module)
        warnings.filterwarnings("ignore", category=FutureWarning, module=module)
    for name in ("datasets", "transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.ERROR)


def quiet_heavy_libraries() -> None:
    """datasets' and transformers' own switches; they import in seconds, so only the verbs that
    load data or models call this (`--help`, `--version` and `list` stay fast)."""
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def click_error_types() -> tuple[type[BaseException], ...]:
    """click's exception base classes: typer >= 0.22 raises those of its own copy (typer._click), older
    typer click's; either is a user's mistake on the command line."""
    import click

    types: list[type[BaseException]] = [click.exceptions.ClickException]
    try:
        from typer._click import exceptions as typer_click

        types.append(typer_click.ClickException)
    except ImportError:
        pass
    return tuple(types)


def config_line(exc: BaseException) -> str | None:
    """A bad value that came from the --config file: the line names the file and its key."""
    ctx, param = getattr(exc, "ctx", None), getattr(exc, "param", None)
    if ctx is None or param is None or CONFIG_META not in ctx.meta:
        return None
    read = ctx.meta[CONFIG_META]
    option = (getattr(param, "opts", None) or [f"--{param.name}"])[0]
    if type(exc).__name__ == "MissingParameter":
        key = param.name.replace("_", "-")
        return f"error: missing option '{option}'; give it, or put `{key}: ...` in {read['path']}"
    source = ctx.get_parameter_source(param.name)
    if getattr(source, "name", None) != "DEFAULT_MAP":
        return None
    message = " ".join(str(getattr(exc, "message", "") or exc).split()).rstrip(".")
    key = read["keys"][param.name]
    return f"error: --config {read['path']}: key '{key}': {message}; fix it there (or give {option})"


def usage_line(exc: BaseException) -> str:
    """click's message for a command-line mistake, on one line, with where to look."""
    from_config = config_line(exc)
    if from_config is not None:
        return from_config
    message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
    option = getattr(exc, "option_name", None)
    ctx = getattr(exc, "ctx", None)
    if option and ctx is not None and "_" in option:  # lmms-eval and lm-eval spell options with _
        dashed = option.replace("_", "-")
        known = any(dashed in getattr(p, "opts", ()) for p in ctx.command.params)
        if known and dashed not in (getattr(exc, "possibilities", None) or ()):
            message += f"; did you mean {dashed}?"
    if ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return f"error: {message}"


def main() -> None:
    quiet_libraries()
    try:
        code = app(standalone_mode=False)  # click returns (not raises) a typer.Exit's code here
        if isinstance(code, int) and code:
            sys.exit(code)
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted; finished samples are saved — rerun with the same --run-id to resume", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        if isinstance(exc, click_error_types()):  # click's own usage errors: one line, exit 2
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare `janus-eval`: the help is the answer
                exc.show()  # type: ignore[attr-defined]
            else:
                typer.echo(usage_line(exc), err=True)
            code = getattr(exc, "exit_code", 2)
            sys.exit(2 if code == 1 else code)
        if type(exc).__name__ == "Abort":  # click's Abort (typer's or click's copy)
            sys.exit(1)
        # A crash is not a verdict: exit 3, so a CI gate never reads it as "regression" (1).
        import traceback

        traceback.print_exc()
        typer.echo(f"internal error ({type(exc).__name__}); finished samples are saved. Please report it.", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
