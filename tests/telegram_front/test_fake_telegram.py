"""The loopback Bot API itself: tokens, long polling, body encodings, Telegram's refusals, a real client."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from telegram import Update
from telegram.error import BadRequest, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.charts import activity_chart
from bot.runtime import DayActivity
from tests.telegram_front.fake_telegram import (
    BOT_ID,
    BOT_USERNAME,
    TOKEN,
    FakeTelegram,
    auto_entities,
    group_chat,
    html_problem,
    max_in_window,
    private_chat,
    user,
    utf16_len,
)

ALICE = user(1001, "Alice", "alice_w")
BOB = user(1002, "Bob")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


async def call(
    fake: FakeTelegram, method: str, token: str = TOKEN, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST ``params`` as JSON; the status and the parsed reply."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{token}/{method}", json=params) as resp,
    ):
        return resp.status, await resp.json()


async def test_get_me_answers_the_right_token_and_refuses_a_wrong_one(fake: FakeTelegram) -> None:
    status, body = await call(fake, "getMe")
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["id"] == BOT_ID
    assert body["result"]["username"] == BOT_USERNAME
    assert body["result"]["is_bot"] is True
    assert body["result"]["supports_inline_queries"] is True
    status, body = await call(fake, "getMe", token="123:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    # GET works too, and Telegram ignores the case of method names.
    async with aiohttp.ClientSession() as session, session.get(f"{fake.api_url}/getme") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
    assert [(r.method, r.status, r.token_ok) for r in fake.requests] == [
        ("getMe", 200, True),
        ("getMe", 401, False),
        ("getMe", 200, True),
    ]
    assert fake.requests[2].http_method == "GET"


async def test_unknown_method_is_a_404_and_recorded(fake: FakeTelegram) -> None:
    status, body = await call(fake, "sendTelepathy", chat_id=1)
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert fake.unknown_methods == ["sendTelepathy"]


async def test_long_poll_returns_at_once_when_an_update_is_queued(fake: FakeTelegram) -> None:
    update = fake.private_message(ALICE, "hello")
    started = time.monotonic()
    status, body = await call(fake, "getUpdates", timeout=5)
    assert status == 200
    assert time.monotonic() - started < 1
    assert body["result"] == [update]
    assert body["result"][0]["message"]["chat"] == private_chat(ALICE)


async def test_long_poll_waits_for_the_timeout_without_updates(fake: FakeTelegram) -> None:
    started = time.monotonic()
    status, body = await call(fake, "getUpdates", timeout=1)
    elapsed = time.monotonic() - started
    assert (status, body["result"]) == (200, [])
    assert 0.9 <= elapsed < 2


async def test_long_poll_wakes_when_an_update_arrives_meanwhile(fake: FakeTelegram) -> None:
    timer = threading.Timer(0.3, fake.private_message, (ALICE, "late"))
    timer.start()
    started = time.monotonic()
    _, body = await call(fake, "getUpdates", timeout=5)
    timer.join()
    assert 0.25 <= time.monotonic() - started < 2
    assert [u["message"]["text"] for u in body["result"]] == ["late"]


async def test_offset_confirms_and_drops_earlier_updates_and_limit_caps(fake: FakeTelegram) -> None:
    first, second, third = (fake.private_message(ALICE, t) for t in ("one", "two", "three"))
    assert first["update_id"] < second["update_id"] < third["update_id"]
    _, body = await call(fake, "getUpdates", limit=2)
    assert [u["update_id"] for u in body["result"]] == [first["update_id"], second["update_id"]]
    # Not confirmed yet: asked again, the same updates come back.
    _, body = await call(fake, "getUpdates")
    assert len(body["result"]) == 3
    _, body = await call(fake, "getUpdates", offset=second["update_id"] + 1)
    assert [u["update_id"] for u in body["result"]] == [third["update_id"]]
    assert [u["update_id"] for u in fake.updates] == [third["update_id"]]
    fake.wait_confirmed(second, timeout=0)


async def test_allowed_updates_persist_and_filter(fake: FakeTelegram) -> None:
    _, body = await call(fake, "getUpdates", allowed_updates=["message"])
    assert fake.allowed_updates == ["message"]
    fake.inline_query(ALICE, "ignored")
    message = fake.private_message(ALICE, "kept")
    _, body = await call(fake, "getUpdates")  # no allowed_updates: the last list still holds
    assert body["result"] == [message]


async def test_a_second_concurrent_poll_gets_409(fake: FakeTelegram) -> None:
    first = asyncio.create_task(call(fake, "getUpdates", timeout=2))
    await asyncio.to_thread(fake.wait_polling, 5)
    status, body = await call(fake, "getUpdates", timeout=2)
    assert status == 409
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    fake.private_message(ALICE, "for the first")
    status, body = await first
    assert status == 200
    assert [u["message"]["text"] for u in body["result"]] == ["for the first"]


async def test_get_updates_conflicts_with_a_webhook(fake: FakeTelegram) -> None:
    assert (await call(fake, "setWebhook", url="http://127.0.0.1:1/hook", secret_token="s3cr_t-"))[0] == 200
    _, info = await call(fake, "getWebhookInfo")
    assert info["result"]["url"] == "http://127.0.0.1:1/hook"
    status, body = await call(fake, "getUpdates")
    assert status == 409
    assert "webhook is active" in body["description"]
    assert (await call(fake, "setWebhook", url="http://x/", secret_token="bad token!"))[0] == 400
    await call(fake, "deleteWebhook", drop_pending_updates=True)
    assert (await call(fake, "getUpdates"))[0] == 200


async def test_form_json_and_multipart_bodies_with_json_string_fields(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    markup = {"inline_keyboard": [[{"text": "More", "callback_data": "more:1"}]]}
    preview = {"is_disabled": True}
    form = {
        "chat_id": str(ALICE["id"]),
        "text": "form",
        "reply_markup": json.dumps(markup),
        "link_preview_options": json.dumps(preview),
        "disable_notification": "true",
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.api_url}/sendMessage", data=form) as resp:
            assert resp.status == 200, await resp.text()
        multipart = aiohttp.FormData()
        for key, value in {**form, "text": "multipart"}.items():
            multipart.add_field(key, value)
        multipart.add_field("document", b"%PDF-", filename="a.pdf", content_type="application/pdf")
        async with session.post(f"{fake.api_url}/sendMessage", data=multipart) as resp:
            assert resp.status == 200, await resp.text()
        # JSON bodies may also carry nested objects as JSON strings.
        async with session.post(
            f"{fake.api_url}/sendMessage", json={**form, "text": "json", "chat_id": ALICE["id"]}
        ) as resp:
            assert resp.status == 200, await resp.text()
        commands = [{"command": "ask", "description": "Ask a question"}]
        scope = {"type": "all_group_chats"}
        async with session.post(
            f"{fake.api_url}/setMyCommands",
            data={"commands": json.dumps(commands), "scope": json.dumps(scope)},
        ) as resp:
            assert resp.status == 200, await resp.text()
    sent = fake.find("sendMessage")
    assert [r.params["text"] for r in sent] == ["form", "multipart", "json"]
    assert [r.content_type.split(";")[0] for r in sent] == [
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
    ]
    for record in sent:
        assert record.params["chat_id"] == ALICE["id"]
        assert record.params["reply_markup"] == markup
        assert record.params["link_preview_options"] == preview
        assert record.params["disable_notification"] is True
        assert record.result["reply_markup"] == markup
    assert fake.uploads["document"] == b"%PDF-"
    assert fake.commands_for(scope) == commands
    assert fake.commands_for() == []
    assert (await call(fake, "getMyCommands", scope=scope))[1]["result"] == commands


async def test_send_photo_takes_an_uploaded_png_and_refuses_what_is_not_an_image(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    png = activity_chart([DayActivity(dt.date(2026, 1, 1), 2, 1, 1, 0)], title="Two questions")
    assert png is not None

    async def send_photo(data: bytes, **fields: str) -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData({"chat_id": str(ALICE["id"]), **fields})
        form.add_field("photo", data, filename="chart.png", content_type="image/png")
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{fake.api_url}/sendPhoto", data=form) as resp,
        ):
            return resp.status, await resp.json()

    status, body = await send_photo(png, caption="<b>Stats</b>", parse_mode="HTML")
    assert status == 200, body
    [photo] = body["result"]["photo"]
    assert (photo["width"], photo["height"], photo["file_size"]) == (900, 600, len(png))
    assert body["result"]["caption"] == "Stats"
    assert fake.uploads["photo"] == png
    assert (await send_photo(b"%PDF-"))[1]["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    too_long = await send_photo(png, caption="x" * 1025)
    assert too_long[1]["description"] == "Bad Request: message caption is too long"
    assert len([r for r in fake.find("sendPhoto") if r.ok]) == 1


async def test_send_message_returns_a_message_with_rising_ids(fake: FakeTelegram) -> None:
    chat = fake.add_chat(group_chat(4242, "Readers"))
    assert chat["id"] == -4242
    _, one = await call(fake, "sendMessage", chat_id=chat["id"], text="one")
    _, two = await call(fake, "sendMessage", chat_id=chat["id"], text="<b>two</b>", parse_mode="HTML")
    first, second = one["result"], two["result"]
    assert second["message_id"] > first["message_id"]
    assert first["from"]["id"] == BOT_ID
    assert first["chat"] == chat
    assert abs(first["date"] - time.time()) < 5
    assert second["text"] == "two"  # what a client shows; the markup became entities
    status, body = await call(fake, "sendMessage", chat_id=999, text="nobody")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    assert fake.sent_messages() == [
        {"chat_id": chat["id"], "text": "one"},
        {"chat_id": chat["id"], "text": "<b>two</b>", "parse_mode": "HTML"},
    ]


async def test_edit_delete_and_chat_action(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(BOB))
    _, sent = await call(fake, "sendMessage", chat_id=BOB["id"], text="thinking…")
    message_id = sent["result"]["message_id"]
    status, edited = await call(
        fake, "editMessageText", chat_id=BOB["id"], message_id=message_id, text="done"
    )
    assert status == 200
    assert edited["result"]["text"] == "done"
    assert "edit_date" in edited["result"]
    status, body = await call(fake, "editMessageText", chat_id=BOB["id"], message_id=message_id, text="done")
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified")
    assert (await call(fake, "editMessageText", chat_id=BOB["id"], message_id=9999, text="x"))[0] == 400
    assert (await call(fake, "sendChatAction", chat_id=BOB["id"], action="typing"))[0] == 200
    assert (await call(fake, "sendChatAction", chat_id=BOB["id"], action="dancing"))[0] == 400
    assert (await call(fake, "deleteMessage", chat_id=BOB["id"], message_id=message_id))[0] == 200
    assert (await call(fake, "deleteMessage", chat_id=BOB["id"], message_id=message_id))[0] == 400


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "<b>bold <i>and italic</i></b> <strong>s</strong> <em>e</em> <u>u</u> <ins>i</ins>",
        "<s>s</s><strike>s</strike><del>d</del><tg-spoiler>x</tg-spoiler><span class='tg-spoiler'>y</span>",
        '<a href="https://example.com/?a=1&amp;b=2">link</a>',
        "escaped &lt;b&gt; and &amp; &quot;q&quot; &#8212; &#x1F600;",
        '<pre><code class="language-python">x = 1 &lt; 2</code></pre><blockquote>q</blockquote>',
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> <B>upper case tags</B>',
    ],
)
def test_html_validator_accepts_what_telegram_parses(text: str) -> None:
    assert html_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("Tom & Jerry", "Character '&'"),
        ("1 > 0", "Character '>'"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ('<a href="https://e.com/?a=1&b=2">x</a>', "Character '&'"),
        ("&nbsp;", "Character '&'"),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_validator_refuses_what_telegram_would(text: str, problem: str) -> None:
    found = html_problem(text)
    assert found is not None
    assert found.startswith(problem)


async def test_bad_html_is_a_400_and_recorded(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    status, body = await call(fake, "sendMessage", chat_id=ALICE["id"], text="Tom & Jerry", parse_mode="HTML")
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    # Without a parse mode the same text is fine.
    assert (await call(fake, "sendMessage", chat_id=ALICE["id"], text="Tom & Jerry"))[0] == 200
    assert [r.params["text"] for r in fake.parse_errors] == ["Tom & Jerry"]


async def test_length_counts_utf16_units_of_the_parsed_text(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    assert utf16_len("👍") == 2
    assert utf16_len("é") == 1
    fits = "👍" * 2048  # 2048 characters, 4096 UTF-16 units
    too_long = "👍" * 2048 + "x"
    assert (await call(fake, "sendMessage", chat_id=ALICE["id"], text=fits))[0] == 200
    status, body = await call(fake, "sendMessage", chat_id=ALICE["id"], text=too_long)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    # Markup does not count: Telegram measures what is left once the tags became entities.
    bold = f"<b>{fits}</b>"
    assert (await call(fake, "sendMessage", chat_id=ALICE["id"], text=bold, parse_mode="HTML"))[0] == 200


async def test_callback_data_over_64_bytes_is_refused(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))

    def keyboard(data: str) -> dict[str, Any]:
        return {"inline_keyboard": [[{"text": "b", "callback_data": data}]]}

    ok = await call(fake, "sendMessage", chat_id=ALICE["id"], text="t", reply_markup=keyboard("é" * 32))
    assert ok[0] == 200
    status, body = await call(
        fake, "sendMessage", chat_id=ALICE["id"], text="t", reply_markup=keyboard("é" * 33)
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_rate_limit_and_failures_are_injected_and_recorded(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    fake.rate_limit_next("sendMessage", times=1, retry_after=3)
    fake.fail_next("sendMessage", times=1, status=502)
    status, body = await call(fake, "sendMessage", chat_id=ALICE["id"], text="a")
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert (await call(fake, "getMe"))[0] == 200  # other methods are untouched
    assert (await call(fake, "sendMessage", chat_id=ALICE["id"], text="a"))[0] == 502
    assert (await call(fake, "sendMessage", chat_id=ALICE["id"], text="a"))[0] == 200
    assert [r.status for r in fake.find("sendMessage")] == [429, 502, 200]
    assert len(fake.sent_messages()) == 1
    assert len(fake.send_times(ALICE["id"])) == 1  # only accepted messages count


async def test_slow_down_delays_the_answer(fake: FakeTelegram) -> None:
    fake.slow_down("getMe", 0.5, times=1)
    started = time.monotonic()
    await call(fake, "getMe")
    assert time.monotonic() - started >= 0.45


def test_max_in_window_counts_sends_per_window() -> None:
    assert max_in_window([], 1.0) == 0
    assert max_in_window([0.0, 1.0, 2.0], 1.0) == 1
    assert max_in_window([0.0, 0.5, 1.2], 1.0) == 2
    assert max_in_window([float(i) for i in range(30)], 60.0) == 30


async def test_send_times_are_kept_per_chat(fake: FakeTelegram) -> None:
    group = fake.add_chat(group_chat(7, "g", supergroup=True))
    assert str(group["id"]).startswith("-100")
    assert len(str(group["id"])) == 14
    fake.add_chat(private_chat(ALICE))
    for chat_id in (group["id"], group["id"], ALICE["id"]):
        await call(fake, "sendMessage", chat_id=chat_id, text="x")
    assert len(fake.send_times(group["id"])) == 2
    assert len(fake.send_times(ALICE["id"])) == 1
    assert fake.send_times(12345) == []


def test_group_messages_carry_mention_and_command_entities(fake: FakeTelegram) -> None:
    group = group_chat(55, "Readers")
    update = fake.group_message(ALICE, group, f"/ask@{BOT_USERNAME} when?")
    assert update["message"]["entities"] == [
        {"type": "bot_command", "offset": 0, "length": len(f"/ask@{BOT_USERNAME}")}
    ]
    update = fake.group_message(BOB, group, f"👍 @{BOT_USERNAME} what is it?")
    # The emoji takes 2 UTF-16 units, so the mention starts at 3.
    assert update["message"]["entities"] == [{"type": "mention", "offset": 3, "length": 17}]
    assert update["message"]["chat"] == {"id": -55, "type": "group", "title": "Readers"}
    reply = fake.group_message(BOB, group, "and this?", reply_to=update["message"])
    assert reply["message"]["reply_to_message"]["message_id"] == update["message"]["message_id"]
    assert "entities" not in reply["message"]
    assert auto_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert auto_entities("mail me@example.com") == []
    ids = [u["update_id"] for u in fake.updates]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


async def test_callback_and_inline_queries_are_answered_once(fake: FakeTelegram) -> None:
    fake.add_chat(private_chat(ALICE))
    _, sent = await call(fake, "sendMessage", chat_id=ALICE["id"], text="q")
    press = fake.callback_query(ALICE, sent["result"], "more:1")
    query_id = press["callback_query"]["id"]
    assert press["callback_query"]["data"] == "more:1"
    assert (await call(fake, "answerCallbackQuery", callback_query_id=query_id))[0] == 200
    assert (await call(fake, "answerCallbackQuery", callback_query_id=query_id))[0] == 400
    assert (await call(fake, "answerCallbackQuery", callback_query_id="nope"))[0] == 400
    assert fake.callback_answers[query_id] == {"callback_query_id": query_id}

    inline = fake.inline_query(ALICE, "launch date")
    inline_id = inline["inline_query"]["id"]

    def article(text: str) -> dict[str, Any]:
        content = {"message_text": text, "parse_mode": "HTML"}
        return {"type": "article", "id": "1", "title": "t", "input_message_content": content}

    status, body = await call(
        fake, "answerInlineQuery", inline_query_id=inline_id, results=[article("a & b")]
    )
    assert status == 400
    assert "can't parse entities" in body["description"]
    assert (await call(fake, "answerInlineQuery", inline_query_id=inline_id, results=[article("ok")]))[
        0
    ] == 200
    assert fake.inline_answers[inline_id]["results"][0]["input_message_content"]["message_text"] == "ok"


def test_callback_queries_expire(fake: FakeTelegram) -> None:
    fake.callback_query_lifetime = 0.0
    fake.add_chat(private_chat(ALICE))
    message = {"message_id": 1, "chat": private_chat(ALICE), "date": 0, "text": "x"}
    query_id = fake.callback_query(ALICE, message, "d")["callback_query"]["id"]
    time.sleep(0.01)
    status, body = asyncio.run(call(fake, "answerCallbackQuery", callback_query_id=query_id))
    assert status == 400
    assert "query is too old" in body["description"]


def test_post_update_to_sends_the_secret_header(fake: FakeTelegram) -> None:
    seen: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: aiohttp.web.Request) -> aiohttp.web.Response:
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return aiohttp.web.Response(status=200 if seen[-1][0] == "s3cret" else 403)

    async def serve() -> None:
        app = aiohttp.web.Application()
        app.router.add_post("/hook", hook)
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        update = {"update_id": 5, "message": {"message_id": 1, "text": "hi"}}
        good = await asyncio.to_thread(fake.post_update_to, url, update, "s3cret")
        bad = await asyncio.to_thread(fake.post_update_to, url, update, "wrong")
        await runner.cleanup()
        assert (good.status, bad.status) == (200, 403)

    asyncio.run(serve())
    assert seen[0] == ("s3cret", {"update_id": 5, "message": {"message_id": 1, "text": "hi"}})


def test_while_a_webhook_is_set_updates_are_not_queued(fake: FakeTelegram) -> None:
    asyncio.run(call(fake, "setWebhook", url="http://127.0.0.1:1/hook"))
    update = fake.private_message(ALICE, "pushed, not polled")
    assert update["update_id"] > 0
    assert fake.updates == []


async def test_wait_request_and_mark(fake: FakeTelegram) -> None:
    await call(fake, "getMe")
    since = fake.mark()
    waiter = asyncio.create_task(asyncio.to_thread(fake.wait_request, "getMe", since=since, timeout=5))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await call(fake, "getMe")
    record = await waiter
    assert record.method == "getMe"
    assert fake.requests.index(record) == since
    with pytest.raises(TimeoutError):
        fake.wait_request("sendMessage", timeout=0.05)


# -- python-telegram-bot itself, in-process --------------------------------------------------------


def _application(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    return (
        Application.builder()
        .token(fake.token)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )


async def test_python_telegram_bot_calls_the_fake(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without this opt-in, RetryAfter's constructor itself issues a PTBDeprecationWarning (v22.2),
    # which this suite's warnings-as-errors turns into the exception raised instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake.add_chat(private_chat(ALICE))
    async with _application(fake) as app:
        me = await app.bot.get_me()
        assert (me.id, me.username) == (BOT_ID, BOT_USERNAME)
        sent = await app.bot.send_message(ALICE["id"], "<b>hi</b>", parse_mode="HTML")
        assert sent.text == "hi"
        assert sent.chat.id == ALICE["id"]
        assert sent.from_user is not None
        assert sent.from_user.id == BOT_ID
        # python-telegram-bot drops "Bad Request: " and capitalises what is left.
        with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
            await app.bot.send_message(ALICE["id"], "Tom & Jerry", parse_mode="HTML")
        fake.rate_limit_next("sendMessage", retry_after=2)
        with pytest.raises(RetryAfter) as limited:
            await app.bot.send_message(ALICE["id"], "again")
        assert limited.value.retry_after == dt.timedelta(seconds=2)
    assert [(r.method, r.status) for r in fake.requests] == [
        ("getMe", 200),  # Application.initialize asks who the bot is
        ("getMe", 200),
        ("sendMessage", 200),
        ("sendMessage", 400),
        ("sendMessage", 429),
    ]
    # python-telegram-bot sends a form, every non-string value JSON-encoded.
    assert fake.requests[2].content_type == "application/x-www-form-urlencoded"
    assert fake.unknown_methods == []


async def test_python_telegram_bot_long_polls_the_fake(fake: FakeTelegram) -> None:
    texts: list[str] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        texts.append(update.message.text or "")
        await update.message.reply_text(f"<i>{update.message.text}</i>", parse_mode="HTML", do_quote=True)

    app = _application(fake)
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=["message", "callback_query"], timeout=10)
        await asyncio.to_thread(fake.wait_polling, 5)
        update = fake.private_message(ALICE, "hello")
        reply = await asyncio.to_thread(fake.wait_request, "sendMessage", timeout=5)
        await app.updater.stop()
        await app.stop()
    assert texts == ["hello"]
    assert reply.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert reply.result["reply_to_message"]["text"] == "hello"
    calls = [(r.method, r.status, r.params.get("timeout"), r.params.get("offset")) for r in fake.requests]
    after = update["update_id"] + 1
    assert calls == [
        ("getMe", 200, None, None),
        ("deleteWebhook", 200, None, None),  # polling starts by removing any webhook
        ("getUpdates", 200, 10, 0),
        ("sendMessage", 200, None, None),
        ("getUpdates", 499, 10, after),  # the held poll, abandoned at stop
        ("getUpdates", 200, 0, after),  # then one last call confirms the offset
    ]
    assert fake.allowed_updates == ["message", "callback_query"]
    assert fake.updates == []
    assert fake.unknown_methods == []
