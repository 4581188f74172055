"""``python -m bot discord``: logging, the application, the bot, and a graceful SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import TextIO

import discord
import yarl

from bot.config import Settings
from bot.core.errors import CitebotError
from bot.discord_front.bot import create_bot
from bot.runtime import Citebot

__all__ = ["run", "setup_logging"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR = 0, 1
# After the answers in flight (DRAIN_SECONDS), the question log gets this long to be written:
# together they stay inside `docker stop`'s 10 s grace.
LOG_FLUSH_SECONDS = 2.0
GIL_SWITCH_SECONDS = 0.0005
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(level: str, stream: TextIO = sys.stderr) -> None:
    """One handler on the root logger, at ``level``; discord.py's chatter at INFO at most."""
    root = logging.getLogger()
    if any(getattr(h, "_citebot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler._citebot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("discord").setLevel(max(logging.INFO, root.level))


def _point_at(settings: Settings) -> None:
    # For tests: talk to a loopback Discord API. Route.BASE is read on every request, and the
    # gateway URL is where a non-sharded client connects (sharded ones ask /gateway/bot).
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        log.warning("using the Discord API at %s (testing only)", discord.http.Route.BASE)
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def _serve(settings: Settings, token: str) -> int:
    app = await Citebot.open(settings)
    app.warm_up()
    bot = create_bot(app, settings)
    loop = asyncio.get_running_loop()
    stopping: asyncio.Task[None] | None = None

    async def shutdown(signame: str) -> None:
        log.info("%s received: finishing the answers in flight, then closing", signame)
        await bot.drain()
        await bot.close()

    def on_signal(signame: str) -> None:
        nonlocal stopping
        if stopping is None:
            stopping = asyncio.ensure_future(shutdown(signame))

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
            loop.add_signal_handler(sig, on_signal, sig.name)
    failure = None
    try:
        async with bot:
            await bot.start(token, reconnect=True)
    except discord.LoginFailure:
        failure = "Discord rejected DISCORD_TOKEN; copy the bot token again from the developer portal."
    except discord.PrivilegedIntentsRequired:
        failure = (
            "MESSAGE_CONTENT_INTENT is on but the Message Content intent is not enabled for this "
            "application in the developer portal."
        )
    finally:
        if stopping is not None:
            await stopping
        await app.close(flush_seconds=LOG_FLUSH_SECONDS)
        log.info("stopped")
    if failure is not None:
        print(f"citebot: {failure}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def run(settings: Settings) -> int:
    """Run the Discord bot until SIGTERM; the exit code."""
    setup_logging(settings.log_level)
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        print(
            "citebot: DISCORD_TOKEN is not set; put the bot token in the environment or .env.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    _point_at(settings)
    # Answers run on a worker thread; Python hands the GIL between threads every 5 ms by default,
    # so under a burst the event loop (acknowledgements) could wait that long at every step.
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        return asyncio.run(_serve(settings, settings.discord_token.get_secret_value().strip()))
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return EXIT_ERROR
