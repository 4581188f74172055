"""Replies in a chat go out in the order the messages came in, whatever the front.

Answers are worked out one at a time, but sending them is concurrent: without a queue per chat a
short reply could overtake a long one. A turn must be taken as soon as a message arrives, before
anything is awaited: events are handled in the order they arrive only up to their first pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

__all__ = ["ORDER_WAIT_SECONDS", "ReplyOrder", "Turn"]

# A reply waits at most this long for the replies to earlier messages in its chat.
ORDER_WAIT_SECONDS = 10.0


class Turn:
    """A message's place in its chat's queue of replies."""

    def __init__(self, queue: dict[Hashable, asyncio.Future[None]], chat: Hashable) -> None:
        self._queue = queue
        self._chat = chat
        self._previous = queue.get(chat)
        self._mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue[chat] = self._mine

    async def wait(self) -> None:
        """Until the replies to earlier messages in the chat went out (or waited long enough)."""
        if self._previous is not None and not self._previous.done():
            await asyncio.wait({self._previous}, timeout=ORDER_WAIT_SECONDS)

    def done(self) -> None:
        """This message's reply went out (or never will): the next may go."""
        if not self._mine.done():
            self._mine.set_result(None)
        if self._queue.get(self._chat) is self._mine:
            del self._queue[self._chat]


class ReplyOrder:
    """One queue of replies per chat (a Discord channel, a Telegram chat)."""

    def __init__(self) -> None:
        self._queue: dict[Hashable, asyncio.Future[None]] = {}

    def take(self, chat: Hashable) -> Turn:
        """The next turn in ``chat``."""
        return Turn(self._queue, chat)
