"""``python -m bot.discord_front.health FILE``: exit 0 when the bot touched FILE recently.

The bot touches the file (``HEALTH_FILE``) every 30 s while it is connected to the gateway, so a
stale or missing file means a hung or disconnected bot. No discord import: it runs every interval.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

__all__ = ["HEALTH_INTERVAL_SECONDS", "MAX_AGE_SECONDS", "is_healthy", "main"]

HEALTH_INTERVAL_SECONDS = 30.0
MAX_AGE_SECONDS = 3 * HEALTH_INTERVAL_SECONDS


def is_healthy(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` was touched within the last ``MAX_AGE_SECONDS``."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except OSError:
        return False
    return age <= MAX_AGE_SECONDS


def main(argv: list[str]) -> int:
    """Exit code 0 if healthy, 1 otherwise."""
    if len(argv) != 1:
        print("usage: python -m bot.discord_front.health FILE", file=sys.stderr)
        return 2
    healthy = is_healthy(Path(argv[0]))
    print("healthy" if healthy else "unhealthy: not connected to Discord recently")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
