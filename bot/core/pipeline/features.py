"""Stage 3, features: what each candidate sentence has that an answer to the question has.

Every feature is a property of how documents are written or of how English asks, never of
particular questions: how much of the question's weight the sentence covers, alone and with the
context a reader gives it (its document's title, the sentence before a "he" or an "it"); whether
it holds the kind of thing asked for (a date for "when"); whether it says the relation asked
about ("the head of"); whether it is the opening sentence that defines what a "what is X"
question names. The ranking and answerability models weigh them; the weights are fitted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from bot.core.english import (
    ANTONYM_PAIRS,
    DEFINITION_OPENERS,
    MEASURE_PATTERNS,
    NEGATION_TOKENS,
    RESTRICTIVE_MODIFIERS,
)
from bot.core.index import KnowledgeIndex
from bot.core.mentions import ANSWER_KINDS, AnswerType, mention_words, sentence_answer_types
from bot.core.pipeline.analysis import AnalysedQuestion
from bot.core.pipeline.retrieval import Retrieval
from bot.core.text import fold, stem

__all__ = ["CANDIDATE_FEATURES", "CANDIDATE_SIGNS", "CandidateFeatures", "candidate_features"]

FeatureMatrix = npt.NDArray[np.float64]

# Where a definition's verb may stand at the latest: "X, the ... of Y, is a ...".
DEFINITION_REACH = 20
_WORD = re.compile(r"[\w'’-]+")
# Two question words next to each other are "split" in a sentence holding both this far apart.
SPLIT_DISTANCE = 3
# Each listed word's stem, and the words written opposite it: checking a sentence's tokens against
# the listed words is far cheaper than stemming every token of every candidate.
_OPPOSITES: dict[str, set[str]] = {}
for _a, _b in ANTONYM_PAIRS:
    _OPPOSITES.setdefault(stem(_a), set()).add(_b)
    _OPPOSITES.setdefault(stem(_b), set()).add(_a)

CANDIDATE_FEATURES: tuple[str, ...] = (
    # Retrieval: how the candidate was found.
    "bm25_sentence",
    "bm25_paragraph",
    "bm25_title",
    "retrieval_rank",
    "retrieval_ratio",
    # How much of the question's weight the sentence covers, alone and in context.
    "coverage",
    "relative_coverage",
    "synonym_coverage",
    "title_context_coverage",
    "inherited_coverage",
    "window_coverage",
    "paragraph_coverage",
    "exact_overlap",
    "coverage_gap",
    "bigrams",
    "split_phrases",
    "proximity",
    "novelty",
    "length",
    # The subject and the relation asked about.
    "names_missing",
    "names_missing_context",
    "focus_coverage",
    "focus_missing_idf",
    "missing_nearby",
    "relation_present",
    "relation_absent",
    "numbers_missing",
    "negation_mismatch",
    "antonym_conflict",
    "modifier_missing",
    "order_agreement",
    "one_missing",
    # Definitions, openings and pronouns.
    "lead",
    "lead_definition",
    "defines_subject",
    "defines_asked",
    "anaphoric",
    "anaphora_resolved",
    # The kind of answer asked for.
    *(f"{kind.value}_match" for kind in ANSWER_KINDS),
    "type_miss",
    "measure_match",
    "measure_miss",
    "counted_present",
)
_COLUMN = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
_ZEROS = (0.0,) * len(CANDIDATE_FEATURES)
# What a feature can only say about a candidate: that it does not answer (-1: the ranking model
# may only weigh it down) or that it does (+1). The fit keeps the weights to these signs.
CANDIDATE_SIGNS: dict[str, int] = {
    **dict.fromkeys(
        (
            "type_miss",
            "measure_miss",
            "names_missing",
            "names_missing_context",
            "numbers_missing",
            "negation_mismatch",
            "antonym_conflict",
            "modifier_missing",
            "relation_absent",
            "focus_missing_idf",
            "missing_nearby",
            "one_missing",
            "split_phrases",
        ),
        -1,
    ),
    **dict.fromkeys(
        (
            "coverage",
            "relative_coverage",
            "synonym_coverage",
            "focus_coverage",
            "relation_present",
            "measure_match",
            "counted_present",
            "defines_subject",
            "defines_asked",
            "lead_definition",
            "anaphora_resolved",
            *(f"{kind.value}_match" for kind in ANSWER_KINDS),
        ),
        1,
    ),
}


@dataclass(frozen=True, slots=True)
class CandidateFeatures:
    """The features of every candidate of one question: one row per candidate."""

    names: tuple[str, ...]
    values: FeatureMatrix

    def row(self, candidate: int) -> dict[str, float]:
        """The named feature values of one candidate."""
        return dict(zip(self.names, self.values[candidate].tolist(), strict=True))


def _positions(sentence_terms: tuple[str, ...], wanted: dict[str, float]) -> dict[str, list[int]]:
    """Where each question term stands in the sentence (terms it does not hold are absent)."""
    where: dict[str, list[int]] = {}
    for i, term in enumerate(sentence_terms):
        if term in wanted:
            where.setdefault(term, []).append(i)
    return where


def _proximity(where: dict[str, list[int]], length: int) -> float:
    """How tightly the matched question terms cluster: 1 when adjacent, towards 0 when spread out."""
    distinct = len(where)
    if distinct < 2:
        return 0.0
    positions = sorted(p for places in where.values() for p in places)
    terms_at = {p: term for term, places in where.items() for p in places}
    best = length
    # Shortest span of positions holding every distinct matched term (two-pointer sweep).
    counts: dict[str, int] = {}
    left = 0
    for position in positions:
        counts[terms_at[position]] = counts.get(terms_at[position], 0) + 1
        while len(counts) == distinct:
            best = min(best, position - positions[left] + 1)
            term = terms_at[positions[left]]
            counts[term] -= 1
            if not counts[term]:
                del counts[term]
            left += 1
    return distinct / best


def _order_agreement(question_terms: tuple[str, ...], where: dict[str, list[int]]) -> float:
    """Share of pairs of matched words in the same order in the sentence as in the question.

    A reversed order is how "Who did X swear fealty to?" differs from "Y swore fealty to X".
    """
    places = [where[t][0] for t in question_terms if t in where]
    pairs = len(places) * (len(places) - 1) // 2
    if not pairs:
        return 1.0
    kept = sum(a < b for i, a in enumerate(places) for b in places[i + 1 :])
    return kept / pairs


def _split_phrases(where: dict[str, list[int]], pairs: list[tuple[str, str]]) -> float:
    """Share of the question's adjacent word pairs that the sentence holds, but apart."""
    if not pairs:
        return 0.0
    split = 0
    for a, b in pairs:
        if a in where and b in where:
            split += min(abs(i - j) for i in where[a] for j in where[b]) > SPLIT_DISTANCE
    return split / len(pairs)


