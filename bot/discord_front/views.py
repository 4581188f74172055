"""Persistent buttons: their custom ids carry what they need, so they work after a restart."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_front import render
from bot.discord_front.render import ButtonSpec
from bot.presentation import context_paragraphs
from bot.runtime import UserRef

if TYPE_CHECKING:
    from bot.discord_front.bot import CitebotBot

__all__ = [
    "DYNAMIC_ITEMS",
    "ContextButton",
    "FeedbackButton",
    "SuggestionButton",
    "build_view",
    "message_parts",
]

log = logging.getLogger(__name__)

_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


def _button(spec: ButtonSpec) -> discord.ui.Button[Any]:
    return discord.ui.Button(
        label=spec.label, custom_id=spec.custom_id, style=_STYLES[spec.style], emoji=spec.emoji
    )


def _client(interaction: discord.Interaction[Any]) -> CitebotBot:
    client: CitebotBot = interaction.client
    return client


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=render.FEEDBACK_TEMPLATE):
    """Helpful / not helpful: stored against the answer id in the custom id."""

    def __init__(self, answer_id: int, helpful: bool, spec: ButtonSpec | None = None) -> None:
        custom_id = render.feedback_custom_id(answer_id, helpful)
        if spec is None:
            spec = (
                ButtonSpec("Helpful", custom_id, "success")
                if helpful
                else ButtonSpec("Not helpful", custom_id)
            )
        super().__init__(_button(spec))
        self.answer_id = answer_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        """Rebuild the button from its custom id."""
        return cls(int(match["answer_id"]), match["verdict"] == "y")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Store the vote and thank the voter privately."""
        bot = _client(interaction)
        async with bot.guarded(interaction, "feedback"):
            await bot.app.record_feedback(
                self.answer_id, UserRef("discord", interaction.user.id), self.helpful
            )
            log.info(
                "feedback answer=%s user=%s helpful=%s", self.answer_id, interaction.user.id, self.helpful
            )
            await interaction.response.send_message("Thanks for the feedback!", ephemeral=True)


class ContextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=render.CONTEXT_TEMPLATE):
    """Show the paragraphs around the quotes, only to the person who clicked."""

    def __init__(self, refs: str, spec: ButtonSpec | None = None) -> None:
        super().__init__(_button(spec or ButtonSpec("Show context", render.CONTEXT_PREFIX + refs)))
        self.refs = refs

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ContextButton:
        """Rebuild the button from its custom id."""
        return cls(match["refs"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Reply ephemerally with the cited paragraphs from the current knowledge."""
        bot = _client(interaction)
        async with bot.guarded(interaction, "show context"):
            found = context_paragraphs(bot.app.service.knowledge, render.parse_context_refs(self.refs))
            await interaction.response.send_message(render.render_context(found), ephemeral=True)


class SuggestionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=render.SUGGESTION_TEMPLATE):
    """A suggested question: clicking it asks it."""

    def __init__(self, question: str, spec: ButtonSpec | None = None) -> None:
        if spec is None:
            custom_id = render.suggestion_custom_id(question) or render.SUGGESTION_PREFIX
            spec = ButtonSpec(render.truncate(question, render.BUTTON_LABEL_MAX), custom_id, "primary")
        super().__init__(_button(spec))
        self.question = question

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionButton:
        """Rebuild the button from its custom id."""
        return cls(match["question"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the suggested question as if the clicker had asked it with /ask."""
        bot = _client(interaction)
        await bot.answer_interaction(interaction, self.question)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    FeedbackButton,
    ContextButton,
    SuggestionButton,
)


def build_view(buttons: tuple[ButtonSpec, ...]) -> discord.ui.View | None:
    """A view holding ``buttons`` (None when there are none); the buttons stay clickable forever."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for spec in buttons:
        view.add_item(_item(spec))
    return view


def _item(spec: ButtonSpec) -> discord.ui.Item[Any]:
    # Dynamic items, not plain buttons: discord.py then routes clicks by custom id (also after a
    # restart) instead of keeping every sent view in memory.
    if match := re.fullmatch(render.FEEDBACK_TEMPLATE, spec.custom_id):
        return FeedbackButton(int(match["answer_id"]), match["verdict"] == "y", spec)
    if match := re.fullmatch(render.CONTEXT_TEMPLATE, spec.custom_id):
        return ContextButton(match["refs"], spec)
    if match := re.fullmatch(render.SUGGESTION_TEMPLATE, spec.custom_id):
        return SuggestionButton(match["question"], spec)
    return _button(spec)


def message_parts(rendered: render.RenderedAnswer) -> dict[str, Any]:
    """The content, embed and view of a rendered answer, as keyword arguments for any send call."""
    parts: dict[str, Any] = {}
    if rendered.content:
        parts["content"] = rendered.content
    if rendered.embed is not None:
        parts["embed"] = discord.Embed.from_dict(rendered.embed)
    view = build_view(rendered.buttons)
    if view is not None:
        parts["view"] = view
    return parts
