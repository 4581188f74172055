from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.answers import Answer, Citation, Reason
from bot.core.errors import KnowledgeError
from bot.core.evaluation import (
    CALIBRATION_BINS,
    EvalCase,
    EvalReport,
    EvalSet,
    Judged,
    evaluate,
    find_eval_sets,
    merge,
    parse_eval_file,
)


def cited(question: str, *texts: str, confidence: float = 0.9) -> Answer:
    citations = tuple(Citation("doc", "Doc", None, None, 1, text, 0, len(text)) for text in texts)
    return Answer(question, True, confidence, Reason.RETRIEVAL, citations)


def declined(question: str, confidence: float = 0.1) -> Answer:
    return Answer(question, False, confidence, Reason.LOW_CONFIDENCE)


# Parsing


def test_parse_skips_blank_lines_and_ignores_extra_keys() -> None:
    text = (
        '{"question": "Q1", "answerable": true, "gold": ["a"], "id": 7}\n'
        "\n"
        '{"question": "Q2", "answerable": false}\n'
    )
    assert parse_eval_file(text, "eval.jsonl") == [
        EvalCase(question="Q1", answerable=True, gold=["a"]),
        EvalCase(question="Q2", answerable=False),
    ]


def test_every_bad_line_is_reported_with_its_number() -> None:
    text = "\n".join(
        [
            '{"question": "ok", "answerable": true, "gold": ["x"]}',
            "not json",
            '{"question": "no flag"}',
            '{"answerable": "maybe"}',
            '{"question": "no gold", "answerable": true}',
            '{"question": "no context", "answerable": true, "answers": [{"text": "a", "answer_start": 0}]}',
        ]
    )
    with pytest.raises(KnowledgeError) as caught:
        parse_eval_file(text, "eval.jsonl")
    message = str(caught.value)
    assert "eval.jsonl: line 2: not valid JSON" in message
    assert "eval.jsonl: line 3: bad or missing field(s): answerable" in message
    assert "eval.jsonl: line 4: bad or missing field(s): question, answerable" in message
    assert "eval.jsonl: line 5: bad or missing field(s)" in message
    assert "needs 'gold' substrings or SQuAD 'answers'" in message
    assert "eval.jsonl: line 6: bad or missing field(s)" in message
    assert "need their 'context'" in message
    assert "line 1:" not in message
    assert len(caught.value.problems) == 5


# The gold-substring rule


@pytest.mark.parametrize(
    ("gold", "citation", "right"),
    [
        ("Kourou station", "The  kourou STATION tracked it.", True),  # case and runs of whitespace
        ("Kourou station", "The Kourou\nstation tracked it.", True),
        ("Chang'e-6 lander", "the Chang’e-6 lander landed", True),  # curly versus straight quotes
        ("Chang’e-6 lander", "the Chang'e-6 lander landed", True),
        ("“the far side”", 'It went to "the far side" of the Moon.', True),
        ("Kourou station", "The Kourou tracking station", False),
        ("Kourou station", "", False),
    ],
)
def test_gold_substring_rule(gold: str, citation: str, right: bool) -> None:
    assert EvalCase(question="q", answerable=True, gold=[gold]).is_right(citation) is right


def test_any_gold_substring_will_do_but_a_blank_one_never_matches() -> None:
    case = EvalCase(question="q", answerable=True, gold=["  ", "Maspalomas"])
    assert case.is_right("The Maspalomas station tracked it.")
    assert not case.is_right("The Kourou station tracked it.")


# The SQuAD rule

CONTEXT = (
    "Paris is the capital of France. It hosts the Louvre, a large museum of art and history. "
    "The museum  opened in 1793 in Paris. Millions of people visit it every year from many countries. "
    "Its glass pyramid was added much later, in 1989, and is now famous."
)


def squad(answer: str, start: int | None = None) -> EvalCase:
    at = CONTEXT.index(answer) if start is None else start
    return EvalCase(
        question="q", answerable=True, context=CONTEXT, answers=[{"text": answer, "answer_start": at}]
    )


@pytest.mark.parametrize(
    ("citation", "right"),
    [
        ("The museum  opened in 1793 in Paris.", True),
        ("The museum opened in 1793 in Paris.", True),  # whitespace runs do not matter
        # Two sentences are within 1.5 times the answer's sentence plus 50 characters.
        ("It hosts the Louvre, a large museum of art and history. The museum opened in 1793 in Paris.", True),
        (CONTEXT, False),  # the whole paragraph is too long to count
        ("The museum opened in 179", False),  # does not cover the whole answer
        ("Paris is the capital of France.", False),
        ("The museum opened in 1793 in Lyon.", False),  # not a passage of the context
        ("", False),
    ],
)
def test_squad_rule(citation: str, right: bool) -> None:
    assert squad("1793").is_right(citation) is right


