"""Run the real bot (``python -m bot telegram``, or ``run``) in a subprocess against the fake Bot API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.bot_process import REPO, BotSubprocess
from tests.discord_front.harness import knowledge_copy
from tests.telegram_front.fake_telegram import BOT_USERNAME, FakeTelegram, Recorded

__all__ = ["REPO", "TelegramBot", "knowledge_copy", "replies_to", "reply_to", "start_bot"]


class TelegramBot(BotSubprocess):
    """``python -m bot COMMAND`` with its environment pointing at the fake and at ``root``."""

    def __init__(self, fake: FakeTelegram, root: Path, *, command: str = "telegram", **settings: str) -> None:
        self.fake = fake
        super().__init__(command, root, {**fake.env(), **settings})


def start_bot(fake: FakeTelegram, root: Path, **settings: str) -> TelegramBot:
    """Start ``python -m bot telegram`` and wait until it polls."""
    bot = TelegramBot(fake, root, **settings)
    bot.wait_logged(f"connected to Telegram as @{BOT_USERNAME}")
    return bot


def replies_to(
    fake: FakeTelegram, update: dict[str, Any], since: int, count: int = 1, timeout: float = 15.0
) -> list[Recorded]:
    """The first ``count`` accepted sendMessage replies to the message of ``update``."""
    message = update["message"]
    chat_id, message_id = message["chat"]["id"], message["message_id"]
    found: list[Recorded] = []

    def is_reply(r: Recorded) -> bool:
        if r.method != "sendMessage" or not r.ok or r.params.get("chat_id") != chat_id or r in found:
            return False
        return bool((r.params.get("reply_parameters") or {}).get("message_id") == message_id)

    while len(found) < count:
        found.append(fake.wait_for(is_reply, since=since, timeout=timeout))
    return found


def reply_to(fake: FakeTelegram, update: dict[str, Any], since: int, timeout: float = 15.0) -> Recorded:
    """The accepted sendMessage replying to the message of ``update``."""
    return replies_to(fake, update, since, 1, timeout)[0]
