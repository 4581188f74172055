"""The long-running bot: ``python -m bot run`` (every front with a token), ``discord``, ``telegram``.

One process, one application (:class:`~bot.runtime.Citebot`: one store, one answering thread, one
question log) and the fronts asked for, each a thin adapter that implements :class:`Front`. On
SIGTERM every front stops taking questions, the answers in flight get
:data:`~bot.runtime.DRAIN_SECONDS` to go out, the fronts disconnect and the question log is
written, all inside ``docker stop``'s 10 s grace.

Fronts are imported by name, only when asked for: the Telegram bot never imports discord, and
the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, Protocol

from bot.config import Settings
from bot.core.errors import CitebotError
from bot.health import write_health
from bot.logs import setup_logging
from bot.runtime import DRAIN_SECONDS, Citebot

__all__ = ["FRONTS", "Front", "FrontError", "run"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_ERROR = 0, 1
# After the answers in flight (DRAIN_SECONDS), the question log gets this long to be written.
LOG_FLUSH_SECONDS = 2.0
# How long closing waits for a front to disconnect.
CLOSE_SECONDS = 5.0
# The whole stop, from SIGTERM to the database closed: inside `docker stop`'s 10 s grace.
SHUTDOWN_SECONDS = 9.5
# Stopping to take questions (Telegram's last getUpdates, which confirms what was taken).
STOP_TAKING_SECONDS = 2.0
# Answers run on a worker thread; Python hands the GIL between threads every 5 ms by default, so
# under a burst the event loop (acknowledgements, callback answers) could wait that long at each step.
GIL_SWITCH_SECONDS = 0.0005
# While a front is not connected, how often the health file task looks again.
NOT_CONNECTED_RECHECK_SECONDS = 1.0


class FrontError(Exception):
    """A front cannot run as configured (a refused token, a missing permission); the message says why."""


class Front(Protocol):
    """A platform adapter over the application."""

    name: str

    async def run(self) -> None:
        """Connect and serve until :meth:`close`; raises :class:`FrontError` when it cannot run."""

    def connected(self) -> bool:
        """Whether the platform is reachable and delivering questions right now."""

    async def stop_taking(self) -> None:
        """Take no new questions; answers already being worked out can still be sent."""

    async def close(self) -> None:
        """Disconnect."""


# Command name -> (module, class, the setting holding its token, the token's variable).
FRONTS: dict[str, tuple[str, str, str, str]] = {
    "discord": ("bot.discord_front.front", "DiscordFront", "discord_token", "DISCORD_TOKEN"),
    "telegram": ("bot.telegram_front.front", "TelegramFront", "telegram_token", "TELEGRAM_TOKEN"),
}


def _token(settings: Settings, front: str) -> str:
    secret = getattr(settings, FRONTS[front][2])
    return "" if secret is None else str(secret.get_secret_value()).strip()


def _secrets(settings: Settings) -> list[str]:
    values = [_token(settings, front) for front in FRONTS]
    for secret in (settings.telegram_webhook_secret, settings.user_id_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    return [v for v in values if v]


def _build(front: str, app: Citebot, settings: Settings) -> Front:
    module, cls, _, _ = FRONTS[front]
    built: Front = getattr(importlib.import_module(module), cls)(app, settings, _token(settings, front))
    return built


def run(settings: Settings, fronts: Sequence[str] | None = None) -> int:
    """Run ``fronts`` (None: every front whose token is set) until SIGTERM; the exit code."""
    setup_logging(settings.log_level, _secrets(settings))
    if fronts is None:
        fronts = [front for front in FRONTS if _token(settings, front)]
        if not fronts:
            print(
                "citebot: no front to run: set DISCORD_TOKEN, TELEGRAM_TOKEN or both "
                "(in the environment or .env).",
                file=sys.stderr,
            )
            return EXIT_ERROR
    for front in fronts:
        if not _token(settings, front):
            variable = FRONTS[front][3]
            print(
                f"citebot: {variable} is not set; put the bot token in the environment or .env.",
                file=sys.stderr,
            )
            return EXIT_ERROR
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    try:
        return asyncio.run(_serve(settings, list(fronts)))
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return EXIT_ERROR


async def _serve(settings: Settings, names: list[str]) -> int:
    app = await Citebot.open(settings)
    try:
        fronts = [_build(name, app, settings) for name in names]
    except BaseException:
        await app.close(flush_seconds=LOG_FLUSH_SECONDS)
        raise
    app.warm_up()
    stop = asyncio.Event()

    def on_signal(signame: str) -> None:
        if not stop.is_set():
            log.info("%s received: finishing the answers in flight, then closing", signame)
            stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # Windows has no add_signal_handler
            loop.add_signal_handler(sig, on_signal, sig.name)
    running = {asyncio.create_task(front.run(), name=f"citebot-{front.name}"): front for front in fronts}
    health = (
        asyncio.create_task(
            _keep_health_file(app, fronts, settings.health_file, settings.health_interval_seconds)
        )
        if settings.health_file is not None
        else None
    )
    stopping = asyncio.create_task(stop.wait())
    failures: list[str] = []
    try:
        done, _ = await asyncio.wait({*running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in running:
            if task in done:
                failures.extend(_failure(running[task], task, stopping=False))
    finally:
        stopping.cancel()
        if health is not None:
            health.cancel()
        await _stop(app, fronts, running, done, failures)
    for failure in failures:
        print(f"citebot: {failure}", file=sys.stderr)
    return EXIT_ERROR if failures else EXIT_OK


async def _wait(event: asyncio.Event) -> None:
    await event.wait()


async def _stop(
    app: Citebot,
    fronts: list[Front],
    running: dict[asyncio.Task[None], Front],
    done: set[asyncio.Task[Any]],
    failures: list[str],
) -> None:
    """Stop taking questions, let answers finish, disconnect, write the log: within SHUTDOWN_SECONDS."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SHUTDOWN_SECONDS

    def left(keep: float) -> float:
        """Seconds a step may take, keeping ``keep`` for the steps after it."""
        return max(0.1, deadline - keep - loop.time())

    stop_seconds = min(STOP_TAKING_SECONDS, left(LOG_FLUSH_SECONDS + 1.0))
    steps = [_quietly(front.stop_taking(), front, "stop taking questions", stop_seconds) for front in fronts]
    await asyncio.gather(*steps)
    await app.in_flight.drain(min(DRAIN_SECONDS, left(LOG_FLUSH_SECONDS + 0.5)))
    closing = [_quietly(front.close(), front, "disconnect", left(LOG_FLUSH_SECONDS)) for front in fronts]
    await asyncio.gather(*closing)
    if running:
        finished, unfinished = await asyncio.wait(running, timeout=left(LOG_FLUSH_SECONDS))
        for task in unfinished:
            task.cancel()
        for task in finished:
            if task not in done:
                failures.extend(_failure(running[task], task, stopping=True))
    await app.close(flush_seconds=min(LOG_FLUSH_SECONDS, left(0.0)))
    log.info("stopped")


