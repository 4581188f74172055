from __future__ import annotations

import pytest

from bot.core.english import MEASURE_PATTERNS
from bot.core.mentions import AnswerType
from bot.core.pipeline.analysis import analyse_question


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("When did Chang'e-6 launch?", AnswerType.DATE),
        ("Chang'e-6 launched when?", AnswerType.DATE),
        ("How many countries signed?", AnswerType.NUMBER),
        ("What is the population of Helsinki?", AnswerType.NUMBER),
        ("Who tracked the spacecraft?", AnswerType.PERSON),
        ("Where did it land?", AnswerType.PLACE),
        ("Why is ESA staying out?", AnswerType.REASON),
        # "when" joining two clauses does not make a question about time.
        ("Who led the troops when Cyprus fell?", AnswerType.PERSON),
        ("How did ESA react when Russia invaded Ukraine?", AnswerType.ANY),
        ("Does China mention Russia when courting partners?", AnswerType.ANY),
    ],
)
def test_the_question_word_nearest_the_start_sets_the_answer_type(
    question: str, answer_type: AnswerType
) -> None:
    assert analyse_question(question).answer_type is answer_type


@pytest.mark.parametrize(
    ("question", "unit_text", "other_text"),
    [
        ("How heavy is the payload?", "It weighs 5 kg.", "It launched on May 3."),
        ("How much did the mission cost?", "It cost $8 million.", "It carried 4 instruments."),
        ("How old is Andrew Jones?", "He is 41 years old.", "He covers Chang'e-7."),
    ],
)
def test_quantity_questions_know_what_their_answer_must_hold(
    question: str, unit_text: str, other_text: str
) -> None:
    measures = [MEASURE_PATTERNS[kind] for kind in analyse_question(question).measures]
    assert measures
    assert any(measure.search(unit_text) for measure in measures)
    assert not any(measure.search(other_text) for measure in measures)


def test_a_count_names_what_it_counts() -> None:
    assert analyse_question("How many grams of rock came back?").counted == "gram"
    assert analyse_question("When did it launch?").counted is None


@pytest.mark.parametrize(
    ("question", "relation"),
    [
        ("Who is the head of CNSA?", "head"),
        ("Which rocket did China use?", "rocket"),
        ("What is the name of the rocket?", None),  # "name" says what kind of answer, not a relation
        ("Who is Bergquist?", None),
    ],
)
def test_relation_nouns(question: str, relation: str | None) -> None:
    assert analyse_question(question).relation == relation
