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
if RIVAL_SHARE < MIN_SHARE:
    raise ImportError("retrieve counts rivals among the sentences above MIN_SHARE")
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


def _best(top: IntArray, scores: FloatArray, pool: int) -> IntArray:
    """Of the positions ``top`` (in document order), those of the ``pool`` best ``scores``, best first.

    Ties are in document order, at the cut-off too, so the same question always gets the same
    candidates. Only the few eligible positions are partitioned: a partition of every sentence
    would take most of an answer's time in a large knowledge base.
    """
    if len(top) > pool:
        chosen = scores[top]
        cut = np.partition(chosen, len(chosen) - pool)[len(chosen) - pool]
        above = top[chosen > cut]
        top = np.concatenate((above, top[chosen == cut][: pool - len(above)]))
    return top[np.lexsort((top, -scores[top]))]


def retrieve(
    index: KnowledgeIndex, terms: QueryTerms, extra: tuple[int, ...] = (), pool: int = CANDIDATE_POOL
) -> Retrieval:
    """The ``pool`` best sentences for ``terms``, the lead sentences of the best documents and ``extra``."""
    empty = np.zeros(0, dtype=np.int64)
    if not index.sentences or not terms.weights:
        nothing = np.zeros(0, dtype=np.float64)
        return Retrieval(terms, empty, nothing, nothing, nothing, nothing, empty)
    numbered = [t for t in terms.weights if numbered_name(t) is not None]
    search = terms.search_weights
    # The blend and the spread title scores are this thread's work arrays (KnowledgeIndex.scratch);
    # the Retrieval keeps copies of the candidates' scores only.
    n = len(index.sentence_doc)
    sentence_scores = index.sentence_bm25.scores(search)
    paragraphs = index.paragraph_bm25.scores(search)
    titles = index.title_bm25.scores(search)
    # paragraph * share + sentence + title * share, each sentence's sum added in that order (as a
    # sentence-length array of each would be), the shares applied per paragraph and per title.
    # take(mode="clip") because its default mode is ten times slower with memory-mapped positions.
    blended = np.take(
        paragraphs * PARAGRAPH_SHARE, index.sentence_paragraph, out=index.scratch("blended", n), mode="clip"
    )
    blended += sentence_scores
    weighted_titles = titles * TITLE_SHARE
    # Most questions match no title: adding their zeros to every sentence would change nothing.
    if weighted_titles.any():
        blended += np.take(weighted_titles, index.sentence_doc, out=index.scratch("title_of", n), mode="clip")
    best_score = float(blended.max())
    floor = max(0.0, MIN_SHARE * best_score)
    top = np.flatnonzero(np.greater(blended, floor, out=index.scratch("flags", n, np.bool_)))
    # Every rival (within RIVAL_SHARE of the best) is among those above MIN_SHARE of it.
    rivals = int(np.count_nonzero(blended[top] >= RIVAL_SHARE * best_score)) - 1 if best_score > 0 else 0
    top = _best(top, blended, pool)
    chosen: list[int] = top.tolist()
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
    leads = [index.lead_sentences[d] for d in documents[:LEAD_DOCUMENTS]]
    if numbered:
        leads = [p for p in leads if not _about_another(index, p, numbered)]
    for position in (*leads, *extra):
        if position not in chosen:
            chosen.append(position)
    positions = np.array(chosen, dtype=np.int64)
    return Retrieval(
        terms,
        positions,
        sentence_scores[positions],
        paragraphs[index.sentence_paragraph[positions]],
        titles[index.sentence_doc[positions]],
        blended[positions],
        index.sentence_paragraph[positions],
        rivals=rivals,
        sibling_coverage=sibling,
    )
