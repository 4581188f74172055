"""Fixtures of the Discord front's tests: one loopback Discord and one real bot per test module."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

# discord.py imports the stdlib audioop (deprecated in 3.11) for voice we do not use; import it
# once here with that one warning silenced, since pytest turns warnings into errors.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from tests.discord_front.fake_discord import TOKEN, FakeDiscord
from tests.discord_front.harness import BotProcess, knowledge_copy, start_bot


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeDiscord]:
    """The loopback Discord the module's bot talks to."""
    server = FakeDiscord().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bot's folder: a copy of the knowledge, and its database once it runs."""
    path = tmp_path_factory.mktemp("citebot")
    knowledge_copy(path)
    return path


@pytest.fixture(scope="module")
def bot(fake: FakeDiscord, root: Path) -> Iterator[BotProcess]:
    """``python -m bot discord``, connected; it must stop cleanly and never log the token."""
    process = start_bot(fake, root, HEALTH_FILE=str(root / "health"))
    yield process
    assert process.stop() == 0, process.output()
    assert TOKEN not in process.output()