def test_squad_rule_wants_the_answer_where_it_was_marked() -> None:
    last = CONTEXT.rindex("Paris")  # "opened in 1793 in Paris", not "Paris is the capital"
    case = squad("Paris", last)
    assert case.is_right("The museum opened in 1793 in Paris.")
    assert not case.is_right("Paris is the capital of France.")


def test_squad_rule_any_of_several_answers() -> None:
    case = EvalCase(
        question="q",
        answerable=True,
        context=CONTEXT,
        answers=[
            {"text": "1793", "answer_start": CONTEXT.index("1793")},
            {"text": "1989", "answer_start": CONTEXT.index("1989")},
        ],
    )
    assert case.is_right("Its glass pyramid was added much later, in 1989, and is now famous.")
    assert case.is_right("The museum opened in 1793 in Paris.")


# Judging answers


def test_evaluate_judges_the_first_citation() -> None:
    cases = [
        EvalCase(question="first", answerable=True, gold=["Kourou station"]),
        EvalCase(question="third", answerable=True, gold=["ESTRACK"]),
        EvalCase(question="missed", answerable=True, gold=["Maspalomas"]),
        EvalCase(question="unknown", answerable=False),
        EvalCase(question="wrongly answered", answerable=False),
    ]
    answers = {
        "first": cited("first", "Kourou station tracked it.", confidence=0.8),
        "third": cited("third", "a", "b", "… network, ESTRACK.", confidence=0.6),
        "missed": declined("missed", 0.3),
        "unknown": declined("unknown", 0.2),
        "wrongly answered": cited("wrongly answered", "ESTRACK", confidence=0.7),
    }
    report = evaluate(cases, answers.__getitem__, threshold=0.5)
    by_question = {j.question: j for j in report.judged}
    assert by_question["first"].right
    assert not by_question["third"].right  # only the first citation counts
    assert by_question["third"].cited == "a"
    assert not by_question["missed"].answered
    assert by_question["missed"].confidence == 0.3
    assert not by_question["wrongly answered"].right  # an unanswerable question is never right
    assert (report.answerable, report.unanswerable) == (3, 2)
    assert report.precision() == pytest.approx(1 / 3)
    assert report.coverage() == pytest.approx(1 / 3)
    assert report.declined() == pytest.approx(1 / 2)
    assert report.misses == [
        ("third", "cited (0.60): a"),
        ("missed", "declined (0.30)"),
        ("wrongly answered", "answered, should decline (0.70): ESTRACK"),
    ]


def test_a_chitchat_reply_is_answered_but_never_right() -> None:
    cases = [EvalCase(question="hello", answerable=True, gold=["Hello"])]
    reply = Answer("hello", True, 0.4, Reason.CHITCHAT, reply="Hello!")
    (judged,) = evaluate(cases, lambda q: reply).judged
    assert judged.answered
    assert judged.confidence == 1.0
    assert not judged.right
    assert judged.cited == "Hello!"


def test_an_answer_without_citations_is_not_answered() -> None:
    cases = [EvalCase(question="q", answerable=True, gold=["x"])]
    (judged,) = evaluate(cases, lambda q: Answer(q, True, 0.9, Reason.RETRIEVAL)).judged
    assert not judged.answered


# Figures at thresholds


def judged(question: str, answerable: bool, answered: bool, confidence: float, right: bool) -> Judged:
    return Judged(question, answerable, answered, confidence, right, "")


ROWS = (
    judged("a1", True, True, 0.9, True),
    judged("a2", True, True, 0.6, False),
    judged("a3", True, True, 0.3, True),
    judged("a4", True, False, 0.0, False),  # declined outright: never given
    judged("u1", False, True, 0.7, False),
    judged("u2", False, True, 0.2, False),
)


@pytest.mark.parametrize(
    ("threshold", "precision", "coverage", "declined"),
    [
        (0.0, 2 / 5, 2 / 4, 0.0),
        (0.5, 1 / 3, 1 / 4, 1 / 2),
        (0.8, 1.0, 1 / 4, 1.0),
        (0.95, 1.0, 0.0, 1.0),  # nothing given: nothing wrong
    ],
)
def test_precision_coverage_and_declined_at_a_threshold(
    threshold: float, precision: float, coverage: float, declined: float
) -> None:
    report = EvalReport(ROWS, 0.5)
    assert report.precision(threshold) == pytest.approx(precision)
    assert report.coverage(threshold) == pytest.approx(coverage)
    assert report.declined(threshold) == pytest.approx(declined)


def test_headline_figures_use_the_report_threshold() -> None:
    report = EvalReport(ROWS, 0.8)
    assert (report.precision(), report.coverage(), report.declined()) == (
        report.precision(0.8),
        report.coverage(0.8),
        report.declined(0.8),
    )
    assert report.precision() != report.precision(0.0)


