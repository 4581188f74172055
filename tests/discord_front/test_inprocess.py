"""The bot in-process against the fake Discord, with a deliberately slow application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from discord import app_commands

from bot.config import Settings
from bot.discord_front.bot import CitebotBot, create_bot
from bot.discord_front.errors import UNAVAILABLE, report_interaction_error
from bot.discord_front.flow import DEFER_AFTER_SECONDS, InteractionTarget
from bot.runtime import AskResult, Citebot, LogStatus
from tests.discord_front.fake_discord import (
    CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    command_data,
    interaction_payload,
    option,
    user,
)
from tests.discord_front.harness import callback_of, followup_of, knowledge_copy, run_command

MEMBER = user(730000000000000021, "patient")


class SlowCitebot(Citebot):
    """Answers only after Discord's acknowledgement window would have closed."""

    async def ask(self, question: str, **kwargs: Any) -> AskResult:
        await asyncio.sleep(DEFER_AFTER_SECONDS + 1.0)
        return await super().ask(question, **kwargs)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDiscord]:
    server = FakeDiscord().start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    yield server
    server.stop()


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        knowledge_dir=knowledge_copy(tmp_path),
        database_path=tmp_path / "db.sqlite3",
        dev_guild_id=GUILD_ID,
        cooldown_seconds=0,
    )


@contextlib.asynccontextmanager
async def bot_in_process(
    fake: FakeDiscord, tmp_path: Path, app_type: type[Citebot] = Citebot
) -> AsyncIterator[tuple[CitebotBot, list[LogStatus]]]:
    """The bot in this process over an ``app_type`` application, connected; closed afterwards.

    The list receives the question log's final status once the application is closed. Closing
    the bot inside the block is allowed (what a shutdown does first).
    """
    settings = _settings(tmp_path)
    app = await app_type.open(settings)
    bot = create_bot(app, settings)
    running = asyncio.create_task(bot.start(TOKEN))
    closed: list[LogStatus] = []
    try:
        await asyncio.to_thread(fake.wait_ready)
        yield bot, closed
    finally:
        await bot.close()
        await running
        closed.append(await app.close())


def _ask_interaction(fake: FakeDiscord, bot: CitebotBot) -> discord.Interaction[Any]:
    """An /ask interaction as the bot's connection would make it, not dispatched."""
    data = command_data(fake, "ask", [option("question", "When did Chang'e-6 launch?")])
    payload: Any = interaction_payload(2, data, invoker=MEMBER)  # the gateway's JSON, as discord.py types it
    return discord.Interaction(data=payload, state=bot._connection)


def _problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What was logged as an error, or with a traceback."""
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def _ask(fake: FakeDiscord) -> tuple[dict[str, Any], int]:
    return run_command(fake, "ask", [option("question", "When did Chang'e-6 launch?")], invoker=MEMBER)


async def test_a_slow_answer_is_deferred_then_finishes_during_shutdown(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    async with bot_in_process(fake, tmp_path, SlowCitebot) as (bot, _):
        payload, mark = _ask(fake)
        callback = await asyncio.to_thread(callback_of, fake, payload, mark)
        assert callback["type"] == 5  # deferred ("thinking"), within the 3 s window
        await bot.app.in_flight.drain()  # what SIGTERM does first: the answer in flight still goes out
        followup = await asyncio.to_thread(followup_of, fake, payload, mark, 0.1)
        assert "launched May 3" in followup["embeds"][0]["description"]
        assert followup["allowed_mentions"]["parse"] == []


async def test_a_refused_follow_up_goes_to_the_channel(fake: FakeDiscord, tmp_path: Path) -> None:
    async with bot_in_process(fake, tmp_path, SlowCitebot):
        fake.fail_next("POST", "/webhooks/", status=404, json_body=True)  # the follow-up is refused
        payload, mark = _ask(fake)
        callback = await asyncio.to_thread(callback_of, fake, payload, mark)
        assert callback["type"] == 5
        posted = await asyncio.to_thread(
            fake.wait_for, lambda r: r.path == f"/channels/{CHANNEL_ID}/messages", since=mark
        )
        assert f"<@{MEMBER['id']}>" in posted.body["content"]
        assert "launched May 3" in posted.body["embeds"][0]["description"]


async def test_an_answer_slower_than_the_shutdown_wait_is_cancelled_before_the_database_closes(
    fake: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_in_process(fake, tmp_path, SlowCitebot) as (bot, closed):
        payload, mark = _ask(fake)
        assert (await asyncio.to_thread(callback_of, fake, payload, mark))["type"] == 5
        assert (
            await bot.app.in_flight.drain(timeout=0.2) == 1
        )  # SIGTERM's wait ran out: the answer is cancelled
    assert closed[0].unlogged == 0
    assert "shutting down: cancelled 1 unfinished answer after 0 s" in caplog.text
    assert "closed database" not in caplog.text and "never retrieved" not in caplog.text


async def test_a_question_left_when_the_connection_closes_is_logged_as_unanswered_not_as_a_crash(
    fake: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # On SIGTERM the gateway stays up while the answers in flight finish, and a question that
    # arrives then is refused ("I'm restarting"). One dispatched as the client closes has nowhere
    # to go: that is the end of the shutdown, not an error with a traceback.
    async with bot_in_process(fake, tmp_path) as (bot, _):
        interaction = _ask_interaction(fake, bot)
        await bot.app.in_flight.drain(0.1)
        await bot.close()
        with caplog.at_level(logging.WARNING):
            await bot.flow.run(InteractionTarget(interaction), "When did Chang'e-6 launch?")
    assert _problems(caplog) == []
    assert any(
        "left unanswered, the connection is closed" in r.getMessage() and MEMBER["id"] in r.getMessage()
        for r in caplog.records
    )


async def test_a_command_the_bot_does_not_have_gets_a_polite_private_reply_and_no_traceback(
    fake: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Discord can still list a command the bot has let go: a removed one, or any while the bot
    # closes (it lets its commands go before the connection). Not an error of anyone's.
    async with bot_in_process(fake, tmp_path):
        data = {"id": "990000000000000001", "name": "retired", "type": 1, "guild_id": str(GUILD_ID)}
        payload = interaction_payload(2, data, invoker=MEMBER)
        mark = fake.mark()
        with caplog.at_level(logging.WARNING):
            fake.dispatch("INTERACTION_CREATE", payload)
            callback = await asyncio.to_thread(callback_of, fake, payload, mark)
    assert callback["data"]["content"] == UNAVAILABLE
    assert callback["data"]["flags"] & 64  # only the member sees it
    assert _problems(caplog) == []
    assert any("no command 'retired'" in r.getMessage() for r in caplog.records)


async def test_no_error_reply_is_tried_once_the_connection_is_closed(
    fake: FakeDiscord, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with bot_in_process(fake, tmp_path) as (bot, _):
        interaction = _ask_interaction(fake, bot)
        await bot.close()
        mark = fake.mark()
        with caplog.at_level(logging.WARNING):
            await report_interaction_error(interaction, app_commands.CommandNotFound("ask", []))
    assert _problems(caplog) == []
    assert any("no error reply sent, the connection is closed" in r.getMessage() for r in caplog.records)
    assert not [r for r in fake.requests[mark:] if "/callback" in r.path]
