"""What kinds of answer a sentence can give: its dates, numbers, names, quoted terms and causes.

A question wants a kind of answer ("when" a date, "how many" a number); a sentence that holds
none beyond what the question already says cannot be its answer, however many words they share.
Mentions are found once per sentence when the knowledge is indexed; each keeps its tokens, so
that a date the question itself names ("in 1066") does not count as an answer to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import Enum
from functools import lru_cache

import numpy as np

from bot.core.english import DATE_PATTERN, LOCATIVES, MONTHS, NUMBER_PATTERN, REASON_PATTERN
from bot.core.regex import LazyPattern
from bot.core.text import fold

__all__ = [
    "ANSWER_KINDS",
    "AnswerType",
    "Mention",
    "answer_mentions",
    "gives_answer_type",
    "mention_rows",
    "mention_words",
    "sentence_answer_types",
]


class AnswerType(Enum):
    """What a question asks for."""

    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    NAME = "name"
    REASON = "reason"
    ANY = "any"


Mention = tuple[AnswerType, frozenset[str]]
# The kinds a question can ask for (every kind but ANY), in one order for every feature list.
ANSWER_KINDS: tuple[AnswerType, ...] = tuple(kind for kind in AnswerType if kind is not AnswerType.ANY)

# A capitalised word not opening the sentence (or a quotation) is a name. The capital comes first
# and the checks of what precedes it after, as lookbehinds: a pattern that opens with a set of
# characters is searched for that set in C, where one that opens with a lookbehind runs its
# checks at every position of every sentence of the knowledge.
_CAPITALISED = LazyPattern(r"[A-Z](?<!^[A-Z])(?<![.!?:\"“(]\s[A-Z])(?<!\w[A-Z])[a-zA-Z\u00C0-\u024F'’-]*")
_QUOTED = LazyPattern(r"[\"“”][^\"“”]{2,60}[\"“”]")
# A name after a preposition of place is a place: "in Normandy", "near Kourou".
# A place is said with a preposition of place and what follows it: "in Normandy", "near the
# lunar south pole", "at the station". A year or a number after it is a date or an amount.
_PLACE = LazyPattern(
    rf"\b(?:{LOCATIVES})\s+(?:the\s+|a\s+|an\s+)?"
    r"((?![0-9])[A-Za-z\u00C0-\u024F][\w'’-]*(?:\s+[A-Za-z\u00C0-\u024F][\w'’-]*){0,3})"
)
_DAY_OF_MONTH = LazyPattern(rf"\b(?:{MONTHS})\s+$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
_CALENDAR = LazyPattern(rf"(?:{MONTHS}|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\.?", re.IGNORECASE)


def mention_words(text: str) -> frozenset[str]:
    """The folded words of ``text``, as mentions and questions are compared.

    Plainer than :func:`bot.core.text.tokenize` (no name-number joining, no stems): it only has to
    tell whether a question already names a mention, and it runs for every mention of every
    sentence when knowledge is indexed.
    """
    return frozenset(_WORD.findall(fold(text)))


# The same names, numbers and dates recur through a knowledge base: their words are folded once.
_said_words = lru_cache(maxsize=65536)(mention_words)


def _case_sensitive(pattern: LazyPattern) -> LazyPattern:
    return LazyPattern(pattern.pattern, pattern.flags & ~re.IGNORECASE)


# The case-insensitive patterns, for text already in lower case: Python's ``re`` matches them two
# to three times faster so, and every sentence of the knowledge goes through them.
_LOWER_DATE = _case_sensitive(DATE_PATTERN)
_LOWER_NUMBER = _case_sensitive(NUMBER_PATTERN)
_LOWER_REASON = _case_sensitive(REASON_PATTERN)
_LOWER_DAY_OF_MONTH = _case_sensitive(_DAY_OF_MONTH)

# Most sentences hold no date, number or cause, and a pattern that finds none still tries every
# position of the sentence. Without a digit, a match of the date and number patterns needs one
# of these words, and any match of the cause pattern one of its own, each standing alone between
# non-letters (the patterns put a word boundary either side): one scan for the sentence's runs of
# letters tells which patterns can match at all.
_DATE_WORDS = frozenset(
    MONTHS.split("|")
    + """century centuries decade decades ago bc bce ad ce today yesterday tomorrow dynasty dynasties
    era reign period monday tuesday wednesday thursday friday saturday sunday noon midnight spring
    summer autumn winter""".split()
)
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred
    hundreds thousand thousands million millions billion billions trillion dozen dozens half third
    thirds quarter quarters double twice thrice percent per""".split()
)
# A phrase is gated by a word of it that is rarer than "in" or "as": "as a result" by "result".
_REASON_WORDS = frozenset(
    """because since due owing result order so protest reason caused causes led lead leading thanks
    aim aimed aims intended purpose fear fearing desire wanted need needed therefore thus hence""".split()
)
_LETTERS = re.compile(r"[a-z]+")
_ANY_DIGIT = re.compile(r"\d")


