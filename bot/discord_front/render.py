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
    SUGGESTIONS_INTRO,
    ContextParagraph,
    context_lines,
    decode_refs,
    encode_refs,
    fit_lines,
    present,
    source_line,
    strip_markup,
    truncate,
)

__all__ = [
    "DECLINE_TEXT",
    "EMBED_COLOUR",
    "MESSAGE_MAX",
    "ButtonSpec",
    "DiscordMarkdown",
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


class DiscordMarkdown:
    """The platform-free texts' markup in Discord's Markdown.

    ``in_embed``: links inside embeds never unfurl; in a message the URL goes in angle brackets
    so that it does not add a preview.
    """

    def __init__(self, *, in_embed: bool = False) -> None:
        self.in_embed = in_embed

    def text(self, plain: str) -> str:
        """``plain`` with Markdown neutralised."""
        return escape_markdown(plain)

    def bold(self, plain: str) -> str:
        """``plain`` in bold."""
        return f"**{escape_markdown(plain)}**"

    def code(self, plain: str) -> str:
        """``plain`` in a code span (backticks inside would end it, so they become primes)."""
        return f"`{plain.replace('`', 'ʹ')}`"

    def link(self, label: str, url: str) -> str:
        """A masked link."""
        return (
            f"[{escape_markdown(label)}]({url})" if self.in_embed else f"[{escape_markdown(label)}](<{url}>)"
        )

    def quote(self, plain: str) -> str:
        """Each line quoted."""
        return "\n".join(f"> {escape_markdown(line)}" for line in plain.splitlines())


MARKDOWN = DiscordMarkdown()
EMBED_MARKDOWN = DiscordMarkdown(in_embed=True)

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
    sources = [source_line(source, EMBED_MARKDOWN) for source in shown.sources]
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
    return fit_lines(context_lines(paragraphs, MARKDOWN, MESSAGE_MAX), MESSAGE_MAX)
