"""Errors raised by the store.

Hierarchy::

    CitebotError (bot.core.errors)
    └── StorageError                 the database failed; the message is fit for an operator
        ├── DatabaseUnavailableError the file cannot be opened: corrupt, locked, unreadable
        ├── SchemaTooNewError        the file was written by a newer citebot
        └── UnknownAnswerError       feedback names an answer the question log does not hold

Every ``sqlite3`` error is translated to one of these at the store's boundary and chained,
so no caller ever catches ``sqlite3.Error``.
"""

from __future__ import annotations

from bot.core.errors import CitebotError

__all__ = ["DatabaseUnavailableError", "SchemaTooNewError", "StorageError", "UnknownAnswerError"]


class StorageError(CitebotError):
    """The database could not do what was asked."""


class DatabaseUnavailableError(StorageError):
    """The database file cannot be used: corrupt, locked by another process, or unreadable."""


class SchemaTooNewError(StorageError):
    """The database was written by a newer version of citebot; refusing to touch it."""


class UnknownAnswerError(StorageError):
    """Feedback refers to an answer id that is not in the question log."""
