"""The question log: pseudonymous user ids, and one writer task so an answer never waits on SQLite.

:meth:`QuestionLog.record` is synchronous and instant: it gives the question its id and puts it
on a bounded queue. One writer task drains the queue in batches, one transaction per batch. While
the database is locked or failing, the writer keeps the batch and retries with backoff; questions
asked meanwhile wait in the queue. When the queue is full (``capacity`` questions waiting, about
an hour of a busy server's questions), a new question is answered but not logged, counted as
``dropped``, and a warning says so once a minute.

Ids are given before the row exists, so an answer can carry its feedback buttons before the log
write. They are time-ordered (newest is largest, like the database's own ids before) and carry
random bits per process, so two processes logging to one database do not collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.storage import (
    DatabaseUnavailableError,
    DayActivity,
    LoggedQuestion,
    QuestionRecord,
    Stats,
    StorageError,
    Store,
)

__all__ = ["Front", "LogStatus", "QuestionLog", "UserRef"]

log = logging.getLogger(__name__)

USER_KEY_META = "user_id_key"
# Hex characters of HMAC-SHA256 kept per user: 128 bits, collision-free for any real guild.
USER_HASH_CHARS = 32
QUEUE_CAPACITY = 10_000
BATCH_SIZE = 500
RETRY_FIRST_SECONDS, RETRY_MAX_SECONDS = 0.5, 5.0
DROP_WARNING_INTERVAL_SECONDS = 60.0
CATCH_UP_SECONDS = 2.0
# Ids: milliseconds since 2024 in the high bits, then 10 random bits per process and a 12-bit
# counter. 2**63 (SQLite's largest integer) is reached in the year 2093.
_ID_EPOCH_MS = 1_704_067_200_000
_COUNTER_BITS, _SALT_BITS = 12, 10


Front = Literal["discord", "telegram"]


@dataclass(frozen=True, slots=True)
class UserRef:
    """A person on one front: a user id is only unique within its platform."""

    front: Front
    id: int

    def hash_input(self) -> bytes:
        """What the pseudonymous id is a keyed hash of.

        Discord ids are hashed bare, as before Telegram existed, so stored hashes keep matching
        (votes, ``forget-user``); other fronts' ids carry their name and can never hash alike.
        """
        text = str(self.id) if self.front == "discord" else f"{self.front}:{self.id}"
        return text.encode()


@dataclass(frozen=True, slots=True)
class LogStatus:
    """How the question log is doing, for the health status and ``ask --log``."""

    written: int
    pending: int
    dropped: int  # not logged because the queue was full
    failed: int  # not logged because the database refused them for good
    last_error: str | None

    @property
    def unlogged(self) -> int:
        """Questions answered whose log rows are lost."""
        return self.dropped + self.failed


class QuestionLog:
    """Logs questions through a background writer; reads go straight to the store."""

    def __init__(self, store: Store, user_key: bytes, *, capacity: int = QUEUE_CAPACITY) -> None:
        """Use :meth:`open`."""
        self._store = store
        self._user_key = user_key
        self._queue: asyncio.Queue[tuple[int, QuestionRecord]] = asyncio.Queue(capacity)
        self._salt = secrets.randbits(_SALT_BITS)
        self._last_id = 0
        self._written = self._dropped = self._failed = 0
        self._last_error: str | None = None
        self._last_drop_warning = -DROP_WARNING_INTERVAL_SECONDS
        self._writer: asyncio.Task[None] | None = None
        self._in_hand = 0  # questions of the batch being written
        self._closed = False
        self._pruning: asyncio.Task[int] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @classmethod
    async def open(cls, store: Store, configured_key: str, *, capacity: int = QUEUE_CAPACITY) -> QuestionLog:
        """The log over ``store``; without a configured key, one is made once and kept in the store."""
        key = configured_key
        if not key:
            # Kept with the data it protects, so hashes stay stable across restarts.
            stored = await store.get_meta(USER_KEY_META)
            if stored is None:
                stored = secrets.token_hex(32)
                await store.set_meta(USER_KEY_META, stored)
            key = stored
        return cls(store, key.encode(), capacity=capacity)

    def user_hash(self, user: UserRef) -> str:
        """The pseudonymous id stored for a user: a keyed hash, not reversible without the key."""
        return hmac.new(self._user_key, user.hash_input(), hashlib.sha256).hexdigest()[:USER_HASH_CHARS]

    # -- writing ----------------------------------------------------------------------------

    def _next_id(self) -> int:
        now_ms = int(time.time() * 1000) - _ID_EPOCH_MS
        candidate = (now_ms << (_SALT_BITS + _COUNTER_BITS)) | (self._salt << _COUNTER_BITS)
        # Strictly rising within the process, even many times in one millisecond.
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    def record(self, record: QuestionRecord) -> int | None:
        """Queue ``record`` for writing; its id, or None when the queue is full and it is dropped."""
        if self._closed:  # an answer that finished during shutdown: answered, not logged
            self._dropped += 1
            return None
        question_id = self._next_id()
        try:
            self._queue.put_nowait((question_id, record))
        except asyncio.QueueFull:
            self._dropped += 1
            now = time.monotonic()
            if now - self._last_drop_warning >= DROP_WARNING_INTERVAL_SECONDS:
                self._last_drop_warning = now
                log.warning(
                    "the question log is %d questions behind (%s); answering without logging "
                    "(%d dropped so far)",
                    self._queue.qsize(),
                    self._last_error or "the database is slow",
                    self._dropped,
                )
            return None
        self._idle.clear()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="citebot-question-log")
        return question_id

    async def _write_forever(self) -> None:
        while True:
            if self._queue.empty():
                self._idle.set()
            first = await self._queue.get()
            batch = [first]
            while len(batch) < BATCH_SIZE and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._in_hand = len(batch)
            await self._write(batch)
            self._in_hand = 0

    async def _write(self, batch: Sequence[tuple[int, QuestionRecord]]) -> None:
        delay = RETRY_FIRST_SECONDS
        while True:
            try:
                await self._store.log_questions(batch)
            except DatabaseUnavailableError as exc:
                # Locked or briefly unusable: keep the batch and try again.
                if self._last_error is None:
                    log.warning("cannot write the question log for now (%s); retrying", exc)
                self._last_error = str(exc)
                await asyncio.sleep(delay)
                delay = min(2 * delay, RETRY_MAX_SECONDS)
                continue
            except StorageError as exc:
                self._failed += len(batch)
                self._last_error = str(exc)
                log.error("could not log %d questions: %s", len(batch), exc)
                return
            if self._last_error is not None:
                log.info("the question log is being written again")
            self._last_error = None
            self._written += len(batch)
            return

    async def flush(self, timeout: float) -> bool:
        """Wait until every queued question is written (or failed); False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float) -> LogStatus:
        """Flush for at most ``timeout`` seconds, then stop the writer; what was left is dropped."""
        if self._pruning is not None and not self._pruning.done():
            self._pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pruning
        flushed = await self.flush(timeout)
        self._closed = True
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if not flushed:
            left = self._queue.qsize() + self._in_hand
            self._in_hand = 0
            self._dropped += left
            log.error("stopping with %d questions not written to the question log", left)
        return self.status()

    def status(self) -> LogStatus:
        """Counts so far, and the last database error while it lasts."""
        pending = self._queue.qsize() + self._in_hand
        return LogStatus(self._written, pending, self._dropped, self._failed, self._last_error)

    # -- reading and deleting -----------------------------------------------------------------

    async def record_feedback(self, answer_id: int, user: UserRef, helpful: bool) -> None:
        """Record a vote; a user's second vote on an answer replaces the first."""
        await self._catch_up()  # the answer's row may still be queued
        await self._store.record_feedback(answer_id, self.user_hash(user), helpful)

    async def _catch_up(self) -> None:
        # Readers should see what was just asked (and not what was just pruned); a stuck writer
        # delays them only briefly.
        if self._pruning is not None and not self._pruning.done():
            await asyncio.wait({self._pruning}, timeout=CATCH_UP_SECONDS)
        if not self._idle.is_set():
            await self.flush(CATCH_UP_SECONDS)

    async def unanswered(
        self, *, limit: int = 10, offset: int = 0, guild_id: int | None = None
    ) -> list[LoggedQuestion]:
        """Questions the bot declined, newest first."""
        await self._catch_up()
        return await self._store.unanswered(limit=limit, offset=offset, guild_id=guild_id)

    async def stats(self, *, days: int = 30, guild_id: int | None = None) -> Stats:
        """Questions per day, share answered, top questions and votes over the last ``days`` days."""
        await self._catch_up()
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        return await self._store.stats(since=since, days=days, guild_id=guild_id)

    async def daily_activity(self, *, days: int = 30, guild_id: int | None = None) -> tuple[DayActivity, ...]:
        """Each day of the period :meth:`stats` covers: asked, answered, helpful and not helpful votes."""
        await self._catch_up()
        now = dt.datetime.now(dt.UTC)
        return await self._store.daily_activity(
            since=now - dt.timedelta(days=days), until=now, guild_id=guild_id
        )

    async def forget_user(self, user: UserRef) -> int:
        """Delete everything logged about a user (questions and votes); how many rows went."""
        await self.flush(5.0)  # so a queued question of theirs is not written after the delete
        return await self._store.forget_user(self.user_hash(user))

    def prune_soon(self, retention_days: int) -> None:
        """Prune in the background: a locked database must not hold up start-up or answers."""
        self._pruning = asyncio.create_task(self._prune_quietly(retention_days), name="citebot-prune")

    async def _prune_quietly(self, retention_days: int) -> int:
        try:
            return await self.prune(retention_days)
        except StorageError as exc:
            log.warning("could not prune the question log now (%s); the next start tries again", exc)
            return 0

    async def prune(self, retention_days: int) -> int:
        """Delete questions older than ``retention_days``; how many went."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)
        pruned = await self._store.prune(cutoff)
        if pruned:
            log.info("pruned %d questions older than %s", pruned, cutoff.date().isoformat())
        return pruned
