"""The loopback Discord API itself: exact JSON headers, the gateway handshake, a real client login."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import pytest
import yarl

from tests.discord_front.fake_discord import (
    APPLICATION_ID,
    BOT_USER,
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    interaction_payload,
    snowflake,
    snowflake_at,
    snowflake_time,
)

AUTH = {"Authorization": f"Bot {TOKEN}"}


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    server = FakeDiscord().start()
    yield server
    server.stop()


async def test_rest_answers_with_exact_json_content_type(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{fake.api_base}/users/@me", headers={"Authorization": f"Bot {TOKEN}"}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert (await resp.json())["id"] == str(BOT_USER_ID)
        async with session.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot wrong"}) as resp:
            assert resp.status == 401
    assert [(r.path, r.status) for r in fake.requests] == [("/users/@me", 200), ("/users/@me", 401)]


async def test_gateway_hello_identify_ready_guild_and_heartbeat(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        hello = json.loads(await ws.receive_str())
        assert hello["op"] == 10
        await ws.send_str(json.dumps({"op": 2, "d": {"token": TOKEN, "intents": 1}}))
        ready = json.loads(await ws.receive_str())
        guild = json.loads(await ws.receive_str())
        assert (ready["t"], guild["t"]) == ("READY", "GUILD_CREATE")
        assert guild["s"] > ready["s"]
        await ws.send_str(json.dumps({"op": 1, "d": guild["s"]}))
        assert json.loads(await ws.receive_str())["op"] == 11


async def test_a_real_discord_client_logs_in(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    client = discord.Client(intents=discord.Intents.default())
    ready = asyncio.Event()

    @client.event
    async def on_ready() -> None:
        ready.set()

    task = asyncio.create_task(client.start(TOKEN))
    try:
        await asyncio.wait_for(ready.wait(), 15)
        assert client.user is not None and client.user.id == BOT_USER_ID
        assert client.get_guild(GUILD_ID) is not None
    finally:
        await client.close()
        await task
    assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]


def test_snowflakes_carry_the_wall_clock_and_rise() -> None:
    before = time.time()
    ids = [snowflake() for _ in range(5000)]  # far more than one millisecond holds at Discord's pace
    after = time.time()
    assert ids == sorted(set(ids))
    for made in (ids[0], ids[-1]):
        assert before - 0.002 <= discord.utils.snowflake_time(made).timestamp() <= after + 0.002
        assert snowflake_time(made) == discord.utils.snowflake_time(made).timestamp()
    past = snowflake_at(before - 3.5)
    assert abs(snowflake_time(past) - (before - 3.5)) < 0.002
    assert snowflake_at(before) != snowflake_at(before)


def command(created_at: float | None = None) -> dict[str, Any]:
    return interaction_payload(
        2, {"id": "1", "name": "ask", "type": 1, "options": []}, invoker=BOT_USER, created_at=created_at
    )


def callback_url(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    return f"{fake.api_base}/interactions/{payload['id']}/{payload['token']}/callback?with_response=1"


def webhook_url(fake: FakeDiscord, payload: dict[str, Any], suffix: str = "") -> str:
    return f"{fake.api_base}/webhooks/{APPLICATION_ID}/{payload['token']}{suffix}"


async def post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with session.post(url, json=body, headers=AUTH) as resp:
        return resp.status, await resp.json(content_type=None)


DEFER = {"type": 5}
MESSAGE = {"type": 4, "data": {"content": "hi"}}


async def test_a_callback_after_three_seconds_is_an_unknown_interaction(fake: FakeDiscord) -> None:
    late = command(created_at=time.time() - 3.5)
    fake.dispatch("INTERACTION_CREATE", late)
    async with aiohttp.ClientSession() as session:
        assert await post(session, callback_url(fake, late), MESSAGE) == (
            404,
            {"message": "Unknown interaction", "code": 10062},
        )
        status, body = await post(session, webhook_url(fake, late), {"content": "too late"})
    assert (status, body["code"]) == (404, 10015)
    outcome = fake.interaction_outcome(late["id"])
    assert not outcome.acknowledged and outcome.late_callbacks == 1
    assert [r.status for r in outcome.callbacks] == [404] and [r.status for r in outcome.followups] == [404]
    assert fake.interaction_summary().late == 1


async def test_a_second_callback_is_already_acknowledged_and_followups_then_work(fake: FakeDiscord) -> None:
    payload = command()
    fake.dispatch("INTERACTION_CREATE", payload)
    async with aiohttp.ClientSession() as session:
        status, body = await post(session, callback_url(fake, payload), DEFER)
        assert status == 200 and body["interaction"]["response_message_loading"] is True
        assert await post(session, callback_url(fake, payload), MESSAGE) == (
            400,
            {"message": "Interaction has already been acknowledged.", "code": 40060},
        )
        status, body = await post(session, webhook_url(fake, payload, "?wait=true"), {"content": "answer"})
        assert status == 200 and body["content"] == "answer"
        async with session.patch(
            webhook_url(fake, payload, "/messages/@original"), json={"content": "edited"}, headers=AUTH
        ) as resp:
            assert resp.status == 200
    outcome = fake.interaction_outcome(payload["id"])
    assert outcome.callback_type == 5 and outcome.ack_delay is not None and 0 <= outcome.ack_delay < 3
    assert outcome.dispatched_at is not None and outcome.created_at <= outcome.dispatched_at
    assert [r.status for r in outcome.callbacks] == [200, 400]
    assert [r.method for r in outcome.messages] == ["POST", "PATCH"]
    summary = fake.interaction_summary()
    assert (summary.total, summary.acked_in_time, summary.deferred, summary.followed_up) == (1, 1, 1, 1)


async def test_followups_before_an_acknowledgement_are_an_unknown_webhook(fake: FakeDiscord) -> None:
    payload = command()
    fake.dispatch("INTERACTION_CREATE", payload)
    unknown = {"message": "Unknown Webhook", "code": 10015}
    async with aiohttp.ClientSession() as session:
        assert await post(session, webhook_url(fake, payload), {"content": "early"}) == (404, unknown)
        async with session.patch(
            webhook_url(fake, payload, "/messages/@original"), json={"content": "early"}, headers=AUTH
        ) as resp:
            assert (resp.status, await resp.json()) == (404, unknown)
        never_dispatched = command()
        assert await post(session, webhook_url(fake, never_dispatched), {"content": "?"}) == (404, unknown)
    assert fake.interaction_summary([payload["id"]]).pending == 1


async def test_a_route_429_looks_like_discords_and_then_passes(fake: FakeDiscord) -> None:
    fake.rate_limit_next("POST", "/channels/*/messages", retry_after=0.5)
    url = f"{fake.api_base}/channels/{CHANNEL_ID}/messages"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base}/users/@me", headers=AUTH) as resp:
            assert resp.status == 200  # another route is not limited
        async with session.post(url, json={"content": "a"}, headers=AUTH) as resp:
            assert resp.status == 429
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers["Via"] == "1.1 google"  # without it discord.py assumes a ban
            assert resp.headers["Retry-After"] == "1"
            assert resp.headers["X-RateLimit-Scope"] == "user"
            assert "X-RateLimit-Global" not in resp.headers
            assert await resp.json() == {
                "message": "You are being rate limited.",
                "retry_after": 0.5,
                "global": False,
            }
        assert (await post(session, url, {"content": "b"}))[0] == 200
    assert [r.status for r in fake.find("POST", "/channels/")] == [429, 200]


async def test_a_rate_limited_callback_acknowledges_nothing(fake: FakeDiscord) -> None:
    payload = command()
    fake.rate_limit_next("POST", "/interactions/", retry_after=0.1)
    async with aiohttp.ClientSession() as session:
        assert (await post(session, callback_url(fake, payload), MESSAGE))[0] == 429
        assert (await post(session, webhook_url(fake, payload), {"content": "x"}))[0] == 404
        assert (await post(session, callback_url(fake, payload), MESSAGE))[0] == 200
    assert [r.status for r in fake.interaction_outcome(payload["id"]).callbacks] == [429, 200]


async def test_a_global_429_covers_every_route_for_its_window(fake: FakeDiscord) -> None:
    fake.rate_limit_globally(0.5)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base}/users/@me", headers=AUTH) as resp:
            assert resp.status == 429
            assert resp.headers["X-RateLimit-Global"] == "true"
            assert resp.headers["X-RateLimit-Scope"] == "global"
            assert resp.headers["Via"] == "1.1 google"
            body = await resp.json()
            assert body["global"] is True and 0 < body["retry_after"] <= 0.5
        payload = command()
        assert (await post(session, callback_url(fake, payload), DEFER))[0] == 429
        await asyncio.sleep(0.6)
        assert (await post(session, callback_url(fake, payload), DEFER))[0] == 200
        fake.rate_limit_globally(5, interactions=False)  # as real Discord: interactions are exempt
        assert (await post(session, callback_url(fake, command()), DEFER))[0] == 200
        assert (await post(session, f"{fake.api_base}/channels/{CHANNEL_ID}/messages", {}))[0] == 429
        fake.clear_faults()
        assert (await post(session, f"{fake.api_base}/channels/{CHANNEL_ID}/messages", {}))[0] == 200


async def test_server_errors_then_success(fake: FakeDiscord) -> None:
    payload = command()
    fake.fail_next("POST", "/interactions/", times=2)
    fake.fail_next("POST", "/webhooks/", status=500, json_body=True)
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.post(callback_url(fake, payload), json=MESSAGE, headers=AUTH) as resp:
                assert resp.status == 503 and resp.headers["Content-Type"] == "text/plain"
        assert (await post(session, callback_url(fake, payload), MESSAGE))[0] == 200
        assert await post(session, webhook_url(fake, payload), {"content": "x"}) == (
            500,
            {"message": "500: Server error (fake)", "code": 0},
        )
        assert (await post(session, webhook_url(fake, payload), {"content": "x"}))[0] == 200
    outcome = fake.interaction_outcome(payload["id"])
    assert [r.status for r in outcome.callbacks] == [503, 503, 200]
    assert [r.status for r in outcome.followups] == [500, 200]


async def test_latency_slows_only_the_matching_requests(fake: FakeDiscord) -> None:
    fake.slow_down("GET", "/users/@me", 0.3, times=1)
    async with aiohttp.ClientSession() as session:
        timings = []
        for _ in range(2):
            start = time.monotonic()
            async with session.get(f"{fake.api_base}/users/@me", headers=AUTH) as resp:
                assert resp.status == 200
            timings.append(time.monotonic() - start)
    assert timings[0] >= 0.3 > timings[1]


async def test_a_real_discord_http_client_retries_a_429_and_a_500(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake's faults are ones discord.py handles as it would Discord's."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(TOKEN)
        mark = fake.mark()
        fake.rate_limit_next("GET", "/users/@me", retry_after=0.2)
        fake.fail_next("GET", "/users/@me", status=500, json_body=True)
        assert (await http.request(discord.http.Route("GET", "/users/@me")))["id"] == str(BOT_USER_ID)
    finally:
        await http.close()
    assert [r.status for r in fake.find("GET", "/users/@me", since=mark)] == [429, 500, 200]


async def test_dispatch_many_paces_events_and_mints_ids_when_sent(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        await ws.receive_str()
        await ws.send_str(json.dumps({"op": 2, "d": {"token": TOKEN, "intents": 1}}))
        for _ in range(2):  # READY, GUILD_CREATE
            await ws.receive_str()
        await asyncio.to_thread(fake.wait_ready)
        burst = fake.dispatch_many(
            "INTERACTION_CREATE", lambda i: command(), 100, rate_per_second=200, wait=False
        )
        received = [json.loads(await ws.receive_str()) for _ in range(100)]
        payloads = await asyncio.to_thread(burst.wait, 10)
    assert [e["d"]["id"] for e in received] == [p["id"] for p in payloads]
    assert [e["t"] for e in received] == ["INTERACTION_CREATE"] * 100
    assert 0.4 <= burst.sent_at[-1] - burst.sent_at[0] < 5
    created = [snowflake_time(p["id"]) for p in payloads]
    assert created == sorted(created) and created[-1] - created[0] >= 0.4
    summary = fake.interaction_summary()
    assert summary.total == 100 and summary.acked_in_time == 0


def test_interactions_settle_once_their_deadline_passes(fake: FakeDiscord) -> None:
    ignored = command(created_at=time.time() - 2.8)
    fake.dispatch("INTERACTION_CREATE", ignored)
    assert fake.interaction_summary().pending == 1
    start = time.monotonic()
    summary = fake.wait_interactions_settled(timeout=5)
    assert time.monotonic() - start < 1.5
    assert (summary.total, summary.never, summary.pending) == (1, 1, 0)