# What a sentence holds, as bits of a gate: a digit, a word of dates, of numbers, of causes.
_DIGITS, _DATE_WORD, _NUMBER_WORD, _REASON_WORD = 1, 2, 4, 8
_UNGATED = _DIGITS | _DATE_WORD | _NUMBER_WORD | _REASON_WORD
# Where a number opens: a digit after no digit. Every match of the date and number patterns that
# opens with a digit opens there (a word boundary or a lookbehind for a digit comes before it).
_DIGITS_OPEN = re.compile(r"\d(?<!\d\d)")
_KINDS: tuple[AnswerType, ...] = tuple(AnswerType)
_DATE_KIND, _NUMBER_KIND, _PERSON_KIND, _PLACE_KIND, _NAME_KIND, _REASON_KIND = (
    _KINDS.index(kind)
    for kind in (
        AnswerType.DATE,
        AnswerType.NUMBER,
        AnswerType.PERSON,
        AnswerType.PLACE,
        AnswerType.NAME,
        AnswerType.REASON,
    )
)


def _gate(words: Iterable[str], digits: bool) -> int:
    """The gate of a text with these runs of letters, and a digit or not."""
    words = set(words)
    return (
        (_DIGITS if digits else 0)
        | (0 if _DATE_WORDS.isdisjoint(words) else _DATE_WORD)
        | (0 if _NUMBER_WORDS.isdisjoint(words) else _NUMBER_WORD)
        | (0 if _REASON_WORDS.isdisjoint(words) else _REASON_WORD)
    )


