"""Stage 4, ranking: the fitted ranking model orders the candidates.

The model is a conditional logit: each candidate's score is a weighted sum of its features, and
the candidates of one question share a softmax, so the probabilities say how likely each one is
to be the sentence that answers, given that one of them does. The weights come from the model
file (:mod:`bot.core.model`); ties fall back on retrieval order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.core.index import FloatArray, IntArray
from bot.core.model import LinearModel
from bot.core.pipeline.features import CandidateFeatures

__all__ = ["Ranking", "rank"]


@dataclass(frozen=True, slots=True)
class Ranking:
    """The candidates of one question in the ranking model's order."""

    order: IntArray  # candidate rows, best first
    scores: FloatArray  # the model's score of each candidate row
    probabilities: FloatArray  # softmax of the scores over the question's candidates

    @property
    def best(self) -> int:
        """The row of the best candidate."""
        return int(self.order[0])


def rank(model: LinearModel, features: CandidateFeatures) -> Ranking:
    """Score and order the candidates of one question."""
    scores = model.scores(features.values)
    shifted = np.exp(scores - scores.max())
    probabilities = shifted / shifted.sum()
    # A stable sort keeps retrieval order between equal scores.
    order = np.argsort(-scores, kind="stable")
    return Ranking(order, scores, probabilities)
