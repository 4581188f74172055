"""The one store module: every SQLite statement citebot runs lives here.

:class:`Store` wraps one aiosqlite connection in WAL mode with foreign keys on. Writes that
belong together run in one ``BEGIN IMMEDIATE`` transaction, and an :class:`asyncio.Lock`
keeps the statements of one transaction from interleaving with another coroutine's on the
shared connection. Every ``sqlite3`` error leaves as a :class:`StorageError`, chained.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from bot.storage.errors import (
    DatabaseUnavailableError,
    SchemaTooNewError,
    StorageError,
    UnknownAnswerError,
)
from bot.storage.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "DayActivity",
    "DayCount",
    "GuildSettings",
    "LoggedQuestion",
    "QuestionRecord",
    "ReviewRow",
    "Stats",
    "Store",
    "StoredDocument",
    "StoredIntentFile",
    "StoredKnowledge",
    "TaughtIntent",
]

log = logging.getLogger(__name__)

SourceKind = Literal["file", "admin"]
TOP_QUESTIONS = 5
SQLITE_HEADER_BYTES = 100
_VERSION_KEY = "knowledge_version"
_SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
_GET_META = "SELECT value FROM meta WHERE key = ?"
_SET_VERDICT = (
    "INSERT INTO review_verdicts (question, verdict, decided_by, decided_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (question) DO UPDATE SET verdict = excluded.verdict,"
    " decided_by = excluded.decided_by, decided_at = excluded.decided_at"
)


def _timestamp(moment: dt.datetime) -> str:
    # One fixed-width UTC format: string order is time order, and the first 10 characters are the day.
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A knowledge document as the store keeps it: source text plus what describes it."""

    id: str
    title: str
    url: str | None
    author: str | None
    published: str | None  # ISO date
    text: str  # the source text, front matter included, exactly as read or added
    source_kind: SourceKind
    source: str  # file path, or a name for an admin's document
    added_by: str | None
    added_at: dt.datetime
    content_hash: str
    # The parsed layout (JSON, written by the runtime) so start-up can skip parsing; None: parse.
    structure: str | None = None


@dataclass(frozen=True, slots=True)
class StoredIntentFile:
    """The raw text of one intent YAML file."""

    source: str
    text: str


@dataclass(frozen=True, slots=True)
class TaughtIntent:
    """An intent an admin taught, as the store keeps it."""

    id: str
    intent: str  # JSON of the intent, as its YAML would hold it
    taught_by: str | None
    taught_at: dt.datetime


@dataclass(frozen=True, slots=True)
class StoredKnowledge:
    """Everything that shapes answers, read in one snapshot; ``version`` is None before the first import."""

    documents: tuple[StoredDocument, ...]
    intent_files: tuple[StoredIntentFile, ...]
    version: str | None
    taught: tuple[TaughtIntent, ...] = ()


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One answered (or declined) question, ready to log."""

    asked_at: dt.datetime
    guild_id: int | None
    channel_id: int | None
    user_hash: str | None
    question: str
    answered: bool
    confidence: float
    reason: str
    citations: tuple[dict[str, Any], ...]
    latency_ms: float
    knowledge_version: str
    front: str | None = None  # "discord", "telegram"; None: the command line


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """A question from the log."""

    id: int
    asked_at: dt.datetime
    guild_id: int | None
    channel_id: int | None
    question: str
    answered: bool
    confidence: float
    reason: str | None
    knowledge_version: str


@dataclass(frozen=True, slots=True)
class ReviewRow:
    """A logged question the review queue may hold: declined, voted down or answered unsurely."""

    id: int
    asked_at: dt.datetime
    question: str
    answered: bool
    confidence: float
    reason: str | None
    citations: tuple[dict[str, Any], ...]  # as logged: document, paragraph, text
    thumbs_down: int


@dataclass(frozen=True, slots=True)
class DayCount:
    """Questions asked on one day (UTC) and how many of them were answered."""

    day: dt.date
    questions: int
    answered: int


@dataclass(frozen=True, slots=True)
class DayActivity:
    """One day (UTC) of the question log: questions asked and answered, and the votes on them."""

    day: dt.date
    asked: int
    answered: int
    helpful: int
    not_helpful: int

    @property
    def answered_share(self) -> float | None:
        """The share of the day's questions answered, 0-1; None on a day without questions."""
        return self.answered / self.asked if self.asked else None


