"""Scoring a hand-written question file, so admins can regression-test their knowledge.

A line is ``{"question": str, "answerable": bool, "gold": [substrings]}``. An answerable
question is right at 1 when it is answered and its first citation contains a gold substring
(ignoring case, runs of whitespace and curly versus straight quotes); right at 3 when any of
the first three does. An unanswerable question is right when it is declined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core.answers import Answer
from bot.core.errors import KnowledgeError, KnowledgeProblem

__all__ = ["EvalCase", "EvalReport", "evaluate", "parse_eval_file"]

_WHITESPACE = re.compile(r"\s+")
_QUOTES = str.maketrans(
    "\u2018\u2019\u201a\u201b\u2032\u02bc\uff07\u201c\u201d\u201e\u201f\u2033\uff02", "'''''''\"\"\"\"\"\""
)


class EvalCase(BaseModel):
    """One hand-written evaluation question."""

    model_config = ConfigDict(extra="ignore")

    question: str
    answerable: bool
    gold: list[str] = []


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Counts and rates of an evaluation run."""

    answerable: int
    unanswerable: int
    correct_at_1: int
    correct_at_3: int
    declined: int  # unanswerable questions that were declined
    misses: tuple[tuple[str, str], ...]  # (question, what went wrong)

    @property
    def acc1(self) -> float:
        """Share of answerable questions right at 1."""
        return self.correct_at_1 / self.answerable if self.answerable else 0.0

    @property
    def acc3(self) -> float:
        """Share of answerable questions right at 3."""
        return self.correct_at_3 / self.answerable if self.answerable else 0.0

    @property
    def declined_rate(self) -> float:
        """Share of unanswerable questions declined."""
        return self.declined / self.unanswerable if self.unanswerable else 0.0

    @property
    def overall(self) -> float:
        """Share of all questions handled right."""
        total = self.answerable + self.unanswerable
        return (self.correct_at_1 + self.declined) / total if total else 0.0


def _norm(text: str) -> str:
    return _WHITESPACE.sub(" ", text.translate(_QUOTES)).strip().casefold()


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
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "line" for e in exc.errors())
            problems.append(KnowledgeProblem(source, f"bad or missing field(s): {fields}", f"line {number}"))
    if problems:
        raise KnowledgeError(problems)
    return cases


def _hit(answer: Answer, gold: list[str], first: int) -> bool:
    wanted = [_norm(g) for g in gold if _norm(g)]
    return answer.answered and any(any(g in _norm(c.text) for g in wanted) for c in answer.citations[:first])


def evaluate(cases: Iterable[EvalCase], ask: Callable[[str], Answer]) -> EvalReport:
    """Ask every case and score the answers."""
    answerable = unanswerable = c1 = c3 = declined = 0
    misses: list[tuple[str, str]] = []
    for case in cases:
        answer = ask(case.question)
        if case.answerable:
            answerable += 1
            c1 += _hit(answer, case.gold, 1)
            c3 += _hit(answer, case.gold, 3)
            if not answer.answered:
                misses.append((case.question, "declined"))
            elif not _hit(answer, case.gold, 1):
                cited = answer.citations[0].text if answer.citations else answer.reply or ""
                misses.append((case.question, f"cited: {cited[:100]}"))
        else:
            unanswerable += 1
            declined += not answer.answered
            if answer.answered:
                misses.append((case.question, "answered, should decline"))
    return EvalReport(answerable, unanswerable, c1, c3, declined, tuple(misses))
