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
    rf"years?|ago|bc|bce|ad|ce|today|yesterday|dynast(?:y|ies)|era|period|spring|summer|autumn|winter|"
    rf"(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d+(?:st|nd|rd|th)?-century|[ap]\.?m\.?|noon|midnight|"
    rf"night|morning|evening|afternoon|immediately|"
    rf"beginning|soon|later|earlier|recently)\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|dozens|"
    "half|third|quarter|double|twice|single|several|many|few|percent|majority|minority|most"
)
# A digit in a numbered name ("Chang'e-7", "or -8", "S10") names something; it is not a quantity.
_DIGITS = (
    r"(?<![A-Za-z\d])(?<![A-Za-z][-'’])(?<!\s[-–])"
    # ...nor is a year: it answers "when", not "how many" (so does a date's day, see below).
    r"(?!(?:1\d{3}|20\d{2})\b(?![,.]\d))\d[\d,.]*"
)
_DAY_OF_MONTH = re.compile(rf"\b(?:{_MONTHS})\s+$", re.IGNORECASE)
_NUMBER = re.compile(rf"{_DIGITS}|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
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
            r"what (?:(?:is|was|are|were) )?(?:the )?(?:percentage|percent|proportion|fraction|number|amount|"
            r"share|size|population|cost|budget|price|mass|weight|height|length|age|distance|speed)|"
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

_AUXILIARIES = frozenset(
    "is are was were do does did will would can could should shall may might must has have had".split()
)
_WH_WORD = re.compile(r"\b(?:what|which|who|whom|whose|where|why|how)\b")

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
    # For a quantity question, what its answer must also hold: a unit for "how heavy", the
    # counted noun (stemmed) for "how many countries".
    measure: re.Pattern[str] | None = None
    counted: str | None = None
    # The noun naming what is asked about the subject: "head" in "Who is the head of CNSA?",
    # "rocket" in "Which rocket launched it?". Stemmed; None when the question has no such word.
    relation: str | None = None


def analyse_question(text: str) -> AnalysedQuestion:
    """Tokenise ``text`` and read its expected answer type."""
    tokens = tuple(tokenize(text))
    lowered = " ".join(tokens)
    # The cue nearest the start wins: in "Who led the troops when Cyprus fell?" the "when" is
    # a conjunction, and the question wants a person.
    answer_type, earliest = AnswerType.ANY, len(lowered) + 1
    opener = _WH_WORD.search(lowered)
    for pattern, kind in _TYPE_CUES:
        found = pattern.search(lowered)
        if found is None or found.start() >= earliest:
            continue
        # "How did they react when..." asks how, not when; so does "Did they ... when ...?".
        if (
            found.group() == "when"
            and found.start() > 0
            and (
                (opener is not None and opener.start() < found.start())
                or lowered.split(" ", 1)[0] in _AUXILIARIES
            )
        ):
            continue
        answer_type, earliest = kind, found.start()
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
    measure, counted = _quantity(tokens) if answer_type is AnswerType.NUMBER else (None, None)
    return AnalysedQuestion(
        text,
        tokens,
        tuple(terms),
        answer_type,
        negated,
        frozenset(t for t in terms if t in _FRAME_WORDS),
        frozenset(salient & set(terms)),
        measure,
        counted,
        _relation(lowered),
    )


# Only nouns: verbs are reworded too freely ("kicked out" for "forced from") to be required.
_RELATION = re.compile(
    r"^(?:who|what|which) (?:(?:is|was|are|were) )?(?:the|a|an) (?:\w+ )?(?P<noun>\w+) "
    r"(?:of|in|for|at|on|to|from|behind)\b"
    r"|^(?:what|which) (?P<kind>\w+) (?:is|was|are|were|did|does|do|will|would|can|could|has|have|had)\b"
)
# Nouns that say what kind of answer is wanted ("what title", "the proportion of") rather than
# name a relation the answer must state.
_GENERIC_RELATIONS = frozenset(
    """name names title titles term terms type types kind kinds form forms sort category group
    purpose reason role meaning part parts number amount share ratio proportion percentage percent
    fraction value one ones first last main other thing things way ways example word words
    person persons people profession occupation status position class""".split()
)


def _relation(lowered: str) -> str | None:
    found = _RELATION.search(lowered)
    if found is None:
        return None
    word = found.group("noun") or found.group("kind")
    if word in STOP_WORDS or word in _GENERIC_RELATIONS:
        return None
    return stem(word)


_MONEY_WORDS = frozenset(
    {"cost", "costs", "spend", "spent", "pay", "paid", "price", "worth", "money", "budget"}
)
# What a sentence needs to say how much something costs, weighs, measures...
_MEASURES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "money": r"[$€£¥]|\b(?:dollars?|euros?|pounds|yuan|yen|francs?|marks|livres|rubles?|roubles?|"
        r"cost|costs|costing|paid|price[sd]?|budget|funding|funded|worth)\b",
        "old": rf"\b(?:ages?|aged|years?|born)\b|{_DIGITS}",
        "long": rf"{_DIGITS}|\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|centur(?:y|ies)|"
        r"decades?|miles?|km|kilomet\w*|met(?:er|re)s?|feet|foot|long|length)\b",
        "heavy": r"\b(?:kg|kilograms?|grams?|g|tons?|tonnes?|pounds|lbs?|ounces?|weigh\w*|mass)\b",
        "big": rf"{_DIGITS}|\b(?:km|kilomet\w*|met(?:er|re)s?|miles?|acres?|hectares?|square|feet|foot|"
        r"size|area)\b",
        "far": r"\b(?:km|kilomet\w*|met(?:er|re)s?|miles?|feet|foot|distance|away|light-years?|au)\b",
        "tall": r"\b(?:met(?:er|re)s?|feet|foot|ft|m|inches|height|tall|high)\b",
    }.items()
}
_HOW = {
    "old": "old",
    "long": "long",
    "heavy": "heavy",
    "big": "big",
    "large": "big",
    "far": "far",
    "tall": "tall",
    "high": "tall",
}

