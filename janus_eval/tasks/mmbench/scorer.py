"""MMBench (dev, English), with VLMEvalKit's choice extraction and circular evaluation.

Choice extraction per row: the letter forms, then the text of exactly one option
(`choices.extract_choice`), then — when an LLM judge is configured and the
task's `use_judge` setting is on — VLMEvalKit's answer-matching prompt, whose
reply is read with the same rules (a reply of `Z` or nothing readable, after
`judge_tries` asks, leaves the row unparsed). Unlike VLMEvalKit there is never
a random guess: an unparsed row is wrong and counted in the table.

Rows whose `index` agree modulo 1,000,000 are circular rotations of one question
(the original has `index` < 1,000,000). Circular accuracy counts a question right
only when every rotation is right (`circular_accuracy`); plain accuracy
(`accuracy`) is taken on the original rotation alone — the number the Janus-Pro
report gives. Both overall, per `category` and per `L2-category` (`*_l2`), in
percent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from janus_eval.core.errors import UsageError
from janus_eval.core.metric import Metric
from janus_eval.score.base import (
    ERRORS,
    UNPARSED,
    Measured,
    Scored,
    blank_unanswered,
    count,
    errors,
    every_record,
    predictions,
    share,
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.choices import extract_choice
from janus_eval.score.contract import Field, id_field
from janus_eval.score.judges.llm import JudgeError, JudgeUnavailable, ask_all
from janus_eval.score.options import choices_of, is_missing

METRICS = (
    Metric("accuracy", True, "percent"),
    Metric("accuracy_l2", True, "percent"),
    Metric("circular_accuracy", True, "percent"),
    Metric("circular_accuracy_l2", True, "percent"),
    UNPARSED,
    Metric("judge_matched", None, "count"),  # letters the judge gave: how it was read, not a score
    Metric("judge_error", False, "count"),
    ERRORS,
)

ROTATION = 1_000_000

JUDGE_PROMPT = (
    "You are an AI assistant who will help me to match "
    "an answer with several options of a single-choice question. "
    "You are provided with a question, several options, and an answer, "
    "and you need to find which option is most similar to the answer. "
    "If the meaning of all options are significantly different from the answer, output Z. "
    "Your should output a single uppercase character in A, B, C, D (if they are valid options), and Z. \n"
    "Example 1: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: a cute teddy bear\nYour output: A\n"
    "Example 2: \n"
    "Question: What is the main object in image?\nOptions: A. teddy bear B. rabbit C. cat D. dog\n"
    "Answer: Spider\nYour output: Z\n"
    "Example 3: \n"
    "Question: {question}?\nOptions: {options}\nAnswer: {answer}\nYour output: "
)


def judge_prompt(question: str, choices: dict[str, str], answer: str) -> str:
    options = "There are several options: \n" + "".join(f"{k}. {v}\n" for k, v in choices.items())
    return JUDGE_PROMPT.format(question=question, options=options, answer=answer)


def ask_judge(judge, question: str, choices: dict[str, str], answer: str, tries: int) -> str | None:
    """The judge's choice, or None when it says Z or nothing readable. JudgeError passes up."""
    prompt = judge_prompt(question, choices, answer)
    for attempt in range(tries):
        reply = judge.ask(prompt, sample=attempt)
        letter = extract_choice(reply, choices)
        if letter is not None:
            return letter
        if reply.strip().upper().startswith("Z"):
            return None
    return None


def question_index(values: pd.Series) -> pd.Series:
    """MMBench's `index` as integers; anything else is a UsageError naming the column."""
    index = pd.to_numeric(values, errors="coerce")
    bad = index.isna() | (index % 1 != 0)
    if bad.any():
        raise UsageError(
            f"mmbench: column `index` must hold MMBench's whole-number question index (rotations add "
            f"multiples of {ROTATION}); {int(bad.sum())} record(s) do not, e.g. {values[bad].iloc[0]!r}: "
            "fix the samples file"
        )
    return index.astype("int64")


def _parse(
    records: pd.DataFrame, settings: dict, judges
) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """Each row's letter (None: unparsed), whether it is right (0/1), and whether the judge
    gave its letter and whether the judge's ask failed (per row)."""
    judge = judges.llm if judges is not None and settings.get("use_judge", True) else None
    tries = int(settings.get("judge_tries", 3))
    preds = predictions(records)
    errored = unanswered(records)
    parsed: dict = {}
    by_judge = np.zeros(len(records), bool)
    judge_errors = np.zeros(len(records), bool)
    to_judge: list[tuple[int, str, dict[str, str]]] = []  # (position, question, choices): the rules read nothing
    for k, (i, row) in enumerate(zip(records.index, records.to_dict("records"))):  # dict rows: .loc costs 0.25 ms
        choices = choices_of(row)
        letter = extract_choice(preds[i], choices)
        if letter is None and judge is not None and choices and preds[i].strip() and not errored[i]:
            to_judge.append((k, str(row.get("question", "")), choices))
        parsed[i] = letter

    def judged(item: tuple[int, str, dict[str, str]]) -> tuple[str | None, bool]:
        """(the judge's letter, whether its ask failed) for one row."""
        k, question, choices = item
        try:
            return ask_judge(judge, question, choices, preds[records.index[k]], tries), False
        except JudgeUnavailable:
            raise  # the judge is down: stop, rather than count every sample as a judge error
        except JudgeError:
            return None, True

    # rows asked --judge-concurrency at a time, each answer put back in its row's place
    on = bool(settings.get("progress", True))  # the runner's context: off with --no-progress
    replies = ask_all(judge, judged, to_judge, desc="mmbench: judging", unit="sample", enabled=on)
    for (k, _, _), (letter, failed) in zip(to_judge, replies):
        parsed[records.index[k]] = letter
        by_judge[k] = letter is not None
        judge_errors[k] = failed
    parsed_s = pd.Series(parsed, index=records.index, dtype=object)
    labels = records["answer"].astype(str).str.strip().str.upper()
    return parsed_s, (parsed_s == labels).astype(float), by_judge, judge_errors


