"""What every front shows, before any platform's formatting: the one platform-free renderer.

:func:`present` turns the core's :class:`~bot.core.answers.Answer` into a :class:`Presented`
answer: the quotes (verbatim, in quotation marks), the sources to cite, the decline and its
suggestions, and what the context and feedback buttons need. Each front only formats it (Discord
as an embed in Markdown, Telegram as HTML). The wording members read is here, once.

Texts made of lines (the sources list, the context, the admin reports) are written here against
a :class:`Markup`, which each front implements for its syntax; :func:`fit_lines` then keeps
whole lines within a platform's length limit, so no markup is ever cut in half.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from bot.core.answers import Answer, in_quote_marks, page_of
from bot.core.knowledge import DocumentSummary, KnowledgeBase

if TYPE_CHECKING:  # the command line's `ask` imports this module and must not load the store
    from bot.runtime import LoggedQuestion, ReloadReport, ReviewPage, Stats, Taught

__all__ = [
    "ADMIN_REFUSAL",
    "DECLINE_TEXT",
    "NO_CONTEXT_TEXT",
    "NO_SOURCES_TEXT",
    "PLAIN",
    "RELOAD_FAILED",
    "SUGGESTIONS_INTRO",
    "ContextParagraph",
    "Markup",
    "Presented",
    "Source",
    "context_lines",
    "context_paragraphs",
    "decode_refs",
    "encode_refs",
    "fit_lines",
    "present",
    "reload_lines",
    "review_lines",
    "source_line",
    "sources_heading",
    "sources_lines",
    "sources_of",
    "stats_lines",
    "strip_markup",
    "taught_line",
    "truncate",
    "unanswered_lines",
]

DECLINE_TEXT = "I don't know that from my sources."
SUGGESTIONS_INTRO = "Questions I can answer that are close to yours:"
NO_CONTEXT_TEXT = "That source is no longer in my knowledge base."
NO_SOURCES_TEXT = "I have no sources yet."
RELOAD_FAILED = "Reload failed; I keep answering from the previous knowledge."
ADMIN_REFUSAL = "Sorry, only citebot's admins can use {command}."
# Characters of a question kept in the admin reports' lines.
REPORT_QUESTION_CHARS = 150
TITLE_CHARS = 200


class Markup(Protocol):
    """A platform's text syntax; every method takes plain text and escapes it."""

    def text(self, plain: str) -> str:
        """``plain`` shown as it is."""

    def bold(self, plain: str) -> str:
        """``plain`` in bold."""

    def code(self, plain: str) -> str:
        """``plain`` in a monospace span (ids, versions, dates)."""

    def link(self, label: str, url: str) -> str:
        """``label`` linking to ``url``."""

    def quote(self, plain: str) -> str:
        """``plain`` (one or more lines) as a quotation block."""


class _Plain:
    """Plain text, for the terminal."""

    def text(self, plain: str) -> str:
        return plain

    def bold(self, plain: str) -> str:
        return plain

    def code(self, plain: str) -> str:
        return plain

    def link(self, label: str, url: str) -> str:
        return f"{label} ({url})"

    def quote(self, plain: str) -> str:
        return "\n".join(f"    {line}" for line in plain.splitlines())


PLAIN: Markup = _Plain()


@dataclass(frozen=True, slots=True)
class Source:
    """A document as cited: its title, link, paragraph (0: the whole document), date and page."""

    title: str
    url: str | None
    paragraph: int
    published: str | None  # ISO date
    page: int | None = None  # of a printed source, when the document says (bot.core.answers.page_of)


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
        source = Source(citation.title, citation.url, citation.paragraph, published, citation.page)
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


def sources_of(documents: Iterable[DocumentSummary]) -> list[Source]:
    """The documents answered from, as ``/sources`` lists them."""
    return [Source(d.title, d.url, 0, d.published.isoformat() if d.published else None) for d in documents]


@dataclass(frozen=True, slots=True)
class ContextParagraph:
    """A cited paragraph, for "Show context"."""

    title: str
    url: str | None
    number: int
    text: str
    page: int | None = None


