"""Regular expressions compiled when first used.

Python compiles a pattern in Python code: the language module's patterns for indexing (dates,
numbers, causes, measures, names) took 20 ms of every process's start, though a process that
serves a saved index never indexes and most questions use none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["LazyPattern"]

_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "split")


class LazyPattern:
    """A pattern compiled at its first search; then its methods are the compiled pattern's own.

    ``pattern`` and ``flags`` are there before it is compiled (to derive another pattern from it).
    """

    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    finditer: Callable[..., Iterator[re.Match[str]]]
    findall: Callable[..., list[Any]]
    sub: Callable[..., str]
    split: Callable[..., list[str]]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> Any:
        # Called only for what is not set yet: the first use compiles the pattern and keeps its
        # bound methods on this object, so later calls go straight to the compiled pattern.
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self.flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags!r})"
