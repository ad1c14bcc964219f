"""Orchestrates `run` and `score`: task -> samples -> requests -> adapter -> records
-> scorer -> score table, writing everything through the run store."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pandas as pd

from janus_eval.analyse.intervals import N_BOOT, SEED, with_intervals
from janus_eval.analyse.paper import with_paper
from janus_eval.core.errors import UsageError
from janus_eval.core.files import check_writable
from janus_eval.core.manifest import UNKNOWN_MODEL, Manifest, ModelInfo, TaskEntry
from janus_eval.core.metric import unit_of
from janus_eval.core.progress import progress, say
from janus_eval.core.record import ERROR, SAMPLE_ID, Record
from janus_eval.core.requests import Ask, Prepared
from janus_eval.core.sample import Sample
from janus_eval.core.spec import RunSpec
from janus_eval.core.task import TaskConfig
from janus_eval.data.load import load_samples, make_ids
from janus_eval.score.judges import Judges
from janus_eval.solve import distributed
from janus_eval.solve.generation import draw_samples, generation_settings
from janus_eval.solve.models.base import ModelAdapter
from janus_eval.solve.pipeline import prepared_batches
from janus_eval.store.run_info import run_info
from janus_eval.store.run_store import RunStore, json_objects, safe_name
from janus_eval.tasks.dataset_rows import check_dataset_rows
from janus_eval.tasks.registry import get_metrics, get_preflight, get_scorer, with_scoring_overrides


def default_run_id(model: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in model.rstrip("/").split("/")[-1])
    return f"{slug}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment() -> tuple[dict[str, Any], str | None]:
    """(package versions, git sha) of this install."""
    import importlib.metadata as md

    versions: dict[str, str | None] = {}
    for pkg in ("janus-eval", "torch", "transformers", "datasets", "pandas", "pillow"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        sha = None
    return versions, sha


# --- understanding ------------------------------------------------------------
def answer_samples(
    task: TaskConfig, samples: list[Sample], adapter: ModelAdapter, store: RunStore, opts: RunSpec
) -> None:
    """Ask the model the given (pending, this rank's) samples, appending records batch by batch."""
    preparer = adapter.preparer() if hasattr(adapter, "preparer") else _asks
    generate = adapter.generate if hasattr(adapter, "generate") else (lambda p: adapter.answer(p.inputs))
    batches = list(chunks(samples, opts.batch_size))
    bar = progress(len(samples), task.name, "sample", enabled=opts.progress)
    with bar:
        for records, slots, prepared in prepared_batches(task, preparer, batches, opts.workers or 0):
            answers = generate(prepared) if prepared is not None else []
            for slot, prompt, text in zip(slots, prepared.prompts if prepared is not None else [], answers):
                records[slot].prompt = prompt
                records[slot].prediction = text
            store.append_records(task.name, records, shard=opts.shard)
            bar.update(len(records))


def _asks(asks: list[Ask]) -> Prepared:
    """The preparer of an adapter without one: its `answer` takes the Asks themselves."""
    return Prepared(asks, [a.max_new_tokens for a in asks], [a.prompt for a in asks])


# kind -> function(task, pending samples of this rank, adapter, store, opts)
TASK_RUNNERS: dict[str, Callable[..., None]] = {"understanding": answer_samples, "generation": draw_samples}


# --- scoring ------------------------------------------------------------------
def score_records(
    task: TaskConfig,
    records: list[dict[str, Any]],
    judges: Judges | None,
    image_root: str | Path | None = None,
    device: str | None = None,
    progress: bool = True,
):
    """Run the task's scorer with its settings (`task.scoring`: the YAML's and the command
    line's) and the invocation's context beside them: `image_root`, the folder image paths are
    relative to, the `device` judges run on, and `progress`, whether judging draws a bar (off:
    plain lines, `run --no-progress`); none is a setting: not in the hash. Returns (records
    with parsed/score, table with a task column)."""
    frame = pd.DataFrame.from_records(records)
    if ERROR not in frame:
        frame[ERROR] = None
    frame[ERROR] = frame[ERROR].astype(object).where(frame[ERROR].notna(), None)
    context: dict[str, Any] = {k: v for k, v in (("image_root", image_root), ("device", device)) if v is not None}
    context["progress"] = progress
    try:
        scored = get_scorer(task.scorer)(frame, {**task.scoring, **context}, judges)
    except KeyError as exc:
        raise UsageError(f"task {task.name}: the samples have no column {exc}, which its scorer needs") from exc
    except (ValueError, TypeError) as exc:  # a value the scorer cannot read
        raise UsageError(f"task {task.name}: its scorer cannot use the samples or settings: {exc}") from exc
    for col in scored.per_sample.columns:
        frame[col] = scored.per_sample[col]
    frame = frame.astype(object).where(frame.notna(), None)
    table = scored.table.copy()
    table.insert(0, "task", task.name)
    declared = get_metrics(task.scorer)
    table.insert(4, "unit", [unit_of(m, declared) for m in table["metric"]])  # 5 answers, not 5%
    return frame.to_dict(orient="records"), table


def _write_scores(
    store: RunStore, new: pd.DataFrame, model: str, demo: bool = False, n_boot: int = N_BOOT, boot_seed: int = SEED
) -> pd.DataFrame:
    """Merge this invocation's tables into the run's scores (other tasks' rows are kept), each
    new row with its 95% interval from the task's stored records (so a run folder always holds
    them, however the runner was called). Demo runs (shipped samples, random-weight judges) get
    no paper column: their numbers test the pipeline, not a model."""
    new = with_paper(new, None if demo else model)
    new, _ = with_intervals(run_info(store), new, n_boot, boot_seed)
    path = store.root / "scores.csv"
    if path.exists():
        old = store.read_scores()
        old = old[~old["task"].isin(set(new["task"]))]
        new = pd.concat([old, new], ignore_index=True)
    store.write_scores(new)
    return new


# --- run ------------------------------------------------------------------------
def check_resume(manifest: Manifest | None, model: str, tasks: list[TaskConfig]) -> None:
    if manifest is None:
        return
    if manifest.model.name not in (UNKNOWN_MODEL, model):
        raise UsageError(
            f"run {manifest.run_id} was made with model {manifest.model.name}, not {model}; give a new --run-id"
        )
    for task in tasks:
        old = manifest.task(task.name)
        if old is not None and old.config_hash != task.config_hash():
            raise UsageError(
                f"task {task.name} changed since run {manifest.run_id} started (config hash "
                f"{old.config_hash} -> {task.config_hash()}); give a new --run-id"
            )


DATA_KEYS = ("kind", "path", "name", "split", "revision")


def check_resume_data(manifest: Manifest | None, data: dict[str, Any]) -> None:
    """A resumed task must read the same data (demo / local copy / hub id and revision)."""
    if manifest is None:
        return
    for name, loaded in data.items():
        old = manifest.task(name)
        if old is None or not old.data:
            continue
        before = {k: old.data.get(k) for k in DATA_KEYS}
        now = {k: loaded.source.get(k) for k in DATA_KEYS}
        if before != now:
            changed = ", ".join(f"{k} {before[k]} -> {now[k]}" for k in DATA_KEYS if before[k] != now[k])
            raise UsageError(f"task {name} of run {manifest.run_id} read other data ({changed}); give a new --run-id")


def check_resume_settings(manifest: Manifest | None, opts: RunSpec, tasks: list[TaskConfig]) -> None:
    """Images drawn with another seed, or answers in another dtype, cannot share a run."""
    if manifest is None:
        return
    drawn = [t.name for t in tasks if t.kind == "generation" and t.name in manifest.started_tasks]
    if drawn and manifest.seed not in (None, opts.seed):
        raise UsageError(
            f"run {manifest.run_id} drew {', '.join(drawn)} with --seed {manifest.seed}, not {opts.seed}; "
            "give a new --run-id"
        )


def check_resume_weights(manifest: Manifest | None, described: dict[str, Any]) -> None:
    if manifest is None:
        return
    old_dtype = manifest.model.dtype
    if old_dtype and described.get("dtype") and old_dtype != described["dtype"]:
        raise UsageError(f"run {manifest.run_id} ran in {old_dtype}, not {described['dtype']}; give a new --run-id")
    old = manifest.model.fingerprint
    if old and described.get("fingerprint") and old != described["fingerprint"]:
        raise UsageError(
            f"the weights of {described.get('model')} changed since run {manifest.run_id} started "
            f"(fingerprint {old} -> {described['fingerprint']}); give a new --run-id"
        )


def selected_tasks(
    tasks: list[TaskConfig], data: dict[str, Any], opts: RunSpec
) -> tuple[list[TaskConfig], list[str]]:
    """The tasks left with samples after --sample-id and --offset, and a note for each one left
    out. An id no task has, or an offset past a task's last sample, is a UsageError (before a
    model is loaded); a task holding none of the --sample-id ids is left out."""
    wanted = set(opts.sample_ids or ())
    if opts.sample_ids is not None:
        missing = [i for i in dict.fromkeys(opts.sample_ids) if all(i in data[t.name].unmatched for t in tasks)]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            shown = ", ".join(repr(i) for i in missing[:5]) + more
            raise UsageError(
                f"--sample-id {shown}: no such sample in task(s) {', '.join(t.name for t in tasks)}; the ids are "
                f"the `{SAMPLE_ID}` values of a run's <task>/samples.jsonl"
            )
    kept, notes = [], []
    for task in tasks:
        loaded = data[task.name]
        matched = loaded.total if opts.sample_ids is None else len(wanted - loaded.unmatched)
        if loaded.samples:
            kept.append(task)
        elif matched == 0:
            notes.append(f"skipping {task.name}: it has none of the --sample-id ids")
        else:
            chosen = "" if opts.sample_ids is None else " of the --sample-id ids"
            raise UsageError(
                f"--offset {opts.offset} is past the last sample of task {task.name} ({matched} samples{chosen}); "
                "give a smaller one"
            )
    return kept, notes


def _data_workers(opts: RunSpec, device: str) -> int:
    if opts.workers is not None:
        return opts.workers
    return 4 if device.startswith("cuda") else 0


def tasks_with_judges(
    spec: str, tasks: list[TaskConfig], judges: Judges | None
) -> tuple[list[TaskConfig], list[str]]:
    """Tasks graded by an LLM judge need one. Named on the command line without a
    judge: a UsageError before any model work. Reached through a group: left out,
    with a note saying why (returned for the caller to print)."""
    if judges is not None and judges.llm is not None:
        return tasks, []
    named = {p.strip() for p in spec.split(",")}
    kept, notes = [], []
    for task in tasks:
        if not task.requires_judge:
            kept.append(task)
        elif task.name in named:
            raise UsageError(
                f"task {task.name} is graded by an LLM judge: give --judge-model MODEL (and --judge-base-url URL "
                f"for a local OpenAI-compatible server; the API key is read from $OPENAI_API_KEY or the variable "
                f"named by --judge-api-key-env)"
            )
        else:
            notes.append(
                f"skipping {task.name}: it is graded by an LLM judge and none is configured (give --judge-model)"
            )
    if not kept:
        raise UsageError("no task left to run: " + "; ".join(notes))
    return kept, notes


def with_command_line_settings(tasks: list[TaskConfig], overrides: Mapping[str, Any] | None) -> list[TaskConfig]:
    """The tasks with the command-line scorer settings (`--dpg-csv`, `--vqa-model`,
    `--official-quirks`, `--geneval-dir`) put into the `scoring` of each task whose scorer
    takes them: from here on they are the task's settings, in its config hash (so resume
    and compare see them) and in the manifest."""
    return [with_scoring_overrides(t, overrides or {}) for t in tasks]


def run(
    tasks: list[TaskConfig],
    opts: RunSpec,
    judges: Judges | None = None,
    load_model=None,
    scoring_overrides: Mapping[str, Any] | None = None,
) -> RunStore:
    """Run `tasks` as `opts` says; `scoring_overrides`: the command-line scorer settings."""
    from janus_eval.core.paths import default_device
    from janus_eval.solve.models import load_model as default_loader

    tasks = with_command_line_settings(tasks, scoring_overrides)
    world = distributed.setup(opts.device)
    device = opts.device or default_device()
    if world.size > 1 and device.startswith("cuda"):
        device = f"cuda:{world.local_rank}"
    run_id = safe_name(distributed.from_main(world, opts.run_id or default_run_id(opts.model)), "run id")
    opts = replace(
        opts, run_id=run_id, device=device, rank=world.rank, world_size=world.size,
        workers=_data_workers(opts, device),
    )  # fmt: skip
    store = RunStore(Path(opts.output) / run_id)
    check_writable(store.root)  # a new run, or the resume of a finished one: before any work
    distributed.check_shared(world, store.root)
    manifest = store.read_manifest()
    judges = judges if judges is not None else Judges(demo=opts.demo)
    # Cheap checks and data first: bad input fails before a model is loaded.
    check_resume(manifest, opts.model, tasks)
    data = {
        t.name: load_samples(
            t, demo=opts.demo, data_dir=opts.data_dir, limit=opts.limit, offset=opts.offset, sample_ids=opts.sample_ids
        )
        for t in tasks
    }  # fmt: skip
    tasks, notes = selected_tasks(tasks, data, opts)
    for note in notes if world.main else []:
        say(note)
    check_resume_data(manifest, data)
    check_resume_settings(manifest, opts, tasks)
    for task in tasks:  # settings, question files, judges: checked before hours of generation
        if task.kind == "generation":
            generation_settings(task)
        preflight = get_preflight(task.scorer)
        if preflight is not None:
            preflight(task.scoring, judges)
        check_dataset_rows(task, data[task.name], demo=opts.demo)  # the samples contract on its rows
    started = time.perf_counter()
    if world.main:
        say(f"loading {opts.model} on {device}")  # seconds to minutes: say what is happening
    adapter = (load_model or default_loader)(
        opts.model, device=opts.device, dtype=opts.dtype, allow_pickle=opts.allow_pickle, compile=opts.compile
    )
    check_resume_weights(manifest, adapter.describe())
    manifest = manifest or Manifest(run_id=run_id, created=_now())
    manifest.versions, manifest.git_sha = environment()
    manifest.model = ModelInfo.from_description(adapter.describe())
    manifest.seed, manifest.demo, manifest.batch_size = opts.seed, opts.demo, opts.batch_size
    manifest.world_size, manifest.data_workers = world.size, opts.workers
    manifest.protocol = sorted({t.protocol for t in tasks})
    manifest.judge = judges.describe()
    manifest.scoring_overrides = dict(scoring_overrides or {})
    manifest.config = opts.config
    manifest.timings["model_load_s"] = round(time.perf_counter() - started, 3)
    for task in tasks:
        manifest.tasks[task.name] = TaskEntry(
            config=task.to_dict(), config_hash=task.config_hash(), data=data[task.name].source,
            n_samples=len(data[task.name].samples), limit=opts.limit, offset=opts.offset or None,
            sample_ids=None if opts.sample_ids is None else list(opts.sample_ids),
        )  # fmt: skip
    if world.main:
        store.remove_partial_writes()  # left by a write that failed (disk full) or was killed
        store.write_manifest(manifest)

    for task in tasks:
        samples = data[task.name].samples
        t0 = time.perf_counter()
        done = store.done_ids(task.name)
        distributed.barrier(world)  # every rank sees the same pending list before any writes
        todo = [s for s in samples if s.id not in done]
        kept = len(samples) - len(todo)
        if kept and world.main:
            say(f"{task.name}: {kept} of {len(samples)} samples kept from the earlier run")
        TASK_RUNNERS[task.kind](task, todo[world.rank :: world.size], adapter, store, opts)
        distributed.barrier(world)
        t1 = time.perf_counter()
        if world.main:
            store.merge_shards(task.name)
            order = {s.id: i for i, s in enumerate(samples)}
            latest = {r[SAMPLE_ID]: r for r in store.read_records(task.name)}  # a redrawn sample's last record
            records = sorted((r for i, r in latest.items() if i in order), key=lambda r: order[r[SAMPLE_ID]])
            others = [r for i, r in latest.items() if i not in order]  # e.g. beyond a smaller --limit: kept
            lost = len(samples) - len(records)
            if lost:  # every rank wrote a record per sample it was given: some files never reached rank 0
                raise UsageError(
                    f"task {task.name}: {lost} of {len(samples)} samples have no record after {world.size} ranks "
                    f"finished; is {store.root} one folder shared by every node? rerun with the same --run-id "
                    "to answer only those"
                )
            if task.kind == "generation" or task.requires_judge:  # judging can take a while: say so
                say(f"{task.name}: scoring {len(records)} samples")
            records, table = score_records(
                task, records, judges, image_root=str(store.task_dir(task.name)), device=opts.device,
                progress=opts.progress,
            )
            store.rewrite_records(task.name, records + others)
            manifest.tasks[task.name].resumed_samples = len(samples) - len(todo)
            manifest.timings[task.name] = {
                "answer_s": round(t1 - t0, 3), "score_s": round(time.perf_counter() - t1, 3),
            }  # fmt: skip
            manifest.updated = _now()
            manifest.judge = judges.describe()  # judges that loaded while scoring
            store.write_manifest(manifest)
            # written after every task: a later task's failure loses no finished scores
            _write_scores(store, table, adapter.describe()["model"], opts.demo, opts.n_boot, opts.boot_seed)
    distributed.barrier(world)
    return store


# --- score -------------------------------------------------------------------------
def read_samples_file(path: Path, task: TaskConfig) -> list[dict[str, Any]]:
    """Read a samples JSONL (the samples contract: `prediction` and the task's id columns on
    every line, and every field the task's scorer reads of the type and the values its benchmark
    allows); a bad line names its number, the field and what it should be."""
    from janus_eval.score.contract import check_row
    from janus_eval.tasks.registry import get_sample_contract

    if not path.is_file():
        raise UsageError(f"no samples file at {path}")
    contract = get_sample_contract(task.scorer, task.scoring, root=path.resolve().parent)  # images, questions
    rows = []
    with open(path, encoding="utf-8") as fh:
        try:
            for n, row in json_objects(path, fh):
                missing = [c for c in ("prediction", *task.id_columns) if c not in row]
                if missing:
                    raise UsageError(f"{path}:{n}: missing field(s) {', '.join(missing)} (the samples contract)")
                if contract is not None:
                    problem = check_row(row, *contract)
                    if problem:
                        raise UsageError(f"{path}:{n}: {problem} (task {task.name}); fix that line")
                rows.append(row)
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
            ) from exc
    if not rows:
        raise UsageError(f"{path} holds no samples")
    return rows


