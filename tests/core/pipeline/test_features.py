from __future__ import annotations

import numpy as np

from bot.core.documents import Document
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.features import CANDIDATE_FEATURES, candidate_features
from bot.core.pipeline.retrieval import query_terms, retrieve
from tests.core.tiny import document, index_of


def features(question: str, *documents: Document) -> dict[str, dict[str, float]]:
    """The features of every candidate of ``question``, by the candidate's text."""
    index = index_of(*documents)
    analysed = analyse_question(question)
    retrieval = retrieve(index, query_terms(index, analysed))
    computed = candidate_features(index, analysed, retrieval)
    assert computed.names == CANDIDATE_FEATURES
    return {
        index.sentences[p].sentence.text: computed.row(i) for i, p in enumerate(retrieval.sentences.tolist())
    }


def test_a_when_question_wants_the_sentence_with_a_date() -> None:
    rows = features(
        "When did Kourou station track Chang'e-6?",
        document("Kourou", "Kourou station tracked Chang'e-6 in 2024. Kourou station is in French Guiana."),
    )
    dated = rows["Kourou station tracked Chang'e-6 in 2024."]
    undated = rows["Kourou station is in French Guiana."]
    assert (dated["date_match"], dated["type_miss"]) == (1.0, 0.0)
    assert (undated["date_match"], undated["type_miss"]) == (0.0, 1.0)


def test_an_untyped_question_has_no_type_features() -> None:
    rows = features(
        "What did Kourou station track?",
        document("Kourou", "Kourou station tracked Chang'e-6 in 2024. Kourou station is in French Guiana."),
    )
    for row in rows.values():
        assert row["type_miss"] == 0.0
        assert row["date_match"] == 0.0


def test_the_lead_x_is_a_defines_x() -> None:
    rows = features(
        "What is karma?",
        document("Karma", "Karma is a concept of action and consequence. Karma appears in many religions."),
    )
    lead = rows["Karma is a concept of action and consequence."]
    assert (lead["defines_subject"], lead["lead_definition"], lead["lead"]) == (1.0, 1.0, 1.0)
    assert rows["Karma appears in many religions."]["defines_subject"] == 0.0


def test_an_apposition_after_a_name_defines_who_they_are() -> None:
    rows = features(
        "Who is Bergquist?",
        document(
            "ESA and China",
            "ESA will not join the ILRS. Karl Bergquist, ESA's international relations administrator, "
            "said the agency keeps talking. Bergquist spoke in Paris.",
        ),
    )
    apposition = "Karl Bergquist, ESA's international relations administrator, said the agency keeps talking."
    assert rows[apposition]["defines_subject"] == 1.0
    assert rows["Bergquist spoke in Paris."]["defines_subject"] == 0.0


def test_definition_features_are_off_for_other_questions() -> None:
    rows = features(
        "Where does karma appear?",
        document("Karma", "Karma is a concept of action and consequence. Karma appears in many religions."),
    )
    for row in rows.values():
        assert row["defines_subject"] == 0.0
        assert row["lead_definition"] == 0.0


def test_a_sentence_saying_the_opposite_relation_is_in_conflict() -> None:
    rows = features(
        "Who precedes Henry as king?",
        document("Kings", "Henry succeeds Richard as king. Henry was crowned king in Westminster."),
    )
    assert rows["Henry succeeds Richard as king."]["antonym_conflict"] == 1.0
    assert rows["Henry was crowned king in Westminster."]["antonym_conflict"] == 0.0


def test_negation_mismatch_both_ways() -> None:
    knowledge = document("ESA", "ESA will not join the ILRS. ESA will join the Gateway.")
    asked = features("Will ESA join the ILRS?", knowledge)
    assert asked["ESA will not join the ILRS."]["negation_mismatch"] == 1.0
    assert asked["ESA will join the Gateway."]["negation_mismatch"] == 0.0
    negated = features("Why won't ESA join the ILRS?", knowledge)
    assert negated["ESA will not join the ILRS."]["negation_mismatch"] == 0.0
    assert negated["ESA will join the Gateway."]["negation_mismatch"] == 1.0


def test_a_pronoun_is_resolved_by_the_sentence_before_it() -> None:
    rows = features(
        "When did Mongke Khan die?",
        document("Rulers", "Mongke Khan ruled the Mongol Empire. He died in 1259. The empire split."),
    )
    died = rows["He died in 1259."]
    assert died["anaphoric"] == 1.0
    assert died["anaphora_resolved"] > 0
    # In context, the sentence covers the whole question: "He" is Mongke Khan.
    assert died["inherited_coverage"] > died["coverage"]
    assert died["inherited_coverage"] == 1.0
    assert rows["Mongke Khan ruled the Mongol Empire."]["anaphora_resolved"] == 0.0


def test_a_pronoun_the_title_already_resolves_gains_nothing_more() -> None:
    rows = features(
        "When did Mongke Khan die?",
        document("Mongke Khan", "The Mongol Empire was vast. He died in 1259."),
    )
    assert rows["He died in 1259."]["anaphora_resolved"] == 0.0
    assert rows["He died in 1259."]["title_context_coverage"] == 1.0


