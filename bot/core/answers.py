"""The result of asking a question: an answer with verbatim citations, or a reasoned decline."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "EXPLAINED_CONTRIBUTIONS",
    "Answer",
    "Citation",
    "Reason",
    "Trace",
    "in_quote_marks",
    "page_heading",
    "page_of",
]

# Contributions printed by ``ask --explain``: the largest, enough to see what decided without
# reading every feature (the trace itself keeps them all).
EXPLAINED_CONTRIBUTIONS = 12


class Reason(StrEnum):
    """Why an answer came out the way it did (stable, machine-readable)."""

    INTENT = "intent"  # a curated intent matched
    RETRIEVAL = "retrieval"  # sentences found by search over the documents
    CHITCHAT = "chitchat"  # greeting, thanks, help: a fixed reply
    LOW_CONFIDENCE = "low_confidence"  # the answerability model is not confident enough
    UNKNOWN_TERMS = "unknown_terms"  # the question's key words are not in the knowledge base
    OTHER_SUBJECT = "other_subject"  # the words asked are said of another subject (Chang'e-6 for -5)
    MISSING_ANSWER_TYPE = "missing_answer_type"  # e.g. a "when" question and no date in the best sentence
    NO_MATCH = "no_match"  # nothing in the knowledge base matched at all
    EMPTY_KNOWLEDGE = "empty_knowledge"  # there are no documents to answer from


# Double quotation marks a sentence may open or close with ("“We will,” she said.").
_QUOTE_MARKS = '“”„‟"«»'


def in_quote_marks(text: str) -> str:
    """``text`` between “ and ”, unless it opens or closes with a quotation mark of its own.

    A sentence that is itself a quotation keeps only its own marks: ““The discovery…” would
    read as a mistake, and the sentence must stay verbatim, so its marks cannot be changed.
    """
    if text[:1] in _QUOTE_MARKS or text[-1:] in _QUOTE_MARKS:
        return text
    return f"“{text}”"


# A section heading that is exactly "Page N" says the paragraphs under it are on page N of a
# printed source (a PDF added with `kb add` gets one per page), so citations can give the page.
# The rule lives here, beside the citation that shows it, rather than in bot.core.documents:
# it only labels answers and never changes which sentence is chosen.
_PAGE_HEADING = re.compile(r"Page ([1-9][0-9]{0,5})")


def page_heading(page: int) -> str:
    """The section heading that puts the paragraphs under it on ``page``."""
    return f"Page {page}"


def page_of(section: str | None) -> int | None:
    """The page a paragraph under the heading ``section`` is on; None when it names no page."""
    match = _PAGE_HEADING.fullmatch(section or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Citation:
    """One quoted sentence and where it comes from."""

    document: str  # document id
    title: str
    url: str | None
    published: dt.date | None
    paragraph: int  # 1-based
    text: str  # the sentence, verbatim
    start: int  # character offsets of ``text`` in the document body
    end: int
    page: int | None = None  # the page of a printed source (see page_of), when the document says

    def to_json(self) -> dict[str, Any]:
        """The citation as a JSON-ready dict."""
        return {
            "document": self.document,
            "title": self.title,
            "url": self.url,
            "published": self.published.isoformat() if self.published else None,
            "paragraph": self.paragraph,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "page": self.page,
        }


@dataclass(frozen=True, slots=True)
class Trace:
    """Why an answer came out as it did: the stage that decided and the values it decided on.

    ``features`` are the deciding model's inputs and ``contributions`` how far the largest of them
    moved the confidence (log-odds, largest first) away from an average question of the
    development data, so a feature at 0 moves it too when most questions have it;
    ``candidates`` are the first few ranked sentences.
    """

    stage: str  # analysis, retrieval, answerability or selection
    detail: str
    features: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    candidates: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The trace as printed by ``ask --json --explain``."""
        return {
            "stage": self.stage,
            "detail": self.detail,
            "contributions": {
                k: round(v, 4) for k, v in list(self.contributions.items())[:EXPLAINED_CONTRIBUTIONS]
            },
            "features": {k: round(v, 4) for k, v in self.features.items()},
            "candidates": list(self.candidates),
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What the engine says to a question."""

    question: str
    answered: bool
    confidence: float
    reason: Reason
    citations: tuple[Citation, ...] = ()
    suggestions: tuple[str, ...] = ()
    intent: str | None = None
    reply: str | None = None  # fixed text of a chit-chat intent
    knowledge_version: str = ""
    trace: Trace | None = field(default=None, compare=False, repr=False)

    def to_json(self, *, explain: bool = False) -> dict[str, Any]:
        """The answer in the stable ``ask --json`` format; ``explain`` adds the trace."""
        shown = {
            "question": self.question,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "citations": [c.to_json() for c in self.citations],
            "suggestions": list(self.suggestions),
            "intent": self.intent,
            "reason": self.reason.value,
            "reply": self.reply,
            "knowledge_version": self.knowledge_version,
        }
        if explain:
            shown["trace"] = self.trace.to_json() if self.trace is not None else None
        return shown
