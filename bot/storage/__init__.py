"""Storage: citebot's SQLite memory. Fronts and the runtime use it; the core never imports it."""

from bot.storage.errors import DatabaseUnavailableError, SchemaTooNewError, StorageError, UnknownAnswerError
from bot.storage.store import (
    DayActivity,
    DayCount,
    GuildSettings,
    LoggedQuestion,
    QuestionRecord,
    ReviewRow,
    Stats,
    Store,
    StoredDocument,
    StoredIntentFile,
    StoredKnowledge,
    TaughtIntent,
)

__all__ = [
    "DatabaseUnavailableError",
    "DayActivity",
    "DayCount",
    "GuildSettings",
    "LoggedQuestion",
    "QuestionRecord",
    "ReviewRow",
    "SchemaTooNewError",
    "Stats",
    "StorageError",
    "Store",
    "StoredDocument",
    "StoredIntentFile",
    "StoredKnowledge",
    "TaughtIntent",
    "UnknownAnswerError",
]