def context_paragraphs(knowledge: KnowledgeBase, refs: Iterable[tuple[str, int]]) -> list[ContextParagraph]:
    """The paragraphs ``refs`` name in the knowledge served now (gone ones are left out)."""
    found: list[ContextParagraph] = []
    for doc_id, number in refs:
        document = knowledge.document(doc_id)
        if document is None:
            continue
        for paragraph in document.paragraphs:
            if paragraph.number == number:
                found.append(
                    ContextParagraph(
                        document.title, document.meta.url, number, paragraph.text, page_of(paragraph.section)
                    )
                )
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


_REF_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII only: button data comes back from clients


def decode_refs(refs: str) -> list[tuple[str, int]]:
    """The (document id, paragraph) pairs of :func:`encode_refs`'s text; malformed parts are skipped."""
    pairs: list[tuple[str, int]] = []
    for part in refs.split(";"):
        number, _, doc_id = part.partition("@")
        if _REF_NUMBER.fullmatch(number) and doc_id:
            pairs.append((doc_id, int(number)))
    return pairs


def source_line(source: Source, m: Markup) -> str:
    """The line citing a source: its linked title, the page, the paragraph and the date."""
    title = truncate(source.title, TITLE_CHARS)
    line = m.link(title, source.url) if source.url else m.bold(title)
    if source.page:
        line += m.text(f", page {source.page}")
    if source.paragraph:
        line += m.text(f", paragraph {source.paragraph}")
    return line + m.text(f" · published {source.published}") if source.published else line


def sources_heading(count: int) -> str:
    """The heading of the ``/sources`` list."""
    return f"My sources ({count})"


def sources_lines(sources: Sequence[Source], m: Markup) -> list[str]:
    """What ``/sources`` lists under its heading: one line per document."""
    return [m.text("• ") + source_line(s, m) for s in sources]


def context_lines(paragraphs: Sequence[ContextParagraph], m: Markup, paragraph_chars: int) -> list[str]:
    """What "Show context" shows: each cited paragraph (cut to ``paragraph_chars``) under its source."""
    if not paragraphs:
        return [m.text(NO_CONTEXT_TEXT)]
    lines: list[str] = []
    for p in paragraphs:
        title = truncate(p.title, TITLE_CHARS)
        where = m.link(title, p.url) if p.url else m.bold(title)
        if lines:
            lines.append("")
        page = f", page {p.page}" if p.page else ""
        lines.append(where + m.text(f"{page}, paragraph {p.number}:"))
        lines.append(m.quote(truncate(p.text, paragraph_chars)))
    return lines


def reload_lines(report: ReloadReport, *, dry_run: bool, m: Markup) -> list[str]:
    """What a reload changed (or would change), for the admin."""

    def names(items: Sequence[str]) -> str:
        return ", ".join(m.text(i) for i in items) if items else "none"

    if dry_run:
        head = m.text("Dry run: nothing applied.")
    elif report.applied:
        head = m.text("Reloaded: now serving version ") + m.code(report.version) + m.text(".")
    else:
        head = m.text("Nothing to apply.")
    lines = [
        head,
        f"Added: {names(report.documents_added)}",
        f"Removed: {names(report.documents_removed)}",
        f"Changed: {names(report.documents_changed)}",
    ]
    if report.intents_broken:
        lines.append(f"Intents whose quotes no longer match: {names(report.intents_broken)}")
    if report.taught_missing:
        lines.append(
            "Taught quotes no longer in the documents (kept, served again once they match): "
            + names(report.taught_missing)
        )
    return lines


