"""The command line as a user runs it.

Real ``python -m bot`` processes where start-up, stdin or the environment matter; otherwise
``bot.cli.main`` in-process on knowledge and question files written to a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.cli import build_parser, main, render_text
from bot.core.answers import Answer, Citation, Reason
from bot.core.documents import parse_document

REPO = Path(__file__).resolve().parents[1]
KNOWLEDGE = REPO / "knowledge"
REQUIRED_KEYS = ["question", "answered", "confidence", "citations", "suggestions"]
# The `ask --json` contract: exactly these keys, in this order.
ANSWER_KEYS = [*REQUIRED_KEYS, "intent", "reason", "reply", "knowledge_version"]
# A line `ask --json` could not ask: the same keys, then why.
ERROR_KEYS = [*ANSWER_KEYS, "error"]
CITATION_KEYS = ["document", "title", "url", "published", "paragraph", "text", "start", "end", "page"]
TRACE_KEYS = {"stage", "detail", "features", "contributions", "candidates"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

LIGHTHOUSE = """---
title: The Lighthouse of Brightwater
url: https://example.org/brightwater-lighthouse
published: 2024-05-01
---

The Brightwater lighthouse stands on a granite headland north of the harbour. It was built in 1872 \
by the engineer Margaret Ellis.

The tower is 34 metres tall and its lamp can be seen 22 nautical miles out to sea.

The lighthouse was automated in 1991, and the last keeper, Tom Rowe, retired that year.
"""
FERRY = """---
title: The Brightwater Ferry
---

A ferry links Brightwater with the island of Skerra. The crossing takes forty minutes.

Bicycles travel free of charge on the ferry.
"""
INTENTS = """intents:
  - id: builder
    examples: [Who built the Brightwater lighthouse?]
    quotes: [It was built in 1872 by the engineer Margaret Ellis.]
  - id: greeting
    examples: [hello]
    reply: Hello! Ask me about the lighthouse.
"""
# Three answerable questions, one with a gold the answer does not hold, and two that are not.
QUESTIONS = [
    {"question": "How tall is the tower?", "answerable": True, "gold": ["34 metres"]},
    {"question": "When was the lighthouse automated?", "answerable": True, "gold": ["in 1991"]},
    {"question": "Who was the last keeper?", "answerable": True, "gold": ["Margaret Ellis"]},
    {"question": "What is the capital of France?", "answerable": False},
    {"question": "How much did the lighthouse cost?", "answerable": False},
]


def run(*args: str, cwd: Path = REPO, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in {"KNOWLEDGE_DIR", "MAX_QUESTION_CHARS"}}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONPATH"] = str(REPO)  # this checkout's code, whatever the working directory
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


def run_bytes(*args: str, stdin: bytes, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """``python -m bot`` fed raw bytes, in exactly the environment ``env`` (plus this checkout)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        env={**env, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )


