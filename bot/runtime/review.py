"""The review queue: questions worth teaching, one at a time, with the sentences that might answer them.

The queue holds each distinct question (case, blanks and punctuation at either end ignored) the
log shows the bot declined, answered with a 👎 vote, or answered with a confidence under a
threshold the admin sets. A question judged "not in the sources" or taught leaves it for good (the
verdict is stored); skipping only moves on. Most asked questions come first, then the newest.

Sentences are referred to as citations show them: ``DOC:PARAGRAPH:SENTENCE``, the document id, then
the paragraph and the sentence within it, both counted from 1.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.documents import Sentence
from bot.core.intents import fold_example
from bot.core.knowledge import KnowledgeBase
from bot.core.service import DEFAULT_REVIEW_BELOW, Candidate
from bot.runtime.knowledge_sync import TeachingError
from bot.storage import ReviewRow

__all__ = [
    "DEFAULT_REVIEW_BELOW",
    "REVIEW_CANDIDATES",
    "QueueEntry",
    "ReviewItem",
    "ReviewPage",
    "find_sentence",
    "parse_reference",
    "review_queue",
    "sentence_reference",
]

REVIEW_CANDIDATES = 5
_REFERENCE = re.compile(r"^(?P<doc>.+):(?P<paragraph>[0-9]{1,9}):(?P<sentence>[0-9]{1,9})$")


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One distinct question of the queue, from its newest logged asking."""

    question: str
    question_id: int  # the newest logged asking's id
    asked: int  # how many times it was logged
    last_asked: dt.datetime
    answered: bool  # at the newest asking
    confidence: float
    answer: tuple[str, ...]  # the sentences quoted then, if it was answered
    reasons: tuple[str, ...]  # "declined", "voted 👎", "confidence 0.42"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A queue entry with the sentences the bot now considers for it, best first."""

    entry: QueueEntry
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """The item at ``position`` (from 0) of a queue of ``left`` questions; no item when it is empty."""

    item: ReviewItem | None
    position: int
    left: int


def review_queue(rows: Sequence[ReviewRow], verdicts: dict[str, str], below: float) -> list[QueueEntry]:
    """The distinct questions of ``rows`` (newest first) with no verdict, most asked first."""
    # Verdicts are stored under the folded wording of their day: fold again, so a verdict saved
    # before punctuation was ignored still covers its question.
    verdicts = {fold_example(question): verdict for question, verdict in verdicts.items()}
    grouped: dict[str, list[ReviewRow]] = {}
    for row in rows:
        key = fold_example(row.question)
        if key and key not in verdicts:
            grouped.setdefault(key, []).append(row)
    entries: list[QueueEntry] = []
    for asked in grouped.values():
        newest = asked[0]
        reasons: list[str] = []
        if any(not r.answered for r in asked):
            reasons.append("declined")
        if any(r.thumbs_down for r in asked):
            reasons.append("voted 👎")
        unsure = [r.confidence for r in asked if r.answered and r.confidence < below]
        if unsure:
            reasons.append(f"confidence {min(unsure):.2f}")
        entries.append(
            QueueEntry(
                newest.question,
                newest.id,
                len(asked),
                newest.asked_at,
                newest.answered,
                newest.confidence,
                tuple(str(c.get("text", "")) for c in newest.citations) if newest.answered else (),
                tuple(reasons),
            )
        )
    entries.sort(key=lambda e: (-e.asked, -e.question_id))
    return entries


def parse_reference(reference: str, example: str = "DOC") -> tuple[str, int, int]:
    """``DOC:PARAGRAPH:SENTENCE`` as (document id, paragraph, sentence); raises :class:`TeachingError`.

    ``example`` is a document id for the error to show (one of the knowledge's, where at hand).
    """
    match = _REFERENCE.match(reference.strip())
    if match is None:
        raise TeachingError(
            f"{reference!r} is not a sentence reference: write DOC:PARAGRAPH:SENTENCE, the document "
            "id (kb list shows them) then the paragraph and sentence numbers counted from 1, "
            f"as in {example}:1:1"
        )
    return match["doc"], int(match["paragraph"]), int(match["sentence"])


def find_sentence(knowledge: KnowledgeBase, doc_id: str, paragraph: int, sentence: int) -> Sentence:
    """The ``sentence``-th sentence of paragraph ``paragraph`` of ``doc_id``; errors name what exists."""
    document = knowledge.document(doc_id)
    if document is None:
        known = sorted(d.id for d in knowledge.documents)
        shown = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        raise TeachingError(f"there is no document {doc_id!r} (documents: {shown or 'none'})")
    numbers = [p.number for p in document.paragraphs]
    held = next((p for p in document.paragraphs if p.number == paragraph), None)
    if held is None:
        span = f"1 to {max(numbers)}" if numbers else "none"
        raise TeachingError(f"document {doc_id!r} has no paragraph {paragraph} (its paragraphs: {span})")
    if not 1 <= sentence <= len(held.sentences):
        raise TeachingError(
            f"paragraph {paragraph} of {doc_id!r} has no sentence {sentence} "
            f"(it has {len(held.sentences)}, counted from 1)"
        )
    return held.sentences[sentence - 1]


def sentence_reference(candidate: Candidate) -> str:
    """The ``DOC:PARAGRAPH:SENTENCE`` reference of a candidate sentence."""
    return f"{candidate.citation.document}:{candidate.citation.paragraph}:{candidate.sentence}"
