"""The platform-free presentation as Telegram HTML and inline keyboards: pure functions, no I/O.

Everything sent is Telegram HTML: text from documents and members is escaped (``<``, ``>``,
``&``), so a question holding ``<b>`` is shown as typed and can never break or inject markup.
A message holds at most 4096 UTF-16 code units, a button's callback data 64 bytes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from bot.presentation import (
    DECLINE_TEXT,
    SUGGESTIONS_INTRO,
    ContextParagraph,
    Presented,
    context_lines,
    decode_refs,
    encode_refs,
    fit_lines,
    source_line,
    truncate,
)

__all__ = [
    "HTML",
    "MESSAGE_MAX",
    "Button",
    "Pressed",
    "Rendered",
    "TelegramHtml",
    "context_data",
    "feedback_data",
    "parse_data",
    "render_answer",
    "render_context",
    "suggestion_data",
    "suggestion_from",
    "utf16_len",
    "visible_len",
]

MESSAGE_MAX = 4096  # UTF-16 code units
CALLBACK_DATA_MAX = 64  # bytes
# Inline results' titles and descriptions are one line in the client.
BUTTON_LABEL_MAX = 60
# Callback data: "c:<refs>" show context, "f:<answer id>:y|n" a vote, "s:<index>" a suggestion.
CONTEXT, FEEDBACK, SUGGESTION = "c", "f", "s"
# Quote caps tried, longest first, until an answer fits in one message.
QUOTE_CAPS = (None, 1500, 700, 300, 120)
MIN_CONTEXT_CHARS = 100


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<[^>]*>")


def visible_len(html_text: str) -> int:
    """The length Telegram counts for an HTML message: of its text once tags and entities are read."""
    return utf16_len(html.unescape(_TAG.sub("", html_text)))


class TelegramHtml:
    """The platform-free texts' markup in Telegram's HTML parse mode."""

    def text(self, plain: str) -> str:
        """``plain`` escaped."""
        return html.escape(plain, quote=False)

    def bold(self, plain: str) -> str:
        """``plain`` in bold."""
        return f"<b>{self.text(plain)}</b>"

    def code(self, plain: str) -> str:
        """``plain`` in monospace."""
        return f"<code>{self.text(plain)}</code>"

    def link(self, label: str, url: str) -> str:
        """``label`` linking to ``url``."""
        return f'<a href="{html.escape(url, quote=True)}">{self.text(label)}</a>'

    def quote(self, plain: str) -> str:
        """``plain`` as a quotation block."""
        return f"<blockquote>{self.text(plain)}</blockquote>"


HTML = TelegramHtml()


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button and the callback data it sends back."""

    text: str
    data: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send: HTML text and the inline keyboard's rows."""

    text: str
    keyboard: tuple[tuple[Button, ...], ...] = field(default_factory=tuple)


def context_data(refs: tuple[tuple[str, int], ...]) -> str | None:
    """The callback data of "Show context" for (document id, paragraph) pairs; None if none fit."""
    encoded = encode_refs(refs, CALLBACK_DATA_MAX - len(CONTEXT) - 1)
    return f"{CONTEXT}:{encoded}" if encoded else None


def feedback_data(answer_id: int, helpful: bool) -> str:
    """The callback data of 👍 / 👎."""
    return f"{FEEDBACK}:{answer_id}:{'y' if helpful else 'n'}"


def suggestion_data(index: int) -> str:
    """The callback data of the ``index``-th suggestion (its text is read back from the message)."""
    return f"{SUGGESTION}:{index}"


# Button data comes back from clients: only ASCII digits ("²".isdigit() is true), and no more than
# an answer id has (SQLite integers are below 2**63).
_NUMBER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class Pressed:
    """What a button press asks for."""

    kind: str  # CONTEXT, FEEDBACK or SUGGESTION
    refs: tuple[tuple[str, int], ...] = ()
    answer_id: int = 0
    helpful: bool = False
    index: int = 0


