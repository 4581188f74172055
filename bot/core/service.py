"""The one entry point every front calls: :meth:`QAService.ask`.

It validates the question, tries curated intents, searches every sentence, decides whether
the best candidate really answers the question, and returns an :class:`Answer` that quotes
the knowledge base verbatim or declines with suggestions.
"""

from __future__ import annotations

import logging
import math
import time

from bot.core.answers import Answer, Citation, Reason
from bot.core.documents import Sentence
from bot.core.errors import QuestionError
from bot.core.index import KnowledgeIndex
from bot.core.intent_matcher import IntentMatch, plain_match
from bot.core.knowledge import KnowledgeBase
from bot.core.questions import AnalysedQuestion, AnswerType, analyse_question, sentence_answer_types
from bot.core.ranking import Candidate, QueryTerms, query_terms, rank_candidates
from bot.core.text import stem

__all__ = ["MAX_QUESTION_CHARS", "MINIMUM_CONFIDENCE", "QAService"]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
# Below this confidence the service declines rather than cite a sentence that may not answer.
MINIMUM_CONFIDENCE = 0.06
# A "when" or "how many" question is only answered by a sentence holding a date or a number.
STRICT_TYPES = frozenset({AnswerType.DATE, AnswerType.NUMBER})
MAX_CITATIONS = 3
# Share of a question's idf weight in words the knowledge base has never seen beyond which it
# is about something else (on squad-dev: 14 unanswerable questions declined for 1 answerable).
UNKNOWN_SHARE_LIMIT = 0.75
# A sentence about a sibling of the numbered name asked that covers this much more of the
# question than any sentence about the name itself means the question swaps its subject.
SIBLING_MARGIN = 0.15
# An intent matched less closely than a plain rewording still answers when its cited sentence
# is among retrieval's best few: two weak signals that agree.
AGREEMENT_INTENT_SCORE = 0.6
AGREEMENT_DEPTH = 3
# A further sentence is cited only when it scores close to the best one...
SUPPORTING_SCORE_RATIO = 0.8
# ...and adds words the question and the earlier citations do not already have.
SUPPORTING_MIN_NEW_TERMS = 2

