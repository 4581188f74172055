"""Fitting the two linear models: a conditional logit ranker and a logistic answerability model.

Both minimise a weighted log-loss with an L2 penalty by L-BFGS (scipy), on standardised
features, from a fixed starting point: the same data always gives the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from bot.core.model import LinearModel

__all__ = ["fit_logistic", "fit_ranker", "standardise"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_ITERATIONS = 500


def standardise(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean and scale of each column; a constant column gets scale 1 (its weight stays 0)."""
    mean = values.mean(axis=0) if len(values) else np.zeros(values.shape[1])
    scale = values.std(axis=0) if len(values) else np.ones(values.shape[1])
    scale = np.where(scale > 1e-9, scale, 1.0)
    return mean, scale


def _bounds(names: tuple[str, ...], signs: dict[str, int]) -> list[tuple[float | None, float | None]]:
    """L-BFGS-B bounds that keep each weight to its feature's sign (see CANDIDATE_SIGNS)."""
    return [
        (0.0, None) if signs.get(n, 0) > 0 else (None, 0.0) if signs.get(n, 0) < 0 else (None, None)
        for n in names
    ]


def _minimise(
    loss: Callable[[FloatArray], tuple[float, FloatArray]], bounds: list[tuple[float | None, float | None]]
) -> FloatArray:
    """The weights minimising ``loss`` (value and gradient) within ``bounds``, from all zeros."""
    result = minimize(
        loss,
        np.zeros(len(bounds)),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": MAX_ITERATIONS},
    )
    return np.asarray(result.x, dtype=np.float64)


def fit_ranker(
    names: tuple[str, ...],
    candidates: Sequence[FloatArray],
    right: Sequence[BoolArray],
    weights: Sequence[float],
    l2: float,
    signs: dict[str, int] | None = None,
) -> LinearModel:
    """A conditional logit over each question's candidates: softmax(x . w) per question.

    Only questions with at least one right candidate teach the ranker; the loss of one is minus
    the log of the probability the softmax gives its right candidates together.
    """
    keep = [i for i, r in enumerate(right) if r.any() and len(r) > 1]
    stacked = np.vstack([candidates[i] for i in keep])
    mean, scale = standardise(stacked)
    x = (stacked - mean) / scale
    labels = np.concatenate([right[i] for i in keep])
    sizes = np.array([len(right[i]) for i in keep])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    question_of = np.repeat(np.arange(len(keep)), sizes)
    w_question = np.array([weights[i] for i in keep], dtype=np.float64)
    w_question = w_question / w_question.sum()

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        scores = x @ w
        top = np.maximum.reduceat(scores, starts)
        exp = np.exp(scores - top[question_of])
        total = np.add.reduceat(exp, starts)
        right_exp = np.where(labels, exp, 0.0)
        right_total = np.add.reduceat(right_exp, starts)
        value = float(np.sum(w_question * (np.log(total) - np.log(right_total)))) + 0.5 * l2 * float(w @ w)
        p = exp / total[question_of]
        r = right_exp / right_total[question_of]
        gradient = x.T @ ((p - r) * w_question[question_of]) + l2 * w
        return value, gradient

    return LinearModel(names, mean, scale, _minimise(loss, _bounds(names, signs or {})), 0.0)


def fit_logistic(
    names: tuple[str, ...],
    values: FloatArray,
    labels: BoolArray,
    weights: FloatArray,
    l2: float,
    signs: dict[str, int] | None = None,
) -> LinearModel:
    """A weighted, L2-penalised logistic regression (the intercept is not penalised)."""
    mean, scale = standardise(values)
    x = np.hstack([(values - mean) / scale, np.ones((len(values), 1))])
    y = labels.astype(np.float64)
    w_row = weights / weights.sum()
    penalty = np.ones(x.shape[1])
    penalty[-1] = 0.0

    def loss(w: FloatArray) -> tuple[float, FloatArray]:
        z = x @ w
        # log(1 + e^z) - y z, computed without overflow.
        value = float(np.sum(w_row * (np.logaddexp(0.0, z) - y * z))) + 0.5 * l2 * float(
            np.sum(penalty * w * w)
        )
        p = 1.0 / (1.0 + np.exp(-z))
        gradient = x.T @ (w_row * (p - y)) + l2 * penalty * w
        return value, gradient

    fitted = _minimise(loss, [*_bounds(names, signs or {}), (None, None)])  # the intercept is free
    return LinearModel(names, mean, scale, fitted[:-1], float(fitted[-1]))
