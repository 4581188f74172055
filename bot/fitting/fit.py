"""``python -m bot fit``: fit the ranking and answerability models and write ``bot/core/model.json``.

The procedure, deterministic from the development data (up to the order of floating-point sums:
two fits agree to 1e-3 in every weight, the tolerance of ``--check``):

1. Run every development question through the answer path up to the models (see
   :mod:`bot.fitting.dataset`) and label each candidate right or wrong.
2. Fit the ranker, a conditional logit over each question's candidates.
3. Fit the answerability model, a logistic regression whose label is "the ranker's first
   candidate is right". Its inputs include the ranker's own output, so each group's rows are
   computed with a ranker fitted without that group: the model learns how far to trust a ranker
   on questions it has not seen, which is what it will face.
4. Cross-validate the whole of 2-3 by leaving one group out at a time (one SQuAD article, one
   WikiQA slice, the default article), and report precision, coverage and calibration both
   in-sample and cross-validated.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bot.core.evaluation import EvalReport, Judged
from bot.core.model import MODEL_FORMAT, MODEL_PATH, LinearModel, feature_fingerprint, parse_model
from bot.core.pipeline.answerability import (
    ANSWERABILITY_FEATURES,
    ANSWERABILITY_SIGNS,
    INTENT_FEATURES,
    INTENT_SIGNS,
    answerability_row,
    intent_row,
)
from bot.core.pipeline.features import CANDIDATE_FEATURES, CANDIDATE_SIGNS, CandidateFeatures
from bot.core.pipeline.ranking import Ranking, rank
from bot.core.service import MINIMUM_CONFIDENCE
from bot.fitting.dataset import Question, load_development_data
from bot.fitting.models import fit_logistic, fit_ranker

__all__ = ["FitResult", "cross_validate", "fit_models", "run_fit"]

# How much each question of a set counts. SQuAD has nine times as many questions as WikiQA; left
# equal, the models would fit SQuAD's kind of question and little else.
SET_WEIGHTS: dict[str, float] = {
    "squad-dev": 1.0,
    "wikiqa-dev": 4.0,
    "change6-dev": 3.0,
    "article-questions": 1.5,
    "article-questions-uncurated": 1.5,
    # Our own questions ask as readers do and decline what readers ask that sources lack (a
    # relation or a quantity never mentioned): SQuAD teaches the opposite (its unanswerable
    # questions reuse the paragraph's words), so these count more. 4 is the weight at which the
    # cross-validated figures of every set improved; at 7 WikiQA's precision fell.
    "written/article": 4.0,
    "written/article-uncurated": 4.0,
    "written/wiki": 4.0,
    "written/squad-packet-switching": 4.0,
    "written/squad-scottish-parliament": 4.0,
}
RANKER_L2 = 1e-3
ANSWERABILITY_L2 = 3e-3
# The intent model has three inputs and about two hundred questions: a firmer penalty.
INTENT_L2 = 1e-2


@dataclass(frozen=True)
class FitResult:
    """The three models fitted on a set of questions."""

    ranker: LinearModel
    answerability: LinearModel
    intents: LinearModel


# The bias of a model fitted on nothing: a probability of about 1e-13.
NEVER = -30.0


def _neutral(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, scale and weights of a model that ignores its features."""
    return np.zeros(size), np.ones(size), np.zeros(size)


def _weight(question: Question) -> float:
    return SET_WEIGHTS.get(question.set_name, 1.0)


def _ranking(ranker: LinearModel, question: Question) -> Ranking:
    return rank(ranker, CandidateFeatures(CANDIDATE_FEATURES, question.candidates))


def _fit_ranker(questions: Sequence[Question]) -> LinearModel:
    scored = [q for q in questions if q.final is None]
    return fit_ranker(
        CANDIDATE_FEATURES,
        [q.candidates for q in scored],
        [q.right for q in scored],
        [_weight(q) for q in scored],
        RANKER_L2,
        CANDIDATE_SIGNS,
    )


def _rows(ranker: LinearModel, question: Question) -> tuple[Ranking, np.ndarray, np.ndarray | None]:
    """The ranking, the answerability row and (with an intent) the intent row of one question."""
    ranking = _ranking(ranker, question)
    row = answerability_row(question.question_values, question.candidates, question.paragraphs, ranking)
    if question.intent_row < 0:
        return ranking, row, None
    values = intent_row(
        question.intent_score, ranking, question.intent_row, question.candidates, question.question_values
    )
    return ranking, row, values


