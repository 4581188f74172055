from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from bot.fitting.models import fit_logistic, fit_ranker, standardise

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
NAMES = ("signal", "noise", "constant")


def logistic_data(seed: int = 7, size: int = 300) -> tuple[FloatArray, BoolArray]:
    """Labels that follow feature 0 (with some noise); feature 1 is noise, feature 2 constant."""
    rng = np.random.default_rng(seed)
    values = np.column_stack([rng.normal(size=size), rng.normal(size=size), np.full(size, 3.0)])
    labels = values[:, 0] + 0.5 * rng.normal(size=size) > 0.2
    return values, labels


def ranker_data(seed: int = 11, questions: int = 40) -> tuple[list[FloatArray], list[BoolArray]]:
    """Questions of 2-6 candidates; the right one has the largest feature 0."""
    rng = np.random.default_rng(seed)
    candidates, right = [], []
    for _ in range(questions):
        size = int(rng.integers(2, 7))
        values = np.column_stack([rng.normal(size=size), rng.normal(size=size), np.ones(size)])
        labels = np.zeros(size, dtype=bool)
        labels[int(np.argmax(values[:, 0]))] = True
        candidates.append(values)
        right.append(labels)
    return candidates, right


def test_standardise_gives_a_constant_column_scale_one() -> None:
    mean, scale = standardise(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert mean.tolist() == [2.0, 5.0]
    assert scale.tolist() == [1.0, 1.0]


def test_fit_logistic_recovers_a_planted_signal() -> None:
    values, labels = logistic_data()
    model = fit_logistic(NAMES, values, labels, np.ones(len(labels)), 1e-3)
    assert model.features == NAMES
    assert model.weights[0] > 1.0
    assert abs(model.weights[1]) < 0.5 * model.weights[0]
    assert model.weights[2] == 0.0  # a constant says nothing
    predicted = np.array([model.probability(row) > 0.5 for row in values])
    assert (predicted == labels).mean() > 0.8
    # Higher feature 0, higher probability.
    low, high = values.mean(axis=0).copy(), values.mean(axis=0).copy()
    low[0], high[0] = -1.0, 1.0
    assert model.probability(low) < 0.5 < model.probability(high)


def test_fit_logistic_respects_row_weights() -> None:
    values = np.array([[0.0], [0.0], [1.0], [1.0]])
    labels = np.array([True, False, True, False])
    # At feature 0 = 0 the heavy row says True; at 1 the heavy row says False.
    weights = np.array([9.0, 1.0, 1.0, 9.0])
    model = fit_logistic(("x",), values, labels, weights, 1e-3)
    assert model.probability(np.array([0.0])) > 0.8
    assert model.probability(np.array([1.0])) < 0.2


def test_fit_logistic_is_deterministic() -> None:
    values, labels = logistic_data()
    first = fit_logistic(NAMES, values, labels, np.ones(len(labels)), 1e-3)
    second = fit_logistic(NAMES, values, labels, np.ones(len(labels)), 1e-3)
    assert np.array_equal(first.weights, second.weights)
    assert first.bias == second.bias


def test_a_stronger_penalty_gives_smaller_weights() -> None:
    values, labels = logistic_data()
    loose = fit_logistic(NAMES, values, labels, np.ones(len(labels)), 1e-3)
    firm = fit_logistic(NAMES, values, labels, np.ones(len(labels)), 1.0)
    assert abs(firm.weights[0]) < abs(loose.weights[0])


def test_fit_ranker_recovers_a_planted_signal() -> None:
    candidates, right = ranker_data()
    model = fit_ranker(NAMES, candidates, right, [1.0] * len(right), 1e-3)
    assert model.bias == 0.0  # a softmax per question has no use for one
    assert model.weights[0] > 1.0
    assert abs(model.weights[1]) < 0.2 * model.weights[0]
    assert model.weights[2] == 0.0
    # On new questions drawn the same way, the right candidate nearly always scores highest.
    fresh, fresh_right = ranker_data(seed=99)
    hits = [bool(r[int(np.argmax(model.scores(c)))]) for c, r in zip(fresh, fresh_right, strict=True)]
    assert np.mean(hits) >= 0.9


def test_fit_ranker_learns_only_from_questions_with_a_right_candidate() -> None:
    candidates, right = ranker_data()
    # Questions with no right candidate, whose largest feature 1 would teach the opposite if used.
    misleading = [np.array([[5.0, 0.0, 1.0], [-5.0, 1.0, 1.0]]) for _ in range(40)]
    nothing_right = [np.zeros(2, dtype=bool) for _ in range(40)]
    model = fit_ranker(NAMES, candidates + misleading, right + nothing_right, [1.0] * 80, 1e-3)
    alone = fit_ranker(NAMES, candidates, right, [1.0] * 40, 1e-3)
    assert np.array_equal(model.weights, alone.weights)


def test_fit_ranker_is_deterministic() -> None:
    candidates, right = ranker_data()
    first = fit_ranker(NAMES, candidates, right, [1.0] * len(right), 1e-3)
    second = fit_ranker(NAMES, candidates, right, [1.0] * len(right), 1e-3)
    assert np.array_equal(first.weights, second.weights)
    assert np.array_equal(first.mean, second.mean)


@pytest.mark.parametrize("l2", [1e-3, 1e-1])
def test_fit_ranker_weights_questions(l2: float) -> None:
    # Two kinds of question disagree on feature 0; the heavier kind wins.
    agree = [np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])] * 10
    agree_right = [np.array([True, False])] * 10
    disagree = [np.array([[1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])] * 10
    disagree_right = [np.array([False, True])] * 10
    heavy_agree = fit_ranker(
        NAMES, agree + disagree, agree_right + disagree_right, [3.0] * 10 + [1.0] * 10, l2
    )
    heavy_disagree = fit_ranker(
        NAMES, agree + disagree, agree_right + disagree_right, [1.0] * 10 + [3.0] * 10, l2
    )
    assert heavy_agree.weights[0] > 0 > heavy_disagree.weights[0]
