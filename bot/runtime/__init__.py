"""The runtime: what both fronts share between the platform-free core and the store.

- :mod:`bot.runtime.app`: :class:`Citebot`, the application object fronts talk to;
- :mod:`bot.runtime.knowledge_sync`: reload, add, remove and diff the knowledge;
- :mod:`bot.runtime.review`: the review queue of questions worth teaching;
- :mod:`bot.runtime.fetching`, :mod:`bot.runtime.conversion`: documents from links, web pages and
  PDFs (bounded, address-checked fetches; their text as Markdown documents);
- :mod:`bot.runtime.question_log`: the question log, its background writer and pseudonymous ids;
- :mod:`bot.runtime.guild_settings`: per-guild settings, cached;
- :mod:`bot.runtime.cooldowns`, :mod:`bot.runtime.in_flight`, :mod:`bot.runtime.reply_order`:
  per-user cooldowns, answers in flight at shutdown, replies in arrival order, for every front.

Fronts import store types (settings, logged questions, stats) from here, never from the store.
"""

from bot.runtime.app import AskResult, Citebot, Health
from bot.runtime.in_flight import DRAIN_SECONDS
from bot.runtime.knowledge_sync import (
    DOCUMENT_SUFFIXES,
    DocumentChange,
    DocumentInfo,
    FileDocumentError,
    ReloadReport,
    Taught,
    TeachingError,
)
from bot.runtime.question_log import Front, LogStatus, UserRef
from bot.runtime.reply_order import ReplyOrder, Turn
from bot.runtime.review import DEFAULT_REVIEW_BELOW, ReviewItem, ReviewPage, sentence_reference
from bot.storage import DayActivity, GuildSettings, LoggedQuestion, Stats, StorageError, UnknownAnswerError

__all__ = [
    "DEFAULT_REVIEW_BELOW",
    "DOCUMENT_SUFFIXES",
    "DRAIN_SECONDS",
    "AskResult",
    "Citebot",
    "DayActivity",
    "DocumentChange",
    "DocumentInfo",
    "FileDocumentError",
    "Front",
    "GuildSettings",
    "Health",
    "LogStatus",
    "LoggedQuestion",
    "ReloadReport",
    "ReplyOrder",
    "ReviewItem",
    "ReviewPage",
    "Stats",
    "StorageError",
    "Taught",
    "TeachingError",
    "Turn",
    "UnknownAnswerError",
    "UserRef",
    "sentence_reference",
]