class Rankers:
    """Rankers fitted without given groups, each fitted once: the nested cross-validation asks for
    the ranker without {g, h} both for g's fit and for h's.
    """

    def __init__(self, questions: Sequence[Question]) -> None:
        self.questions = questions
        self._fitted: dict[frozenset[str], LinearModel] = {}

    def without(self, *groups: str) -> LinearModel:
        """The ranker fitted on every question outside ``groups``."""
        key = frozenset(groups)
        if key not in self._fitted:
            self._fitted[key] = _fit_ranker([q for q in self.questions if q.group not in key])
        return self._fitted[key]


def fit_models(questions: Sequence[Question], rankers: Rankers | None = None, *left_out: str) -> FitResult:
    """Fit the three models on ``questions`` outside ``left_out``.

    The ranker is fitted on all of them; the answerability and intent models on rows computed,
    group by group, with a ranker fitted without that group.
    """
    rankers = rankers if rankers is not None else Rankers(questions)
    kept = [q for q in questions if q.group not in left_out]
    ranker = rankers.without(*left_out)
    groups = sorted({q.group for q in kept})
    rows: list[np.ndarray] = []
    labels: list[bool] = []
    weights: list[float] = []
    intent_rows: list[np.ndarray] = []
    intent_labels: list[bool] = []
    intent_weights: list[float] = []
    for group in groups:
        outside = rankers.without(group, *left_out) if len(groups) > 1 else ranker
        for question in kept:
            if question.group != group or question.final is not None:
                continue
            ranking, row, intent = _rows(outside, question)
            rows.append(row)
            labels.append(bool(question.right[ranking.best]))
            weights.append(_weight(question))
            if intent is not None:
                intent_rows.append(intent)
                intent_labels.append(question.intent_right)
                intent_weights.append(_weight(question))
    answerability = fit_logistic(
        ANSWERABILITY_FEATURES,
        np.array(rows),
        np.array(labels),
        np.array(weights),
        ANSWERABILITY_L2,
        ANSWERABILITY_SIGNS,
    )
    if intent_rows:
        intents = fit_logistic(
            INTENT_FEATURES,
            np.array(intent_rows),
            np.array(intent_labels),
            np.array(intent_weights),
            INTENT_L2,
            INTENT_SIGNS,
        )
    else:  # no curated intents to learn from: an intent's answer is never preferred
        intents = LinearModel(INTENT_FEATURES, *_neutral(len(INTENT_FEATURES)), NEVER)
    return FitResult(ranker, answerability, intents)


def judge(models: FitResult, question: Question) -> Judged:
    """How the engine with ``models`` does on one development question, at every threshold."""
    if question.final is not None:
        answer = question.final
        return Judged(
            question.text,
            question.answerable,
            answer.answered,
            1.0 if answer.answered else 0.0,
            False,
            "",
        )
    ranking, row, intent = _rows(models.ranker, question)
    confidence = models.answerability.probability(row)
    right = bool(question.right[ranking.best])
    if intent is not None:
        intent_confidence = models.intents.probability(intent)
        if intent_confidence >= confidence:
            confidence, right = intent_confidence, question.intent_right
    return Judged(question.text, question.answerable, True, confidence, right, "")


def cross_validate(
    questions: Sequence[Question],
    rankers: Rankers | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Judged]:
    """Each question judged by models fitted without its group, in the order of ``questions``."""
    rankers = rankers if rankers is not None else Rankers(questions)
    judged: dict[int, Judged] = {}
    for group in sorted({q.group for q in questions}):
        progress(group)
        models = fit_models(questions, rankers, group)
        for i, question in enumerate(questions):
            if question.group == group:
                judged[i] = judge(models, question)
    return [judged[i] for i in range(len(questions))]


def _by_set(
    questions: Sequence[Question], judged: Sequence[Judged], threshold: float
) -> dict[str, EvalReport]:
    rows: dict[str, list[Judged]] = defaultdict(list)
    for question, outcome in zip(questions, judged, strict=True):
        rows[question.set_name].append(outcome)
        rows["all"].append(outcome)
    return {name: EvalReport(tuple(outcomes), threshold) for name, outcomes in rows.items()}