@contextmanager
def started(*args: str) -> Iterator[subprocess.Popen[str]]:
    """A ``python -m bot`` process to talk to line by line; killed if it hangs for a minute."""
    env = {k: v for k, v in os.environ.items() if k.upper() != "KNOWLEDGE_DIR"}
    with subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**env, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)},
    ) as process:
        watchdog = threading.Timer(60, process.kill)
        watchdog.start()
        try:
            yield process
        finally:
            watchdog.cancel()
            process.kill()


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """In-process runs read no .env and no settings from the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("KNOWLEDGE_DIR", "MINIMUM_CONFIDENCE", "MAX_QUESTION_CHARS", "LOG_QUESTIONS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def kb_dir(in_tmp: Path) -> Path:
    folder = in_tmp / "kb"
    folder.mkdir()
    (folder / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    (folder / "intents.yaml").write_text(INTENTS, encoding="utf-8")
    return folder


@pytest.fixture
def question_file(in_tmp: Path) -> Path:
    return write_jsonl(in_tmp / "questions.jsonl", QUESTIONS)


# ask


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
        assert list(answer) == ANSWER_KEYS
    tracked, hello, nonsense = answers
    assert tracked["answered"] is True
    assert isinstance(tracked["confidence"], float)
    citation = tracked["citations"][0]  # type: ignore[index]
    assert citation["text"].startswith("Kourou station")
    assert citation["document"] == "esa-china-moon-cooperation"
    assert hello["citations"] == [] and hello["reply"]
    assert nonsense["answered"] is False and nonsense["citations"] == []


def test_ask_json_keeps_its_contract_and_adds_nothing(
    kb_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = ["How tall is the tower?", "Who built the Brightwater lighthouse?", "hello", "qwertyuiop"]
    assert main(["ask", "--json", "--knowledge", str(kb_dir), *questions]) == 0
    answers = json_lines(capsys.readouterr().out)
    assert [a["question"] for a in answers] == questions
    for answer in answers:
        assert list(answer) == ANSWER_KEYS
        assert isinstance(answer["confidence"], float) and 0.0 <= answer["confidence"] <= 1.0
        assert isinstance(answer["knowledge_version"], str) and answer["knowledge_version"]
    tall, built, hello, nonsense = answers
    body = parse_document(LIGHTHOUSE, "lighthouse.md").body
    for answer in (tall, built):
        assert answer["answered"] is True and answer["reply"] is None
        for citation in answer["citations"]:  # type: ignore[attr-defined]
            assert list(citation) == CITATION_KEYS
            assert citation["text"] == body[citation["start"] : citation["end"]]
            assert citation["document"] == "lighthouse"
            assert citation["title"] == "The Lighthouse of Brightwater"
            assert citation["url"] == "https://example.org/brightwater-lighthouse"
            assert citation["published"] == "2024-05-01"
    assert "34 metres tall" in tall["citations"][0]["text"]  # type: ignore[index]
    assert tall["reason"] == "retrieval" and tall["intent"] is None
    assert (built["reason"], built["intent"]) == ("intent", "builder")
    assert (hello["reason"], hello["reply"]) == ("chitchat", "Hello! Ask me about the lighthouse.")
    assert nonsense["answered"] is False and nonsense["citations"] == []
    assert nonsense["reason"] == "no_match"
    assert nonsense["suggestions"] == ["Who built the Brightwater lighthouse?"]


def test_ask_json_explain_adds_the_trace(kb_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = ["How tall is the tower?", "hello", "qwertyuiop", "How much did the lighthouse cost?"]
    assert main(["ask", "--json", "--explain", "--knowledge", str(kb_dir), *questions]) == 0
    answers = json_lines(capsys.readouterr().out)
    for answer in answers:
        assert list(answer) == [*ANSWER_KEYS, "trace"]
        assert set(answer["trace"]) == TRACE_KEYS  # type: ignore[arg-type]
    traces = [a["trace"] for a in answers]
    assert [t["stage"] for t in traces] == ["selection", "analysis", "retrieval", "answerability"]  # type: ignore[index]
    tall, _, _, cost = traces
    for trace in (tall, cost):
        assert trace["features"] and trace["contributions"]  # type: ignore[index]
        # The largest contributions only, each of a feature shown, largest first.
        shown = trace["contributions"]  # type: ignore[index]
        assert set(shown) <= set(trace["features"]) and 0 < len(shown) <= 12  # type: ignore[arg-type]
        sizes = [abs(v) for v in shown.values()]  # type: ignore[attr-defined]
        assert sizes == sorted(sizes, reverse=True)
    assert tall["candidates"][0]["text"] == answers[0]["citations"][0]["text"]  # type: ignore[index]
    assert "under the minimum" in cost["detail"]  # type: ignore[index]


def test_ask_json_reads_questions_from_stdin_one_per_line() -> None:
    stdin = "Who tracked Chang’e-6?\n\n   \nWhen did Chang'e-6 launch?\r\nthanks\n"
    result = run("ask", "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    answers = json_lines(result.stdout)
    # One output line per input line: a blank line gets an error object in its place.
    assert [a["question"] for a in answers] == [
        "Who tracked Chang’e-6?",
        "",
        "   ",
        "When did Chang'e-6 launch?",
        "thanks",
    ]
    assert [a["reason"] for a in answers][1:3] == ["invalid_question", "invalid_question"]
    assert [list(a) for a in answers] == [ANSWER_KEYS, ERROR_KEYS, ERROR_KEYS, ANSWER_KEYS, ANSWER_KEYS]
    assert "launched May 3" in answers[3]["citations"][0]["text"]  # type: ignore[index]


def test_ask_in_text_skips_blank_lines_on_stdin() -> None:
    result = run("ask", stdin="hello\n\n  \nthanks\n")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Hello!") and result.stdout.count("\n\n") == 1


def test_ask_json_keeps_going_past_a_bad_line_on_stdin() -> None:
    result = run("ask", "--json", stdin="Who tracked Chang'e-6?\n" + "x" * 501 + "\nhello\n")
    assert result.returncode == 0
    answers = json_lines(result.stdout)
    assert len(answers) == 3
    # The README's keys, each with a value that says nothing was answered, then why.
    assert list(answers[1]) == ERROR_KEYS
    assert answers[1]["answered"] is False and answers[1]["citations"] == []
    assert answers[1]["reason"] == "invalid_question"
    assert answers[1]["knowledge_version"] == answers[0]["knowledge_version"]
    assert "501 characters" in str(answers[1]["error"])
    assert answers[2]["reply"]


def test_ask_json_explain_gives_a_bad_line_an_empty_trace() -> None:
    result = run("ask", "--json", "--explain", stdin="\nhello\n")
    blank, hello = json_lines(result.stdout)
    assert list(blank) == [*ANSWER_KEYS, "trace", "error"] and blank["trace"] is None
    assert list(hello) == [*ANSWER_KEYS, "trace"]


UTF8_STRICT = {"PATH": os.environ.get("PATH", ""), "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
UTF8_LOCALE = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"}  # stdin: surrogateescape


@pytest.mark.parametrize("env", [UTF8_STRICT, UTF8_LOCALE], ids=["PYTHONIOENCODING=utf-8", "C.UTF-8"])
def test_ask_json_replaces_bytes_that_are_not_utf8_and_answers_every_line(env: dict[str, str]) -> None:
    result = run_bytes("ask", "--json", stdin=b"caf\xe9 ILRS\nWho is Bergquist?\n\nhello\n", env=env)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    answers = json_lines(result.stdout.decode("utf-8"))  # strict: the output is valid UTF-8
    assert [a["question"] for a in answers] == ["caf\ufffd ILRS", "Who is Bergquist?", "", "hello"]
    assert answers[1]["answered"] is True and answers[3]["reply"]


def test_ask_json_with_an_argument_that_is_not_utf8_prints_valid_utf8() -> None:
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"bot", b"ask", b"--json", b"caf\xe9 ILRS"],
        cwd=REPO,
        capture_output=True,
        env={**UTF8_LOCALE, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout.decode("utf-8"))[0]["question"] == "caf\ufffd ILRS"


def test_ask_json_answers_each_stdin_line_as_it_arrives() -> None:
    expected = json_lines(run("ask", "--json", "hello", "Who tracked Chang'e-6?").stdout)
    with started("ask", "--json") as process:
        assert process.stdin is not None and process.stdout is not None
        for question, answer in zip(("hello", "Who tracked Chang'e-6?"), expected, strict=True):
            process.stdin.write(question + "\n")
            process.stdin.flush()
            # The answer comes while stdin is still open: nobody has to close it first.
            assert json.loads(process.stdout.readline() or "null") == answer
        process.stdin.close()
        assert process.wait() == 0


def test_ask_stops_quietly_when_the_reader_goes_away() -> None:
    with started("ask", "--json") as process:
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        process.stdin.write("hello\n" * 2000)
        process.stdin.close()
        assert json.loads(process.stdout.readline())["reply"]
        process.stdout.close()  # as `| head -1` does
        assert process.wait() == 0
        assert process.stderr.read() == ""


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
    assert "500 characters or fewer" in result.stderr
    assert "under 501" not in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_json_creates_no_files(tmp_path: Path) -> None:
    result = run("ask", "--json", "--knowledge", str(KNOWLEDGE), "Who tracked Chang'e-6?", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json_lines(result.stdout)[0]["answered"] is True
    assert list(tmp_path.iterdir()) == []


def test_ask_without_a_knowledge_folder_says_where_it_looked_and_how_to_choose(tmp_path: Path) -> None:
    result = run("ask", "hello", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot load the knowledge in knowledge" in result.stderr
    assert f"does not exist (looked for {tmp_path / 'knowledge'})" in result.stderr
    assert f"in the current folder ({tmp_path})" in result.stderr
    assert "set KNOWLEDGE_DIR" in result.stderr and "--knowledge DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_given_as_the_knowledge_folder_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("---\ntitle: N\n---\n\nText.\n", encoding="utf-8")
    result = run("check", "--knowledge", str(tmp_path / "notes.md"))
    assert result.returncode == 1
    assert "notes.md: is not a folder" in result.stdout


# check


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


def test_check_names_links_and_folders_it_cannot_follow(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("---\ntitle: Notes\n---\n\nKourou tracked it.\n", encoding="utf-8")
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "back").symlink_to("..")  # a folder inside itself
    (tmp_path / "gone.md").symlink_to("nowhere.md")
    (tmp_path / "itself.md").symlink_to("itself.md")
    result = run("check", "--knowledge", str(tmp_path))
    assert result.returncode == 1, result.stdout
    assert "OK" not in result.stdout
    assert "the knowledge base has 3 problems" in result.stdout
    assert (
        f"{tmp_path / 'more' / 'back'}: leads back to {tmp_path}, a folder it is in: a loop" in result.stdout
    )
    assert f"{tmp_path / 'gone.md'}: is a symbolic link to nowhere.md, which does not exist" in result.stdout
    assert f"{tmp_path / 'itself.md'}: is a symbolic link that loops" in result.stdout


def test_check_follows_a_link_to_a_folder_of_documents(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "notes.md").write_text("---\ntitle: Notes\n---\n\nKourou.\n", encoding="utf-8")
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "linked").symlink_to(tmp_path / "shared")
    result = run("check", "--knowledge", str(tmp_path / "kb"))
    assert result.returncode == 0, result.stdout
    assert "notes: Notes" in result.stdout


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root reads a folder whatever its permissions, so chmod 000 cannot make one unreadable",
)
def test_check_names_a_folder_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("---\ntitle: Notes\n---\n\nKourou tracked it.\n", encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden.md").write_text("---\ntitle: Hidden\n---\n\nText.\n", encoding="utf-8")
    locked.chmod(0)
    try:
        result = run("check", "--knowledge", str(tmp_path))
    finally:
        locked.chmod(0o755)
    assert result.returncode == 1
    assert f"{locked}: cannot be read: Permission denied" in result.stdout


# eval

HEADLINE = re.compile(r"^  (precision|coverage|declined) +([0-9.]+) %", re.MULTILINE)
CURVE_ROW = re.compile(r"^ +([01]\.\d\d) +([0-9.]+)% +([0-9.]+)% +(\d+)(  <- now)?$")
CALIBRATION_ROW = re.compile(r"^ +([01]\.\d)-([01]\.\d) +(\d+) +([0-9.]+) +([0-9.]+)$")


def sections(stdout: str) -> dict[str, list[str]]:
    """The lines of each report in ``eval`` output, by the report's name."""
    found: dict[str, list[str]] = {}
    name = ""
    for line in stdout.splitlines():
        if line.startswith("== "):
            name = line[3:].split(":")[0]
            found[name] = []
        found[name].append(line)
    return found


