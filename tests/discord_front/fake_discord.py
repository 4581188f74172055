"""A loopback Discord API for end-to-end tests: REST routes and the Gateway websocket on 127.0.0.1.

It serves what the real discord.py client needs to log in, register commands, receive events and
answer interactions, and records every HTTP request the bot makes so tests can assert on them.
The server runs in its own thread with its own event loop, so tests (sync or async) and a bot in a
subprocess can share one instance.

Like Discord, ids are time-based snowflakes and an interaction must be acknowledged within 3 s of
its creation (``interaction_outcome``, ``interaction_summary``). Tests can inject 429s, server
errors and latency (``rate_limit_next``, ``rate_limit_globally``, ``fail_next``, ``slow_down``) and
send bursts of events paced on the server's loop (``dispatch_many``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
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

DISCORD_EPOCH_MS = 1420070400000
INTERACTION_DEADLINE = 3.0  # seconds Discord gives to acknowledge an interaction
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token takes followups after its acknowledgement

_snowflake_lock = threading.Lock()
_last_snowflake = 0
_increment = 0


def _next_increment() -> int:
    global _increment
    _increment = (_increment + 1) & ((1 << 22) - 1)
    return _increment


def snowflake_at(when: float) -> int:
    """A fresh snowflake id whose embedded time is ``when`` (Unix seconds), e.g. one in the past."""
    with _snowflake_lock:
        return ((int(when * 1000) - DISCORD_EPOCH_MS) << 22) | _next_increment()


def snowflake() -> int:
    """A fresh snowflake id carrying the current wall-clock time, like Discord's; strictly rising."""
    global _last_snowflake
    with _snowflake_lock:
        now = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | _next_increment()
        # The increment wraps and the wall clock may step back: never hand out a smaller id.
        _last_snowflake = max(now, _last_snowflake + 1)
        return _last_snowflake


def snowflake_time(snowflake_id: int | str) -> float:
    """The Unix time (seconds) a snowflake id was minted at, as ``discord.utils.snowflake_time``."""
    return ((int(snowflake_id) >> 22) + DISCORD_EPOCH_MS) / 1000


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
class Upload:
    """A file the bot attached to a request (a multipart part with a file name)."""

    field: str  # "files[0]", ...
    filename: str
    data: bytes


