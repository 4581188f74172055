"""The real bot (``python -m bot COMMAND``) in a subprocess, for the fronts' end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["REPO", "BotSubprocess"]

REPO = Path(__file__).resolve().parents[1]
# Settings that would point the bot at a real platform: never inherited from the test's environment.
PLATFORM_PREFIXES = ("DISCORD_", "TELEGRAM_", "DEV_GUILD")


class BotSubprocess:
    """``python -m bot COMMAND`` run in ``root`` (its knowledge and database), logging to a file."""

    def __init__(self, command: str, root: Path, settings: dict[str, str], *, repo: Path = REPO) -> None:
        """Start the bot of the checkout ``repo`` (another one lets a benchmark compare versions)."""
        self.root = root
        self.log_path = root / f"bot-{time.monotonic_ns()}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_PREFIXES)}
        env.update(
            {
                "KNOWLEDGE_DIR": str(root / "knowledge"),
                "DATABASE_PATH": str(root / "data" / "citebot.db"),
                "COOLDOWN_SECONDS": "0",
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                # cwd=root is outside the checkout: run this checkout's code, not an installed copy.
                "PYTHONPATH": str(repo),
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
