from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.core.text as text_module
from bot.core.knowledge import load_knowledge_dir
from bot.core.text import STOP_WORDS, content_terms, fold, stem, tokenize, tokenize_all

REPO = Path(__file__).resolve().parents[2]


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


def _each(texts: list[str]) -> tuple[list[str], list[int]]:
    tokens = [tokenize(text) for text in texts]
    return [token for each in tokens for token in each], [len(each) for each in tokens]


def test_tokenizing_many_texts_at_once_keeps_each_text_to_itself() -> None:
    # A name and a number, a list, a Roman numeral never reach across two texts.
    texts = ["It flew on Apollo", "11 days later", "Chang'e-5,", "6 and 7", "Louis", "XIV", "Louis XIV", ""]
    assert tokenize_all(texts) == _each(texts)
    assert tokenize_all(texts)[1] == [4, 3, 1, 3, 1, 1, 1, 0]


def test_a_text_holding_the_separator_is_still_tokenized_alone() -> None:
    texts = ["apollo\x0011 flew", "Chang'e 6"]
    assert tokenize_all(texts) == _each(texts)


# Characters that exercise every step of tokenize: capitals and Roman numerals, digits with their
# separators, apostrophes and look-alikes, dashes, accents and letters that fold to two.
_PIECES = st.sampled_from(
    [
        *"aeiXIVMe 019,.'’`-—()éİıßﬁ½\x00\n",
        *("Apollo 11", "Henry VIII", "chang'e-5, 6 and 7", "May 3", "1,000", "John's", "to 12", "ſhort"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=8).map("".join), max_size=6))
def test_tokenizing_many_texts_at_once_is_tokenizing_each(texts: list[str]) -> None:
    assert tokenize_all(texts) == _each(texts)


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


# Numbered lists. The fitted model's weights belong to these exact tokens, so the one-pass way of
# naming a list's numbers must give what the former pass-per-number loop (copied here) gave.
_OLD_ELIDED_NAME = re.compile(
    r"\b([a-z]+)(\d{1,3})((?:\s*,\s*|\s+(?:or|and|to|&)\s+)-?)(\d{1,3})\b(?![.,]\d)"
)


def _old_name_elided(match: re.Match[str]) -> str:
    name, number, gap, elided = match.groups()
    return f"{name}{number}{gap.rstrip('-')}{name}{elided}"


def _old_join_name_numbers(folded: str) -> str:
    joined = text_module._NAME_NUMBER.sub(text_module._join_name_number, folded)
    while True:
        named = _OLD_ELIDED_NAME.sub(_old_name_elided, joined)
        if named == joined:
            return named
        joined = named


def _corpus() -> list[str]:
    """Every sentence of the article and every question of our test data (and of the development
    data when it is at hand)."""
    texts = [s.sentence.text for s in load_knowledge_dir(REPO / "knowledge").index.sentences]
    eval_dir = Path(os.environ.get("CITEBOT_EVAL_DIR", REPO.parent / "shared" / "eval"))
    for path in [*(REPO / "tests" / "data").rglob("*.jsonl"), *eval_dir.rglob("*.jsonl")]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["question"])
    for path in eval_dir.rglob("*.md"):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


_PIECES = [
    "Chang'e-", "chang’e ", "change", "Apollo ", "apollo", "may ", "over ", "the ", "x", "ab'c",
    "5", "6", "7", "12", "123", "1234", "0", "3.5", "1,000", "-8", ",", ", ", " , ", "and ", " and ",
    " or ", " or -", " to ", " & ", "-", " ", "  ", ".", "!", "?", "'", "’", "\n", "II", "Artemis ",
]  # fmt: skip


def _number_lists(count: int) -> list[str]:
    rng = random.Random(17)
    made = [
        "Chang'e-5, 6 and 7",
        "chang'e-" + ", ".join(str(i % 1000) for i in range(1, 900)),
        "apollo 11, 12, 13, 14 or -15 & 16 to 17,18",
        "change7 or -8, -9 and 10.5, 11",
        "x1, 2, y3, 4, 5 and z6",
        "a1,000, 2",
        "Which of Chang'e-1, 2, 3, 4, 5, 6, 7 or 8 landed?",
    ]
    gaps = [",", ", ", " ,", " and ", " or -", " to ", " & ", ",-", "  or  ", " ", "-", ". ", ",\n"]
    numbers = ["5", "12", "123", "1234", "3.5", "1,000", "7x", "0"]
    while len(made) < count:
        noise = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 30)))
        if len(made) % 2:  # a list, perhaps broken somewhere, inside noise
            items = [rng.choice(["Chang'e-", "apollo ", "x", "may ", "over "]) + rng.choice(numbers)]
            items += [rng.choice(gaps) + rng.choice(numbers) for _ in range(rng.randint(1, 8))]
            at = rng.randint(0, len(noise))
            noise = noise[:at] + "".join(items) + noise[at:]
        made.append(noise)
    return made


def test_naming_list_numbers_gives_the_tokens_the_model_was_fitted_on() -> None:
    texts = _corpus() + _number_lists(20_000)
    for text in texts:
        folded = fold(text_module._ROMAN_AFTER_NAME.sub(text_module._roman_to_digits, text))
        assert text_module._join_name_numbers(folded) == _old_join_name_numbers(folded), text


def test_every_number_of_a_list_is_named() -> None:
    assert tokenize("Chang'e-5, 6 and 7 or -8") == ["change5", "change6", "and", "change7", "or", "change8"]
    assert tokenize("Which of Chang'e-" + ", ".join(map(str, range(1, 400)))) == [
        "which",
        "of",
        *(f"change{n}" for n in range(1, 400)),
    ]