def headline(lines: list[str]) -> dict[str, float]:
    return {kind: float(value) for kind, value in HEADLINE.findall("\n".join(lines))}


def test_eval_of_a_question_file_prints_the_figures_the_table_and_the_calibration(
    kb_dir: Path, question_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", "-v", str(question_file), "--knowledge", str(kb_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["== questions: 3 answerable, 2 unanswerable", "at MINIMUM_CONFIDENCE 0.50:"]
    # Two of the three answers hold their gold; the keeper question cites Tom Rowe, not Margaret Ellis.
    assert headline(lines) == {"precision": 66.7, "coverage": 66.7, "declined": 100.0}

    assert "precision and coverage by threshold:" in lines
    rows = [m.groups() for line in lines if (m := CURVE_ROW.match(line))]
    assert [float(t) for t, *_ in rows] == [round(0.05 * i, 2) for i in range(20)]
    given = [int(n) for *_, n, _ in rows]
    assert given == sorted(given, reverse=True), "fewer answers as the threshold rises"
    now = [row for row in rows if row[4]]
    assert len(now) == 1 and now[0][0] == "0.50"
    assert (float(now[0][1]), float(now[0][2]), int(now[0][3])) == (66.7, 66.7, 3)

    calibration_at = next(i for i, line in enumerate(lines) if line.startswith("calibration (expected"))
    assert re.fullmatch(r"calibration \(expected calibration error 0\.\d{3}\):", lines[calibration_at])
    bins = [m.groups() for line in lines[calibration_at:] if (m := CALIBRATION_ROW.match(line))]
    assert bins
    assert sum(int(count) for _, _, count, _, _ in bins) == given[0], "every would-be answer is in a bin"
    for low, high, _, mean, right in bins:
        assert float(low) <= float(mean) <= float(high)
        assert 0.0 <= float(right) <= 1.0

    misses = [line for line in lines if line.startswith("  miss: ")]
    assert len(misses) == 1
    assert misses[0].startswith("  miss: Who was the last keeper?  ->  cited (")
    assert "Tom Rowe" in misses[0]


def test_eval_of_a_folder_with_questions_and_knowledge(
    kb_dir: Path, question_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(question_file), "--knowledge", str(kb_dir)]) == 0
    as_file = capsys.readouterr().out
    folder = question_file.parent / "lighthouse-set"
    folder.mkdir()
    question_file.rename(folder / "questions.jsonl")
    kb_dir.rename(folder / "knowledge")
    assert main(["eval", str(folder)]) == 0
    as_folder = capsys.readouterr().out
    assert as_folder.splitlines()[0] == "== lighthouse-set: 3 answerable, 2 unanswerable"
    assert as_folder.splitlines()[1:] == as_file.splitlines()[1:]


