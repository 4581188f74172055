"""Answer -> Discord message, as plain data: a pure function with no discord import.

``render_answer`` turns the core's :class:`~bot.core.answers.Answer` into a :class:`RenderedAnswer`
(content, an embed as Discord's JSON shape, and button specs); ``views.py`` turns the specs into
discord.py components. Keeping this pure lets the layout be unit-tested without Discord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.answers import Answer, in_quote_marks

__all__ = [
    "DECLINE_TEXT",
    "EMBED_COLOUR",
    "ButtonSpec",
    "RenderedAnswer",
    "clean_question",
    "context_custom_id",
    "escape_markdown",
    "feedback_custom_id",
    "parse_context_refs",
    "render_answer",
    "render_context",
    "strip_markup",
    "suggestion_custom_id",
    "truncate",
]

DECLINE_TEXT = "I don't know that from my sources."
SUGGESTIONS_INTRO = "Questions I can answer that are close to yours:"
EMBED_COLOUR = 0x2B6CB0
# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
CUSTOM_ID_MAX = 100
MESSAGE_MAX = 2000
BUTTON_LABEL_MAX = 80
MAX_SUGGESTION_BUTTONS = 5

# Custom ids of the persistent buttons; views.py parses them with the matching templates.
FEEDBACK_PREFIX = "citebot:fb:"
CONTEXT_PREFIX = "citebot:ctx:"
SUGGESTION_PREFIX = "citebot:ask:"
FEEDBACK_TEMPLATE = r"citebot:fb:(?P<answer_id>[0-9]+):(?P<verdict>[yn])"
CONTEXT_TEMPLATE = r"citebot:ctx:(?P<refs>\S+)"
SUGGESTION_TEMPLATE = r"citebot:ask:(?P<question>.+)"

_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]<])")


def escape_markdown(text: str) -> str:
    """``text`` with Discord markdown (and mention syntax) neutralised by backslashes."""
    return _MARKDOWN.sub(r"\\\1", text)


_MENTION = re.compile(r"<(?:@[!&]?|#)[0-9]+>|@(?:everyone|here)\b")


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


def clean_question(text: str) -> str:
    """The question without mentions (users, roles, channels, @everyone) or markup, blanks collapsed."""
    return " ".join(strip_markup(_MENTION.sub(" ", text)).split())


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


ButtonStyle = Literal["primary", "secondary", "success", "danger"]


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    """One button: what it says and the custom id it sends back."""

    label: str
    custom_id: str
    style: ButtonStyle = "secondary"
    emoji: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedAnswer:
    """A message ready to send: ``content``, an ``embed`` in Discord's JSON shape, and buttons."""

    content: str | None
    embed: dict[str, Any] | None = None
    buttons: tuple[ButtonSpec, ...] = field(default_factory=tuple)


def feedback_custom_id(answer_id: int, helpful: bool) -> str:
    """The custom id of a helpful / not helpful button."""
    return f"{FEEDBACK_PREFIX}{answer_id}:{'y' if helpful else 'n'}"


def context_custom_id(refs: list[tuple[str, int]]) -> str | None:
    """The custom id of "Show context" for (document id, paragraph) pairs; None if none fit."""
    parts: list[str] = []
    for doc_id, paragraph in dict.fromkeys(refs):
        candidate = ";".join([*parts, f"{paragraph}@{doc_id}"])
        if len(CONTEXT_PREFIX) + len(candidate) > CUSTOM_ID_MAX:
            break
        parts.append(f"{paragraph}@{doc_id}")
    return CONTEXT_PREFIX + ";".join(parts) if parts else None


def parse_context_refs(refs: str) -> list[tuple[str, int]]:
    """The (document id, paragraph) pairs of a "Show context" custom id's ``refs`` part."""
    pairs: list[tuple[str, int]] = []
    for part in refs.split(";"):
        number, _, doc_id = part.partition("@")
        if number.isdigit() and doc_id:
            pairs.append((doc_id, int(number)))
    return pairs


def suggestion_custom_id(question: str) -> str | None:
    """The custom id of a button that asks ``question``; None if the question is too long for one."""
    custom_id = SUGGESTION_PREFIX + question
    return custom_id if len(custom_id) <= CUSTOM_ID_MAX else None


def _source_line(title: str, url: str | None, paragraph: int, published: str | None) -> str:
    name = escape_markdown(truncate(title, 200))
    linked = f"[{name}]({url})" if url else f"**{name}**"
    line = f"{linked}, paragraph {paragraph}"
    return f"{line} · published {published}" if published else line


def render_answer(answer: Answer, answer_id: int | None = None) -> RenderedAnswer:
    """The message for ``answer``: quotes and sources in an embed, or a decline with suggestion buttons."""
    if answer.reply is not None:
        return RenderedAnswer(content=answer.reply)
    if not answer.answered or not answer.citations:
        lines = [DECLINE_TEXT]
        buttons: list[ButtonSpec] = []
        if answer.suggestions:
            lines.append(SUGGESTIONS_INTRO)
            lines.extend(f"• {escape_markdown(s)}" for s in answer.suggestions)
            for suggestion in answer.suggestions:
                custom_id = suggestion_custom_id(suggestion)
                if custom_id is not None and len(buttons) < MAX_SUGGESTION_BUTTONS:
                    buttons.append(ButtonSpec(truncate(suggestion, BUTTON_LABEL_MAX), custom_id, "primary"))
        return RenderedAnswer(content="\n".join(lines), buttons=tuple(buttons))

    quotes = "\n".join(f"> {escape_markdown(in_quote_marks(c.text))}" for c in answer.citations)
    sources: list[str] = []
    for citation in answer.citations:
        line = _source_line(
            citation.title,
            citation.url,
            citation.paragraph,
            citation.published.isoformat() if citation.published else None,
        )
        if line not in sources:
            sources.append(line)
    embed: dict[str, Any] = {
        "type": "rich",
        "title": truncate(answer.question, EMBED_TITLE_MAX),
        "description": truncate(quotes, EMBED_DESCRIPTION_MAX),
        "color": EMBED_COLOUR,
        "fields": [
            {
                "name": "Source" if len(sources) == 1 else "Sources",
                "value": truncate("\n".join(sources), FIELD_VALUE_MAX),
                "inline": False,
            }
        ],
        "footer": {"text": f"Confidence {answer.confidence:.0%} · quoted verbatim from the sources"},
    }
    first = answer.citations[0]
    if first.url:
        embed["url"] = first.url
    buttons = []
    context_id = context_custom_id([(c.document, c.paragraph) for c in answer.citations])
    if context_id is not None:
        buttons.append(ButtonSpec("Show context", context_id, "secondary", "📄"))
    if answer_id is not None:
        buttons.append(ButtonSpec("Helpful", feedback_custom_id(answer_id, True), "success", "👍"))
        buttons.append(ButtonSpec("Not helpful", feedback_custom_id(answer_id, False), "danger", "👎"))
    return RenderedAnswer(content=None, embed=embed, buttons=tuple(buttons))


def render_context(paragraphs: list[tuple[str, str | None, int, str]]) -> str:
    """The text shown by "Show context": (title, url, paragraph number, paragraph text) each."""
    if not paragraphs:
        return "That source is no longer in my knowledge base."
    blocks = []
    for title, url, number, text in paragraphs:
        where = f"[{escape_markdown(title)}](<{url}>)" if url else f"**{escape_markdown(title)}**"
        quoted = "\n".join(f"> {escape_markdown(line)}" for line in text.splitlines())
        blocks.append(f"{where}, paragraph {number}:\n{quoted}")
    return truncate("\n\n".join(blocks), MESSAGE_MAX)
