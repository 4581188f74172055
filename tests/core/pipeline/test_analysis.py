from __future__ import annotations

import pytest

from bot.core.english import MEASURE_PATTERNS
from bot.core.mentions import AnswerType
from bot.core.pipeline.analysis import analyse_question
from bot.core.text import stem


@pytest.mark.parametrize(
    ("question", "answer_type"),
    [
        ("When did Chang'e-6 launch?", AnswerType.DATE),
        ("Chang'e-6 launched when?", AnswerType.DATE),
        ("In what year did Chang'e-6 launch?", AnswerType.DATE),
        ("How many countries signed?", AnswerType.NUMBER),
        ("What is the population of Helsinki?", AnswerType.NUMBER),
        ("Who tracked the spacecraft?", AnswerType.PERSON),
        ("Where did it land?", AnswerType.PLACE),
        ("Which city hosts the agency?", AnswerType.PLACE),
        ("Why is ESA staying out?", AnswerType.REASON),
        ("What is the name of the rocket?", AnswerType.NAME),
        ("What did ESA provide?", AnswerType.ANY),
        # "when" joining two clauses does not make a question about time.
        ("Who led the troops when Cyprus fell?", AnswerType.PERSON),
        ("How did ESA react when Russia invaded Ukraine?", AnswerType.ANY),
        ("Does China mention Russia when courting partners?", AnswerType.ANY),
        pytest.param(
            "Didn't ESA react when Russia invaded Ukraine?",
            AnswerType.ANY,
        ),
    ],
)
def test_the_question_word_nearest_the_start_sets_the_answer_type(
    question: str, answer_type: AnswerType
) -> None:
    assert analyse_question(question).answer_type is answer_type


@pytest.mark.parametrize(
    ("question", "measures", "unit_text", "other_text"),
    [
        ("How heavy is the payload?", ("mass",), "It weighs 5 kg.", "It launched on May 3."),
        (
            "What is the mass of the lander?",
            ("mass",),
            "The lander has a mass of 3,200 kg.",
            "It landed in 2024.",
        ),
        ("How much did the mission cost?", ("money",), "It cost $8 million.", "It carried 4 instruments."),
        ("How old is Andrew Jones?", ("age",), "He is 41 years old.", "He covers Chang'e-7."),
        ("How fast does it fly?", ("speed",), "It flies at 28,000 km/h.", "It flew 3 times."),
    ],
)
def test_quantity_questions_know_what_their_answer_must_hold(
    question: str, measures: tuple[str, ...], unit_text: str, other_text: str
) -> None:
    analysed = analyse_question(question)
    assert analysed.answer_type is AnswerType.NUMBER
    assert analysed.measures == measures
    patterns = [MEASURE_PATTERNS[kind] for kind in analysed.measures]
    assert any(p.search(unit_text) for p in patterns)
    assert not any(p.search(other_text) for p in patterns)


def test_how_long_accepts_a_duration_or_a_length() -> None:
    assert set(analyse_question("How long is the runway?").measures) == {"duration", "length"}


def test_a_question_not_asking_a_quantity_wants_no_measure() -> None:
    assert analyse_question("When did it launch?").measures == ()
    assert analyse_question("Who paid for the launch?").measures == ()


def test_a_count_names_what_it_counts() -> None:
    assert analyse_question("How many grams of rock came back?").counted == "gram"
    assert analyse_question("How many countries signed?").counted == stem("countries")
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


@pytest.mark.parametrize(
    ("question", "defined"),
    [
        ("What is NILS?", ("nil",)),
        ("What is karma?", ("karma",)),
        ("What are antibodies?", (stem("antibodies"),)),
        ("Who was Karl Bergquist?", ("karl", "bergquist")),
        ("Who is Bergquist?", ("bergquist",)),
        ("What does NILS stand for?", ("nil",)),
        ("What does karma mean?", ("karma",)),
        ("Define karma", ("karma",)),
    ],
)
def test_definition_questions_name_their_subject(question: str, defined: tuple[str, ...]) -> None:
    assert analyse_question(question).defined == defined


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",  # a relation of France, not a definition
        "Who is the head of CNSA?",
        "When was karma first described?",
        "How many countries signed?",
        "What did ESA provide?",
    ],
)
def test_other_questions_ask_for_no_definition(question: str) -> None:
    assert analyse_question(question).defined == ()


@pytest.mark.parametrize(
    ("question", "yes_no"),
    [
        ("Is ESA joining the ILRS?", True),
        ("Did China launch it?", True),
        ("Will ESA join the ILRS?", True),
        ("Has Turkey applied to join?", True),
        ("Can the lander return samples?", True),
        ("When did it launch?", False),
        ("Who tracked the spacecraft?", False),
        ("ESA ILRS membership", False),  # keywords, not a question
        pytest.param(
            "Won't ESA join the ILRS?",
            True,
        ),
        pytest.param(
            "Isn't ESA part of the ILRS?",
            True,
        ),
    ],
)
def test_yes_no_questions_open_with_an_auxiliary(question: str, yes_no: bool) -> None:
    assert analyse_question(question).yes_no is yes_no


def test_wh_is_the_question_word_nearest_the_start() -> None:
    assert analyse_question("Who led the troops when Cyprus fell?").wh == "who"
    assert analyse_question("Is ESA joining the ILRS?").wh is None


@pytest.mark.parametrize(
    ("question", "negated"),
    [
        ("Why will ESA not join the ILRS?", True),
        ("Why won't ESA join the ILRS?", True),
        ("Why won’t ESA join the ILRS?", True),  # curly apostrophe
        ("Why didn't China invite ESA?", True),
        ("Why can't ESA join?", True),
        ("Which country never joined?", True),
        ("Why did ESA join the ILRS?", False),
        ("What is notable about Kourou?", False),  # "not" inside a word is no negation
        ("Is there nothing left?", True),
    ],
)
def test_negation_including_contractions(question: str, negated: bool) -> None:
    assert analyse_question(question).negated is negated


def test_names_and_numbers_are_salient_and_frame_words_are_not_topic() -> None:
    analysed = analyse_question("What does Chang'e-6 mean for Europe?")
    assert "change6" in analysed.salient_terms
    assert stem("europe") in analysed.salient_terms
    assert stem("mean") in analysed.frame_terms
    assert stem("mean") not in analysed.salient_terms


def test_terms_are_stemmed_without_stop_words_or_repeats() -> None:
    analysed = analyse_question("Did the launches launch the launch?")
    assert analysed.terms == ("launch",)