def squad_rows(document: str, rows: list[tuple[str, str | None]]) -> list[dict[str, object]]:
    """SQuAD-style rows: (question, answer text or None) asked of the paragraph holding the answer."""
    paragraphs = [p.text for p in parse_document(document, "doc.md").paragraphs]
    found: list[dict[str, object]] = []
    for question, answer in rows:
        if answer is None:
            found.append({"question": question, "answerable": False, "context": paragraphs[0], "answers": []})
            continue
        context = next(p for p in paragraphs if answer in p)
        spans = [{"text": answer, "answer_start": context.index(answer)}]
        found.append({"question": question, "answerable": True, "context": context, "answers": spans})
    return found


@pytest.fixture
def articles(in_tmp: Path) -> Path:
    """A folder of article folders, each holding its document and SQuAD-style questions."""
    root = in_tmp / "articles"
    for name, document, rows in [
        (
            "ferry",
            FERRY,
            [
                ("How long is the crossing?", "forty minutes"),
                ("Do bicycles cost extra on the ferry?", "free of charge"),
                ("Who built the lighthouse?", None),  # another article's question
            ],
        ),
        (
            "lighthouse",
            LIGHTHOUSE,
            [
                ("How tall is the tower?", "34 metres"),
                ("When was the lighthouse automated?", "1991"),
                ("Who was the last keeper?", "Tom Rowe"),
                ("How long is the ferry crossing?", None),  # another article's question
            ],
        ),
    ]:
        (root / name).mkdir(parents=True)
        (root / name / f"{name}.md").write_text(document, encoding="utf-8")
        write_jsonl(root / name / "questions.jsonl", squad_rows(document, rows))
    return root


