"""Ordered schema migrations; ``PRAGMA user_version`` holds how many have been applied.

Never edit a released migration: append a new one. Each is a list of single statements so
they run inside one transaction together with the ``user_version`` bump (``executescript``
would commit half-way).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_V1 = [
    """CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE documents (
        id           TEXT PRIMARY KEY,
        title        TEXT NOT NULL,
        url          TEXT,
        author       TEXT,
        published    TEXT,
        text         TEXT NOT NULL,
        source_kind  TEXT NOT NULL CHECK (source_kind IN ('file', 'admin')),
        source       TEXT NOT NULL,
        added_by     TEXT,
        added_at     TEXT NOT NULL,
        content_hash TEXT NOT NULL
    )""",
    """CREATE TABLE intent_files (
        source TEXT PRIMARY KEY,
        text   TEXT NOT NULL
    )""",
    """CREATE TABLE questions (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        asked_at          TEXT NOT NULL,
        guild_id          INTEGER,
        channel_id        INTEGER,
        user_hash         TEXT,
        question          TEXT NOT NULL,
        answered          INTEGER NOT NULL,
        confidence        REAL NOT NULL,
        citations         TEXT NOT NULL,
        latency_ms        REAL NOT NULL,
        knowledge_version TEXT NOT NULL
    )""",
    """CREATE TABLE feedback (
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        user_hash   TEXT NOT NULL,
        helpful     INTEGER NOT NULL,
        voted_at    TEXT NOT NULL,
        PRIMARY KEY (question_id, user_hash)
    )""",
    """CREATE TABLE guild_settings (
        guild_id         INTEGER PRIMARY KEY,
        admin_role_id    INTEGER,
        cooldown_seconds REAL
    )""",
    """CREATE TABLE answer_channels (
        guild_id   INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    )""",
]

# v2: the reason of each answer (for "why was this declined?"), knowledge version history so
# a logged answer can be explained later, and the indexes the log queries need.
_V2 = [
    "ALTER TABLE questions ADD COLUMN reason TEXT",
    """CREATE TABLE knowledge_versions (
        version    TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        documents  INTEGER NOT NULL,
        intents    INTEGER NOT NULL
    )""",
    "CREATE INDEX questions_asked_at ON questions (asked_at)",
    "CREATE INDEX questions_user ON questions (user_hash)",
    "CREATE INDEX questions_unanswered ON questions (answered, id)",
    "CREATE INDEX feedback_user ON feedback (user_hash)",
]

# v3: each document's paragraphs and sentence offsets, so start-up need not split sentences again.
_V3 = [
    "ALTER TABLE documents ADD COLUMN structure TEXT",
]

# v4: which front a question came from. Ids of chats and channels are only unique within a
# platform; rows from before are NULL (Discord or the command line).
_V4 = [
    "ALTER TABLE questions ADD COLUMN front TEXT",
]

# v5: teaching. Intents taught by admins (``intent`` is the intent as its YAML would hold it, in
# JSON), and the review queue's verdicts on questions (by their folded wording), so a question
# judged "not in the sources" or taught leaves the queue for good.
_V5 = [
    """CREATE TABLE taught_intents (
        id         TEXT PRIMARY KEY,
        intent     TEXT NOT NULL,
        taught_by  TEXT,
        taught_at  TEXT NOT NULL
    )""",
    """CREATE TABLE review_verdicts (
        question   TEXT PRIMARY KEY,
        verdict    TEXT NOT NULL CHECK (verdict IN ('taught', 'not_in_sources')),
        decided_by TEXT,
        decided_at TEXT NOT NULL
    )""",
]

MIGRATIONS: tuple[tuple[str, ...], ...] = (tuple(_V1), tuple(_V2), tuple(_V3), tuple(_V4), tuple(_V5))
SCHEMA_VERSION = len(MIGRATIONS)
