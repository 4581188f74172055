"""Stage 2, candidate retrieval: the question's weighted terms and the sentences worth ranking.

A question's terms are matched as the knowledge writes them: a typo is corrected to a close
word of the knowledge, a spelled-out name also counts as the short form the documents use, and
a word's derived forms ("Brazilian" for "Brazil") and synonyms ("countries" for "nations") count
a little. Candidates are the sentences
with the best BM25 score over the sentence itself, its paragraph and its document's title, plus
the first sentence of the best-matching documents: a definition or a summary is usually there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.english import STOP_WORDS
from bot.core.index import FloatArray, IntArray, KnowledgeIndex
from bot.core.pipeline.analysis import AnalysedQuestion
from bot.core.text import stem

__all__ = ["CANDIDATE_POOL", "QueryTerms", "Retrieval", "numbered_name", "query_terms", "retrieve"]

# Sentences scored by the ranking model. Measured on the development sets: with the lead
# sentences, the sentence that answers is among the candidates for 94.8 % of answerable SQuAD
# questions and 93.3 % of WikiQA ones; a pool of 20 added 0.6 points on SQuAD only.
CANDIDATE_POOL = 15
# Documents whose first sentence joins the candidates whatever its own words.
LEAD_DOCUMENTS = 3
# Retrieval's blend: a sentence is found through its own words first, then its paragraph's and its
# title's. These only choose which sentences the ranking model sees; it weighs the parts itself.
PARAGRAPH_SHARE = 0.5
TITLE_SHARE = 0.5
# A corrected typo counts a little less than a word typed right, a derived form less again, and
# each word of a spelled-out name little beside its short form.
TYPO_WEIGHT = 0.8
RELATIVE_WEIGHT = 0.4
SYNONYM_WEIGHT = 0.3
# A rival scores at least this share of the best retrieval score.
RIVAL_SHARE = 0.5
# A sentence scoring under this share of the best is not worth ranking: on the development sets
# none such holds the answer (the lead sentences and an intent's answer join whatever they score).
MIN_SHARE = 0.2
SPELLED_OUT_WEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """The question's terms as matched against this index, with their weights."""

    weights: dict[str, float]
    idf: dict[str, float]
    corrected: dict[str, str]  # typed token -> knowledge-base word
    relatives: dict[str, tuple[str, float]]  # indexed relative -> (question term, weight)
    synonyms: dict[str, tuple[str, float]]  # indexed synonym -> (question term, weight)

    def unknown(self, index: KnowledgeIndex) -> list[str]:
        """The question's terms that the knowledge base never mentions."""
        return [t for t in self.weights if t not in index.sentence_bm25.idf]

    @property
    def search_weights(self) -> dict[str, float]:
        """Weights for retrieval: the question's terms and, more faintly, their relatives and synonyms."""
        merged = {term: weight * SYNONYM_WEIGHT for term, (_, weight) in self.synonyms.items()}
        merged.update((term, weight * RELATIVE_WEIGHT) for term, (_, weight) in self.relatives.items())
        merged.update(self.weights)
        return merged

    @property
    def total_idf(self) -> float:
        """Sum of the weighted idf of every term: the most a sentence could cover."""
        return sum(self.idf[t] * w for t, w in self.weights.items()) or 1.0


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The candidates of one question, in retrieval order, with their retrieval scores."""

    terms: QueryTerms
    sentences: IntArray  # positions in KnowledgeIndex.sentences
    sentence_scores: FloatArray  # BM25 of each candidate's own words
    paragraph_scores: FloatArray  # BM25 of its paragraph
    title_scores: FloatArray  # BM25 of its document's title
    blended: FloatArray  # the retrieval score the candidates were chosen by
    paragraphs: IntArray  # the paragraph of each candidate (positions in KnowledgeIndex.paragraph_keys)
    # How many sentences of the whole knowledge match nearly as well as the best one: the more
    # there are, the likelier a coincidental match ranks first.
    rivals: int = 0
    # How much of the question's other words the best sentence about a *sibling* of a numbered
    # name asked covers ("land" and "crater" said of Chang'e-6 when Chang'e-7 is asked); 0 if none.
    sibling_coverage: float = 0.0


def numbered_name(term: str) -> str | None:
    """The name part of a numbered name ("change" for "change6"), if ``term`` is one."""
    name = term.rstrip("0123456789")
    return name if name and name != term and name.isalpha() else None


def _about_another(index: KnowledgeIndex, position: int, numbered: list[str]) -> bool:
    """Whether a sentence is about something other than the numbered names asked.

    It is when it names a sibling instead ("Chang'e-6" for "Chang'e-5"), or when its paragraph
    never names the one asked.
    """
    indexed = index.sentences[position]
    paragraph = index.paragraph_terms[indexed.paragraph]
    for term in numbered:
        if term not in paragraph:
            return True
        if term not in indexed.terms and any(numbered_name(t) == numbered_name(term) for t in indexed.terms):
            return True
    return False


def query_terms(index: KnowledgeIndex, question: AnalysedQuestion) -> QueryTerms:
    """Weighted terms of ``question``, with unknown words corrected to close knowledge-base words."""
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
    # A spelled-out name counts mostly as its short form: "European Space Agency" is chiefly
    # "esa", which the sources use far more often, rather than three common words.
    for spelled, short in index.spelled_out(list(weights)):
        for term in spelled:
            weights[term] *= SPELLED_OUT_WEIGHT
        weights[short] = 1.0
    relatives: dict[str, tuple[str, float]] = {}
    synonyms: dict[str, tuple[str, float]] = {}
    for term, weight in weights.items():
        for relative in index.relatives(term):
            if relative not in weights and relative not in relatives:
                relatives[relative] = (term, weight)
        for synonym in index.synonyms(term):
            if synonym not in weights and synonym not in synonyms:
                synonyms[synonym] = (term, weight)
    return QueryTerms(weights, {t: index.idf(t) for t in weights}, corrected, relatives, synonyms)


def _lookup(units: IntArray, scores: FloatArray, keys: IntArray) -> FloatArray:
    """The score of each of ``keys`` among sparse (sorted ``units``, ``scores``); 0 where absent."""
    if not len(units):
        return np.zeros(len(keys), dtype=np.float64)
    at = np.minimum(np.searchsorted(units, keys), len(units) - 1)
    return np.where(units[at] == keys, scores[at], 0.0)


@dataclass(frozen=True, slots=True)
class _Scores:
    """The three BM25 levels' scores for one question, kept sparse: units with a score only."""

    index: KnowledgeIndex
    sentences: tuple[IntArray, FloatArray]
    paragraphs: tuple[IntArray, FloatArray]
    titles: tuple[IntArray, FloatArray]

    def at(self, positions: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """(sentence, paragraph, title, blended) scores of the sentences at ``positions``."""
        own = _lookup(*self.sentences, positions)
        paragraph = _lookup(*self.paragraphs, self.index.sentence_paragraph[positions])
        title = _lookup(*self.titles, self.index.sentence_doc[positions])
        return own, paragraph, title, own + PARAGRAPH_SHARE * paragraph + TITLE_SHARE * title


def _ranges(first: IntArray, starts: IntArray) -> IntArray:
    """Every position in ``first[s]:first[s + 1]`` for each of ``starts``, concatenated."""
    lows, highs = first[starts], first[starts + 1]
    sizes = highs - lows
    if not sizes.sum():
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(lows - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
    return np.arange(int(sizes.sum()), dtype=np.int64) + offsets


def _top(index: KnowledgeIndex, scores: _Scores, pool: int) -> tuple[list[int], float, int]:
    """The ``pool`` best sentences by retrieval score (ties in document order), the best score, the rivals.

    A sentence scores through its own words, its paragraph's and its title's. Those with a word or
    a paragraph matched are scored one by one; those matched only through their document's title
    all score the same, so they are counted per document and only the first few of the best
    documents are looked at. Nothing costs the size of the knowledge.
    """
    a = index.arrays.arrays
    matched = np.union1d(scores.sentences[0], _ranges(a["paragraph_first_sentence"], scores.paragraphs[0]))
    _, _, _, blended = scores.at(matched)
    docs, title_scores = scores.titles
    doc_first = a["doc_first_sentence"]
    title_only = TITLE_SHARE * title_scores
    best = max(float(blended.max()) if len(blended) else 0.0, float(title_only.max()) if len(docs) else 0.0)
    if best <= 0:
        return [], best, 0
    threshold = RIVAL_SHARE * best
    rivals = int(np.count_nonzero(blended >= threshold))
    for d in np.flatnonzero(title_only >= threshold).tolist():
        low, high = int(doc_first[docs[d]]), int(doc_first[docs[d] + 1])
        inside = int(np.searchsorted(matched, high) - np.searchsorted(matched, low))
        rivals += high - low - inside
    rivals -= 1
    candidates = [matched[blended > 0]]
    candidate_scores = [blended[blended > 0]]
    # The first sentences (not matched otherwise) of the documents best matched by title.
    for d in np.lexsort((docs, -title_only))[:pool].tolist():
        low, high = int(doc_first[docs[d]]), int(doc_first[docs[d] + 1])
        inside = int(np.searchsorted(matched, high) - np.searchsorted(matched, low))
        span = np.arange(low, min(high, low + pool + inside), dtype=np.int64)
        span = span[~np.isin(span, matched, assume_unique=True)][:pool]
        candidates.append(span)
        candidate_scores.append(np.full(len(span), title_only[d]))
    positions = np.concatenate(candidates)
    values = np.concatenate(candidate_scores)
    order = np.lexsort((positions, -values))[:pool]
    keep = order[values[order] > max(0.0, MIN_SHARE * best)]
    return positions[keep].tolist(), best, rivals


def retrieve(
    index: KnowledgeIndex, terms: QueryTerms, extra: tuple[int, ...] = (), pool: int = CANDIDATE_POOL
) -> Retrieval:
    """The ``pool`` best sentences for ``terms``, the lead sentences of the best documents and ``extra``."""
    empty = np.zeros(0, dtype=np.int64)
    if not len(index.sentences) or not terms.weights:
        nothing = np.zeros(0, dtype=np.float64)
        return Retrieval(terms, empty, nothing, nothing, nothing, nothing, empty)
    numbered = [t for t in terms.weights if numbered_name(t) is not None]
    search = terms.search_weights
    scores = _Scores(
        index,
        index.sentence_bm25.sparse_scores(search),
        index.paragraph_bm25.sparse_scores(search),
        index.title_bm25.sparse_scores(search),
    )
    chosen, _, rivals = _top(index, scores, pool)
    sibling = 0.0
    if numbered:
        # Said of whatever these sentences are about, which is not the name asked. One shared
        # word ("expected") is chance; two or more ("land", "crater") are the question's.
        plain = {t: terms.idf[t] * w for t, w in terms.weights.items() if t not in numbered}
        plain_total = sum(plain.values()) or 1.0
        kept = []
        for position in chosen:
            if not _about_another(index, position, numbered):
                kept.append(position)
                continue
            shared = plain.keys() & set(index.sentences[position].terms)
            if len(shared) >= 2:
                sibling = max(sibling, sum(plain[t] for t in shared) / plain_total)
        chosen = kept
    documents: list[int] = []
    for position in chosen:
        doc = int(index.sentence_doc[position])
        if doc not in documents:
            documents.append(doc)
    leads = [int(index.lead_sentences[d]) for d in documents[:LEAD_DOCUMENTS]]
    if numbered:
        leads = [p for p in leads if not _about_another(index, p, numbered)]
    for position in (*leads, *extra):
        if position not in chosen:
            chosen.append(position)
    positions = np.array(chosen, dtype=np.int64)
    own, paragraph, title, blended = scores.at(positions)
    return Retrieval(
        terms,
        positions,
        own,
        paragraph,
        title,
        blended,
        index.sentence_paragraph[positions],
        rivals=rivals,
        sibling_coverage=sibling,
    )
