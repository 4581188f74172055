"""Stage 1, question analysis: what a question is about and what kind of answer it wants.

The expected answer type is read from the question's wording ("when" wants a date, "how many"
a number); a definition question ("what is X") names the subject it wants defined; the relation
noun ("the head of X") names what must be said about the subject. Later stages check candidate
sentences against each, because word overlap alone happily returns a sentence that mentions the
topic but not the thing asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.core.english import (
    AUXILIARIES,
    DEFINITION_QUESTION,
    FRAME_WORDS,
    GENERIC_RELATIONS,
    HOW_MEASURES,
    MONEY_WORDS,
    NEGATION_TOKENS,
    PREPOSITIONS,
    QUESTION_WORDS,
    RELATION_PATTERN,
    STOP_WORDS,
    TYPE_CUES,
    WHAT_MEASURE,
)
from bot.core.mentions import AnswerType
from bot.core.text import stem, tokenize

__all__ = ["AnalysedQuestion", "analyse_question"]

# A capitalised word not opening the question is a name the question is about.
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?:\"“(]\s)\b[A-Z][a-zA-Z\u00C0-\u024F'’-]*")
_FRAME_TERMS = frozenset(stem(w) for w in FRAME_WORDS)
_ADDRESSED = re.compile(r"(?<![\w.])@\w+|<[@#][!&]?\d+>")
_TYPES = {kind.value: kind for kind in AnswerType}


@dataclass(frozen=True, slots=True)
class AnalysedQuestion:
    """A question as the later stages see it."""

    text: str
    tokens: tuple[str, ...]
    terms: tuple[str, ...]  # stemmed content terms, deduplicated, in order
    answer_type: AnswerType
    wh: str | None  # the question word nearest the start; None for a yes/no question or keywords
    yes_no: bool  # opens with an auxiliary: "Is ESA joining?"
    negated: bool
    frame_terms: frozenset[str]  # "mean", "happen": words that frame the question, not its topic
    salient_terms: frozenset[str]  # terms written as names or numbers: they pin down the subject
    # For a quantity question, the kinds of measure its answer must hold ("mass" for "how
    # heavy"); for a count, the counted noun (stemmed) of "how many countries".
    measures: tuple[str, ...] = ()
    counted: str | None = None
    # The noun naming what is asked about the subject: "head" in "Who is the head of CNSA?".
    relation: str | None = None
    # The terms of X in "what is X" / "who was X": the question asks for a definition.
    defined: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[type[AnalysedQuestion], tuple[Any, ...]]:
        # The folder cache keeps one per example of every intent: by the fields, unpickling is
        # several times faster than through the dataclass's __setstate__ (a cold start's 20 ms).
        return AnalysedQuestion, tuple(getattr(self, name) for name in self.__slots__)


def _answer_type(lowered: str) -> AnswerType:
    # The cue nearest the start wins: in "Who led the troops when Cyprus fell?" the "when" is a
    # conjunction, and the question wants a person.
    answer_type, earliest = AnswerType.ANY, len(lowered) + 1
    opener = next((i for i, w in enumerate(lowered.split()) if w in QUESTION_WORDS), None)
    first = lowered.split(" ", 1)[0]
    for pattern, kind in TYPE_CUES:
        found = pattern.search(lowered)
        if found is None or found.start() >= earliest:
            continue
        # "How did they react when..." asks how, not when; so does "Did they ... when ...?".
        if found.group() == "when" and found.start() > 0:
            words_before = lowered[: found.start()].split()
            if (opener is not None and opener < len(words_before)) or first in AUXILIARIES:
                continue
        answer_type, earliest = _TYPES[kind], found.start()
    return answer_type


def analyse_question(text: str) -> AnalysedQuestion:
    """Tokenise ``text`` and read what it asks for."""
    # "@everyone", "@citebot", "<@123>": whom a chat message is addressed to, not what it asks.
    text = _ADDRESSED.sub(" ", text).strip()
    tokens = tuple(tokenize(text))
    lowered = " ".join(tokens)
    answer_type = _answer_type(lowered)
    terms: list[str] = []
    for token in tokens:
        if token in STOP_WORDS:
            continue
        term = stem(token)
        if term not in terms:
            terms.append(term)
    negated = any(t in NEGATION_TOKENS for t in tokens)
    salient = {
        stem(t) for m in _CAPITALISED.finditer(text) for t in tokenize(m.group()) if t not in STOP_WORDS
    }
    salient.update(stem(t) for t in tokens if any(ch.isdigit() for ch in t))
    wh = next((t for t in tokens[:4] if t in QUESTION_WORDS), None)
    measures, counted = _quantity(tokens) if answer_type is AnswerType.NUMBER else ((), None)
    return AnalysedQuestion(
        text,
        tokens,
        tuple(terms),
        answer_type,
        wh,
        bool(tokens) and tokens[0] in AUXILIARIES,
        negated,
        frozenset(t for t in terms if t in _FRAME_TERMS),
        frozenset(salient & set(terms)),
        measures,
        counted,
        _relation(lowered),
        _defined(lowered, answer_type),
    )


def _relation(lowered: str) -> str | None:
    found = RELATION_PATTERN.search(lowered)
    if found is None:
        return None
    word = found.group("noun") or found.group("kind")
    if word in STOP_WORDS or word in GENERIC_RELATIONS:
        return None
    return stem(word)


def _defined(lowered: str, answer_type: AnswerType) -> tuple[str, ...]:
    """The subject of a definition question ("what is X", "who was X"), as stemmed terms."""
    if answer_type not in (AnswerType.ANY, AnswerType.PERSON):
        return ()
    found = DEFINITION_QUESTION.match(lowered)
    if found is None:
        return ()
    subject = found.group("subject") or found.group("subject2") or found.group("subject3") or ""
    words = subject.split()
    # "What is the capital of France" asks a relation, not a definition.
    if any(w in PREPOSITIONS for w in words):
        return ()
    return tuple(stem(w) for w in words if w not in STOP_WORDS)


def _quantity(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The measures or the counted noun a quantity question's answer must hold, if any."""
    for i, token in enumerate(tokens[:-1]):
        if token != "how":
            continue
        following = tokens[i + 1]
        if following == "much" and MONEY_WORDS & set(tokens):
            return ("money",), None
        if following in HOW_MEASURES:
            return HOW_MEASURES[following], None
        if following == "many" and i + 2 < len(tokens) and tokens[i + 2] not in STOP_WORDS:
            return (), stem(tokens[i + 2])
        break
    for token in tokens:
        if token in WHAT_MEASURE:
            return WHAT_MEASURE[token], None
    if MONEY_WORDS & set(tokens):
        return ("money",), None
    return (), None