@dataclass(frozen=True)
class Recorded:
    """One HTTP request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, the JSON part of a multipart body, or None
    at: float = field(default_factory=time.monotonic)  # when it arrived (monotonic clock)
    status: int = 0  # the HTTP status the fake answered; 0 for a request built outside the fake
    files: tuple[Upload, ...] = ()  # the attachments of a multipart request


@dataclass(frozen=True)
class InteractionOutcome:
    """What became of one interaction, as Discord would see it.

    Its times are Unix seconds, to compare with snowflakes; ``Recorded.at`` stays monotonic.
    """

    id: int
    token: str | None  # None until the fake dispatched it or saw its callback
    created_at: float  # from the id's snowflake
    dispatched_at: float | None  # when the fake sent INTERACTION_CREATE, if it did
    acked_at: float | None  # the first callback Discord accepted
    callback_type: int | None  # 4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete...
    late_callbacks: int  # callbacks refused with 10062 (after the deadline)
    callbacks: tuple[Recorded, ...]  # every callback attempt, each with the status it got
    followups: tuple[Recorded, ...]  # every webhook request with the token, each with its status

    @property
    def acknowledged(self) -> bool:
        """Acknowledged within the deadline (Discord accepts no other acknowledgement)."""
        return self.acked_at is not None

    @property
    def ack_delay(self) -> float | None:
        """Seconds from creation to acknowledgement."""
        return None if self.acked_at is None else self.acked_at - self.created_at

    @property
    def messages(self) -> tuple[Recorded, ...]:
        """The followups and edits Discord accepted."""
        return tuple(r for r in self.followups if 200 <= r.status < 300)


@dataclass(frozen=True)
class InteractionSummary:
    """Counts over interactions; ``pending`` ones may still be acknowledged in time."""

    total: int
    acked_in_time: int
    late: int  # a callback came after the deadline and none was accepted
    never: int  # the deadline passed without any callback accepted or arriving late
    pending: int  # unacknowledged and still inside the deadline
    deferred: int  # acknowledged with type 5 or 6
    followed_up: int  # acknowledged and at least one followup or edit accepted


@dataclass
class _Interaction:
    id: int
    token: str | None
    created_at: float
    dispatched_at: float | None = None
    acked_at: float | None = None
    callback_type: int | None = None
    late_callbacks: int = 0
    callbacks: list[Recorded] = field(default_factory=list)
    followups: list[Recorded] = field(default_factory=list)

    def outcome(self) -> InteractionOutcome:
        return InteractionOutcome(
            self.id,
            self.token,
            self.created_at,
            self.dispatched_at,
            self.acked_at,
            self.callback_type,
            self.late_callbacks,
            tuple(self.callbacks),
            tuple(self.followups),
        )


@dataclass
class _Fault:
    method: str | None  # None: any method
    pattern: re.Pattern[str]
    remaining: int | None  # None: until cleared
    status: int = 0  # 0: no failure, only the latency
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.pattern.match(path) is not None


def _path_pattern(path_prefix: str) -> re.Pattern[str]:
    # "*" stands for one path segment, so "/channels/*/messages" covers every channel.
    return re.compile(
        "/".join("[^/]+" if part == "*" else re.escape(part) for part in path_prefix.split("/"))
    )


def _rate_limit_headers(
    retry_after: float, *, is_global: bool, scope: str, bucket: str = ""
) -> dict[str, str]:
    # discord.py takes a 429 without "Via" for a Cloudflare ban and raises instead of retrying.
    headers = {
        "Content-Type": "application/json",  # a text 429 is a ban to discord.py too
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Scope": scope,
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(
            {
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                # discord.py files routes under this hash: one per fault, not one shared by all routes.
                "X-RateLimit-Bucket": bucket,
            }
        )
    return headers


def _rate_limit_body(retry_after: float, *, is_global: bool) -> bytes:
    return json.dumps(
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    ).encode()


class Burst:
    """Events being sent by ``FakeDiscord.dispatch_many``; a handle for the test thread."""

    def __init__(self, future: Future[None], payloads: list[dict[str, Any]], sent_at: list[float]) -> None:
        self._future = future
        self.payloads = payloads  # filled as they are sent, in order
        self.sent_at = sent_at  # time.monotonic() of each send

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Wait until every event was sent; the payloads sent."""
        self._future.result(timeout)
        return self.payloads

    @property
    def done(self) -> bool:
        """Whether every event was sent (or sending failed)."""
        return self._future.done()


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py parses JSON only then (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _raw(body: bytes, status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(body=body, status=status, headers=headers)


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status)


class FakeDiscord:
    """The loopback Discord API; ``start()`` it, point the bot at ``api_base`` and ``gateway_url``."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        guild_channels: tuple[int, ...] = (CHANNEL_ID, ANSWER_CHANNEL_ID),
        interaction_deadline: float = INTERACTION_DEADLINE,
        token_lifetime: float = TOKEN_LIFETIME,
    ) -> None:
        self.token = token
        self.guild_channels = guild_channels
        self.interaction_deadline = interaction_deadline
        self.token_lifetime = token_lifetime
        # All below are guarded by _cond.
        self._interactions: dict[int, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._faults: list[_Fault] = []
        self._global_limit_until = 0.0  # time.monotonic()
        self._global_limit_retry_after: float | None = None
        self._global_limit_interactions = True
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
        self.port = self._runner.addresses[0][1]

    async def _stop_site(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- recording -------------------------------------------------------------------------------
    def _record(
        self, item: Recorded, interaction: _Interaction | None = None, *, callback: bool = False
    ) -> None:
        with self._cond:
            self.requests.append(item)
            if interaction is not None:
                (interaction.callbacks if callback else interaction.followups).append(item)
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
        scanned = since
        with self._cond:
            while True:
                # Only the requests recorded since the last look: a burst must not cost O(n) per request.
                for item in self.requests[scanned:]:
                    if predicate(item):
                        return item
                scanned = max(scanned, len(self.requests))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [f"{r.method} {r.path} {r.status}" for r in self.requests[since:]]
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

    # -- interactions ----------------------------------------------------------------------------
    def _interaction(self, interaction_id: int, token: str | None) -> _Interaction:
        # Called with _cond held.
        known = self._interactions.get(interaction_id)
        if known is None:
            known = _Interaction(interaction_id, token, snowflake_time(interaction_id))
            self._interactions[interaction_id] = known
        if token is not None and known.token is None:
            known.token = token
        if known.token is not None:
            self._by_token.setdefault(known.token, known)
        return known

    def _register_dispatched(self, payload: dict[str, Any]) -> None:
        with self._cond:
            self._interaction(int(payload["id"]), payload.get("token")).dispatched_at = time.time()

    def interaction_outcome(self, interaction_id: int | str) -> InteractionOutcome:
        """What became of one interaction (dispatched by the fake or seen in a callback)."""
        with self._cond:
            return self._interactions[int(interaction_id)].outcome()

    def interaction_outcomes(self, ids: Iterable[int | str] | None = None) -> list[InteractionOutcome]:
        """Outcomes of these interactions (default: every one known), oldest first."""
        with self._cond:
            chosen = self._interactions.values() if ids is None else [self._interactions[int(i)] for i in ids]
            return sorted((i.outcome() for i in chosen), key=lambda o: o.id)

    def interaction_summary(self, ids: Iterable[int | str] | None = None) -> InteractionSummary:
        """Counts of acknowledged-in-time, late, never and still pending interactions."""
        outcomes = self.interaction_outcomes(ids)
        now = time.time()
        acked = [o for o in outcomes if o.acknowledged]
        late = sum(1 for o in outcomes if not o.acknowledged and o.late_callbacks)
        pending = sum(
            1
            for o in outcomes
            if not o.acknowledged and not o.late_callbacks and now <= o.created_at + self.interaction_deadline
        )
        return InteractionSummary(
            total=len(outcomes),
            acked_in_time=len(acked),
            late=late,
            never=len(outcomes) - len(acked) - late - pending,
            pending=pending,
            deferred=sum(1 for o in acked if o.callback_type in (5, 6)),
            followed_up=sum(1 for o in acked if o.messages),
        )

    def wait_interactions_settled(
        self, ids: Iterable[int | str] | None = None, *, timeout: float = 30.0
    ) -> InteractionSummary:
        """Wait until none of these interactions is pending (acknowledged or past its deadline)."""
        chosen = None if ids is None else [int(i) for i in ids]
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                # A cheap look only: the server thread needs this lock for every request, and a
                # full summary of a burst while holding it would make the fake itself the bottleneck.
                records = (
                    list(self._interactions.values())
                    if chosen is None
                    else [self._interactions[i] for i in chosen]
                )
                now = time.time()
                waiting = [
                    r.created_at + self.interaction_deadline - now
                    for r in records
                    if r.acked_at is None and not r.late_callbacks
                ]
                waiting = [w for w in waiting if w >= 0]
                remaining = deadline - time.monotonic()
                if not waiting:
                    break
                if remaining <= 0:
                    raise TimeoutError(f"{len(waiting)} interactions still pending")
                self._cond.wait(min(remaining, max(waiting) + 0.01, 0.5))
        return self.interaction_summary(chosen)

    # -- faults ----------------------------------------------------------------------------------
    def _add_fault(self, fault: _Fault) -> None:
        with self._cond:
            self._faults.append(fault)

    def fail_next(
        self,
        method: str | None,
        path_prefix: str,
        *,
        times: int = 1,
        status: int = 503,
        json_body: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with a server error, then behave normally.

        ``path_prefix`` is without /api/v10; ``*`` stands for one path segment. The body is Discord's
        JSON error with ``json_body``, else the plain text its proxy sends.
        """
        if json_body:
            body = json.dumps({"message": f"{status}: Server error (fake)", "code": 0}).encode()
            headers = {"Content-Type": "application/json"}
        else:
            body = b"upstream connect error or disconnect/reset before headers. reset reason: overflow"
            headers = {"Content-Type": "text/plain"}
        self._add_fault(_Fault(method, _path_pattern(path_prefix), times, status, body, headers))

    def rate_limit_next(
        self,
        method: str | None,
        path_prefix: str,
        *,
        times: int = 1,
        retry_after: float = 1.0,
        is_global: bool = False,
        scope: str = "user",
    ) -> None:
        """Answer the next ``times`` matching requests with a 429 as Discord's, then behave normally."""
        self._add_fault(
            _Fault(
                method,
                _path_pattern(path_prefix),
                times,
                429,
                _rate_limit_body(retry_after, is_global=is_global),
                _rate_limit_headers(
                    retry_after,
                    is_global=is_global,
                    scope="global" if is_global else scope,
                    bucket=hashlib.sha1(f"{method} {path_prefix}".encode()).hexdigest()[:32],
                ),
            )
        )

    def rate_limit_globally(
        self, seconds: float, *, retry_after: float | None = None, interactions: bool = True
    ) -> None:
        """Answer every request with a global 429 for ``seconds`` from now.

        ``retry_after`` defaults to what is left of the window. Real Discord exempts interaction
        callbacks and their webhooks from the global limit: pass ``interactions=False`` for that.
        """
        with self._cond:
            self._global_limit_until = time.monotonic() + seconds
            self._global_limit_retry_after = retry_after
            self._global_limit_interactions = interactions

    def slow_down(
        self, method: str | None, path_prefix: str, seconds: float, *, times: int | None = None
    ) -> None:
        """Delay the answer to matching requests by ``seconds`` (the next ``times``, or until cleared)."""
        self._add_fault(_Fault(method, _path_pattern(path_prefix), times, latency=seconds))

    def clear_faults(self) -> None:
        """Forget every pending fault, latency and global rate limit."""
        with self._cond:
            self._faults.clear()
            self._global_limit_until = 0.0

    def _take_faults(self, method: str, path: str) -> tuple[web.Response | None, float]:
        """The failure to answer with (if any) and the latency to add, spending one of each."""
        failure: web.Response | None = None
        latency = 0.0
        is_interaction = path.startswith(("/interactions/", "/webhooks/"))
        with self._cond:
            left = self._global_limit_until - time.monotonic()
            if left > 0 and (self._global_limit_interactions or not is_interaction):
                retry_after = self._global_limit_retry_after or round(left, 3)
                headers = _rate_limit_headers(retry_after, is_global=True, scope="global")
                failure = _raw(_rate_limit_body(retry_after, is_global=True), 429, headers)
            delayed = False
            spent = False
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                if fault.status:
                    if failure is not None:
                        continue  # the next matching request gets it
                    failure = _raw(fault.body, fault.status, fault.headers)
                else:
                    if delayed:
                        continue
                    latency, delayed = fault.latency, True
                if fault.remaining is not None:
                    fault.remaining -= 1
                    spent = spent or fault.remaining <= 0
            if spent:
                self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return failure, latency

    # -- REST ------------------------------------------------------------------------------------
    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, headers={"Content-Type": "application/octet-stream"})

    async def _body(self, request: web.Request) -> tuple[Any, tuple[Upload, ...]]:
        if not request.can_read_body:
            return None, ()
        if request.content_type == "multipart/form-data":
            body, files = None, []
            reader = await request.multipart()
            async for part in reader:
                name = getattr(part, "name", None)
                if name == "payload_json":
                    body = json.loads(await part.text())  # type: ignore[union-attr]
                elif name is not None and getattr(part, "filename", None):
                    data = bytes(await part.read())  # type: ignore[union-attr]
                    files.append(Upload(name, part.filename or "", data))  # type: ignore[union-attr]
            return body, tuple(files)
        raw = await request.read()
        return (json.loads(raw) if raw else None), ()

    async def _rest(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        path = "/" + request.match_info["path"]
        method = request.method
        body, files = await self._body(request)
        parts = path.strip("/").split("/")
        interaction: _Interaction | None = None
        is_callback = parts[0] == "interactions" and parts[-1] == "callback" and len(parts) == 4
        if is_callback and parts[1].isdigit():
            with self._cond:
                interaction = self._interaction(int(parts[1]), parts[2])
        elif parts[0] == "webhooks" and len(parts) >= 3:
            with self._cond:
                interaction = self._by_token.get(parts[2])
        if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
            response = _error(401, "401: Unauthorized", 0)
        else:
            failure, latency = self._take_faults(method, path)
            if latency:
                await asyncio.sleep(latency)
            # A failed request changes nothing: a 429'd or 5xx'd callback acknowledges nothing.
            if failure is not None:
                response = failure
            elif is_callback:
                response = self._callback(interaction, parts[1], body or {})
            elif parts[0] == "webhooks":
                response = self._webhook(interaction, method, body)
            else:
                response = self._route(method, path, parts, body)
        self._record(
            Recorded(
                method,
                path,
                dict(request.query),
                dict(request.headers),
                body,
                arrived,
                response.status,
                files,
            ),
            interaction,
            callback=is_callback,
        )
        return response

    def _callback(
        self, interaction: _Interaction | None, interaction_id: str, body: dict[str, Any]
    ) -> web.Response:
        now = time.time()
        kind = body.get("type", 4)
        with self._cond:
            if interaction is None:
                return _error(404, "Unknown interaction", 10062)
            if interaction.acked_at is not None:
                return _error(400, "Interaction has already been acknowledged.", 40060)
            if now > interaction.created_at + self.interaction_deadline:
                interaction.late_callbacks += 1
                return _error(404, "Unknown interaction", 10062)
            interaction.acked_at = now
            interaction.callback_type = kind
        message = self._message(body.get("data") or {}, webhook=True) if kind in (4, 7) else None
        answer = {
            "id": interaction_id,
            "type": 2,
            "response_message_id": message["id"] if message else None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64),
        }
        resource: dict[str, Any] = {"type": kind}
        if message:
            resource["message"] = message
        return _json({"interaction": answer, "resource": resource})

    def _webhook(self, interaction: _Interaction | None, method: str, body: Any) -> web.Response:
        # The only webhooks the bot uses are interaction tokens: alive once acknowledged, for a while.
        with self._cond:
            acked_at = None if interaction is None else interaction.acked_at
        if acked_at is None or time.time() > acked_at + self.token_lifetime:
            return _error(404, "Unknown Webhook", 10015)
        if method == "DELETE":
            return web.Response(status=204)
        return _json(self._message(body or {}, webhook=True))

    def _route(self, method: str, path: str, parts: list[str], body: Any) -> web.Response:
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
        if parts[0] == "channels" and "reactions" in parts and method == "PUT":
            return web.Response(status=204)
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
        channels: list[dict[str, Any]] = [
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
        if event == "INTERACTION_CREATE":
            self._register_dispatched(data)

        async def send_all() -> None:
            for ws in list(self._sockets):
                await self._send(ws, event, data)

        asyncio.run_coroutine_threadsafe(send_all(), self._loop).result(10)

    def dispatch_many(
        self,
        event: str,
        make_payload: Callable[[int], dict[str, Any]],
        count: int,
        *,
        rate_per_second: float,
        wait: bool = True,
    ) -> Burst:
        """Send ``count`` events at ``rate_per_second``, paced on the fake's own loop (thread-safe).

        ``make_payload(i)`` builds event ``i`` on the fake's thread just before it is sent, so an
        interaction id minted there (``interaction_payload``) carries its real sending time. It must
        be quick and touch nothing the test thread changes meanwhile. A sender that falls behind
        sends at once, to keep the average rate. ``wait=False`` returns while events are still going.
        """
        assert self._loop is not None
        payloads: list[dict[str, Any]] = []
        sent_at: list[float] = []
        interval = 1.0 / rate_per_second

        async def pace() -> None:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(count):
                delay = start + i * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                payload = make_payload(i)
                if event == "INTERACTION_CREATE":
                    self._register_dispatched(payload)
                for ws in list(self._sockets):
                    try:
                        await self._send(ws, event, payload)
                    except ConnectionResetError:
                        # The bot is closing this connection (SIGTERM mid-burst) and it is not yet
                        # out of the list: the event is lost, as the real gateway loses it.
                        continue
                payloads.append(payload)
                sent_at.append(time.monotonic())

        burst = Burst(asyncio.run_coroutine_threadsafe(pace(), self._loop), payloads, sent_at)
        if wait:
            burst.wait(count * interval + 60)
        return burst

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
    created_at: float | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload; ``kind`` 2 command, 3 component, 4 autocomplete.

    Its id carries the time now, or ``created_at`` (Unix seconds), which sets its 3 s deadline.
    """
    payload: dict[str, Any] = {
        "id": str(snowflake() if created_at is None else snowflake_at(created_at)),
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
