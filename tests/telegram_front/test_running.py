"""Running the Telegram bot: its settings, cooldowns, webhook mode, shutdown, and both fronts at once."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telegram_front.fake_telegram import (
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    group_chat,
    max_in_window,
    parse_html,
    user,
)
from tests.telegram_front.harness import REPO, TelegramBot, knowledge_copy, reply_to, start_bot

LAUNCH = "which launched May 3."
MEMBER = user(600001, "Mo")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    knowledge_copy(tmp_path)
    return tmp_path


def run_once(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))}
    clean.update(
        {
            "KNOWLEDGE_DIR": str(root / "knowledge"),
            "DATABASE_PATH": str(root / "db.sqlite3"),
            "PYTHONPATH": str(REPO),
        }
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=root,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_a_token_it_says_what_to_set(root: Path) -> None:
    result = run_once(root, "telegram")
    assert result.returncode == 1
    assert "TELEGRAM_TOKEN is not set" in result.stderr and "Traceback" not in result.stderr
    both = run_once(root, "run")
    assert both.returncode == 1 and "set DISCORD_TOKEN, TELEGRAM_TOKEN or both" in both.stderr


def test_a_refused_token_stops_with_a_clear_message_and_is_never_logged(
    fake: FakeTelegram, root: Path
) -> None:
    wrong = "7000000001:AAWrongTokenWrongTokenWrongToken_01234"
    result = run_once(root, "telegram", TELEGRAM_TOKEN=wrong, TELEGRAM_API_BASE=fake.base_url)
    assert result.returncode == 1
    assert "Telegram rejected TELEGRAM_TOKEN" in result.stderr
    assert wrong not in result.stderr + result.stdout and "AAWrongToken" not in result.stderr


def test_malformed_admin_ids_are_a_clear_error(root: Path) -> None:
    result = run_once(root, "telegram", TELEGRAM_TOKEN=TOKEN, TELEGRAM_ADMIN_IDS="123,@ada")
    assert result.returncode == 1 and "TELEGRAM_ADMIN_IDS holds '@ada'" in result.stderr


def test_cooldowns_are_per_user_and_said_once(fake: FakeTelegram, root: Path) -> None:
    bot = start_bot(fake, root, COOLDOWN_SECONDS="30")
    try:
        mark = fake.mark()
        assert LAUNCH in parse_html(
            reply_to(fake, fake.private_message(MEMBER, "When did Chang'e-6 launch?"), mark).params["text"]
        )
        mark = fake.mark()
        again = reply_to(fake, fake.private_message(MEMBER, "Who wrote the article?"), mark)
        assert "You're asking quickly! Please wait" in again.params["text"]
        mark = fake.mark()
        fake.private_message(MEMBER, "And who else?")  # told once already: not told again
        other = user(600002, "Ana")
        assert LAUNCH in parse_html(
            reply_to(fake, fake.private_message(other, "When did Chang'e-6 launch?"), mark).params["text"]
        )
        assert [r for r in fake.find("sendMessage", mark) if r.params["chat_id"] == MEMBER["id"]] == []
    finally:
        assert bot.stop() == 0


def test_sigterm_lets_the_answer_in_flight_go_out_then_closes_the_database(
    fake: FakeTelegram, root: Path
) -> None:
    bot = start_bot(fake, root)
    fake.slow_down("sendMessage", 2.0, times=1)
    mark = fake.mark()
    update = fake.private_message(MEMBER, "When did Chang'e-6 launch?")
    fake.wait_confirmed(update)
    time.sleep(0.5)  # the answer is on its way to Telegram
    started = time.monotonic()
    assert bot.stop() == 0, bot.output()
    assert time.monotonic() - started < 10  # inside docker stop's grace
    assert LAUNCH in reply_to(fake, update, mark, timeout=1).params["text"]
    assert "cancelled" not in bot.output()
    with sqlite3.connect(root / "data" / "citebot.db") as raw:  # logged before the database closed
        assert raw.execute("SELECT front FROM questions").fetchall() == [("telegram",)]
    # Stopped polling: the last getUpdates confirmed what was taken, so nothing is delivered twice.
    assert fake.updates == []


def test_a_flooded_group_does_not_hold_up_other_chats_or_the_shutdown(fake: FakeTelegram, root: Path) -> None:
    bot = start_bot(fake, root)
    group = group_chat(9090, "Flood", supergroup=True)
    # Far more than the 20 a minute Telegram lets the bot send there, and more than the 256 updates
    # handled at once: without a cap per chat, they would all wait and nobody else be served.
    for i in range(300):
        fake.group_message(user(610000 + i, f"f{i}"), group, f"@{BOT_USERNAME} When did Chang'e-6 launch?")
    mark = fake.mark()
    started = time.monotonic()
    private = fake.private_message(MEMBER, "When did Chang'e-6 launch?")
    assert LAUNCH in reply_to(fake, private, mark, timeout=10).params["text"]
    assert time.monotonic() - started < 5
    bot.wait_logged("replies already wait there")
    stopping = time.monotonic()
    assert bot.stop() == 0, bot.output()
    assert time.monotonic() - stopping < 10  # the replies still waiting for the group are given up
    assert max_in_window(fake.send_times(group["id"]), 1.0) <= 1


def test_a_token_revoked_while_running_stops_the_bot_with_a_message(fake: FakeTelegram, root: Path) -> None:
    bot = start_bot(fake, root)
    fake.token = "7000000001:AARevokedRevokedRevokedRevoked_0123"
    fake.private_message(MEMBER, "When did Chang'e-6 launch?")  # ends the poll being held
    bot.process.wait(60)  # by itself: no SIGTERM
    assert bot.stop() == 1
    assert "Telegram stopped accepting TELEGRAM_TOKEN while running" in bot.output()
    assert TOKEN not in bot.output()


def test_webhook_mode_refuses_requests_without_the_secret(fake: FakeTelegram, root: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    bot = start_bot(
        fake,
        root,
        TELEGRAM_WEBHOOK_URL=url,
        TELEGRAM_WEBHOOK_SECRET="s3cret-Token_1",
        TELEGRAM_WEBHOOK_HOST="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    try:
        [webhook] = fake.find("setWebhook")
        assert webhook.params["url"] == url and webhook.params["secret_token"] == "s3cret-Token_1"
        assert set(webhook.params["allowed_updates"]) == {"message", "callback_query", "inline_query"}
        assert fake.find("getUpdates") == []  # no polling in webhook mode
        chat = fake.add_chat({"id": MEMBER["id"], "type": "private", "first_name": "Mo"})
        message = {
            "message_id": 1,
            "from": MEMBER,
            "chat": chat,
            "date": int(time.time()),
            "text": "When did Chang'e-6 launch?",
        }
        update = {"update_id": 5, "message": message}
        assert fake.post_update_to(url, update).status == 403
        assert fake.post_update_to(url, update, "wrong").status == 403
        time.sleep(0.5)
        assert fake.find("sendMessage") == []  # refused updates never reach the bot
        mark = fake.mark()
        assert fake.post_update_to(url, update, "s3cret-Token_1").status == 200
        assert LAUNCH in reply_to(fake, update, mark).params["text"]
        assert fake.post_update_to(url.replace("/updates", "/other"), update, "s3cret-Token_1").status == 404
        assert fake.post_update_to(url, update, "sécret").status == 403  # odd bytes: refused, no crash
        malformed = {"update_id": 6, "message": "not a message"}
        assert fake.post_update_to(url, malformed, "s3cret-Token_1").status == 400
        assert "Traceback" not in bot.output()
        bot.wait_logged("refused a webhook request without the right secret token")
    finally:
        assert bot.stop() == 0
    output = bot.output()
    assert TOKEN not in output and "s3cret-Token_1" not in output  # not even at DEBUG


def test_run_serves_discord_and_telegram_in_one_process(fake: FakeTelegram, root: Path) -> None:
    from tests.discord_front.fake_discord import GUILD_ID, FakeDiscord, option
    from tests.discord_front.fake_discord import TOKEN as DISCORD_TOKEN
    from tests.discord_front.fake_discord import user as discord_user
    from tests.discord_front.harness import response_message, run_command

    discord = FakeDiscord().start()
    try:
        bot = TelegramBot(fake, root, command="run", **discord.env(), DEV_GUILD_ID=str(GUILD_ID))
        try:
            bot.wait_logged("connected to Telegram as @")
            discord.wait_ready(timeout=30)
            mark = fake.mark()
            assert (
                LAUNCH
                in reply_to(fake, fake.private_message(MEMBER, "When did Chang'e-6 launch?"), mark).params[
                    "text"
                ]
            )
            question = [option("question", "When did Chang'e-6 launch?")]
            payload, since = run_command(
                discord, "ask", question, invoker=discord_user(730000000000000031, "both")
            )
            assert LAUNCH in str(response_message(discord, payload, since))
        finally:
            assert bot.stop() == 0, bot.output()
        assert TOKEN not in bot.output() and DISCORD_TOKEN not in bot.output()
        with sqlite3.connect(root / "data" / "citebot.db") as raw:  # one database for both
            fronts = sorted(f for (f,) in raw.execute("SELECT front FROM questions"))
        assert fronts == ["discord", "telegram"]
    finally:
        discord.stop()


def test_each_front_imports_nothing_of_the_other() -> None:
    for package, foreign in (("telegram_front", "discord"), ("discord_front", "telegram")):
        paths = sorted((REPO / "bot" / package).rglob("*.py"))
        imports = "; ".join(f"import {'.'.join(p.relative_to(REPO).with_suffix('').parts)}" for p in paths)
        loaded = "[m for m in sys.modules if m.split('.')[0] == " + repr(foreign) + "]"
        check = f"import sys; bad = {loaded}; assert not bad, bad[:5]"
        result = subprocess.run(
            [sys.executable, "-c", f"{imports}; {check}"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        )
        assert result.returncode == 0, result.stderr