def score_samples_file(task: TaskConfig, path: Path, judges: Judges | None = None):
    """A samples file read, checked against the task's contract and scored, nothing written:
    (records with parsed/score, table); bad input is a UsageError."""
    rows = read_samples_file(path, task)
    ids = make_ids(rows, task.id_columns)
    records = [Record.new(i, r, error=r.get(ERROR)).to_dict() for i, r in zip(ids, rows)]
    # Image paths in a samples file are relative to the file's folder.
    return score_records(task, records, judges, image_root=str(path.resolve().parent))


def score_file(
    task: TaskConfig,
    path: Path,
    output: Path,
    run_id: str | None,
    model: str,
    judges: Judges | None = None,
    scoring_overrides: Mapping[str, Any] | None = None,
    n_boot: int = N_BOOT,
    boot_seed: int = SEED,
) -> RunStore:
    """Score a samples file into a new run folder; `scoring_overrides`: the command-line
    scorer settings, put into the task's config first (as `run` does); `n_boot`, `boot_seed`:
    the intervals' bootstrap."""
    (task,) = with_command_line_settings([task], scoring_overrides)
    check_writable(Path(output))  # before the scoring (judges can take long)
    records, table = score_samples_file(task, Path(path), judges)
    run_id = safe_name(run_id or f"score-{task.name}-{Path(path).stem.replace('.', '-')}", "run id")
    final = Path(output) / run_id
    if final.exists():
        raise UsageError(f"{final} exists already; give another --run-id or --output")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=final.parent))
    try:
        store = RunStore(tmp)
        store.rewrite_records(task.name, records)
        versions, sha = environment()
        store.write_manifest(
            Manifest(
                run_id=run_id, created=_now(), kind="score", source_file=str(Path(path).resolve()),
                model=ModelInfo(name=model), protocol=[task.protocol], versions=versions, git_sha=sha,
                judge=judges.describe() if judges is not None else None,
                scoring_overrides=dict(scoring_overrides or {}),
                tasks={task.name: TaskEntry(config=task.to_dict(), config_hash=task.config_hash(),
                                            n_samples=len(records))},
            )  # fmt: skip
        )
        _write_scores(store, table, model, n_boot=n_boot, boot_seed=boot_seed)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunStore(final)
