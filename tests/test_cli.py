"""The command line as a user runs it: real ``python -m bot`` processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, render_text
from bot.core.answers import Answer, Citation, Reason

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
REQUIRED_KEYS = ["question", "answered", "confidence", "citations", "suggestions"]


def run(*args: str, cwd: Path = REPO, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"KNOWLEDGE_DIR", "MAX_QUESTION_CHARS"}}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_ask_prints_the_quoted_sentences_and_their_source() -> None:
    result = run("ask", "Who tracked Chang'e-6?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("> “Kourou station in French Guiana tracked the spacecraft")
    assert "Maspalomas station" in result.stdout
    assert "ESTRACK" in result.stdout
    assert "— ESA-China moon cooperation could end with Chang'e-6, paragraph 21 (2024-06-12)" in result.stdout
    assert "https://spacenews.com/esa-china-moon-cooperation-could-end-with-change-6/" in result.stdout


def test_ask_declines_plainly() -> None:
    result = run("ask", "qwertyuiop")
    assert result.returncode == 0
    assert result.stdout.startswith("I don't know that from my sources.")
    assert "“" not in result.stdout


def test_ask_chitchat_prints_the_reply_only() -> None:
    result = run("ask", "hello")
    assert result.returncode == 0
    assert result.stdout.startswith("Hello!")
    assert "—" not in result.stdout


def test_ask_json_with_several_arguments() -> None:
    result = run("ask", "--json", "Who tracked Chang'e-6?", "hello", "qwertyuiop")
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert [a["question"] for a in answers] == ["Who tracked Chang'e-6?", "hello", "qwertyuiop"]
    for answer in answers:
        assert list(answer)[:5] == REQUIRED_KEYS
    tracked, hello, nonsense = answers
    assert tracked["answered"] is True
    assert isinstance(tracked["confidence"], float)
    citation = tracked["citations"][0]  # type: ignore[index]
    assert citation["text"].startswith("Kourou station")
    assert citation["document"] == "esa-china-moon-cooperation"
    assert hello["citations"] == [] and hello["reply"]
    assert nonsense["answered"] is False and nonsense["citations"] == []


def test_ask_json_reads_questions_from_stdin_one_per_line() -> None:
    stdin = "Who tracked Chang’e-6?\n\n   \nWhen did Chang'e-6 launch?\r\nthanks\n"
    result = run("ask", "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    assert [a["question"] for a in answers] == [
        "Who tracked Chang’e-6?",
        "When did Chang'e-6 launch?",
        "thanks",
    ]
    assert all(list(a)[:5] == REQUIRED_KEYS for a in answers)
    assert "launched May 3" in answers[1]["citations"][0]["text"]  # type: ignore[index]


def test_ask_json_keeps_going_past_a_bad_line_on_stdin() -> None:
    result = run("ask", "--json", stdin="Who tracked Chang'e-6?\n" + "x" * 501 + "\nhello\n")
    answers = json_lines(result.stdout)
    assert len(answers) == 3
    assert list(answers[1])[:5] == REQUIRED_KEYS
    assert answers[1]["answered"] is False
    assert "501 characters" in str(answers[1]["error"])
    assert answers[2]["reply"]


@pytest.mark.parametrize("question", ["", "   "])
def test_ask_an_empty_question_says_so(question: str) -> None:
    result = run("ask", question)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "citebot: Please ask a question: the message is empty."


def test_ask_a_question_over_500_characters_says_how_long_it_may_be() -> None:
    result = run("ask", "Who tracked Chang'e-6? " + "a" * 490)
    assert result.returncode == 2
    assert "513 characters long" in result.stderr
    assert "under 501" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_json_creates_no_files(tmp_path: Path) -> None:
    result = run("ask", "--json", "--knowledge", str(KNOWLEDGE), "Who tracked Chang'e-6?", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[0]["answered"] is True
    assert list(tmp_path.iterdir()) == []


def test_ask_without_a_knowledge_folder_explains(tmp_path: Path) -> None:
    result = run("ask", "hello", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot load the knowledge in knowledge" in result.stderr
    assert "is not a folder" in result.stderr


def test_check_a_valid_folder() -> None:
    result = run("check")
    assert result.returncode == 0, result.stdout
    assert "OK" in result.stdout.splitlines()[0]
    assert "documents   1" in result.stdout
    assert "sentences   42" in result.stdout
    assert "esa-china-moon-cooperation: ESA-China moon cooperation could end with Chang'e-6" in result.stdout


def test_check_an_invalid_folder_lists_every_error(tmp_path: Path) -> None:
    (tmp_path / "untitled.md").write_text("---\nurl: https://example.org\n---\n\nText.\n", encoding="utf-8")
    (tmp_path / "badlink.md").write_text('---\ntitle: B\nurl: "nope"\n---\n\nText.\n', encoding="utf-8")
    (tmp_path / "open.md").write_text("---\ntitle: never closed\n\nText.\n", encoding="utf-8")
    (tmp_path / "latin1.md").write_bytes(b"---\ntitle: caf\xe9\n---\n\ncaf\xe9\n")
    (tmp_path / "intents.yaml").write_text("intents:\n  - id: x\n    examples: [a\n", encoding="utf-8")
    result = run("check", "--knowledge", str(tmp_path))
    assert result.returncode == 1
    assert "the knowledge base has 5 problems" in result.stdout
    for expected in [
        "untitled.md: front matter field 'title': is required",
        "badlink.md: front matter field 'url': must be an http(s) link",
        "open.md: line 1: front matter opened with '---' is never closed",
        "latin1.md: is not UTF-8 text",
        "intents.yaml: line 4: invalid YAML",  # the unclosed list is noticed at the end
    ]:
        assert expected in result.stdout


def test_check_reports_quotes_that_are_not_verbatim(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("---\ntitle: Notes\n---\n\nKourou tracked it.\n", encoding="utf-8")
    (tmp_path / "intents.yaml").write_text(
        "intents:\n"
        '  - id: a\n    examples: ["Who?"]\n    quotes: [Maspalomas tracked it]\n'
        '  - id: b\n    document: other\n    examples: ["Who?"]\n    quotes: [Kourou]\n',
        encoding="utf-8",
    )
    result = run("check", "--knowledge", str(tmp_path))
    assert result.returncode == 1
    assert "intents.yaml: intent 'a': quote 1 is not found verbatim in any document" in result.stdout
    assert "intents.yaml: intent 'b': document 'other' does not exist (known: notes)" in result.stdout


def test_eval_scores_a_question_file(tmp_path: Path) -> None:
    cases = [
        {"question": "Who tracked Chang'e-6?", "answerable": True, "gold": ["Kourou station"]},
        {"question": "When did Chang’e-6 launch?", "answerable": True, "gold": ["launched May 3"]},
        {"question": "Who wrote this article?", "answerable": True, "gold": ["Maspalomas"]},
        {"question": "qwertyuiop", "answerable": False},
    ]
    questions = tmp_path / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", encoding="utf-8")
    result = run("eval", "-v", str(questions))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        "answerable     3",
        "unanswerable   1",
        "acc@1          66.7 %",
        "acc@3          66.7 %",
        "declined       100.0 %",
        "overall        75.0 %",
    ]
    assert "misses:" in lines
    assert any(line.strip().startswith("Who wrote this article?  ->  cited: Andrew Jones") for line in lines)


def test_eval_rejects_a_bad_file_naming_the_line(tmp_path: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"question": "ok", "answerable": true}\n{oops\n', encoding="utf-8")
    result = run("eval", str(questions))
    assert result.returncode == 1
    assert f"{questions}: line 2: not valid JSON" in result.stderr


def test_eval_of_a_missing_file(tmp_path: Path) -> None:
    result = run("eval", str(tmp_path / "missing.jsonl"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr


def test_an_unknown_command_is_a_usage_error() -> None:
    result = run("fly")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# In-process: the pure pieces of the CLI.


def test_every_command_has_help() -> None:
    help_text = build_parser().format_help()
    for command in ("ask", "chat", "check", "eval"):
        assert command in help_text


def test_render_text_of_a_decline_lists_suggestions() -> None:
    answer = Answer("q", False, 0.1, Reason.LOW_CONFIDENCE, suggestions=("Who tracked Chang'e-6?",))
    assert render_text(answer) == (
        "I don't know that from my sources.\n"
        "Questions I can answer that are close to yours:\n"
        "  - Who tracked Chang'e-6?"
    )


def test_render_text_names_each_source_once() -> None:
    citations = tuple(Citation("d", "Doc", None, None, 2, text, 0, 1) for text in ("One.", "Two."))
    assert (
        render_text(Answer("q", True, 0.9, Reason.RETRIEVAL, citations))
        == "> “One.”\n> “Two.”\n— Doc, paragraph 2"
    )
