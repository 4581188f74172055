"""Run the real bot (``python -m bot telegram``, or ``run``) in a subprocess against the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.discord_front.harness import REPO, knowledge_copy
from tests.telegram_front.fake_telegram import BOT_USERNAME, FakeTelegram, Recorded

__all__ = ["REPO", "TelegramBot", "knowledge_copy", "replies_to", "reply_to", "start_bot"]


class TelegramBot:
    """``python -m bot COMMAND`` with its environment pointing at the fake and at ``root``."""

    def __init__(self, fake: FakeTelegram, root: Path, *, command: str = "telegram", **settings: str) -> None:
        self.fake = fake
        self.root = root
        self.log_path = root / f"bot-{time.monotonic_ns()}.log"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_", "DEV_GUILD"))
        }
        env.update(fake.env())
        env.update(
            {
                "KNOWLEDGE_DIR": str(root / "knowledge"),
                "DATABASE_PATH": str(root / "data" / "citebot.db"),
                "COOLDOWN_SECONDS": "0",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                # cwd=root is outside the checkout: run this checkout's code, not an installed copy.
                "PYTHONPATH": str(REPO),
            }
        )
        env.update(settings)
        self._log = self.log_path.open("wb")
        # cwd=root: no stray .env from the checkout is read.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", command],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        """Everything the bot logged so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code

    def wait_logged(self, text: str, timeout: float = 30.0) -> None:
        """Wait until the log holds ``text``."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} never logged:\n{self.output()}")
            time.sleep(0.05)


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
