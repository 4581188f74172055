"""Errors raised by the core.

Hierarchy::

    CitebotError                 base of everything citebot raises on purpose
    ├── KnowledgeError           a knowledge base (files or text) is invalid; carries every problem
    └── QuestionError            a question cannot be asked (empty, too long)

"No good answer" is not an error: it is an :class:`~bot.core.answers.Answer` with
``answered=False``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CitebotError", "KnowledgeError", "KnowledgeProblem", "QuestionError"]


class CitebotError(Exception):
    """Base class of the errors citebot raises deliberately; the message is fit for a user."""


@dataclass(frozen=True)
class KnowledgeProblem:
    """One thing wrong with a knowledge source: where it is and what is wrong."""

    source: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        location = f"{self.source}: {self.where}" if self.where else self.source
        return f"{location}: {self.message}"


class KnowledgeError(CitebotError):
    """A knowledge base failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[KnowledgeProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"the knowledge base has {len(self.problems)} {noun}:\n{lines}")


class QuestionError(CitebotError):
    """A question that cannot be answered as asked (empty, too long)."""
