"""Stage 6, selection: the one to three sentences an answer cites.

When a curated intent answers, its quotes are cited as its curators ordered them. Otherwise the
first is the ranking model's best candidate. Further sentences are
cited only when they would be answered on their own: their share of the ranking's probability,
scaled by the answer's confidence, still reaches the minimum confidence. A sentence that adds
almost nothing to what the question and the earlier citations already say is left out.
"""

from __future__ import annotations

from bot.core.index import KnowledgeIndex
from bot.core.intents import ResolvedIntent
from bot.core.pipeline.ranking import Ranking
from bot.core.pipeline.retrieval import Retrieval

__all__ = ["MAX_CITATIONS", "select_citations"]

MAX_CITATIONS = 3
# A further citation must add this many content words that neither the question nor the earlier
# citations have: a sentence repeating the first in other order is not more evidence.
SUPPORTING_MIN_NEW_TERMS = 2


def select_citations(
    index: KnowledgeIndex,
    retrieval: Retrieval,
    ranking: Ranking,
    confidence: float,
    minimum_confidence: float,
    intent: ResolvedIntent | None = None,
) -> tuple[int, ...]:
    """The sentences to cite (positions in the index) for an answer given at ``confidence``.

    ``intent`` is the curated intent answering, if one is.
    """
    if intent is not None:
        positions = tuple(dict.fromkeys(index.position(doc_id, s) for doc_id, s in intent.citations))
        return positions[:MAX_CITATIONS]
    best_row = ranking.best
    best = int(retrieval.sentences[best_row])
    chosen = [best]
    seen = set(index.sentences[best].terms) | set(retrieval.terms.weights)
    top_probability = float(ranking.probabilities[best_row])
    for row in ranking.order[1:].tolist():
        if len(chosen) == MAX_CITATIONS:
            break
        if confidence * float(ranking.probabilities[row]) / top_probability < minimum_confidence:
            break
        position = int(retrieval.sentences[row])
        terms = set(index.sentences[position].terms)
        if len(terms - seen) < SUPPORTING_MIN_NEW_TERMS:
            continue
        chosen.append(position)
        seen.update(terms)
    return tuple(chosen)
