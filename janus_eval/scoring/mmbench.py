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

from ..errors import UsageError
from ..judges.llm import JudgeError, JudgeUnavailable
from ..options import choices_of, is_missing
from .base import (
    Scored,
    answered,
    blank_unanswered,
    error_rows,
    percent,
    predictions,
    resampled_count,
    resampled_percent,
    table,
    unanswered,
)
from .choices import extract_choice

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


def _accuracy_rows(metric: str, frame: pd.DataFrame, circular: bool) -> list[tuple[str, str, float, int]]:
    """frame: one row per sample with columns group, original, correct, category, l2."""
    rows = []

    def acc(sub: pd.DataFrame) -> tuple[float, int]:
        if circular:
            hits = sub.groupby("group")["correct"].min()
        else:
            hits = sub.loc[sub["original"], "correct"]
        return percent(hits), len(hits)

    value, n = acc(frame)
    rows.append((metric, "", value, n))
    for column, suffix in (("category", ""), ("l2", "_l2")):
        for name in sorted(frame[column].dropna().unique()):
            value, n = acc(frame[frame[column] == name])
            if n:
                rows.append((metric + suffix, str(name), value, n))
    return rows


def _parse(records: pd.DataFrame, settings: dict, judges) -> tuple[pd.Series, pd.Series, int, int]:
    """Each row's letter (None: unparsed), whether it is right (0/1), and how many letters
    the judge gave and how many of its asks failed."""
    judge = getattr(judges, "llm", None) if settings.get("use_judge", True) else None
    tries = int(settings.get("judge_tries", 3))
    preds = predictions(records)
    errored = unanswered(records)
    parsed: dict = {}
    by_judge = judge_errors = 0
    for i, row in zip(records.index, records.to_dict("records")):  # dict rows: .loc per row cost 0.25 ms
        choices = choices_of(row)
        letter = extract_choice(preds[i], choices)
        if letter is None and judge is not None and choices and preds[i].strip() and not errored[i]:
            try:
                letter = ask_judge(judge, str(row.get("question", "")), choices, preds[i], tries)
                by_judge += letter is not None
            except JudgeUnavailable:
                raise  # the judge is down: stop, rather than count every sample as a judge error
            except JudgeError:
                judge_errors += 1
        parsed[i] = letter
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
            "category": records["category"] if "category" in records else None,
            "l2": records["L2-category"] if "L2-category" in records else None,
        },
        index=records.index,
    )
    for col in ("category", "l2"):
        frame[col] = frame[col].map(lambda v: None if is_missing(v) else str(v))
    return frame


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed_s, correct, by_judge, judge_errors = _parse(records, settings or {}, judges)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed_s, "score": correct}), records)

    errored = unanswered(records)
    frame = _questions(records, correct)
    # a question one of whose rotations the model could not be asked is left out of circular
    bad_groups = set(frame.loc[errored, "group"])
    circ = frame[~frame["group"].isin(bad_groups)]
    plain = frame[~errored]

    ok = answered(records).index
    rows = _accuracy_rows("accuracy", plain, circular=False)
    rows += _accuracy_rows("circular_accuracy", circ, circular=True)
    rows += [
        ("unparsed", "", float(parsed_s[ok].isna().sum()), len(ok)),
        ("judge_matched", "", float(by_judge), len(ok)),
        ("judge_error", "", float(judge_errors), len(ok)),
    ]
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


def _circular(
    counts: np.ndarray, codes: np.ndarray, rows: np.ndarray, wrong: np.ndarray, spoiled: np.ndarray
) -> np.ndarray:
    """Circular accuracy over the records `rows` per resample: a question (`codes`) counts
    when one of its rows is drawn and none of its rotations that the model could not be
    asked (`spoiled[b, code]`: such rotations drawn), and is right when no drawn row is wrong."""
    if not len(rows):
        return np.full(len(counts), np.nan)
    rows = rows[np.argsort(codes[rows], kind="stable")]
    starts = np.flatnonzero(np.r_[True, np.diff(codes[rows]) != 0])
    drawn = np.add.reduceat(counts[:, rows], starts, axis=1)
    wrong_drawn = np.add.reduceat(counts[:, rows] * wrong[rows], starts, axis=1)
    counted = (drawn > 0) & (spoiled[:, codes[rows][starts]] == 0)
    n = counted.sum(axis=1)
    hits = (counted & (wrong_drawn == 0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100 * (hits / n), np.nan)


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values (without a judge, as `compare` rescores) on many resamples at once
    (`counts[b, i]`: draws of record i in resample b). The answers are parsed once; plain
    accuracy weighs the originals' correctness, circular accuracy groups the drawn rows by
    question (`index` % 1,000,000): a question is right when every drawn rotation is, and
    left out when a drawn rotation could not be asked. A subset with nothing drawn is NaN."""
    parsed, correct, _, _ = _parse(records, settings or {}, None)
    frame = _questions(records, correct)
    missing = unanswered(records).to_numpy()
    right = correct.to_numpy()
    original = frame["original"].to_numpy()
    codes = pd.factorize(frame["group"])[0]
    weights = counts.astype(float)
    spoiled = np.zeros((len(counts), codes.max() + 1 if len(codes) else 0))  # per question: unasked drawn
    np.add.at(spoiled.T, codes[missing], weights[:, missing].T)
    wrong = (right != 1.0).astype(float)
    out: dict[tuple[str, str], np.ndarray] = {}
    subsets: list[tuple[str, str, np.ndarray]] = [("", "", np.ones(len(frame), bool))]
    for column, suffix in (("category", ""), ("l2", "_l2")):
        values = frame[column].to_numpy(dtype=object)
        for name in sorted({v for v in values[~missing] if pd.notna(v)}):
            subsets.append((suffix, name, values == name))
    for suffix, name, member in subsets:
        plain = member & ~missing & original
        if plain.any() or not name:
            out[("accuracy" + suffix, name)] = resampled_percent(counts, plain, right)
    for suffix, name, member in subsets:
        out[("circular_accuracy" + suffix, name)] = _circular(
            weights, codes, np.flatnonzero(member & ~missing), wrong, spoiled
        )
    zero = np.zeros(len(counts))
    out[("unparsed", "")] = resampled_count(counts, ~missing & parsed.isna().to_numpy())
    out[("judge_matched", "")], out[("judge_error", "")] = zero, zero.copy()
    out[("errors", "")] = resampled_count(counts, missing)
    return out
