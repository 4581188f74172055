from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import english
from bot.core.mentions import AnswerType, answer_mentions, mention_rows, sentence_answer_types
from bot.core.text import tokenize


def kinds(sentence: str, question: str = "") -> frozenset[AnswerType]:
    """What kinds of answer ``sentence`` holds for a question worded ``question``."""
    return sentence_answer_types(answer_mentions(sentence), frozenset(tokenize(question)))


@pytest.mark.parametrize(
    "sentence",
    [
        "The samples will arrive soon.",
        "The agency decided later.",
        "The lander recently woke up.",
    ],
)
def test_vague_adverbs_of_time_cannot_answer_when(sentence: str) -> None:
    assert AnswerType.DATE not in kinds(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Many countries joined the project.",
        "Most members agreed.",
        "Several nations signed the treaty.",
    ],
)
def test_vague_quantifiers_cannot_answer_how_many(sentence: str) -> None:
    assert AnswerType.NUMBER not in kinds(sentence)


def test_a_year_answers_when_but_not_how_many() -> None:
    found = kinds("the probe launched in 2024.")
    assert AnswerType.DATE in found
    assert AnswerType.NUMBER not in found


def test_a_day_of_the_month_is_part_of_its_date() -> None:
    mentions = answer_mentions("the probe launched on May 3.")
    assert (AnswerType.DATE, frozenset({"may", "3"})) in mentions
    assert not any(kind is AnswerType.NUMBER for kind, _ in mentions)


def test_the_digits_of_a_numbered_name_are_no_quantity() -> None:
    assert AnswerType.NUMBER not in kinds("the Chang'e-7 probe will study the south pole.")
    assert AnswerType.NUMBER in kinds("the Chang'e-7 probe will carry 6 instruments.")


def test_a_quantity_answers_how_many() -> None:
    assert AnswerType.NUMBER in kinds("twelve countries signed the treaty.")


def test_a_date_the_question_names_is_not_an_answer_to_it() -> None:
    sentence = "the treaty was signed in 1066."
    assert AnswerType.DATE in kinds(sentence, "What happened in 2000?")
    assert AnswerType.DATE not in kinds(sentence, "What happened in 1066?")


def test_names_places_and_acronyms() -> None:
    found = kinds("the station was run by Karl Bergquist in Kourou.")
    assert {AnswerType.NAME, AnswerType.PERSON, AnswerType.PLACE} <= found
    # An acronym names an organisation or a thing, not a person.
    acronym = kinds("the instrument was built by ESA.")
    assert AnswerType.NAME in acronym
    assert AnswerType.PERSON not in acronym


def test_the_opening_capital_of_a_sentence_is_no_name() -> None:
    assert kinds("Rocks came back.") == {AnswerType.ANY}


def test_a_cause_answers_why_even_when_the_question_repeats_it() -> None:
    sentence = "ESA left because of the invasion."
    assert AnswerType.REASON in kinds(sentence, "Did ESA leave because of the invasion?")
    assert AnswerType.REASON not in kinds("ESA left in 2022.")


def test_a_quoted_term_answers_what_it_is_called() -> None:
    assert AnswerType.NAME in kinds('the project is called "lunar gateway" by most.')


def test_a_month_is_not_a_person() -> None:
    assert AnswerType.PERSON not in kinds("the probe launched on May 3.")


def _pattern_words() -> list[str]:
    """Every word the English patterns are written from, with the forms their suffixes make."""
    source = Path(english.__file__).read_text(encoding="utf-8").lower()
    fragments = set(re.findall(r"[a-z]+", source))
    forms = {f + end for f in fragments for end in ("", "s", "y", "ies", "day")}
    return sorted(forms | {f[:-1] for f in fragments})


@pytest.mark.parametrize("template", ["Then {} came.", "{} it was.", "It was ({}), they said", "x-{}-x"])
def test_every_word_of_a_date_number_or_cause_is_found(template: str) -> None:
    # answer_mentions skips a pattern when the sentence lacks the words it needs: none may be missed.
    patterns = {
        AnswerType.DATE: english.DATE_PATTERN,
        AnswerType.NUMBER: english.NUMBER_PATTERN,
        AnswerType.REASON: english.REASON_PATTERN,
    }
    for word in _pattern_words():
        sentence = template.format(word)
        found = {kind for kind, _ in answer_mentions(sentence)}
        for kind, pattern in patterns.items():
            assert (kind in found) == (pattern.search(sentence) is not None), (sentence, kind)


def _rows_one_by_one(texts: list[str]) -> tuple[list[int], list[int], list[str], list[int]]:
    counts: list[int] = []
    kinds: list[int] = []
    words: list[str] = []
    sizes: list[int] = []
    for text in texts:
        mentions = answer_mentions(text)
        counts.append(len(mentions))
        for kind, said in mentions:
            kinds.append(list(AnswerType).index(kind))
            words += sorted(said)
            sizes.append(len(said))
    return counts, kinds, words, sizes


def test_the_mentions_of_many_sentences_are_each_sentences_own() -> None:
    texts = [
        "It launched on May 3, 2024 (at 10 am) with 11 crew.",
        "Chang'e-6 carried 4 payloads near the lunar south pole because ESA asked.",
        'In the 1990s, twenty "Sky Labs" flew; per cent 5.',
        "Nothing here.",
        "",
    ]
    rows = mention_rows(texts)
    assert rows == _rows_one_by_one(texts)
    assert rows[0][3:] == [0, 0]  # a sentence without any, and an empty one


# Pieces that reach every pattern and every gate: digits after letters and alone, the words of
# dates, numbers and causes, capitals, quotes, places, and letters that lower-case into two.
_PIECES = st.sampled_from(
    [
        *"aZ 09,.%-'\"(\x00İ",
        *("May 3", "1990s", "10 am", "twenty", "per cent", "because", "in Paris", "ESA", "Monday", "S10"),
        "3rd century",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), max_size=6))
def test_finding_mentions_of_many_sentences_at_once_is_finding_each(texts: list[str]) -> None:
    assert mention_rows(texts) == _rows_one_by_one(texts)
