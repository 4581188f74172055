"""The loopback Discord API itself: exact JSON headers, the gateway handshake, a real client login."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import aiohttp
import discord
import pytest
import yarl

from tests.discord_front.fake_discord import BOT_USER_ID, GUILD_ID, TOKEN, FakeDiscord


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
    assert [r.path for r in fake.requests] == ["/users/@me", "/users/@me"]


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
