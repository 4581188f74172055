from __future__ import annotations

import pytest

from bot.core.english import (
    DATE_PATTERN,
    MEASURE_PATTERNS,
    NEGATION_TOKENS,
    NUMBER_PATTERN,
    STOP_WORDS,
)
from bot.core.text import tokenize


def dates(text: str) -> list[str]:
    return [m.group() for m in DATE_PATTERN.finditer(text)]


def numbers(text: str) -> list[str]:
    return [m.group() for m in NUMBER_PATTERN.finditer(text)]


def measures(text: str) -> set[str]:
    return {kind for kind, pattern in MEASURE_PATTERNS.items() if pattern.search(text)}


@pytest.mark.parametrize(
    "text",
    [
        "The samples will arrive soon.",
        "The agency decided later.",
        "It recently landed.",
    ],
)
def test_vague_adverbs_of_time_are_not_dates(text: str) -> None:
    assert dates(text) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("It launched in 2024.", "2024"),
        ("It launched on May 3.", "May 3"),
        ("It launched on 3 May.", "3 May"),
        ("It was busy in the 1990s.", "1990s"),
        ("It was built in the 13th century.", "13th century"),
        ("It rained on Monday.", "Monday"),
        ("It landed in spring.", "spring"),
        ("It was built under the Yuan dynasty.", "dynasty"),
        ("It launched at 3 p.m. local time.", "3 p.m."),
    ],
)
def test_dates(text: str, date: str) -> None:
    assert date in dates(text)


@pytest.mark.parametrize(
    "text",
    [
        "Many countries joined.",
        "Most of them agreed.",
        "Several nations signed.",
        "Few people came.",
    ],
)
def test_vague_quantifiers_are_not_numbers(text: str) -> None:
    assert numbers(text) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Over 300 people came.", "300"),
        ("Twelve countries signed.", "Twelve"),
        ("It grew by 3.5% a year.", "3.5%"),
        ("It weighs 1,000 tonnes.", "1,000"),
        ("It flew twice.", "twice"),
    ],
)
def test_quantities_are_numbers(text: str, number: str) -> None:
    assert number in numbers(text)


@pytest.mark.parametrize(
    "text",
    [
        "It launched in 2024.",
        "In 1066 the king died.",
        pytest.param(
            "It was busy in the 1990s.",
        ),
    ],
)
def test_a_year_is_a_date_not_a_number(text: str) -> None:
    assert dates(text)
    assert numbers(text) == []


def test_a_year_beside_a_quantity_leaves_the_quantity() -> None:
    assert numbers("In 2024, 300 people came.") == ["300"]


@pytest.mark.parametrize(
    "text",
    [
        "Chang'e-7 will fly next.",
        "Chang’e-7 or -8 will follow.",
        "The S10 probe failed.",
        "The Tianwen-1 orbiter arrived.",
    ],
)
def test_digits_of_a_numbered_name_are_not_a_quantity(text: str) -> None:
    assert numbers(text) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("It cost 8 million yuan.", "money"),
        ("It cost $8 million.", "money"),
        ("It cost €5 billion.", "money"),
        ("It cost 100 euros.", "money"),
        ("It weighs 5 g.", "mass"),
        ("It weighs 2 kg.", "mass"),
        ("It carried 10 grams of soil.", "mass"),
        ("It flew 400 km.", "length"),
        ("He is 41 years old.", "age"),
        ("It lasted 3 days.", "duration"),
        ("It covers 2 km2.", "area"),
        ("It flies at 28,000 km/h.", "speed"),
        pytest.param(
            "It cost five million dollars.",
            "money",
        ),
    ],
)
def test_a_number_with_its_unit_is_a_measure(text: str, kind: str) -> None:
    assert kind in measures(text)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("It was built under the Yuan dynasty.", "money"),  # a currency word alone
        ("The dollar fell.", "money"),
        ("Rocks, e.g. basalt, came back.", "mass"),  # the "g" of "e.g."
        ("Earth's mass is large.", "mass"),  # the word, not a mass
        ("It launched on May 3.", "mass"),
    ],
)
def test_a_unit_or_currency_without_a_number_is_no_measure(text: str, kind: str) -> None:
    assert kind not in measures(text)


@pytest.mark.parametrize("word", ["won't", "didn't", "can't", "isn't", "cannot", "never", "nothing"])
def test_negations_as_tokenised(word: str) -> None:
    (token,) = tokenize(word)
    assert token in NEGATION_TOKENS


@pytest.mark.parametrize("word", ["won't", "didn't", "it's", "what's"])
def test_contractions_are_stop_words_with_or_without_apostrophe(word: str) -> None:
    assert word in STOP_WORDS
    assert tokenize(word)[0] in STOP_WORDS
