"""Telegram's sending limits: paced per chat, per group and overall; 429s and 5xx waited out.

The callback stands in for python-telegram-bot's HTTP request (not our code), recording when each
message would have reached Telegram. Windows are shortened so the tests stay quick.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import time
from typing import Any

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram_front.limits import SendingLimits
from tests.telegram_front.fake_telegram import max_in_window


class Telegram:
    """Records arrival times; raises the queued errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, object, float]] = []

    async def post(self, endpoint: str, data: dict[str, Any]) -> bool:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((endpoint, data.get("chat_id"), time.monotonic()))
        return True


async def send(limits: SendingLimits, telegram: Telegram, endpoint: str, **data: Any) -> object:
    return await limits.process_request(telegram.post, (endpoint, data), {}, endpoint, data, None)


def times(telegram: Telegram, chat: object) -> list[float]:
    return [at for _, c, at in telegram.sent if c == chat]


async def test_one_chat_gets_a_message_per_interval_in_order_and_others_are_not_held() -> None:
    limits, telegram = SendingLimits(chat_interval=0.2), Telegram()
    await asyncio.gather(
        *(send(limits, telegram, "sendMessage", chat_id=1, text=str(n)) for n in range(4)),
        send(limits, telegram, "sendMessage", chat_id=2, text="other"),
    )
    ones = times(telegram, 1)
    assert max_in_window(ones, 0.19) == 1 and len(ones) == 4
    assert times(telegram, 2)[0] - ones[0] < 0.1  # another chat did not wait its turn


async def test_groups_are_held_to_their_window_and_everyone_to_the_overall_rate() -> None:
    limits = SendingLimits(chat_interval=0.0, group=(3, 0.5), overall_spacing=0.05)
    telegram = Telegram()
    await asyncio.gather(
        *(send(limits, telegram, "sendMessage", chat_id=-100, text=str(n)) for n in range(6))
    )
    assert max_in_window(times(telegram, -100), 0.49) <= 3
    telegram = Telegram()
    await asyncio.gather(*(send(limits, telegram, "sendMessage", chat_id=n, text="x") for n in range(12)))
    overall = sorted(at for *_, at in telegram.sent)
    assert min(b - a for a, b in itertools.pairwise(overall)) >= 0.045  # evenly spaced, not in bursts


async def test_button_and_inline_answers_are_never_held() -> None:
    limits, telegram = SendingLimits(chat_interval=5.0), Telegram()
    await send(limits, telegram, "sendMessage", chat_id=1, text="x")
    started = time.monotonic()
    await send(limits, telegram, "answerCallbackQuery", callback_query_id="q")
    await send(limits, telegram, "answerInlineQuery", inline_query_id="i", results=[])
    assert time.monotonic() - started < 0.1


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_a_429_waits_retry_after_then_sends_and_the_chat_waits_with_it() -> None:
    limits = SendingLimits(chat_interval=0.0)
    telegram = Telegram(RetryAfter(dt.timedelta(seconds=1)))
    started = time.monotonic()
    assert await send(limits, telegram, "sendMessage", chat_id=7, text="x") is True
    assert len(telegram.sent) == 1 and telegram.sent[0][2] - started >= 0.95 and limits.retried == 1


async def test_server_errors_are_retried_but_refusals_and_timeouts_are_not() -> None:
    limits = SendingLimits(chat_interval=0.0)
    telegram = Telegram(NetworkError("Bad Gateway"))
    assert await send(limits, telegram, "sendMessage", chat_id=7, text="x") is True
    for final in (BadRequest("can't parse entities"), TimedOut()):
        telegram = Telegram(final)
        with pytest.raises(type(final)):
            await send(limits, telegram, "sendMessage", chat_id=7, text="x")
        assert telegram.sent == []


async def test_retries_give_up_after_the_last_attempt() -> None:
    limits = SendingLimits(chat_interval=0.0, max_attempts=3)
    telegram = Telegram(*(NetworkError("Bad Gateway") for _ in range(3)))
    with pytest.raises(NetworkError):
        await send(limits, telegram, "sendMessage", chat_id=7, text="x")
    assert telegram.sent == []
