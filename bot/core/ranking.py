"""Ranking candidate sentences for a question.

Retrieval (BM25 over sentences plus their paragraphs) proposes candidates; a linear model
over a few interpretable features orders them: how much of the question's weight the
sentence and its neighbourhood cover, whether question phrases recur as phrases, and whether
the sentence holds the kind of thing the question asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.index import KnowledgeIndex
from bot.core.questions import AnalysedQuestion, AnswerType, sentence_answer_types

__all__ = ["Candidate", "QueryTerms", "query_terms", "rank_candidates"]

CANDIDATE_POOL = 30  # sentences re-ranked with the full feature set
PARAGRAPH_WEIGHT = 0.5  # share of the paragraph's BM25 added to a sentence's at retrieval
TYPO_WEIGHT = 0.8  # a corrected typo counts a little less than a word typed right

# Weights of the re-ranking features (see Candidate); fitted on development data with
# leave-one-article-out validation, then rounded.
FEATURE_WEIGHTS: dict[str, float] = {
    "sentence_bm25": 1.0,
    "paragraph_bm25": 0.3,
    "coverage": 1.0,
    "window_coverage": 0.5,
    "bigrams": 0.3,
    "type_match": 0.3,
    "type_miss": -0.3,
    "no_new_words": -0.5,
}


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """The question's terms as matched against this index, with their weights."""

    weights: dict[str, float]
    idf: dict[str, float]
    corrected: dict[str, str]  # typed token -> knowledge-base word

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
    return QueryTerms(weights, {t: index.idf(t) for t in weights}, corrected)


def _bigrams(terms: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:], strict=False))


def rank_candidates(index: KnowledgeIndex, question: AnalysedQuestion, terms: QueryTerms) -> list[Candidate]:
    """Candidate sentences for ``question``, best first (empty when nothing matches at all)."""
    if not index.sentences or not terms.weights:
        return []
    sentence_scores = index.sentence_bm25.scores(terms.weights)
    paragraph_scores = index.paragraph_bm25.scores(terms.weights)
    combined = sentence_scores + PARAGRAPH_WEIGHT * paragraph_scores[index.sentence_paragraph]
    pool = min(CANDIDATE_POOL, len(combined))
    top = np.argpartition(-combined, pool - 1)[:pool]
    top = top[combined[top] > 0]
    if top.size == 0:
        return []
    total = terms.total_idf
    question_bigrams = _bigrams(tuple(t for t in terms.weights))
    wanted = question.answer_type
    candidates: list[Candidate] = []
    for position in top.tolist():
        indexed = index.sentences[position]
        present = set(indexed.terms)
        paragraph = index.paragraph_sentences[indexed.paragraph]
        window: set[str] = set(present)
        for neighbour in (position - 1, position + 1):
            if neighbour in paragraph:
                window.update(index.sentences[neighbour].terms)
        covered = sum(terms.idf[t] * w for t, w in terms.weights.items() if t in present)
        window_covered = sum(terms.idf[t] * w for t, w in terms.weights.items() if t in window)
        bigrams = len(question_bigrams & _bigrams(indexed.terms)) / max(1, len(question_bigrams))
        kinds = sentence_answer_types(indexed.sentence.text)
        typed = wanted is not AnswerType.ANY
        features = {
            "sentence_bm25": float(sentence_scores[position]) / total,
            "paragraph_bm25": float(paragraph_scores[indexed.paragraph]) / total,
            "coverage": covered / total,
            "window_coverage": window_covered / total,
            "bigrams": bigrams,
            "type_match": float(typed and wanted in kinds),
            "type_miss": float(typed and wanted not in kinds),
            "no_new_words": float(present <= set(terms.weights)),
        }
        score = sum(FEATURE_WEIGHTS[name] * value for name, value in features.items())
        candidates.append(Candidate(position, score, features))
    # Ties break on document order so the same question always gets the same answer.
    candidates.sort(key=lambda c: (-c.score, c.sentence))
    return candidates
