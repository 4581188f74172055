"""The discord.py bot: setup, command registration by hash, answering, and the one error handler."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Settings
from bot.discord_front.errors import NotAdmin, report_event_error, report_interaction_error
from bot.discord_front.flow import AnswerFlow, InteractionTarget
from bot.discord_front.views import DYNAMIC_ITEMS
from bot.runtime import Citebot, UserRef

__all__ = ["COMMANDS_HASH_KEY", "CitebotBot", "NotAdmin", "ShardedCitebotBot", "create_bot"]

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "discord.commands_hash"
# discord.py waits out a 429 up to this long itself; longer ones come back to our retries.
MAX_RATELIMIT_WAIT_SECONDS = 30.0
EXTENSIONS = (
    "bot.discord_front.cogs.ask",
    "bot.discord_front.cogs.conversation",
    "bot.discord_front.cogs.admin",
)


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
        self.flow = AnswerFlow(self)

    # -- start-up ---------------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        """Load the cogs, route persistent buttons, and register commands if they changed."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands(force=False)

    def connected(self) -> bool:
        """Whether the gateway connection is up and its heartbeats are acknowledged."""
        return self.is_ready() and not self.is_closed() and math.isfinite(self.latency)

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
    async def cooldown_left(self, user_id: int, guild_id: int | None) -> float:
        """Seconds this user must wait before asking again (0: go ahead); a guild may set its own."""
        seconds = self.settings.cooldown_seconds
        if guild_id is not None:
            per_guild = (await self.app.guild_settings(guild_id)).cooldown_seconds
            if per_guild is not None:
                seconds = per_guild
        return self.app.cooldown_left(UserRef("discord", user_id), seconds)

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
