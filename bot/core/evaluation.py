"""Scoring questions with known answers, so admins can measure and tune their knowledge.

A question file has one JSON object per line, in one of two formats:

- hand-written: ``{"question", "answerable", "gold": [substrings]}``. An answer is right when
  its first citation contains a gold substring (ignoring case, runs of whitespace and curly
  versus straight quotes).
- SQuAD-style: ``{"question", "answerable", "context", "answers": [{"text", "answer_start"}]}``.
  An answer is right when its first citation is a passage of ``context`` covering a whole gold
  answer and at most 1.5 times as long as that answer's sentence, plus 50 characters.

An unanswerable question is right when it is declined. **Precision** is the share of answers
given that are right; **coverage** the share of answerable questions answered right. Because the
engine's confidence is a probability, the report also shows both at every threshold, and how
well the confidences match how often answers are right (calibration).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bot.core.answers import Answer
from bot.core.errors import KnowledgeError, KnowledgeProblem

__all__ = [
    "CALIBRATION_BINS",
    "EvalCase",
    "EvalReport",
    "EvalSet",
    "Judged",
    "SquadAnswer",
    "evaluate",
    "find_eval_sets",
    "judge",
    "merge",
    "parse_eval_file",
    "report_json",
]

CALIBRATION_BINS = 10
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(20))
LENGTH_FACTOR = 1.5
LENGTH_SLACK = 50
QUESTION_FILE = "questions.jsonl"

_WHITESPACE = re.compile(r"\s+")
_QUOTES = str.maketrans(
    "\u2018\u2019\u201a\u201b\u2032\u02bc\uff07\u201c\u201d\u201e\u201f\u2033\uff02", "'''''''\"\"\"\"\"\""
)


def _squash(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _norm(text: str) -> str:
    return _squash(text.translate(_QUOTES)).casefold()


class SquadAnswer(BaseModel):
    """A gold answer span of a SQuAD-style question."""

    text: str
    answer_start: int


class EvalCase(BaseModel):
    """One evaluation question, hand-written (``gold``) or SQuAD-style (``context``, ``answers``)."""

    model_config = ConfigDict(extra="ignore")

    question: str
    answerable: bool
    gold: list[str] = []
    context: str | None = None
    answers: list[SquadAnswer] = []

    @model_validator(mode="after")
    def _has_a_gold(self) -> EvalCase:
        if self.answerable and not self.gold and not self.answers:
            raise ValueError("an answerable question needs 'gold' substrings or SQuAD 'answers'")
        if self.answers and self.context is None:
            raise ValueError("SQuAD 'answers' need their 'context'")
        return self

    @cached_property
    def _spans(self) -> tuple[str, list[int], list[tuple[int, int, int]]]:
        """The whitespace-squashed context, its map back to the context, and (start, end, sentence chars)."""
        from bot.core.documents import sentence_spans  # pysbd only when SQuAD questions are scored

        context = self.context or ""
        squashed: list[str] = []
        where: list[int] = []
        for match in re.finditer(r"\S+", context):
            if squashed:
                squashed.append(" ")
                where.append(match.start() - 1)
            squashed.append(match.group())
            where.extend(range(match.start(), match.end()))
        sentences = sentence_spans(context)
        spans: list[tuple[int, int, int]] = []
        for answer in self.answers:
            start = answer.answer_start + len(answer.text) - len(answer.text.lstrip())
            end = answer.answer_start + len(answer.text.rstrip())
            if end <= start or any(s[:2] == (start, end) for s in spans):
                continue
            touching = [(s, e) for s, e in sentences if s < end and e > start]
            holder = context[touching[0][0] : touching[-1][1]] if touching else context[start:end]
            spans.append((start, end, len(_squash(holder))))
        return "".join(squashed), where, spans

    def is_right(self, cited: str) -> bool:
        """Whether a first citation ``cited`` answers this (answerable) question."""
        if self.context is None:
            text = _norm(cited)
            return bool(text) and any(_norm(g) and _norm(g) in text for g in self.gold)
        cite = _squash(cited)
        if not cite:
            return False
        squashed, where, spans = self._spans
        at = squashed.find(cite)
        while at >= 0:
            start, end = where[at], where[at + len(cite) - 1] + 1
            for span_start, span_end, sentence_chars in spans:
                if (
                    start <= span_start
                    and end >= span_end
                    and len(cite) <= (LENGTH_FACTOR * sentence_chars + LENGTH_SLACK)
                ):
                    return True
            at = squashed.find(cite, at + 1)
        return False


def parse_eval_file(text: str, source: str) -> list[EvalCase]:
    """Parse a JSON-lines evaluation file; every bad line is reported with its number."""
    cases: list[EvalCase] = []
    problems: list[KnowledgeProblem] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            cases.append(EvalCase.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(KnowledgeProblem(source, f"not valid JSON: {exc.msg}", f"line {number}"))
        except ValidationError as exc:
            fields = ", ".join(
                ".".join(str(p) for p in e["loc"]) or e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            )
            problems.append(KnowledgeProblem(source, f"bad or missing field(s): {fields}", f"line {number}"))
    if problems:
        raise KnowledgeError(problems)
    return cases


@dataclass(frozen=True, slots=True)
class EvalSet:
    """Questions and the knowledge folder they are asked of."""

    name: str
    knowledge: Path | None  # None: the default knowledge folder
    questions: Path

    def cases(self) -> list[EvalCase]:
        """The parsed questions."""
        return parse_eval_file(self.questions.read_text(encoding="utf-8"), str(self.questions))


def find_eval_sets(path: Path) -> list[EvalSet]:
    """The question sets at ``path``, in three layouts.

    - a question file: asked of the default knowledge folder (or ``--knowledge``);
    - a folder holding ``questions.jsonl`` and a ``knowledge/`` folder: asked of that folder;
    - a folder of folders that each hold ``questions.jsonl`` beside their own documents (or a
      ``knowledge/`` folder): one knowledge base each, as SQuAD articles are loaded one at a time;
      a folder holding only ``questions.jsonl`` is asked of the default knowledge.
    """
    if path.is_file():
        return [EvalSet(path.stem, None, path)]
    if not path.is_dir():
        raise KnowledgeError([KnowledgeProblem(str(path), "is neither a question file nor a folder")])
    own = _set_in(path)
    if own is not None:
        return [own]
    found = [s for sub in sorted(p for p in path.iterdir() if p.is_dir()) if (s := _set_in(sub)) is not None]
    if not found:
        raise KnowledgeError([KnowledgeProblem(str(path), f"holds no {QUESTION_FILE}, nor folders that do")])
    return found


def _set_in(folder: Path) -> EvalSet | None:
    if not (folder / QUESTION_FILE).is_file():
        return None
    if (folder / "knowledge").is_dir():
        return EvalSet(folder.name, folder / "knowledge", folder / QUESTION_FILE)
    if any(folder.glob("*.md")):
        return EvalSet(folder.name, folder, folder / QUESTION_FILE)
    # Questions alone: they are about the default knowledge (or --knowledge).
    return EvalSet(folder.name, None, folder / QUESTION_FILE)


@dataclass(frozen=True, slots=True)
class Judged:
    """One question's outcome, at every threshold at once."""

    question: str
    answerable: bool
    answered: bool  # answered at all (small talk and categorical declines are final)
    confidence: float
    right: bool  # the first citation answers the question (never for an unanswerable one)
    cited: str


