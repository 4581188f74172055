"""Getting a message to Discord despite rate limits, server errors and the 3 s interaction deadline.

discord.py already retries some failures itself: a 429 that came through Discord's proxy (it
sleeps ``retry_after``), and 500/502/504 on ordinary routes. It gives up on a 503, on a 429
longer than the client's ``max_ratelimit_timeout``, and on dropped connections. :func:`with_retries`
retries those too, a bounded number of times, honouring ``retry_after`` when Discord gives one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

__all__ = [
    "ALREADY_ACKNOWLEDGED",
    "UNKNOWN_INTERACTION",
    "Deadline",
    "is_transient",
    "retry_after",
    "with_retries",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

# Discord's JSON error codes that change what we do next.
UNKNOWN_INTERACTION = 10062  # the 3 s window (or the 15 min token) has passed
ALREADY_ACKNOWLEDGED = 40060  # an earlier attempt reached Discord after all
RETRY_ATTEMPTS = 4
BACKOFF_FIRST_SECONDS, BACKOFF_MAX_SECONDS = 0.5, 8.0
# A retry that would wait longer than this is not worth it: the member has moved on.
RETRY_BUDGET_SECONDS = 30.0


def retry_after(error: BaseException) -> float | None:
    """The wait Discord asked for, if the error says."""
    if isinstance(error, discord.RateLimited):
        return error.retry_after
    if isinstance(error, discord.HTTPException):
        header = error.response.headers.get("Retry-After") if error.response is not None else None
        try:
            return float(header) if header is not None else None
        except ValueError:
            return None
    return None


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may work: rate limits, 5xx, dropped connections, timeouts."""
    if isinstance(error, discord.RateLimited | discord.DiscordServerError):
        return True
    if isinstance(error, discord.HTTPException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | OSError | TimeoutError)


async def with_retries(
    send: Callable[[], Awaitable[T]],
    what: str,
    *,
    attempts: int = RETRY_ATTEMPTS,
    budget: float = RETRY_BUDGET_SECONDS,
) -> T:
    """``send()``, tried again after transient failures with backoff; raises the last error."""
    started = time.monotonic()
    delay = BACKOFF_FIRST_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except Exception as exc:
            wait = retry_after(exc)
            wait = delay if wait is None else max(wait, 0.05)
            out_of_time = time.monotonic() - started + wait > budget
            if not is_transient(exc) or attempt == attempts or out_of_time:
                raise
            log.info("%s failed (%s); retry %d in %.1f s", what, _describe(exc), attempt, wait)
            await asyncio.sleep(wait)
            delay = min(2 * delay, BACKOFF_MAX_SECONDS)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}"
    return type(error).__name__


class Deadline:
    """A point in time, on the monotonic clock, that can be measured from Discord's wall clock."""

    def __init__(self, at: float) -> None:
        self.at = at

    @classmethod
    def after_creation(cls, interaction: discord.Interaction[discord.Client], seconds: float) -> Deadline:
        """``seconds`` after Discord created ``interaction`` (its id carries the time)."""
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        return cls(time.monotonic() - max(age, 0.0) + seconds)

    def left(self) -> float:
        """Seconds until the deadline (negative once past)."""
        return self.at - time.monotonic()
