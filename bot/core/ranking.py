"""Ranking candidate sentences for a question.

Retrieval (BM25 over sentences plus their paragraphs) proposes candidates; a linear model
over a few interpretable features orders them: how much of the question's weight the
sentence and its neighbourhood cover, whether question phrases recur as phrases, and whether
the sentence holds the kind of thing the question asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from bot.core.index import KnowledgeIndex
from bot.core.questions import NEGATIONS, AnalysedQuestion, AnswerType, sentence_answer_types

__all__ = ["Candidate", "QueryTerms", "names_another", "query_terms", "rank_candidates"]

PRONOUNS = frozenset(
    ["he", "she", "it", "they", "his", "her", "its", "their", "this", "these", "those", "such"]
)
CANDIDATE_POOL = 30  # sentences re-ranked with the full feature set
PARAGRAPH_WEIGHT = 0.5  # share of the paragraph's BM25 added to a sentence's at retrieval
TYPO_WEIGHT = 0.8  # a corrected typo counts a little less than a word typed right
RELATIVE_WEIGHT = 0.4  # a relative of a question word ("brazilian" for "brazil") counts this much
SPELLED_OUT_WEIGHT = 0.3  # each word of a name the question spells out, besides its acronym

# Weights of the re-ranking features (see Candidate); fitted on development data with
# leave-one-article-out validation, then rounded.
FEATURE_WEIGHTS: dict[str, float] = {
    "sentence_bm25": 1.3,
    "paragraph_bm25": 1.2,
    "coverage": 1.0,
    "window_coverage": 0.5,
    "bigrams": 0.35,
    "type_match": 0.3,
    "type_miss": -0.3,
    "no_new_words": -0.5,
    "proximity": 0.3,
    "related_coverage": 1.0,
    "focus_coverage": 0.2,
    "pronoun_start": 0.05,
    # Features below inform the confidence of an answer, not the order of candidates.
    "paragraph_coverage": 0.0,
    "missing_salient": 0.0,
    "missing_max_idf": 0.0,
    "negation_mismatch": 0.0,
    "answer_miss": 0.0,
    "plain_coverage": 0.0,
    "sibling_coverage": 0.0,
}


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """The question's terms as matched against this index, with their weights."""

    weights: dict[str, float]
    idf: dict[str, float]
    corrected: dict[str, str]  # typed token -> knowledge-base word
    relatives: dict[str, tuple[str, float]]  # indexed relative -> (question term, weight)

    def unknown(self, index: KnowledgeIndex) -> list[str]:
        """The question's terms that the knowledge base never mentions."""
        return [t for t in self.weights if t not in index.sentence_bm25.idf]

    @property
    def search_weights(self) -> dict[str, float]:
        """Weights for retrieval: the question's terms and, more faintly, their relatives."""
        merged = {term: weight * RELATIVE_WEIGHT for term, (_, weight) in self.relatives.items()}
        merged.update(self.weights)
        return merged

    @property
    def total_idf(self) -> float:
        """Sum of the weighted idf of every term: the most a sentence could cover."""
        return sum(self.idf[t] * w for t, w in self.weights.items()) or 1.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence with the features that ranked it and its final score."""

    sentence: int  # position in KnowledgeIndex.sentences
    score: float
    features: dict[str, float]


def query_terms(index: KnowledgeIndex, question: AnalysedQuestion) -> QueryTerms:
    """Weighted terms of ``question``, with unknown words corrected to close knowledge-base words."""
    from bot.core.text import STOP_WORDS, stem

    weights: dict[str, float] = {}
    corrected: dict[str, str] = {}
    for token in question.tokens:
        if token in STOP_WORDS:
            continue
        term, weight = stem(token), 1.0
        if term not in index.sentence_bm25.idf:
            fixed = index.correct_spelling(token)
            if fixed is not None and fixed not in STOP_WORDS:
                corrected[token] = fixed
                term, weight = stem(fixed), TYPO_WEIGHT
        if term in question.frame_terms:
            weight *= 0.5
        weights[term] = max(weights.get(term, 0.0), weight)
    # A spelled-out name counts mostly as its acronym: "European Space Agency" is chiefly "esa",
    # which the sources use far more often, rather than three common words.
    for spelled, acronym in index.spelled_out(list(weights)):
        for term in spelled:
            weights[term] *= SPELLED_OUT_WEIGHT
        weights[acronym] = 1.0
    relatives: dict[str, tuple[str, float]] = {}
    for term, weight in weights.items():
        for relative in index.relatives(term):
            if relative not in weights and relative not in relatives:
                relatives[relative] = (term, weight)
    return QueryTerms(weights, {t: index.idf(t) for t in weights}, corrected, relatives)


def _bigrams(terms: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(pairwise(terms))


def _proximity(sentence_terms: tuple[str, ...], wanted: dict[str, float]) -> float:
    """How tightly the matched question terms cluster: 1 when adjacent, towards 0 when spread out."""
    positions = [i for i, term in enumerate(sentence_terms) if term in wanted]
    distinct = len({sentence_terms[i] for i in positions})
    if distinct < 2:
        return 0.0
    best = len(sentence_terms)
    # Shortest span of positions holding every distinct matched term (two-pointer sweep).
    counts: dict[str, int] = {}
    left = 0
    for position in positions:
        counts[sentence_terms[position]] = counts.get(sentence_terms[position], 0) + 1
        while len(counts) == distinct:
            best = min(best, position - positions[left] + 1)
            term = sentence_terms[positions[left]]
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
            left += 1
    return distinct / best


def _numbered_stem(term: str) -> str | None:
    """The name part of a numbered name ("change" for "change6"), if ``term`` is one."""
    name = term.rstrip("0123456789")
    return name if name and name != term and name.isalpha() else None


def _plain_terms(terms: QueryTerms) -> dict[str, float]:
    """The question's weighted terms without its numbered names."""
    return {t: w for t, w in terms.weights.items() if _numbered_stem(t) is None}