@dataclass(frozen=True)
class EvalReport:
    """Precision, coverage and calibration of one evaluation run."""

    judged: tuple[Judged, ...]
    threshold: float

    def _given(self, threshold: float) -> list[Judged]:
        return [j for j in self.judged if j.answered and j.confidence >= threshold]

    @property
    def answerable(self) -> int:
        """How many questions have an answer in the knowledge."""
        return sum(j.answerable for j in self.judged)

    @property
    def unanswerable(self) -> int:
        """How many questions do not."""
        return len(self.judged) - self.answerable

    def precision(self, threshold: float | None = None) -> float:
        """Right answers / answers given, answering at ``threshold`` (default: the service's)."""
        given = self._given(self.threshold if threshold is None else threshold)
        return sum(j.right for j in given) / len(given) if given else 1.0

    def coverage(self, threshold: float | None = None) -> float:
        """Right answers / answerable questions."""
        given = self._given(self.threshold if threshold is None else threshold)
        return sum(j.right for j in given) / self.answerable if self.answerable else 0.0

    def declined(self, threshold: float | None = None) -> float:
        """Share of unanswerable questions declined."""
        given = self._given(self.threshold if threshold is None else threshold)
        answered = sum(not j.answerable for j in given)
        return 1 - answered / self.unanswerable if self.unanswerable else 1.0

    def curve(self, thresholds: Sequence[float] = THRESHOLDS) -> list[tuple[float, float, float, int]]:
        """(threshold, precision, coverage, answers given) at each threshold."""
        return [(t, self.precision(t), self.coverage(t), len(self._given(t))) for t in thresholds]

    def calibration(self, bins: int = CALIBRATION_BINS) -> list[tuple[float, float, float, int]]:
        """(lower edge, mean confidence, share right, count) per confidence bin of the answerable-by-model."""
        scored = [j for j in self.judged if j.answered]
        rows = []
        for b in range(bins):
            low, high = b / bins, (b + 1) / bins
            inside = [
                j for j in scored if low <= j.confidence < high or (b == bins - 1 and j.confidence == 1)
            ]
            if inside:
                mean = sum(j.confidence for j in inside) / len(inside)
                rows.append((low, mean, sum(j.right for j in inside) / len(inside), len(inside)))
        return rows

    @property
    def calibration_error(self) -> float:
        """Expected calibration error over :data:`CALIBRATION_BINS` equal-width bins."""
        rows = self.calibration()
        total = sum(count for *_, count in rows)
        return sum(count * abs(mean - right) for _, mean, right, count in rows) / total if total else 0.0

    @property
    def misses(self) -> list[tuple[str, str]]:
        """(question, what went wrong) for every question handled wrongly at the threshold."""
        found: list[tuple[str, str]] = []
        for j in self.judged:
            given = j.answered and j.confidence >= self.threshold
            if j.answerable and not given:
                found.append((j.question, f"declined ({j.confidence:.2f})"))
            elif j.answerable and not j.right:
                found.append((j.question, f"cited ({j.confidence:.2f}): {j.cited[:100]}"))
            elif not j.answerable and given:
                found.append((j.question, f"answered, should decline ({j.confidence:.2f}): {j.cited[:80]}"))
        return found


