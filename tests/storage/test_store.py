"""The store on real SQLite files: migrations, refusal of newer schemas, corrupt and locked files."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.storage import (
    DatabaseUnavailableError,
    QuestionRecord,
    SchemaTooNewError,
    StorageError,
    Store,
    UnknownAnswerError,
)
from bot.storage.migrations import MIGRATIONS, SCHEMA_VERSION


def _record(
    question: str = "Where does tea come from?", *, asked_at: dt.datetime | None = None
) -> QuestionRecord:
    return QuestionRecord(
        asked_at=asked_at or dt.datetime.now(dt.UTC),
        guild_id=1,
        channel_id=2,
        user_hash="u1",
        question=question,
        answered=False,
        confidence=0.1,
        reason="low_confidence",
        citations=(),
        latency_ms=1.0,
        knowledge_version="v1",
    )


async def test_new_database_is_wal_with_foreign_keys_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "db.sqlite3"
    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


async def test_version_1_database_is_upgraded_in_place_keeping_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        raw.execute(statement)
    raw.execute(
        "INSERT INTO questions (asked_at, guild_id, channel_id, user_hash, question, answered,"
        " confidence, citations, latency_ms, knowledge_version)"
        " VALUES ('2026-01-01 10:00:00.000000', 1, 2, 'u', 'old one?', 0, 0.2, '[]', 3.0, 'v0')"
    )
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()

    store = await Store.open(path)
    try:
        assert await store.schema_version() == SCHEMA_VERSION == 5
        old = await store.unanswered(limit=10)
        assert [q.question for q in old] == ["old one?"]
        assert old[0].reason is None  # the column v2 added
        new_id = await store.log_question(_record())
        assert new_id == old[0].id + 1
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        # v4's column: which front asked (unknown for the old row).
        assert raw.execute("SELECT front FROM questions ORDER BY id").fetchall() == [(None,), (None,)]
    raw.close()


async def test_database_from_a_newer_citebot_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE future (x)")
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNewError, match=r"schema version 10, newer than the 5 this citebot knows"):
        await Store.open(path)
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    assert raw.execute("SELECT name FROM sqlite_master").fetchall() == [("future",)]
    raw.close()


async def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database, just some garbage bytes " * 100)
    with pytest.raises(DatabaseUnavailableError, match="corrupt or not a SQLite database") as caught:
        await Store.open(path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)


async def test_locked_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailableError, match="locked by another process"):
            await Store.open(path, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_feedback_on_unknown_answer_is_a_clear_storage_error(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        with pytest.raises(UnknownAnswerError, match="no answer 42"):
            await store.record_feedback(42, "u", True)
        assert issubclass(UnknownAnswerError, StorageError)
    finally:
        await store.close()


async def test_prune_deletes_only_questions_older_than_the_cutoff(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    now = dt.datetime.now(dt.UTC)
    try:
        old = await store.log_question(_record("old?", asked_at=now - dt.timedelta(days=100)))
        await store.record_feedback(old, "voter", True)
        await store.log_question(_record("recent?", asked_at=now - dt.timedelta(days=1)))
        assert await store.prune(now - dt.timedelta(days=90)) == 1
        assert [q.question for q in await store.unanswered(limit=10)] == ["recent?"]
        stats = await store.stats(since=now - dt.timedelta(days=365), days=365)
        assert (stats.questions, stats.helpful) == (1, 0)  # the old answer's vote went with it
    finally:
        await store.close()


async def test_guild_settings_round_trip_with_defaults(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        empty = await store.guild_settings(7, default_cooldown=5.0)
        assert (empty.answer_channels, empty.admin_role_id, empty.cooldown_seconds) == (
            frozenset(),
            None,
            5.0,
        )
        await store.add_answer_channel(7, 100)
        await store.add_answer_channel(7, 100)
        await store.add_answer_channel(7, 101)
        await store.add_answer_channel(8, 200)
        await store.set_admin_role(7, 55)
        await store.set_cooldown(7, 2.5)
        assert await store.remove_answer_channel(7, 101) is True
        assert await store.remove_answer_channel(7, 101) is False
        settings = await store.guild_settings(7, default_cooldown=5.0)
        assert (settings.answer_channels, settings.admin_role_id, settings.cooldown_seconds) == (
            frozenset({100}),
            55,
            2.5,
        )
        await store.set_admin_role(7, None)
        assert (await store.guild_settings(7, default_cooldown=5.0)).admin_role_id is None
    finally:
        await store.close()


async def test_meta_values_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = await Store.open(path)
    await store.set_meta("commands_hash", "abc")
    await store.set_meta("commands_hash", "def")
    await store.close()
    store = await Store.open(path)
    try:
        assert await store.get_meta("commands_hash") == "def"
        assert await store.get_meta("missing") is None
    finally:
        await store.close()
