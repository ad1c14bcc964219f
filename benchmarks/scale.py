"""The harness at full size: all nine benchmarks at their real row counts through the real
`run`, `score`, `report` and `compare`, with a model and judges that answer at once.

    python benchmarks/scale.py [--fraction 1.0] [--runs 5] [--workers 2] [--batch-size 16] [--out DIR]

1. writes synthetic local copies of the seven understanding benchmarks in their real
   schemas and sizes (`scale_data.py`; ~44,000 samples) and a DPG-Bench question file;
2. per understanding task, a bare loop that only decodes and preprocesses the same
   images (Janus' processor at 384 px) with the same workers and batch size;
3. `--runs` full runs (all nine tasks; GenEval 553 x 4 and DPG-Bench 1,065 x 4 images
   written in their official layouts), each with another answer seed;
4. `score` of each task's samples file of the first run, `report` over all runs,
   `compare` of the first two.

It prints JSON: wall time and samples/s per phase and per task, the peak RSS of the
process tree (sampled every 0.2 s, workers included), the run folder's and the report's
size, and each target with its figure. `--fraction F` scales every benchmark's rows (the
figures say so); `--keep` keeps the folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, emit  # noqa: E402

UNDERSTANDING = ["pope", "mme", "mmbench", "seedbench", "gqa", "mmmu", "mmvet"]
GENERATION = ["geneval", "dpgbench"]
GEN_ROWS = {"geneval": 553, "dpgbench": 1065}


# --- memory ---------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    kids = [int(p) for p in text.split()]
    return kids + [g for k in kids for g in _children(k)]


def _field(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int | None = None) -> tuple[int, int, int]:
    """(RSS, PSS, anonymous PSS) bytes of a process and all its descendants. Forked data
    workers share the parent's pages: the RSS sum counts them once per process, the PSS
    sum (each shared page split between its sharers) is the memory the tree really holds;
    of it, the anonymous and shared-memory part is what the kernel cannot drop (the rest
    is the memory-mapped Arrow files, page cache)."""
    pids = [pid or os.getpid()]
    pids += _children(pids[0])
    rss = sum(_field(f"/proc/{p}/status", "VmRSS:") for p in pids)
    pss = sum(_field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    anon = sum(_field(f"/proc/{p}/smaps_rollup", "Pss_Anon:") + _field(f"/proc/{p}/smaps_rollup", "Pss_Shmem:")
               for p in pids)  # fmt: skip
    return rss, pss, anon


class PeakRSS:
    """Samples `tree_rss` in a thread; `phase(name)` starts a new per-phase peak."""

    def __init__(self, every: float = 0.2):
        self.every, self.peak, self.peak_rss, self.peak_anon, self.phases, self._phase = every, 0, 0, 0, {}, "start"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def phase(self, name: str) -> None:
        self._phase = name

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss, pss, anon = tree_rss()
            self.peak, self.peak_rss = max(self.peak, pss), max(self.peak_rss, rss)
            self.peak_anon = max(self.peak_anon, anon)
            self.phases[self._phase] = max(self.phases.get(self._phase, 0), pss)
            self._stop.wait(self.every)


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def mb(n: float) -> float:
    return round(n / 2**20, 1)


# --- phases ---------------------------------------------------------------------------
def bare_loops(tasks, data_dir: Path, workers: int, batch_size: int) -> dict[str, dict[str, float]]:
    """Per task: decode + preprocess every image of every sample, nothing else."""
    from pipeline import bare_loop

    from janus_eval.data.load import load_samples

    out = {}
    if tasks:  # warm-up: imports and the first worker start are paid by no task
        bare_loop(load_samples(tasks[0], data_dir=data_dir, limit=2 * batch_size).samples, workers, batch_size)
    for task in tasks:
        with Timer() as load:
            samples = load_samples(task, data_dir=data_dir).samples
        with Timer() as t:
            images = bare_loop(samples, workers, batch_size)
        out[task.name] = {"samples": len(samples), "images": images, "load_s": round(load.seconds, 2),
                          "s": round(t.seconds, 2), "samples_per_s": round(len(samples) / t.seconds, 1)}  # fmt: skip
    return out


def one_run(k: int, out: Path, data_dir: Path, tasks, gen_limit: int | None, opts_kw: dict, judges, scoring):
    from instant import instant_loader

    from janus_eval.core.spec import RunSpec
    from janus_eval.runner import run

    understanding = [t for t in tasks if t.kind == "understanding"]
    generation = [t for t in tasks if t.kind == "generation"]
    walls = {}
    for name, group, limit in (("understanding", understanding, None), ("generation", generation, gen_limit)):
        if not group:
            continue
        opts = RunSpec(model="instant", output=out / "runs", run_id=f"run{k}", data_dir=data_dir, limit=limit,
                       progress=False, **opts_kw)  # fmt: skip
        with Timer() as t:
            store = run(group, opts, judges=judges, load_model=instant_loader(seed=k), scoring_overrides=scoring)
        walls[name] = round(t.seconds, 2)
    return store, walls


def task_figures(store, bare: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    import json

    manifest = json.loads(store.manifest_path.read_text())
    out = {}
    for name, info in manifest["tasks"].items():
        timing = manifest["timings"].get(name, {})
        n = info["n_samples"]
        task_s = timing.get("answer_s", 0) + timing.get("score_s", 0)
        fig = {"samples": n, "answer_s": timing.get("answer_s"), "score_s": timing.get("score_s"),
               "samples_per_s": round(n / task_s, 1) if task_s else None,
               "folder_mb": mb(folder_bytes(store.task_dir(name)))}  # fmt: skip
        if name in bare:
            fig["bare_samples_per_s"] = bare[name]["samples_per_s"]
            fig["vs_bare"] = round(fig["samples_per_s"] / bare[name]["samples_per_s"], 3)
        out[name] = fig
    return out


def layouts_ok(store) -> dict[str, bool]:
    """GenEval: images/<index:05d>/metadata.jsonl + samples/<n:04d>.png; DPG-Bench: images/<item_id>.png."""
    ok = {}
    if store.samples_path("geneval").exists():
        folders = sorted((store.task_dir("geneval") / "images").iterdir())
        ok["geneval"] = bool(folders) and all(
            (f / "metadata.jsonl").is_file() and (f / "samples" / "0000.png").is_file() and len(f.name) == 5
            for f in folders
        )
    if store.samples_path("dpgbench").exists():
        pngs = list((store.task_dir("dpgbench") / "images").glob("*.png"))
        ok["dpgbench"] = len(pngs) == len(store.read_records("dpgbench"))
    return ok


def run_suite(out: Path, *, fraction: float = 1.0, runs: int = 5, workers: int = 2, batch_size: int = 16,
              tasks: list[str] | None = None, gen_limit: int | None = None) -> dict[str, Any]:  # fmt: skip
    """Everything above into `out`; returns the figures (also what the test checks)."""
    import datasets
    import scale_data
    from instant import instant_judges

    from janus_eval.analyse.compare import compare
    from janus_eval.analyse.report import build_report
    from janus_eval.runner import score_file
    from janus_eval.tasks.registry import resolve_tasks

    datasets.disable_progress_bars()
    out = Path(out)
    names = tasks or UNDERSTANDING + GENERATION
    task_cfgs = resolve_tasks(",".join(names))
    if gen_limit is None and fraction < 1:
        gen_limit = max(1, round(max(GEN_ROWS.values()) * fraction))
    figures: dict[str, Any] = {"fraction": fraction, "runs": runs, "workers": workers, "batch_size": batch_size}
    with PeakRSS() as rss:
        rss.phase("data")
        data_dir = out / "data"
        with Timer() as t:
            rows = scale_data.write_all(data_dir, fraction, [n for n in names if n in scale_data.WRITERS])
            dpg_ids = scale_data.packaged_ids("dpgbench/data/prompts.jsonl", "item_id")
            dpg_csv = scale_data.write_dpg_csv(out / "dpg_bench.csv", dpg_ids)
        figures["data"] = {"rows": rows, "s": round(t.seconds, 1), "mb": mb(folder_bytes(data_dir))}

        rss.phase("bare")
        understanding = [t for t in task_cfgs if t.kind == "understanding"]
        bare = bare_loops(understanding, data_dir, workers, batch_size)
        figures["bare"] = bare

        judges = instant_judges(out / "judge-cache")
        scoring = {"csv": str(dpg_csv)}
        opts_kw = {"batch_size": batch_size, "workers": workers}
        stores, run_walls = [], []
        for k in range(1, runs + 1):
            rss.phase(f"run{k}")
            store, walls = one_run(k, out, data_dir, task_cfgs, gen_limit, opts_kw, judges, scoring)
            stores.append(store)
            run_walls.append(walls)
        rss.phase("bare-again")  # the first pass runs right after 5 GB were written: keep each task's faster pass
        for name, again in bare_loops(understanding, data_dir, workers, batch_size).items():
            if again["samples_per_s"] > bare[name]["samples_per_s"]:
                bare[name] = {**again, "pass": 2}
        first = stores[0]
        figures["run"] = {"wall_s": run_walls, "tasks": task_figures(first, bare),
                          "folder_mb": mb(folder_bytes(first.root)), "layouts_ok": layouts_ok(first),
                          "images": sum(1 for _ in first.root.rglob("*.png"))}  # fmt: skip

        rss.phase("score")
        score_s = {}
        for task in task_cfgs:
            with Timer() as t:
                score_file(task, first.samples_path(task.name), out / "scored", f"score-{task.name}", "instant",
                           judges=judges, scoring_overrides=scoring)  # fmt: skip
            score_s[task.name] = round(t.seconds, 2)
        figures["score_s"] = score_s

        rss.phase("report")
        with Timer() as t:
            paths = build_report([s.root for s in stores], out / "report")
        figures["report"] = {"runs": len(stores), "s": round(t.seconds, 1), "html_mb": mb(paths["html"].stat().st_size),
                             "folder_mb": mb(folder_bytes(out / "report"))}  # fmt: skip

        rss.phase("compare")
        if len(stores) >= 2:
            with Timer() as t:
                result = compare(stores[0].root, stores[1].root)
            figures["compare"] = {"s": round(t.seconds, 1), "exit_code": result.exit_code,
                                  "rows": int(len(result.rows))}  # fmt: skip
    figures["peak_pss_mb"] = mb(rss.peak)  # the process tree's memory, shared pages split
    figures["peak_pss_anon_mb"] = mb(rss.peak_anon)  # of it, anonymous + shared memory (not page cache)
    figures["peak_rss_sum_mb"] = mb(rss.peak_rss)  # shared pages counted in every worker
    figures["peak_pss_mb_by_phase"] = {k: mb(v) for k, v in rss.phases.items()}
    figures["targets"] = targets(figures)
    return figures


def targets(f: dict[str, Any]) -> list[dict[str, Any]]:
    tasks = f["run"]["tasks"]
    ratios = {n: t["vs_bare"] for n, t in tasks.items() if "vs_bare" in t}
    rows = [
        ("harness >= 0.8 x bare loop on every understanding task", min(ratios.values(), default=None), 0.8, ">="),
        ("peak memory (PSS of the process tree) of the whole suite < 4 GB (MB)", f["peak_pss_mb"], 4096, "<"),
        ("report over five runs < 60 s", f["report"]["s"], 60, "<"),
        ("report HTML < 25 MB", f["report"]["html_mb"], 25, "<"),
        ("compare of two runs < 30 s", f.get("compare", {}).get("s"), 30, "<"),
        ("run folder < 1 GB (MB)", f["run"]["folder_mb"], 1024, "<"),
    ]
    out = []
    for what, value, bound, op in rows:
        met = None if value is None else (value >= bound if op == ">=" else value < bound)
        out.append({"target": what, "value": value, "met": met})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fraction", type=float, default=1.0, help="scale every benchmark's rows (1.0: real sizes)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--tasks", default=",".join(UNDERSTANDING + GENERATION))
    ap.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if not 0 < args.fraction <= 1 or args.runs < 1:
        print("scale.py: --fraction must be in (0, 1] and --runs at least 1", file=sys.stderr)
        raise SystemExit(2)

    import torch

    torch.set_num_threads(1)
    out = args.out or Path(tempfile.mkdtemp(prefix="janus-scale-"))
    os.environ.setdefault("HF_DATASETS_CACHE", str(out / "hf-cache"))  # the datasets' Arrow copies stay here
    os.environ.setdefault("JANUS_EVAL_CACHE", str(out / "cache"))
    try:
        figures = run_suite(out, fraction=args.fraction, runs=args.runs, workers=args.workers,
                            batch_size=args.batch_size, tasks=args.tasks.split(","))  # fmt: skip
    finally:
        if not args.keep and args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    emit("scale", figures)


if __name__ == "__main__":
    main()
