"""Question analysis: what a question is about and what kind of answer it wants.

The expected answer type is read from the question's wording ("when" wants a date, "how
many" a number) and checked against candidate sentences, because fuzzy and lexical matching
alone happily return a sentence that mentions the topic but not the thing asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.core.text import STOP_WORDS, stem, tokenize

__all__ = ["AnswerType", "AnalysedQuestion", "analyse_question", "sentence_answer_types"]


class AnswerType(Enum):
    """What a question asks for."""

    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    ANY = "any"


_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"\b(?:1\d{{3}}|20\d{{2}}|\d{{1,4}}s|\d{{1,2}}(?:st|nd|rd|th)|{_MONTHS}|centur(?:y|ies)|decades?|"
    rf"years?|ago|bc|bce|ad|ce|today|yesterday|dynasty|era|period|spring|summer|autumn|winter|"
    rf"(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d+(?:st|nd|rd|th)?-century)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|dozens|"
    "half|third|quarter|double|twice|single|several|many|few|percent|majority|minority|most"
)
_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z\u00C0-\u024F'’-]+")
_PLACE_PREPOSITION = re.compile(
    r"\b(?:in|at|near|from|to|into|across|throughout|outside|inside|within|on)\s+(?:the\s+)?[A-Z]"
)

_TYPE_CUES: tuple[tuple[re.Pattern[str], AnswerType], ...] = (
    (
        re.compile(
            r"\b(?:when|what (?:year|date|day|month|time|century|decade|era|period)|which "
            r"(?:year|date|day|month|century|decade)|in what (?:year|century|decade)|how long ago|"
            r"since when|until when)\b"
        ),
        AnswerType.DATE,
    ),
    (
        re.compile(
            r"\b(?:how (?:many|much|long|far|old|big|large|high|tall|deep|wide|heavy|fast|often)|"
            r"what (?:percentage|percent|proportion|fraction|number|amount|share|size|population)|"
            r"how \w+ (?:percent|people|times))\b"
        ),
        AnswerType.NUMBER,
    ),
    (re.compile(r"^(?:.*\b)?(?:who|whom|whose)\b"), AnswerType.PERSON),
    (re.compile(r"\b(?:where|what (?:country|city|place|region|continent|state|location)|"
                r"which (?:country|city|place|region|continent|state))\b"), AnswerType.PLACE),
)

# Words in a question that set its frame, not its topic: they need not appear in the answer.
_FRAME_WORDS = frozenset(
    stem(w)
    for w in """
    mean meaning describe described explain happen happened happens occur occurred
    type kind sort example examples term word use used""".split()
)
_NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without"})


@dataclass(frozen=True, slots=True)
class AnalysedQuestion:
    """A question as the matcher sees it."""

    text: str
    tokens: tuple[str, ...]
    terms: tuple[str, ...]  # stemmed content terms, deduplicated, in order
    answer_type: AnswerType
    negated: bool
    frame_terms: frozenset[str]


def analyse_question(text: str) -> AnalysedQuestion:
    """Tokenise ``text`` and read its expected answer type."""
    tokens = tuple(tokenize(text))
    lowered = " ".join(tokens)
    answer_type = AnswerType.ANY
    for pattern, kind in _TYPE_CUES:
        if pattern.search(lowered):
            answer_type = kind
            break
    terms: list[str] = []
    for token in tokens:
        if token in STOP_WORDS:
            continue
        term = stem(token)
        if term not in terms:
            terms.append(term)
    negated = any(t in _NEGATIONS or t.endswith("nt") and t[:-2] + "n't" in STOP_WORDS for t in tokens)
    return AnalysedQuestion(
        text, tokens, tuple(terms), answer_type, negated, frozenset(t for t in terms if t in _FRAME_WORDS)
    )


def sentence_answer_types(sentence: str) -> frozenset[AnswerType]:
    """The kinds of answer a sentence can supply."""
    kinds = {AnswerType.ANY}
    if _DATE.search(sentence):
        kinds.add(AnswerType.DATE)
    if _NUMBER.search(sentence):
        kinds.add(AnswerType.NUMBER)
    if _CAPITALISED.search(sentence):
        kinds.add(AnswerType.PERSON)
    if _PLACE_PREPOSITION.search(sentence) or _CAPITALISED.search(sentence):
        kinds.add(AnswerType.PLACE)
    return frozenset(kinds)
