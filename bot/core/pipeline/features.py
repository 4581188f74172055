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
from bot.core.index import ANAPHORIC_FLAG, LEAD_FLAG, KnowledgeIndex
from bot.core.mentions import ANSWER_KINDS, AnswerType, gives_answer_type, mention_words
from bot.core.pipeline.analysis import AnalysedQuestion
from bot.core.pipeline.retrieval import Retrieval
from bot.core.text import fold, stem

__all__ = ["CANDIDATE_FEATURES", "CANDIDATE_SIGNS", "CandidateFeatures", "candidate_features"]

FeatureMatrix = npt.NDArray[np.float64]
FloatArray = npt.NDArray[np.float64]
BoolMatrix = npt.NDArray[np.bool_]

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
# The features read off each candidate's own words, in the order candidate_features makes them.
_OWN_COLUMNS = [
    _COLUMN[name]
    for name in (
        "exact_overlap",
        "split_phrases",
        "bigrams",
        "proximity",
        "novelty",
        "length",
        "order_agreement",
        "negation_mismatch",
        "modifier_missing",
        "antonym_conflict",
        "numbers_missing",
        "defines_subject",
        "defines_asked",
        "measure_match",
        "measure_miss",
    )
]
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


def _bigrams(where: dict[str, list[int]], bigrams: set[tuple[str, str]]) -> int:
    """How many of the question's word pairs the sentence holds side by side."""
    return sum(
        1
        for a, b in bigrams
        if a in where and b in where and not set(where[b]).isdisjoint(p + 1 for p in where[a])
    )


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


def _weighed(held: BoolMatrix, weights: list[float]) -> FloatArray:
    """``held[m, j, i]`` weighed: per mask ``m`` and candidate ``i``, the summed weights of the terms
    ``j`` it holds.

    Added term by term, in the question's order: the very additions, so the very figures, of adding
    up each candidate's terms one at a time. (``np.add.reduce`` may add in another order, pairwise,
    and so differ in the last bit.)
    """
    summed = np.zeros((held.shape[0], held.shape[2]))
    for j, w in enumerate(weights):
        summed += held[:, j] * w
    return summed


