from __future__ import annotations

import math

import numpy as np
import pytest

from bot.core.model import LinearModel
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.features import CANDIDATE_FEATURES, CandidateFeatures, candidate_features
from bot.core.pipeline.ranking import rank
from bot.core.pipeline.retrieval import query_terms, retrieve
from tests.core.tiny import document, index_of


def model(
    weights: list[float], *, mean: list[float] | None = None, scale: list[float] | None = None
) -> LinearModel:
    size = len(weights)
    return LinearModel(
        tuple(f"f{i}" for i in range(size)),
        np.array(mean if mean is not None else [0.0] * size),
        np.array(scale if scale is not None else [1.0] * size),
        np.array(weights, dtype=np.float64),
        0.0,
    )


def candidates(*rows: list[float]) -> CandidateFeatures:
    values = np.array(rows, dtype=np.float64)
    return CandidateFeatures(tuple(f"f{i}" for i in range(values.shape[1])), values)


def test_candidates_are_ordered_by_score() -> None:
    ranking = rank(model([1.0, -1.0]), candidates([0.0, 0.0], [2.0, 0.0], [1.0, 0.0], [2.0, 3.0]))
    assert ranking.order.tolist() == [1, 2, 0, 3]
    assert ranking.best == 1
    assert ranking.scores.tolist() == [0.0, 2.0, 1.0, -1.0]


def test_features_are_standardised_before_weighing() -> None:
    # (x - 10) / 2 * -1: the smallest value scores highest.
    ranking = rank(model([-1.0], mean=[10.0], scale=[2.0]), candidates([14.0], [10.0], [8.0]))
    assert ranking.order.tolist() == [2, 1, 0]
    assert ranking.scores.tolist() == [-2.0, 0.0, 1.0]


def test_probabilities_are_a_softmax_over_the_candidates() -> None:
    ranking = rank(model([1.0]), candidates([0.0], [1.0], [2.0]))
    assert ranking.probabilities.sum() == pytest.approx(1.0)
    total = 1 + math.e + math.e**2
    assert ranking.probabilities.tolist() == pytest.approx([1 / total, math.e / total, math.e**2 / total])


def test_huge_scores_do_not_overflow() -> None:
    ranking = rank(model([1.0]), candidates([1000.0], [999.0]))
    assert np.isfinite(ranking.probabilities).all()
    assert ranking.probabilities.sum() == pytest.approx(1.0)
    assert ranking.probabilities[0] == pytest.approx(1 / (1 + math.exp(-1)))


def test_ties_keep_retrieval_order() -> None:
    ranking = rank(model([1.0]), candidates([0.0], [2.0], [0.0], [2.0], [0.0]))
    assert ranking.order.tolist() == [1, 3, 0, 2, 4]
    flat = rank(model([0.0]), candidates([5.0], [1.0], [3.0]))
    assert flat.order.tolist() == [0, 1, 2]
    assert flat.probabilities.tolist() == pytest.approx([1 / 3] * 3)


def test_a_model_weighing_the_answer_type_puts_the_dated_sentence_first() -> None:
    index = index_of(
        document(
            "Kourou",
            "Kourou station tracked the spacecraft from French Guiana. The spacecraft was tracked in 2024.",
        )
    )
    question = analyse_question("When did Kourou station track the spacecraft?")
    retrieval = retrieve(index, query_terms(index, question))
    features = candidate_features(index, question, retrieval)
    texts = [index.sentences[p].sentence.text for p in retrieval.sentences.tolist()]
    assert texts[0] != "The spacecraft was tracked in 2024."  # retrieval alone prefers the other
    weights = np.zeros(len(CANDIDATE_FEATURES))
    weights[CANDIDATE_FEATURES.index("date_match")] = 1.0
    typed = LinearModel(CANDIDATE_FEATURES, np.zeros(len(weights)), np.ones(len(weights)), weights, 0.0)
    assert texts[rank(typed, features).best] == "The spacecraft was tracked in 2024."