def _questions(records: pd.DataFrame, correct: pd.Series) -> pd.DataFrame:
    """One row per record: group (the question), original (not a rotation), correct, category, l2."""
    index = question_index(records["index"])
    frame = pd.DataFrame(
        {
            "group": index % ROTATION,
            "original": index < ROTATION,
            "correct": correct,
            "category": records.get("category"),
            "l2": records.get("L2-category"),
        },
        index=records.index,
    )
    for col in ("category", "l2"):
        frame[col] = frame[col].map(lambda v: None if is_missing(v) else str(v))
    return frame


def _circular(
    counts: np.ndarray, codes: np.ndarray, rows: np.ndarray, wrong: np.ndarray, spoiled: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Circular accuracy over the records `rows` per resample, n the questions counted: a question
    (`codes`) counts when one of its rows is drawn and none of its rotations that the model could
    not be asked (`spoiled[b, code]`: such rotations drawn), and is right when no drawn row is wrong."""
    if not len(rows):
        return np.full(len(counts), np.nan), np.zeros(len(counts))
    rows = rows[np.argsort(codes[rows], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(codes[rows]) != 0])
    drawn = np.add.reduceat(counts[:, rows], starts, axis=1)
    wrong_drawn = np.add.reduceat(counts[:, rows] * wrong[rows], starts, axis=1)
    counted = (drawn > 0) & (spoiled[:, codes[rows][starts]] == 0)
    n = counted.sum(axis=1)
    hits = (counted & (wrong_drawn == 0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100 * (hits / n), np.nan), n


def measure(
    records: pd.DataFrame, parsed: pd.Series, correct: pd.Series, matched: np.ndarray, failed: np.ndarray,
    counts: np.ndarray,
) -> Measured:  # fmt: skip
    """Every metric per resample (`counts[b, i]`: draws of record i in resample b). Plain accuracy
    weighs the originals' correctness; circular accuracy groups the drawn rows by question
    (`index` % 1,000,000): a question is right when every drawn rotation is, and left out when a
    drawn rotation could not be asked. A subset with nothing drawn is NaN with n = 0."""
    frame = _questions(records, correct)
    missing = unanswered(records).to_numpy()
    right = correct.to_numpy()
    original = frame["original"].to_numpy()
    codes = pd.factorize(frame["group"])[0]
    weights = counts.astype(float)
    spoiled = np.zeros((len(counts), codes.max() + 1 if len(codes) else 0))  # per question: unasked drawn
    np.add.at(spoiled.T, codes[missing], weights[:, missing].T)
    wrong = (right != 1.0).astype(float)
    out: Measured = {}
    subsets: list[tuple[str, str, np.ndarray]] = [("", "", np.ones(len(frame), bool))]
    for column, suffix in (("category", ""), ("l2", "_l2")):
        values = frame[column].to_numpy(dtype=object)
        for name in sorted({v for v in values[~missing] if pd.notna(v)}):
            subsets.append((suffix, name, values == name))
    for suffix, name, member in subsets:
        plain = member & ~missing & original
        if plain.any() or not name:
            out[("accuracy" + suffix, name)] = share(counts, plain, right)
    for suffix, name, member in subsets:
        out[("circular_accuracy" + suffix, name)] = _circular(
            weights, codes, np.flatnonzero(member & ~missing), wrong, spoiled
        )
    out[(UNPARSED.name, "")] = count(counts, ~missing & parsed.isna().to_numpy(), ~missing)
    out[("judge_matched", "")] = count(counts, matched, ~missing)
    out[("judge_error", "")] = count(counts, failed, ~missing)
    out[(ERRORS.name, "")] = errors(counts, records)
    return out


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct, matched, failed = _parse(records, settings or {}, judges)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    table = table_of(measure(records, parsed, correct, matched, failed, every_record(records)))
    # a subset whose every question has a rotation the model could not be asked counts none: no row
    return Scored(per_sample, table[(table["subset"] == "") | (table["n"] > 0)].reset_index(drop=True))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values (without a judge, as `compare` rescores) on many resamples at once
    (`counts[b, i]`: draws of record i in resample b): the answers parsed once, the same `measure`."""
    return values_of(measure(records, *_parse(records, settings or {}, None), counts))


RESAMPLE_UNIT = "question"


def resample_units(records: pd.DataFrame) -> np.ndarray:
    """The bootstrap's unit (intervals): a question with all its rotations (`index` % 1,000,000)."""
    return (question_index(records["index"]) % ROTATION).to_numpy()


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("index"),  # a whole number (question_index says so, naming the column)
    Field("answer", allowed=("A", "B", "C", "D"), normalise=str.strip, required=True, nullable=False),
    *(Field(letter) for letter in "ABCD"),
    Field("question"),
    Field("hint"),
    Field("category"),
    Field("L2-category"),
)
