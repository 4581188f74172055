"""Stage 5, answerability: the probability that the first candidate answers the question.

The fitted answerability model is a logistic regression over what the question is (its answer
type, how much of it the knowledge has never seen) and over what the ranking found (how sure it
is of its first candidate, what that candidate has, what the first few have between them). Its
output is calibrated: among answers given at confidence 0.7, about 7 in 10 are right. The
service declines below ``MINIMUM_CONFIDENCE``. Where curated intents exist, a third small model
gives the same probability for the best-matching intent's answer; the likelier answer is given.

A few cases are categorical and decline without the model: no documents, no candidate at all,
and a numbered name the sources never mention ("Chang'e-4" when only Chang'e-6 is covered).
"""

from __future__ import annotations

import math

import numpy as np

from bot.core.answers import Reason
from bot.core.index import FloatArray, IntArray, KnowledgeIndex
from bot.core.mentions import ANSWER_KINDS, AnswerType
from bot.core.pipeline.analysis import AnalysedQuestion
from bot.core.pipeline.features import CANDIDATE_FEATURES, CANDIDATE_SIGNS
from bot.core.pipeline.ranking import Ranking
from bot.core.pipeline.retrieval import Retrieval, numbered_name

__all__ = [
    "ANSWERABILITY_FEATURES",
    "ANSWERABILITY_SIGNS",
    "INTENT_FEATURES",
    "INTENT_SIGNS",
    "QUESTION_FEATURES",
    "answerability_row",
    "categorical_decline",
    "decline_reason",
    "intent_row",
    "question_features",
]

# The first few candidates between them: a question is answerable when one of them holds what
# is asked, even if the first does not say it best.
TOP_FEW = 3
_TYPE_MATCHES = [CANDIDATE_FEATURES.index(f"{kind.value}_match") for kind in ANSWER_KINDS]
_FOCUS = CANDIDATE_FEATURES.index("focus_coverage")
_RELATION = CANDIDATE_FEATURES.index("relation_present")
_MEASURE = CANDIDATE_FEATURES.index("measure_match")

QUESTION_FEATURES: tuple[str, ...] = (
    "unknown_share",
    "unseen_share",
    "any_unknown",
    "corrected_share",
    "relation_unknown",
    "counted_unknown",
    "terms",
    *(f"wants_{kind.value}" for kind in ANSWER_KINDS),
    "definition",
    "yes_no",
    "how_manner",
    "no_question_word",
    "negated",
    "sibling_coverage",
    "rivals",
    # What the ranking found.
    "top_probability",
    "score_gap",
    "top_score",
    "few_type_match",
    "few_focus_coverage",
    "few_relation_present",
    "few_measure_match",
    "few_same_paragraph",
)
ANSWERABILITY_FEATURES: tuple[str, ...] = QUESTION_FEATURES + tuple(
    f"top.{name}" for name in CANDIDATE_FEATURES
)
# The intent model: how likely a curated intent's answer is right, from how closely the question
# matches the intent's examples and whether retrieval, on its own, also favours its sentence.
INTENT_FEATURES: tuple[str, ...] = (
    "intent_score",
    "intent_agreement",
    "intent_first",
    # What the intent's sentence has as a candidate, and what the question asks that no source
    # says: a close rewording of an example can still ask something the intent does not answer.
    "intent_focus_coverage",
    "intent_type_miss",
    "intent_relation_absent",
    "unseen_share",
)
_TYPE_MISS = CANDIDATE_FEATURES.index("type_miss")
_RELATION_ABSENT = CANDIDATE_FEATURES.index("relation_absent")
_Q = {name: i for i, name in enumerate(QUESTION_FEATURES)}


def categorical_decline(index: KnowledgeIndex, retrieval: Retrieval) -> Reason | None:
    """A reason to decline that no feature weighing could outweigh, if there is one."""
    if not index.documents:
        return Reason.EMPTY_KNOWLEDGE
    if any(numbered_name(term) is not None for term in retrieval.terms.unknown(index)):
        return Reason.UNKNOWN_TERMS
    if not len(retrieval.sentences):
        return Reason.NO_MATCH
    return None


def question_features(index: KnowledgeIndex, question: AnalysedQuestion, retrieval: Retrieval) -> FloatArray:
    """The features that do not depend on the ranking: what the question is, what the sources know."""
    terms = retrieval.terms
    total = terms.total_idf
    unknown = terms.unknown(index)
    q = np.zeros(len(QUESTION_FEATURES), dtype=np.float64)
    q[_Q["unknown_share"]] = (
        sum(terms.idf[t] * terms.weights[t] for t in unknown) / total if terms.weights else 1.0
    )
    q[_Q["any_unknown"]] = float(bool(unknown))
    # Words the sources use in no form at all: not as typed, not derived, not as a synonym.
    reworded = {term for term, _ in (*terms.relatives.values(), *terms.synonyms.values())}
    unseen = [t for t in unknown if t not in reworded]
    q[_Q["unseen_share"]] = (
        sum(terms.idf[t] * terms.weights[t] for t in unseen) / total if terms.weights else 1.0
    )
    q[_Q["corrected_share"]] = len(terms.corrected) / len(terms.weights) if terms.weights else 0.0
    relation = question.relation
    q[_Q["relation_unknown"]] = float(relation is not None and not _known(index, relation))
    counted = question.counted
    q[_Q["counted_unknown"]] = float(counted is not None and not _known(index, counted))
    q[_Q["terms"]] = math.log1p(len(terms.weights))
    if question.answer_type in ANSWER_KINDS:
        q[_Q[f"wants_{question.answer_type.value}"]] = 1.0
    q[_Q["definition"]] = float(bool(question.defined))
    q[_Q["yes_no"]] = float(question.yes_no)
    q[_Q["how_manner"]] = float(question.wh == "how" and question.answer_type is AnswerType.ANY)
    q[_Q["no_question_word"]] = float(question.wh is None and not question.yes_no)
    q[_Q["negated"]] = float(question.negated)
    q[_Q["sibling_coverage"]] = retrieval.sibling_coverage
    q[_Q["rivals"]] = math.log1p(retrieval.rivals)
    return q


