"""Orchestrates `run` and `score`: task -> samples -> requests -> adapter -> records
-> scorer -> score table, writing everything through the run store."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from tqdm import tqdm

from . import distributed
from .data import Sample, load_samples, make_ids
from .errors import UsageError
from .generation import draw_samples, generation_settings
from .judges import Judges
from .models.base import Ask, ModelAdapter
from .paper import with_paper
from .pipeline import prepared_batches
from .registry import TaskConfig
from .scoring import get_preflight, get_scorer
from .store import RunStore, json_objects, safe_name


@dataclass
class RunOptions:
    model: str
    output: Path = Path("results")
    run_id: str | None = None
    limit: int | None = None
    batch_size: int = 8
    demo: bool = False
    data_dir: Path | None = None
    device: str | None = None
    dtype: str | None = None
    seed: int = 0
    allow_pickle: bool = False
    progress: bool = True
    compile: bool = False  # static KV cache + compiled per-token step (CUDA)
    workers: int | None = None  # data workers; None: 4 on CUDA, 0 on CPU
    rank: int = 0  # torchrun: this process's rank and the world size
    world_size: int = 1
    scoring: dict[str, Any] = field(default_factory=dict)  # scorer settings from the command line

    @property
    def shard(self) -> int | None:
        return self.rank if self.world_size > 1 else None


def default_run_id(model: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in model.rstrip("/").split("/")[-1])
    return f"{slug}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def environment() -> dict[str, Any]:
    import importlib.metadata as md

    versions = {}
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
    return {"versions": versions, "git_sha": sha}


# --- understanding ------------------------------------------------------------
def answer_samples(
    task: TaskConfig, samples: list[Sample], adapter: ModelAdapter, store: RunStore, opts: RunOptions
) -> None:
    """Ask the model the given (pending, this rank's) samples, appending records batch by batch."""
    preparer = adapter.preparer() if hasattr(adapter, "preparer") else _asks
    generate = adapter.generate if hasattr(adapter, "generate") else adapter.answer
    batches = list(chunks(samples, opts.batch_size))
    bar = tqdm(total=len(samples), unit="sample", desc=task.name, disable=not opts.progress, dynamic_ncols=True)
    with bar:
        for records, slots, prepared in prepared_batches(task, preparer, batches, opts.workers):
            for slot, text in zip(slots, generate(prepared) if prepared is not None else []):
                records[slot]["prediction"] = text
            store.append_records(task.name, records, shard=opts.shard)
            bar.update(len(records))


def _asks(asks: list[Ask]) -> list[Ask]:
    return asks


# kind -> function(task, pending samples of this rank, adapter, store, opts)
TASK_RUNNERS: dict[str, Callable[..., None]] = {"understanding": answer_samples, "generation": draw_samples}


# --- scoring ------------------------------------------------------------------
def score_records(
    task: TaskConfig, records: list[dict[str, Any]], judges: Judges | None, extra: dict[str, Any] | None = None
):
    """Run the task's scorer with its settings plus `extra` (the image folder, command-line
    settings); returns (records with parsed/score, table with a task column)."""
    frame = pd.DataFrame.from_records(records)
    if "error" not in frame:
        frame["error"] = None
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    try:
        scored = get_scorer(task.scorer)(frame, {**task.scoring, **(extra or {})}, judges)
    except KeyError as exc:
        raise UsageError(f"task {task.name}: the samples have no column {exc}, which its scorer needs") from exc
    except (ValueError, TypeError) as exc:  # a value the scorer cannot read
        raise UsageError(f"task {task.name}: its scorer cannot use the samples or settings: {exc}") from exc
    for col in scored.per_sample.columns:
        frame[col] = scored.per_sample[col]
    frame = frame.astype(object).where(frame.notna(), None)
    table = scored.table.copy()
    table.insert(0, "task", task.name)
    return frame.to_dict(orient="records"), table


def _write_scores(store: RunStore, new: pd.DataFrame, model: str, demo: bool = False) -> pd.DataFrame:
    """Merge this invocation's tables into the run's scores (other tasks' rows are kept).
    Demo runs (shipped samples, random-weight judges) get no paper column: their
    numbers test the pipeline, not a model."""
    new = with_paper(new, None if demo else model)
    path = store.root / "scores.csv"
    if path.exists():
        old = store.read_scores()
        old = old[~old["task"].isin(set(new["task"]))]
        new = pd.concat([old, new], ignore_index=True)
    store.write_scores(new)
    return new


# --- run ------------------------------------------------------------------------
def check_resume(manifest: dict[str, Any], model: str, tasks: list[TaskConfig]) -> None:
    if not manifest:
        return
    if manifest.get("model", {}).get("model") not in (None, model):
        raise UsageError(
            f"run {manifest.get('run_id')} was made with model {manifest['model']['model']}, not {model}; "
            "give a new --run-id"
        )
    for task in tasks:
        old = manifest.get("tasks", {}).get(task.name)
        if old and old.get("config_hash") != task.config_hash():
            raise UsageError(
                f"task {task.name} changed since run {manifest.get('run_id')} started (config hash "
                f"{old.get('config_hash')} -> {task.config_hash()}); give a new --run-id"
            )


DATA_KEYS = ("kind", "path", "name", "split", "revision")


def check_resume_data(manifest: dict[str, Any], data: dict[str, Any]) -> None:
    """A resumed task must read the same data (demo / local copy / hub id and revision)."""
    for name, loaded in data.items():
        old = manifest.get("tasks", {}).get(name, {}).get("data")
        if not old:
            continue
        before = {k: old.get(k) for k in DATA_KEYS}
        now = {k: loaded.source.get(k) for k in DATA_KEYS}
        if before != now:
            changed = ", ".join(f"{k} {before[k]} -> {now[k]}" for k in DATA_KEYS if before[k] != now[k])
            raise UsageError(f"task {name} of run {manifest.get('run_id')} read other data ({changed}); give a new --run-id")


def check_resume_settings(manifest: dict[str, Any], opts: "RunOptions", tasks: list[TaskConfig]) -> None:
    """Images drawn with another seed, or answers in another dtype, cannot share a run."""
    if not manifest:
        return
    started = set(manifest.get("tasks", {}))
    drawn = [t.name for t in tasks if t.kind == "generation" and t.name in started]
    if drawn and manifest.get("seed") not in (None, opts.seed):
        raise UsageError(
            f"run {manifest.get('run_id')} drew {', '.join(drawn)} with --seed {manifest['seed']}, not {opts.seed}; "
            "give a new --run-id"
        )


def check_resume_weights(manifest: dict[str, Any], described: dict[str, Any]) -> None:
    old_dtype = manifest.get("model", {}).get("dtype")
    if old_dtype and described.get("dtype") and old_dtype != described["dtype"]:
        raise UsageError(
            f"run {manifest.get('run_id')} ran in {old_dtype}, not {described['dtype']}; give a new --run-id"
        )
    old = manifest.get("model", {}).get("fingerprint")
    if old and described.get("fingerprint") and old != described["fingerprint"]:
        raise UsageError(
            f"the weights of {described.get('model')} changed since run {manifest.get('run_id')} started "
            f"(fingerprint {old} -> {described['fingerprint']}); give a new --run-id"
        )


def _data_workers(opts: RunOptions, device: str) -> int:
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
            notes.append(f"skipping {task.name}: it is graded by an LLM judge and none is configured (give --judge-model)")
    if not kept:
        raise UsageError("no task left to run: " + "; ".join(notes))
    return kept, notes


def run(tasks: list[TaskConfig], opts: RunOptions, judges: Judges | None = None, load_model=None) -> RunStore:
    from .models import load_model as default_loader
    from .models.janus import default_device

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
    distributed.check_shared(world, store.root)
    manifest = store.read_manifest()
    judges = judges if judges is not None else Judges(demo=opts.demo)
    # Cheap checks and data first: bad input fails before a model is loaded.
    check_resume(manifest, opts.model, tasks)
    data = {t.name: load_samples(t, demo=opts.demo, data_dir=opts.data_dir, limit=opts.limit) for t in tasks}
    check_resume_data(manifest, data)
    check_resume_settings(manifest, opts, tasks)
    for task in tasks:  # settings, question files, judges: checked before hours of generation
        if task.kind == "generation":
            generation_settings(task)
        preflight = get_preflight(task.scorer)
        if preflight is not None:
            preflight({**task.scoring, **opts.scoring}, judges)
    started = time.perf_counter()
    adapter = (load_model or default_loader)(
        opts.model, device=opts.device, dtype=opts.dtype, allow_pickle=opts.allow_pickle, compile=opts.compile
    )
    check_resume_weights(manifest, adapter.describe())
    manifest = manifest or {"run_id": run_id, "created": _now(), "tasks": {}, "timings": {}}
    manifest.update(
        model=adapter.describe(), seed=opts.seed, demo=opts.demo, batch_size=opts.batch_size,
        world_size=world.size, data_workers=opts.workers,
        judge=(judges.describe() if judges is not None and hasattr(judges, "describe") else None),
        **environment(),
    )  # fmt: skip
    manifest["timings"]["model_load_s"] = round(time.perf_counter() - started, 3)
    for task in tasks:
        manifest["tasks"][task.name] = {
            "config": task.to_dict(), "config_hash": task.config_hash(), "data": data[task.name].source,
            "n_samples": len(data[task.name].samples), "limit": opts.limit,
        }  # fmt: skip
    if world.main:
        store.write_manifest(manifest)

    for task in tasks:
        samples = data[task.name].samples
        t0 = time.perf_counter()
        done = store.done_ids(task.name)
        distributed.barrier(world)  # every rank sees the same pending list before any writes
        todo = [s for s in samples if s.id not in done]
        TASK_RUNNERS[task.kind](task, todo[world.rank :: world.size], adapter, store, opts)
        distributed.barrier(world)
        t1 = time.perf_counter()
        if world.main:
            store.merge_shards(task.name)
            order = {s.id: i for i, s in enumerate(samples)}
            latest = {r["sample_id"]: r for r in store.read_records(task.name)}  # a redrawn sample's last record
            records = sorted((r for i, r in latest.items() if i in order), key=lambda r: order[r["sample_id"]])
            others = [r for i, r in latest.items() if i not in order]  # e.g. beyond a smaller --limit: kept
            lost = len(samples) - len(records)
            if lost:  # every rank wrote a record per sample it was given: some files never reached rank 0
                raise UsageError(
                    f"task {task.name}: {lost} of {len(samples)} samples have no record after {world.size} ranks "
                    f"finished; is {store.root} one folder shared by every node? rerun with the same --run-id "
                    "to answer only those"
                )
            extra = {"image_root": str(store.task_dir(task.name)), "device": opts.device, **opts.scoring}
            records, table = score_records(task, records, judges, extra)
            store.rewrite_records(task.name, records + others)
            manifest["tasks"][task.name]["resumed_samples"] = len(samples) - len(todo)
            manifest["timings"][task.name] = {
                "answer_s": round(t1 - t0, 3), "score_s": round(time.perf_counter() - t1, 3),
            }  # fmt: skip
            manifest["updated"] = _now()
            if judges is not None and hasattr(judges, "describe"):
                manifest["judge"] = judges.describe()  # judges that loaded while scoring
            manifest["scoring_overrides"] = opts.scoring
            store.write_manifest(manifest)
            # written after every task: a later task's failure loses no finished scores
            _write_scores(store, table, adapter.describe()["model"], demo=opts.demo)
    distributed.barrier(world)
    return store


# --- score -------------------------------------------------------------------------
def read_samples_file(path: Path, task: TaskConfig) -> list[dict[str, Any]]:
    """Read a samples JSONL in the contract of DESIGN.md; a bad line names its number."""
    if not path.is_file():
        raise UsageError(f"no samples file at {path}")
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, row in json_objects(path, fh):
            missing = [c for c in ("prediction", *task.id_columns) if c not in row]
            if missing:
                raise UsageError(f"{path}:{n}: missing field(s) {', '.join(missing)} (the samples contract)")
            rows.append(row)
    if not rows:
        raise UsageError(f"{path} holds no samples")
    return rows


def score_file(
    task: TaskConfig,
    path: Path,
    output: Path,
    run_id: str | None,
    model: str,
    judges: Judges | None = None,
    scoring: dict[str, Any] | None = None,
) -> RunStore:
    rows = read_samples_file(Path(path), task)
    ids = make_ids(rows, task.id_columns)
    records = [{"sample_id": i, **r, "error": r.get("error")} for i, r in zip(ids, rows)]
    # Image paths in a samples file are relative to the file's folder.
    extra = {"image_root": str(Path(path).resolve().parent), **(scoring or {})}
    records, table = score_records(task, records, judges, extra)
    run_id = safe_name(run_id or f"score-{task.name}-{Path(path).stem.replace('.', '-')}", "run id")
    final = Path(output) / run_id
    if final.exists():
        raise UsageError(f"{final} exists already; give another --run-id or --output")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=final.parent))
    try:
        store = RunStore(tmp)
        store.rewrite_records(task.name, records)
        store.write_manifest(
            {
                "run_id": run_id, "created": _now(), "kind": "score", "source_file": str(Path(path).resolve()),
                "model": {"model": model, "fingerprint": None},
                "tasks": {task.name: {"config": task.to_dict(), "config_hash": task.config_hash(),
                                      "n_samples": len(records)}},
                "judge": (judges.describe() if judges is not None and hasattr(judges, "describe") else None),
                **environment(),
            }  # fmt: skip
        )
        _write_scores(store, table, model)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunStore(final)