def candidate_features(
    index: KnowledgeIndex,
    question: AnalysedQuestion,
    retrieval: Retrieval,
) -> CandidateFeatures:
    """One row of :data:`CANDIDATE_FEATURES` per candidate of ``retrieval``."""
    positions = retrieval.sentences
    count = len(positions)
    values = np.zeros((count, len(CANDIDATE_FEATURES)), dtype=np.float64)
    if not count:
        return CandidateFeatures(CANDIDATE_FEATURES, values)
    terms = retrieval.terms
    weight = {t: terms.idf[t] * w for t, w in terms.weights.items()}
    weights = list(weight.values())
    k = len(weights)
    total = terms.total_idf
    column = _COLUMN

    # What each context of each candidate holds of the question, as (term, candidate) matrices:
    # rows are the weighted terms in order, then the relation and the counted noun if not among them.
    tracked = list(weight)
    for extra in (question.relation, question.counted):
        if extra is not None and extra not in tracked:
            tracked.append(extra)
    row_of = {t: j for j, t in enumerate(tracked)}
    relatives = {rel: row_of[t] for rel, (t, _) in terms.relatives.items() if t in row_of}
    synonyms = {syn: row_of[t] for syn, (t, _) in terms.synonyms.items() if t in row_of}
    held = index.held(positions, len(tracked), row_of, relatives, synonyms)
    present, before, after, paragraph, title = held.contexts
    relatives_said, synonyms_said = held.sentences
    flags = index.arrays.arrays["sentence_flags"][positions]
    anaphoric = (flags & ANAPHORIC_FLAG).astype(bool)
    lead = (flags & LEAD_FLAG).astype(bool)
    # A term the sentence says itself is covered; one it says only through a relative or a synonym
    # is credited to the first of those that holds it.
    absent = ~present
    related = relatives_said & absent
    synonymous = synonyms_said & absent & ~related
    # The focus: the question's terms that neither the candidate's title nor the question's frame say.
    framed = np.array([t in question.frame_terms for t in weight], dtype=bool)[:, None]
    focus = ~title[:k] & ~framed
    missing = focus & absent[:k] & ~related[:k] & ~synonymous[:k]
    (
        covered,
        relative,
        synonym,
        titled,
        inherited,
        windowed,
        in_paragraph,
        focus_total,
        focus_missing,
        missing_nearby,
    ) = _weighed(
        np.stack(
            (
                present[:k],
                related[:k],
                synonymous[:k],
                (absent & title)[:k],
                (absent & ~title & anaphoric & before)[:k],
                (absent & (before | after))[:k],
                (absent & paragraph)[:k],
                focus,
                missing,
                missing & paragraph[:k],
            )
        ),
        weights,
    )
    values[:, column["bm25_sentence"]] = retrieval.sentence_scores / total
    values[:, column["bm25_paragraph"]] = retrieval.paragraph_scores / total
    values[:, column["bm25_title"]] = retrieval.title_scores / total
    values[:, column["retrieval_rank"]] = [math.log1p(i) for i in range(count)]
    top_blended = float(retrieval.blended[0]) if retrieval.blended[0] > 0 else 1.0
    values[:, column["retrieval_ratio"]] = np.maximum(retrieval.blended, 0.0) / top_blended
    values[:, column["coverage"]] = covered / total
    values[:, column["relative_coverage"]] = relative / total
    values[:, column["synonym_coverage"]] = synonym / total
    values[:, column["title_context_coverage"]] = (covered + titled) / total
    values[:, column["inherited_coverage"]] = (covered + titled + inherited) / total
    values[:, column["window_coverage"]] = (covered + windowed) / total
    values[:, column["paragraph_coverage"]] = (covered + in_paragraph) / total
    values[:, column["anaphoric"]] = anaphoric
    values[:, column["anaphora_resolved"]] = np.where(anaphoric, inherited / total, 0.0)
    values[:, column["lead"]] = lead
    if question.defined:
        values[:, column["lead_definition"]] = lead
    has_focus = focus_total != 0
    divisor = np.where(has_focus, focus_total, 1.0)
    values[:, column["focus_coverage"]] = np.where(has_focus, 1.0 - focus_missing / divisor, 1.0)
    values[:, column["missing_nearby"]] = np.where(has_focus, missing_nearby / divisor, 0.0)
    idf = np.array([terms.idf[t] for t in weight])[:, None]
    values[:, column["focus_missing_idf"]] = np.where(missing, idf, 0.0).max(axis=0) / index.unseen_idf
    values[:, column["one_missing"]] = (missing.sum(axis=0) == 1) & (focus.sum(axis=0) > 2)
    # The names the question pins its subject with, summed in the order the question keeps them.
    name_rows = [row_of[t] for t in question.salient_terms if t in weight]
    if name_rows:
        name_weights = [weights[j] for j in name_rows]
        names_total = sum(name_weights)
        said_names, near_names = _weighed(
            np.stack(((present | title | (anaphoric & before))[name_rows], (paragraph | title)[name_rows])),
            name_weights,
        )
        values[:, column["names_missing"]] = 1.0 - said_names / names_total
        values[:, column["names_missing_context"]] = 1.0 - near_names / names_total
    if question.relation is not None:
        j = row_of[question.relation]
        relation_said = present[j] | related[j] | synonymous[j]
        values[:, column["relation_present"]] = relation_said
        values[:, column["relation_absent"]] = ~relation_said
    if question.counted is not None:
        j = row_of[question.counted]
        values[:, column["counted_present"]] = present[j] | related[j]

    # What only the sentence's own words tell, one candidate at a time.
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
    kind_column = column[f"{wanted.value}_match"] if wanted is not AnswerType.ANY else None
    measures = [MEASURE_PATTERNS[m] for m in question.measures]
    sentences = index.sentences
    sentence_doc = index.sentence_doc
    # Where each of the question's terms stands in each candidate, in reading order.
    places: list[dict[str, list[int]]] = [{} for _ in range(count)]
    for i, j, place in zip(*(found.tolist() for found in held.where), strict=True):
        if j < k:
            places[i].setdefault(tracked[j], []).append(place)
    own: list[tuple[float, ...]] = []
    kinds: list[int] = []
    for position, where in zip(positions.tolist(), places, strict=True):
        indexed = sentences[position]
        present_set = set(indexed.terms)
        said = set(indexed.tokens)
        earlier: tuple[str, ...] = ()
        if (
            numbers
            and position
            and sentence_doc[position - 1] == indexed.doc
            and index.terms_of(position - 1)
        ):
            earlier = index.tokens_of(position - 1)
        found = any(m.search(indexed.sentence.text) for m in measures)
        title_set = index.title_terms[indexed.doc]
        if len(where) < 2:  # one of the question's words or none: nothing to split, pair or order
            split, bigrams, proximity, order = 0.0, 0.0, 0.0, 1.0
        else:
            split = _split_phrases(where, ordered_pairs)
            bigrams = _bigrams(where, question_bigrams) / len(question_bigrams) if question_bigrams else 0.0
            proximity = _proximity(where, len(indexed.terms))
            order = _order_agreement(ordered_terms, where)
        own.append(
            (
                sum(w for t, w in surface.items() if t in said) / surface_total if surface_total else 0.0,
                split,
                bigrams,
                proximity,
                len(present_set - weight.keys() - title_set) / len(present_set) if present_set else 0.0,
                math.log1p(len(indexed.tokens)),
                order,
                float(question.negated != (not said.isdisjoint(NEGATION_TOKENS))),
                float(not modifiers <= said),
                float(not said.isdisjoint(opposites)),
                sum(t not in said and t not in earlier for t in numbers) / len(numbers) if numbers else 0.0,
                float(_defines(indexed.sentence.text, indexed.tokens, question.defined, title_set))
                if question.defined
                else 0.0,
                float(bool(indexed.defines) and not indexed.defines.isdisjoint(weight)),
                float(found) if measures else 0.0,
                float(not found) if measures else 0.0,
            )
        )
        if kind_column is not None:
            matched = gives_answer_type(indexed.mentions, wanted, asked_words)
            kinds.append(kind_column if matched else _COLUMN["type_miss"])
    values[:, _OWN_COLUMNS] = own
    if kinds:
        values[np.arange(count), kinds] = 1.0
    coverage = values[:, column["coverage"]]
    values[:, column["coverage_gap"]] = coverage - coverage.max()
    return CandidateFeatures(CANDIDATE_FEATURES, values)
