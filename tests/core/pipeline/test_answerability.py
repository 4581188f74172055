from __future__ import annotations

import numpy as np
import pytest

from bot.core.answers import Reason
from bot.core.index import KnowledgeIndex
from bot.core.model import LinearModel
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.answerability import (
    ANSWERABILITY_FEATURES,
    INTENT_FEATURES,
    QUESTION_FEATURES,
    answerability_row,
    categorical_decline,
    decline_reason,
    intent_row,
    question_features,
)
from bot.core.pipeline.features import CANDIDATE_FEATURES, CandidateFeatures, candidate_features
from bot.core.pipeline.ranking import Ranking, rank
from bot.core.pipeline.retrieval import Retrieval, query_terms, retrieve
from tests.core.tiny import document, index_of

MOON = document(
    "Moon missions",
    "Chang'e-6 launched on May 3. It landed in the Apollo crater on June 2. "
    "Kourou station tracked the spacecraft. The samples came back in June.",
    "moon",
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return index_of(MOON)


def retrieval_of(index: KnowledgeIndex, question: str) -> Retrieval:
    return retrieve(index, query_terms(index, analyse_question(question)))


def test_empty_knowledge_declines_outright() -> None:
    empty = KnowledgeIndex([])
    assert (
        categorical_decline(empty, retrieval_of(empty, "When did Chang'e-6 launch?"))
        is Reason.EMPTY_KNOWLEDGE
    )


def test_no_candidate_declines_outright(index: KnowledgeIndex) -> None:
    assert categorical_decline(index, retrieval_of(index, "Who won the football cup?")) is Reason.NO_MATCH


@pytest.mark.parametrize(
    "question",
    [
        "When did Chang'e-4 launch?",
        "Where did Chang'e-4 land?",
        "Who tracked change 4?",
    ],
)
def test_a_numbered_name_never_mentioned_declines_outright(index: KnowledgeIndex, question: str) -> None:
    assert categorical_decline(index, retrieval_of(index, question)) is Reason.UNKNOWN_TERMS


@pytest.mark.parametrize(
    "question",
    [
        "When did Chang'e-6 launch?",
        "Who tracked the spacecraft?",
        # An unknown plain word is for the model to weigh, not a categorical decline.
        "Who tracked the quarterbacks?",
    ],
)
def test_other_questions_are_left_to_the_model(index: KnowledgeIndex, question: str) -> None:
    assert categorical_decline(index, retrieval_of(index, question)) is None


def gathered(index: KnowledgeIndex, question: str) -> tuple[np.ndarray, CandidateFeatures, Retrieval]:
    analysed = analyse_question(question)
    retrieval = retrieve(index, query_terms(index, analysed))
    return (
        question_features(index, analysed, retrieval),
        candidate_features(index, analysed, retrieval),
        retrieval,
    )


def test_question_features_say_what_the_question_wants(index: KnowledgeIndex) -> None:
    values, _, _ = gathered(index, "When did Chang'e-6 launch?")
    named = dict(zip(QUESTION_FEATURES, values.tolist(), strict=True))
    assert named["wants_date"] == 1.0
    assert named["wants_person"] == 0.0
    assert named["any_unknown"] == 0.0
    unknown, _, _ = gathered(index, "When did the quarterbacks launch?")
    assert dict(zip(QUESTION_FEATURES, unknown.tolist(), strict=True))["any_unknown"] == 1.0


def reversed_ranker() -> LinearModel:
    """A ranker preferring the candidates retrieval found last."""
    weights = np.zeros(len(CANDIDATE_FEATURES))
    weights[CANDIDATE_FEATURES.index("retrieval_rank")] = 1.0
    size = len(weights)
    return LinearModel(CANDIDATE_FEATURES, np.zeros(size), np.ones(size), weights, 0.0)


def test_the_answerability_row_holds_the_top_candidate_features(index: KnowledgeIndex) -> None:
    values, features, retrieval = gathered(index, "When did Chang'e-6 land in the crater?")
    ranking = rank(reversed_ranker(), features)
    best = ranking.best
    assert best != 0  # the top candidate is not simply retrieval's first
    row = answerability_row(values, features.values, retrieval.paragraphs, ranking)
    named = dict(zip(ANSWERABILITY_FEATURES, row.tolist(), strict=True))
    for name, value in features.row(best).items():
        assert named[f"top.{name}"] == value
    own = QUESTION_FEATURES.index("top_probability")  # the question's own features come first
    assert row[:own].tolist() == values[:own].tolist()
    assert named["top_probability"] == ranking.probabilities[best]
    assert named["score_gap"] == ranking.scores[best] - ranking.scores[ranking.order[1]]


def test_the_answerability_row_is_deterministic(index: KnowledgeIndex) -> None:
    rows = []
    for _ in range(2):
        values, features, retrieval = gathered(index, "When did Chang'e-6 land in the crater?")
        ranking = rank(reversed_ranker(), features)
        rows.append(answerability_row(values, features.values, retrieval.paragraphs, ranking))
    assert np.array_equal(rows[0], rows[1])


def test_the_first_few_candidates_between_them(index: KnowledgeIndex) -> None:
    values, features, retrieval = gathered(index, "When did Chang'e-6 land in the crater?")
    date_match = features.values[:, CANDIDATE_FEATURES.index("date_match")]
    assert date_match.max() == 1.0
    ranking = rank(reversed_ranker(), features)
    named = dict(
        zip(
            ANSWERABILITY_FEATURES,
            answerability_row(values, features.values, retrieval.paragraphs, ranking).tolist(),
            strict=True,
        )
    )
    few = ranking.order[:3]
    assert named["few_type_match"] == float(date_match[few].max())


def test_intent_row_says_whether_retrieval_agrees_and_what_the_intents_sentence_lacks() -> None:
    ranking = Ranking(np.array([1, 0, 2]), np.array([0.0, 1.0, -1.0]), np.array([0.3, 0.6, 0.1]))
    candidates = np.zeros((3, len(CANDIDATE_FEATURES)))
    candidates[2, CANDIDATE_FEATURES.index("type_miss")] = 1.0
    candidates[1, CANDIDATE_FEATURES.index("focus_coverage")] = 0.75
    question = np.zeros(len(QUESTION_FEATURES))
    question[QUESTION_FEATURES.index("unseen_share")] = 0.4
    first = dict(
        zip(INTENT_FEATURES, intent_row(0.8, ranking, 1, candidates, question).tolist(), strict=True)
    )
    assert first["intent_score"] == 0.8
    assert first["intent_agreement"] == 0.6 and first["intent_first"] == 1.0
    assert first["intent_focus_coverage"] == 0.75 and first["intent_type_miss"] == 0.0
    assert first["unseen_share"] == 0.4
    third = dict(
        zip(INTENT_FEATURES, intent_row(0.8, ranking, 2, candidates, question).tolist(), strict=True)
    )
    assert third["intent_agreement"] == 0.1 and third["intent_first"] == 0.0
    assert third["intent_type_miss"] == 1.0


@pytest.mark.parametrize(
    ("contributions", "reason"),
    [
        ({"top_probability": 0.5, "unknown_share": -2.0, "top.coverage": -1.0}, Reason.UNKNOWN_TERMS),
        ({"sibling_coverage": -3.0, "unknown_share": -1.0}, Reason.OTHER_SUBJECT),
        ({"top.type_miss": -1.5, "top_probability": -0.2}, Reason.MISSING_ANSWER_TYPE),
        ({"few_measure_match": -1.0, "top.coverage": -0.5}, Reason.MISSING_ANSWER_TYPE),
        ({"top.coverage": -2.0, "unknown_share": -1.0}, Reason.LOW_CONFIDENCE),
        ({}, Reason.LOW_CONFIDENCE),
    ],
)
def test_a_decline_gives_the_reason_of_the_most_negative_contribution(
    contributions: dict[str, float], reason: Reason
) -> None:
    assert decline_reason(contributions) is reason


def test_a_feature_that_raised_the_confidence_is_not_blamed() -> None:
    # Every feature pushed the confidence up; the decline came from the model's bias.
    assert decline_reason({"top.coverage": 1.0, "unknown_share": 0.1}) is Reason.LOW_CONFIDENCE