def _plain_coverage(terms: QueryTerms, plain: dict[str, float], present: set[str]) -> float:
    """Share of the weight of ``plain`` (see :func:`_plain_terms`) a sentence covers."""
    total = sum(terms.idf[t] * w for t, w in plain.items())
    return sum(terms.idf[t] * w for t, w in plain.items() if t in present) / total if total else 0.0


def names_another(sentence_terms: frozenset[str], question_terms: dict[str, float]) -> bool:
    """Whether the sentence is about a sibling of a numbered name asked about (Chang'e-6 for Chang'e-5)."""
    for term in question_terms:
        name = _numbered_stem(term)
        if name is None or term in sentence_terms:
            continue
        if any(_numbered_stem(other) == name for other in sentence_terms):
            return True
    return False


def _holds_quantity(question: AnalysedQuestion, text: str, index: KnowledgeIndex) -> bool:
    """Whether a sentence can say the quantity asked: "2 kg" for "how heavy".

    A counted noun ("how many grams") only has to be known somewhere: counts are often of
    a synonym ("people" answered by "60,000 settlers"), but never of something never mentioned.
    """
    if question.measure is not None:
        return question.measure.search(text) is not None
    counted = question.counted
    return counted is None or index.knows(counted)


def rank_candidates(index: KnowledgeIndex, question: AnalysedQuestion, terms: QueryTerms) -> list[Candidate]:
    """Candidate sentences for ``question``, best first (empty when nothing matches at all)."""
    if not index.sentences or not terms.weights:
        return []
    search = terms.search_weights
    sentence_scores = index.sentence_bm25.scores(search)
    paragraph_scores = index.paragraph_bm25.scores(search)
    combined = sentence_scores + PARAGRAPH_WEIGHT * paragraph_scores[index.sentence_paragraph]
    pool = min(CANDIDATE_POOL, len(combined))
    top = np.argpartition(-combined, pool - 1)[:pool]
    top = top[combined[top] > 0]
    if top.size == 0:
        return []
    total = terms.total_idf
    question_bigrams = _bigrams(tuple(t for t in terms.weights))
    wanted = question.answer_type
    asked = frozenset(question.tokens)
    candidates: list[Candidate] = []
    plain = _plain_terms(terms)
    sibling = 0.0  # best plain coverage among sentences not about the numbered name asked
    for position in top.tolist():
        indexed = index.sentences[position]
        present = set(indexed.terms)
        in_paragraph = index.paragraph_terms[indexed.paragraph]
        # A numbered name asked about ("Chang'e-5") must be what the sentence's paragraph discusses.
        if names_another(frozenset(present), terms.weights) or any(
            _numbered_stem(t) and t not in in_paragraph for t in terms.weights
        ):
            # Said of whatever this sentence is about, which is not the name asked. One shared
            # word ("expected") is chance; two or more ("land", "crater") are the question.
            if len(plain.keys() & present) >= 2:
                sibling = max(sibling, _plain_coverage(terms, plain, present))
            continue
        paragraph = index.paragraph_sentences[indexed.paragraph]
        window: set[str] = set(present)
        for neighbour in (position - 1, position + 1):
            if neighbour in paragraph:
                window.update(index.sentences[neighbour].terms)
        covered = sum(terms.idf[t] * w for t, w in terms.weights.items() if t in present)
        focus_total = sum(
            terms.idf[t] * w for t, w in terms.weights.items() if t not in question.salient_terms
        )
        focus_covered = sum(
            terms.idf[t] * w
            for t, w in terms.weights.items()
            if t in present and t not in question.salient_terms
        )
        missing = [t for t in terms.weights if t not in in_paragraph]
        related = {terms.relatives[t][0] for t in present if t in terms.relatives} - present
        soft_covered = sum(terms.idf[t] * terms.weights[t] for t in related)
        window_covered = sum(terms.idf[t] * w for t, w in terms.weights.items() if t in window)
        bigrams = len(question_bigrams & _bigrams(indexed.terms)) / max(1, len(question_bigrams))
        kinds = sentence_answer_types(indexed.mentions, asked)
        typed = wanted is not AnswerType.ANY
        features = {
            "sentence_bm25": float(sentence_scores[position]) / total,
            "paragraph_bm25": float(paragraph_scores[indexed.paragraph]) / total,
            "coverage": covered / total,
            "window_coverage": window_covered / total,
            "bigrams": bigrams,
            "type_match": float(typed and wanted in kinds),
            "type_miss": float(typed and wanted not in kinds),
            # The answer proper: a unit ("kg") stands in for a number, a count needs its noun.
            "answer_miss": float(
                not _holds_quantity(question, indexed.sentence.text, index)
                or (question.measure is None and typed and wanted not in kinds)
            ),
            "no_new_words": float(present <= set(terms.weights)),
            "proximity": _proximity(indexed.terms, terms.weights),
            "related_coverage": soft_covered / total,
            "focus_coverage": focus_covered / focus_total if focus_total else 0.0,
            "pronoun_start": float(bool(indexed.tokens) and indexed.tokens[0] in PRONOUNS),
            "paragraph_coverage": sum(
                terms.idf[t] * terms.weights[t] for t in terms.weights if t in in_paragraph
            )
            / total,
            "missing_salient": float(sum(t in question.salient_terms for t in missing)),
            "missing_max_idf": max((terms.idf[t] for t in missing), default=0.0) / index.unseen_idf,
            "negation_mismatch": float(question.negated and not (set(indexed.tokens) & NEGATIONS)),
        }
        features["plain_coverage"] = _plain_coverage(terms, plain, present)
        score = sum(FEATURE_WEIGHTS[name] * value for name, value in features.items())
        candidates.append(Candidate(position, score, features))
    for candidate in candidates:
        candidate.features["sibling_coverage"] = sibling
    # Ties break on document order so the same question always gets the same answer.
    candidates.sort(key=lambda c: (-c.score, c.sentence))
    return candidates
