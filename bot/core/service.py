"""The one entry point every front calls: :meth:`QAService.ask`.

It validates the question and runs the answer path (:mod:`bot.core.pipeline`): analysis,
retrieval, features, ranking, answerability, selection. The result is an :class:`Answer` that
quotes the knowledge base verbatim, or declines with suggestions, and carries a trace of the
stage and the values that decided it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from bot.core.answers import Answer, Citation, Reason, Trace, page_of
from bot.core.errors import QuestionError
from bot.core.index import FloatArray
from bot.core.intent_matcher import IntentMatch, chitchat_match
from bot.core.intents import ResolvedIntent
from bot.core.knowledge import KnowledgeBase
from bot.core.model import FittedModel, load_model
from bot.core.pipeline.analysis import AnalysedQuestion, analyse_question
from bot.core.pipeline.answerability import (
    ANSWERABILITY_FEATURES,
    INTENT_FEATURES,
    answerability_row,
    categorical_decline,
    decline_reason,
    intent_row,
    question_features,
)
from bot.core.pipeline.features import CANDIDATE_FEATURES, CandidateFeatures, candidate_features
from bot.core.pipeline.ranking import Ranking, rank
from bot.core.pipeline.retrieval import Retrieval, query_terms, retrieve
from bot.core.pipeline.selection import select_citations

__all__ = [
    "DEFAULT_REVIEW_BELOW",
    "MAX_QUESTION_CHARS",
    "MINIMUM_CONFIDENCE",
    "Candidate",
    "Gathered",
    "QAService",
    "Scored",
    "gather",
    "score",
]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
# Answer only when the calibrated probability that the first citation answers is at least this.
# Chosen for precision: a wrong answer costs a community more than "I don't know" with good
# suggestions. `python -m bot eval` prints the precision and coverage of every other choice.
MINIMUM_CONFIDENCE = 0.5
# Answers under this confidence are worth an admin's look (`kb review`): the answers given just
# above MINIMUM_CONFIDENCE are the likeliest to be wrong.
DEFAULT_REVIEW_BELOW = 0.6
# Candidates shown in a trace.
TRACE_CANDIDATES = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence the answer path considered for a question, as a citation would show it."""

    citation: Citation
    sentence: int  # its number within its paragraph, from 1
    probability: float  # the ranking model's, among the question's candidates