def parse_data(data: str) -> Pressed | None:
    """The press ``data`` stands for; None for data this bot never sent."""
    kind, _, rest = data.partition(":")
    if kind == CONTEXT and rest:
        refs = tuple(decode_refs(rest))
        return Pressed(CONTEXT, refs=refs) if refs else None
    if kind == FEEDBACK:
        answer_id, _, verdict = rest.partition(":")
        if _NUMBER.fullmatch(answer_id) and verdict in ("y", "n"):
            return Pressed(FEEDBACK, answer_id=int(answer_id), helpful=verdict == "y")
    if kind == SUGGESTION and _NUMBER.fullmatch(rest):
        return Pressed(SUGGESTION, index=int(rest))
    return None


def suggestion_from(message_text: str, index: int) -> str | None:
    """The ``index``-th suggestion listed in a decline's text (as Telegram returns it, without markup)."""
    lines = message_text.splitlines()
    if SUGGESTIONS_INTRO not in lines:
        return None
    listed = [
        line[2:].strip() for line in lines[lines.index(SUGGESTIONS_INTRO) + 1 :] if line.startswith("• ")
    ]
    return listed[index] if 0 <= index < len(listed) and listed[index] else None


def _answer_text(shown: Presented, heading: bool, quote_cap: int | None) -> str:
    lines: list[str] = []
    if heading:
        lines.append(HTML.bold(truncate(shown.question, 300)))
    quotes = [q if quote_cap is None else truncate(q, quote_cap) for q in shown.quotes]
    lines.append(HTML.quote("\n".join(quotes)))
    lines.extend(HTML.text("— ") + source_line(source, HTML) for source in shown.sources)
    lines.append(f"<i>Quoted verbatim from my sources · confidence {shown.confidence:.0%}</i>")
    return "\n".join(lines)


def render_answer(shown: Presented, *, heading: bool = False, buttons: bool = True) -> Rendered:
    """The message for an answer, a decline or a fixed reply.

    ``heading``: the question in bold first (when the message is not a reply to it).
    ``buttons``: Show context, 👍 / 👎 and the suggestions (inline results carry none).
    """
    if shown.kind == "reply":
        return Rendered(HTML.text(shown.text))
    if shown.kind == "decline":
        lines = [HTML.bold(truncate(shown.question, 300))] if heading else []
        lines.append(HTML.text(DECLINE_TEXT))
        keyboard: list[tuple[Button, ...]] = []
        if shown.suggestions:
            lines.append(HTML.text(SUGGESTIONS_INTRO))
            lines.extend(HTML.text(f"• {s}") for s in shown.suggestions)
            keyboard = [
                (Button(truncate(s, BUTTON_LABEL_MAX), suggestion_data(i)),)
                for i, s in enumerate(shown.suggestions)
            ]
        return Rendered(fit_lines(lines, MESSAGE_MAX, visible_len), tuple(keyboard) if buttons else ())
    text = ""
    for cap in QUOTE_CAPS:
        text = _answer_text(shown, heading, cap)
        if visible_len(text) <= MESSAGE_MAX:
            break
    row: list[Button] = []
    context = context_data(shown.context_refs)
    if context is not None:
        row.append(Button("📄 Show context", context))
    if shown.answer_id is not None:
        row.append(Button("👍", feedback_data(shown.answer_id, True)))
        row.append(Button("👎", feedback_data(shown.answer_id, False)))
    return Rendered(text, (tuple(row),) if row and buttons else ())


def render_context(paragraphs: list[ContextParagraph]) -> str:
    """The message "Show context" sends: the cited paragraphs in full, as far as one message holds.

    When they do not all fit, each is cut by the same share, so every cited paragraph shows.
    """
    cap = max((len(p.text) for p in paragraphs), default=MIN_CONTEXT_CHARS)
    while True:
        lines = context_lines(paragraphs, HTML, cap)
        size = visible_len("\n".join(lines))
        if size <= MESSAGE_MAX or cap <= MIN_CONTEXT_CHARS:
            return fit_lines(lines, MESSAGE_MAX, visible_len)
        # Shrink in proportion (UTF-16 units and markup included), and always by something.
        cap = max(MIN_CONTEXT_CHARS, min(cap - 1, int(cap * MESSAGE_MAX / size * 0.98)))
