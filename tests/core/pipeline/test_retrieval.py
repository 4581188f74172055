from __future__ import annotations

import pytest

from bot.core.index import KnowledgeIndex
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.retrieval import (
    SPELLED_OUT_WEIGHT,
    TYPO_WEIGHT,
    QueryTerms,
    Retrieval,
    query_terms,
    retrieve,
)
from bot.core.text import stem
from tests.core.tiny import document, index_of, position

AGENCIES = document(
    "Agencies",
    "European space agencies cooperate. The European space race began in 1957.",
    "agencies",
)
ESA = document(
    "About the agency",
    "The European Space Agency (ESA) was founded in 1975. ESA sent a camera to the Moon.",
    "esa",
)
MOON = document(
    "Moon missions",
    "The Moon has no air. Chang'e-6 launched on May 3. It landed in the Apollo crater.\n\n"
    "Chang'e-5 returned samples in 2020.",
    "moon",
)
ROCKETS = document("Rockets", "Rockets are loud. The Long March rocket lifted Chang'e-6.", "rockets")


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return index_of(AGENCIES, ESA, MOON, ROCKETS)


def terms_of(index: KnowledgeIndex, question: str) -> QueryTerms:
    return query_terms(index, analyse_question(question))


def found(index: KnowledgeIndex, question: str, pool: int = 20) -> Retrieval:
    return retrieve(index, terms_of(index, question), pool=pool)


def texts(index: KnowledgeIndex, retrieval: Retrieval) -> list[str]:
    return [index.sentences[p].sentence.text for p in retrieval.sentences.tolist()]


def test_a_typo_is_corrected_to_the_word_the_knowledge_writes(index: KnowledgeIndex) -> None:
    terms = terms_of(index, "When was Chang'e-6 lanuched?")
    assert terms.corrected == {"lanuched": "launched"}
    assert terms.weights[stem("launched")] == TYPO_WEIGHT
    assert "lanuched" not in terms.weights
    assert texts(index, found(index, "When was Chang'e-6 lanuched?"))[0] == "Chang'e-6 launched on May 3."


def test_a_typo_of_another_form_of_a_written_word_is_corrected(index: KnowledgeIndex) -> None:
    terms = terms_of(index, "When did Chang'e-6 lanuch?")
    assert stem("launch") in terms.weights
    assert terms.unknown(index) == []


def test_a_word_spelled_right_is_not_corrected(index: KnowledgeIndex) -> None:
    terms = terms_of(index, "When did Chang'e-6 land?")
    assert terms.corrected == {}
    assert terms.weights == {"change6": 1.0, "land": 1.0}


def test_a_spelled_out_name_is_weighted_as_its_short_form(index: KnowledgeIndex) -> None:
    terms = terms_of(index, "What did the European Space Agency send?")
    assert terms.weights["esa"] == 1.0
    for word in ("european", "space", "agency"):
        assert terms.weights[stem(word)] == SPELLED_OUT_WEIGHT
    # A sentence saying only "ESA" comes before those sharing the name's common words.
    candidates = texts(index, found(index, "What did the European Space Agency send?"))
    esa = candidates.index("ESA sent a camera to the Moon.")
    assert esa < candidates.index("European space agencies cooperate.")
    assert esa < candidates.index("The European space race began in 1957.")


def test_relatives_and_synonyms_are_searched_more_faintly(index: KnowledgeIndex) -> None:
    terms = terms_of(index, "What did the European Space Agency send?")
    assert terms.synonyms["sent"] == ("send", 1.0)
    search = terms.search_weights
    assert 0 < search["sent"] < search["send"]


def test_the_lead_sentence_of_the_best_documents_joins_the_candidates(index: KnowledgeIndex) -> None:
    retrieval = found(index, "What lifted Chang'e-6?", pool=1)
    candidates = texts(index, retrieval)
    assert candidates[0] == "The Long March rocket lifted Chang'e-6."
    assert "Rockets are loud." in candidates  # shares no word with the question


def test_extra_sentences_join_the_candidates(index: KnowledgeIndex) -> None:
    extra = position(index, "European space agencies cooperate.")
    retrieval = retrieve(index, terms_of(index, "What lifted Chang'e-6?"), (extra,), pool=1)
    assert retrieval.sentences.tolist()[-1] == extra


def test_a_sentence_about_a_sibling_numbered_name_is_excluded(index: KnowledgeIndex) -> None:
    retrieval = found(index, "Where did Chang'e-5 land in the crater?")
    candidates = texts(index, retrieval)
    assert "Chang'e-5 returned samples in 2020." in candidates
    # Said of Chang'e-6 ("It" after "Chang'e-6 launched"), in a paragraph never naming Chang'e-5.
    assert "It landed in the Apollo crater." not in candidates
    # The two other words asked, "land" and "crater", are all said of the sibling.
    assert retrieval.sibling_coverage == pytest.approx(1.0)


def test_a_question_about_a_covered_numbered_name_has_no_sibling_coverage(index: KnowledgeIndex) -> None:
    retrieval = found(index, "Where did Chang'e-6 land in the crater?")
    assert "It landed in the Apollo crater." in texts(index, retrieval)
    assert retrieval.sibling_coverage == 0.0


def test_candidates_are_best_first_and_deterministic(index: KnowledgeIndex) -> None:
    retrieval = found(index, "Which rocket lifted Chang'e-6?")
    again = found(index, "Which rocket lifted Chang'e-6?")
    assert retrieval.sentences.tolist() == again.sentences.tolist()
    assert texts(index, retrieval)[0] == "The Long March rocket lifted Chang'e-6."
    searched = [b for b, s in zip(retrieval.blended, retrieval.sentence_scores, strict=True) if s > 0]
    assert searched == sorted(searched, reverse=True)


def test_empty_knowledge_gives_no_candidates() -> None:
    empty = KnowledgeIndex([])
    retrieval = retrieve(empty, query_terms(empty, analyse_question("When did Chang'e-6 launch?")))
    assert len(retrieval.sentences) == 0


def test_a_question_sharing_no_word_with_the_knowledge_gives_no_candidates(index: KnowledgeIndex) -> None:
    assert len(found(index, "Who won the football cup?").sentences) == 0


def test_ties_at_the_cut_off_go_to_the_sentences_written_first() -> None:
    # Four documents saying the same thing score the same: the pool of two takes the first two,
    # every time, rather than whichever two a partition happens to leave in front.
    notes = [document("Notes", "Comets glow near the Sun.", f"notes-{n}") for n in range(1, 5)]
    index = index_of(*notes)
    for _ in range(3):
        retrieval = found(index, "Why do comets glow?", pool=2)
        assert [index.documents[index.sentences[p].doc].id for p in retrieval.sentences.tolist()] == [
            "notes-1",
            "notes-2",
        ]
