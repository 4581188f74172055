"""The Telegram rendering: always valid Telegram HTML, within Telegram's limits, quotes intact."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import Answer, Citation, Reason
from bot.presentation import ContextParagraph, present
from bot.telegram_front.render import (
    MESSAGE_MAX,
    parse_data,
    render_answer,
    render_context,
    suggestion_from,
    utf16_len,
)
from tests.telegram_front.fake_telegram import MAX_CALLBACK_DATA, parse_html

# Text with everything that could break HTML: tags, entities, quotes, astral emoji, newlines.
nasty = st.text(alphabet=st.sampled_from(list("<>&\"'ab /;#x\n😀é")), min_size=1, max_size=60)


def citation(
    text: str, title: str = "T", url: str | None = "https://example.org/?a=1&b=2", paragraph: int = 3
) -> Citation:
    return Citation("doc", title, url, dt.date(2024, 6, 12), paragraph, text, 0, len(text))


@settings(max_examples=200, deadline=None)
@given(question=nasty, quote=nasty, title=nasty)
def test_answers_are_valid_html_whatever_the_text(question: str, quote: str, title: str) -> None:
    answer = Answer(question, True, 0.9, Reason.RETRIEVAL, (citation(quote, title),))
    for heading in (False, True):
        rendered = render_answer(present(answer, 2**62), heading=heading)
        shown = parse_html(rendered.text)  # raises on anything Telegram would refuse
        assert quote in shown  # verbatim, never altered by escaping
        if heading:
            assert question.strip()[:50] in shown or len(question) > 300
        for row in rendered.keyboard:
            for button in row:
                assert 1 <= len(button.data.encode()) <= MAX_CALLBACK_DATA


@settings(max_examples=100, deadline=None)
@given(question=nasty, suggestions=st.lists(nasty, min_size=1, max_size=5))
def test_declines_are_valid_html_and_buttons_map_back_to_their_suggestion(
    question: str, suggestions: list[str]
) -> None:
    suggestions = [" ".join(s.split()) or "x" for s in suggestions]
    answer = Answer(question, False, 0.1, Reason.LOW_CONFIDENCE, (), tuple(suggestions))
    rendered = render_answer(present(answer))
    shown = parse_html(rendered.text)
    for i, row in enumerate(rendered.keyboard):
        pressed = parse_data(row[0].data)
        assert pressed is not None and pressed.index == i
        assert suggestion_from(shown, pressed.index) == suggestions[i]


def test_a_long_answer_is_cut_to_fit_one_message() -> None:
    long = "word " * 3000
    answer = Answer("q", True, 0.9, Reason.RETRIEVAL, tuple(citation(long + str(n)) for n in range(3)))
    text = render_answer(present(answer, 1)).text
    assert utf16_len(parse_html(text)) <= MESSAGE_MAX


def test_context_of_huge_paragraphs_fits_and_stays_valid() -> None:
    paragraphs = [
        ContextParagraph("A & B <c>", "https://x.org/?q=<1>", n, "x&y<z> " * 2000) for n in range(3)
    ]
    text = render_context(paragraphs)
    shown = parse_html(text)
    assert utf16_len(shown) <= MESSAGE_MAX
    for n in range(3):  # each paragraph shows, cut by the same share, rather than the last dropped
        assert f"A & B <c>, paragraph {n}:\nx&y<z> x&y<z>" in shown
    emoji = render_context([ContextParagraph("T", None, 1, "😀" * 3000)])
    assert 3000 < utf16_len(parse_html(emoji)) <= MESSAGE_MAX  # emoji count two units each


def test_callback_data_round_trips() -> None:
    answer = Answer("q", True, 0.9, Reason.RETRIEVAL, (citation("Hello."),))
    rendered = render_answer(present(answer, 123))
    kinds = [parse_data(b.data) for b in rendered.keyboard[0]]
    assert [k.kind if k else None for k in kinds] == ["c", "f", "f"]
    assert kinds[0] is not None and kinds[0].refs == (("doc", 3),)
    assert kinds[1] is not None and (kinds[1].answer_id, kinds[1].helpful) == (123, True)
    assert parse_data("f:12:maybe") is None and parse_data("nonsense") is None and parse_data("c:") is None
