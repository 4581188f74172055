"""Answers in conversation: mentions, replies to the bot's answers, direct messages, answer channels."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord.ext import commands

from bot.core.errors import QuestionError
from bot.discord_front.bot import APOLOGY, CitebotBot
from bot.discord_front.render import clean_question, render_answer
from bot.discord_front.views import message_parts

__all__ = ["ConversationCog", "setup"]

log = logging.getLogger(__name__)

MENTION_ONLY_TEXT = "Hi! Ask me a question after the mention, or use `/ask`."


class ConversationCog(commands.Cog):
    """Listens to messages and answers the ones addressed to the bot."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    async def _addressed(self, message: discord.Message, me: discord.ClientUser) -> str | None:
        """Why the bot should answer (mention, reply, dm, channel), or None."""
        if message.guild is None:
            return "dm"
        if me in message.mentions:
            return "mention"
        resolved = message.reference.resolved if message.reference else None
        if isinstance(resolved, discord.Message) and resolved.author.id == me.id:
            return "reply"
        settings = await self.bot.app.guild_settings(message.guild.id)
        if message.channel.id in settings.answer_channels:
            return "channel"
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message addressed to the bot."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id or self.bot.shutting_down:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        why = await self._addressed(message, me)
        if why is None:
            return
        question = clean_question(message.content)
        if not question:
            if why == "mention":
                await message.reply(MENTION_ONLY_TEXT, mention_author=False)
            return
        async with self.bot.answering():
            try:
                await self._answer(message, question, why)
            except Exception:  # one apology to the member, the exception with ids to the log
                log.exception(
                    "error answering %s guild=%s channel=%s user=%s",
                    why,
                    message.guild.id if message.guild else None,
                    message.channel.id,
                    message.author.id,
                )
                with contextlib.suppress(discord.HTTPException):
                    await message.reply(APOLOGY, mention_author=False)

    async def _answer(self, message: discord.Message, question: str, why: str) -> None:
        guild_id = message.guild.id if message.guild else None
        wait = await self.bot.cooldown_left(message.author.id, guild_id)
        if wait:
            await message.reply(
                f"You're asking quickly! Please wait {wait:.0f} more seconds.", mention_author=False
            )
            return
        try:
            async with message.channel.typing():
                result = await self.bot.ask(
                    question, guild_id=guild_id, channel_id=message.channel.id, user_id=message.author.id
                )
        except QuestionError as exc:
            await message.reply(str(exc), mention_author=False)
            return
        rendered = render_answer(result.answer, result.answer_id)
        log.info(
            "answered %s guild=%s channel=%s user=%s answered=%s answer_id=%s",
            why,
            guild_id,
            message.channel.id,
            message.author.id,
            result.answer.answered,
            result.answer_id,
        )
        await message.reply(mention_author=False, **message_parts(rendered))


async def setup(bot: CitebotBot) -> None:
    """Load the cog."""
    await bot.add_cog(ConversationCog(bot))
