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
    "tokenize_all",
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
# Month names are left alone: "May 3" must still match a question about May. A name runs to the
# end of its letters (possessively: a word followed by no number is given up at once, not letter
# by letter), and ends in a letter.
_NAME_NUMBER = re.compile(
    rf"\b(?!(?:{MONTHS})[\s-]?\d)"
    r"([a-z][a-z']++(?<=[a-z]))(\s?|-)(\d{1,3})\b(?![.,]\d)"
)
# A second number sharing the name just written: "chang'e-7 or -8", "change-7 and 8".
_LIST_GAP = r"((?:\s*,\s*|\s+(?:or|and|to|&)\s+)-?)(\d{1,3})\b(?![.,]\d)"
_ELIDED_NAME = re.compile(r"\b([a-z]++)(\d{1,3})" + _LIST_GAP)
# Each further number of the same list: "chang'e-5, 6 and 7" names 6, then 7.
_ELIDED_MORE = re.compile(_LIST_GAP)

_stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)


def fold(text: str) -> str:
    """Lower-case ``text``, strip accents and fold quotes and dashes to ASCII."""
    text = text.translate(_QUOTE_TABLE)
    # Most text is plain ASCII already, and decomposing it character by character is costly.
    if not text.isascii():
        text = _without_accents(text)
    return text.casefold()


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


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
# The capital comes first and the boundary before it after, as a lookbehind: a pattern that opens
# with a set of characters is searched for it in C. A numeral of one letter is left alone (see
# below), so the pattern needs two.
_ROMAN_AFTER_NAME = re.compile(r"([A-Z](?<!\w[A-Z])[a-z]+) (?=[IVX]{2})(X{0,3}(?:IX|IV|V?I{0,3}))\b")
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


# Between texts tokenized together: no token holds it, and it is neither a space nor a word
# character, so no pattern above matches across it (a name and a number, a list, a numeral).
_SEPARATOR = "\x00"
_TOKEN_OR_SEPARATOR = re.compile(_TOKEN.pattern + "|" + _SEPARATOR)


def _trimmed(token: str) -> str:
    """A token as :func:`tokenize` keeps it: apostrophes dropped, a possessive cut, a number's commas."""
    if "'" in token:
        if token.endswith("'s"):
            token = token[:-2]
        token = token.replace("'", "")
    if token[:1].isdigit():
        token = token.replace(",", "")
    return token


def _fold_each(joined: str) -> str:
    """:func:`fold` of each text of ``joined``, the separators kept.

    Translating by a table is fast only for ASCII text, and accents are stripped text by text:
    only the texts that are not ASCII pay for either.
    """
    if joined.isascii():
        return joined.replace("`", "'").lower()
    parts = joined.split(_SEPARATOR)
    return _SEPARATOR.join(part.replace("`", "'").lower() if part.isascii() else fold(part) for part in parts)


def tokenize_all(texts: list[str]) -> tuple[list[str], list[int]]:
    """:func:`tokenize` of every text, end to end, and how many tokens each text has.

    The same tokens, a few times faster for many short texts (a knowledge base's sentences): the
    texts are folded and scanned as one, and each distinct word is trimmed once.
    """
    if not texts:
        return [], []
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:  # a text holds the separator itself
        each = [tokenize(text) for text in texts]
        return [token for tokens in each for token in tokens], [len(tokens) for tokens in each]
    if _ROMAN_START.search(joined):
        joined = _ROMAN_AFTER_NAME.sub(_roman_to_digits, joined)
    folded = _fold_each(joined)
    # The patterns that join names and numbers open with a word boundary and are tried at every
    # position: only the texts with a digit go through them, as in tokenize().
    if _DIGIT.search(folded):
        folded = _SEPARATOR.join(
            _join_name_numbers(text) if _DIGIT.search(text) else text for text in folded.split(_SEPARATOR)
        )
    found: list[str] = _TOKEN_OR_SEPARATOR.findall(folded)
    trims = {word: trimmed for word in set(found) if (trimmed := _trimmed(word)) != word}
    if trims:
        found = list(map(trims.get, found, found))
    counts: list[int] = []
    start = 0
    find = found.index
    for _ in range(len(texts) - 1):
        end = find(_SEPARATOR, start)
        counts.append(end - start)
        start = end + 1
    counts.append(len(found) - start)
    # A token opens with a letter or a digit, which trimming keeps: none became empty.
    return list(filter(_SEPARATOR.__ne__, found)), counts


def content_terms(tokens: list[str]) -> list[str]:
    """Stemmed tokens with stop words removed, in order (duplicates kept)."""
    return [stem(t) for t in tokens if t not in STOP_WORDS]
