from __future__ import annotations

import pytest

from bot.core.text import STOP_WORDS, content_terms, fold, stem, tokenize


@pytest.mark.parametrize(
    "spelling",
    [
        "Chang'e-6",
        "Chang’e-6",
        "Chang’e 6",
        "Chang'e 6",
        "change6",
        "CHANGE-6",
        "Change 6",
        "chang`e-6",
        "CHANG‘E‐6",
    ],
)
def test_every_spelling_of_the_mission_is_one_token(spelling: str) -> None:
    assert tokenize(spelling) == ["change6"]


def test_other_missions_stay_distinct() -> None:
    assert tokenize("Chang'e-5") == ["change5"]
    assert tokenize("Chang’e-7 or Chang'e 8") == ["change7", "or", "change8"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("launched May 3", ["launched", "may", "3"]),  # a date is not a name with a number
        ("in June 2021", ["in", "june", "2021"]),
        ("11 countries", ["11", "countries"]),
        ("1,000 and 3.5", ["1000", "and", "3.5"]),
        ("China's space industry", ["china", "space", "industry"]),
        ("the moon’s composition", ["the", "moon", "composition"]),
        ("won't", ["wont"]),
        ("", []),
        ("¿?!… —", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café MÜNCHEN", "cafe munchen"),
        ("“quoted” ‘words’", "\"quoted\" 'words'"),
        ("a–b", "a-b"),
        ("ﬁle", "file"),  # compatibility ligature
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_case_and_quote_style_do_not_change_tokens() -> None:
    assert tokenize("WHO TRACKED CHANG’E-6?") == tokenize("who tracked chang'e-6")


def test_content_terms_drop_stop_words_and_stem() -> None:
    terms = content_terms(tokenize("Who will track the spacecraft as it returns?"))
    assert terms == [stem("track"), stem("spacecraft"), stem("returns")]
    assert not set(terms) & STOP_WORDS


def test_stem_is_shared_by_inflections() -> None:
    assert stem("tracked") == stem("tracking") == stem("track")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        # A number written after a name without repeating it belongs to that name.
        ("Chang’e-7 or -8", ["change7", "or", "change8"]),
        ("change-7 and 8", ["change7", "and", "change8"]),
        ("Chang'e-5, 6 and 7", ["change5", "change6", "and", "change7"]),
        # A number after a small word or a quantity adverb is a quantity, not a name.
        ("and 8 more", ["and", "8", "more"]),
        ("over 300 ships", ["over", "300", "ships"]),
        ("nearly 50 years", ["nearly", "50", "years"]),
    ],
)
def test_numbers_join_names_only(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_contractions_are_stop_words_without_their_apostrophe() -> None:
    assert content_terms(tokenize("Why won't ESA join? It doesn't say.")) == ["esa", "join", "say"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Artemis III", ["artemis3"]),
        ("Louis XIV gained the throne", ["louis14", "gained", "the", "throne"]),
        ("Artemis 3", ["artemis3"]),
        ("I went", ["i", "went"]),  # a pronoun, not a numeral
        ("MIX IV", ["mix", "iv"]),  # no name before it
    ],
)
def test_roman_numerals_after_a_name_are_numbers(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