def _known(index: KnowledgeIndex, term: str) -> bool:
    """Whether the sources use ``term`` in some form: as is, derived, or as a synonym."""
    return index.knows(term) or bool(index.synonyms(term))


def answerability_row(
    question_values: FloatArray, candidates: FloatArray, paragraphs: IntArray, ranking: Ranking
) -> FloatArray:
    """One row of :data:`ANSWERABILITY_FEATURES`: the question's features and what the ranking found.

    ``candidates`` holds one row of candidate features per candidate, ``paragraphs`` the
    paragraph of each; pure arrays, so that the fit computes the rows exactly as the engine does.
    """
    values = np.zeros(len(ANSWERABILITY_FEATURES), dtype=np.float64)
    values[: len(QUESTION_FEATURES)] = question_values
    order = ranking.order
    best = int(order[0])
    scores = ranking.scores
    values[_Q["top_probability"]] = float(ranking.probabilities[best])
    values[_Q["score_gap"]] = float(scores[best] - scores[int(order[1])]) if len(order) > 1 else 0.0
    values[_Q["top_score"]] = float(scores[best])
    few = candidates[order[:TOP_FEW]]
    values[_Q["few_type_match"]] = float(few[:, _TYPE_MATCHES].max())
    values[_Q["few_focus_coverage"]] = float(few[:, _FOCUS].max())
    values[_Q["few_relation_present"]] = float(few[:, _RELATION].max())
    values[_Q["few_measure_match"]] = float(few[:, _MEASURE].max())
    values[_Q["few_same_paragraph"]] = float(len(set(paragraphs[order[:TOP_FEW]].tolist())) == 1)
    values[len(QUESTION_FEATURES) :] = candidates[best]
    return values


def intent_row(
    score: float, ranking: Ranking, row: int, candidates: FloatArray, question_values: FloatArray
) -> FloatArray:
    """One row of :data:`INTENT_FEATURES` for the best intent, whose sentence is candidate ``row``."""
    sentence = candidates[row]
    return np.array(
        [
            score,
            float(ranking.probabilities[row]),
            float(row == ranking.best),
            sentence[_FOCUS],
            sentence[_TYPE_MISS],
            sentence[_RELATION_ABSENT],
            question_values[_Q["unseen_share"]],
        ],
        dtype=np.float64,
    )


# What each feature can only say, from what it means: that the answer is missing (it may only
# lower the confidence) or that it is there (it may only raise it). The fit keeps the weights
# to these signs, so that no quirk of the development data can turn evidence around.
ANSWERABILITY_SIGNS: dict[str, int] = {
    **dict.fromkeys(
        (
            "unknown_share",
            "unseen_share",
            "any_unknown",
            "corrected_share",
            "relation_unknown",
            "counted_unknown",
            "sibling_coverage",
            "rivals",
        ),
        -1,
    ),
    **dict.fromkeys((f"top.{name}" for name, sign in CANDIDATE_SIGNS.items() if sign < 0), -1),
    **dict.fromkeys(
        (
            "top_probability",
            "few_type_match",
            "few_measure_match",
            "few_relation_present",
            "few_focus_coverage",
        ),
        1,
    ),
    **dict.fromkeys((f"top.{name}" for name, sign in CANDIDATE_SIGNS.items() if sign > 0), 1),
}
INTENT_SIGNS: dict[str, int] = {
    **dict.fromkeys(("intent_score", "intent_agreement", "intent_first", "intent_focus_coverage"), 1),
    **dict.fromkeys(("intent_type_miss", "intent_relation_absent", "unseen_share"), -1),
}


# Which reason a decline gives, by the feature that pulled the confidence down the most.
_REASONS: dict[str, Reason] = {
    "unknown_share": Reason.UNKNOWN_TERMS,
    "any_unknown": Reason.UNKNOWN_TERMS,
    "corrected_share": Reason.UNKNOWN_TERMS,
    "relation_unknown": Reason.UNKNOWN_TERMS,
    "counted_unknown": Reason.UNKNOWN_TERMS,
    "unseen_share": Reason.UNKNOWN_TERMS,
    "sibling_coverage": Reason.OTHER_SUBJECT,
    "few_type_match": Reason.MISSING_ANSWER_TYPE,
    "few_measure_match": Reason.MISSING_ANSWER_TYPE,
    "top.type_miss": Reason.MISSING_ANSWER_TYPE,
    "top.measure_miss": Reason.MISSING_ANSWER_TYPE,
}


def decline_reason(contributions: dict[str, float]) -> Reason:
    """The reason for a decline by the model: the feature that pulled the confidence down most.

    Only a feature that lowered it can be blamed; when none did, the confidence was low anyway.
    """
    name, lowest = min(contributions.items(), key=lambda item: item[1], default=("", 0.0))
    return _REASONS.get(name, Reason.LOW_CONFIDENCE) if lowest < 0 else Reason.LOW_CONFIDENCE