@dataclass(frozen=True, slots=True)
class Stats:
    """What the question log says about a period."""

    days: int
    questions: int
    answered: int
    per_day: tuple[DayCount, ...]
    top_questions: tuple[tuple[str, int], ...]
    helpful: int
    not_helpful: int

    @property
    def answered_share(self) -> float:
        """The share of questions answered, 0-1 (0 when there were none)."""
        return self.answered / self.questions if self.questions else 0.0


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """Per-guild settings of the Discord front."""

    answer_channels: frozenset[int]
    admin_role_id: int | None
    cooldown_seconds: float


@contextmanager
def _translated(path: Path, action: str) -> Iterator[None]:
    """Translate sqlite3 errors raised inside the block into StorageError subclasses."""
    try:
        yield
    except sqlite3.Error as exc:
        message = str(exc)
        lowered = message.lower()
        if "locked" in lowered or "busy" in lowered:
            raise DatabaseUnavailableError(
                f"the database {path} is locked by another process (is another citebot running?)"
            ) from exc
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            raise DatabaseUnavailableError(
                f"the database {path} is corrupt or not a SQLite database ({message}); "
                "restore a backup or point DATABASE_PATH elsewhere"
            ) from exc
        if "unable to open" in lowered or "readonly" in lowered or "disk i/o" in lowered:
            raise DatabaseUnavailableError(f"cannot use the database {path}: {message}") from exc
        raise StorageError(f"database error while {action}: {message}") from exc
    except ValueError as exc:  # aiosqlite: "no active connection"
        raise StorageError(f"database error while {action}: {exc}") from exc


