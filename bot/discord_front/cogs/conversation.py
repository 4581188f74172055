"""Answers in conversation: mentions, replies to the bot's answers, direct messages, answer channels."""

from __future__ import annotations

import contextlib
import logging

import discord
from discord.ext import commands

from bot.discord_front.bot import CitebotBot
from bot.discord_front.flow import MessageTarget
from bot.discord_front.render import clean_question
from bot.runtime import ReplyOrder

__all__ = ["ConversationCog", "setup"]

log = logging.getLogger(__name__)

MENTION_ONLY_TEXT = "Hi! Ask me a question after the mention, or use `/ask`."


class ConversationCog(commands.Cog):
    """Listens to messages and answers the ones addressed to the bot."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.replies = ReplyOrder()

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
        if me is None or message.author.bot or message.author.id == me.id or self.bot.app.shutting_down:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        turn = self.replies.take(message.channel.id)  # before any await: arrival order
        why = await self._addressed(message, me)
        if why is None or not clean_question(message.content):
            turn.done()
            if why == "mention":
                with contextlib.suppress(discord.HTTPException):
                    await message.reply(MENTION_ONLY_TEXT, mention_author=False)
            return
        await self.bot.flow.run(MessageTarget(message, why, turn), message.content)


async def setup(bot: CitebotBot) -> None:
    """Load the cog."""
    await bot.add_cog(ConversationCog(bot))
