"""English synonyms and base forms, from WordNet, for matching a question's words to a reworded answer.

Readers and writers word the same thing differently: "nations" for "countries", "built" for
"constructed", "found" for "detected". The table (``data/english-synonyms.tsv``, written by
:mod:`bot.fitting.lexicon`) maps a Snowball stem to the stems sharing one of its common senses.
Synonyms count as weaker evidence than the question's own words; the fitted models decide how
much weaker.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["SYNONYMS_PATH", "synonyms"]

SYNONYMS_PATH = Path(__file__).resolve().parent / "data" / "english-synonyms.tsv"


@cache
def _table() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    with SYNONYMS_PATH.open(encoding="utf-8") as lines:
        for line in lines:
            term, _, others = line.rstrip("\n").partition("\t")
            table[term] = tuple(others.split())
    return table


def synonyms(term: str) -> tuple[str, ...]:
    """The stems of the synonyms and base forms of stem ``term`` (empty when it has none)."""
    return _table().get(term, ())
