"""Fixtures of the Telegram front's tests: one loopback Bot API and one real bot per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.telegram_front.fake_telegram import FakeTelegram
from tests.telegram_front.harness import TelegramBot, knowledge_copy, start_bot

ADMIN_ID = 111111


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    """The loopback Bot API the module's bot talks to."""
    server = FakeTelegram().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's folder: a copy of the knowledge, and its database once it runs."""
    path = tmp_path_factory.mktemp("citebot-telegram")
    knowledge_copy(path)
    return path


@pytest.fixture(scope="module")
def bot(fake: FakeTelegram, root: Path) -> Iterator[TelegramBot]:
    """``python -m bot telegram``, polling; it must stop cleanly, send only valid requests and
    never log the token."""
    process = start_bot(
        fake, root, TELEGRAM_ADMIN_IDS=f"{ADMIN_ID}, 222222", HEALTH_FILE=str(root / "health")
    )
    yield process
    assert process.stop() == 0, process.output()
    assert fake.token not in process.output()
    assert fake.token.split(":")[1] not in process.output()
    assert fake.unknown_methods == []
    assert fake.parse_errors == []  # every message sent was valid Telegram HTML