def judge(case: EvalCase, answer: Answer) -> Judged:
    """Score one answer, keeping its confidence so that any threshold can be applied later."""
    cited = [c.text for c in answer.citations]
    answered = answer.answered and (bool(cited) or answer.reply is not None)
    right = case.answerable and answered and bool(cited) and case.is_right(cited[0])
    first = cited[0] if cited else answer.reply or ""
    confidence = answer.confidence if answer.reply is None else 1.0
    return Judged(case.question, case.answerable, answered, confidence, right, first)


def evaluate(cases: Iterable[EvalCase], ask: Callable[[str], Answer], threshold: float = 0.0) -> EvalReport:
    """Ask every case and score the answers.

    ``ask`` should answer at confidence 0 (decline only what is categorical), so that the report
    can show every threshold; ``threshold`` is the one its headline figures use.
    """
    return EvalReport(tuple(judge(case, ask(case.question)) for case in cases), threshold)


def merge(reports: Sequence[EvalReport]) -> EvalReport:
    """One report over the questions of several."""
    return EvalReport(tuple(j for r in reports for j in r.judged), reports[0].threshold if reports else 0.0)


def report_json(report: EvalReport) -> dict[str, Any]:
    """The headline figures of a report as JSON."""
    return {
        "answerable": report.answerable,
        "unanswerable": report.unanswerable,
        "precision": round(report.precision(), 4),
        "coverage": round(report.coverage(), 4),
        "declined": round(report.declined(), 4),
        "calibration_error": round(report.calibration_error, 4),
    }
