"""Restarts and start-up failures of the real bot process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.discord_front.fake_discord import (
    ADMIN_PERMISSIONS,
    APPLICATION_ID,
    BOT_USER,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    interaction_payload,
    message_payload,
    option,
    subcommand,
    user,
)
from tests.discord_front.harness import (
    REPO,
    callback_of,
    knowledge_copy,
    response_message,
    run_command,
    start_bot,
)

MEMBER = user(730000000000000011, "voter")
ADMIN = user(730000000000000012, "admin")
EPHEMERAL = 64


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    server = FakeDiscord().start()
    yield server
    server.stop()


def stats_text(fake: FakeDiscord) -> str:
    payload, mark = run_command(
        fake, "kb", [subcommand("stats")], invoker=ADMIN, permissions=ADMIN_PERMISSIONS
    )
    text: str = response_message(fake, payload, mark)["content"]
    return text


def test_feedback_is_stored_and_buttons_work_after_a_restart(fake: FakeDiscord, tmp_path: Path) -> None:
    knowledge_copy(tmp_path)
    first = start_bot(fake, tmp_path)
    try:
        payload, mark = run_command(
            fake, "ask", [option("question", "When did Chang'e-6 launch?")], invoker=MEMBER
        )
        answer = response_message(fake, payload, mark)
    finally:
        assert first.stop() == 0, first.output()
    assert "SIGTERM received" in first.output()
    helpful = next(
        c["custom_id"]
        for row in answer["components"]
        for c in row["components"]
        if c["custom_id"].startswith("citebot:fb:") and c["custom_id"].endswith(":y")
    )

    mark = fake.mark()
    second = start_bot(fake, tmp_path)
    try:
        # The definitions did not change: no second registration.
        assert not fake.find("PUT", f"/applications/{APPLICATION_ID}/", since=mark), second.output()
        shown = message_payload("", author=BOT_USER, embeds=answer["embeds"], components=answer["components"])
        click = interaction_payload(
            3, {"custom_id": helpful, "component_type": 2}, invoker=MEMBER, message=shown
        )
        before = fake.mark()
        fake.dispatch("INTERACTION_CREATE", click)
        body: dict[str, Any] = callback_of(fake, click, before)
        assert body["data"]["flags"] & EPHEMERAL and "Thanks" in body["data"]["content"]
        assert "1 helpful, 0 not helpful" in stats_text(fake)
    finally:
        assert second.stop() == 0, second.output()


def _run_without_fake(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISCORD_")}
    clean["PYTHONPATH"] = str(REPO)  # cwd=tmp_path: run this checkout's code, not an installed copy
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "discord"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    result = _run_without_fake({}, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "citebot: DISCORD_TOKEN is not set; put the bot token in the environment or .env."
    ]


def test_a_rejected_token_is_one_clear_line_and_never_logged(fake: FakeDiscord, tmp_path: Path) -> None:
    knowledge_copy(tmp_path)
    secret = "wrong-" + TOKEN
    env = fake.env() | {
        "DISCORD_TOKEN": secret,
        "KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "DEV_GUILD_ID": str(GUILD_ID),
    }
    result = _run_without_fake(env, tmp_path)
    assert result.returncode == 1
    assert "citebot: Discord rejected DISCORD_TOKEN" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert secret not in result.stderr + result.stdout


def test_a_sharded_bot_connects_its_shards_and_answers(fake: FakeDiscord, tmp_path: Path) -> None:
    knowledge_copy(tmp_path)
    bot = start_bot(fake, tmp_path, SHARD_COUNT="1", SHARD_IDS="[0]")
    try:
        identify = next(f for f in fake.gateway_frames if f["op"] == 2)
        assert identify["d"]["shard"] == [0, 1]
        payload, mark = run_command(
            fake, "ask", [option("question", "When did Chang'e-6 launch?")], invoker=MEMBER
        )
        assert "launched May 3" in response_message(fake, payload, mark)["embeds"][0]["description"]
    finally:
        assert bot.stop() == 0, bot.output()