def _matches(pattern: LazyPattern, text: str, gate: int, words: int) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, for a pattern that matches a digit or one of ``words``.

    A text with none of those words (the gate tells) can only match at the opening of a number:
    the pattern is tried there alone, not at every position of the text.
    """
    if gate & words:
        yield from pattern.finditer(text)
        return
    end = 0
    for opening in _DIGITS_OPEN.finditer(text):
        if opening.start() >= end and (match := pattern.match(text, opening.start())) is not None:
            end = match.end()
            yield match


def _found(sentence: str, lowered: str | None, gate: int) -> list[tuple[int, str]]:
    """(kind, as said) of each mention of ``sentence``, by the index of its kind in AnswerType.

    ``lowered``: the sentence in lower case when that has the same offsets (the lower-case patterns
    can be used), else None. ``gate``: the patterns that may match at all.
    """
    found: list[tuple[int, str]] = []
    if lowered is not None:
        date, number, reason, day_of_month, text = (
            _LOWER_DATE,
            _LOWER_NUMBER,
            _LOWER_REASON,
            _LOWER_DAY_OF_MONTH,
            lowered,
        )
    else:  # the case-insensitive patterns: no gate, a rare case
        date, number, reason, day_of_month, text = (
            DATE_PATTERN,
            NUMBER_PATTERN,
            REASON_PATTERN,
            _DAY_OF_MONTH,
            sentence,
        )
        gate = _UNGATED
    if gate & (_DIGITS | _DATE_WORD):
        for match in _matches(date, text, gate, _DATE_WORD):
            found.append((_DATE_KIND, match.group()))
    if gate & (_DIGITS | _NUMBER_WORD):
        for match in _matches(number, text, gate, _NUMBER_WORD):
            # "May 3": the 3 is part of a date (a month is one of the words of dates).
            if gate & _DATE_WORD and day_of_month.search(text, 0, match.start()):
                continue
            found.append((_NUMBER_KIND, match.group()))
    for match in _CAPITALISED.finditer(sentence):
        said = match.group()
        if _CALENDAR.fullmatch(said):
            continue  # "on May 3": a month or a weekday is a date, not a name
        found.append((_NAME_KIND, said))
        # An acronym ("ESA", "NASA") names an organisation or a thing, not a person.
        if not (said.isupper() and len(said) > 1):
            found.append((_PERSON_KIND, said))
    for match in _PLACE.finditer(sentence):
        found.append((_PLACE_KIND, match.group(1)))
    # A quoted term or a cause counts even when the question repeats its words: no words.
    if _QUOTED.search(sentence):
        found.append((_NAME_KIND, ""))
    if gate & _REASON_WORD and reason.search(text):
        found.append((_REASON_KIND, ""))
    return found


def answer_mentions(sentence: str) -> tuple[Mention, ...]:
    """Every date, number, name, place, quoted term or cause in ``sentence``, with its tokens."""
    lowered: str | None = sentence.lower()
    gate = _UNGATED
    if lowered is not None and len(lowered) == len(sentence):
        gate = _gate(_LETTERS.findall(lowered), _ANY_DIGIT.search(lowered) is not None)
    else:
        lowered = None
    return tuple((_KINDS[kind], _said_words(said)) for kind, said in _found(sentence, lowered, gate))


# Between texts whose mentions are found together: neither a letter nor a digit.
_SEPARATOR = "\x00"
_GATE_WORDS = re.compile(r"[a-z]+|\d+|" + _SEPARATOR)
# A mention's words, sorted: the same names and numbers recur through a knowledge base.
_sorted_words = lru_cache(maxsize=65536)(lambda said: tuple(sorted(mention_words(said))))


def mention_rows(texts: list[str]) -> tuple[list[int], list[int], list[str], list[int]]:
    """The mentions of every text, as :func:`answer_mentions` finds them, as flat rows.

    Returns each text's number of mentions; each mention's kind (its index in AnswerType) and
    number of words; and every mention's words, sorted, end to end. Which patterns can match each
    text is told from one scan of all the texts' words.
    """
    joined = _SEPARATOR.join(texts)
    lowered = joined.lower()
    if len(lowered) == len(joined) and joined.count(_SEPARATOR) == len(texts) - 1:
        lowered_texts: list[str | None] = list(lowered.split(_SEPARATOR))
        gates = _gates_of_all(_GATE_WORDS.findall(lowered), len(texts))
    else:  # a letter lower-cased into two, or a text holding the separator: text by text
        lowered_texts, gates = [], []
        for text in texts:
            low: str | None = text.lower()
            if low is not None and len(low) == len(text):
                gates.append(_gate(_LETTERS.findall(low), _ANY_DIGIT.search(low) is not None))
            else:
                low = None
                gates.append(_UNGATED)
            lowered_texts.append(low)
    counts: list[int] = []
    kinds: list[int] = []
    words: list[str] = []
    sizes: list[int] = []
    for text, low, gate in zip(texts, lowered_texts, gates, strict=True):
        found = _found(text, low, gate)
        counts.append(len(found))
        for kind, said in found:
            kinds.append(kind)
            said_words = _sorted_words(said)
            words += said_words
            sizes.append(len(said_words))
    return counts, kinds, words, sizes


def _gates_of_all(runs: list[str], count: int) -> list[int]:
    """The gate of each of ``count`` texts, from the runs of letters and digits of them all.

    Each distinct run is looked at once; which text a run is in, and each text's gate, in numpy.
    """
    masks = {run: _run_mask(run) for run in set(runs)}
    codes = np.fromiter(map(masks.__getitem__, runs), dtype=np.uint8, count=len(runs))
    text_of = np.cumsum(codes == _SEPARATES)
    gates = np.zeros(count, dtype=np.uint8)
    for bit in (_DIGITS, _DATE_WORD, _NUMBER_WORD, _REASON_WORD):
        gates[np.unique(text_of[(codes & bit) != 0])] |= bit
    gate_list: list[int] = gates.tolist()
    return gate_list


_SEPARATES = 16


def _run_mask(run: str) -> int:
    if run == _SEPARATOR:
        return _SEPARATES
    if run[0].isdigit():
        return _DIGITS
    return (
        (_DATE_WORD if run in _DATE_WORDS else 0)
        | (_NUMBER_WORD if run in _NUMBER_WORDS else 0)
        | (_REASON_WORD if run in _REASON_WORDS else 0)
    )


def sentence_answer_types(
    mentions: tuple[Mention, ...], question_tokens: frozenset[str] = frozenset()
) -> frozenset[AnswerType]:
    """The kinds of answer a sentence can supply beyond what the question already says."""
    kinds = {AnswerType.ANY}
    for kind, tokens in mentions:
        if _beyond_question(tokens, question_tokens):
            kinds.add(kind)
    return frozenset(kinds)


def gives_answer_type(
    mentions: tuple[Mention, ...], kind: AnswerType, question_tokens: frozenset[str]
) -> bool:
    """Whether ``kind`` is among :func:`sentence_answer_types`, without making the set of them all."""
    return kind is AnswerType.ANY or any(
        said is kind and _beyond_question(tokens, question_tokens) for said, tokens in mentions
    )


def _beyond_question(tokens: frozenset[str], question_tokens: frozenset[str]) -> bool:
    """Whether a mention says more than the question: it has no words (a cause), or one not asked."""
    return not tokens or not tokens <= question_tokens