# Logistic model of "the best candidate answers the question" over the best candidate's
# features (see ranking.Candidate) and the question's. Fitted on development articles
# (SQuAD 2.0, whose unanswerable questions are written to look answerable), checked by
# leaving one article out at a time; the output is a probability, so MINIMUM_CONFIDENCE is low.
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "bias": -2.311,
    "coverage": 0.133,
    "window_coverage": 1.751,
    "paragraph_coverage": -2.556,
    "sentence_bm25": -0.289,
    "paragraph_bm25": 0.743,
    "type_miss": -0.113,
    "type_match": 0.201,
    "missing_salient": -0.745,
    "missing_max_idf": 0.22,
    "negation_mismatch": -2.011,
    "proximity": -0.498,
    "bigrams": -0.05,
    "related_coverage": 1.2,
    "unknown_share": -0.226,
    "margin": 1.568,
    "score": 0.599,
    "negated": -1.136,
}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class QAService:
    """Answers questions from a :class:`KnowledgeBase` that can be swapped atomically."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        minimum_confidence: float = MINIMUM_CONFIDENCE,
        max_question_chars: int = MAX_QUESTION_CHARS,
    ) -> None:
        """Serve ``knowledge``; declines below ``minimum_confidence``."""
        self._knowledge = knowledge
        self.minimum_confidence = minimum_confidence
        self.max_question_chars = max_question_chars

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
                f"That question is {len(cleaned)} characters long; please keep it under "
                f"{self.max_question_chars + 1}."
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

    def _answer(self, knowledge: KnowledgeBase, text: str) -> Answer:
        version = knowledge.version
        analysed = analyse_question(text)
        index = knowledge.index
        terms = query_terms(index, analysed)
        matches = knowledge.matcher.ranked(analysed, terms)
        match = plain_match(matches)
        if match is not None and match.intent.is_chitchat:
            return Answer(
                text,
                True,
                match.score,
                Reason.CHITCHAT,
                intent=match.intent.id,
                reply=match.intent.reply,
                knowledge_version=version,
            )
        if not knowledge.documents:
            return Answer(text, False, 0.0, Reason.EMPTY_KNOWLEDGE, knowledge_version=version)
        if match is not None:
            return self._intent_answer(knowledge, text, match, match.score)
        candidates = rank_candidates(index, analysed, terms)
        confidence, debug = self._confidence(knowledge, analysed, terms, candidates)
        if not candidates:
            return self._decline(knowledge, text, Reason.NO_MATCH, 0.0, debug)
        unknown = terms.unknown(index)
        # A numbered name the knowledge base never mentions means the question is about
        # something else ("Chang'e-4" when only Chang'e-6 is covered), however well the rest matches;
        # so does a question none of whose words the knowledge base knows as typed, or most of
        # whose weight is words it has never seen ("Who won the 2022 World Cup?").
        if (
            any(t[0].isalpha() and t[-1].isdigit() for t in unknown)
            or len(unknown) + len(terms.corrected) >= len(terms.weights)
            or debug["unknown_share"] >= UNKNOWN_SHARE_LIMIT
        ):
            return self._decline(knowledge, text, Reason.UNKNOWN_TERMS, min(confidence, 0.0), debug)
        best = candidates[0].features
        # The words asked about are said of a sibling ("launch" of Chang'e-6 when Chang'e-5 is asked).
        if best["plain_coverage"] + SIBLING_MARGIN < best["sibling_coverage"]:
            return self._decline(knowledge, text, Reason.OTHER_SUBJECT, confidence, debug)
        # What is asked of the subject ("the head of", "founded") is never mentioned anywhere.
        if (
            analysed.relation is not None
            and not index.knows(analysed.relation)
            and all(stem(typed) != analysed.relation for typed in terms.corrected)
        ):
            return self._decline(knowledge, text, Reason.UNKNOWN_TERMS, confidence, debug)
        if analysed.answer_type in STRICT_TYPES and best["answer_miss"]:
            return self._decline(knowledge, text, Reason.MISSING_ANSWER_TYPE, confidence, debug)
        agreed = self._agreeing_intent(index, matches, candidates)
        if agreed is not None:
            return self._intent_answer(knowledge, text, agreed, max(confidence, agreed.score))
        if confidence < self.minimum_confidence:
            return self._decline(knowledge, text, Reason.LOW_CONFIDENCE, confidence, debug)
        chosen = self._supporting(knowledge, analysed, terms, candidates)
        citations = tuple(
            self._citation(knowledge, index.sentences[c.sentence].doc, index.sentences[c.sentence].sentence)
            for c in chosen
        )
        return Answer(
            text, True, confidence, Reason.RETRIEVAL, citations, knowledge_version=version, debug=debug
        )

    def _confidence(
        self,
        knowledge: KnowledgeBase,
        question: AnalysedQuestion,
        terms: QueryTerms,
        candidates: list[Candidate],
    ) -> tuple[float, dict[str, float]]:
        index = knowledge.index
        total = terms.total_idf
        unknown = sum(terms.idf[t] * w for t, w in terms.weights.items() if t not in index.sentence_bm25.idf)
        features: dict[str, float] = {"bias": 1.0, "unknown_share": unknown / total if terms.weights else 1.0}
        if not candidates:
            return 0.0, features
        best = candidates[0]
        features.update((name, value) for name, value in best.features.items() if name in CONFIDENCE_WEIGHTS)
        # A lone candidate is not evidence of a clear winner: its margin is left neutral.
        second = candidates[1].score if len(candidates) > 1 else best.score
        features["margin"] = (best.score - second) / max(best.score, 1e-9)
        features["score"] = best.score
        features["negated"] = float(question.negated)
        logit = sum(CONFIDENCE_WEIGHTS[name] * value for name, value in features.items())
        return _sigmoid(logit), features

    @staticmethod
    def _agreeing_intent(
        index: KnowledgeIndex, matches: list[IntentMatch], candidates: list[Candidate]
    ) -> IntentMatch | None:
        """A looser intent match that retrieval backs: its answer is among the best few sentences."""
        top = {index.sentences[c.sentence].sentence for c in candidates[:AGREEMENT_DEPTH]}
        for match in matches:
            if match.score < AGREEMENT_INTENT_SCORE:
                break
            if not match.intent.is_chitchat and match.intent.citations[0][1] in top:
                return match
        return None

    def _supporting(
        self,
        knowledge: KnowledgeBase,
        question: AnalysedQuestion,
        terms: QueryTerms,
        candidates: list[Candidate],
    ) -> list[Candidate]:
        index = knowledge.index
        chosen = [candidates[0]]
        seen = set(index.sentences[candidates[0].sentence].terms) | set(terms.weights)
        for candidate in candidates[1:]:
            if len(chosen) == MAX_CITATIONS:
                break
            if candidate.score < SUPPORTING_SCORE_RATIO * candidates[0].score:
                break
            indexed = index.sentences[candidate.sentence]
            if (
                question.answer_type is not AnswerType.ANY
                and question.answer_type
                not in sentence_answer_types(indexed.mentions, frozenset(question.tokens))
            ):
                continue
            if len(set(indexed.terms) - seen) < SUPPORTING_MIN_NEW_TERMS:
                continue
            chosen.append(candidate)
            seen.update(indexed.terms)
        return chosen

    def _intent_answer(
        self, knowledge: KnowledgeBase, text: str, match: IntentMatch, confidence: float
    ) -> Answer:
        positions = {d.id: i for i, d in enumerate(knowledge.documents)}
        citations = tuple(
            self._citation(knowledge, positions[doc_id], sentence)
            for doc_id, sentence in match.intent.citations
        )
        return Answer(
            text,
            True,
            confidence,
            Reason.INTENT,
            citations[:MAX_CITATIONS],
            intent=match.intent.id,
            knowledge_version=knowledge.version,
        )

    @staticmethod
    def _citation(knowledge: KnowledgeBase, doc_position: int, sentence: Sentence) -> Citation:
        document = knowledge.documents[doc_position]
        meta = document.meta
        return Citation(
            document.id,
            meta.title,
            meta.url,
            meta.published,
            sentence.paragraph,
            sentence.text,
            sentence.start,
            sentence.end,
        )

    def _decline(
        self, knowledge: KnowledgeBase, text: str, reason: Reason, confidence: float, debug: dict[str, float]
    ) -> Answer:
        suggestions = tuple(knowledge.matcher.suggestions(text))
        return Answer(
            text,
            False,
            confidence,
            reason,
            suggestions=suggestions,
            knowledge_version=knowledge.version,
            debug=debug,
        )
