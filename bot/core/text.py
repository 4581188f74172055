"""Text normalization and tokenization shared by indexing and matching.

Both sides of every comparison go through the same functions, so "Chang'e-6",
"Chang’e 6", "change6" and "CHANGE-6" all become the token ``change6``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from bot.core.english import BEFORE_QUANTITIES, MONTHS, STEMMER_LANGUAGE, STOP_WORDS

__all__ = [
    "STOP_WORDS",
    "content_terms",
    "fold",
    "stem",
    "tokenize",
]

# Curly quotes, primes and look-alikes fold to ASCII so that typing style never matters.
_QUOTE_TABLE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u02bc": "'",
        "\uff07": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\uff02": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": " - ",
        "\u2212": "-",
    }
)

# A number keeps its inner separators (1,000 and 3.5 are one token); a word its apostrophes.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:[a-z]+)?|[a-z0-9]+(?:'[a-z]+)*")
# An alphabetic name followed by a short number: "chang'e-6", "chang'e 6", "change6", "apollo 11".
# Month names are left alone: "May 3" must still match a question about May.
_NAME_NUMBER = re.compile(
    rf"\b(?!(?:{MONTHS})[\s-]?\d)"
    r"([a-z][a-z']*[a-z])(\s?|-)(\d{1,3})\b(?![.,]\d)"
)
# A second number sharing the name just written: "chang'e-7 or -8", "change-7 and 8".
_LIST_GAP = r"((?:\s*,\s*|\s+(?:or|and|to|&)\s+)-?)(\d{1,3})\b(?![.,]\d)"
_ELIDED_NAME = re.compile(r"\b([a-z]+)(\d{1,3})" + _LIST_GAP)
# Each further number of the same list: "chang'e-5, 6 and 7" names 6, then 7.
_ELIDED_MORE = re.compile(_LIST_GAP)

_stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)


def fold(text: str) -> str:
    """Lower-case ``text``, strip accents and fold quotes and dashes to ASCII."""
    text = text.translate(_QUOTE_TABLE)
    # Most text is plain ASCII already, and decomposing it character by character is costly.
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return text.casefold()


def _join_name_number(match: re.Match[str]) -> str:
    name, gap, number = match.groups()
    if gap.isspace() and (name in STOP_WORDS or name in BEFORE_QUANTITIES):
        return match.group()
    return name.replace("'", "") + number


def _join_name_numbers(folded: str) -> str:
    joined = _NAME_NUMBER.sub(_join_name_number, folded)
    # One scan: each list is followed to its end from its first number, so a long list costs
    # its length, not one pass over the whole text per number in it.
    parts: list[str] = []
    done = 0
    while (match := _ELIDED_NAME.search(joined, done)) is not None:
        name, number, gap, elided = match.groups()
        parts += [joined[done : match.start()], name, number, gap.rstrip("-"), name, elided]
        done = match.end()
        while (more := _ELIDED_MORE.match(joined, done)) is not None:
            gap, elided = more.groups()
            parts += [gap.rstrip("-"), name, elided]
            done = more.end()
    parts.append(joined[done:])
    return "".join(parts)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball stem of one folded word (cached: vocabularies are small, lookups many)."""
    stemmed: str = _stemmer.stemWord(word)
    return stemmed


# A capitalised name and a Roman numeral: "Artemis III", "Louis XIV" (not the pronoun "I").
_ROMAN_AFTER_NAME = re.compile(r"\b([A-Z][a-z]+) (X{0,3}(?:IX|IV|V?I{0,3}))\b")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def _roman_to_digits(match: re.Match[str]) -> str:
    name, numeral = match.groups()
    if len(numeral) < 2:  # "Chapter I", "Henry V": too easily a word or a letter
        return match.group()
    total = 0
    for i, ch in enumerate(numeral):
        value = _ROMAN_VALUES[ch]
        total += -value if i + 1 < len(numeral) and _ROMAN_VALUES[numeral[i + 1]] > value else value
    return f"{name} {total}"


# What a Roman numeral after a name and a name with a number need: without them (most sentences),
# the substitutions that look for them are skipped.
_ROMAN_START = re.compile(r" [IVX]")
_DIGIT = re.compile(r"\d")


def tokenize(text: str) -> list[str]:
    """Folded surface tokens of ``text`` in order; apostrophes inside words dropped, possessives cut."""
    if _ROMAN_START.search(text):
        text = _ROMAN_AFTER_NAME.sub(_roman_to_digits, text)
    folded = fold(text)
    digits = _DIGIT.search(folded) is not None
    if digits:
        folded = _join_name_numbers(folded)
    found: list[str] = _TOKEN.findall(folded)
    if not digits and "'" not in folded:  # most sentences: no token to trim
        return found
    tokens: list[str] = []
    for token in found:
        if "'" in token:
            if token.endswith("'s"):
                token = token[:-2]
            token = token.replace("'", "")
            if not token:
                continue
        if token[0].isdigit():
            token = token.replace(",", "")
        tokens.append(token)
    return tokens


def content_terms(tokens: list[str]) -> list[str]:
    """Stemmed tokens with stop words removed, in order (duplicates kept)."""
    return [stem(t) for t in tokens if t not in STOP_WORDS]
