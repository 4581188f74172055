"""A loopback Discord API for end-to-end tests: REST routes and the Gateway websocket on 127.0.0.1.

It serves what the real discord.py client needs to log in, register commands, receive events and
answer interactions, and records every HTTP request the bot makes so tests can assert on them.
The server runs in its own thread with its own event loop, so tests (sync or async) and a bot in a
subprocess can share one instance.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

APPLICATION_ID = 700000000000000001
BOT_USER_ID = 700000000000000001
GUILD_ID = 710000000000000001
CHANNEL_ID = 720000000000000001
ANSWER_CHANNEL_ID = 720000000000000002
DM_CHANNEL_ID = 720000000000000099
ROLE_ID = 740000000000000001  # a role the guild has, without permissions
TOKEN = "fake-token-ABC.123.xyz"
ALL_PERMISSIONS = str((1 << 50) - 1)
MEMBER_PERMISSIONS = str(0x400 | 0x800 | 0x10000 | 0x80000000)  # view, send, read history, use app commands
ADMIN_PERMISSIONS = str(int(MEMBER_PERMISSIONS) | 0x20)  # + manage guild
TIMESTAMP = "2026-01-01T00:00:00.000000+00:00"

_snowflakes = itertools.count(800000000000000001)


def snowflake() -> int:
    """A fresh, rising snowflake id."""
    return next(_snowflakes)


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user(BOT_USER_ID, "citebot", bot=True)


@dataclass(frozen=True)
class Recorded:
    """One HTTP request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, the JSON part of a multipart body, or None
    at: float = field(default_factory=time.monotonic)


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py parses JSON only then (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


class FakeDiscord:
    """The loopback Discord API; ``start()`` it, point the bot at ``api_base`` and ``gateway_url``."""

    def __init__(
        self, *, token: str = TOKEN, guild_channels: tuple[int, ...] = (CHANNEL_ID, ANSWER_CHANNEL_ID)
    ) -> None:
        self.token = token
        self.guild_channels = guild_channels
        self.requests: list[Recorded] = []
        self.gateway_frames: list[dict[str, Any]] = []  # what clients sent on the gateway
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.files: dict[str, bytes] = {}
        self.identify_count = 0
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """Environment variables pointing citebot at this server."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    def start(self) -> FakeDiscord:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._start_site())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_site())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-discord", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Discord did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _start_site(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _stop_site(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- recording -------------------------------------------------------------------------------
    def _record(self, item: Recorded) -> None:
        with self._cond:
            self.requests.append(item)
            self._cond.notify_all()

    def find(self, method: str, path_start: str, since: int = 0) -> list[Recorded]:
        """Recorded requests with this method whose path starts with ``path_start``."""
        with self._cond:
            return [r for r in self.requests[since:] if r.method == method and r.path.startswith(path_start)]

    def wait_for(
        self, predicate: Callable[[Recorded], bool], *, since: int = 0, timeout: float = 15.0
    ) -> Recorded:
        """The first recorded request (from index ``since``) matching ``predicate``; waits for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for item in self.requests[since:]:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [f"{r.method} {r.path}" for r in self.requests[since:]]
                    raise TimeoutError(f"no matching request; seen since {since}: {seen}")
                self._cond.wait(remaining)

    def wait_request(
        self, method: str, path_start: str, *, since: int = 0, timeout: float = 15.0
    ) -> Recorded:
        """The first request with this method and path prefix; waits for it."""
        return self.wait_for(
            lambda r: r.method == method and r.path.startswith(path_start), since=since, timeout=timeout
        )

    def mark(self) -> int:
        """An index to pass as ``since``: only requests after now."""
        with self._cond:
            return len(self.requests)

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until a client has identified and received READY."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._sockets:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no client identified")
                self._cond.wait(remaining)

    # -- REST ------------------------------------------------------------------------------------
    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, headers={"Content-Type": "application/octet-stream"})

    async def _body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if getattr(part, "name", None) == "payload_json":
                    return json.loads(await part.text())  # type: ignore[union-attr]
            return None
        raw = await request.read()
        return json.loads(raw) if raw else None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await self._body(request)
        self._record(Recorded(request.method, path, dict(request.query), dict(request.headers), body))
        if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        parts = path.strip("/").split("/")
        method = request.method
        if path == "/users/@me" and method == "GET":
            return _json(BOT_USER)
        if path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": str(APPLICATION_ID),
                    "name": "citebot",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user(1, "owner"),
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "team": None,
                    "summary": "",
                }
            )
        if path == "/gateway/bot":
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if parts[0] == "applications" and parts[-1] == "commands":
            guild = int(parts[3]) if len(parts) == 5 else None
            if method == "PUT":
                echoed = [
                    {
                        **c,
                        "id": str(snowflake()),
                        "application_id": str(APPLICATION_ID),
                        "version": "1",
                        "description": c.get("description", ""),
                        **({"guild_id": str(guild)} if guild else {}),
                    }
                    for c in body
                ]
                self.commands[guild] = echoed
                return _json(echoed)
            return _json(self.commands.get(guild, []))
        if parts[0] == "interactions" and parts[-1] == "callback":
            kind = body.get("type", 4)
            message = self._message(body.get("data") or {}, webhook=True) if kind in (4, 7) else None
            interaction = {
                "id": parts[1],
                "type": 2,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64),
            }
            resource: dict[str, Any] = {"type": kind}
            if message:
                resource["message"] = message
            return _json({"interaction": interaction, "resource": resource})
        if parts[0] == "webhooks":
            if method == "DELETE":
                return web.Response(status=204)
            return _json(self._message(body or {}, webhook=True))
        if parts[0] == "channels" and parts[-1] == "typing":
            return web.Response(status=204)
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            return _json(self._message(body or {}, channel_id=int(parts[1])))
        if path == "/users/@me/channels" and method == "POST":
            return _json(
                {"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [user(int(body["recipient_id"]), "u")]}
            )
        return _json({"message": "404: Not Found (fake)", "code": 0}, 404)

    def _message(
        self, data: dict[str, Any], *, channel_id: int = CHANNEL_ID, webhook: bool = False
    ) -> dict[str, Any]:
        return message_payload(
            data.get("content") or "",
            author=BOT_USER,
            channel_id=channel_id,
            embeds=data.get("embeds") or [],
            components=data.get("components") or [],
            flags=data.get("flags", 0),
            webhook_id=APPLICATION_ID if webhook else None,
        )

    # -- Gateway ---------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 1000}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                with self._cond:
                    self.gateway_frames.append(frame)
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif op == 2:
                    await self._identify(ws, frame["d"])
                elif op == 6:
                    await self._send(ws, "RESUMED", {})
        finally:
            with self._cond:
                if ws in self._sockets:
                    self._sockets.remove(ws)
        return ws

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") not in (self.token, f"Bot {self.token}"):
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        shard = data.get("shard") or [0, 1]
        await self._send(
            ws,
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "session_id": f"session-{self.identify_count}",
                "resume_gateway_url": self.gateway_url,
                "shard": shard,
                "private_channels": [],
                "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                "application": {"id": str(APPLICATION_ID), "flags": 0},
            },
        )
        await self._send(ws, "GUILD_CREATE", self.guild_payload())
        with self._cond:
            self._sockets.append(ws)
            self._cond.notify_all()

    def guild_payload(self) -> dict[str, Any]:
        channels = [
            {
                "id": str(c),
                "type": 0,
                "name": f"channel-{n}",
                "position": n,
                "guild_id": str(GUILD_ID),
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
            }
            for n, c in enumerate(self.guild_channels)
        ]
        everyone = {
            "id": str(GUILD_ID),
            "name": "@everyone",
            "permissions": MEMBER_PERMISSIONS,
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        role = {**everyone, "id": str(ROLE_ID), "name": "kb admins", "permissions": "0", "position": 1}
        bot_member = {
            "user": BOT_USER,
            "roles": [],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        return {
            "id": str(GUILD_ID),
            "name": "Test guild",
            "icon": None,
            "owner_id": "1",
            "unavailable": False,
            "member_count": 1,
            "members": [bot_member],
            "channels": channels,
            "threads": [],
            "roles": [everyone, role],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "large": False,
            "joined_at": TIMESTAMP,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected client (thread-safe)."""
        assert self._loop is not None

        async def send_all() -> None:
            for ws in list(self._sockets):
                await self._send(ws, event, data)

        asyncio.run_coroutine_threadsafe(send_all(), self._loop).result(10)

    def close_sockets(self) -> None:
        """Drop every gateway connection (thread-safe)."""
        assert self._loop is not None

        async def close_all() -> None:
            for ws in list(self._sockets):
                await ws.close()

        asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(10)


# -- payload builders ---------------------------------------------------------------------------


def message_payload(
    content: str,
    *,
    author: dict[str, Any],
    channel_id: int = CHANNEL_ID,
    guild_id: int | None = GUILD_ID,
    mentions: list[dict[str, Any]] | None = None,
    reference: dict[str, Any] | None = None,
    embeds: list[Any] | None = None,
    components: list[Any] | None = None,
    flags: int = 0,
    webhook_id: int | None = None,
) -> dict[str, Any]:
    """A message object, as MESSAGE_CREATE or a REST response carries it."""
    data: dict[str, Any] = {
        "id": str(snowflake()),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": TIMESTAMP,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds or [],
        "components": components or [],
        "pinned": False,
        "type": 19 if reference else 0,
        "flags": flags,
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        if not author.get("bot"):
            data["member"] = {"roles": [], "joined_at": TIMESTAMP, "deaf": False, "mute": False, "flags": 0}
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    if reference is not None:
        data["message_reference"] = {
            "message_id": reference["id"],
            "channel_id": reference["channel_id"],
            "guild_id": reference.get("guild_id"),
            "type": 0,
        }
        data["referenced_message"] = reference
    return data


def _member(member_user: dict[str, Any], permissions: str, roles: list[int] | None = None) -> dict[str, Any]:
    return {
        "user": member_user,
        "roles": [str(r) for r in roles or []],
        "permissions": permissions,
        "joined_at": TIMESTAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
    }


def interaction_payload(
    kind: int,
    data: dict[str, Any],
    *,
    invoker: dict[str, Any],
    permissions: str = MEMBER_PERMISSIONS,
    roles: list[int] | None = None,
    channel_id: int = CHANNEL_ID,
    guild_id: int | None = GUILD_ID,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload; ``kind`` 2 command, 3 component, 4 autocomplete."""
    payload: dict[str, Any] = {
        "id": str(snowflake()),
        "application_id": str(APPLICATION_ID),
        "type": kind,
        "token": f"itoken-{snowflake()}",
        "version": 1,
        "data": data,
        "channel_id": str(channel_id),
        "locale": "en-US",
        "app_permissions": ALL_PERMISSIONS,
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {"1": invoker["id"]},
        "context": 0 if guild_id else 1,
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
        payload["guild_locale"] = "en-US"
        payload["member"] = _member(invoker, permissions, roles)
        payload["channel"] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "permissions": permissions,
        }
    else:
        payload["user"] = invoker
        payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [invoker]}
    if message is not None:
        payload["message"] = message
    return payload


def command_data(
    fake: FakeDiscord,
    name: str,
    options: list[dict[str, Any]] | None = None,
    *,
    command_type: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    """The ``data`` of a command interaction, with the id and guild the fake registered it under."""
    for guild, commands in fake.commands.items():
        for command in commands:
            if command["name"] == name and command.get("type", 1) == command_type:
                data = {
                    "id": command["id"],
                    "name": name,
                    "type": command_type,
                    "options": options or [],
                    **extra,
                }
                if guild is not None:
                    data["guild_id"] = str(guild)
                return data
    raise LookupError(f"command {name!r} was not registered")


def option(name: str, value: Any, kind: int = 3, *, focused: bool = False) -> dict[str, Any]:
    """A command option; ``kind`` 3 string, 4 integer, 5 boolean, 7 channel, 11 attachment."""
    item: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        item["focused"] = True
    return item


def subcommand(
    name: str, options: list[dict[str, Any]] | None = None, *, group: bool = False
) -> dict[str, Any]:
    """A subcommand (type 1) or subcommand group (type 2) option."""
    return {"name": name, "type": 2 if group else 1, "options": options or []}
