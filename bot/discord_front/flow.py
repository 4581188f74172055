"""The one answer flow: cooldown → validate → answer off the loop → render → send → log.

Every way of asking (slash command, context menu, suggestion button, mention, reply, direct
message, answer channel) runs :meth:`AnswerFlow.run`; only the *target*, where replies go, differs.

An interaction must be acknowledged within 3 s of its creation, counted from the time in its id
(not from when this process got round to it: on a busy host that can already be late). If the
answer is ready by :data:`DEFER_AFTER_SECONDS` it is the acknowledgement (one request); otherwise
the interaction is deferred and the answer follows. When the acknowledgement cannot be sent in
time (rate limits, Discord errors, an interaction that arrived too late), the answer is posted in
the channel instead, naming the member, so no answer is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Protocol

import discord

from bot.core.errors import QuestionError
from bot.discord_front.delivery import (
    ALREADY_ACKNOWLEDGED,
    UNKNOWN_INTERACTION,
    Deadline,
    with_retries,
)
from bot.discord_front.errors import (
    interaction_ids,
    message_ids,
    report_interaction_error,
    report_message_error,
)
from bot.discord_front.render import RenderedAnswer, clean_question, escape_markdown, render_answer, truncate
from bot.discord_front.views import message_parts
from bot.runtime import AskResult, Turn, UserRef

if TYPE_CHECKING:
    from bot.discord_front.bot import CitebotBot

__all__ = ["AnswerFlow", "AnswerTarget", "InteractionTarget", "MessageTarget"]

log = logging.getLogger(__name__)

# Discord forgets an interaction not acknowledged this long after its creation.
ACK_WINDOW_SECONDS = 3.0
# Time kept back for the acknowledgement to travel to Discord.
ACK_MARGIN_SECONDS = 0.3
# How long past the deadline an acknowledgement's reply is awaited (see _acknowledge).
REPLY_GRACE_SECONDS = 15.0
# An answer not ready this long after the interaction's creation is deferred first.
DEFER_AFTER_SECONDS = 1.0
# A mention's answer not ready this soon shows "citebot is typing…".
TYPING_AFTER_SECONDS = 1.0
COOLDOWN_REACTION = "⏳"
RESTARTING = "I'm restarting; please ask again in a minute."


class AnswerTarget(Protocol):
    """Where a question came from and where its replies go."""

    user_id: int
    guild_id: int | None
    channel_id: int | None

    async def refuse(self, text: str) -> None:
        """Tell the member why the question will not be answered (privately where possible)."""

    async def cooled_down(self, wait: float) -> None:
        """The member asked again too soon."""

    async def wait_for(self, work: asyncio.Future[AskResult]) -> AskResult:
        """The answer, keeping the member informed while it is worked out."""

    async def deliver(self, rendered: RenderedAnswer, question: str) -> None:
        """Send the answer."""

    async def failed(self, error: BaseException) -> None:
        """Something went wrong: one apology, details to the log."""

    def describe(self) -> str:
        """Ids for the log."""

    def finished(self) -> None:
        """The flow is over, replied or not."""


class InteractionTarget:
    """Replies to an interaction within its deadline, or in its channel when that is not possible."""

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        self.user_id = interaction.user.id
        self.guild_id: int | None = interaction.guild_id
        self.channel_id: int | None = interaction.channel_id
        self.deadline = Deadline.after_creation(interaction, ACK_WINDOW_SECONDS - ACK_MARGIN_SECONDS)
        self.defer_at = Deadline.after_creation(interaction, DEFER_AFTER_SECONDS)
        self.missed = False  # Discord no longer accepts an acknowledgement
        log.debug("interaction %s seen %.3f s after its creation", interaction.id, self.age())

    def age(self) -> float:
        """Seconds since Discord created the interaction."""
        return DEFER_AFTER_SECONDS - self.defer_at.left()

    def describe(self) -> str:
        """Ids for the log."""
        return interaction_ids(self.interaction)

    def _miss(self, late_by: str) -> None:
        if not self.missed:
            self.missed = True
            log.warning("interaction not acknowledged in time (%s) %s", late_by, self.describe())

    async def _acknowledge(self, send: Any, what: str) -> bool:
        """Run the callback ``send()`` if the deadline allows; whether it was acknowledged."""
        left = self.deadline.left()
        if self.missed or left <= 0:
            self._miss(f"{self.age():.1f} s after its creation, too late to start")
            return False
        log.debug("interaction %s: %s at %.3f s", self.interaction.id, what, self.age())
        try:
            # The deadline is for Discord to receive the request; once sent, its reply may come late
            # on a busy host and still be an acknowledgement. So wait for the reply (or discord.py's
            # own retries to end in "Unknown interaction") rather than give up at the deadline.
            await asyncio.wait_for(send(), left + REPLY_GRACE_SECONDS)
        except discord.HTTPException as exc:
            if exc.code == ALREADY_ACKNOWLEDGED:  # an attempt we gave up on reached Discord after all
                return True
            if exc.code == UNKNOWN_INTERACTION:
                self._miss("Discord had already dropped it")
            else:
                log.warning("could not %s (HTTP %s) %s", what, exc.status, self.describe())
            return False
        except TimeoutError:
            self._miss(f"{what} still not through at the deadline")
            return False
        return True

    async def refuse(self, text: str) -> None:
        """Tell the member why the question will not be answered."""
        await self._acknowledge(
            lambda: self.interaction.response.send_message(text, ephemeral=True), "refuse"
        )

    async def cooled_down(self, wait: float) -> None:
        """The member asked again too soon."""
        await self.refuse(f"You're asking quickly! Please wait {wait:.0f} more seconds.")

    async def wait_for(self, work: asyncio.Future[AskResult]) -> AskResult:
        """The answer, keeping the member informed while it is worked out."""
        done, _ = await asyncio.wait({work}, timeout=max(self.defer_at.left(), 0.0))
        if not done:
            await self._acknowledge(lambda: self.interaction.response.defer(thinking=True), "defer")
        return await work

    async def deliver(self, rendered: RenderedAnswer, question: str) -> None:
        """Send the answer."""
        parts = message_parts(rendered)
        response = self.interaction.response
        if not response.is_done():
            if not await self._acknowledge(lambda: response.send_message(**parts), "send the answer"):
                await self._post_in_channel(rendered, question)
                return
            if response.is_done():
                return
            # 40060: acknowledged by an attempt whose reply we never saw; follow up to be sure.
        try:
            await with_retries(lambda: self.interaction.followup.send(**parts), "follow-up")
        except discord.HTTPException as exc:
            # Refused for good (the token unknown) or retried in vain: the channel is what is left.
            log.warning("follow-up failed (HTTP %s) %s", exc.status, self.describe())
            await self._post_in_channel(rendered, question)

    async def _post_in_channel(self, rendered: RenderedAnswer, question: str) -> None:
        """The answer as a channel message naming the member, when the interaction is gone."""
        channel = self.interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("answer lost: the interaction expired and its channel is unknown %s", self.describe())
            return
        user = self.interaction.user
        heading = f"{user.mention} asked “{escape_markdown(truncate(question, 200))}”:\n"
        parts = message_parts(rendered)
        parts["content"] = truncate(heading + str(parts.get("content") or ""), 2000)
        # Ping the member who asked (they are waiting for it), nobody else.
        parts["allowed_mentions"] = discord.AllowedMentions(users=[user], roles=False, everyone=False)
        try:
            await with_retries(lambda: channel.send(**parts), "channel answer")
        except discord.HTTPException as exc:
            log.warning(
                "answer lost: could not post it in the channel (HTTP %s) %s", exc.status, self.describe()
            )
            return
        log.info("answered in the channel instead of the interaction %s", self.describe())

    async def failed(self, error: BaseException) -> None:
        """One apology; the details to the log."""
        await report_interaction_error(self.interaction, error)

    def finished(self) -> None:
        """The flow is over (each interaction has its own reply: nothing to release)."""


class MessageTarget:
    """Replies to a message; cooldowns get a reaction rather than a public reply."""

    def __init__(self, message: discord.Message, why: str, turn: Turn) -> None:
        self.message = message
        self.why = why
        self.turn = turn
        self.user_id = message.author.id
        self.guild_id = message.guild.id if message.guild else None
        self.channel_id: int | None = message.channel.id

    def describe(self) -> str:
        """Ids for the log."""
        return f"{self.why} {message_ids(self.message)}"

    async def _reply(self, **parts: Any) -> None:
        # If the question was deleted meanwhile, the answer still goes to the channel.
        reference = self.message.to_reference(fail_if_not_exists=False)
        await self.turn.wait()
        try:
            await with_retries(
                lambda: self.message.channel.send(reference=reference, mention_author=False, **parts), "reply"
            )
        finally:
            self.turn.done()

    def finished(self) -> None:
        """The flow is over, replied or not."""
        self.turn.done()

    async def refuse(self, text: str) -> None:
        """Tell the member why the question will not be answered."""
        await self._reply(content=text)

    async def cooled_down(self, wait: float) -> None:
        """The member asked again too soon."""
        # A public "wait N seconds" would amplify spam and spend the channel's rate limit.
        with contextlib.suppress(discord.HTTPException):
            await self.message.add_reaction(COOLDOWN_REACTION)

    async def wait_for(self, work: asyncio.Future[AskResult]) -> AskResult:
        """The answer, keeping the member informed while it is worked out."""
        done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER_SECONDS)
        if not done:
            with contextlib.suppress(discord.HTTPException):
                await self.message.channel.typing()
        return await work

    async def deliver(self, rendered: RenderedAnswer, question: str) -> None:
        """Send the answer."""
        await self._reply(**message_parts(rendered))

    async def failed(self, error: BaseException) -> None:
        """One apology; the details to the log."""
        await report_message_error(self.message, error, self.why)


class AnswerFlow:
    """Runs one question from any entry point to its answer."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    async def run(self, target: AnswerTarget, text: str) -> None:
        """Answer ``text`` for ``target``; never raises (errors go to the target's error handler)."""
        bot = self.bot
        async with bot.app.in_flight.answering():
            try:
                await self._run(target, text)
            except Exception as exc:  # the one place an answer's errors end up
                if bot.is_closed():
                    # The shutdown closed the connection under it (a question that came as the
                    # client closed): no reply, not even an apology, can go out any more.
                    log.warning(
                        "shutting down: %s left unanswered, the connection is closed (%s)",
                        target.describe(),
                        exc,
                    )
                else:
                    await target.failed(exc)
            finally:
                target.finished()

    async def _run(self, target: AnswerTarget, text: str) -> None:
        bot = self.bot
        if bot.app.shutting_down:
            await target.refuse(RESTARTING)
            return
        wait = await bot.cooldown_left(target.user_id, target.guild_id)
        if wait:
            await target.cooled_down(wait)
            return
        question = clean_question(text)
        try:
            bot.app.service.validate(question)
        except QuestionError as exc:
            await target.refuse(str(exc))
            return
        work = asyncio.ensure_future(
            bot.app.ask(
                question,
                guild_id=target.guild_id,
                channel_id=target.channel_id,
                user=UserRef("discord", target.user_id),
            )
        )
        result = await target.wait_for(work)
        rendered = render_answer(result.answer, result.answer_id)
        await target.deliver(rendered, question)
        log.info(
            "answered %s answered=%s intent=%s confidence=%.2f answer_id=%s",
            target.describe(),
            result.answer.answered,
            result.answer.intent,
            result.answer.confidence,
            result.answer_id,
        )
