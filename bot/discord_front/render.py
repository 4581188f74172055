"""Answer -> Discord message, as plain data: a pure function with no discord import.

``render_answer`` turns the core's :class:`~bot.core.answers.Answer` into a :class:`RenderedAnswer`
(content, an embed as Discord's JSON shape, and button specs); ``views.py`` turns the specs into
discord.py components. Keeping this pure lets the layout be unit-tested without Discord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.answers import Answer
from bot.presentation import (
    DECLINE_TEXT,
    NO_CONTEXT_TEXT,
    SUGGESTIONS_INTRO,
    ContextParagraph,
    Source,
    decode_refs,
    encode_refs,
    present,
    strip_markup,
    truncate,
)

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


def clean_question(text: str) -> str:
    """The question without mentions (users, roles, channels, @everyone) or markup, blanks collapsed."""
    return " ".join(strip_markup(_MENTION.sub(" ", text)).split())


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
    encoded = encode_refs(refs, CUSTOM_ID_MAX - len(CONTEXT_PREFIX))
    return CONTEXT_PREFIX + encoded if encoded else None


def parse_context_refs(refs: str) -> list[tuple[str, int]]:
    """The (document id, paragraph) pairs of a "Show context" custom id's ``refs`` part."""
    return decode_refs(refs)


def suggestion_custom_id(question: str) -> str | None:
    """The custom id of a button that asks ``question``; None if the question is too long for one."""
    custom_id = SUGGESTION_PREFIX + question
    return custom_id if len(custom_id) <= CUSTOM_ID_MAX else None


def _source_line(source: Source) -> str:
    name = escape_markdown(truncate(source.title, 200))
    linked = f"[{name}]({source.url})" if source.url else f"**{name}**"
    line = f"{linked}, paragraph {source.paragraph}"
    return f"{line} · published {source.published}" if source.published else line


def render_answer(answer: Answer, answer_id: int | None = None) -> RenderedAnswer:
    """The message for ``answer``: quotes and sources in an embed, or a decline with suggestion buttons."""
    shown = present(answer, answer_id)
    if shown.kind == "reply":
        return RenderedAnswer(content=shown.text)
    if shown.kind == "decline":
        lines = [shown.text]
        buttons: list[ButtonSpec] = []
        if shown.suggestions:
            lines.append(SUGGESTIONS_INTRO)
            lines.extend(f"• {escape_markdown(s)}" for s in shown.suggestions)
            for suggestion in shown.suggestions:
                custom_id = suggestion_custom_id(suggestion)
                if custom_id is not None and len(buttons) < MAX_SUGGESTION_BUTTONS:
                    buttons.append(ButtonSpec(truncate(suggestion, BUTTON_LABEL_MAX), custom_id, "primary"))
        return RenderedAnswer(content="\n".join(lines), buttons=tuple(buttons))

    quotes = "\n".join(f"> {escape_markdown(quote)}" for quote in shown.quotes)
    sources = [_source_line(source) for source in shown.sources]
    embed: dict[str, Any] = {
        "type": "rich",
        "title": truncate(shown.question, EMBED_TITLE_MAX),
        "description": truncate(quotes, EMBED_DESCRIPTION_MAX),
        "color": EMBED_COLOUR,
        "fields": [
            {
                "name": "Source" if len(sources) == 1 else "Sources",
                "value": truncate("\n".join(sources), FIELD_VALUE_MAX),
                "inline": False,
            }
        ],
        "footer": {"text": f"Confidence {shown.confidence:.0%} · quoted verbatim from the sources"},
    }
    if shown.sources[0].url:
        embed["url"] = shown.sources[0].url
    buttons = []
    context_id = context_custom_id(list(shown.context_refs))
    if context_id is not None:
        buttons.append(ButtonSpec("Show context", context_id, "secondary", "📄"))
    if shown.answer_id is not None:
        buttons.append(ButtonSpec("Helpful", feedback_custom_id(shown.answer_id, True), "success", "👍"))
        buttons.append(ButtonSpec("Not helpful", feedback_custom_id(shown.answer_id, False), "danger", "👎"))
    return RenderedAnswer(content=None, embed=embed, buttons=tuple(buttons))


def render_context(paragraphs: list[ContextParagraph]) -> str:
    """The text shown by "Show context"."""
    if not paragraphs:
        return NO_CONTEXT_TEXT
    blocks = []
    for p in paragraphs:
        where = f"[{escape_markdown(p.title)}](<{p.url}>)" if p.url else f"**{escape_markdown(p.title)}**"
        quoted = "\n".join(f"> {escape_markdown(line)}" for line in p.text.splitlines())
        blocks.append(f"{where}, paragraph {p.number}:\n{quoted}")
    return truncate("\n\n".join(blocks), MESSAGE_MAX)
