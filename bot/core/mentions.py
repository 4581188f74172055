"""What kinds of answer a sentence can give: its dates, numbers, names, quoted terms and causes.

A question wants a kind of answer ("when" a date, "how many" a number); a sentence that holds
none beyond what the question already says cannot be its answer, however many words they share.
Mentions are found once per sentence when the knowledge is indexed; each keeps its tokens, so
that a date the question itself names ("in 1066") does not count as an answer to it.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from bot.core.english import DATE_PATTERN, LOCATIVES, MONTHS, NUMBER_PATTERN, REASON_PATTERN
from bot.core.regex import LazyPattern
from bot.core.text import fold

__all__ = [
    "ANSWER_KINDS",
    "AnswerType",
    "Mention",
    "answer_mentions",
    "gives_answer_type",
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


def answer_mentions(sentence: str) -> tuple[Mention, ...]:
    """Every date, number, name, place, quoted term or cause in ``sentence``, with its tokens."""
    mentions: list[Mention] = []
    lowered = sentence.lower()
    in_lower_case = len(lowered) == len(sentence)
    if in_lower_case:  # the same offsets: the lower-case patterns can be used
        date, number, reason, day_of_month, text = (
            _LOWER_DATE,
            _LOWER_NUMBER,
            _LOWER_REASON,
            _LOWER_DAY_OF_MONTH,
            lowered,
        )
    else:
        date, number, reason, day_of_month, text = (
            DATE_PATTERN,
            NUMBER_PATTERN,
            REASON_PATTERN,
            _DAY_OF_MONTH,
            sentence,
        )
    if in_lower_case:
        words = set(_LETTERS.findall(text))
        digits = _ANY_DIGIT.search(text) is not None
        dates = digits or not _DATE_WORDS.isdisjoint(words)
        numbers = digits or not _NUMBER_WORDS.isdisjoint(words)
        reasons = not _REASON_WORDS.isdisjoint(words)
    else:  # the case-insensitive patterns: no gate, a rare case
        dates = numbers = reasons = True
    if dates:
        for match in date.finditer(text):
            mentions.append((AnswerType.DATE, _said_words(match.group())))
    if numbers:
        for match in number.finditer(text):
            if day_of_month.search(text, 0, match.start()):
                continue  # "May 3": the 3 is part of a date
            mentions.append((AnswerType.NUMBER, _said_words(match.group())))
    for match in _CAPITALISED.finditer(sentence):
        if _CALENDAR.fullmatch(match.group()):
            continue  # "on May 3": a month or a weekday is a date, not a name
        tokens = _said_words(match.group())
        mentions.append((AnswerType.NAME, tokens))
        # An acronym ("ESA", "NASA") names an organisation or a thing, not a person.
        if not (match.group().isupper() and len(match.group()) > 1):
            mentions.append((AnswerType.PERSON, tokens))
    for match in _PLACE.finditer(sentence):
        mentions.append((AnswerType.PLACE, _said_words(match.group(1))))
    # A quoted term or a cause counts even when the question repeats its words: no tokens.
    if _QUOTED.search(sentence):
        mentions.append((AnswerType.NAME, frozenset()))
    if reasons and reason.search(text):
        mentions.append((AnswerType.REASON, frozenset()))
    return tuple(mentions)


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
