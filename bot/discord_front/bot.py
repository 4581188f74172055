"""The discord.py bot: setup, command registration by hash, answering, and the one error handler."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.core.errors import CitebotError, QuestionError
from bot.discord_front.health import HEALTH_INTERVAL_SECONDS
from bot.discord_front.render import RenderedAnswer, clean_question, render_answer
from bot.discord_front.views import DYNAMIC_ITEMS, message_parts
from bot.runtime import AskResult, Citebot

__all__ = ["COMMANDS_HASH_KEY", "CitebotBot", "Cooldown", "ShardedCitebotBot", "create_bot"]

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "discord.commands_hash"
# Discord drops an interaction not acknowledged within 3 s; past this, defer and follow up.
ANSWER_DEADLINE_SECONDS = 2.0
# On SIGTERM, answers being written get this long to finish before the connection closes.
DRAIN_SECONDS = 10.0
APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
EXTENSIONS = (
    "bot.discord_front.cogs.ask",
    "bot.discord_front.cogs.conversation",
    "bot.discord_front.cogs.admin",
)


class NotAdmin(app_commands.CheckFailure):
    """The member may not use the admin commands."""


class Cooldown:
    """Per-user rate limit: one question every ``seconds``."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}

    def retry_after(self, user_id: int, seconds: float, now: float | None = None) -> float:
        """0 and the question counts, or the seconds left before this user may ask again."""
        now = time.monotonic() if now is None else now
        last = self._last.get(user_id)
        if last is not None and now - last < seconds:
            return seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:  # forget old entries so the map cannot grow without bound
            cutoff = now - seconds
            self._last = {u: t for u, t in self._last.items() if t >= cutoff}
        return 0.0


def _ids(interaction: discord.Interaction[Any]) -> str:
    command = (
        interaction.command.qualified_name
        if interaction.command
        else interaction.data and interaction.data.get("custom_id")
    )
    where = f"guild={interaction.guild_id} channel={interaction.channel_id}"
    return f"command={command} {where} user={interaction.user.id}"


class CitebotTree(app_commands.CommandTree["CitebotBot"]):
    """The command tree, with the front's one error handler for commands."""

    async def on_error(
        self, interaction: discord.Interaction[CitebotBot], error: app_commands.AppCommandError, /
    ) -> None:
        """Answer politely and log; never a traceback to Discord."""
        await interaction.client.report_error(interaction, error)