class QAService:
    """Answers questions from a :class:`KnowledgeBase` that can be swapped atomically."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        minimum_confidence: float = MINIMUM_CONFIDENCE,
        max_question_chars: int = MAX_QUESTION_CHARS,
        model: FittedModel | None = None,
    ) -> None:
        """Serve ``knowledge``; declines below ``minimum_confidence``."""
        self._knowledge = knowledge
        self.minimum_confidence = minimum_confidence
        self.max_question_chars = max_question_chars
        self.model = model if model is not None else load_model()
        self.model.check(CANDIDATE_FEATURES, ANSWERABILITY_FEATURES, INTENT_FEATURES)

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base being served now."""
        return self._knowledge

    def swap(self, knowledge: KnowledgeBase) -> KnowledgeBase:
        """Serve ``knowledge`` from now on; returns the one it replaces.

        One reference assignment: a question being answered keeps the knowledge it started with.
        """
        previous, self._knowledge = self._knowledge, knowledge
        return previous

    def validate(self, question: str) -> str:
        """The question stripped of surrounding blanks; raises :class:`QuestionError` if unusable."""
        cleaned = question.strip()
        if not cleaned:
            raise QuestionError("Please ask a question: the message is empty.")
        if len(cleaned) > self.max_question_chars:
            raise QuestionError(
                f"That question is {len(cleaned)} characters long; please keep it to "
                f"{self.max_question_chars} characters or fewer."
            )
        return cleaned

    def ask(self, question: str) -> Answer:
        """Answer ``question`` from the current knowledge, or decline with suggestions."""
        started = time.perf_counter()
        text = self.validate(question)
        knowledge = self._knowledge  # one snapshot for the whole answer
        answer = self._answer(knowledge, text)
        log.debug(
            "answered=%s reason=%s confidence=%.3f in %.2f ms",
            answer.answered,
            answer.reason.value,
            answer.confidence,
            1000 * (time.perf_counter() - started),
        )
        return answer

    def candidates(self, question: str, limit: int = 5) -> tuple[Candidate, ...]:
        """The ``limit`` sentences the ranking model puts first for ``question``, best first.

        What an admin chooses from when teaching: none when the question is small talk or shares
        no word with the documents. Raises :class:`QuestionError` for an unusable question.
        """
        text = self.validate(question)
        knowledge = self._knowledge
        gathered = gather(knowledge, text)
        if isinstance(gathered, Answer):
            return ()
        ranking = rank(self.model.ranker, gathered.features)
        found: list[Candidate] = []
        for row in ranking.order[:limit].tolist():
            position = int(gathered.retrieval.sentences[row])
            citation = _citation(knowledge, position)
            document = knowledge.documents[knowledge.index.sentences[position].doc]
            paragraph = next(p for p in document.paragraphs if p.number == citation.paragraph)
            number = next(i for i, s in enumerate(paragraph.sentences, 1) if s.start == citation.start)
            found.append(Candidate(citation, number, round(float(ranking.probabilities[row]), 4)))
        return tuple(found)

    def _answer(self, knowledge: KnowledgeBase, text: str) -> Answer:
        # Analysed once: a declined question's suggestions are found from the same analysis.
        question = analyse_question(text)
        gathered = gather(knowledge, text, question)
        if isinstance(gathered, Answer):
            if not gathered.answered:
                return replace(gathered, suggestions=tuple(knowledge.matcher.suggestions(question)))
            return gathered
        index = knowledge.index
        scored = score(self.model, gathered)
        ranking = scored.ranking
        candidates = tuple(
            {
                "text": index.sentences[int(gathered.retrieval.sentences[row])].sentence.text,
                "probability": round(float(ranking.probabilities[row]), 4),
                "features": {k: round(v, 4) for k, v in gathered.features.row(row).items() if v},
            }
            for row in ranking.order[:TRACE_CANDIDATES].tolist()
        )
        if scored.intent is not None:
            features = dict(zip(INTENT_FEATURES, scored.intent_values.tolist(), strict=True))
            contributions = self.model.intents.contributions(scored.intent_values)
            decided = f"the intent {scored.intent.id!r} (its answer is likelier to be right than retrieval's)"
        else:
            features = dict(zip(ANSWERABILITY_FEATURES, scored.values.tolist(), strict=True))
            contributions = self.model.answerability.contributions(scored.values)
            decided = "retrieval's first candidate"
        confidence = scored.confidence
        if confidence < self.minimum_confidence:
            trace = Trace(
                "answerability",
                f"{decided}: confidence {confidence:.3f} is under the minimum {self.minimum_confidence:.3f}",
                features,
                contributions,
                candidates,
            )
            return Answer(
                text,
                False,
                confidence,
                decline_reason(contributions),
                suggestions=tuple(knowledge.matcher.suggestions(question)),
                knowledge_version=knowledge.version,
                trace=trace,
            )
        selection = select_citations(
            index, gathered.retrieval, ranking, confidence, self.minimum_confidence, scored.intent
        )
        trace = Trace(
            "selection",
            f"{decided}: confidence {confidence:.3f} reaches the minimum {self.minimum_confidence:.3f}",
            features,
            contributions,
            candidates,
        )
        return Answer(
            text,
            True,
            confidence,
            Reason.INTENT if scored.intent is not None else Reason.RETRIEVAL,
            tuple(_citation(knowledge, position) for position in selection),
            intent=scored.intent.id if scored.intent is not None else None,
            knowledge_version=knowledge.version,
            trace=trace,
        )


@dataclass(frozen=True, slots=True)
class Gathered:
    """The answer path up to the fitted models: the candidates of a question and their features."""

    question: AnalysedQuestion
    retrieval: Retrieval
    features: CandidateFeatures
    question_values: FloatArray  # see answerability.question_features
    intent: IntentMatch | None  # the curated intent matching best, if any
    intent_row: int | None  # the candidate row of that intent's answer


