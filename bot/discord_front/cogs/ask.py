"""/ask with autocomplete, the "Ask citebot" message command, /sources and /help."""

from __future__ import annotations

from collections.abc import Iterable

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_front.bot import CitebotBot
from bot.discord_front.render import EMBED_DESCRIPTION_MAX, MARKDOWN
from bot.presentation import NO_SOURCES_TEXT, fit_lines, sources_heading, sources_lines, sources_of

__all__ = ["AskCog", "autocomplete_choices", "setup"]

MAX_CHOICES = 25
CHOICE_MAX = 100
HELP_TEXT = (
    "I answer questions with sentences quoted word for word from my sources, with a link to each.\n"
    "• `/ask` a question (suggestions appear as you type).\n"
    "• Mention me, reply to one of my answers, or message me directly.\n"
    "• Right-click a message → Apps → **Ask citebot** to answer the question in it.\n"
    "• `/sources` lists what I know about.\n"
    "Under an answer, **Show context** shows the paragraph it comes from, and the helpful / not helpful "
    "buttons tell my maintainers how I'm doing. When I don't know, I say so and suggest questions "
    "I can answer.\n"
    "Admins: `/kb` reloads, adds and removes sources, lists unanswered questions, shows stats and sets "
    "answer channels."
)


def autocomplete_choices(typed: str, candidates: Iterable[str]) -> list[str]:
    """Up to 25 distinct candidates matching what is typed: prefix matches first, then substrings."""
    needle = " ".join(typed.lower().split())
    unique = [c for c in dict.fromkeys(c.strip() for c in candidates) if c and len(c) <= CHOICE_MAX]
    if not needle:
        return unique[:MAX_CHOICES]
    words = needle.split()
    prefix = [c for c in unique if c.lower().startswith(needle)]
    contains = [c for c in unique if c not in prefix and needle in c.lower()]
    all_words = [
        c for c in unique if c not in prefix and c not in contains and all(w in c.lower() for w in words)
    ]
    return (prefix + contains + all_words)[:MAX_CHOICES]


class AskCog(commands.Cog):
    """What every member can use."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        # The limit is a setting, so it cannot be written in the annotation (app_commands.Range).
        # Discord's client then refuses a longer question before it is sent.
        self.ask._params["question"].max_value = bot.settings.max_question_chars
        self.menu = app_commands.ContextMenu(name="Ask citebot", callback=self.ask_message)
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Remove the context menu with the cog."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    def _suggestions(self) -> list[str]:
        knowledge = self.bot.app.service.knowledge
        examples = [e for intent in knowledge.intents if not intent.is_chitchat for e in intent.examples]
        return examples + [d.title for d in knowledge.summaries]

    @app_commands.command(name="ask")
    @app_commands.describe(question="Your question, in your own words")
    async def ask(self, interaction: discord.Interaction[CitebotBot], question: str) -> None:
        """Ask a question; I answer with quotes from my sources."""
        await self.bot.answer_interaction(interaction, question)

    @ask.autocomplete("question")
    async def ask_autocomplete(
        self, interaction: discord.Interaction[CitebotBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Curated example questions and document titles matching what is typed."""
        return [
            app_commands.Choice(name=c, value=c) for c in autocomplete_choices(current, self._suggestions())
        ]

    async def ask_message(
        self, interaction: discord.Interaction[CitebotBot], message: discord.Message
    ) -> None:
        """Answer the question in the chosen message."""
        if not message.content.strip():
            await interaction.response.send_message(
                "I can't see any text in that message (I may lack the message content permission).",
                ephemeral=True,
            )
            return
        await self.bot.answer_interaction(interaction, message.content)

    @app_commands.command(name="sources")
    async def sources(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """List the documents I answer from."""
        documents = self.bot.app.service.knowledge.documents
        if not documents:
            await interaction.response.send_message(NO_SOURCES_TEXT, ephemeral=True)
            return
        lines = sources_lines(sources_of(self.bot.app.service.knowledge.summaries), MARKDOWN)
        embed = discord.Embed(
            title=sources_heading(len(documents)), description=fit_lines(lines, EMBED_DESCRIPTION_MAX)
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="help")
    async def help(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """What I can do."""
        await interaction.response.send_message(HELP_TEXT, ephemeral=True)


async def setup(bot: CitebotBot) -> None:
    """Load the cog."""
    await bot.add_cog(AskCog(bot))