class CitebotBot(commands.Bot):
    """citebot in Discord: slash commands, conversation and persistent buttons."""

    def __init__(self, app: Citebot, settings: Settings, **options: Any) -> None:
        """Build the bot around ``app``; ``options`` go to discord.py (sharding)."""
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=CitebotTree,
            **options,
        )
        self.app = app
        self.settings = settings
        self.cooldown = Cooldown()
        self.shutting_down = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._health_task: asyncio.Task[None] | None = None

    # -- start-up ---------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        """Load the cogs, route persistent buttons, and register commands if they changed."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands(force=False)
        if self.settings.health_file is not None:
            self._health_task = asyncio.create_task(self._touch_health_file(self.settings.health_file))

    async def _touch_health_file(self, path: Path) -> None:
        # Touched only while connected: a hung or disconnected bot lets it go stale.
        await self.wait_until_ready()
        await asyncio.to_thread(path.touch)
        while not self.is_closed():
            await asyncio.sleep(HEALTH_INTERVAL_SECONDS)
            if self.is_ready() and math.isfinite(self.latency):  # latency: heartbeats are acknowledged
                await asyncio.to_thread(path.touch)

    def _target_guild(self) -> discord.Object | None:
        return discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None

    def commands_hash(self) -> str:
        """A hash of the command definitions as they would be registered."""
        guild = self._target_guild()
        definitions = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        definitions.sort(key=lambda d: (d.get("type", 1), d["name"]))
        blob = json.dumps(
            {
                "application": self.application_id,
                "guild": guild.id if guild else None,
                "commands": definitions,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    async def sync_commands(self, *, force: bool) -> int | None:
        """Register the commands when their definition changed (or ``force``); the number registered."""
        guild = self._target_guild()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = self.commands_hash()
        if not force and await self.app.get_meta(COMMANDS_HASH_KEY) == digest:
            log.info("application commands unchanged; not registering them")
            return None
        synced = await self.tree.sync(guild=guild)
        await self.app.set_meta(COMMANDS_HASH_KEY, digest)
        log.info(
            "registered %d application commands %s",
            len(synced),
            f"to guild {guild.id}" if guild else "globally",
        )
        return len(synced)

    async def close(self) -> None:
        """Stop the health file task, then disconnect."""
        if self._health_task is not None:
            self._health_task.cancel()
        await super().close()

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        log.info(
            "connected as %s (%s) to %d guilds",
            self.user,
            self.user.id if self.user else "?",
            len(self.guilds),
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the conversation cog listens to messages."""

    # -- answering --------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Count an answer in flight, so a shutdown waits for it."""
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Stop taking questions and wait for the answers in flight."""
        self.shutting_down = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def cooldown_left(self, user_id: int, guild_id: int | None) -> float:
        """Seconds this user must wait before asking again (0: go ahead)."""
        seconds = self.settings.cooldown_seconds
        if guild_id is not None:
            per_guild = (await self.app.guild_settings(guild_id)).cooldown_seconds
            if per_guild is not None:
                seconds = per_guild
        return self.cooldown.retry_after(user_id, seconds) if seconds > 0 else 0.0

    async def ask(
        self, question: str, *, guild_id: int | None, channel_id: int | None, user_id: int
    ) -> AskResult:
        """Ask the application; raises QuestionError for unusable questions."""
        return await self.app.ask(question, guild_id=guild_id, channel_id=channel_id, user_id=user_id)

    async def answer_interaction(self, interaction: discord.Interaction[Any], question: str) -> None:
        """Answer ``question`` for a slash command, context menu or suggestion button."""
        question = clean_question(question)
        async with self.guarded(interaction, "ask"), self.answering():
            if self.shutting_down:
                await interaction.response.send_message(
                    "I'm restarting; please ask again in a minute.", ephemeral=True
                )
                return
            wait = await self.cooldown_left(interaction.user.id, interaction.guild_id)
            if wait:
                await interaction.response.send_message(
                    f"You're asking quickly! Please wait {wait:.0f} more seconds.", ephemeral=True
                )
                return
            try:
                self.app.service.validate(question)
            except QuestionError as exc:
                await interaction.response.send_message(str(exc), ephemeral=True)
                return
            work = asyncio.ensure_future(
                self.ask(
                    question,
                    guild_id=interaction.guild_id,
                    channel_id=interaction.channel_id,
                    user_id=interaction.user.id,
                )
            )
            done, _ = await asyncio.wait({work}, timeout=ANSWER_DEADLINE_SECONDS)
            if not done:
                await interaction.response.defer(thinking=True)
            result = await work
            rendered = render_answer(result.answer, result.answer_id)
            log.info(
                "answered %s answered=%s intent=%s confidence=%.2f answer_id=%s",
                _ids(interaction),
                result.answer.answered,
                result.answer.intent,
                result.answer.confidence,
                result.answer_id,
            )
            await self.send_rendered(interaction, rendered)

    async def send_rendered(
        self, interaction: discord.Interaction[Any], rendered: RenderedAnswer, *, ephemeral: bool = False
    ) -> None:
        """Send a rendered answer as the interaction's response (or follow-up once deferred)."""
        kwargs: dict[str, Any] = {"ephemeral": ephemeral, **message_parts(rendered)}
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)

    # -- errors -----------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def guarded(self, interaction: discord.Interaction[Any], what: str) -> AsyncIterator[None]:
        """Run a button or command body; any exception goes to :meth:`report_error`."""
        try:
            yield
        except Exception as exc:  # the one place errors of interactions end up
            await self.report_error(interaction, exc)

    async def report_error(self, interaction: discord.Interaction[Any], error: BaseException) -> None:
        """A short polite reply to the user, the exception with ids to the log."""
        original = getattr(error, "original", error)
        if isinstance(error, NotAdmin):
            log.warning("refused admin command %s", _ids(interaction))
            text = str(error)
        elif isinstance(error, app_commands.CommandOnCooldown):
            text = f"Please wait {error.retry_after:.0f} seconds before trying that again."
        elif isinstance(error, app_commands.CheckFailure):
            log.warning("check failed %s: %s", _ids(interaction), error)
            text = "Sorry, you can't use that here."
        elif isinstance(original, CitebotError):
            log.warning("refused %s: %s", _ids(interaction), original)
            text = str(original)[:1900]
        else:
            log.error("error in %s", _ids(interaction), exc_info=original)
            text = APOLOGY
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not send the error reply %s", _ids(interaction))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Errors outside interactions (message events): logged with ids, never re-raised."""
        ids = ""
        for arg in args:
            if isinstance(arg, discord.Message):
                guild = arg.guild.id if arg.guild else None
                ids = f" guild={guild} channel={arg.channel.id} user={arg.author.id}"
        log.exception("error in %s%s", event_method, ids)


class ShardedCitebotBot(CitebotBot, commands.AutoShardedBot):
    """citebot over several gateway shards (large deployments)."""


def create_bot(app: Citebot, settings: Settings) -> CitebotBot:
    """The bot for ``settings``: sharded when shard settings are given."""
    if settings.shard_count is not None or settings.shard_ids is not None:
        return ShardedCitebotBot(
            app, settings, shard_count=settings.shard_count, shard_ids=settings.shard_ids
        )
    return CitebotBot(app, settings)
