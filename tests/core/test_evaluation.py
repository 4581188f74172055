from __future__ import annotations

import pytest

from bot.core.answers import Answer, Citation, Reason
from bot.core.errors import KnowledgeError
from bot.core.evaluation import EvalCase, evaluate, parse_eval_file


def cited(question: str, *texts: str) -> Answer:
    citations = tuple(Citation("doc", "Doc", None, None, 1, text, 0, len(text)) for text in texts)
    return Answer(question, True, 0.9, Reason.RETRIEVAL, citations)


def declined(question: str) -> Answer:
    return Answer(question, False, 0.1, Reason.LOW_CONFIDENCE)


def test_parse_skips_blank_lines_and_ignores_extra_keys() -> None:
    text = (
        '{"question": "Q1", "answerable": true, "gold": ["a"], "id": 7}\n'
        "\n"
        '{"question": "Q2", "answerable": false}\n'
    )
    cases = parse_eval_file(text, "eval.jsonl")
    assert cases == [
        EvalCase(question="Q1", answerable=True, gold=["a"]),
        EvalCase(question="Q2", answerable=False),
    ]


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = (
        '{"question": "ok", "answerable": true, "gold": ["x"]}\nnot json\n{"question": "no flag"}\n'
        '{"answerable": "maybe"}\n'
    )
    with pytest.raises(KnowledgeError) as caught:
        parse_eval_file(text, "eval.jsonl")
    message = str(caught.value)
    assert "eval.jsonl: line 2: not valid JSON" in message
    assert "eval.jsonl: line 3: bad or missing field(s): answerable" in message
    assert "eval.jsonl: line 4: bad or missing field(s): question, answerable" in message
    assert "line 1" not in message


def test_scoring_at_1_and_at_3_and_declines() -> None:
    cases = [
        EvalCase(question="first", answerable=True, gold=["Kourou station"]),
        EvalCase(question="third", answerable=True, gold=["ESTRACK"]),
        EvalCase(question="missed", answerable=True, gold=["Maspalomas"]),
        EvalCase(question="unknown", answerable=False),
        EvalCase(question="wrongly answered", answerable=False),
    ]
    answers = {
        "first": cited("first", "The  kourou STATION tracked it."),  # case and whitespace are ignored
        "third": cited("third", "a", "b", "… network, ESTRACK."),
        "missed": declined("missed"),
        "unknown": declined("unknown"),
        "wrongly answered": cited("wrongly answered", "something"),
    }
    report = evaluate(cases, answers.__getitem__)
    assert (report.answerable, report.unanswerable) == (3, 2)
    assert report.precision() == pytest.approx(1 / 3)  # first right, third and "wrongly answered" not
    assert report.coverage() == pytest.approx(1 / 3)
    assert report.acc3 == pytest.approx(2 / 3)
    assert report.declined() == pytest.approx(1 / 2)
    assert report.misses == [
        ("third", "cited (0.90): a"),
        ("missed", "declined (0.10)"),
        ("wrongly answered", "answered, should decline (0.90): something"),
    ]
    # Above every answer's confidence nothing is answered: nothing wrong, nothing covered.
    assert (report.precision(0.95), report.coverage(0.95), report.declined(0.95)) == (1.0, 0.0, 1.0)


def test_curly_and_straight_quotes_match_in_gold() -> None:
    cases = [EvalCase(question="q", answerable=True, gold=["Chang'e-6 lander"])]
    assert evaluate(cases, lambda q: cited(q, "the Chang’e-6 lander landed")).coverage() == 1.0


def test_chitchat_reply_is_not_a_correct_answer() -> None:
    cases = [EvalCase(question="hello", answerable=True, gold=["Hello"])]
    reply = Answer("hello", True, 1.0, Reason.CHITCHAT, reply="Hello!")
    report = evaluate(cases, lambda q: reply)
    assert (report.precision(), report.coverage()) == (0.0, 0.0)
    assert report.misses == [("hello", "cited (1.00): Hello!")]


def test_empty_run() -> None:
    report = evaluate([], declined)
    # Nothing asked: no answer given was wrong, no answerable question was covered.
    assert (report.precision(), report.coverage(), report.declined(), report.acc3) == (1.0, 0.0, 1.0, 0.0)
    assert report.misses == []
    assert report.calibration() == [] and report.calibration_error == 0.0
