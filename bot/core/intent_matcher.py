"""Matching a question to the curated intents whose example questions it rewords.

Character-level fuzzy scores alone only catch near-copies of an example ("who tracked
change 6"). Readers reword: "Is ESA joining ILRS?" for "Will ESA join the ILRS?". So a question
is scored against the examples by how much of its idf-weighted content words the example
accounts for (a little less when they come from the intent's other examples or its cited
sentence), blended with a fuzzy string score that still sees the question words. Guards then
refuse matches that a word-overlap score gets wrong: a different answer type ("where" for
"when"), a flipped negation, a number or name the intent does not cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.english import STOP_WORDS
from bot.core.index import KnowledgeIndex, derivation_keys
from bot.core.intents import ResolvedIntent
from bot.core.mentions import AnswerType, answer_mentions, sentence_answer_types
from bot.core.pipeline.analysis import AnalysedQuestion, analyse_question
from bot.core.pipeline.retrieval import TYPO_WEIGHT, QueryTerms
from bot.core.text import content_terms, stem, tokenize

__all__ = [
    "CHITCHAT_SCORE",
    "IntentMatch",
    "IntentMatcher",
    "chitchat_match",
]

# Chit-chat ("hello", "thanks") gets its fixed reply only for a near-copy of an example: it has
# too few words to weigh, and a reply that is not an answer must never stand in for one.
CHITCHAT_SCORE = 0.9
# Credit for a question word found in another example of the intent rather than this one,
# or in the sentence the intent cites first...
SIBLING_CREDIT = 0.85
QUOTE_CREDIT = 0.7
# ...and for a derived form of an example word ("European" for "Europe").
RELATIVE_CREDIT = 0.6
# Recall (the question's words the example accounts for) counts this many times more than
# precision: an example may say more than a short question ("When will the samples return?").
RECALL_EMPHASIS = 2.0
TOKEN_SHARE = 0.75  # the rest of the score is the fuzzy string similarity
# An untyped question matched to a typed example ("What is the launch date?" to a "when"
# example) keeps this much of its score.
TYPE_MISMATCH_FACTOR = 0.8
# A question naming something its intent never mentions ("Is ESA joining?" against "Is Turkey
# joining?") is most likely another question.
SUBJECT_SWAP_FACTOR = 0.6
# A word no document and no example uses ("quarterbacks") is most likely a different question;
# but readers reword ("any chance of"), so it lowers the score rather than ruling the intent out.
UNSEEN_WORD_FACTOR = 0.75
SCORED_EXAMPLES = 15  # examples scored in full per question: those sharing most weight with it
# Fewer examples than this share a word with the question: also score the closest by spelling.
FUZZY_FALLBACK = 3
SUGGESTION_POOL = 100  # fuzzy candidates from which decline suggestions are picked


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """An intent and how closely the question matched one of its examples (0-1)."""

    intent: ResolvedIntent
    score: float
    example: str


@dataclass(frozen=True, slots=True)
class _Example:
    intent: ResolvedIntent
    text: str
    analysed: AnalysedQuestion
    key: str  # folded tokens, stop words kept: what the fuzzy score compares
    terms: frozenset[str]
    prefixes: frozenset[str]
    quote_terms: frozenset[str]  # of the first cited sentence, the one that answers
    sibling_terms: frozenset[str]  # of every example of the intent
    quote_types: frozenset[AnswerType]
    quote_tokens: frozenset[str]  # of every cited sentence
    cited_terms: frozenset[str]  # of every cited sentence
    named_prefixes: frozenset[str]  # of the sibling and cited terms
    weights: tuple[tuple[str, float], ...]  # the example's terms with their idf
    total: float

    def __reduce__(self) -> tuple[type[_Example], tuple[Any, ...]]:
        # Kept in the folder cache, one per example: by the fields, as AnalysedQuestion is.
        return _Example, tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class _Query:
    """What scoring needs of one question, computed once for all examples."""

    question: AnalysedQuestion
    key: str
    weights: dict[str, float]  # idf-weighted content terms
    total: float
    prefixes: frozenset[str]
    numbers: tuple[str, ...]  # tokens an example must share: numbers and numbered names
    unseen: tuple[str, ...]  # words neither the knowledge nor any example uses
    salient: frozenset[str]  # names the question uses, a spelled-out name as its acronym


def chitchat_match(ranked: Sequence[IntentMatch]) -> IntentMatch | None:
    """The chit-chat intent ``ranked`` (see :meth:`IntentMatcher.ranked`) plainly rewords, if any.

    Only when no cited intent matches the question better: "hello, who tracked Chang'e-6?" is a
    question, not a greeting.
    """
    for match in ranked:
        if not match.intent.is_chitchat:
            return None
        if match.score >= CHITCHAT_SCORE:
            return match
    return None


def _prefixes(terms: frozenset[str]) -> frozenset[str]:
    """The derivation keys of ``terms``: two words sharing one are relatives ("europ"/"european")."""
    return frozenset(key for t in terms if not t[0].isdigit() for key in derivation_keys(t))


def _fuzzy(a: str, b: str) -> float:
    """Character-level closeness of two folded questions, 0-1."""
    from rapidfuzz import fuzz  # here: 50 ms to load, needed only once a question is asked

    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b)) / 100


def _related(term: str, keys: frozenset[str]) -> bool:
    return not term[0].isdigit() and not keys.isdisjoint(derivation_keys(term))


class IntentMatcher:
    """Scores questions against the examples of curated intents."""

    def __init__(self, intents: Sequence[ResolvedIntent], index: KnowledgeIndex) -> None:
        """Prepare the examples of ``intents``; word weights come from ``index``."""
        self.intents = tuple(intents)
        self._index = index
        self._examples: list[_Example] = []
        self._by_term: dict[str, list[int]] = defaultdict(list)
        for intent in self.intents:
            quote_text = " ".join(sentence.text for _, sentence in intent.citations)
            quote_tokens = tokenize(quote_text)
            first = intent.citations[0][1].text if intent.citations else ""
            quote_terms = self._terms(content_terms(tokenize(first)))
            cited_terms = self._terms(content_terms(quote_tokens))
            quote_types = sentence_answer_types(answer_mentions(first))
            # The intent's other examples name the same things in other words ("NILS", "the
            # European instrument"), so a question mixing their words is still this intent's.
            analysed_examples = [analyse_question(e) for e in intent.examples]
            example_terms = [self._terms(list(a.terms)) for a in analysed_examples]
            sibling_terms = frozenset().union(*example_terms)
            named_prefixes = _prefixes(sibling_terms | cited_terms)  # the intent's: once for its examples
            examples = zip(intent.examples, analysed_examples, example_terms, strict=True)
            for example, analysed, terms in examples:
                weights = tuple((t, index.idf(t)) for t in sorted(terms))
                position = len(self._examples)
                self._examples.append(
                    _Example(
                        intent,
                        example,
                        analysed,
                        " ".join(analysed.tokens),
                        terms,
                        _prefixes(terms),
                        quote_terms,
                        sibling_terms,
                        quote_types,
                        frozenset(quote_tokens),
                        cited_terms,
                        named_prefixes,
                        weights,
                        sum(w for _, w in weights),
                    )
                )
                for term in terms:
                    self._by_term[term].append(position)
        self._keys = [example.key for example in self._examples]
        # Words readers use to ask ("going", "happened") are not new subjects, even if no
        # document uses them.
        self._example_vocabulary = frozenset(t for e in self._examples for t in e.analysed.tokens)
        self._example_terms = frozenset(t for e in self._examples for t in e.terms)

    def prepared(self) -> dict[str, object]:
        """What preparing the examples computed, without the index: to keep and restore later."""
        return {name: value for name, value in vars(self).items() if name != "_index"}

    @classmethod
    def restore(cls, prepared: dict[str, object], index: KnowledgeIndex) -> IntentMatcher:
        """The matcher :meth:`prepared` described, over ``index`` (the one it was prepared with)."""
        matcher = cls.__new__(cls)
        vars(matcher).update(prepared)
        matcher._index = index
        return matcher

    def _terms(self, terms: list[str]) -> frozenset[str]:
        """Terms as the index sees them: a spelled-out name also counts as its acronym."""
        return frozenset(terms) | {acronym for _, acronym in self._index.spelled_out(terms)}

    def ranked(self, question: AnalysedQuestion, terms: QueryTerms) -> list[IntentMatch]:
        """Intents close to ``question``, each with its best example's score, best first."""
        key = " ".join(question.tokens)
        if not self._examples or not key:
            return []
        from rapidfuzz import fuzz, process  # here: knowledge without intents never needs it

        query = self._query(question, terms, key)
        # Only the examples sharing the most question weight can score well: scoring every
        # example sharing one common word ("ESA") would cost more than the rest of an answer.
        shared: dict[int, float] = defaultdict(float)
        for term, weight in query.weights.items():
            for position in self._by_term.get(term, ()):
                shared[position] += weight
        # Ties are common (every example naming "ILRS" shares its weight): the example the
        # question covers more of comes first.
        totals = self._examples
        ordered = sorted(shared, key=lambda p: (-shared[p], -shared[p] / (totals[p].total or 1.0), p))
        positions = set(ordered[:SCORED_EXAMPLES])
        if len(positions) < FUZZY_FALLBACK:
            # Chit-chat and very short questions may share no content word with their example.
            positions.update(p for _, _, p in process.extract(key, self._keys, scorer=fuzz.ratio, limit=3))
        best: dict[str, IntentMatch] = {}
        for position in sorted(positions):
            example = self._examples[position]
            score = self._score(query, example)
            if score <= 0.0:
                continue
            held = best.get(example.intent.id)
            if held is None or score > held.score:
                best[example.intent.id] = IntentMatch(example.intent, score, example.text)
        return sorted(best.values(), key=lambda m: (-m.score, m.intent.id))

    def _query(self, question: AnalysedQuestion, terms: QueryTerms, key: str) -> _Query:
        # idf-weighted terms; a "typo" that is an example word is taken as typed.
        weights = {t: terms.idf[t] * w for t, w in terms.weights.items()}
        for typed, fixed in terms.corrected.items():
            term = stem(typed)
            if term in self._example_terms and stem(fixed) in weights:
                weights[term] = weights.pop(stem(fixed)) / TYPO_WEIGHT
        # A number or numbered name changes the subject unless an example or its quotes have it;
        # a word the knowledge has never seen most likely does (a typo of a known word does not).
        numbers = tuple(t for t in question.tokens if any(ch.isdigit() for ch in t))
        unseen = tuple(
            token
            for token in question.tokens
            if len(token) > 3
            and not any(ch.isdigit() for ch in token)
            and token not in STOP_WORDS
            and token not in self._example_vocabulary
            and token not in self._index.surface_vocabulary
            and stem(token) not in self._index.sentence_bm25.idf
            and self._index.correct_spelling(token) is None
        )
        salient = set(question.salient_terms)
        for spelled, acronym in self._index.spelled_out(list(weights)):
            if salient.issuperset(spelled):
                salient.difference_update(spelled)
                salient.add(acronym)
        return _Query(
            question,
            key,
            weights,
            sum(weights.values()),
            _prefixes(frozenset(weights)),
            numbers,
            unseen,
            frozenset(salient),
        )

    def _score(self, query: _Query, example: _Example) -> float:
        if example.intent.is_chitchat:
            # Fixed replies: only a close rewording of the whole phrase counts.
            return _fuzzy(query.key, example.key)
        question = query.question
        if question.negated != example.analysed.negated or not query.total:
            return 0.0
        factor = self._type_factor(question, example)
        if factor == 0.0 or self._names_something_else(query.numbers, example):
            return 0.0
        if self._names_something_else(query.unseen, example):
            factor *= UNSEEN_WORD_FACTOR
        if self._swaps_subject(query, example):
            factor *= SUBJECT_SWAP_FACTOR
        covered = 0.0
        for term, weight in query.weights.items():
            if term in example.terms:
                covered += weight
            elif term in example.sibling_terms:
                covered += SIBLING_CREDIT * weight
            elif term in example.quote_terms:
                covered += QUOTE_CREDIT * weight
            elif _related(term, example.prefixes):
                covered += RELATIVE_CREDIT * weight
        recall = covered / query.total
        shared = sum(
            weight
            for term, weight in example.weights
            if term in query.weights or _related(term, query.prefixes)
        )
        precision = shared / example.total if example.total else 0.0
        if not recall or not precision:
            return 0.0
        beta2 = RECALL_EMPHASIS**2
        token = (1 + beta2) * precision * recall / (beta2 * precision + recall)
        return factor * (TOKEN_SHARE * token + (1 - TOKEN_SHARE) * _fuzzy(query.key, example.key))

    @staticmethod
    def _type_factor(question: AnalysedQuestion, example: _Example) -> float:
        asked, offered = question.answer_type, example.analysed.answer_type
        if asked is offered:
            return 1.0
        if asked is AnswerType.ANY:
            return TYPE_MISMATCH_FACTOR
        # A typed question ("how heavy", "where") needs a cited sentence that can answer it.
        if offered is AnswerType.ANY and asked in example.quote_types:
            return TYPE_MISMATCH_FACTOR
        return 0.0

    @staticmethod
    def _swaps_subject(query: _Query, example: _Example) -> bool:
        """Whether the question names something the intent never does ("Gateway" for an ILRS intent)."""
        missing = query.salient - example.sibling_terms - example.cited_terms
        # "Europe" is named by "European": a derived form is the same subject.
        return any(not _related(t, example.named_prefixes) for t in missing)

    @staticmethod
    def _names_something_else(tokens: tuple[str, ...], example: _Example) -> bool:
        return any(
            token not in example.analysed.tokens
            and token not in example.quote_tokens
            and (any(ch.isdigit() for ch in token) or stem(token) not in example.terms)
            for token in tokens
        )

    def suggestions(self, question: str | AnalysedQuestion, limit: int = 3) -> list[str]:
        """Example questions close to ``question`` (its text or its analysis), one per intent, best first."""
        if not self._keys:
            return []
        from rapidfuzz import fuzz, process

        analysed = analyse_question(question) if isinstance(question, str) else question
        key = " ".join(analysed.tokens)
        # Examples sharing a word with the question first: a full fuzzy scan of every example
        # costs as much as the rest of an answer, and is only needed when they are too few.
        sharing = sorted({p for term in analysed.terms for p in self._by_term.get(term, ())})
        found = [(score, p) for p, score in self._set_ratios(key, sharing)]
        used: set[str] = set()
        picked = self._one_per_intent(found, limit, used)
        if len(picked) < limit:
            # Too few share a word: the closest wordings overall, by plain string similarity
            # (a tenth of the cost of comparing word sets, and no worse without shared words).
            everything = process.extract(key, self._keys, scorer=fuzz.ratio, limit=SUGGESTION_POOL)
            picked += self._one_per_intent(
                [(score, p) for _, score, p in everything], limit - len(picked), used
            )
        return picked

    def _set_ratios(self, key: str, positions: Sequence[int]) -> list[tuple[int, float]]:
        from rapidfuzz import fuzz

        return [(p, fuzz.token_set_ratio(key, self._keys[p])) for p in positions]

    def _one_per_intent(self, scored: list[tuple[float, int]], limit: int, used: set[str]) -> list[str]:
        """The best example of each intent not in ``used`` (which it extends), at most ``limit``."""
        picked: list[str] = []
        for _score, position in sorted(scored, key=lambda f: (-f[0], f[1])):
            example = self._examples[position]
            if example.intent.is_chitchat or example.intent.id in used:
                continue
            used.add(example.intent.id)
            picked.append(example.text)
            if len(picked) == limit:
                break
        return picked
