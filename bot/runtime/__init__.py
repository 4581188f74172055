"""The runtime: what both fronts share between the platform-free core and the store.

- :mod:`bot.runtime.app`: :class:`Citebot`, the application object fronts talk to;
- :mod:`bot.runtime.knowledge_sync`: reload, add, remove and diff the knowledge;
- :mod:`bot.runtime.question_log`: the question log, its background writer and pseudonymous ids;
- :mod:`bot.runtime.guild_settings`: per-guild settings, cached.

Fronts import store types (settings, logged questions, stats) from here, never from the store.
"""

from bot.runtime.app import AskResult, Citebot, Health
from bot.runtime.knowledge_sync import (
    DOCUMENT_SUFFIXES,
    DocumentChange,
    DocumentInfo,
    FileDocumentError,
    ReloadReport,
)
from bot.runtime.question_log import LogStatus
from bot.storage import GuildSettings, LoggedQuestion, Stats, StorageError, UnknownAnswerError

__all__ = [
    "DOCUMENT_SUFFIXES",
    "AskResult",
    "Citebot",
    "DocumentChange",
    "DocumentInfo",
    "FileDocumentError",
    "GuildSettings",
    "Health",
    "LogStatus",
    "LoggedQuestion",
    "ReloadReport",
    "Stats",
    "StorageError",
    "UnknownAnswerError",
]