_WHAT_MEASURE = {
    "mass": "heavy",
    "weight": "heavy",
    "height": "tall",
    "length": "long",
    "distance": "far",
    "age": "old",
    "area": "big",
    "size": "big",
}


def _quantity(tokens: tuple[str, ...]) -> tuple[re.Pattern[str] | None, str | None]:
    """The unit pattern or counted noun a "how ..." question's answer must hold, if any."""
    for i, token in enumerate(tokens[:-1]):
        if token != "how":
            continue
        following = tokens[i + 1]
        if following == "much" and _MONEY_WORDS & set(tokens):
            return _MEASURES["money"], None
        if following in _HOW:
            return _MEASURES[_HOW[following]], None
        if following == "many" and i + 2 < len(tokens) and tokens[i + 2] not in STOP_WORDS:
            return None, stem(tokens[i + 2])
        break
    for token in tokens:
        if token in _WHAT_MEASURE:
            return _MEASURES[_WHAT_MEASURE[token]], None
    if _MONEY_WORDS & set(tokens):
        return _MEASURES["money"], None
    return None, None


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
            if pattern is _NUMBER and _DAY_OF_MONTH.search(sentence, 0, match.start()):
                continue
            # No tokens marks a mention that counts even when the question repeats its words.
            tokens = frozenset() if always else frozenset(tokenize(match.group()))
            if pattern is _CAPITALISED and match.group().isupper() and len(match.group()) > 1:
                # An acronym ("ESA", "NASA") names an organisation or a thing, not a person.
                mentions.extend((kind, tokens) for kind in kinds if kind is not AnswerType.PERSON)
                continue
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
    (_CAPITALISED, _NAMES, False),
    (_QUOTED, (AnswerType.NAME,), True),
    (_REASON, (AnswerType.REASON,), True),
)