def review_lines(page: ReviewPage, m: Markup, *, sentence_chars: int = 300) -> list[str]:
    """One item of the review queue: the question, what the bot answered, the candidate sentences."""
    if page.item is None:
        return [m.text("Nothing to review: no question waits (declined, voted 👎 or answered unsurely).")]
    entry = page.item.entry
    times = "once" if entry.asked == 1 else f"{entry.asked} times"
    lines = [
        m.bold(f"Question {page.position + 1} of {page.left} left")
        + m.text(f" (asked {times}, last {entry.last_asked:%Y-%m-%d %H:%M}; {', '.join(entry.reasons)})"),
        m.quote(truncate(entry.question, REPORT_QUESTION_CHARS * 2)),
    ]
    if entry.answered and entry.answer:
        lines.append(m.text(f"I answered (confidence {entry.confidence:.2f}):"))
        lines.append(m.quote(truncate(in_quote_marks(" ".join(entry.answer)), sentence_chars)))
    elif entry.answered:
        lines.append(m.text(f"I answered with a fixed reply (confidence {entry.confidence:.2f})."))
    else:
        lines.append(m.text("I declined."))
    candidates = page.item.candidates
    if not candidates:
        lines.append(m.text("No sentence of my sources shares a word with it."))
    else:
        lines.append(m.text("Sentences that might answer it:"))
    for number, candidate in enumerate(candidates, 1):
        citation = candidate.citation
        lines.append(
            m.text(f"{number}. ")
            + m.code(f"{citation.document}:{citation.paragraph}:{candidate.sentence}")
            + m.text(f" {truncate(citation.title, 80)}, paragraph {citation.paragraph},")
            + m.text(f" sentence {candidate.sentence}")
        )
        lines.append(m.quote(truncate(in_quote_marks(citation.text), sentence_chars)))
    return lines


def taught_line(taught: Taught, question: str, m: Markup, *, in_bot: bool = True) -> str:
    """What teaching one question did; ``in_bot`` False when taught beside a bot, from the terminal."""
    shown = truncate(question, REPORT_QUESTION_CHARS)
    if taught.already:
        return (
            m.text(f"{shown!r} was already an example of the intent ")
            + m.code(taught.intent)
            + m.text("; nothing changed.")
        )
    what = "a new intent" if taught.created else "the intent"
    line = m.text(f"Taught: {shown!r} is now an example of {what} ") + m.code(taught.intent)
    if in_bot:
        return (
            line + m.text(", served from now on (knowledge version ") + m.code(taught.version) + m.text(").")
        )
    # A bot running beside the terminal serves what it loaded: it learns of this at its reload.
    return (
        line
        + m.text(" (knowledge version ")
        + m.code(taught.version)
        + m.text("); a bot already running serves it from its next reload (/kb reload, /reload).")
    )


def unanswered_lines(questions: Sequence[LoggedQuestion], page: int, m: Markup) -> list[str]:
    """One page of declined questions, newest first (``page`` counts from 0)."""
    if not questions:
        return [m.text("No declined questions." if page == 0 else "No more declined questions.")]
    lines = [m.text(f"Declined questions, page {page + 1} (newest first):")]
    for item in questions:
        when = item.asked_at.strftime("%Y-%m-%d %H:%M")
        lines.append(f"• {m.code(when)} {m.text(truncate(item.question, REPORT_QUESTION_CHARS))}")
    return lines


def stats_lines(stats: Stats, m: Markup) -> list[str]:
    """Questions per day, share answered, top questions and feedback counts."""
    share = f"{stats.answered / stats.questions:.0%}" if stats.questions else "n/a"
    lines = [
        m.text(f"Last {stats.days} days: {stats.questions} questions, {share} answered."),
        m.text(f"Feedback: {stats.helpful} helpful, {stats.not_helpful} not helpful."),
    ]
    if stats.per_day:
        lines.append("Per day:")
        lines.extend(
            f"{m.code(d.day.isoformat())} {d.questions} asked, {d.answered} answered"
            for d in stats.per_day[-14:]
        )
    if stats.top_questions:
        lines.append("Top questions:")
        lines.extend(f"{count}× {m.text(truncate(q, 120))}" for q, count in stats.top_questions[:10])
    return lines


def fit_lines(lines: Sequence[str], limit: int, measure: Callable[[str], int] = len) -> str:
    """``lines`` joined, keeping whole lines only, within ``limit`` (as ``measure`` counts); "…" if cut."""
    text = "\n".join(lines)
    if measure(text) <= limit:
        return text
    kept: list[str] = []
    room = limit - measure("\n…")
    for line in lines:
        if measure("\n".join([*kept, line])) > room:
            break
        kept.append(line)
    return "\n".join([*kept, "…"])


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
