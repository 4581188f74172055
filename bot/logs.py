"""Logging for the long-running fronts: one handler on the root logger, secrets blanked out.

Tokens travel inside request URLs (Telegram's Bot API puts the token in the path) and error
messages can repeat them, so every line is checked for the configured secrets after it is
formatted, tracebacks included. Libraries that log each request are kept at WARNING.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

__all__ = ["LOG_FORMAT", "REDACTED", "RedactingFormatter", "setup_logging"]

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[secret]"
# Shorter values are not treated as secrets: blanking them would garble ordinary words.
MIN_SECRET_CHARS = 8
# httpx logs every request URL at INFO, and Telegram's URLs hold the token.
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp.access")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then replaces every secret in the line (and its traceback)."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The line, secrets blanked."""
        line = super().format(record)
        for secret in self._secrets:
            line = line.replace(secret, REDACTED)
        return line


def setup_logging(level: str, secrets: Iterable[str] = (), stream: TextIO = sys.stderr) -> None:
    """One handler on the root logger at ``level``; ``secrets`` never appear in what it writes."""
    root = logging.getLogger()
    if any(getattr(h, "_citebot", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, secrets))
    handler._citebot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Library chatter at INFO at most, even when citebot itself logs at DEBUG.
    for name in ("discord", "telegram"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