def test_the_curve_gives_fewer_answers_as_the_threshold_rises() -> None:
    curve = EvalReport(ROWS, 0.5).curve()
    given = [count for *_, count in curve]
    assert given == sorted(given, reverse=True)
    assert given[0] == 5  # at 0 every answer the model scored is given
    assert given[-1] == 0  # at 0.95 none: the surest answer has 0.9
    thresholds = [t for t, *_ in curve]
    assert thresholds == sorted(thresholds)
    assert (0.5, 1 / 3, 1 / 4, 3) in curve


def test_calibration_bins_and_expected_calibration_error() -> None:
    rows = (
        judged("h1", True, True, 0.95, True),
        judged("h2", True, True, 0.95, True),
        judged("h3", True, True, 0.95, True),
        judged("h4", True, True, 0.95, False),
        judged("l1", True, True, 0.35, True),
        judged("l2", False, True, 0.35, False),
        judged("never scored", True, False, 0.0, False),  # declined outright: not in any bin
    )
    report = EvalReport(rows, 0.5)
    bins = report.calibration()
    assert [(low, count) for low, _, _, count in bins] == [(0.3, 2), (0.9, 4)]
    assert bins[0][1:3] == pytest.approx((0.35, 0.5))
    assert bins[1][1:3] == pytest.approx((0.95, 0.75))
    # (2 * |0.35 - 0.5| + 4 * |0.95 - 0.75|) / 6
    assert report.calibration_error == pytest.approx((2 * 0.15 + 4 * 0.2) / 6)


def test_a_certain_answer_falls_in_the_last_bin() -> None:
    report = EvalReport((judged("sure", True, True, 1.0, True),), 0.5)
    assert report.calibration() == [((CALIBRATION_BINS - 1) / CALIBRATION_BINS, 1.0, 1.0, 1)]
    assert report.calibration_error == 0.0


def test_an_empty_report() -> None:
    report = evaluate([], declined)
    assert (report.answerable, report.unanswerable) == (0, 0)
    assert (report.precision(), report.coverage(), report.declined()) == (1.0, 0.0, 1.0)
    assert report.calibration() == []
    assert report.calibration_error == 0.0
    assert report.misses == []


def test_merge_pools_the_questions_of_several_reports() -> None:
    merged = merge([EvalReport(ROWS[:3], 0.5), EvalReport(ROWS[3:], 0.5)])
    assert merged.judged == ROWS
    assert merged.precision() == EvalReport(ROWS, 0.5).precision()


# Finding question sets


def write_questions(path: Path) -> None:
    path.write_text(json.dumps({"question": "q", "answerable": True, "gold": ["a"]}) + "\n", encoding="utf-8")


def test_a_question_file_is_asked_of_the_default_knowledge(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    write_questions(path)
    assert find_eval_sets(path) == [EvalSet("dev", None, path)]
    assert [c.question for c in find_eval_sets(path)[0].cases()] == ["q"]


def test_a_folder_with_questions_and_knowledge(tmp_path: Path) -> None:
    write_questions(tmp_path / "questions.jsonl")
    (tmp_path / "knowledge").mkdir()
    assert find_eval_sets(tmp_path) == [
        EvalSet(tmp_path.name, tmp_path / "knowledge", tmp_path / "questions.jsonl")
    ]


def test_a_folder_of_article_folders(tmp_path: Path) -> None:
    for name in ("beta", "alpha"):
        (tmp_path / name).mkdir()
        write_questions(tmp_path / name / "questions.jsonl")
        (tmp_path / name / "article.md").write_text("---\ntitle: T\n---\n\nText.\n", encoding="utf-8")
    (tmp_path / "gamma" / "knowledge").mkdir(parents=True)
    write_questions(tmp_path / "gamma" / "questions.jsonl")
    (tmp_path / "notes").mkdir()  # no questions: not a set
    assert find_eval_sets(tmp_path) == [
        EvalSet("alpha", tmp_path / "alpha", tmp_path / "alpha" / "questions.jsonl"),
        EvalSet("beta", tmp_path / "beta", tmp_path / "beta" / "questions.jsonl"),
        EvalSet("gamma", tmp_path / "gamma" / "knowledge", tmp_path / "gamma" / "questions.jsonl"),
    ]


def test_a_folder_without_questions_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(KnowledgeError, match=r"holds no questions\.jsonl"):
        find_eval_sets(tmp_path)
    with pytest.raises(KnowledgeError, match="neither a question file nor a folder"):
        find_eval_sets(tmp_path / "missing")


def test_malformed_lines_of_a_found_set_are_reported_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text('{"question": "q", "answerable": false}\n{oops\n', encoding="utf-8")
    (found,) = find_eval_sets(path)
    with pytest.raises(KnowledgeError, match="line 2: not valid JSON"):
        found.cases()
