"""Answers in flight, so a shutdown lets them finish: shared by every front of one process.

On SIGTERM each front first stops taking questions, then :meth:`InFlight.drain` waits for the
answers already being worked out and cancels what is left after the grace period, before the
database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["DRAIN_SECONDS", "InFlight"]

log = logging.getLogger(__name__)

# On SIGTERM, answers in flight get this long to finish; with the question log's flush after it,
# the whole stop stays inside `docker stop`'s 10 s grace.
DRAIN_SECONDS = 7.0


class InFlight:
    """Counts answers being worked out; :meth:`drain` stops new ones and waits for the rest."""

    def __init__(self) -> None:
        self.shutting_down = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._tasks)

    @contextlib.asynccontextmanager
    async def answering(self) -> AsyncIterator[None]:
        """Count the current task as an answer in flight while the block runs."""
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._tasks.discard(task)
            if not self._tasks:
                self._idle.set()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> int:
        """Refuse new answers, wait for those in flight, cancel the rest; how many were cancelled."""
        self.shutting_down = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        left = [task for task in self._tasks if not task.done()]
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