def _failure(front: Front, task: asyncio.Task[None], *, stopping: bool) -> list[str]:
    """Why ``front``'s finished task ended, if it failed."""
    if task.cancelled():
        return []
    error = task.exception()
    if error is None:
        # Not asked to stop: an exit code that says so, for a restart policy to act on.
        return [] if stopping else [f"the {front.name} front stopped unexpectedly"]
    if isinstance(error, FrontError):
        return [str(error)]
    if stopping:  # torn down mid-way (a SIGTERM during start-up): not a failure
        log.info("the %s front stopped mid-way: %s", front.name, error)
        return []
    log.error("the %s front failed", front.name, exc_info=error)
    return [f"the {front.name} front failed: {error}"]


async def _quietly(step: Awaitable[None], front: Front, what: str, seconds: float) -> None:
    try:
        await asyncio.wait_for(step, min(CLOSE_SECONDS, seconds))
    except Exception:
        log.warning("could not %s on %s", what, front.name, exc_info=True)


async def _keep_health_file(app: Citebot, fronts: list[Front], path: Path, interval: float) -> None:
    # Written only while every front is connected: a hung or disconnected front lets it go stale.
    # The text says what else operators should know (the database file, the question log).
    while True:
        if not all(front.connected() for front in fronts):
            await asyncio.sleep(min(interval, NOT_CONNECTED_RECHECK_SECONDS))  # written as soon as up
            continue
        status = await app.health()
        await asyncio.to_thread(write_health, path, status.lines())
        await asyncio.sleep(interval)
