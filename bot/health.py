"""``python -m bot.health FILE``: exit 0 when the bot wrote FILE recently.

The bot writes the file (``HEALTH_FILE``) every 30 s while every front it runs is connected (the
Discord gateway, Telegram's updates), so a stale or missing file means a hung or disconnected bot.
Its text is the status: "ok", or "degraded" and a line per problem (the database file deleted or
found empty, the question log not being written); those are printed, and leave the exit code 0,
since restarting would not fix them. It imports no front: it runs every interval.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

__all__ = ["HEALTH_INTERVAL_SECONDS", "MAX_AGE_SECONDS", "is_healthy", "main", "write_health"]

HEALTH_INTERVAL_SECONDS = 30.0
MAX_AGE_SECONDS = 3 * HEALTH_INTERVAL_SECONDS


def write_health(path: Path, lines: list[str]) -> None:
    """Write the status atomically, so the check never reads half a file."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)


def is_healthy(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a status file the bot wrote within the last ``MAX_AGE_SECONDS``."""
    return _problem(path, time.time() if now is None else now) is None


def _problem(path: Path, now: float) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return f"no health file at {path} (is HEALTH_FILE this path? the bot writes it once connected)"
    if not path.is_file():
        return f"{path} is not a file"
    age = now - stat.st_mtime
    if age > MAX_AGE_SECONDS:
        return (
            f"not connected recently (the health file is {age:.0f} s old, "
            f"the limit is {MAX_AGE_SECONDS:.0f} s)"
        )
    if age < -HEALTH_INTERVAL_SECONDS:
        return f"the health file is dated {-age:.0f} s in the future; is the clock right?"
    return None


def main(argv: list[str]) -> int:
    """Exit code 0 if healthy, 1 otherwise."""
    if len(argv) != 1:
        print("usage: python -m bot.health FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    problem = _problem(path, time.time())
    if problem is not None:
        print(f"unhealthy: {problem}")
        return 1
    try:
        status = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        status = ""
    if not status:
        print("unhealthy: the health file is empty")
        return 1
    print(f"healthy ({status.splitlines()[0]})")
    for line in status.splitlines()[1:]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