def _figures(report: EvalReport) -> dict[str, float]:
    return {
        "precision": round(report.precision(), 4),
        "coverage": round(report.coverage(), 4),
        "declined": round(report.declined(), 4),
        "acc1_when_answering": round(report.coverage(0.0), 4),
        "calibration_error": round(report.calibration_error, 4),
    }


def print_report(
    in_sample: dict[str, EvalReport], crossed: dict[str, EvalReport], out: TextIO, threshold: float
) -> None:
    """The fit's figures per question set, in-sample and cross-validated, and the CV curves."""
    print(f"\nat MINIMUM_CONFIDENCE {threshold:.2f} (in-sample | left out of the fit)", file=out)
    header = f"{'set':30} {'precision':>17} {'coverage':>17} {'declined':>17} {'ECE':>13}"
    print(header, file=out)
    for name in crossed:
        a, b = in_sample[name], crossed[name]
        print(
            f"{name:30} {100 * a.precision():7.1f} | {100 * b.precision():5.1f} "
            f"{100 * a.coverage():7.1f} | {100 * b.coverage():5.1f} "
            f"{100 * a.declined():7.1f} | {100 * b.declined():5.1f} "
            f"{a.calibration_error:5.3f} | {b.calibration_error:5.3f}",
            file=out,
        )
    print("\ncross-validated precision / coverage by threshold", file=out)
    names = [n for n in crossed if n != "all"]
    print(f"{'threshold':>9} " + " ".join(f"{n[:18]:>19}" for n in names), file=out)
    for t in (0.0, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8):
        cells = [
            f"{100 * crossed[n].precision(t):8.1f} /{100 * crossed[n].coverage(t):6.1f}   " for n in names
        ]
        print(f"{t:9.2f} " + " ".join(cells), file=out)


def model_json(models: FitResult, report: dict[str, Any]) -> str:
    """The model file's text."""
    content = {
        "format": MODEL_FORMAT,
        "fingerprint": feature_fingerprint(),
        "ranker": models.ranker.to_json(),
        "answerability": models.answerability.to_json(),
        "intents": models.intents.to_json(),
        "report": report,
    }
    return json.dumps(content, indent=1) + "\n"


def run_fit(
    eval_dir: Path, *, out: Path = MODEL_PATH, check: bool = False, stream: TextIO = sys.stdout
) -> int:
    """Fit, report and write (or, with ``check``, compare with) the model file; returns an exit code."""
    print(f"reading the development questions in {eval_dir} ...", file=stream)
    questions = load_development_data(eval_dir)
    counts: dict[str, int] = defaultdict(int)
    for question in questions:
        counts[question.set_name] += 1
    print("  " + ", ".join(f"{name} {n}" for name, n in counts.items()), file=stream)
    rankers = Rankers(questions)
    models = fit_models(questions, rankers)
    in_sample = _by_set(questions, [judge(models, q) for q in questions], MINIMUM_CONFIDENCE)
    print("cross-validating, one group left out at a time:", file=stream, end="", flush=True)
    crossed_judged = cross_validate(
        questions, rankers, lambda group: print(f" {group}", end="", flush=True, file=stream)
    )
    print(file=stream)
    crossed = _by_set(questions, crossed_judged, MINIMUM_CONFIDENCE)
    print_report(in_sample, crossed, stream, MINIMUM_CONFIDENCE)
    report = {
        "minimum_confidence": MINIMUM_CONFIDENCE,
        "set_weights": SET_WEIGHTS,
        "in_sample": {name: _figures(r) for name, r in in_sample.items()},
        "cross_validated": {name: _figures(r) for name, r in crossed.items()},
    }
    text = model_json(models, report)
    if check:
        committed = parse_model(out.read_text(encoding="utf-8"), str(out))
        fitted = parse_model(text, "the fit")
        pairs = [
            (committed.ranker, fitted.ranker),
            (committed.answerability, fitted.answerability),
            (committed.intents, fitted.intents),
        ]
        same = all(
            a.features == b.features
            and np.allclose(a.weights, b.weights, atol=1e-3)
            and abs(a.bias - b.bias) < 1e-3
            for a, b in pairs
        )
        print(
            ("the committed model is what the fit produces" if same else f"{out} differs from the fit"),
            file=stream,
        )
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=stream)
    return 0
