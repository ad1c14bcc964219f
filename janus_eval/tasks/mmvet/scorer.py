"""MM-Vet, graded by the LLM judge with the official few-shot prompt
(`mm-vet_evaluator.py` in github yuweihao/MM-Vet).

For each sample and judge run the judge completes the table row
`question | ground truth | prediction | ` of the few-shot prompt; the first word
of its reply must be a number in [0, 1]. A reply that is not is retried as the
official grader does (the prompt plus "Predict the correctness of the answer
(digit): ", temperature raised by 0.5 each time); when the retries run out, or
the judge cannot be reached, that grading is a `judge_error` — counted in the
table and left out of the means, never a silent 0 (the official grader writes 0).

A sample's score is the mean of its graded runs (`judge_runs` setting or
`--judge-runs`, the official `--num_run`; 5 in the MM-Vet paper). Table, x 100: `total` (mean over samples),
`capability` per capability (rec, ocr, know, gen, spat, math: mean over the
samples that need it), `integration` per capability combination (sorted,
comma-joined), `total_std` the spread of the per-run totals when runs > 1.
"""

from __future__ import annotations

import ast
import statistics
from typing import Any

import pandas as pd

from janus_eval.core.errors import UsageError
from janus_eval.core.metric import Metric
from janus_eval.score.base import ERRORS, Scored, answered, error_rows, predictions, table
from janus_eval.score.contract import Field, id_field
from janus_eval.score.judges import Judges
from janus_eval.score.judges.llm import JudgeError, JudgeUnavailable, ask_all

METRICS = (
    Metric("total", True, "percent"),
    Metric("capability", True, "percent"),
    Metric("integration", True, "percent"),
    Metric("total_std", None, "percent"),  # the spread of the judge's runs: neither way is better
    Metric("judge_error", False, "count"),
    ERRORS,
)

FEW_SHOT = """Compare the ground truth and prediction from AI models, to give a correctness score for the prediction. <AND> in the ground truth means it is totally right only when all elements in the ground truth are present in the prediction, and <OR> means it is totally right when any one element in the ground truth is present in the prediction. The correctness score is 0.0 (totally wrong), 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right). Just complete the last space of the correctness score.

Question | Ground truth | Prediction | Correctness
--- | --- | --- | ---
What is x in the equation? | -1 <AND> -5 | x = 3 | 0.0
What is x in the equation? | -1 <AND> -5 | x = -1 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -5 or 5 | 0.5
What is x in the equation? | -1 <AND> -5 | x = -1 or x = -5 | 1.0
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme talks about Iceland and Greenland. It's pointing out that despite their names, Iceland is not very icy and Greenland isn't very green. | 0.4
Can you explain this meme? | This meme is poking fun at the fact that the names of the countries Iceland and Greenland are misleading. Despite its name, Iceland is known for its beautiful green landscapes, while Greenland is mostly covered in ice and snow. The meme is saying that the person has trust issues because the names of these countries do not accurately represent their landscapes. | The meme is using humor to point out the misleading nature of Iceland's and Greenland's names. Iceland, despite its name, has lush green landscapes while Greenland is mostly covered in ice and snow. The text 'This is why I have trust issues' is a playful way to suggest that these contradictions can lead to distrust or confusion. The humor in this meme is derived from the unexpected contrast between the names of the countries and their actual physical characteristics. | 1.0
"""

RETRY_SUFFIX = "\nPredict the correctness of the answer (digit): "
CAPABILITIES = ["rec", "ocr", "know", "gen", "spat", "math"]


def grading_prompt(question: str, answer: str, prediction: str) -> str:
    gold = answer.replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return FEW_SHOT + "\n" + " | ".join([question, gold, prediction, ""])


