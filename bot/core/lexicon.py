"""English synonyms and base forms, from WordNet, for matching a question's words to a reworded answer.

Readers and writers word the same thing differently: "nations" for "countries", "built" for
"constructed", "found" for "detected". The table (``data/english-synonyms.tsv``, written by
:mod:`bot.fitting.lexicon`) maps a Snowball stem to the stems sharing one of its common senses.
Synonyms count as weaker evidence than the question's own words; the fitted models decide how
much weaker.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

__all__ = ["SYNONYMS_PATH", "synonyms"]

SYNONYMS_PATH = Path(__file__).resolve().parent / "data" / "english-synonyms.tsv"


@cache
def _table() -> bytes:
    # The file as it is: a question looks up a handful of words, and building a dictionary of all
    # 39,000 lines took 0.1 s of the first answer of every process.
    return SYNONYMS_PATH.read_bytes()


@lru_cache(maxsize=65536)
def synonyms(term: str) -> tuple[str, ...]:
    """The stems of the synonyms and base forms of stem ``term`` (empty when it has none)."""
    # A binary search over the lines, which bot.fitting.lexicon writes sorted by term (code
    # point order, which is UTF-8's byte order).
    data = _table()
    wanted = term.encode()
    low, high = 0, len(data)
    while low < high:
        middle = (low + high) // 2
        start = data.rfind(b"\n", 0, middle) + 1
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        tab = data.find(b"\t", start, end)
        found = data[start : tab if tab >= 0 else end]
        if found < wanted:
            low = end + 1
        elif found > wanted:
            high = start
        else:
            return tuple(data[tab + 1 : end].decode().split()) if tab >= 0 else ()
    return ()