_INSERT_QUESTION = (
    "INSERT INTO questions (id, asked_at, guild_id, channel_id, user_hash, question, answered,"
    " confidence, reason, citations, latency_ms, knowledge_version, front)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _question_values(record: QuestionRecord) -> tuple[Any, ...]:
    return (
        _timestamp(record.asked_at),
        record.guild_id,
        record.channel_id,
        record.user_hash,
        record.question,
        int(record.answered),
        record.confidence,
        record.reason,
        json.dumps(record.citations, ensure_ascii=False),
        record.latency_ms,
        record.knowledge_version,
        record.front,
    )


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class Store:
    """The SQLite database behind citebot; open with :meth:`open`, always :meth:`close`."""

    def __init__(self, db: aiosqlite.Connection, path: Path, *, timeout: float = 5.0) -> None:
        """Wrap an open connection; use :meth:`open` instead."""
        self._db = db
        self.path = path
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._identity = _file_identity(path)
        # What went wrong with the file itself (deleted, replaced, found empty); None while it is fine.
        self.file_problem: str | None = None
        # Seconds to sleep between the statements of a knowledge transaction. Only the crash
        # tests set it, to kill a reload while its transaction is open.
        self.write_pause = 0.0

    # -- connection -----------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path, *, timeout: float = 5.0) -> Store:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises :class:`DatabaseUnavailableError` for a corrupt, locked or unreadable file and
        :class:`SchemaTooNewError` for a database written by a newer citebot.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(f"cannot create the folder of the database {path}: {exc}") from exc
        # SQLite takes a file shorter than its 100-byte header for a new database and overwrites it;
        # such a file usually means a lost database, so it is reported.
        size = path.stat().st_size if path.is_file() else None
        db = await cls._connect(path, timeout)
        store = cls(db, path, timeout=timeout)
        try:
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        if size is not None and size < SQLITE_HEADER_BYTES:
            found = "empty (0 bytes)" if size == 0 else f"only {size} bytes, too short to be a database,"
            store.file_problem = (
                f"the database file {path} was {found} at start, so citebot began a new "
                "database there; if it held data, restore it from a backup"
            )
            log.warning("%s", store.file_problem)
        return store

    @staticmethod
    async def _connect(path: Path, timeout: float) -> aiosqlite.Connection:
        try:
            db = await aiosqlite.connect(path, isolation_level=None, timeout=timeout)
        except sqlite3.Error as exc:
            raise DatabaseUnavailableError(f"cannot open the database {path}: {exc}") from exc
        try:
            with _translated(path, "opening the database"):
                await db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
                await db.execute("PRAGMA journal_mode = WAL")
                await db.execute("PRAGMA foreign_keys = ON")
                # In WAL mode NORMAL is still crash-safe (a commit may be lost, never half-applied)
                # and spares an fsync per logged question.
                await db.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await db.close()
            raise
        return db

    async def check_file(self) -> str | None:
        """Notice the database file being deleted or replaced under the open connection.

        SQLite keeps writing to the open (now nameless) file, and all of it would vanish at exit.
        A deleted file is written back from the open connection, and the store goes on there; a
        replaced one is left alone (someone put it there on purpose) and reported. Returns the
        problem, also kept in :attr:`file_problem`, or None.
        """
        identity = _file_identity(self.path)
        if identity == self._identity:
            return self.file_problem
        async with self._lock:
            identity = _file_identity(self.path)
            if identity is None:
                problem = await self._restore()
            elif identity != self._identity:
                problem = (
                    f"the database file {self.path} was replaced by another file while citebot was "
                    "using it; citebot keeps writing to the file it opened. Restart citebot to use the "
                    "new file"
                )
                self._identity = identity
            else:
                return self.file_problem
            self.file_problem = problem
        log.warning("%s", problem)
        return problem

    async def _restore(self) -> str:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = await aiosqlite.connect(self.path, isolation_level=None, timeout=self._timeout)
            try:
                await self._db.backup(target)
            finally:
                await target.close()
            fresh = await self._connect(self.path, self._timeout)
        except (sqlite3.Error, OSError, StorageError) as exc:
            self._identity = None
            return (
                f"the database file {self.path} was deleted at {when} and could not be written back "
                f"({exc}); what is logged now is lost when citebot stops"
            )
        old, self._db = self._db, fresh
        with contextlib.suppress(sqlite3.Error, ValueError):
            await old.close()
        self._identity = _file_identity(self.path)
        return (
            f"the database file {self.path} was deleted at {when}; citebot wrote it back from its "
            "open connection and nothing was lost"
        )

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._errors("closing the database"):
            await self._db.close()

    def _errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        """Translate sqlite3 errors raised inside the block into StorageError subclasses."""
        return _translated(self.path, action)

    @asynccontextmanager
    async def _locked(self, action: str) -> AsyncIterator[None]:
        """Hold the connection for ``action``, translating its errors."""
        async with self._lock:
            with self._errors(action):
                yield

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        """One write transaction; the caller holds ``self._lock``."""
        await self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._db.in_transaction:
                await self._db.execute("ROLLBACK")
            raise
        await self._db.execute("COMMIT")

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"the database {self.path} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this citebot knows: upgrade citebot, or point DATABASE_PATH elsewhere"
            )
        for number in range(version + 1, SCHEMA_VERSION + 1):
            async with self._lock, self._transaction():
                for statement in MIGRATIONS[number - 1]:
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        """The number of migrations applied to the database."""
        with self._errors("reading the schema version"):
            rows = await self._db.execute_fetchall("PRAGMA user_version")
        return int(next(iter(rows))[0])

    async def _pause(self) -> None:
        if self.write_pause:
            await asyncio.sleep(self.write_pause)

    # -- meta -----------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        """The value stored under ``key``, if any."""
        with self._errors("reading a setting"):
            rows = list(await self._db.execute_fetchall(_GET_META, (key,)))
        return str(rows[0][0]) if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any value there."""
        async with self._locked("saving a setting"):
            await self._db.execute(
                _SET_META,
                (key, value),
            )

    # -- knowledge ------------------------------------------------------------------------

    async def load_knowledge(self) -> StoredKnowledge:
        """Every document, intent file and the knowledge version, from one consistent snapshot."""
        return await self._read_knowledge(with_text=True)

    async def knowledge_catalog(self) -> StoredKnowledge:
        """:meth:`load_knowledge` without the documents' text and layouts, for a start from a snapshot.

        Its documents have an empty ``text``: they describe what is stored and must never be
        written back.
        """
        return await self._read_knowledge(with_text=False)

    async def _read_knowledge(self, *, with_text: bool) -> StoredKnowledge:
        # Without the text, a million sentences' documents are read in milliseconds, not seconds.
        text = "text, structure" if with_text else "'', NULL"
        async with self._locked("reading the knowledge"):
            # A read transaction: another process's reload is either wholly seen or not at all.
            await self._db.execute("BEGIN")
            try:
                docs = await self._db.execute_fetchall(
                    "SELECT id, title, url, author, published, source_kind, source, added_by, added_at,"
                    f" content_hash, {text} FROM documents ORDER BY id"
                )
                intents = await self._db.execute_fetchall(
                    "SELECT source, text FROM intent_files ORDER BY source"
                )
                taught = await self._db.execute_fetchall(
                    "SELECT id, intent, taught_by, taught_at FROM taught_intents ORDER BY taught_at, id"
                )
                version = await self._db.execute_fetchall(_GET_META, (_VERSION_KEY,))
            finally:
                await self._db.execute("COMMIT")
        documents = tuple(
            StoredDocument(r[0], r[1], r[2], r[3], r[4], r[10], r[5], r[6], r[7], _moment(r[8]), r[9], r[11])
            for r in docs
        )
        versions = list(version)
        return StoredKnowledge(
            documents,
            tuple(StoredIntentFile(r[0], r[1]) for r in intents),
            str(versions[0][0]) if versions else None,
            tuple(TaughtIntent(r[0], r[1], r[2], _moment(r[3])) for r in taught),
        )

    async def replace_knowledge(
        self,
        documents: Sequence[StoredDocument],
        intent_files: Sequence[StoredIntentFile],
        version: str,
        *,
        expected_version: str | None,
    ) -> None:
        """Replace every document and intent file and set the knowledge version, in one transaction.

        ``expected_version`` is the version the caller built on; if another process changed the
        knowledge since, nothing is written and :class:`StorageError` says to try again.
        """
        async with self._locked("saving the knowledge"), self._transaction():
            rows = await self._db.execute_fetchall(_GET_META, (_VERSION_KEY,))
            current = next((str(r[0]) for r in rows), None)
            if current != expected_version:
                raise StorageError(
                    "the knowledge was changed by another process meanwhile; nothing was saved, try again"
                )
            await self._db.execute("DELETE FROM documents")
            await self._pause()
            await self._db.executemany(
                "INSERT INTO documents (id, title, url, author, published, text, source_kind, source,"
                " added_by, added_at, content_hash, structure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.id,
                        d.title,
                        d.url,
                        d.author,
                        d.published,
                        d.text,
                        d.source_kind,
                        d.source,
                        d.added_by,
                        _timestamp(d.added_at),
                        d.content_hash,
                        d.structure,
                    )
                    for d in documents
                ],
            )
            await self._pause()
            await self._db.execute("DELETE FROM intent_files")
            await self._db.executemany(
                "INSERT INTO intent_files (source, text) VALUES (?, ?)",
                [(f.source, f.text) for f in intent_files],
            )
            await self._pause()
            await self._db.execute(
                "INSERT OR IGNORE INTO knowledge_versions (version, created_at, documents, intents)"
                " VALUES (?, ?, ?, ?)",
                (version, _timestamp(dt.datetime.now(dt.UTC)), len(documents), len(intent_files)),
            )
            await self._db.execute(
                _SET_META,
                (_VERSION_KEY, version),
            )
            await self._pause()

    async def record_version(self, version: str, *, expected_version: str | None, intents: int) -> None:
        """Set the knowledge version alone: the documents and intents are unchanged, the model is new.

        Refused as :meth:`replace_knowledge` is when another process changed the knowledge meanwhile.
        """
        async with self._locked("saving the knowledge version"), self._transaction():
            await self._set_version(version, expected_version, intents)

    async def _set_version(self, version: str, expected_version: str | None, intents: int) -> None:
        """Within a transaction: refuse if the knowledge moved on from ``expected_version``, else set it."""
        rows = await self._db.execute_fetchall(_GET_META, (_VERSION_KEY,))
        if next((str(r[0]) for r in rows), None) != expected_version:
            raise StorageError(
                "the knowledge was changed by another process meanwhile; nothing was saved, try again"
            )
        documents = list(await self._db.execute_fetchall("SELECT count(*) FROM documents"))
        await self._db.execute(
            "INSERT OR IGNORE INTO knowledge_versions (version, created_at, documents, intents)"
            " VALUES (?, ?, ?, ?)",
            (version, _timestamp(dt.datetime.now(dt.UTC)), int(documents[0][0]), intents),
        )
        await self._db.execute(_SET_META, (_VERSION_KEY, version))

    async def save_taught(
        self,
        taught: TaughtIntent,
        version: str,
        *,
        expected_version: str | None,
        question: str,
        intents: int,
    ) -> None:
        """Save (or replace) a taught intent, the new knowledge version and the taught ``question``'s
        verdict, in one transaction.

        ``question`` is the folded wording the review queue knows it by; ``intents`` is how many
        intents the new knowledge has. Refused as :meth:`replace_knowledge` is when another process
        changed the knowledge meanwhile.
        """
        now = _timestamp(dt.datetime.now(dt.UTC))
        async with self._locked("saving a taught intent"), self._transaction():
            await self._set_version(version, expected_version, intents)
            await self._db.execute(
                "INSERT INTO taught_intents (id, intent, taught_by, taught_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET intent = excluded.intent",
                (taught.id, taught.intent, taught.taught_by, _timestamp(taught.taught_at)),
            )
            await self._db.execute(_SET_VERDICT, (question, "taught", taught.taught_by, now))

    # -- review queue -----------------------------------------------------------------------

    async def review_rows(self, *, below: float, guild_id: int | None = None) -> list[ReviewRow]:
        """Logged questions declined, voted down or answered with confidence under ``below``; newest first."""
        where = (
            "(q.answered = 0 OR q.confidence < ? OR EXISTS"
            " (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0))"
        )
        params: tuple[Any, ...] = (below,)
        if guild_id is not None:
            where, params = f"{where} AND q.guild_id = ?", (below, guild_id)
        with self._errors("reading the question log"):
            rows = await self._db.execute_fetchall(
                "SELECT q.id, q.asked_at, q.question, q.answered, q.confidence, q.reason, q.citations,"
                " (SELECT count(*) FROM feedback f WHERE f.question_id = q.id AND f.helpful = 0)"
                f" FROM questions q WHERE {where} ORDER BY q.id DESC",
                params,
            )
        return [
            ReviewRow(r[0], _moment(r[1]), r[2], bool(r[3]), r[4], r[5], tuple(json.loads(r[6])), int(r[7]))
            for r in rows
        ]

    async def logged_question(self, question_id: int) -> str | None:
        """The wording of the logged question ``question_id``, if it is still in the log."""
        with self._errors("reading the question log"):
            rows = list(
                await self._db.execute_fetchall("SELECT question FROM questions WHERE id = ?", (question_id,))
            )
        return str(rows[0][0]) if rows else None

    async def review_verdicts(self) -> dict[str, str]:
        """Each judged question (its folded wording) with its verdict: "taught" or "not_in_sources"."""
        with self._errors("reading the review verdicts"):
            rows = await self._db.execute_fetchall("SELECT question, verdict FROM review_verdicts")
        return {str(r[0]): str(r[1]) for r in rows}

    async def set_review_verdict(self, question: str, verdict: str, decided_by: str | None) -> None:
        """Record a verdict on ``question`` (its folded wording), replacing any before."""
        async with self._locked("saving a review verdict"):
            await self._db.execute(
                _SET_VERDICT, (question, verdict, decided_by, _timestamp(dt.datetime.now(dt.UTC)))
            )

    # -- question log ---------------------------------------------------------------------

    async def log_question(self, record: QuestionRecord) -> int:
        """Append ``record`` to the question log; returns its id."""
        async with self._locked("logging a question"):
            row = await self._db.execute_insert(_INSERT_QUESTION, (None, *_question_values(record)))
        if row is None:  # pragma: no cover - SQLite always has a last row id after an insert
            raise StorageError("the question log did not return the new row's id")
        return int(row[0])

    async def log_questions(self, records: Sequence[tuple[int, QuestionRecord]]) -> None:
        """Append (id, record) pairs to the question log in one transaction: all or none."""
        async with self._locked("logging questions"), self._transaction():
            await self._db.executemany(
                _INSERT_QUESTION, [(question_id, *_question_values(r)) for question_id, r in records]
            )

    async def unanswered(
        self, *, limit: int, offset: int = 0, guild_id: int | None = None
    ) -> list[LoggedQuestion]:
        """Declined questions, newest first."""
        where, params = self._guild_filter("answered = 0", guild_id)
        with self._errors("reading the question log"):
            rows = await self._db.execute_fetchall(
                "SELECT id, asked_at, guild_id, channel_id, question, answered, confidence, reason,"
                f" knowledge_version FROM questions WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
        return [
            LoggedQuestion(r[0], _moment(r[1]), r[2], r[3], r[4], bool(r[5]), r[6], r[7], r[8]) for r in rows
        ]

    @staticmethod
    def _guild_filter(condition: str, guild_id: int | None) -> tuple[str, tuple[Any, ...]]:
        if guild_id is None:
            return condition, ()
        return f"{condition} AND guild_id = ?", (guild_id,)

    async def stats(self, *, since: dt.datetime, days: int, guild_id: int | None = None) -> Stats:
        """Counts of the questions asked since ``since``."""
        where, params = self._guild_filter("asked_at >= ?", guild_id)
        params = (_timestamp(since), *params)
        with self._errors("reading the question log"):
            per_day = await self._db.execute_fetchall(
                f"SELECT substr(asked_at, 1, 10), count(*), sum(answered) FROM questions WHERE {where}"
                " GROUP BY 1 ORDER BY 1",
                params,
            )
            top = await self._db.execute_fetchall(
                f"SELECT lower(trim(question)) AS q, count(*) AS n FROM questions WHERE {where}"
                " GROUP BY q ORDER BY n DESC, q LIMIT ?",
                (*params, TOP_QUESTIONS),
            )
            votes = list(
                await self._db.execute_fetchall(
                    "SELECT coalesce(sum(f.helpful), 0), coalesce(sum(1 - f.helpful), 0) FROM feedback f"
                    f" JOIN questions ON questions.id = f.question_id WHERE {where}",
                    params,
                )
            )
        counts = tuple(DayCount(dt.date.fromisoformat(r[0]), int(r[1]), int(r[2])) for r in per_day)
        return Stats(
            days,
            sum(c.questions for c in counts),
            sum(c.answered for c in counts),
            counts,
            tuple((str(r[0]), int(r[1])) for r in top),
            int(votes[0][0]),
            int(votes[0][1]),
        )

    async def daily_activity(
        self, *, since: dt.datetime, until: dt.datetime, guild_id: int | None = None
    ) -> tuple[DayActivity, ...]:
        """Every day from ``since`` to ``until`` (UTC), days without questions included as zeros.

        Votes count on the day of the question they rate, as :meth:`stats` counts them: the days'
        votes add up to its totals, and a day's votes say how that day's answers were received.
        """
        where, params = self._guild_filter("asked_at >= ?", guild_id)
        params = (_timestamp(since), *params)
        with self._errors("reading the question log"):
            asked = await self._db.execute_fetchall(
                f"SELECT substr(asked_at, 1, 10), count(*), sum(answered) FROM questions WHERE {where}"
                " GROUP BY 1",
                params,
            )
            votes = await self._db.execute_fetchall(
                "SELECT substr(asked_at, 1, 10), sum(f.helpful), sum(1 - f.helpful) FROM feedback f"
                f" JOIN questions ON questions.id = f.question_id WHERE {where} GROUP BY 1",
                params,
            )
        counts = {dt.date.fromisoformat(r[0]): (int(r[1]), int(r[2])) for r in asked}
        voted = {dt.date.fromisoformat(r[0]): (int(r[1]), int(r[2])) for r in votes}
        first = since.astimezone(dt.UTC).date()
        # A question stamped after ``until`` (another process's clock) still gets its day.
        last = max([until.astimezone(dt.UTC).date(), *counts])
        days = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
        return tuple(DayActivity(day, *counts.get(day, (0, 0)), *voted.get(day, (0, 0))) for day in days)

    async def record_feedback(self, question_id: int, user_hash: str, helpful: bool) -> None:
        """Record a vote on a logged answer; a second vote by the same user replaces the first."""
        async with self._locked("saving feedback"):
            rows = list(
                await self._db.execute_fetchall("SELECT 1 FROM questions WHERE id = ?", (question_id,))
            )
            if not rows:
                raise UnknownAnswerError(
                    f"there is no answer {question_id} in the question log"
                    " (it may have been pruned or forgotten)"
                )
            await self._db.execute(
                "INSERT INTO feedback (question_id, user_hash, helpful, voted_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (question_id, user_hash) DO UPDATE SET helpful = excluded.helpful,"
                " voted_at = excluded.voted_at",
                (question_id, user_hash, int(helpful), _timestamp(dt.datetime.now(dt.UTC))),
            )

    async def forget_user(self, user_hash: str) -> int:
        """Delete a user's questions and votes; returns how many rows went."""
        async with self._locked("forgetting a user"), self._transaction():
            votes = await self._db.execute("DELETE FROM feedback WHERE user_hash = ?", (user_hash,))
            questions = await self._db.execute("DELETE FROM questions WHERE user_hash = ?", (user_hash,))
            return max(votes.rowcount, 0) + max(questions.rowcount, 0)

    async def prune(self, before: dt.datetime) -> int:
        """Delete questions (and their votes) asked before ``before``; returns how many questions went."""
        async with self._locked("pruning the question log"):
            cursor = await self._db.execute("DELETE FROM questions WHERE asked_at < ?", (_timestamp(before),))
            return max(cursor.rowcount, 0)

    # -- guild settings -------------------------------------------------------------------

    async def guild_settings(self, guild_id: int, *, default_cooldown: float) -> GuildSettings:
        """The settings of ``guild_id`` (defaults when it has none)."""
        with self._errors("reading guild settings"):
            channels = await self._db.execute_fetchall(
                "SELECT channel_id FROM answer_channels WHERE guild_id = ?", (guild_id,)
            )
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT admin_role_id, cooldown_seconds FROM guild_settings WHERE guild_id = ?",
                    (guild_id,),
                )
            )
        role, cooldown = (rows[0][0], rows[0][1]) if rows else (None, None)
        return GuildSettings(
            frozenset(int(r[0]) for r in channels),
            role,
            default_cooldown if cooldown is None else float(cooldown),
        )

    async def add_answer_channel(self, guild_id: int, channel_id: int) -> None:
        """Treat every message in ``channel_id`` as a question."""
        async with self._locked("saving guild settings"):
            await self._db.execute(
                "INSERT OR IGNORE INTO answer_channels (guild_id, channel_id) VALUES (?, ?)",
                (guild_id, channel_id),
            )

    async def remove_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop treating ``channel_id`` as an answer channel; False if it was not one."""
        async with self._locked("saving guild settings"):
            cursor = await self._db.execute(
                "DELETE FROM answer_channels WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            return cursor.rowcount > 0

    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        """Set (or clear, with None) the role allowed to manage the bot in ``guild_id``."""
        await self._upsert_guild(guild_id, "admin_role_id", role_id)

    async def set_cooldown(self, guild_id: int, seconds: float) -> None:
        """Set the per-user cooldown between questions in ``guild_id``."""
        await self._upsert_guild(guild_id, "cooldown_seconds", seconds)

    async def _upsert_guild(
        self, guild_id: int, column: Literal["admin_role_id", "cooldown_seconds"], value: Any
    ) -> None:
        async with self._locked("saving guild settings"):
            await self._db.execute(
                f"INSERT INTO guild_settings (guild_id, {column}) VALUES (?, ?)"
                f" ON CONFLICT (guild_id) DO UPDATE SET {column} = excluded.{column}",
                (guild_id, value),
            )
