"""A loopback Telegram Bot API for end-to-end tests: ``{base}/bot{token}/{method}`` on 127.0.0.1.

It serves what python-telegram-bot needs to start, long-poll, send, edit and answer, validates what
Telegram would refuse (HTML that does not parse, texts over 4096 UTF-16 units, callback data over
64 bytes) and records every request so tests can assert on them. The server runs in its own thread
with its own event loop, so tests (sync or async) and a bot in a subprocess can share one instance.

Tests push updates (``private_message``, ``group_message``, ``callback_query``, ``inline_query``)
that the bot's ``getUpdates`` collects, or post them to the bot's webhook (``post_update_to``), and
inject 429s, server errors and latency (``rate_limit_next``, ``fail_next``, ``slow_down``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.png import png_size

BOT_ID = 7000000001
BOT_USERNAME = "citebot_test_bot"
TOKEN = f"{BOT_ID}:AAFakeTokenForLoopbackTests_0123456789"
MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units of the parsed text
MAX_CAPTION_LENGTH = 1024  # of a photo's caption, likewise
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CALLBACK_DATA = 64  # bytes
MAX_INLINE_RESULTS = 50
CALLBACK_QUERY_LIFETIME = 15.0  # seconds after which Telegram refuses to answer a callback query
CONFLICT_GRACE = 0.25  # seconds a second getUpdates waits for a held one to go before its 409
CLIENT_CLOSED = 499  # the status recorded for a request whose client went away before the answer

BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "citebot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}

# Parameters that carry JSON objects or arrays: form bodies hold them JSON-encoded as strings.
JSON_PARAMETERS = frozenset(
    "reply_markup allowed_updates results commands scope link_preview_options entities "
    "caption_entities reply_parameters button media menu_button rights".split()
)
# Form bodies carry every value as a string; Telegram reads these as numbers or booleans.
INT_PARAMETERS = frozenset(
    "chat_id from_chat_id message_id message_thread_id reply_to_message_id user_id offset limit "
    "timeout cache_time max_connections".split()
)
BOOL_PARAMETERS = frozenset(
    "disable_notification protect_content allow_sending_without_reply disable_web_page_preview "
    "show_alert is_personal drop_pending_updates".split()
)
CHAT_ACTIONS = frozenset(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note".split()
)
# Methods the bot may call at start-up that need nothing but a ``true``.
TRUE_METHODS = frozenset(
    {"setMyDescription", "setMyShortDescription", "setMyName", "setChatMenuButton", "close", "logOut"}
)
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendVoice", "sendSticker"}
)
# Telegram withholds these unless allowed_updates names them.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


# -- HTML parse mode ----------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()
)
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_ATTRIBUTE_RE = re.compile(r"""\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


class HtmlError(ValueError):
    """Text Telegram would refuse in HTML parse mode; the message is what follows "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports positions as byte offsets in the UTF-8 text.
    return len(text[:index].encode())


def _decode_entities(text: str, base: int, where: str) -> str:
    """``text`` with its entities decoded; ``base`` is its byte offset in the message, for errors.

    An ``&`` that starts no entity, or a bare ``<`` or ``>``, is an error, as the docs ask.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "<>":
            raise HtmlError(
                f"Character '{ch}' is reserved in {where} and must be escaped as "
                f"{'&lt;' if ch == '<' else '&gt;'} at byte offset {base + _byte_offset(text, i)}"
            )
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        m = _ENTITY_RE.match(text, i)
        decoded: str | None = None
        if m is not None:
            if m.group(3) is not None:
                decoded = NAMED_ENTITIES.get(m.group(3))
            else:
                code = int(m.group(1)) if m.group(1) is not None else int(m.group(2), 16)
                decoded = chr(code) if 0 < code <= 0x10FFFF else None
        if m is None or decoded is None:
            raise HtmlError(
                f"Character '&' in {where} must be escaped as &amp; unless it starts an entity "
                f"(&lt; &gt; &amp; &quot; or numeric) at byte offset {base + _byte_offset(text, i)}"
            )
        out.append(decoded)
        i = m.end()
    return "".join(out)