def _defines(text: str, tokens: tuple[str, ...], subject: tuple[str, ...], title: frozenset[str]) -> bool:
    """Whether a sentence defines ``subject``: "Karma (Sanskrit...) means...", "X is a...", "X, the...".

    Its subject comes first and a definition's verb follows early, or the subject's last word is
    followed by an apposition (a comma or a bracket).
    """
    for i, token in enumerate(tokens[:DEFINITION_REACH]):
        if token in DEFINITION_OPENERS:
            before = {stem(t) for t in tokens[:i]}
            if all(term in before or term in title for term in subject):
                return True
            break
    last = subject[-1] if subject else ""
    for match in _WORD.finditer(text):
        if stem(fold(match.group())) == last:
            following = text[match.end() : match.end() + 2].lstrip()
            return following[:1] in (",", "(")
    return False


def candidate_features(
    index: KnowledgeIndex,
    question: AnalysedQuestion,
    retrieval: Retrieval,
) -> CandidateFeatures:
    """One row of :data:`CANDIDATE_FEATURES` per candidate of ``retrieval``."""
    terms = retrieval.terms
    weight = {t: terms.idf[t] * w for t, w in terms.weights.items()}
    total = terms.total_idf
    names = {t: weight[t] for t in question.salient_terms if t in weight}
    names_total = sum(names.values())
    relative_of: dict[str, str] = {rel: term for rel, (term, _) in terms.relatives.items()}
    synonym_of: dict[str, str] = {syn: term for syn, (term, _) in terms.synonyms.items()}
    question_bigrams = set(pairwise(weight))
    ordered_pairs = list(pairwise(t for t in question.terms if t in weight))
    asked_stems = {stem(t) for t in question.tokens}
    opposites = {o for t in asked_stems for o in _OPPOSITES.get(t, ()) if stem(o) not in asked_stems}
    surface = {t: terms.idf.get(stem(t), 0.0) for t in question.tokens if stem(t) in weight}
    surface_total = sum(surface.values())
    modifiers = {t for t in question.tokens if t in RESTRICTIVE_MODIFIERS}
    ordered_terms = tuple(t for t in question.terms if t in weight)
    asked_words = mention_words(question.text)
    numbers = [t for t in question.tokens if any(ch.isdigit() for ch in t)]
    wanted = question.answer_type
    typed = wanted is not AnswerType.ANY
    measures = [MEASURE_PATTERNS[m] for m in question.measures]
    top_blended = float(retrieval.blended[0]) if len(retrieval.blended) and retrieval.blended[0] > 0 else 1.0
    sentences = index.sentences
    sentence_doc = index.sentence_doc

    focus_by_doc: dict[int, tuple[dict[str, float], float]] = {}
    rows: list[list[float]] = []
    for i, position in enumerate(retrieval.sentences.tolist()):
        indexed = sentences[position]
        present = set(indexed.terms)
        said = set(indexed.tokens)
        related = {relative_of[t] for t in present if t in relative_of} - present
        synonymous = {synonym_of[t] for t in present if t in synonym_of} - present - related
        title = index.title_terms[indexed.doc]
        # Only the neighbours' words: a whole sentence is made only for the candidates.
        before = (
            index.terms_of(position - 1) if position and sentence_doc[position - 1] == indexed.doc else ()
        )
        after = (
            index.terms_of(position + 1)
            if position + 1 < len(sentences) and sentence_doc[position + 1] == indexed.doc
            else ()
        )
        paragraph = index.paragraph_terms[indexed.paragraph]
        # One pass over the question's terms, crediting each to every context that holds it.
        covered = relative = synonym = titled = inherited = windowed = in_paragraph = 0.0
        for term, w in weight.items():
            if term in present:
                covered += w
                continue
            if term in related:
                relative += w
            elif term in synonymous:
                synonym += w
            if term in title:
                titled += w
            elif indexed.anaphoric and term in before:
                inherited += w
            if term in before or term in after:
                windowed += w
            if term in paragraph:
                in_paragraph += w
        if indexed.doc not in focus_by_doc:
            focus = {t: w for t, w in weight.items() if t not in title and t not in question.frame_terms}
            focus_by_doc[indexed.doc] = focus, sum(focus.values())
        focus, focus_total = focus_by_doc[indexed.doc]
        focus_missing = [t for t in focus if t not in present and t not in related and t not in synonymous]
        where = _positions(indexed.terms, weight)
        row: dict[str, float] = {}
        row["bm25_sentence"] = float(retrieval.sentence_scores[i]) / total
        row["bm25_paragraph"] = float(retrieval.paragraph_scores[i]) / total
        row["bm25_title"] = float(retrieval.title_scores[i]) / total
        row["retrieval_rank"] = math.log1p(i)
        row["retrieval_ratio"] = max(0.0, float(retrieval.blended[i])) / top_blended
        row["coverage"] = covered / total
        row["relative_coverage"] = relative / total
        row["synonym_coverage"] = synonym / total
        row["title_context_coverage"] = (covered + titled) / total
        row["inherited_coverage"] = (covered + titled + inherited) / total
        row["window_coverage"] = (covered + windowed) / total
        row["paragraph_coverage"] = (covered + in_paragraph) / total
        row["exact_overlap"] = (
            sum(w for t, w in surface.items() if t in said) / surface_total if surface_total else 0.0
        )
        row["split_phrases"] = _split_phrases(where, ordered_pairs)
        row["bigrams"] = (
            len(question_bigrams & set(pairwise(indexed.terms))) / len(question_bigrams)
            if question_bigrams
            else 0.0
        )
        row["proximity"] = _proximity(where, len(indexed.terms))
        row["novelty"] = len(present - weight.keys() - title) / len(present) if present else 0.0
        row["length"] = math.log1p(len(indexed.tokens))
        if names:
            context = [t for t in names if t in present or t in title or (indexed.anaphoric and t in before)]
            row["names_missing"] = 1.0 - sum(names[t] for t in context) / names_total
            nearby = [t for t in names if t in paragraph or t in title]
            row["names_missing_context"] = 1.0 - sum(names[t] for t in nearby) / names_total
        row["focus_coverage"] = (
            1.0 - sum(focus[t] for t in focus_missing) / focus_total if focus_total else 1.0
        )
        row["focus_missing_idf"] = (
            max(terms.idf[t] for t in focus_missing) / index.unseen_idf if focus_missing else 0.0
        )
        row["missing_nearby"] = (
            sum(focus[t] for t in focus_missing if t in paragraph) / focus_total if focus_total else 0.0
        )
        row["one_missing"] = float(len(focus_missing) == 1 and len(focus) > 2)
        row["order_agreement"] = _order_agreement(ordered_terms, where)
        if modifiers:
            row["modifier_missing"] = float(not modifiers <= said)
        if opposites:
            row["antonym_conflict"] = float(not said.isdisjoint(opposites))
        relation = question.relation
        if relation is not None:
            has_relation = relation in present or relation in related or relation in synonymous
            row["relation_present"] = float(has_relation)
            row["relation_absent"] = float(not has_relation)
        if numbers:
            earlier = index.tokens_of(position - 1) if before else ()
            row["numbers_missing"] = sum(t not in said and t not in earlier for t in numbers) / len(numbers)
        row["negation_mismatch"] = float(question.negated != (not said.isdisjoint(NEGATION_TOKENS)))
        row["lead"] = float(indexed.lead)
        if question.defined:
            row["lead_definition"] = float(indexed.lead)
            row["defines_subject"] = float(
                _defines(indexed.sentence.text, indexed.tokens, question.defined, title)
            )
        if indexed.defines and not indexed.defines.isdisjoint(weight):
            row["defines_asked"] = 1.0
        row["anaphoric"] = float(indexed.anaphoric)
        if indexed.anaphoric:
            row["anaphora_resolved"] = inherited / total
        if typed:
            if wanted in sentence_answer_types(indexed.mentions, asked_words):
                row[f"{wanted.value}_match"] = 1.0
            else:
                row["type_miss"] = 1.0
        if measures:
            found = any(m.search(indexed.sentence.text) for m in measures)
            row["measure_match"] = float(found)
            row["measure_miss"] = float(not found)
        if question.counted is not None:
            row["counted_present"] = float(
                question.counted in present or any(relative_of.get(t) == question.counted for t in present)
            )
        rows.append(list(map(row.get, CANDIDATE_FEATURES, _ZEROS)))
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(CANDIDATE_FEATURES))
    if len(values):
        coverage = values[:, _COLUMN["coverage"]]
        values[:, _COLUMN["coverage_gap"]] = coverage - coverage.max()
    return CandidateFeatures(CANDIDATE_FEATURES, values)