def test_eval_of_a_folder_of_articles_reports_the_total(
    articles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(articles)]) == 0
    reports = sections(capsys.readouterr().out)
    assert list(reports) == ["articles (all 2 sets)"]
    total = reports["articles (all 2 sets)"]
    assert total[0] == "== articles (all 2 sets): 5 answerable, 2 unanswerable"
    # Each article is its own knowledge: the other article's question finds nothing to cite.
    assert headline(total) == {"precision": 100.0, "coverage": 100.0, "declined": 100.0}


def test_eval_each_reports_every_article_too(articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--each", str(articles)]) == 0
    reports = sections(capsys.readouterr().out)
    assert list(reports) == ["articles (all 2 sets)", "ferry", "lighthouse"]
    assert reports["ferry"][0] == "== ferry: 2 answerable, 1 unanswerable"
    assert reports["lighthouse"][0] == "== lighthouse: 3 answerable, 1 unanswerable"


def test_eval_json_prints_the_headline_figures(
    kb_dir: Path, question_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(question_file), "--knowledge", str(kb_dir)]) == 0
    shown = headline(capsys.readouterr().out.splitlines())
    assert main(["eval", "--json", str(question_file), "--knowledge", str(kb_dir)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["questions"]
    report = figures["questions"]
    assert {"precision", "coverage", "declined", "calibration_error"} <= set(report)
    assert (report["answerable"], report["unanswerable"]) == (3, 2)
    for kind in ("precision", "coverage", "declined"):
        assert round(100 * report[kind], 1) == shown[kind]
    assert 0.0 <= report["calibration_error"] <= 1.0


def test_eval_json_of_a_folder_of_articles(articles: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--json", "--each", str(articles)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert list(figures) == ["articles (all 2 sets)", "ferry", "lighthouse"]
    assert figures["ferry"]["answerable"] + figures["lighthouse"]["answerable"] == 5


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{oops", "line 2: not valid JSON"),
        ('{"question": "no flag"}', "line 2: bad or missing field(s): answerable"),
        pytest.param(
            '{"question": "q", "answerable": true}',
            "line 2: bad or missing field(s): an answerable question needs 'gold' substrings",
        ),
    ],
)
def test_eval_rejects_a_malformed_question_file_naming_the_line(
    kb_dir: Path, in_tmp: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    questions = in_tmp / "bad.jsonl"
    questions.write_text(json.dumps(QUESTIONS[0]) + "\n" + line + "\n", encoding="utf-8")
    assert main(["eval", str(questions), "--knowledge", str(kb_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{questions}: {expected}" in captured.err
    assert "line 1" not in captured.err


def test_eval_of_a_missing_file(in_tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = in_tmp / "missing.jsonl"
    assert main(["eval", str(missing)]) == 1
    assert f"{missing}: is neither a question file nor a folder" in capsys.readouterr().err


def test_eval_plot_writes_a_png(
    kb_dir: Path, question_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    out = question_file.parent / "out.png"
    assert main(["eval", str(question_file), "--knowledge", str(kb_dir), "--plot", str(out)]) == 0
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    assert f"wrote {out}" in capsys.readouterr().err


# `python -c WITHOUT_MODULE NAME ARGS...` runs `bot.cli.main(ARGS)` in a process where the top-level
# package NAME cannot be imported, whether it is installed or not.
WITHOUT_MODULE = """
import importlib.abc
import sys

BLOCKED = sys.argv[1]

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocked())
from bot.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_MODULE, module, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_eval_plot_without_matplotlib_says_what_to_install(kb_dir: Path, question_file: Path) -> None:
    out = question_file.parent / "out.png"
    result = run_without(
        "matplotlib",
        "eval",
        str(question_file),
        "--knowledge",
        str(kb_dir),
        "--plot",
        str(out),
        cwd=question_file.parent,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("citebot: --plot needs matplotlib")
    assert "pip install" in result.stderr
    assert "precision" in result.stdout  # the figures are still printed
    assert not out.exists()


def test_the_extra_the_plot_message_names_installs_matplotlib() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert any(dependency.startswith("matplotlib") for dependency in extras.get("plot", []))


# fit


def test_fit_without_the_development_data_says_what_is_missing(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = in_tmp / "eval"
    empty.mkdir()
    assert main(["fit", "--eval-dir", str(empty)]) == 1
    captured = capsys.readouterr()
    assert f"{empty} does not hold the development data" in captured.err
    assert "squad-dev/" in captured.err and "--eval-dir" in captured.err
    assert list(empty.iterdir()) == []


def test_fit_without_scipy_still_says_what_is_missing(in_tmp: Path) -> None:
    empty = in_tmp / "eval"
    empty.mkdir()
    result = run_without("scipy", "fit", "--eval-dir", str(empty), cwd=in_tmp)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "development data" in result.stderr


# The parser and the text rendering.


def test_an_unknown_command_is_a_usage_error() -> None:
    result = run("fly")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize("ending", ["quit", "exit", "  Quit  ", "EXIT"])
def test_chat_ends_on_quit_and_exit(ending: str) -> None:
    result = run("chat", stdin=f"hello\n{ending}\nWho tracked Chang'e-6?\n")
    assert result.returncode == 0, result.stderr
    assert "Hello!" in result.stdout
    assert "I don't know" not in result.stdout  # the ending was not asked
    assert "Kourou" not in result.stdout  # nor anything after it
    assert "quit, exit or Ctrl-D ends the chat" in result.stdout


def test_a_sentence_that_is_a_quotation_keeps_its_own_quote_marks_only() -> None:
    result = run("ask", "What did ESA say about the discovery?")
    assert result.returncode == 0, result.stderr
    assert "> “The discovery of a new component of plasma" in result.stdout
    assert "““" not in result.stdout and "””" not in result.stdout


def test_the_license_is_an_spdx_expression() -> None:
    # The table form ({text = ...}) is deprecated: setuptools warns about it at every install.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"


def test_every_command_has_help() -> None:
    help_text = build_parser().format_help()
    for command in ("ask", "chat", "check", "eval", "fit"):
        assert command in help_text


def test_render_text_of_a_decline_lists_suggestions() -> None:
    answer = Answer("q", False, 0.1, Reason.LOW_CONFIDENCE, suggestions=("Who tracked Chang'e-6?",))
    assert render_text(answer) == (
        "I don't know that from my sources.\n"
        "Questions I can answer that are close to yours:\n"
        "  - Who tracked Chang'e-6?"
    )


def test_render_text_adds_quote_marks_only_around_a_sentence_without_its_own() -> None:
    citations = tuple(
        Citation("d", "Doc", None, None, 2, text, 0, 1)
        for text in ("One.", "“Two,” she said.", "He said “three.”", '"Four."')
    )
    assert render_text(Answer("q", True, 0.9, Reason.RETRIEVAL, citations)).splitlines() == [
        "> “One.”",
        "> “Two,” she said.",
        "> He said “three.”",
        '> "Four."',
        "— Doc, paragraph 2",
    ]


def test_render_text_names_each_source_once() -> None:
    citations = tuple(Citation("d", "Doc", None, None, 2, text, 0, 1) for text in ("One.", "Two."))
    assert (
        render_text(Answer("q", True, 0.9, Reason.RETRIEVAL, citations))
        == "> “One.”\n> “Two.”\n— Doc, paragraph 2"
    )