def parse_html(text: str) -> str:
    """The plain text Telegram would show for ``text`` in HTML parse mode; raises ``HtmlError``.

    Stricter than Telegram on one point, on purpose: Telegram passes a stray ``&`` or ``>``
    through, but its docs require them escaped, and output that relies on the leniency is a bug.
    """
    plain: list[str] = []
    stack: list[tuple[str, int]] = []  # open tags and their byte offsets
    i = 0
    n = len(text)
    while i < n:
        lt = text.find("<", i)
        chunk_end = n if lt < 0 else lt
        if chunk_end > i:
            chunk = text[i:chunk_end]
            plain.append(_decode_entities(chunk, _byte_offset(text, i), "text"))
        if lt < 0:
            break
        offset = _byte_offset(text, lt)
        gt = text.find(">", lt + 1)
        if text.startswith("</", lt):
            if gt < 0:
                raise HtmlError(f"Unclosed end tag at byte offset {offset}")
            name = text[lt + 2 : gt].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {offset}")
            open_name, _ = stack.pop()
            if name != open_name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {offset}, expected "</{open_name}>", found "</{name}>"'
                )
            i = gt + 1
            continue
        m = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", text[lt + 1 :])
        name = m.group(0).lower() if m else ""
        if name not in ALLOWED_TAGS:
            # "a < b" lands here too: Telegram reads a tag named "" and refuses it.
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {offset}')
        if gt < 0:
            raise HtmlError(f"Unclosed start tag at byte offset {offset}")
        attributes = _parse_attributes(text[lt + 1 + len(name) : gt], name, _byte_offset(text, lt))
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}')
        stack.append((name, offset))
        i = gt + 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(plain)


