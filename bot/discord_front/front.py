"""The Discord front as :mod:`bot.serve` runs it: log in, connect, and close."""

from __future__ import annotations

import logging

import discord
import yarl

from bot.config import Settings
from bot.discord_front.bot import CitebotBot, create_bot
from bot.runtime import Citebot
from bot.serve import FrontError

__all__ = ["DiscordFront"]

log = logging.getLogger(__name__)


def _point_at(settings: Settings) -> None:
    # For tests: talk to a loopback Discord API. Route.BASE is read on every request, and the
    # gateway URL is where a non-sharded client connects (sharded ones ask /gateway/bot).
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        log.warning("using the Discord API at %s (testing only)", discord.http.Route.BASE)
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class DiscordFront:
    """citebot in Discord."""

    name = "Discord"

    def __init__(self, app: Citebot, settings: Settings, token: str) -> None:
        _point_at(settings)
        self.bot: CitebotBot = create_bot(app, settings)
        self._token = token

    async def run(self) -> None:
        """Log in (registering commands) and stay connected until closed."""
        try:
            await self.bot.login(self._token)
            await self.bot.connect(reconnect=True)
        except discord.LoginFailure as exc:
            raise FrontError(
                "Discord rejected DISCORD_TOKEN; copy the bot token again from the developer portal."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise FrontError(
                "MESSAGE_CONTENT_INTENT is on but the Message Content intent is not enabled for this "
                "application in the developer portal."
            ) from exc

    def connected(self) -> bool:
        """Whether the gateway is up and answering heartbeats."""
        return self.bot.connected()

    async def stop_taking(self) -> None:
        """Nothing to stop: the connection stays up for the answers in flight, and new questions
        are refused while the application shuts down.
        """

    async def close(self) -> None:
        """Disconnect from the gateway."""
        await self.bot.close()
