"""MM-Vet's judge grading one request at a time vs `--judge-concurrency N`, against a local
OpenAI-compatible server that answers each request after a fixed latency.

    python benchmarks/judge_concurrency.py [--samples 60] [--runs 5] [--latency 0.05] [--concurrency 4]

Scores one MM-Vet samples set (MM-Vet-shaped rows: right, wrong and unreadable grades) with
`--judge-runs` runs through the runner's `score_samples_file`, first with concurrency 1, then N,
each with an empty cache; checks the records and tables are identical and the request counts
equal, and prints JSON with both wall times and their ratio. The server (tests/llm_server.py's
ChatServer, one thread a request) sleeps `--latency` seconds per request, a stand-in for a
remote judge's round trip.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path[:0] = [str(ROOT), str(ROOT.parent / "tests")]

from _common import emit  # noqa: E402
from llm_server import ChatServer, mmvet_grader  # noqa: E402

from janus_eval.runner import score_samples_file  # noqa: E402
from janus_eval.score.judges import Judges  # noqa: E402
from janus_eval.score.judges.llm import LLMJudge  # noqa: E402
from janus_eval.tasks.registry import load_task  # noqa: E402


def samples(folder: Path, n: int) -> Path:
    path = folder / "mmvet.jsonl"
    with open(path, "w") as fh:
        for i in range(n):
            row = {"question_id": f"v{i}", "question": f"What is shown in picture {i}?",
                   "answer": "cat<AND>dog" if i % 3 else "red<OR>blue", "capability": ["rec", "ocr", "know"][i % 3],
                   "prediction": ["a cat and a dog", "blue", "a fish", "a cat"][i % 4]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=60)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()

    def slow(body, n):
        time.sleep(args.latency)
        return mmvet_grader(body, n)

    task = load_task("mmvet")
    out = {}
    with tempfile.TemporaryDirectory() as tmp, ChatServer(slow) as server:
        path = samples(Path(tmp), args.samples)
        for n in (1, args.concurrency):
            judge = LLMJudge(model="grader", base_url=server.base_url, cache_path=Path(tmp) / f"cache{n}.jsonl",
                             concurrency=n)  # fmt: skip
            before = len(server.requests)
            started = time.perf_counter()
            records, table = score_samples_file(task, path, Judges(llm=judge, llm_runs=args.runs))
            out[n] = (time.perf_counter() - started, len(server.requests) - before, records, table)
    (t1, sent1, rec1, tab1), (tn, sentn, recn, tabn) = out[1], out[args.concurrency]
    emit("judge_concurrency", {
        "samples": args.samples, "runs": args.runs, "latency_s": args.latency, "requests": sent1,
        "sequential_s": round(t1, 3), f"concurrency_{args.concurrency}_s": round(tn, 3),
        "speedup": round(t1 / tn, 2), "identical": rec1 == recn and tab1.equals(tabn) and sent1 == sentn,
    })  # fmt: skip


if __name__ == "__main__":
    main()