def test_a_synonym_in_the_sentence_covers_the_question_word() -> None:
    rows = features(
        "How many nations signed the treaty?",
        document("Treaty", "Twelve countries signed the treaty in Geneva. The treaty took effect later."),
    )
    signed = rows["Twelve countries signed the treaty in Geneva."]
    assert signed["synonym_coverage"] > 0
    assert rows["The treaty took effect later."]["synonym_coverage"] == 0.0
    assert signed["number_match"] == 1.0


def test_a_derived_form_in_the_sentence_covers_the_question_word() -> None:
    rows = features(
        "Who led the Brazil team?",
        document("Teams", "The Brazilian team was led by Pele. The team trained in Santos."),
    )
    assert rows["The Brazilian team was led by Pele."]["relative_coverage"] > 0
    assert rows["The team trained in Santos."]["relative_coverage"] == 0.0


def test_a_quantity_question_wants_its_unit() -> None:
    rows = features(
        "How heavy is the lander?",
        document("Lander", "The lander weighs 3,200 kg. The lander carries 4 instruments."),
    )
    assert rows["The lander weighs 3,200 kg."]["measure_match"] == 1.0
    assert rows["The lander carries 4 instruments."]["measure_miss"] == 1.0


def test_the_relation_asked_about_must_be_said() -> None:
    rows = features(
        "Who is the head of CNSA?",
        document("CNSA", "Zhang Kejian is the head of CNSA. CNSA was founded in 1993 by the state."),
    )
    assert rows["Zhang Kejian is the head of CNSA."]["relation_present"] == 1.0
    assert rows["CNSA was founded in 1993 by the state."]["relation_absent"] == 1.0


def test_coverage_gap_is_zero_for_the_best_covered_candidate_and_negative_otherwise() -> None:
    rows = features(
        "When did Kourou station track Chang'e-6?",
        document("Kourou", "Kourou station tracked Chang'e-6 in 2024. Kourou station is in French Guiana."),
    )
    gaps = sorted(row["coverage_gap"] for row in rows.values())
    assert gaps[-1] == 0.0
    assert gaps[0] < 0.0


def test_no_candidates_give_no_rows() -> None:
    index = index_of(document("Kourou", "Kourou station tracked Chang'e-6 in 2024."))
    analysed = analyse_question("Who won the football cup?")
    computed = candidate_features(index, analysed, retrieve(index, query_terms(index, analysed)))
    assert computed.values.shape == (0, len(CANDIDATE_FEATURES))


def test_the_neighbouring_sentences_are_context_only_within_their_document() -> None:
    rows = features(
        "Where did the probe land?",
        document("Site", "Engineers worked for years. Rain fell on the landing site."),
        document("Crowds", "Crowds cheered the probe. Crowds went home."),
        document("Arrival", "The probe was late. It landed at noon."),
    )
    # The sentence before, in the same document, says "probe": the window covers the question.
    landed = rows["It landed at noon."]
    assert landed["window_coverage"] == 1.0 > landed["coverage"]
    # The next document's first sentence says "probe" too, but it is not this sentence's context;
    # nor is the last sentence of the previous document, which says "landing".
    for text in ("Rain fell on the landing site.", "Crowds cheered the probe."):
        assert 0 < rows[text]["window_coverage"] == rows[text]["coverage"] < 1.0


def test_the_paragraph_covers_what_the_other_sentences_of_the_paragraph_say() -> None:
    rows = features(
        "Which crater did the rover explore?",
        document(
            "Rover",
            "The rover drove north for a week. Its team slept. It explored Jezero.\n\n"
            "A crater is a bowl-shaped hollow.",
        ),
    )
    drove = rows["The rover drove north for a week."]
    # "explored" is two sentences on: in the paragraph, out of the window.
    assert drove["paragraph_coverage"] > drove["window_coverage"] == drove["coverage"]
    # "crater" is only in the next paragraph: the candidate's paragraph does not hold it.
    assert drove["paragraph_coverage"] < 1.0


def test_summed_weights_are_the_sums_of_one_term_at_a_time() -> None:
    # The features are added up term by term, as a reader adds them; an order numpy may pick
    # (pairwise, for eight terms or more) would change the last bit of a feature and so of a score.
    from bot.core.pipeline.features import _weighed

    rng = np.random.default_rng(7)
    for _ in range(500):
        masks, terms, candidates = (int(rng.integers(1, high)) for high in (4, 24, 4))
        weights = (rng.random(terms) * 10 ** rng.uniform(-3, 3, terms)).tolist()
        held = rng.random((masks, terms, candidates)) < 0.7
        expected = np.zeros((masks, candidates))
        for m in range(masks):
            for i in range(candidates):
                for j in range(terms):
                    if held[m, j, i]:
                        expected[m, i] += weights[j]
        assert _weighed(held, weights).tobytes() == expected.tobytes()