@dataclass(frozen=True, slots=True)
class Scored:
    """What the fitted models make of a question's candidates."""

    ranking: Ranking
    values: FloatArray  # the answerability features
    intent_values: FloatArray  # the intent model's features (zeros without an intent)
    confidence: float  # of the answer given: the intent's when ``intent`` is set, else retrieval's
    intent: ResolvedIntent | None  # the intent answering, when its answer is the likelier


def gather(
    knowledge: KnowledgeBase, text: str, question: AnalysedQuestion | None = None
) -> Gathered | Answer:
    """Analyse (unless ``question`` is the analysis of ``text``), retrieve and compute features;
    an :class:`Answer` when no model is needed.

    That is small talk (a fixed reply), and the categorical declines (no documents, no
    candidate, a numbered name never mentioned), returned without suggestions.
    """
    index = knowledge.index
    if question is None:
        question = analyse_question(text)
    terms = query_terms(index, question)
    matches = knowledge.matcher.ranked(question, terms)
    chitchat = chitchat_match(matches)
    if chitchat is not None:
        return Answer(
            text,
            True,
            1.0,
            Reason.CHITCHAT,
            intent=chitchat.intent.id,
            reply=chitchat.intent.reply,
            knowledge_version=knowledge.version,
            trace=Trace("analysis", f"small talk: close to {chitchat.example!r}"),
        )
    intent = next((m for m in matches if not m.intent.is_chitchat and m.intent.citations), None)
    extra: tuple[int, ...] = ()
    if intent is not None:
        doc_id, sentence = intent.intent.citations[0]
        extra = (index.position(doc_id, sentence),)
    retrieval = retrieve(index, terms, extra)
    reason = categorical_decline(index, retrieval)
    if reason is not None:
        trace = Trace("retrieval", _CATEGORICAL[reason])
        return Answer(text, False, 0.0, reason, knowledge_version=knowledge.version, trace=trace)
    rows = retrieval.sentences.tolist()
    intent_row = rows.index(extra[0]) if extra and extra[0] in rows else None
    return Gathered(
        question,
        retrieval,
        candidate_features(index, question, retrieval),
        question_features(index, question, retrieval),
        intent if intent_row is not None else None,
        intent_row,
    )


def score(model: FittedModel, gathered: Gathered) -> Scored:
    """Rank the candidates and give the probability that the answer to be given is right."""
    ranking = rank(model.ranker, gathered.features)
    values = answerability_row(
        gathered.question_values, gathered.features.values, gathered.retrieval.paragraphs, ranking
    )
    confidence = model.answerability.probability(values)
    intent_values = np.zeros(len(INTENT_FEATURES))
    if gathered.intent is not None and gathered.intent_row is not None:
        intent_values = intent_row(
            gathered.intent.score,
            ranking,
            gathered.intent_row,
            gathered.features.values,
            gathered.question_values,
        )
        intent_confidence = model.intents.probability(intent_values)
        if intent_confidence >= confidence:
            return Scored(ranking, values, intent_values, intent_confidence, gathered.intent.intent)
    return Scored(ranking, values, intent_values, confidence, None)


def _citation(knowledge: KnowledgeBase, position: int) -> Citation:
    # From the summaries and the index, not the Document: a snapshot's document is rebuilt on
    # first use, which takes milliseconds for a long one.
    indexed = knowledge.index.sentences[position]
    document = knowledge.summaries[indexed.doc]
    sentence = indexed.sentence
    return Citation(
        document.id,
        document.title,
        document.url,
        document.published,
        sentence.paragraph,
        sentence.text,
        sentence.start,
        sentence.end,
        page_of(knowledge.index.section_of(indexed.paragraph)),
    )


_CATEGORICAL = {
    Reason.EMPTY_KNOWLEDGE: "there are no documents to answer from",
    Reason.UNKNOWN_TERMS: "the question names a numbered name the sources never mention",
    Reason.NO_MATCH: "no sentence shares a word with the question",
}
