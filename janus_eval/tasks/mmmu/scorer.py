"""MMMU (validation), with the parsing and matching rules of the MMMU repository
(`mmmu/utils/eval_utils.py`: `parse_multi_choice_response`,
`parse_open_response`, `eval_open`; `mmmu/main_parse_and_eval.py`).

Multiple choice: the response is stripped of surrounding punctuation; a
bracketed letter `(B)` wins, else a letter between spaces, else (for responses
longer than five words) an option's text; several candidates: the last one in
the response. A response naming no option gets, as in the official code, a
random option from `random.seed(42)`; the picks are drawn in the official order
(subjects in the order of the repository's `CAT_SHORT2LONG`, questions by
number), so the number matches an official `--subject ALL` run whatever the
order of the records. These guesses are counted in the `unparsed` row.

Open questions: key sub-responses after "is", "so", "=", ... and every number in
them are normalised (numbers rounded to 2 decimals, text lowercased) and
matched against the answer(s): a number must equal, a text answer must be
contained in a predicted text.

Accuracy in percent: overall (pooled over questions), per subject (from the id
`validation_<Subject>_<n>`) and per discipline (`DOMAIN_CAT2SUB_CAT`).
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from janus_eval.core.metric import Metric
from janus_eval.score.base import (
    ERRORS,
    UNPARSED,
    Measured,
    Scored,
    count,
    errors,
    every_record,
    predictions,
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.contract import Field
from janus_eval.score.options import letters, parse_options

METRICS = (
    Metric("accuracy", True, "percent"),
    Metric("discipline_accuracy", True, "percent"),
    UNPARSED,  # random picks among them
    ERRORS,
)

SEED = 42

# subject folder names in the order the official `--subject ALL` run visits them
SUBJECT_ORDER = [
    "Accounting", "Agriculture", "Architecture_and_Engineering", "Art", "Art_Theory",
    "Basic_Medical_Science", "Biology", "Chemistry", "Clinical_Medicine", "Computer_Science",
    "Design", "Diagnostics_and_Laboratory_Medicine", "Economics", "Electronics", "Energy_and_Power",
    "Finance", "Geography", "History", "Literature", "Manage", "Marketing", "Materials", "Math",
    "Mechanical_Engineering", "Music", "Pharmacy", "Physics", "Psychology", "Public_Health", "Sociology",
]  # fmt: skip

DISCIPLINES = {
    "Art and Design": ["Art", "Art_Theory", "Design", "Music"],
    "Business": ["Accounting", "Economics", "Finance", "Manage", "Marketing"],
    "Science": ["Biology", "Chemistry", "Geography", "Math", "Physics"],
    "Health and Medicine": [
        "Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine",
        "Pharmacy", "Public_Health",
    ],
    "Humanities and Social Science": ["History", "Literature", "Sociology", "Psychology"],
    "Tech and Engineering": [
        "Agriculture", "Architecture_and_Engineering", "Computer_Science", "Electronics",
        "Energy_and_Power", "Materials", "Mechanical_Engineering",
    ],
}  # fmt: skip
DISCIPLINE_OF = {s: d for d, subjects in DISCIPLINES.items() for s in subjects}


# --- ids and options ------------------------------------------------------
def subject_of(sample_id: str) -> str:
    """`validation_Art_Theory_12` -> `Art_Theory`."""
    parts = str(sample_id).split("_")
    return "_".join(parts[1:-1]) if len(parts) >= 3 else ""


def _number_of(sample_id: str) -> int:
    tail = str(sample_id).rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def parse_answer(value: Any) -> str | list[str]:
    """The gold answer: a string, or a list of accepted answers (also when stored as a list literal)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = str(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
            if isinstance(parsed, list):
                return [str(v) for v in parsed]
        except (ValueError, SyntaxError):
            pass
    return text


# --- multiple choice -------------------------------------------------------
def parse_multi_choice(response: str, options: list[str]) -> str | None:
    """The chosen letter, or None where the official parser falls back to a random pick."""
    keys = letters(len(options))
    index2ans = dict(zip(keys, options))
    for ch in (",", ".", "!", "?", ";", ":", "'"):
        response = response.strip(ch)
    response = f" {response} "

    candidates = [c for c in keys if f"({c})" in response]
    bracketed = bool(candidates)
    by_text = False
    if not candidates:
        candidates = [c for c in keys if f" {c} " in response]
    if not candidates and len(response.split()) > 5:
        lowered = response.lower()
        candidates = [c for c in keys if index2ans[c].lower() in lowered]
        by_text = bool(candidates)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if by_text:
        positions = [response.lower().rfind(index2ans[c].lower()) for c in candidates]
    elif bracketed:
        positions = [response.rfind(f"({c})") for c in candidates]
    else:
        positions = [response.rfind(f" {c} ") for c in candidates]
    return candidates[positions.index(max(positions))]


# --- open questions --------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def normalize(text: str) -> list[str | float]:
    """A number -> [rounded float]; text -> [lowercased] (one character: padded forms)."""
    text = text.strip()
    if _is_number(text):
        return [round(float(text.replace(",", "")), 2)]
    text = text.lower()
    if len(text) == 1:
        return [" " + text, text + " "]
    return [text]


_NUM_COMMAS = re.compile(r"-?\b\d{1,3}(?:,\d{3})+\b")
_NUM_SCI = re.compile(r"-?\d+(?:\.\d+)?[eE][+-]?\d+")
_NUM_SIMPLE = re.compile(r"-?(?:\d+\.\d+|\.\d+|\d+\b)(?![eE][+-]?\d+)(?![,\d])")


def extract_numbers(text: str) -> list[str]:
    return _NUM_COMMAS.findall(text) + _NUM_SCI.findall(text) + _NUM_SIMPLE.findall(text)


_KEY_MARKERS = ("could be ", "so ", "is ", "thus ", "therefore ", "final ", "answer ", "result ")


def _key_subresponses(response: str) -> list[str]:
    response = response.strip().strip(".").lower()
    parts = re.split(r"\.\s(?=[A-Z])|\n", response)
    keys = []
    for i, part in enumerate(parts):
        markers = _KEY_MARKERS + (("=",) if i == len(parts) - 1 else ())
        shortest = None
        for marker in markers:
            if marker in part:
                tail = part.split(marker)[-1].strip()
                if not shortest or len(tail) < len(shortest):
                    shortest = tail
        if shortest and shortest.strip() not in (":", ",", ".", "!", "?", ";", "'"):
            keys.append(shortest)
    return keys or [response]


def parse_open(response: str) -> list[str | float]:
    """The normalised candidate answers of an open response (order-free, no repeats)."""
    keys = _key_subresponses(response)
    cands: list[str] = list(keys)
    for key in keys:
        cands.extend(extract_numbers(key))
    out: list[str | float] = []
    for cand in cands:
        for norm in normalize(cand):
            if norm not in out:
                out.append(norm)
    return out


def eval_open(gold: str | list[str], preds: list[str | float]) -> bool:
    golds = gold if isinstance(gold, list) else [gold]
    norm_golds: list[str | float] = [n for g in golds for n in normalize(g)]
    for pred in preds:
        if isinstance(pred, str):
            if any(isinstance(g, str) and g in pred for g in norm_golds):
                return True
        elif pred in norm_golds:
            return True
    return False


def eval_multi_choice(gold: str | list[str], pred: str) -> bool:
    return pred in gold if isinstance(gold, list) else pred == gold


# --- the scorer ------------------------------------------------------------
def _official_order(records: pd.DataFrame) -> list:
    rank = {s: i for i, s in enumerate(SUBJECT_ORDER)}
    ids = records["id"].astype(str)
    return sorted(
        records.index,
        key=lambda i: (rank.get(subject_of(ids[i]), len(rank)), _number_of(ids[i]), ids[i]),
    )


@dataclass
class _Read:
    """Each record's reading, in the records' order. `picks[k]` > 0: a multiple-choice
    answer naming no option, settled by a random pick among that many options."""

    parsed: list[str | None]
    correct: list[float | None]  # None: unanswered, or waiting for its random pick
    picks: list[int]
    golds: list[str | list[str]]
    unparsed: np.ndarray  # counted in the `unparsed` row: random picks, and no option to pick


def _read(records: pd.DataFrame) -> _Read:
    preds = predictions(records)
    errored = unanswered(records)
    out = _Read([], [], [], [], np.zeros(len(records), bool))
    for k, (i, row) in enumerate(zip(records.index, records.to_dict("records"))):  # dict rows: .loc is slow
        gold = parse_answer(row["answer"])
        parsed: str | None = None
        correct: float | None = None
        picks = 0
        if errored[i]:
            pass
        elif str(row.get("question_type", "multiple-choice")) == "multiple-choice":
            options = parse_options(row.get("options"))
            letter = parse_multi_choice(preds[i], options)
            if letter is None and options:
                picks = len(options)
            else:
                parsed, correct = letter, float(letter is not None and eval_multi_choice(gold, letter))
            out.unparsed[k] = letter is None
        else:
            cands = parse_open(preds[i])
            parsed, correct = "; ".join(str(c) for c in cands), float(eval_open(gold, cands))
        out.parsed.append(parsed)
        out.correct.append(correct)
        out.picks.append(picks)
        out.golds.append(gold)
    return out


def _pick_order(records: pd.DataFrame, read: _Read) -> list[int]:
    """Positions of the records that need a random pick, in the order the official run draws them."""
    position = {i: k for k, i in enumerate(records.index)}
    return [position[i] for i in _official_order(records) if read.picks[position[i]]]


def _draws(records: pd.DataFrame, read: _Read, seed: int, copies: np.ndarray, order: list[int] | None = None):
    """The random picks, (position, letter) in the order the official run draws them: the
    records in the official order, each one's `copies` side by side (as `score` meets them on
    a resampled frame), from a fresh `random.Random(seed)`."""
    rng = random.Random(seed)
    for k in _pick_order(records, read) if order is None else order:  # `order`: computed once per bootstrap
        options = letters(read.picks[k])
        for _ in range(int(copies[k])):
            yield k, rng.choice(options)


def measure(records: pd.DataFrame, read: _Read, counts: np.ndarray, picked: np.ndarray) -> Measured:
    """Every metric per resample (`counts[b, i]`: draws of record i in resample b; `picked[b, i]`:
    the right random picks among them): accuracy pooled, per subject and per discipline (NaN where
    nothing is drawn)."""
    missing = unanswered(records).to_numpy()
    weights = counts.astype(float)
    fixed = np.array([c if c is not None else 0.0 for c in read.correct])
    subjects = records["id"].astype(str).map(subject_of).to_numpy()
    disciplines = np.array([DISCIPLINE_OF.get(s) for s in subjects], dtype=object)

    def accuracy(member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        member = member & ~missing
        drawn = weights @ member
        right = weights @ (member * fixed) + picked @ member
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(drawn > 0, 100 * (right / drawn), np.nan), drawn

    out = {("accuracy", ""): accuracy(np.ones(len(records), bool))}
    for subject in sorted(set(subjects[~missing]), key=_subject_order):
        out[("accuracy", subject)] = accuracy(subjects == subject)
    for discipline in DISCIPLINES:
        if (disciplines[~missing] == discipline).any():
            out[("discipline_accuracy", discipline)] = accuracy(disciplines == discipline)
    out[(UNPARSED.name, "")] = count(counts, read.unparsed & ~missing, ~missing)
    out[(ERRORS.name, "")] = errors(counts, records)
    return out


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    seed = int((settings or {}).get("seed", SEED))
    read = _read(records)
    parsed, correct = list(read.parsed), list(read.correct)
    picked = np.zeros((1, len(records)))
    for k, letter in _draws(records, read, seed, every_record(records)[0]):
        parsed[k], correct[k] = f"random:{letter}", float(eval_multi_choice(read.golds[k], letter))
        picked[0, k] = correct[k]
    per_sample = pd.DataFrame(
        {"parsed": pd.Series(parsed, index=records.index, dtype=object),
         "score": pd.Series(correct, index=records.index, dtype=float)}
    )  # fmt: skip
    return Scored(per_sample, table_of(measure(records, read, every_record(records), picked)))


def _subject_order(subject: str) -> tuple[bool, str]:
    return subject not in SUBJECT_ORDER, subject


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (`counts[b, i]`: draws of record i in
    resample b). The answers are parsed once; the random picks are replayed per resample
    (`_draws`, as `score` makes them on the resampled frame), so the values equal `score`'s
    exactly. A subset with nothing drawn is NaN."""
    seed = int((settings or {}).get("seed", SEED))
    read = _read(records)
    picked = np.zeros(counts.shape)  # right random picks per resample and record
    order = _pick_order(records, read)
    for b in range(len(counts)):
        for k, letter in _draws(records, read, seed, counts[b], order):
            picked[b, k] += eval_multi_choice(read.golds[k], letter)
    return values_of(measure(records, read, counts, picked))


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    Field("id", required=True, nullable=False),
    Field("question_type", allowed=("multiple-choice", "open", "short-answer")),
    Field("options", kinds=(str, list), items=str),
    Field("answer", kinds=(str, list), items=str, required=True, nullable=False),
)


def check_sample(row: dict) -> str | None:
    """The id names an MMMU subject (`validation_Art_Theory_12`), and a multiple-choice answer
    is one letter."""
    if subject_of(row["id"]) not in SUBJECT_ORDER:
        return f"field 'id' is {row['id']!r}; it should be <split>_<MMMU subject>_<n>, e.g. validation_Art_1"
    if str(row.get("question_type", "multiple-choice")) == "multiple-choice":
        answer = row["answer"]
        if not (isinstance(answer, str) and len(answer.strip()) == 1 and "A" <= answer.strip() <= "I"):
            return f"field 'answer' is {answer!r}; a multiple-choice answer should be one letter A-I"
    return None