def parse_grade(reply: str) -> float | None:
    """The official reading: the reply's first space-separated word as a float in [0, 1]
    (leading white space dropped first)."""
    word = reply.strip().split(" ")[0].strip()
    try:
        value = float(word)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def capabilities_of(value) -> list[str]:
    """`rec,ocr` (lmms-lab/MMVet), a list, or a list literal -> sorted capability names."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        text = str(value).strip()
        if text.startswith("["):
            try:
                items = [str(v) for v in ast.literal_eval(text)]
            except (ValueError, SyntaxError):
                items = [text]
        else:
            items = text.split(",")
    return sorted({c.strip() for c in items if c.strip()})


def grade(judge, prompt: str, *, run: int, retries: int, max_tokens: int | None) -> float | None:
    """One judge run on one sample: the grade, or None for a judge error."""
    try:
        grade_ = parse_grade(judge.ask(prompt, temperature=0.0, max_tokens=max_tokens, sample=run))
        temperature = 0.0
        for _ in range(retries):
            if grade_ is not None:
                break
            reply = judge.ask(
                prompt + RETRY_SUFFIX, temperature=temperature, max_tokens=max_tokens, sample=run
            )
            grade_ = parse_grade(reply)
            temperature += 0.5
        return grade_
    except JudgeUnavailable:
        raise  # the judge is down: stop, rather than count every sample as a judge error
    except JudgeError:
        return None


def score(records: pd.DataFrame, settings: dict | None = None, judges: Judges | None = None) -> Scored:
    settings = settings or {}
    judges = judges if judges is not None else Judges()
    judge = judges.llm
    if judge is None:
        raise UsageError(
            "mmvet is graded by an LLM judge: give --judge-model (and --judge-base-url for a local server)"
        )
    runs = max(1, int(judges.llm_runs or settings.get("judge_runs", 1)))
    retries = int(settings.get("judge_retries", 4))
    max_tokens = settings.get("judge_max_tokens", 3)
    max_tokens = int(max_tokens) if max_tokens is not None else None

    preds = predictions(records)
    ok = answered(records).index
    prompts = {i: grading_prompt(str(records.at[i, "question"]), str(records.at[i, "answer"]), preds[i]) for i in ok}
    # samples are graded --judge-concurrency at a time, each sample's runs in order (run j is
    # the j-th ask of its prompt, as in a sequential run, even from a judge whose reply to one
    # prompt varies), each result put back in its place: no grade depends on which reply came first
    def graded_runs(i: Any) -> list[float | None]:
        return [grade(judge, prompts[i], run=j, retries=retries, max_tokens=max_tokens) for j in range(runs)]

    on = bool(settings.get("progress", True))  # the runner's context: off with --no-progress
    graded_all = ask_all(judge, graded_runs, list(ok), desc="mmvet: judging", unit="sample", enabled=on)
    grades: dict = dict(zip(ok, graded_all))  # index -> per-run grades (None: error)

    parsed: dict[Any, str | None] = {}
    scores: dict[Any, float | None] = {}
    for i in records.index:
        got = [g for g in grades.get(i, []) if g is not None]
        if i not in grades:
            parsed[i], scores[i] = None, None
        elif not got:
            parsed[i], scores[i] = "judge_error", None
        else:
            parsed[i] = " ".join("err" if g is None else f"{g:g}" for g in grades[i])
            scores[i] = sum(got) / len(got)
    per_sample = pd.DataFrame(
        {"parsed": pd.Series(parsed, dtype=object), "score": pd.Series(scores, dtype=float)}
    ).reindex(records.index)

    graded = [i for i in ok if scores[i] is not None]
    caps = {
        i: capabilities_of(records.at[i, "capability"]) if "capability" in records else [] for i in graded
    }

    def mean100(idx) -> float:  # NaN when nothing was graded: never a silent 0
        return 100 * sum(float(scores[i] or 0.0) for i in idx) / len(idx) if idx else float("nan")

    rows = [("total", "", mean100(graded), len(graded))]
    present = {c for cs in caps.values() for c in cs}
    for cap in CAPABILITIES + sorted(present - set(CAPABILITIES)):
        idx = [i for i in graded if cap in caps[i]]
        if idx:
            rows.append(("capability", cap, mean100(idx), len(idx)))
    combos = sorted({",".join(cs) for cs in caps.values()})
    for combo in combos:
        idx = [i for i in graded if ",".join(caps[i]) == combo]
        rows.append(("integration", combo, mean100(idx), len(idx)))
    if runs > 1:
        totals = []
        for j in range(runs):
            got = [grades[i][j] for i in ok if grades[i][j] is not None]
            if got:
                totals.append(100 * sum(got) / len(got))
        rows.append(("total_std", "", statistics.pstdev(totals) if totals else float("nan"), len(totals)))
    failed = sum(g is None for i in ok for g in grades[i])
    rows.append(("judge_error", "", float(failed), len(ok) * runs))
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("question_id"),
    Field("question", required=True, nullable=False),
    Field("answer", required=True, nullable=False),
    Field("capability", kinds=(str, list), items=str),
)


def check_sample(row: dict) -> str | None:
    """Capabilities are MM-Vet's six (a new one would be a new row of the table)."""
    if row.get("capability") is None:
        return None
    unknown = [c for c in capabilities_of(row["capability"]) if c not in CAPABILITIES]
    if unknown:
        return f"field 'capability' names {', '.join(unknown)}; it should be among {', '.join(CAPABILITIES)}"
    return None
