from __future__ import annotations

import numpy as np
import pytest

from bot.core.index import KnowledgeIndex
from bot.core.intents import ResolvedIntent, parse_intent_file, resolve_intents
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.ranking import Ranking
from bot.core.pipeline.retrieval import Retrieval, query_terms, retrieve
from bot.core.pipeline.selection import MAX_CITATIONS, select_citations
from tests.core.tiny import document, position

CAMERA = "The probe carried a camera and a drill."
SCOOP = "The probe carried a camera, a drill and a scoop."  # one word more than CAMERA
CRATER = "The probe landed near a crater in June."
PICTURES = "The probe sent pictures home."
TONNES = "The probe weighed three tonnes."
PROBE = document("Probe", " ".join([CAMERA, SCOOP, CRATER, PICTURES, TONNES]), "probe")


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex([PROBE])


@pytest.fixture(scope="module")
def retrieval(index: KnowledgeIndex) -> Retrieval:
    found = retrieve(index, query_terms(index, analyse_question("What did the probe do?")))
    assert len(found.sentences) == 5
    return found


def ranked(
    index: KnowledgeIndex, retrieval: Retrieval, texts: list[str], probabilities: list[float] | None = None
) -> Ranking:
    """A ranking putting the candidates holding ``texts`` first, in that order."""
    rows = retrieval.sentences.tolist()
    order = [rows.index(position(index, text)) for text in texts]
    order += [row for row in range(len(rows)) if row not in order]
    chances = probabilities or [1.0] * len(texts)
    chances = chances + [0.0] * (len(rows) - len(chances))
    probs = np.zeros(len(rows))
    for row, chance in zip(order, chances, strict=True):
        probs[row] = chance
    probs /= probs.sum()
    scores = np.log(np.maximum(probs, 1e-12))
    return Ranking(np.array(order, dtype=np.int64), scores, probs)


def cited(index: KnowledgeIndex, selection: tuple[int, ...]) -> list[str]:
    return [index.sentences[p].sentence.text for p in selection]


def test_the_best_candidate_is_cited_first(index: KnowledgeIndex, retrieval: Retrieval) -> None:
    ranking = ranked(index, retrieval, [PICTURES], [1.0])
    assert cited(index, select_citations(index, retrieval, ranking, 0.9, 0.5)) == [PICTURES]


def test_at_most_three_sentences_are_cited(index: KnowledgeIndex, retrieval: Retrieval) -> None:
    ranking = ranked(index, retrieval, [CAMERA, CRATER, PICTURES, TONNES])
    selection = select_citations(index, retrieval, ranking, 0.9, 0.5)
    assert MAX_CITATIONS == 3
    assert cited(index, selection) == [CAMERA, CRATER, PICTURES]


def test_a_sentence_adding_fewer_than_two_new_words_is_skipped(
    index: KnowledgeIndex, retrieval: Retrieval
) -> None:
    ranking = ranked(index, retrieval, [CAMERA, SCOOP, CRATER])
    assert cited(index, select_citations(index, retrieval, ranking, 0.9, 0.5)) == [CAMERA, CRATER]


def test_a_further_sentence_must_be_likely_enough_on_its_own(
    index: KnowledgeIndex, retrieval: Retrieval
) -> None:
    # PICTURES has half CAMERA's probability: at confidence 0.9 it would be given at 0.45 < 0.5.
    ranking = ranked(index, retrieval, [CAMERA, CRATER, PICTURES], [1.0, 0.6, 0.5])
    assert cited(index, select_citations(index, retrieval, ranking, 0.9, 0.5)) == [CAMERA, CRATER]
    # A lower minimum lets it in.
    assert cited(index, select_citations(index, retrieval, ranking, 0.9, 0.4)) == [CAMERA, CRATER, PICTURES]


def intent(index: KnowledgeIndex, quotes: list[str]) -> ResolvedIntent:
    text = (
        "intents:\n  - id: probe\n    document: probe\n    examples: [What did the probe do?]\n    quotes:\n"
    )
    text += "".join(f"      - {quote!r}\n" for quote in quotes)
    (resolved,) = resolve_intents(
        [(i, "intents.yaml") for i in parse_intent_file(text, "intents.yaml")], [PROBE]
    )
    return resolved


def test_an_intent_cites_its_quotes_in_curator_order(index: KnowledgeIndex, retrieval: Retrieval) -> None:
    ranking = ranked(index, retrieval, [CAMERA, CRATER, PICTURES])
    answering = intent(index, [TONNES, SCOOP])
    selection = select_citations(index, retrieval, ranking, 0.9, 0.5, answering)
    assert cited(index, selection) == [TONNES, SCOOP]


def test_an_intent_cites_at_most_three_quotes(index: KnowledgeIndex, retrieval: Retrieval) -> None:
    ranking = ranked(index, retrieval, [CAMERA])
    answering = intent(index, [TONNES, PICTURES, CRATER, CAMERA])
    selection = select_citations(index, retrieval, ranking, 0.9, 0.5, answering)
    assert cited(index, selection) == [TONNES, PICTURES, CRATER]