def _parse_attributes(raw: str, tag: str, offset: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    rest = raw.rstrip().removesuffix("/")
    pos = 0
    while pos < len(rest):
        m = _ATTRIBUTE_RE.match(rest, pos)
        if m is None or m.end() == pos:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
        value = next((v for v in m.group(2, 3, 4) if v is not None), "")
        attributes[m.group(1).lower()] = _decode_entities(value, offset, f'an attribute of "{tag}"')
        pos = m.end()
    return attributes


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode, or None if it parses."""
    try:
        parse_html(text)
    except HtmlError as error:
        return str(error)
    return None


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most timestamps inside any half-open window of ``window`` seconds (for rate checks)."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- users, chats, entities ---------------------------------------------------------------------


def user(
    user_id: int, first_name: str, username: str | None = None, *, is_bot: bool = False
) -> dict[str, Any]:
    """A user object."""
    data: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name, "language_code": "en"}
    if username is not None:
        data["username"] = username
    return data


def private_chat(chat_user: dict[str, Any]) -> dict[str, Any]:
    """The private chat with a user (its id is the user's)."""
    data: dict[str, Any] = {"id": chat_user["id"], "type": "private", "first_name": chat_user["first_name"]}
    if "username" in chat_user:
        data["username"] = chat_user["username"]
    return data


def group_chat(chat_id: int, title: str, *, supergroup: bool = False) -> dict[str, Any]:
    """A group chat: ``chat_id`` made negative, or ``-100...`` for a supergroup."""
    number = abs(chat_id)
    if supergroup:
        # Supergroup ids are -100 followed by ten digits.
        ident = number if str(number).startswith("100") and number >= 10**12 else 10**12 + number
        return {"id": -ident, "type": "supergroup", "title": title}
    return {"id": -number, "type": "group", "title": title}


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram finds itself: a leading ``/command[@bot]`` and ``@username`` mentions.

    Offsets and lengths are in UTF-16 code units, as Telegram's.
    """
    entities: list[dict[str, Any]] = []
    command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?", text)
    if command is not None:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))})
    for m in re.finditer(r"(?<![\w/@])@[A-Za-z0-9_]{5,32}\b", text):
        if command is not None and m.start() < command.end():
            continue  # the @bot of "/ask@bot" belongs to the command
        entities.append(
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        )
    return entities


# -- recording ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One Bot API request the bot made, and the fake's answer."""

    method: str  # canonical Bot API name, e.g. "sendMessage" (Telegram ignores the case)
    params: dict[str, Any]  # query and body merged, JSON fields decoded, numbers and booleans typed
    status: int  # the HTTP status the fake answered
    at: float = field(default_factory=time.monotonic)  # arrival (monotonic clock)
    http_method: str = "POST"
    content_type: str = ""  # of the request body: form, JSON or multipart, as the client sent it
    response: Any = None  # the reply's JSON: {"ok": ..., "result"/"description": ...}
    token_ok: bool = True

    @property
    def ok(self) -> bool:
        """Whether Telegram would have accepted it."""
        return self.status == 200

    @property
    def result(self) -> Any:
        """The ``result`` of an accepted request."""
        return (self.response or {}).get("result")

    @property
    def description(self) -> str:
        """The error description of a refused request ("" when accepted)."""
        return str((self.response or {}).get("description", ""))


@dataclass(frozen=True)
class WebhookReply:
    """What a bot's webhook answered to ``post_update_to``."""

    status: int
    body: bytes


@dataclass
class _Fault:
    method: str | None  # None: any method
    remaining: int | None  # None: until cleared
    status: int = 0  # 0: no failure, only the latency
    description: str = ""
    parameters: dict[str, Any] | None = None
    latency: float = 0.0


class _Refused(Exception):
    """A Bot API error: the handler answers with it."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(description: str) -> _Refused:
    return _Refused(400, f"Bad Request: {description}")


def _reply(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _error_body(status: int, description: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _typed(params: dict[str, Any]) -> dict[str, Any]:
    """Form values as Telegram reads them: JSON fields decoded, numbers and booleans typed."""
    typed: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in JSON_PARAMETERS:
                try:
                    value = json.loads(value)
                except ValueError as error:
                    raise _bad_request(f"can't parse {key} JSON object") from error
            elif key in INT_PARAMETERS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in BOOL_PARAMETERS and value.lower() in ("true", "false"):
                value = value.lower() == "true"
        typed[key] = value
    return typed


class FakeTelegram:
    """The loopback Bot API; ``start()`` it and point the bot at ``base_url`` (``env()``)."""

    def __init__(
        self, *, token: str = TOKEN, callback_query_lifetime: float = CALLBACK_QUERY_LIFETIME
    ) -> None:
        self.token = token
        self.callback_query_lifetime = callback_query_lifetime
        # All below are guarded by _cond.
        self.requests: list[Recorded] = []
        self.unknown_methods: list[str] = []  # methods the fake does not serve: tests should fail on these
        self.parse_errors: list[Recorded] = []  # requests refused for HTML that does not parse
        self.updates: list[dict[str, Any]] = []  # queued, not yet confirmed by an offset
        self.delivered: list[dict[str, Any]] = []  # every update getUpdates handed out
        self.allowed_updates: list[str] | None = None  # as the last getUpdates/setWebhook set it
        self.webhook: dict[str, Any] | None = None  # setWebhook's parameters while one is set
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (scope JSON, language) -> list
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat id, message id) -> Message
        self.callback_answers: dict[str, dict[str, Any]] = {}  # query id -> answerCallbackQuery params
        self.inline_answers: dict[str, dict[str, Any]] = {}  # query id -> answerInlineQuery params
        self.uploads: dict[str, bytes] = {}  # multipart file parts by field name
        self._callback_queries: dict[str, float] = {}  # id -> time.monotonic() created
        self._inline_queries: dict[str, float] = {}
        self._send_times: dict[int, list[float]] = {}
        self._faults: list[_Fault] = []
        self._polling = 0  # getUpdates requests being held
        self._update_ids = itertools.count(100000001)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._update_event: asyncio.Event | None = None  # lives on the server loop
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The server root: the bot uses ``{base_url}/bot`` and ``{base_url}/file/bot``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """Where the methods are: ``{api_url}/{method}``."""
        return f"{self.base_url}/bot{self.token}"

    def env(self) -> dict[str, str]:
        """Environment variables pointing citebot at this server."""
        return {"TELEGRAM_TOKEN": self.token, "TELEGRAM_API_BASE": self.base_url}

    def start(self) -> FakeTelegram:
        """Serve on a free port of 127.0.0.1 in a thread of its own."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self._start_site())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_site())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Telegram did not start")
        return self

    def stop(self) -> None:
        """Stop serving (held long polls are dropped)."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def _start_site(self) -> None:
        self._update_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        # handler_cancellation: a poll whose client went away (a stopped bot) must stop being held,
        # or the restarted bot's first getUpdates would meet a 409 from its own ghost.
        self._runner = web.AppRunner(app, handle_signals=False, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop_site(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- recording -------------------------------------------------------------------------------
    def _record(self, item: Recorded) -> None:
        with self._cond:
            self.requests.append(item)
            if item.status == 400 and "can't parse entities" in item.description:
                self.parse_errors.append(item)
            if item.ok and item.method in SEND_METHODS and isinstance(item.params.get("chat_id"), int):
                self._send_times.setdefault(item.params["chat_id"], []).append(item.at)
            self._cond.notify_all()

    def find(self, method: str, since: int = 0) -> list[Recorded]:
        """Recorded requests of this Bot API method (from index ``since``)."""
        with self._cond:
            return [r for r in self.requests[since:] if r.method == method]

    def wait_for(
        self, predicate: Callable[[Recorded], bool], *, since: int = 0, timeout: float = 15.0
    ) -> Recorded:
        """The first recorded request (from index ``since``) matching ``predicate``; waits for it."""
        deadline = time.monotonic() + timeout
        scanned = since
        with self._cond:
            while True:
                # Only what arrived since the last look: a burst must not cost O(n) per request.
                for item in self.requests[scanned:]:
                    if predicate(item):
                        return item
                scanned = max(scanned, len(self.requests))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [f"{r.method} {r.status}" for r in self.requests[since:]]
                    raise TimeoutError(f"no matching request; seen since {since}: {seen}")
                self._cond.wait(remaining)

    def wait_request(self, method: str, *, since: int = 0, timeout: float = 15.0) -> Recorded:
        """The first request of this method (from index ``since``); waits for it."""
        return self.wait_for(lambda r: r.method == method, since=since, timeout=timeout)

    def mark(self) -> int:
        """An index to pass as ``since``: only requests after now."""
        with self._cond:
            return len(self.requests)

    def sent_messages(self, since: int = 0) -> list[dict[str, Any]]:
        """The parameters of every sendMessage the fake accepted (from index ``since``)."""
        return [r.params for r in self.find("sendMessage", since) if r.ok]

    def send_times(self, chat_id: int) -> list[float]:
        """Monotonic arrival times of the messages accepted for a chat, to check Telegram's limits.

        Telegram allows about 1 message a second in a private chat and 20 a minute in a group; the
        fake does not enforce them: use ``max_in_window(fake.send_times(chat), 60) <= 20``.
        """
        with self._cond:
            return list(self._send_times.get(chat_id, []))

    def wait_polling(self, timeout: float = 15.0) -> None:
        """Wait until a getUpdates is being held (the bot is listening)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._polling == 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no getUpdates is being held")
                self._cond.wait(remaining)

    def wait_confirmed(self, update: dict[str, Any], timeout: float = 15.0) -> None:
        """Wait until the bot confirmed ``update`` (a later getUpdates offset went past it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(u["update_id"] == update["update_id"] for u in self.updates):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"update {update['update_id']} was not confirmed")
                self._cond.wait(remaining)

    # -- faults ----------------------------------------------------------------------------------
    def rate_limit_next(self, method: str | None, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` requests of ``method`` (None: any) with Telegram's 429."""
        with self._cond:
            self._faults.append(
                _Fault(
                    method,
                    times,
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            )

    def fail_next(
        self, method: str | None, times: int = 1, status: int = 500, description: str | None = None
    ) -> None:
        """Answer the next ``times`` requests of ``method`` (None: any) with an error status."""
        text = description or {
            500: "Internal Server Error",
            502: "Bad Gateway",
            400: "Bad Request",
            403: "Forbidden: bot was blocked by the user",
        }.get(status, f"Error {status}")
        with self._cond:
            self._faults.append(_Fault(method, times, status, text))

    def slow_down(self, method: str | None, seconds: float, *, times: int | None = None) -> None:
        """Delay answers to ``method`` (None: any) by ``seconds``: the next ``times``, or until cleared."""
        with self._cond:
            self._faults.append(_Fault(method, times, latency=seconds))

    def clear_faults(self) -> None:
        """Forget every pending fault and latency."""
        with self._cond:
            self._faults.clear()

    def _take_faults(self, method: str) -> tuple[_Fault | None, float]:
        failure: _Fault | None = None
        latency = 0.0
        with self._cond:
            delayed = False
            for fault in self._faults:
                if fault.method not in (None, method):
                    continue
                if fault.status:
                    if failure is not None:
                        continue  # the next matching request gets it
                    failure = fault
                elif delayed:
                    continue
                else:
                    latency, delayed = fault.latency, True
                if fault.remaining is not None:
                    fault.remaining -= 1
            self._faults = [f for f in self._faults if f.remaining is None or f.remaining > 0]
        return failure, latency

    # -- updates ---------------------------------------------------------------------------------
    def add_chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        """Make a chat known, so the bot may send to it (Telegram: "chat not found" otherwise)."""
        with self._cond:
            self.chats[chat["id"]] = chat
        return chat

    def push_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (``body`` without ``update_id``, e.g. ``{"message": {...}}``); thread-safe.

        While a webhook is set nothing is queued (Telegram would push it): post it with
        ``post_update_to``. Returns the update with its ``update_id``.
        """
        with self._cond:
            update = {"update_id": next(self._update_ids), **body}
            if self.webhook is None:
                self.updates.append(update)
            self._cond.notify_all()
        if self._loop is not None and self._update_event is not None:
            self._loop.call_soon_threadsafe(self._update_event.set)
        return update

    def _new_message(
        self,
        sender: dict[str, Any],
        chat: dict[str, Any],
        text: str,
        entities: list[dict[str, Any]] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        with self._cond:
            self.chats.setdefault(chat["id"], chat)
            message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        found = auto_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        with self._cond:
            self.messages[(chat["id"], message_id)] = message
        return message

    def private_message(
        self,
        sender: dict[str, Any],
        text: str,
        *,
        entities: list[dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a message from ``sender`` in their private chat with the bot; the update.

        ``entities`` default to what Telegram would find (a leading command, mentions).
        """
        return self.push_update(
            {"message": self._new_message(sender, private_chat(sender), text, entities, reply_to)}
        )

    def group_message(
        self,
        sender: dict[str, Any],
        chat: dict[str, Any],
        text: str,
        entities: list[dict[str, Any]] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Queue a message from ``sender`` in a group chat; the update.

        The fake does not apply privacy mode: send only what Telegram would deliver (commands,
        mentions of the bot, replies to it). ``entities`` default to Telegram's own finds.
        """
        return self.push_update({"message": self._new_message(sender, chat, text, entities, reply_to)})

    def callback_query(self, sender: dict[str, Any], message: dict[str, Any], data: str) -> dict[str, Any]:
        """Queue a press on an inline button of ``message`` (a Message, e.g. a ``Recorded.result``)."""
        with self._cond:
            query_id = f"{next(self._query_ids)}{BOT_ID}"
            self._callback_queries[query_id] = time.monotonic()
        return self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": message,
                    "chat_instance": str(abs(hash((message["chat"]["id"], BOT_ID)))),
                    "data": data,
                }
            }
        )

    def inline_query(
        self, sender: dict[str, Any], query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> dict[str, Any]:
        """Queue an inline query (``@bot query`` typed in any chat); the update."""
        with self._cond:
            query_id = f"{next(self._query_ids)}{BOT_ID}"
            self._inline_queries[query_id] = time.monotonic()
        return self.push_update(
            {
                "inline_query": {
                    "id": query_id,
                    "from": sender,
                    "query": query,
                    "offset": offset,
                    "chat_type": chat_type,
                }
            }
        )

    def post_update_to(
        self, url: str, update: dict[str, Any], secret_token: str | None = None, *, timeout: float = 10.0
    ) -> WebhookReply:
        """POST ``update`` to a bot's webhook as Telegram does (blocking; call it from a test thread).

        The secret goes in ``X-Telegram-Bot-Api-Secret-Token``; an error status is returned, not raised.
        """
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        request = urllib.request.Request(
            url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return WebhookReply(response.status, response.read())
        except urllib.error.HTTPError as error:
            return WebhookReply(error.code, error.read())

    def commands_for(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The commands setMyCommands registered for a scope (default: ``{"type": "default"}``)."""
        with self._cond:
            return list(self.commands.get((_scope_key(scope), language_code), []))

    # -- the API ---------------------------------------------------------------------------------
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "multipart/form-data":
            # The whole body, then the standard library's MIME parser: aiohttp's streaming reader
            # warns (unread_data is deprecated) when an upload arrives in several pieces.
            raw = await request.read()
            head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
            message = email.message_from_bytes(head + raw, policy=email.policy.HTTP)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not isinstance(name, str):
                    continue
                data = part.get_payload(decode=True)
                data = data if isinstance(data, bytes) else b""
                filename = part.get_filename()
                if filename:
                    with self._cond:
                        self.uploads[name] = data
                    params[name] = {"file_name": filename, "size": len(data)}
                else:
                    params[name] = data.decode(part.get_content_charset() or "utf-8")
        elif request.content_type == "application/json":
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as error:
                    raise _bad_request("can't parse JSON encoded request body") from error
                if not isinstance(body, dict):
                    raise _bad_request("parameters must be a JSON object")
                params.update(body)
        else:
            # Form-urlencoded, and what Telegram also accepts: a body with no content type.
            params.update(await request.post())
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        asked = request.match_info["method"]
        method = _CANONICAL.get(asked.lower(), asked)
        params: dict[str, Any] = {}
        token_ok = request.match_info["token"] == self.token
        status, body = 200, {}
        try:
            params = _typed(await self._read_params(request))
            if not token_ok:
                raise _Refused(401, "Unauthorized")
            handler = _HANDLERS.get(method)
            if handler is None:
                with self._cond:
                    self.unknown_methods.append(asked)
                raise _Refused(404, "Not Found")
            failure, latency = self._take_faults(method)
            if latency:
                await asyncio.sleep(latency)
            # A refused request changes nothing, as with Telegram.
            if failure is not None:
                raise _Refused(failure.status, failure.description, failure.parameters)
            result = await handler(self, params)
            body = {"ok": True, "result": result}
        except _Refused as refused:
            status, body = (
                refused.status,
                _error_body(refused.status, refused.description, refused.parameters),
            )
        except asyncio.CancelledError:
            # The client went away while the request was held (a poll cancelled at shutdown): keep
            # it on record, under nginx's 499, so tests see every call the bot made.
            status, body = CLIENT_CLOSED, {}
            raise
        finally:
            self._record(
                Recorded(
                    method,
                    params,
                    status,
                    arrived,
                    request.method,
                    request.headers.get("Content-Type", ""),
                    body,
                    token_ok,
                )
            )
        return _reply(status, body)

    # Handlers take the typed parameters and return the result, or raise _Refused.
    async def _get_me(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        assert self._update_event is not None
        offset = params.get("offset", 0)
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        # A poll held for a client that just disconnected (a bot stopping, then confirming its
        # offset with a last getUpdates) is let go a moment later: wait for that before a 409.
        grace = time.monotonic() + CONFLICT_GRACE
        while self._polling and time.monotonic() < grace:
            await asyncio.sleep(0.01)
        with self._cond:
            if self.webhook is not None:
                raise _Refused(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
                    "to delete the webhook first",
                )
            if self._polling:
                # As the brief for this fake says: the newcomer is refused (Telegram itself refuses
                # the request already held, "terminated by other getUpdates request").
                raise _Refused(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot "
                    "instance is running",
                )
            if "allowed_updates" in params:
                # An empty list means "all the default types", like no list at all.
                self.allowed_updates = list(params["allowed_updates"]) or None
            self._confirm(offset)
            self._polling += 1
            self._cond.notify_all()
        try:
            deadline = time.monotonic() + timeout
            while True:
                # Cleared before looking, so an update pushed after the look sets it again.
                self._update_event.clear()
                with self._cond:
                    ready = [u for u in self.updates if self._allowed(u)][:limit]
                if ready or time.monotonic() >= deadline:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._update_event.wait(), deadline - time.monotonic())
        finally:
            with self._cond:
                self._polling -= 1
                self._cond.notify_all()
        with self._cond:
            self.delivered.extend(ready)
        return ready

    def _confirm(self, offset: int) -> None:
        # With _cond held. Updates of a type not allowed are dropped too: Telegram never sends them.
        # A negative offset -n keeps the last n updates and forgets all earlier ones.
        keep = self.updates[offset:] if offset < 0 else [u for u in self.updates if u["update_id"] >= offset]
        self.updates = [u for u in keep if self._allowed(u)]

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self.allowed_updates is None:
            return kind not in OPT_IN_UPDATE_TYPES
        return kind in self.allowed_updates

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        # Telegram wants an https URL on port 443, 80, 88 or 8443; the fake takes http on loopback.
        url = str(params.get("url", ""))
        secret = params.get("secret_token")
        if secret is not None and not SECRET_TOKEN_RE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        with self._cond:
            if not url:
                self.webhook = None
                return True
            self.webhook = dict(params)
            if "allowed_updates" in params:
                self.allowed_updates = list(params["allowed_updates"]) or None
            if params.get("drop_pending_updates"):
                self.updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        with self._cond:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self.updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        with self._cond:
            info: dict[str, Any] = {
                "url": (self.webhook or {}).get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self.updates),
            }
            if self.webhook is not None:
                info["max_connections"] = self.webhook.get("max_connections", 40)
                if self.allowed_updates is not None:
                    info["allowed_updates"] = self.allowed_updates
        return info

    async def _set_my_commands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("command description must be 1-256 characters long")
        with self._cond:
            self.commands[(_scope_key(params.get("scope")), params.get("language_code", ""))] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> Any:
        return self.commands_for(params.get("scope"), params.get("language_code", ""))

    async def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        with self._cond:
            self.commands.pop((_scope_key(params.get("scope")), params.get("language_code", "")), None)
        return True

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        with self._cond:
            chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _check_text(self, params: dict[str, Any], key: str = "text") -> None:
        text = params.get(key)
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        plain = text
        if str(params.get("parse_mode", "")).lower() == "html":
            try:
                plain = parse_html(text)
            except HtmlError as error:
                raise _bad_request(f"can't parse entities: {error}") from error
            if not plain.strip():
                raise _bad_request("message text is empty")
        if utf16_len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return
        for row in markup["inline_keyboard"]:
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise _bad_request("BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _bad_request("text buttons are unallowed in the inline keyboard")

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._check_text(params)
        self._check_markup(params)
        with self._cond:
            message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": chat,
            "date": int(time.time()),
            "text": params["text"] if params.get("parse_mode") is None else _plain(params),
        }
        if isinstance(params.get("reply_markup"), dict) and "inline_keyboard" in params["reply_markup"]:
            message["reply_markup"] = params["reply_markup"]
        return self._keep(message, params)

    def _keep(self, message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """Attach the message replied to (reply parameters as Telegram reads them), and store it."""
        chat_id = message["chat"]["id"]
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        if reply_id is not None:
            with self._cond:
                replied = self.messages.get((chat_id, int(reply_id)))
            if replied is None and not reply.get("allow_sending_without_reply"):
                raise _bad_request("message to be replied not found")
            if replied is not None:
                message["reply_to_message"] = replied
        with self._cond:
            self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _send_photo(self, params: dict[str, Any]) -> Any:
        # Only uploads: the bot sends pictures it drew, never file ids or URLs.
        chat = self._chat(params)
        photo = params.get("photo")
        if not isinstance(photo, dict):
            raise _bad_request("there is no photo in the request")
        with self._cond:
            data = self.uploads.get("photo", b"")
        if photo["size"] > MAX_PHOTO_BYTES:
            raise _Refused(413, "Request Entity Too Large")
        size = png_size(data)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        caption = str(params.get("caption") or "")
        if caption and str(params.get("parse_mode", "")).lower() == "html":
            try:
                caption = parse_html(caption)
            except HtmlError as error:
                raise _bad_request(f"can't parse entities: {error}") from error
        if utf16_len(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        with self._cond:
            message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": chat,
            "date": int(time.time()),
            "photo": [
                {
                    "file_id": f"photo-{message_id}",
                    "file_unique_id": f"photo-{message_id}",
                    "width": size[0],
                    "height": size[1],
                    "file_size": len(data),
                }
            ],
        }
        if caption:
            message["caption"] = caption
        return self._keep(message, params)

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            self._check_text(params)
            self._check_markup(params)
            return True
        chat = self._chat(params)
        self._check_text(params)
        self._check_markup(params)
        key = (chat["id"], int(params.get("message_id", 0)))
        with self._cond:
            old = self.messages.get(key)
            if old is None:
                raise _bad_request("message to edit not found")
            text = params["text"] if params.get("parse_mode") is None else _plain(params)
            markup = params.get("reply_markup")
            if old.get("text") == text and old.get("reply_markup") == markup:
                # This one bites: editing to the same content is an error, not a no-op.
                raise _bad_request(
                    "message is not modified: specified new message content and reply markup are exactly "
                    "the same as a current content and reply markup of the message"
                )
            message = {**old, "text": text, "edit_date": int(time.time())}
            if markup is None:
                message.pop("reply_markup", None)
            else:
                message["reply_markup"] = markup
            self.messages[key] = message
        return message

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        with self._cond:
            if self.messages.pop((chat["id"], int(params.get("message_id", 0))), None) is None:
                raise _bad_request("message to delete not found")
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _check_query(self, queries: dict[str, float], query_id: Any) -> None:
        with self._cond:
            created = queries.get(str(query_id))
        if created is None or time.monotonic() - created > self.callback_query_lifetime:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        self._check_query(self._callback_queries, query_id)
        if len(str(params.get("text", ""))) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        with self._cond:
            if query_id in self.callback_answers:
                raise _bad_request("query is too old and response timeout expired or query ID is invalid")
            self.callback_answers[query_id] = params
        return True

    async def _answer_inline_query(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("inline_query_id", ""))
        self._check_query(self._inline_queries, query_id)
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("results must be an array")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise _bad_request("RESULT_ID_INVALID" if len(set(ids)) == len(ids) else "RESULT_ID_DUPLICATE")
        for result in results:
            if result.get("type") == "article" and not (
                result.get("title") and result.get("input_message_content")
            ):
                raise _bad_request("an article needs title and input_message_content")
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._check_text(content, "message_text")
            self._check_markup(result)
        with self._cond:
            if query_id in self.inline_answers:
                raise _bad_request("query is too old and response timeout expired or query ID is invalid")
            self.inline_answers[query_id] = params
        return True

    async def _true(self, params: dict[str, Any]) -> Any:
        return True


def _plain(params: dict[str, Any]) -> str:
    # The text a client shows: what parse mode leaves of the markup (entities are not rebuilt).
    return parse_html(params["text"]) if str(params.get("parse_mode")).lower() == "html" else params["text"]


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


_HANDLERS: dict[str, Callable[[FakeTelegram, dict[str, Any]], Awaitable[Any]]] = {
    "getMe": FakeTelegram._get_me,
    "getUpdates": FakeTelegram._get_updates,
    "setWebhook": FakeTelegram._set_webhook,
    "deleteWebhook": FakeTelegram._delete_webhook,
    "getWebhookInfo": FakeTelegram._get_webhook_info,
    "setMyCommands": FakeTelegram._set_my_commands,
    "getMyCommands": FakeTelegram._get_my_commands,
    "deleteMyCommands": FakeTelegram._delete_my_commands,
    "sendMessage": FakeTelegram._send_message,
    "sendPhoto": FakeTelegram._send_photo,
    "editMessageText": FakeTelegram._edit_message_text,
    "deleteMessage": FakeTelegram._delete_message,
    "sendChatAction": FakeTelegram._send_chat_action,
    "answerCallbackQuery": FakeTelegram._answer_callback_query,
    "answerInlineQuery": FakeTelegram._answer_inline_query,
    **dict.fromkeys(TRUE_METHODS, FakeTelegram._true),
}
# Telegram matches method names without regard to case.
_CANONICAL = {name.lower(): name for name in _HANDLERS}
