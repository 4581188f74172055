"""Everything the engine knows about English, in one place.

citebot supports English only. Every word list and every pattern that depends on the language
lives here, so the rest of the core is mechanics: folding, counting, scoring. A second language
would be a second module with the same names (and its own Snowball stemmer and pysbd code).

Lists here are closed-class words (pronouns, auxiliaries, question words), units and calendar
words, and a few cue phrases of how English states causes, definitions and aliases. None is
taken from any evaluation question.
"""

from __future__ import annotations

import re

from bot.core.regex import LazyPattern

__all__ = [
    "ALIAS_CUE",
    "ANTONYM_PAIRS",
    "AUXILIARIES",
    "BEFORE_QUANTITIES",
    "DATE_PATTERN",
    "DEFINITION_OPENERS",
    "DEFINITION_QUESTION",
    "DERIVATIONAL_SUFFIXES",
    "FRAME_WORDS",
    "GENERIC_RELATIONS",
    "HOW_MEASURES",
    "LOCATIVES",
    "MEASURE_PATTERNS",
    "MONEY_WORDS",
    "MONTHS",
    "NAME_JOINERS",
    "NEGATIONS",
    "NEGATION_TOKENS",
    "NUMBER_PATTERN",
    "PERSON_NOUNS",
    "PLACE_NOUNS",
    "PRONOUNS",
    "QUESTION_WORDS",
    "REASON_PATTERN",
    "RELATION_PATTERN",
    "RESTRICTIVE_MODIFIERS",
    "SENTENCE_SPLITTER_LANGUAGE",
    "STEMMER_LANGUAGE",
    "STOP_WORDS",
    "TYPE_CUES",
    "WHAT_MEASURE",
]

STEMMER_LANGUAGE = "english"  # PyStemmer's Snowball algorithm
SENTENCE_SPLITTER_LANGUAGE = "en"  # pysbd's language code

STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he her
    here hers herself him himself his how i if in into is isn't it it's its itself just let's me
    more most my myself no nor not of off on once only or other ought our ours ourselves out over
    own same she should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they this those through to too under until up very was wasn't we
    were weren't what what's when where where's which while who who's whom why why's will with
    won't would wouldn't you your yours yourself yourselves
    s t d ll m re ve etc e g i.e eg ie
    tell please know
    """.split()
)
# Tokens lose their apostrophes ("won't" becomes "wont"), so contractions are stop words both ways.
STOP_WORDS = STOP_WORDS | frozenset(w.replace("'", "") for w in STOP_WORDS if "'" in w)

QUESTION_WORDS = frozenset("what which who whom whose where when why how".split())
AUXILIARIES = frozenset(
    """is are was were am be been do does did will would can could should shall may might must has
    have had""".split()
)
NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without"})
# Prepositions: "what is X of Y" asks a relation of Y, not what X is.
PREPOSITIONS = frozenset(
    "of in for at on by from with about to into over under between among during against".split()
)
# Negations as tokens: contractions lose their apostrophe when tokenised ("won't" -> "wont").
NEGATION_TOKENS = (
    NEGATIONS
    | frozenset(w.replace("'", "") for w in STOP_WORDS if w.endswith("n't"))
    | {"cannot", "cant", "aint"}
)
# "Won't ESA join?", "Didn't they...?": a negated auxiliary opens a yes/no question too.
AUXILIARIES = AUXILIARIES | frozenset(t for t in NEGATION_TOKENS if t.endswith("nt") or t == "cannot")
# Words that stand for a subject named earlier: a sentence opening with one is about what the
# sentence before it (or the document's title) names.
PRONOUNS = frozenset("he she it they his her its their this these those such him them there".split())
# A bare number after these is a quantity, not part of a name: "over 300", "nearly 50".
BEFORE_QUANTITIES = frozenset(
    "around nearly roughly approximately almost least top just some over under about than only".split()
)
# Small words inside a run of capitalised words that still make one name: "Bank of England".
NAME_JOINERS = frozenset("of and for the at on de du la le von van del da".split())

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WEEKDAYS = "(?:mon|tues|wednes|thurs|fri|satur|sun)day"
# A date or a time: years, decades, centuries, months, weekdays, eras. Vague adverbs ("soon",
# "later", "recently") are not dates: they cannot answer "when".
DATE_PATTERN = LazyPattern(
    rf"\b(?:1\d{{3}}|20\d{{2}}|\d{{1,4}}s|\d{{1,2}}(?:st|nd|rd|th)\s+centur(?:y|ies)|"
    rf"(?:{MONTHS})\.?(?:\s+\d{{1,2}})?|\d{{1,2}}\s+(?:{MONTHS})|centur(?:y|ies)|decades?|"
    rf"\d+\s+(?:years?|months?|weeks?|days?)\s+(?:ago|later|earlier|after|before)|ago|"
    rf"bc|bce|ad|ce|today|yesterday|tomorrow|dynast(?:y|ies)|era|reign|period|{_WEEKDAYS}|"
    rf"noon|midnight|spring|summer|autumn|winter)\b|\b\d{{1,2}}(?:[:.]\d{{2}})?\s?[ap]\.?m\b\.?",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|dozens|"
    "half|third|thirds|quarter|quarters|double|twice|thrice|percent|per cent"
)
# A digit inside a numbered name ("Chang'e-7", "or -8", "S10") names something; a year answers
# "when". Neither is a quantity.
_DIGITS = (
    r"(?<![A-Za-z\d])(?<![A-Za-z][-'’])(?<!\s[-–])"
    # ...nor is a decade ("the 1990s"): it answers "when" too.
    r"(?!(?:1\d{3}|20\d{2})\b(?![,.]\d))(?!\d{1,4}s\b)\d[\d,.]*%?"
)
NUMBER_PATTERN = LazyPattern(rf"{_DIGITS}|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_AMOUNT = rf"(?:\d[\d,.]*|\b(?:{_NUMBER_WORDS}))"
_SCALE = r"(?:\s*(?:hundred|thousand|million|billion|trillion|m|bn|k))?"
# How a sentence states a quantity of a kind: a number *with* its unit. A currency word alone
# ("the Yuan dynasty") or a letter alone (the "g" of "e.g.") is not an amount.
MEASURE_PATTERNS: dict[str, LazyPattern] = {
    name: LazyPattern(pattern, re.IGNORECASE)
    for name, pattern in {
        "money": rf"[$€£¥]\s?\d|(?:\d[\d,.]*|{_AMOUNT}){_SCALE}\s*(?:dollars?|euros?|pounds|yuan|yen|francs?|"
        rf"marks|livres|rubles?|roubles?|rupees?|pesos?|usd|eur|gbp)\b|\b(?:dollars?|euros?)\s+\d",
        "age": rf"{_AMOUNT}[\s-]+years?[\s-]+old|\baged?\s+\d|\bat\s+the\s+age\s+of\b|\b(?:born|died)\b",
        "duration": rf"{_AMOUNT}{_SCALE}[\s-]+(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
        r"centur(?:y|ies)|decades?)\b",
        "mass": rf"\d[\d,.]*{_SCALE}\s*(?:kg|g|mg|t|lbs?|oz)\b|{_AMOUNT}{_SCALE}[\s-]+(?:kilograms?|grams?|"
        r"tons?|tonnes?|pounds|ounces?)\b",
        "length": rf"\d[\d,.]*{_SCALE}\s*(?:km|m|cm|mm|mi|ft|in)\b|{_AMOUNT}{_SCALE}[\s-]+(?:kilomet\w+|"
        r"met(?:er|re)s?|centimet\w+|miles?|feet|foot|inch(?:es)?|yards?|light-years?|au)\b",
        "area": rf"\d[\d,.]*{_SCALE}\s*(?:km2|km²|m2|m²|sq\s?mi)\b"
        rf"|{_AMOUNT}{_SCALE}[\s-]+(?:square\s+\w+|acres?|hectares?)\b",
        "speed": rf"\d[\d,.]*\s*(?:km/h|mph|m/s|knots?)\b"
        rf"|{_AMOUNT}[\s-]+(?:miles|kilomet\w+)\s+(?:per|an)\s+hour",
    }.items()
}
# "How heavy" wants a mass, "how long" a duration or a length...
HOW_MEASURES: dict[str, tuple[str, ...]] = {
    "old": ("age",),
    "long": ("duration", "length"),
    "heavy": ("mass",),
    "big": ("length", "area"),
    "large": ("length", "area"),
    "far": ("length",),
    "tall": ("length",),
    "high": ("length",),
    "deep": ("length",),
    "wide": ("length",),
    "fast": ("speed",),
}
# "What is the mass of..." wants a mass.
WHAT_MEASURE: dict[str, tuple[str, ...]] = {
    "mass": ("mass",),
    "weight": ("mass",),
    "height": ("length",),
    "length": ("length",),
    "distance": ("length",),
    "age": ("age",),
    "area": ("area",),
    "size": ("length", "area"),
    "cost": ("money",),
    "price": ("money",),
    "budget": ("money",),
    "salary": ("money",),
    "speed": ("speed",),
}
MONEY_WORDS = frozenset("cost costs spend spent pay paid price worth money budget salary earn earned".split())

# Prepositions that say where: the phrase after one can answer "where".
LOCATIVES = (
    "in|at|near|from|into|across|throughout|outside|inside|within|around|between|beneath|under|above|"
    "along|off|onto|beside|behind"
)

# Words that mark a cause or a purpose: a sentence with one can answer "why".
REASON_PATTERN = LazyPattern(
    r"\b(?:because|since|due to|owing to|as a result|result of|in order to|so that|so as to|in protest|"
    r"reason|caused|causes|led to|lead to|leading to|thanks to|order to|aim|aimed|aims|intended|purpose|"
    r"fear|fearing|desire|wanted|need|needed|therefore|thus|hence)\b",
    re.IGNORECASE,
)
# "X, also known as Y", "X (or Y)": the document names one thing twice.
ALIAS_CUE = LazyPattern(
    r"\b(?:also|otherwise|commonly|sometimes|often|formerly|better)\s+(?:known|called|referred to)\s+as\b"
    r"|\bknown\s+as\b|\bshort\s+for\b|\bstands?\s+for\b|\babbreviat\w*\b|\bor\s+simply\b|\bi\.e\.",
    re.IGNORECASE,
)
# How a definition begins after its subject: "X is a...", "X refers to...", "X means...".
DEFINITION_OPENERS = frozenset("is are was were refers refer means mean describes denotes designates".split())

PLACE_NOUNS = frozenset(
    """country countries city cities town towns village place places region regions area areas
    continent state states province location island islands river port colony colonies territory
    nation kingdom county capital district site land lands""".split()
)
PERSON_NOUNS = frozenset(
    """person people man men woman women king queen leader leaders ruler emperor president minister
    general author writer scientist individual family son daughter father mother duke prince officer
    pope governor commander explorer artist politician founder inventor player singer actor director
    owner""".split()
)
# Nouns that say what kind of answer is wanted ("what title", "the proportion of") rather than
# name a relation the answer must state.
GENERIC_RELATIONS = frozenset(
    """name names title titles term terms type types kind kinds form forms sort category group
    purpose reason role meaning part parts number amount share ratio proportion percentage percent
    fraction value one ones first last main other thing things way ways example word words
    person persons people profession occupation status position class""".split()
)
# Words in a question that set its frame, not its topic: the answer need not repeat them.
FRAME_WORDS = frozenset(
    """mean meaning means describe described explain happen happened happens occur occurred type
    kind sort example examples term word use used call called name named""".split()
)

_PLACES = "|".join(sorted(PLACE_NOUNS))
_PERSONS = "|".join(sorted(PERSON_NOUNS))
# Question wording -> the kind of answer wanted, matched on folded tokens joined by spaces. The
# cue nearest the start of the question wins (see bot.core.pipeline.analysis).
TYPE_CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"\b(?:when|what (?:year|date|day|month|time|century|decade|era|period)|which "
            r"(?:year|date|day|month|century|decade)|in what (?:year|century|decade)|how long ago|"
            r"since when|until when)\b"
        ),
        "date",
    ),
    (
        re.compile(
            r"\b(?:how (?:many|much|long|far|old|big|large|high|tall|deep|wide|heavy|fast|often)|"
            r"what (?:(?:is|was|are|were) )?(?:the )?(?:percentage|percent|proportion|fraction|number|amount|"
            r"share|size|population|cost|budget|price|mass|weight|height|length|age|distance|speed|salary)|"
            r"how \w+ (?:percent|people|times))\b"
        ),
        "number",
    ),
    (re.compile(r"\b(?:who|whom|whose)\b"), "person"),
    (re.compile(rf"\b(?:where|(?:what|which|in what|in which) (?:\w+ )?(?:{_PLACES}))\b"), "place"),
    (re.compile(rf"\b(?:what|which) (?:\w+ )?(?:{_PERSONS})\b"), "person"),
    (
        re.compile(r"\b(?:why|what (?:caused|causes|led to|was the reason|is the reason|reason))\b"),
        "reason",
    ),
    (re.compile(r"\b(?:called|named|name of|the name|term for|known as)\b"), "name"),
)
# "What is X", "who was X", "what does X mean", "define X": the question asks what X is.
DEFINITION_QUESTION = re.compile(
    r"^(?:what|who)(?: (?:is|are|was|were))(?: (?:a|an|the))? (?P<subject>.+?)$"
    r"|^what (?:does|do|did) (?P<subject2>.+?) (?:mean|stand for)$"
    r"|^(?:define|definition of|meaning of) (?P<subject3>.+)$"
)
# A relation noun: "who is the head of X", "what rocket launched X".
RELATION_PATTERN = re.compile(
    r"^(?:who|what|which) (?:(?:is|was|are|were) )?(?:the|a|an) (?:\w+ )?(?P<noun>\w+) "
    r"(?:of|in|for|at|on|to|from|behind)\b"
    r"|^(?:what|which) (?P<kind>\w+) (?:is|was|are|were|did|does|do|will|would|can|could|has|have|had)\b"
)
# Endings that turn one word into a relative ("brazil"/"brazilian", "europ"/"european",
# "govern"/"government"); compared on Snowball stems, after the stemmer's own merging.
DERIVATIONAL_SUFFIXES = frozenset(
    """an ian ean ese ish i er or ers ors ion ation ition ions al ial ical ic ics ity ment ments ness ist
    ists ism ive ize ise ized ised ship hood dom ee ees ery ory ant ent ance ence ary""".split()
)
# Opposites: a sentence saying one where the question says the other states the reverse fact
# ("precedes" asked, "succeeds" written). Compared on Snowball stems.
ANTONYM_PAIRS: tuple[tuple[str, str], ...] = tuple(
    tuple(pair.split("/"))  # type: ignore[misc]
    for pair in """first/last before/after earliest/latest early/late most/least more/less more/fewer
    largest/smallest biggest/smallest highest/lowest higher/lower greatest/least longest/shortest
    increase/decrease increased/decreased rise/fall rose/fell gain/loss win/lose won/lost
    precede/succeed precedes/succeeds preceded/succeeded begin/end began/ended start/end
    accept/reject accepted/rejected allow/forbid allowed/banned open/close opened/closed major/minor
    north/south east/west northern/southern eastern/western upper/lower maximum/minimum inside/outside
    always/never old/new oldest/newest older/newer import/export imported/exported buy/sell bought/sold
    inner/outer internal/external public/private success/failure successful/unsuccessful rich/poor
    strong/weak stronger/weaker positive/negative above/below top/bottom same/different legal/illegal
    ancient/modern support/oppose supported/opposed""".split()
)
# Words that narrow a question to one extreme or one case ("the first", "the only", "never"): a
# sentence without them may state a different fact about the same things.
RESTRICTIVE_MODIFIERS = frozenset(
    """first last only never always least most earliest latest largest smallest biggest highest
    lowest oldest youngest newest best worst main primary sole every entire whole all none""".split()
)
