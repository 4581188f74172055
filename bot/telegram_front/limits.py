"""Telegram's sending limits, kept before sending and waited out after a 429.

Telegram allows about one message a second in a chat, 20 a minute in a group and 30 a second
overall; beyond that it answers 429 with ``retry_after``. python-telegram-bot's own
``AIORateLimiter`` paces groups and the overall rate but not a private chat, and needs
``aiolimiter``; the three limits fit in this small scheduler instead. Messages to one chat keep
their order (a FIFO lock per chat), button and inline answers are never held back (Telegram
wants them within seconds and does not count them as messages), and a 429 or a 5xx is retried
after the wait Telegram asks for, so no answer is lost to a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

__all__ = ["SendingLimits"]

log = logging.getLogger(__name__)

# Methods that put a message in a chat, and so count against its limits.
CHAT_MESSAGES = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        "forwardMessage",
    }
)
# Telegram counts messages as they arrive, and requests sent on time can arrive bunched (a busy
# host, a slower connection): a small margin keeps arrivals within the limits, not just departures.
CHAT_INTERVAL_SECONDS = 1.05
GROUP_MESSAGES, GROUP_WINDOW_SECONDS = 20, 61.0
# Overall, messages go out evenly spaced rather than 30 at the start of each second: bursts of 30
# arrived as up to 59 in one second under a 300-question burst (benchmarks/telegram_burst.py), and
# even spacing at 28 a second still arrived as 33; at 25 a second at most 27 arrive in any second.
OVERALL_SPACING_SECONDS = 1 / 25
MAX_ATTEMPTS = 5
# A request Telegram tells to wait longer than this is given up (and the error handler logs it).
MAX_RETRY_AFTER_SECONDS = 120.0
SERVER_ERROR_BACKOFF_SECONDS = 1.0
# Past this many chats, those whose last message is older than FORGET_AFTER_SECONDS (longer than
# the group window) are forgotten, at most every SWEEP_EVERY_SECONDS, so the maps stay small.
SWEEP_ABOVE_CHATS = 1000
FORGET_AFTER_SECONDS = 120.0
SWEEP_EVERY_SECONDS = 10.0


def _seconds(retry_after: float | dt.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)


def _never_delivered(error: NetworkError) -> bool:
    """Whether Telegram certainly did not act on the request that failed with ``error``."""
    if type(error) is not NetworkError:  # BadRequest, Forbidden, TimedOut, …
        return False
    cause = error.__cause__
    if cause is None:  # Telegram answered, with a 5xx
        return True
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _is_group(chat_id: object) -> bool:
    # Group and channel ids are negative; "@name" addresses a public group or channel.
    return (isinstance(chat_id, int) and chat_id < 0) or (
        isinstance(chat_id, str) and chat_id.startswith("@")
    )


class _Window:
    """At most ``count`` events in any ``seconds``: when the next may happen."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self.times: deque[float] = deque(maxlen=count)

    def wait(self, now: float) -> float:
        if len(self.times) < self.count:
            return 0.0
        return max(0.0, self.times[0] + self.seconds - now)


class SendingLimits(BaseRateLimiter[None]):
    """Paces messages per chat, per group and overall; retries 429s and server errors."""

    def __init__(
        self,
        *,
        chat_interval: float = CHAT_INTERVAL_SECONDS,
        group: tuple[int, float] = (GROUP_MESSAGES, GROUP_WINDOW_SECONDS),
        overall_spacing: float = OVERALL_SPACING_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.chat_interval = chat_interval
        self.group = group
        self.max_attempts = max_attempts
        self.overall_spacing = overall_spacing
        self._overall_next_at = 0.0  # monotonic time the next message to any chat may go
        self._groups: dict[object, _Window] = {}
        self._next_at: dict[object, float] = {}  # chat -> monotonic time its next message may go
        self._locks: dict[object, asyncio.Lock] = {}
        self._retried = 0
        self.closing = False  # once set, nothing is retried: the process is stopping
        self._swept_at = 0.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def retried(self) -> int:
        """How many requests were sent again after a 429 or a server error."""
        return self._retried

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send when the limits allow; on a 429 wait ``retry_after`` and send again."""
        chat = data.get("chat_id") if endpoint in CHAT_MESSAGES else None
        async with self._chat_turn(chat):
            attempt = 1
            while True:
                if chat is not None:
                    await self._wait_for_room(chat)
                try:
                    return await callback(*args, **kwargs)
                except RetryAfter as exc:
                    wait = _seconds(exc.retry_after)
                    if attempt >= self.max_attempts or wait > MAX_RETRY_AFTER_SECONDS or self.closing:
                        raise
                    log.warning("Telegram said 429 to %s: waiting %.0f s, then sending again", endpoint, wait)
                except NetworkError as exc:
                    # Only what Telegram cannot have acted on: its 5xx, or a connection never made.
                    # A refusal (400, 403) is final; a timeout or a connection lost mid-request may
                    # have been delivered, and sending it again could post the answer twice.
                    if not _never_delivered(exc) or attempt >= self.max_attempts or self.closing:
                        raise
                    wait = SERVER_ERROR_BACKOFF_SECONDS * attempt
                    log.warning("%s failed (%s): sending again in %.0f s", endpoint, exc.message, wait)
                attempt += 1
                self._retried += 1
                if chat is not None:  # the chat waits; other chats go on
                    self._next_at[chat] = max(self._next_at.get(chat, 0.0), time.monotonic() + wait)
                else:
                    await asyncio.sleep(wait)

    @contextlib.asynccontextmanager
    async def _chat_turn(self, chat: object) -> AsyncIterator[None]:
        if chat is None:
            yield
            return
        lock = self._locks.setdefault(chat, asyncio.Lock())  # asyncio locks wake waiters in order
        async with lock:
            yield
        self._sweep()

    async def _wait_for_room(self, chat: object) -> None:
        group = self._groups.setdefault(chat, _Window(*self.group)) if _is_group(chat) else None
        while True:
            now = time.monotonic()
            wait = max(
                self._next_at.get(chat, 0.0) - now,
                group.wait(now) if group is not None else 0.0,
                self._overall_next_at - now,
            )
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        # Reserved without an await since the check, so no other sender can take the same slot.
        self._next_at[chat] = now + self.chat_interval
        self._overall_next_at = now + self.overall_spacing
        if group is not None:
            group.times.append(now)

    def _sweep(self) -> None:
        """Forget chats that sent nothing for a while, once there are many."""
        now = time.monotonic()
        if len(self._locks) <= SWEEP_ABOVE_CHATS or now - self._swept_at < SWEEP_EVERY_SECONDS:
            return
        self._swept_at = now
        for chat, lock in list(self._locks.items()):
            if not lock.locked() and self._next_at.get(chat, 0.0) < now - FORGET_AFTER_SECONDS:
                del self._locks[chat]
                self._next_at.pop(chat, None)
                self._groups.pop(chat, None)
