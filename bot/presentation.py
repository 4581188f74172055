"""What every front shows, before any platform's formatting: the one platform-free renderer.

:func:`present` turns the core's :class:`~bot.core.answers.Answer` into a :class:`Presented`
answer: the quotes (verbatim, in quotation marks), the sources to cite, the decline and its
suggestions, and what the context and feedback buttons need. Each front only formats it (Discord
as an embed in Markdown, Telegram as HTML). The wording members read is here, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.core.answers import Answer, in_quote_marks
from bot.core.documents import Document
from bot.core.knowledge import KnowledgeBase

__all__ = [
    "DECLINE_TEXT",
    "NO_CONTEXT_TEXT",
    "NO_SOURCES_TEXT",
    "SUGGESTIONS_INTRO",
    "ContextParagraph",
    "Presented",
    "Source",
    "context_paragraphs",
    "decode_refs",
    "encode_refs",
    "present",
    "sources_of",
    "strip_markup",
    "truncate",
]

DECLINE_TEXT = "I don't know that from my sources."
SUGGESTIONS_INTRO = "Questions I can answer that are close to yours:"
NO_CONTEXT_TEXT = "That source is no longer in my knowledge base."
NO_SOURCES_TEXT = "I have no sources yet."


@dataclass(frozen=True, slots=True)
class Source:
    """A document as cited: its title, link, paragraph (0: the whole document) and date."""

    title: str
    url: str | None
    paragraph: int
    published: str | None  # ISO date


@dataclass(frozen=True, slots=True)
class Presented:
    """An answer as members see it, in no platform's format."""

    kind: Literal["answer", "decline", "reply"]
    question: str
    text: str  # the decline or the fixed reply; "" for an answer
    quotes: tuple[str, ...]  # each cited sentence verbatim, in quotation marks
    sources: tuple[Source, ...]  # distinct, in the order first cited
    confidence: float
    suggestions: tuple[str, ...]
    context_refs: tuple[tuple[str, int], ...]  # (document id, paragraph) of each citation
    answer_id: int | None


def present(answer: Answer, answer_id: int | None = None) -> Presented:
    """What to show for ``answer`` (logged as ``answer_id``, if it was)."""
    if answer.reply is not None:
        return Presented("reply", answer.question, answer.reply, (), (), answer.confidence, (), (), None)
    if not answer.answered or not answer.citations:
        return Presented(
            "decline", answer.question, DECLINE_TEXT, (), (), answer.confidence, answer.suggestions, (), None
        )
    sources: list[Source] = []
    for citation in answer.citations:
        published = citation.published.isoformat() if citation.published else None
        source = Source(citation.title, citation.url, citation.paragraph, published)
        if source not in sources:
            sources.append(source)
    return Presented(
        "answer",
        answer.question,
        "",
        tuple(in_quote_marks(c.text) for c in answer.citations),
        tuple(sources),
        answer.confidence,
        (),
        tuple(dict.fromkeys((c.document, c.paragraph) for c in answer.citations)),
        answer_id,
    )


def sources_of(documents: Iterable[Document]) -> list[Source]:
    """The documents answered from, as ``/sources`` lists them."""
    return [
        Source(d.title, d.meta.url, 0, d.meta.published.isoformat() if d.meta.published else None)
        for d in documents
    ]


@dataclass(frozen=True, slots=True)
class ContextParagraph:
    """A cited paragraph, for "Show context"."""

    title: str
    url: str | None
    number: int
    text: str


def context_paragraphs(knowledge: KnowledgeBase, refs: Iterable[tuple[str, int]]) -> list[ContextParagraph]:
    """The paragraphs ``refs`` name in the knowledge served now (gone ones are left out)."""
    found: list[ContextParagraph] = []
    for doc_id, number in refs:
        document = knowledge.document(doc_id)
        if document is None:
            continue
        for paragraph in document.paragraphs:
            if paragraph.number == number:
                found.append(ContextParagraph(document.title, document.meta.url, number, paragraph.text))
    return found


def encode_refs(refs: Iterable[tuple[str, int]], room: int) -> str | None:
    """(document id, paragraph) pairs as "12@doc;3@other", as many as fit in ``room`` bytes."""
    parts: list[str] = []
    for doc_id, paragraph in dict.fromkeys(refs):
        candidate = ";".join([*parts, f"{paragraph}@{doc_id}"])
        if len(candidate.encode()) > room:
            break
        parts.append(f"{paragraph}@{doc_id}")
    return ";".join(parts) or None


def decode_refs(refs: str) -> list[tuple[str, int]]:
    """The (document id, paragraph) pairs of :func:`encode_refs`'s text; malformed parts are skipped."""
    pairs: list[tuple[str, int]] = []
    for part in refs.split(";"):
        number, _, doc_id = part.partition("@")
        if number.isdigit() and doc_id:
            pairs.append((doc_id, int(number)))
    return pairs


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Chat markup a member may wrap a question in; the words inside are the question.
_MASKED_LINK = re.compile(r"\[([^\]\n]*)\]\(<?[^)\s>]*>?\)")
_CODE_BLOCK = re.compile(r"```(?:[a-z0-9_+-]*\n)?(.*?)```", re.DOTALL | re.IGNORECASE)
_PAIRED = re.compile(r"(\*\*\*|\*\*|__|~~|\|\||`)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
# A lone * or _ marks emphasis only with no word character outside it ("2*3*4" stays).
_SINGLE = re.compile(r"(?<![\w*_])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*_])", re.DOTALL)
_LINE_MARKS = re.compile(r"^[ \t]*(?:>>>\s|>\s?|-#\s|#{1,3}\s|[-*+]\s|\d{1,3}[.)]\s)+", re.MULTILINE)
_ESCAPED = re.compile(r"\\([\\*_~`|>#\[\]()<-])")
_HELD = re.compile("[\ue000-\ue0ff]")  # escaped marks, held aside while markup is removed


def strip_markup(text: str) -> str:
    """``text`` without chat markup: masked links keep their words, emphasis and code lose their marks."""
    text = _HELD.sub("", text)
    text = _ESCAPED.sub(lambda m: chr(0xE000 + ord(m[1])), text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _CODE_BLOCK.sub(r"\1", text)
    text = _LINE_MARKS.sub("", text)
    for _ in range(3):  # nested emphasis: ***bold italic***, **_both_**
        text = _SINGLE.sub(r"\2", _PAIRED.sub(r"\2", text))
    return _HELD.sub(lambda m: chr(ord(m[0]) - 0xE000), text)
