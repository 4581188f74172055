"""bot.core.sentences gives pysbd's sentences, and sentence_spans exact slices of them."""

from __future__ import annotations

import random

import pysbd
import pytest

from bot.core.documents import sentence_spans
from bot.core.sentences import segment

TRICKY = [
    "Dr. Smith went to the U.S. in 2020. He left at 3 p.m. today.",
    "The U.S. Army is large. The U.S. It was founded in 1775.",
    "It costs $1.50 per kg. The rate is 3.14 and 10.5% of 2.000.",
    "He said, \"Stop. Go home.\" Then he left. 'Why?' she asked. 'Because.'",
    "“It is done.” He smiled. ‘Fine,’ she said. «Très bien.» Done.",
    "Wait... What happened? I don't know.... Maybe . . . later. Or . . . . not",
    "First line.\nSecond line without a period\nThird line. Fourth.",
    "Lists: 1. apples 2. pears 3. plums. And a) one b) two c) three. Then i. x ii. y iii. z.",
    "See Fig. 3 and pp. 12-14, No. 5, Art. 9. Also e.g. this and i.e. that etc. Done.",
    "Mr. and Mrs. Jones met Capt. Kirk, Gen. Lee and St. Paul at 10 a.m. Monday. Then home.",
    "Acme Co. KG and Foo Inc. merged. Bar Ltd. did not.",
    "She got her Ph.D. at MIT. He has a D.Phil. too.",
    "Open file.txt or report .pdf now. Visit www.example.com or mail a@b.com. Thanks.",
    "It was 45°. Then 46° N. 12° E. Cold!",
    "Yahoo! is a company. The !Kung people live there. Wow!! Really?! No??? Yes!!!",
    "Results (see Table 2.) were good (p < 0.05). [Note: This is it.] Done (iv) Then.",
    "As shown.[1] Later work.[2, 3] A claim.12 Next sentence here.",
    "中文句子。 Another one！ And ？ ok．",
    "ſt. Mary and K. Smith met Dr. İnci. Then NO. 5 came.",
    "Version v1.2.3 was released -- finally -- today. It works.",
    "Call at 12:30. Or 1:45 p.m. Goodbye.",
    "I.e. this. E.g. that. U.S.A. is big. U.K. too.",
    "Mixed   whitespace.\tTabs\there.  Double  spaces.  End",
    "no punctuation at all here",
    "A",
    "   leading and trailing spaces.   ",
]


@pytest.fixture(scope="module")
def pysbd_segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


@pytest.mark.parametrize("text", TRICKY)
def test_segment_is_pysbd_sentence_for_sentence(text: str, pysbd_segmenter: pysbd.Segmenter) -> None:
    assert segment(text) == pysbd_segmenter.segment(text)


def test_segment_matches_pysbd_on_random_text(pysbd_segmenter: pysbd.Segmenter) -> None:
    # Words that pysbd's rules act on, in random order and spacing: abbreviations, lists,
    # numbers, quotes, brackets, ellipses, exclamation words, letters that re.IGNORECASE folds.
    words = [w for text in TRICKY for w in text.split()] + ["\n", "...", ". . .", "1)", "2)", "(b)", "K", "ſ"]
    rng = random.Random(20240612)
    for _ in range(600):
        text = "".join(
            rng.choice(words) + rng.choice([" ", " ", "", "  ", "\n"]) for _ in range(rng.randint(1, 20))
        )
        assert segment(text) == pysbd_segmenter.segment(text), text


def test_an_empty_text_has_no_sentences() -> None:
    assert segment("") == []


@pytest.mark.parametrize("text", TRICKY)
def test_spans_are_exact_ordered_slices_without_whitespace(text: str) -> None:
    spans = sentence_spans(text)
    assert spans
    cursor = 0
    for start, end in spans:
        assert cursor <= start < end <= len(text)
        sentence = text[start:end]
        assert sentence == sentence.strip()
        cursor = end


def test_spans_of_abbreviations_decimals_and_quotes() -> None:
    text = 'Dr. Smith paid $1.50 in the U.S. on Monday. He said "Stop. Go." Then he left... Why?'
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Dr. Smith paid $1.50 in the U.S. on Monday.",
        'He said "Stop. Go."',
        "Then he left...",
        "Why?",
    ]


def test_a_paragraph_without_sentences_is_one_sentence() -> None:
    assert sentence_spans("  ...  ") == ((2, 5),)
