"""The pure Answer -> message renderer, and other front logic that needs no Discord."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from bot.core.answers import Answer, Citation, Reason
from bot.discord_front import render
from bot.discord_front.cogs.ask import autocomplete_choices
from bot.presentation import ContextParagraph
from bot.runtime import UserRef
from bot.runtime.cooldowns import Cooldowns

URL = "https://example.org/moon"


def citation(text: str, paragraph: int = 2, doc: str = "moon") -> Citation:
    return Citation(doc, "The *Moon* [news]", URL, dt.date(2024, 6, 12), paragraph, text, 0, len(text))


def answered(*citations: Citation, question: str = "When did it launch?") -> Answer:
    return Answer(question, True, 0.87, Reason.RETRIEVAL, citations)


def test_an_answer_is_an_embed_of_quotes_with_a_linked_source_and_buttons() -> None:
    rendered = render.render_answer(
        answered(citation("It launched on May 3."), citation("It _landed_.", 4)), 42
    )
    assert rendered.content is None and rendered.embed is not None
    assert rendered.embed["description"] == "> “It launched on May 3.”\n> “It \\_landed\\_.”"
    assert rendered.embed["url"] == URL
    sources = rendered.embed["fields"][0]["value"].splitlines()
    assert sources == [
        f"[The \\*Moon\\* \\[news\\]]({URL}), paragraph 2 · published 2024-06-12",
        f"[The \\*Moon\\* \\[news\\]]({URL}), paragraph 4 · published 2024-06-12",
    ]
    assert [b.custom_id for b in rendered.buttons] == [
        "citebot:ctx:2@moon;4@moon",
        "citebot:fb:42:y",
        "citebot:fb:42:n",
    ]


def test_without_an_answer_id_there_are_no_feedback_buttons() -> None:
    rendered = render.render_answer(answered(citation("It launched.")), None)
    assert [b.label for b in rendered.buttons] == ["Show context"]


def test_a_decline_is_plain_text_with_suggestions_as_buttons() -> None:
    long = "Why " * 40
    answer = Answer(
        "capital of Peru?", False, 0.1, Reason.LOW_CONFIDENCE, suggestions=("When did it launch?", long)
    )
    rendered = render.render_answer(answer, 7)
    assert rendered.embed is None
    assert rendered.content is not None and rendered.content.startswith(render.DECLINE_TEXT)
    assert [b.custom_id for b in rendered.buttons] == [
        "citebot:ask:When did it launch?"
    ]  # the long one does not fit


def test_chitchat_is_its_reply() -> None:
    answer = Answer("hi", True, 1.0, Reason.CHITCHAT, intent="greeting", reply="Hello!")
    assert render.render_answer(answer, 3) == render.RenderedAnswer(content="Hello!")


def test_long_texts_are_cut_to_discord_limits() -> None:
    rendered = render.render_answer(answered(citation("x" * 5000), question="q" * 300), 1)
    assert rendered.embed is not None
    assert len(rendered.embed["title"]) <= 256 and len(rendered.embed["description"]) <= 4096


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("@everyone <@&123> When? <@!9> <#5> @here", "When?"), ("  what   is   NILS? ", "what is NILS?")],
)
def test_questions_lose_mention_markup(raw: str, clean: str) -> None:
    assert render.clean_question(raw) == clean


def test_custom_ids_round_trip_and_fit() -> None:
    assert re.fullmatch(render.FEEDBACK_TEMPLATE, render.feedback_custom_id(5, False))
    refs = [("d" * 40, 1), ("e" * 40, 2), ("f" * 40, 3)]
    custom_id = render.context_custom_id(refs)
    assert custom_id is not None and len(custom_id) <= 100
    match = re.fullmatch(render.CONTEXT_TEMPLATE, custom_id)
    assert match and render.parse_context_refs(match["refs"]) == refs[:2]  # the third does not fit


def test_context_quotes_each_paragraph_escaped() -> None:
    text = render.render_context([ContextParagraph("T", URL, 3, "A *bold* claim.\nSecond line.")])
    assert text == f"[T](<{URL}>), paragraph 3:\n> A \\*bold\\* claim.\n> Second line."
    assert "no longer" in render.render_context([])


def test_cooldown_limits_each_user_separately() -> None:
    cooldown = Cooldowns()
    alice, bob = UserRef("discord", 1), UserRef("discord", 2)
    assert cooldown.retry_after(alice, 5, now=100.0) == 0
    assert cooldown.retry_after(alice, 5, now=102.0) == pytest.approx(3.0)
    assert cooldown.retry_after(bob, 5, now=102.0) == 0
    # The same number on Telegram is someone else.
    assert cooldown.retry_after(UserRef("telegram", 1), 5, now=102.0) == 0
    assert cooldown.retry_after(alice, 5, now=105.5) == 0


def test_autocomplete_prefers_prefixes_and_caps_at_25() -> None:
    candidates = ["Where did Chang'e-6 land?", "When did Chang'e-6 launch?", "What is NILS?"] + [
        f"Chang'e question {n}" for n in range(40)
    ]
    choices = autocomplete_choices("chang", candidates)
    assert len(choices) == 25 and choices[0] == "Chang'e question 0"
    assert autocomplete_choices("nils", candidates) == ["What is NILS?"]
    assert autocomplete_choices("", ["a", "a", "b"]) == ["a", "b"]


def test_the_command_line_does_not_import_discord() -> None:
    code = "import sys, bot.cli; sys.exit('discord' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_every_extension_loads_its_module() -> None:
    import importlib

    from bot.discord_front.bot import EXTENSIONS

    for name in EXTENSIONS:
        assert callable(importlib.import_module(name).setup)
