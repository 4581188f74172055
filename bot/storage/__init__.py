"""Storage: citebot's SQLite memory. Fronts and the runtime use it; the core never imports it.

The store's names are imported when first used: a plain ``ask`` reads its knowledge folder through
:mod:`bot.storage.folder_cache` and never opens a database, so it need not import aiosqlite.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.storage.errors import DatabaseUnavailableError, SchemaTooNewError, StorageError, UnknownAnswerError

if TYPE_CHECKING:
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

_FROM_STORE = frozenset(__all__) - {
    "DatabaseUnavailableError",
    "SchemaTooNewError",
    "StorageError",
    "UnknownAnswerError",
}


def __getattr__(name: str) -> Any:
    if name in _FROM_STORE:
        return getattr(importlib.import_module("bot.storage.store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
