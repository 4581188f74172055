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
from bot.discord_front.errors import NotAdmin, report_event_error, report_interaction_error
from bot.discord_front.flow import AnswerFlow, InteractionTarget
from bot.discord_front.health import write_health
from bot.discord_front.views import DYNAMIC_ITEMS
from bot.runtime import Citebot

__all__ = ["COMMANDS_HASH_KEY", "CitebotBot", "Cooldown", "NotAdmin", "ShardedCitebotBot", "create_bot"]

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "discord.commands_hash"
# On SIGTERM, answers in flight get this long to finish before the connection closes; with the
# question log's flush it stays inside `docker stop`'s 10 s grace.
DRAIN_SECONDS = 7.0
# discord.py waits out a 429 up to this long itself; longer ones come back to our retries.
MAX_RATELIMIT_WAIT_SECONDS = 30.0
EXTENSIONS = (
    "bot.discord_front.cogs.ask",
    "bot.discord_front.cogs.conversation",
    "bot.discord_front.cogs.admin",
)


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


class CitebotTree(app_commands.CommandTree["CitebotBot"]):
    """The command tree, with the front's one error handler for commands."""

    async def on_error(
        self, interaction: discord.Interaction[CitebotBot], error: app_commands.AppCommandError, /
    ) -> None:
        """Answer politely and log; never a traceback to Discord."""
        await report_interaction_error(interaction, error)


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
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_SECONDS,
            **options,
        )
        self.app = app
        self.settings = settings
        self.cooldown = Cooldown()
        self.flow = AnswerFlow(self)
        self.shutting_down = False
        self._in_flight: set[asyncio.Task[Any]] = set()
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
        # Written only while connected: a hung or disconnected bot lets it go stale. The text says
        # what else operators should know (the database file, the question log).
        await self.wait_until_ready()
        while not self.is_closed():
            if self.is_ready() and math.isfinite(self.latency):  # latency: heartbeats are acknowledged
                health = await self.app.health()
                await asyncio.to_thread(write_health, path, health.lines())
            await asyncio.sleep(self.settings.health_interval_seconds)

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
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight.discard(task)
            if not self._in_flight:
                self._idle.set()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> int:
        """Stop taking questions, wait for the answers in flight, cancel the rest; how many were cancelled."""
        self.shutting_down = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        left = [task for task in self._in_flight if not task.done()]
        if left:
            log.warning(
                "shutting down: cancelled %d unfinished answer%s after %.0f s",
                len(left),
                "" if len(left) == 1 else "s",
                timeout,
            )
            for task in left:
                task.cancel()
            await asyncio.wait(left, timeout=1.0)
        return len(left)

    async def cooldown_left(self, user_id: int, guild_id: int | None) -> float:
        """Seconds this user must wait before asking again (0: go ahead)."""
        seconds = self.settings.cooldown_seconds
        if guild_id is not None:
            per_guild = (await self.app.guild_settings(guild_id)).cooldown_seconds
            if per_guild is not None:
                seconds = per_guild
        return self.cooldown.retry_after(user_id, seconds) if seconds > 0 else 0.0

    async def answer_interaction(self, interaction: discord.Interaction[Any], question: str) -> None:
        """Answer ``question`` for a slash command, context menu or suggestion button."""
        await self.flow.run(InteractionTarget(interaction), question)

    # -- errors -----------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def guarded(self, interaction: discord.Interaction[Any], what: str) -> AsyncIterator[None]:
        """Run a button or command body; any exception goes to the error handler."""
        try:
            yield
        except Exception as exc:
            await report_interaction_error(interaction, exc)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Errors outside interactions and answers: logged with ids, never re-raised."""
        report_event_error(event_method, args)


class ShardedCitebotBot(CitebotBot, commands.AutoShardedBot):
    """citebot over several gateway shards (large deployments)."""


def create_bot(app: Citebot, settings: Settings) -> CitebotBot:
    """The bot for ``settings``: sharded when shard settings are given."""
    if settings.shard_count is not None or settings.shard_ids is not None:
        return ShardedCitebotBot(
            app, settings, shard_count=settings.shard_count, shard_ids=settings.shard_ids
        )
    return CitebotBot(app, settings)
