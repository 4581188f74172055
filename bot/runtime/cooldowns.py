"""Per-user cooldowns: one question every N seconds, whatever the front it is asked on."""

from __future__ import annotations

import time

from bot.runtime.question_log import UserRef

__all__ = ["Cooldowns"]

# Past this many remembered users, those whose cooldown is over are forgotten.
FORGET_AFTER_USERS = 10_000


class Cooldowns:
    """When each user last asked; users are told apart by front as well as id."""

    def __init__(self) -> None:
        self._last: dict[UserRef, float] = {}

    def retry_after(self, user: UserRef, seconds: float, now: float | None = None) -> float:
        """0 and the question counts, or the seconds left before ``user`` may ask again."""
        if seconds <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        last = self._last.get(user)
        if last is not None and now - last < seconds:
            return seconds - (now - last)
        self._last[user] = now
        if len(self._last) > FORGET_AFTER_USERS:  # so the map cannot grow without bound
            cutoff = now - seconds
            self._last = {u: t for u, t in self._last.items() if t >= cutoff}
        return 0.0
