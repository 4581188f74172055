"""/kb review: the review queue, one question at a time, in a message only the admin sees.

The message holds a select menu of the candidate sentences ("This one answers it") and the
buttons Not in the sources, Reply with… (a modal), Previous and Skip. Their custom ids carry the
logged question they act on, the position in the queue and the confidence threshold, so they
need no state in memory; the question is acted on by its log id, never by its position, since
another admin may have changed the queue meanwhile. Every click checks again that the member is
an admin.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_front.errors import NotAdmin
from bot.discord_front.render import MARKDOWN, MESSAGE_MAX, truncate
from bot.presentation import fit_lines, review_lines, taught_line
from bot.runtime import ReviewPage, TeachingError, sentence_reference

if TYPE_CHECKING:
    from bot.discord_front.bot import CitebotBot
    from bot.discord_front.cogs.admin import KnowledgeAdmin

__all__ = ["REVIEW_ITEMS", "ReplyModal", "ReviewButton", "ReviewSelect", "review_message"]

log = logging.getLogger(__name__)

_STATE = r"(?P<question>[0-9]{1,20}):(?P<position>[0-9]{1,6}):(?P<below>[0-9]{1,3})"
BUTTON_TEMPLATE = r"citebot:rv:(?P<action>none|reply|skip|prev):" + _STATE
SELECT_TEMPLATE = r"citebot:rv:cite:" + _STATE
MODAL_PREFIX = "citebot:rvm:"
OPTION_TEXT_MAX = 100  # Discord's limit for a select option's label and description
REPLY_MAX = 1000
GONE = "That question is no longer in the log (pruned or forgotten); here is the queue again."


def _state(question_id: int, position: int, below: float) -> str:
    return f"{question_id}:{position}:{round(below * 100)}"


def _bot(interaction: discord.Interaction[Any]) -> CitebotBot:
    client: CitebotBot = interaction.client
    return client


async def _check_admin(interaction: discord.Interaction[Any]) -> None:
    """Refuse (politely, by the front's error handler) anyone not allowed to use /kb."""
    cog: KnowledgeAdmin | None = _bot(interaction).get_cog("KnowledgeAdmin")  # type: ignore[assignment]
    if cog is None or not await cog.is_admin(interaction):
        from bot.discord_front.cogs.admin import REFUSAL

        raise NotAdmin(REFUSAL)


def review_message(page: ReviewPage, below: float, note: str = "") -> dict[str, Any]:
    """The content and view of one page of the queue, as keyword arguments for a send or an edit."""
    lines = ([note, ""] if note else []) + review_lines(page, MARKDOWN, sentence_chars=250)
    view = discord.ui.View(timeout=None)
    item = page.item
    if item is not None:
        state = _state(item.entry.question_id, page.position, below)
        if item.candidates:
            view.add_item(ReviewSelect(page, below))
        view.add_item(ReviewButton("none", state, "Not in the sources", discord.ButtonStyle.danger))
        view.add_item(ReviewButton("reply", state, "Reply with…", discord.ButtonStyle.primary))
        view.add_item(
            ReviewButton(
                "prev", state, "Previous", discord.ButtonStyle.secondary, disabled=page.position == 0
            )
        )
        view.add_item(
            ReviewButton(
                "skip", state, "Skip", discord.ButtonStyle.secondary, disabled=page.position + 1 >= page.left
            )
        )
    return {"content": fit_lines(lines, MESSAGE_MAX), "view": view}


async def _show(interaction: discord.Interaction[Any], position: int, below: float, note: str = "") -> None:
    """Replace the review message with the queue's item at ``position``."""
    bot = _bot(interaction)
    page = await bot.app.review(position, below=below, guild_id=interaction.guild_id)
    await interaction.response.edit_message(**review_message(page, below, note))


async def _question(interaction: discord.Interaction[Any], question_id: int) -> str | None:
    return await _bot(interaction).app.logged_question(question_id)


def _who(interaction: discord.Interaction[Any]) -> str:
    return f"discord:{interaction.user.id}"


class ReviewSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT_TEMPLATE):
    """This one answers it: the candidate sentences, each by its DOC:PARAGRAPH:SENTENCE reference."""

    def __init__(self, page: ReviewPage | None, below: float, *, state: str | None = None) -> None:
        options: list[discord.SelectOption] = []
        if page is not None and page.item is not None:
            state = _state(page.item.entry.question_id, page.position, below)
            for number, candidate in enumerate(page.item.candidates, 1):
                citation = candidate.citation
                options.append(
                    discord.SelectOption(
                        label=truncate(f"{number}. {citation.text}", OPTION_TEXT_MAX),
                        value=sentence_reference(candidate)[:OPTION_TEXT_MAX],
                        description=truncate(
                            f"{citation.title}, paragraph {citation.paragraph}, "
                            f"sentence {candidate.sentence}",
                            OPTION_TEXT_MAX,
                        ),
                    )
                )
        super().__init__(
            discord.ui.Select(
                custom_id=f"citebot:rv:cite:{state}",
                placeholder="This one answers it…",
                options=options or [discord.SelectOption(label="-", value="-")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewSelect:
        """Rebuild the menu from its custom id (the chosen value comes with the interaction)."""
        return cls(None, 0.0, state=f"{match['question']}:{match['position']}:{match['below']}")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Teach the question to cite the chosen sentence, then show the next item."""
        bot = _bot(interaction)
        async with bot.guarded(interaction, "review cite"):
            await _check_admin(interaction)
            match = re.fullmatch(SELECT_TEMPLATE, self.item.custom_id)
            assert match is not None
            below = int(match["below"]) / 100
            data: dict[str, Any] = dict(interaction.data or {})
            values: list[str] = list(data.get("values") or [])
            question = await _question(interaction, int(match["question"]))
            if question is None or not values:
                await _show(interaction, int(match["position"]), below, GONE)
                return
            taught = await bot.app.teach_citation(question, str(values[0]), taught_by=_who(interaction))
            log.info(
                "review: taught intent=%s guild=%s user=%s",
                taught.intent,
                interaction.guild_id,
                interaction.user.id,
            )
            await _show(interaction, int(match["position"]), below, taught_line(taught, question, MARKDOWN))


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_TEMPLATE):
    """Not in the sources, Reply with…, Previous and Skip."""

    def __init__(
        self,
        action: str,
        state: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        *,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action,
                style=style,
                custom_id=f"citebot:rv:{action}:{state}",
                disabled=disabled,
            )
        )
        self.action = action
        question, position, below = state.split(":")
        self.question_id, self.position, self.below = int(question), int(position), int(below) / 100

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        """Rebuild the button from its custom id."""
        return cls(match["action"], f"{match['question']}:{match['position']}:{match['below']}")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Act on the question, then show the queue's next (or previous) item."""
        bot = _bot(interaction)
        async with bot.guarded(interaction, f"review {self.action}"):
            await _check_admin(interaction)
            if self.action == "skip":
                await _show(interaction, self.position + 1, self.below)
                return
            if self.action == "prev":
                await _show(interaction, max(0, self.position - 1), self.below)
                return
            question = await _question(interaction, self.question_id)
            if question is None:
                await _show(interaction, self.position, self.below, GONE)
                return
            if self.action == "reply":
                await interaction.response.send_modal(
                    ReplyModal(self.question_id, self.position, self.below, question)
                )
                return
            await bot.app.not_in_sources(question, decided_by=_who(interaction))
            await _show(
                interaction,
                self.position,
                self.below,
                "Marked as not in the sources: it leaves the queue, and I keep declining it.",
            )


class ReplyModal(discord.ui.Modal):
    """Reply with…: a fixed reply to the question, stored as a reply intent."""

    reply: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="The reply",
        style=discord.TextStyle.paragraph,
        placeholder="We don't cover pricing here, see #billing",
        max_length=REPLY_MAX,
        custom_id="reply",
    )

    def __init__(self, question_id: int, position: int, below: float, question: str) -> None:
        super().__init__(
            title="Reply with…",
            custom_id=f"{MODAL_PREFIX}{_state(question_id, position, below)}",
            timeout=900,
        )
        self.question_id, self.position, self.below = question_id, position, below
        self.reply.label = truncate(f"Reply to: {question}", 45)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Teach the reply, then show the next item."""
        bot = _bot(interaction)
        async with bot.guarded(interaction, "review reply"):
            await _check_admin(interaction)
            question = await _question(interaction, self.question_id)
            if question is None:
                raise TeachingError("That question is no longer in the log; nothing changed.")
            taught = await bot.app.teach_reply(question, self.reply.value, taught_by=_who(interaction))
            log.info(
                "review: taught reply intent=%s guild=%s user=%s",
                taught.intent,
                interaction.guild_id,
                interaction.user.id,
            )
            await _show(interaction, self.position, self.below, taught_line(taught, question, MARKDOWN))


REVIEW_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReviewSelect, ReviewButton)
