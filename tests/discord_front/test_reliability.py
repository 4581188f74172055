"""No lost answers: the real bot under bursts, Discord's faults and awkward input.

Each test drives ``python -m bot discord`` through the loopback Discord and asserts what members
would notice: every interaction acknowledged within Discord's 3 s, every member answered (by the
interaction, or in the channel when the interaction could not be used), nothing sent twice.
Timings are measured in ``benchmarks/discord_burst.py``, not asserted here.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.discord_front.fake_discord import (
    ADMIN_PERMISSIONS,
    BOT_USER,
    CHANNEL_ID,
    MEMBER_PERMISSIONS,
    FakeDiscord,
    command_data,
    interaction_payload,
    message_payload,
    option,
    subcommand,
    user,
)
from tests.discord_front.harness import BotProcess, callback_of, knowledge_copy, run_command, start_bot
from tests.discord_front.scenarios import QUESTION, ask_payload, ask_some, burst, outcome

QUOTED = "launched May 3"
LOCKED_QUESTION = "When did the Chang'e-6 mission launch?"
ADMIN = user(730000000000000077, "admin")


@pytest.fixture
def own_fake() -> Iterator[FakeDiscord]:
    """A Discord of its own, for a test that starts its own bot (two bots would both answer)."""
    server = FakeDiscord().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(fake: FakeDiscord) -> Iterator[None]:
    yield
    fake.clear_faults()


def _channel_answers_for(fake: FakeDiscord, user_id: int, since: int = 0) -> list[dict[str, Any]]:
    return [
        r.body
        for r in fake.find("POST", f"/channels/{CHANNEL_ID}/messages", since)
        if 200 <= r.status < 300 and f"<@{user_id}>" in ((r.body or {}).get("content") or "")
    ]


def _mention(fake: FakeDiscord, author: dict[str, Any], text: str) -> tuple[dict[str, Any], int]:
    message = message_payload(f"<@{BOT_USER['id']}> {text}", author=author, mentions=[BOT_USER])
    mark = fake.mark()
    fake.dispatch("MESSAGE_CREATE", message)
    return message, mark


def _reply_to(fake: FakeDiscord, message: dict[str, Any], since: int, timeout: float = 20.0) -> Any:
    return fake.wait_for(
        lambda r: (
            r.method == "POST"
            and r.path.startswith("/channels/")
            and 200 <= r.status < 300
            and str(((r.body or {}).get("message_reference") or {}).get("message_id")) == message["id"]
        ),
        since=since,
        timeout=timeout,
    ).body


# -- 1. bursts --------------------------------------------------------------------------------------


def test_a_burst_of_1000_asks_at_500_a_second_is_acknowledged_in_time_and_answered(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    result = burst(fake, 1000, 500, first=0)
    assert (result.acked_in_time, result.answered, result.second_callbacks) == (1000, 1000, 0), result


def test_a_burst_beside_two_busy_processes_is_acknowledged_in_time_and_answered(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        result = burst(fake, 1000, 200, first=2000)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert (result.acked_in_time, result.answered, result.second_callbacks) == (1000, 1000, 0), result


def test_mentions_in_one_channel_are_answered_in_the_order_asked(fake: FakeDiscord, bot: BotProcess) -> None:
    questions = [f"{QUESTION} ({n})" for n in range(10)]
    mark = fake.mark()
    asked = []
    for n, text in enumerate(questions):
        message = message_payload(
            f"<@{BOT_USER['id']}> {text}", author=user(735000000000000000 + n, f"o{n}"), mentions=[BOT_USER]
        )
        fake.dispatch("MESSAGE_CREATE", message)
        asked.append(message["id"])
    replies: list[str] = []
    deadline = time.monotonic() + 30
    while len(replies) < len(asked) and time.monotonic() < deadline:
        replies = [
            str(((r.body or {}).get("message_reference") or {}).get("message_id"))
            for r in fake.find("POST", f"/channels/{CHANNEL_ID}/messages", mark)
            if 200 <= r.status < 300
        ]
        replies = [r for r in replies if r in asked]
        time.sleep(0.1)
    assert replies == asked


# -- 2. a missed interaction --------------------------------------------------------------------------


def test_an_interaction_that_arrives_too_late_gets_no_callback_and_one_log_line(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    member = user(732000000000000001, "late")
    data = command_data(fake, "ask", [option("question", QUESTION)])
    payload = interaction_payload(2, data, invoker=member, created_at=time.time() - 3.5)
    mark = fake.mark()
    fake.dispatch("INTERACTION_CREATE", payload)
    fake.wait_for(lambda r: f"<@{member['id']}>" in str(r.body), since=mark)
    assert fake.interaction_outcome(payload["id"]).callbacks == ()  # no late answer, no late apology
    [posted] = _channel_answers_for(fake, int(member["id"]), mark)
    assert QUOTED in posted["embeds"][0]["description"]
    # Only the member who asked is pinged: they are waiting for it.
    assert posted["allowed_mentions"]["parse"] == []
    assert [str(u) for u in posted["allowed_mentions"]["users"]] == [member["id"]]
    lines = [line for line in bot.output().splitlines() if f"user={member['id']}" in line]
    assert sum("not acknowledged in time" in line for line in lines) == 1
    assert "Traceback" not in bot.output()


# -- 3. 429 and 5xx on the interaction callback -------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "count", "first"), [(0.5, 30, 10_000), (2.0, 20, 10_100)])
def test_a_rate_limited_callback_loses_no_answer(
    fake: FakeDiscord, bot: BotProcess, retry_after: float, count: int, first: int
) -> None:
    fake.rate_limit_next("POST", "/interactions/", times=count, retry_after=retry_after)
    result = ask_some(fake, count, first=first)
    assert (result.answered, result.second_callbacks) == (count, 0), result


def test_a_global_rate_limit_loses_no_answer(fake: FakeDiscord, bot: BotProcess) -> None:
    fake.rate_limit_globally(4.0)  # longer than the 3 s window: only the channel is left
    result = ask_some(fake, 10, first=10_200)
    assert result.answered == 10, result
    assert result.in_channel == 10 - result.acked_in_time


def test_two_503s_on_the_callback_and_on_the_channel_message_lose_no_answer(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    fake.fail_next("POST", "/interactions/", times=2)
    fake.fail_next("POST", "/channels/*/messages", times=2)
    result = ask_some(fake, 1, first=10_300)
    assert (result.answered, result.in_channel, result.acked_in_time) == (1, 1, 0), result


# -- 4. mention answers under 503 and 429 ---------------------------------------------------------------


def test_a_mention_answer_survives_two_503s(fake: FakeDiscord, bot: BotProcess) -> None:
    fake.fail_next("POST", "/channels/*/messages", times=2)
    message, mark = _mention(fake, user(732000000000000002, "m503"), QUESTION)
    reply = _reply_to(fake, message, mark)
    assert QUOTED in reply["embeds"][0]["description"]
    attempts = [r.status for r in fake.find("POST", f"/channels/{CHANNEL_ID}/messages", mark)]
    assert attempts[:3] == [503, 503, 200]


def test_a_mention_answer_waits_out_a_long_rate_limit(fake: FakeDiscord, bot: BotProcess) -> None:
    fake.rate_limit_next("POST", "/channels/*/messages", retry_after=3.0)
    message, mark = _mention(fake, user(732000000000000003, "m429"), QUESTION)
    reply = _reply_to(fake, message, mark)
    assert QUOTED in reply["embeds"][0]["description"]


# -- 5. a write-locked database ----------------------------------------------------------------------


def test_a_write_locked_database_delays_no_answer_and_loses_no_question(
    fake: FakeDiscord, bot: BotProcess, root: Path
) -> None:
    database = root / "data" / "citebot.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock for 10 s
    started = time.monotonic()
    try:
        result = ask_some(fake, 20, first=10_400, spacing=0.2, question=LOCKED_QUESTION)
        answered_while_locked = time.monotonic() - started < 10
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answered_while_locked
    assert (result.acked_in_time, result.answered, result.deferred) == (20, 20, 0), result
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reader = sqlite3.connect(database)
        try:
            logged = reader.execute(
                "SELECT count(*) FROM questions WHERE question = ?", (LOCKED_QUESTION,)
            ).fetchone()[0]
        finally:
            reader.close()
        if logged == 20:
            break
        time.sleep(0.5)
    assert logged == 20


# -- 7. the health status -----------------------------------------------------------------------------


def test_the_health_status_says_when_the_database_file_was_deleted(
    own_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = own_fake
    knowledge_copy(tmp_path)
    health = tmp_path / "health"
    process = start_bot(fake, tmp_path, HEALTH_FILE=str(health), HEALTH_INTERVAL_SECONDS="0.5")
    try:
        deadline = time.monotonic() + 20
        while not health.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        database = tmp_path / "data" / "citebot.db"
        database.unlink()
        while time.monotonic() < deadline and "deleted" not in health.read_text():
            time.sleep(0.1)
        checked = subprocess.run(
            [sys.executable, "-m", "bot.health", str(health)],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parents[2],
        )
    finally:
        assert process.stop() == 0, process.output()
    assert checked.returncode == 0
    assert checked.stdout.startswith("healthy (degraded)")
    assert "was deleted" in checked.stdout and "nothing was lost" in checked.stdout
    assert database.exists()


# -- 6. SIGTERM during a burst -----------------------------------------------------------------------


def test_sigterm_during_a_burst_finishes_the_answers_in_flight_and_closes_cleanly(
    own_fake: FakeDiscord, tmp_path: Path
) -> None:
    fake = own_fake
    knowledge_copy(tmp_path)
    process = start_bot(fake, tmp_path)
    sent = fake.dispatch_many(
        "INTERACTION_CREATE", lambda i: ask_payload(fake, 20_000 + i), 300, rate_per_second=300, wait=False
    )
    time.sleep(0.5)
    process.process.send_signal(signal.SIGTERM)
    code = process.stop(30)  # already signalled: waits, then closes its log
    sent.wait(10)
    output = process.output()
    assert code == 0, output
    for problem in ("Traceback", "closed database", "never retrieved", "Unclosed"):
        # The log around the problem, in full: a shutdown race here failed CI twice, and was never
        # reproduced on demand; the next failure should say which exception it was.
        at = output.find(problem)
        assert at < 0, output[max(0, at - 1500) : at + 3000]
    acked = [o for o in fake.interaction_outcomes([p["id"] for p in sent.payloads]) if o.acknowledged]
    assert len(acked) >= 100  # those asked before the signal
    # Every acknowledged interaction got its answer or "I'm restarting", never silence.
    for o in acked:
        final = [c.body for c in o.callbacks if c.status == 200 and c.body.get("type") == 4]
        final += [m.body for m in o.messages]
        assert final, o
    results = outcome(fake, sent.payloads, settle=5)
    database = tmp_path / "data" / "citebot.db"
    reader = sqlite3.connect(database)
    try:
        logged = reader.execute("SELECT count(*) FROM questions").fetchone()[0]
    finally:
        reader.close()
    assert logged == results.answered  # every answer given was logged before the database closed


# -- 8. cooldowns on mentions ---------------------------------------------------------------------------


def _set_cooldown(fake: FakeDiscord, seconds: int) -> None:
    command = [subcommand("cooldown", [option("seconds", seconds, 10)])]
    payload, mark = run_command(fake, "kb", command, invoker=ADMIN, permissions=ADMIN_PERMISSIONS)
    callback_of(fake, payload, mark)


def test_a_cooldown_on_a_mention_is_a_reaction_not_a_message(fake: FakeDiscord, bot: BotProcess) -> None:
    _set_cooldown(fake, 60)
    try:
        author = user(732000000000000004, "hasty")
        first, mark = _mention(fake, author, QUESTION)
        _reply_to(fake, first, mark)
        second, mark = _mention(fake, author, QUESTION)
        reaction = fake.wait_request(
            "PUT", f"/channels/{CHANNEL_ID}/messages/{second['id']}/reactions/", since=mark
        )
        assert "%E2%8F%B3" in reaction.path or "⏳" in reaction.path
        time.sleep(0.5)
        assert fake.find("POST", f"/channels/{CHANNEL_ID}/messages", mark) == []
    finally:
        _set_cooldown(fake, 0)


# -- 9. the question's length and markup ---------------------------------------------------------------


def test_the_ask_option_carries_the_length_limit(fake: FakeDiscord, bot: BotProcess) -> None:
    ask = next(c for commands in fake.commands.values() for c in commands if c["name"] == "ask")
    [question] = ask["options"]
    assert question["max_length"] == 500


def test_a_question_in_markup_is_answered_like_the_plain_one(fake: FakeDiscord, bot: BotProcess) -> None:
    message, mark = _mention(
        fake, user(732000000000000005, "styled"), f"**[{QUESTION}](https://example.com/q)**"
    )
    reply = _reply_to(fake, message, mark)
    assert QUOTED in reply["embeds"][0]["description"]


def test_an_over_long_question_gets_the_limit_in_words(fake: FakeDiscord, bot: BotProcess) -> None:
    message, mark = _mention(fake, user(732000000000000006, "verbose"), "why " * 200)
    reply = _reply_to(fake, message, mark)
    assert "keep it to 500 characters or fewer" in reply["content"]
    assert "501" not in reply["content"]


# -- 10. /kb for admins only ----------------------------------------------------------------------------


def test_kb_is_hidden_from_members_and_its_autocomplete_tells_them_nothing(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    kb = next(c for commands in fake.commands.values() for c in commands if c["name"] == "kb")
    assert str(kb["default_member_permissions"]) == str(0x20)  # Manage Server

    def documents_offered(permissions: str) -> list[dict[str, Any]]:
        focused = option("document", "", focused=True)
        data = command_data(fake, "kb", [subcommand("remove", [focused])])
        payload = interaction_payload(4, data, invoker=ADMIN, permissions=permissions)
        mark = fake.mark()
        fake.dispatch("INTERACTION_CREATE", payload)
        body = callback_of(fake, payload, mark)
        assert body["type"] == 8
        choices: list[dict[str, Any]] = body["data"]["choices"]
        return choices

    assert documents_offered(MEMBER_PERMISSIONS) == []
    assert documents_offered(ADMIN_PERMISSIONS) != []
