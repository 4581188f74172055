"""Run the real bot (`python -m bot discord`) in a subprocess against the fake Discord."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from tests.bot_process import REPO, BotSubprocess
from tests.discord_front.fake_discord import (
    BOT_USER,
    GUILD_ID,
    FakeDiscord,
    command_data,
    interaction_payload,
)


def knowledge_copy(root: Path) -> Path:
    """A private copy of the repository's knowledge folder."""
    target = root / "knowledge"
    shutil.copytree(REPO / "knowledge", target)
    return target


class BotProcess(BotSubprocess):
    """`python -m bot discord` with its environment pointing at the fake and at ``root``."""

    def __init__(self, fake: FakeDiscord, root: Path, *, repo: Path = REPO, **settings: str) -> None:
        """Start the bot of the checkout ``repo`` (another one lets a benchmark compare versions)."""
        self.fake = fake
        super().__init__(
            "discord", root, {**fake.env(), "DEV_GUILD_ID": str(GUILD_ID), **settings}, repo=repo
        )

    def wait_connected(self, since_identify: int) -> None:
        """Wait until this process identified on the gateway (and got its guild)."""
        deadline = time.monotonic() + 30
        while self.fake.identify_count <= since_identify:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not connect:\n{self.output()}")
            time.sleep(0.05)
        self.fake.wait_ready()


def start_bot(fake: FakeDiscord, root: Path, *, repo: Path = REPO, **settings: str) -> BotProcess:
    """Start the bot and wait until it is connected."""
    before = fake.identify_count
    bot = BotProcess(fake, root, repo=repo, **settings)
    bot.wait_connected(before)
    return bot


def run_command(
    fake: FakeDiscord,
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    invoker: dict[str, Any] | None = None,
    command_type: int = 1,
    data_extra: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[dict[str, Any], int]:
    """Dispatch a command interaction; returns its payload and the request mark before it."""
    data = command_data(fake, name, options, command_type=command_type, **(data_extra or {}))
    payload = interaction_payload(2, data, invoker=invoker or BOT_USER, **kwargs)
    mark = fake.mark()
    fake.dispatch("INTERACTION_CREATE", payload)
    return payload, mark


def callback_of(
    fake: FakeDiscord, payload: dict[str, Any], since: int, timeout: float = 15.0
) -> dict[str, Any]:
    """The body of the interaction's callback (its first response)."""
    path = f"/interactions/{payload['id']}/{payload['token']}/callback"
    request = fake.wait_request("POST", path, since=since, timeout=timeout)
    assert request.query.get("with_response") in ("1", "true", "True"), request.query
    body: dict[str, Any] = request.body
    return body


def followup_of(
    fake: FakeDiscord, payload: dict[str, Any], since: int, timeout: float = 15.0
) -> dict[str, Any]:
    """The body of the first follow-up message of a deferred interaction."""
    request = fake.wait_for(
        lambda r: (
            r.method in ("POST", "PATCH") and r.path.startswith("/webhooks/") and payload["token"] in r.path
        ),
        since=since,
        timeout=timeout,
    )
    body: dict[str, Any] = request.body
    return body


def response_message(fake: FakeDiscord, payload: dict[str, Any], since: int) -> dict[str, Any]:
    """The message the interaction finally showed: the callback's, or the follow-up after a defer."""
    body = callback_of(fake, payload, since)
    if body["type"] == 5:
        return followup_of(fake, payload, since)
    data: dict[str, Any] = body["data"]
    return data
