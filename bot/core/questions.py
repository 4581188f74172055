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

__all__ = [
    "NEGATIONS",
    "AnalysedQuestion",
    "AnswerType",
    "Mention",
    "analyse_question",
    "answer_mentions",
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
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?:\"“(]\s)\b[A-Z][a-zA-Z\u00C0-\u024F'’-]*")
_REASON = re.compile(
    r"\b(?:because|since|due to|owing to|as a result|result of|in order to|so that|so as to|in protest|"
    r"reason|caused|causes|led to|lead to|leading to|thanks to|order to|aim|aimed|intended|purpose|"
    r"fear|fearing|desire|wanted|need|needed)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"“”][^\"“”]{2,60}[\"“”]")
_PLACE_PREPOSITION = re.compile(
    r"\b(?:in|at|near|from|to|into|across|throughout|outside|inside|within|on)\s+(?:the\s+)?[A-Z]"
)

_PLACE_NOUNS = (
    "country|countries|city|cities|town|towns|village|place|places|region|regions|area|areas|continent|"
    "state|states|province|location|island|islands|river|port|colony|colonies|territory|nation|kingdom|"
    "county|capital|district|site|land|lands"
)
_PERSON_NOUNS = (
    "person|people|man|men|woman|women|king|queen|leader|leaders|ruler|emperor|president|minister|general|"
    "author|writer|scientist|individual|family|son|daughter|father|mother|duke|prince|officer|pope|"
    "governor|commander|explorer|artist|politician|founder|inventor"
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
    (re.compile(r"\b(?:who|whom|whose)\b"), AnswerType.PERSON),
    (
        re.compile(rf"\b(?:where|(?:what|which|in what|in which) (?:\w+ )?(?:{_PLACE_NOUNS}))\b"),
        AnswerType.PLACE,
    ),
    (re.compile(rf"\b(?:what|which) (?:\w+ )?(?:{_PERSON_NOUNS})\b"), AnswerType.PERSON),
    (
        re.compile(r"\b(?:why|what (?:caused|causes|led to|was the reason|is the reason|reason))\b"),
        AnswerType.REASON,
    ),
    (re.compile(r"\b(?:called|named|name of|the name|term for|known as)\b"), AnswerType.NAME),
)

# Words in a question that set its frame, not its topic: they need not appear in the answer.
_FRAME_WORDS = frozenset(
    stem(w)
    for w in [
        "mean",
        "meaning",
        "describe",
        "described",
        "explain",
        "happen",
        "happened",
        "happens",
        "occur",
        "occurred",
        "type",
        "kind",
        "sort",
        "example",
        "examples",
        "term",
        "word",
        "use",
        "used",
    ]
)
NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without"})


@dataclass(frozen=True, slots=True)
class AnalysedQuestion:
    """A question as the matcher sees it."""

    text: str
    tokens: tuple[str, ...]
    terms: tuple[str, ...]  # stemmed content terms, deduplicated, in order
    answer_type: AnswerType
    negated: bool
    frame_terms: frozenset[str]
    salient_terms: frozenset[str]  # terms written as names or numbers: they pin down the subject


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
    negated = any(t in NEGATIONS or (t.endswith("nt") and t[:-2] + "n't" in STOP_WORDS) for t in tokens)
    salient = {
        stem(t) for m in _CAPITALISED.finditer(text) for t in tokenize(m.group()) if t not in STOP_WORDS
    }
    salient.update(stem(t) for t in tokens if any(ch.isdigit() for ch in t))
    return AnalysedQuestion(
        text,
        tokens,
        tuple(terms),
        answer_type,
        negated,
        frozenset(t for t in terms if t in _FRAME_WORDS),
        frozenset(salient & set(terms)),
    )


Mention = tuple[AnswerType, frozenset[str]]


def answer_mentions(sentence: str) -> tuple[Mention, ...]:
    """Every date, number, name, quoted term or reason cue in ``sentence``, with its tokens.

    Computed once per sentence at index time; :func:`sentence_answer_types` then only compares
    token sets with the question's.
    """
    from bot.core.text import tokenize

    mentions: list[Mention] = []
    for pattern, kinds, always in _MENTION_PATTERNS:
        for match in pattern.finditer(sentence):
            # No tokens marks a mention that counts even when the question repeats its words.
            tokens = frozenset() if always else frozenset(tokenize(match.group()))
            mentions.extend((kind, tokens) for kind in kinds)
    return tuple(mentions)


def sentence_answer_types(
    mentions: tuple[Mention, ...], question_tokens: frozenset[str] = frozenset()
) -> frozenset[AnswerType]:
    """The kinds of answer a sentence can supply beyond what the question already says."""
    kinds = {AnswerType.ANY}
    for kind, tokens in mentions:
        if not tokens or not tokens <= question_tokens:
            kinds.add(kind)
    return frozenset(kinds)


_NAMES = (AnswerType.PERSON, AnswerType.PLACE, AnswerType.NAME)
_MENTION_PATTERNS: tuple[tuple[re.Pattern[str], tuple[AnswerType, ...], bool], ...] = (
    (_DATE, (AnswerType.DATE,), False),
    (_NUMBER, (AnswerType.NUMBER,), False),
    (re.compile(r"\d[\d,.]*"), (AnswerType.NUMBER,), False),
    (_CAPITALISED, _NAMES, False),
    (_QUOTED, (AnswerType.NAME,), True),
    (_REASON, (AnswerType.REASON,), True),
)
