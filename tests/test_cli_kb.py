"""``python -m bot kb ...`` and ``ask --log`` as real subprocesses on a store in a temporary folder."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.storage.knowledge_fixtures import TEA, write_knowledge

ROOT = Path(__file__).parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_QUESTIONS", "USER_ID_KEY"}}
    env.update(
        KNOWLEDGE_DIR=str(tmp_path / "knowledge"),
        DATABASE_PATH=str(tmp_path / "data" / "citebot.sqlite3"),
        DATABASE_TIMEOUT_SECONDS="0.5",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def _run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env here: only the environment above counts
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _dump(tmp_path: Path) -> list[tuple[object, ...]]:
    raw = sqlite3.connect(tmp_path / "data" / "citebot.sqlite3")
    try:
        rows: list[tuple[object, ...]] = []
        for (table,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
            rows += [(table, *r) for r in raw.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
        return rows
    finally:
        raw.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    write_knowledge(tmp_path / "knowledge")
    (tmp_path / "plain.txt").write_text("Matcha is powdered green tea. It is whisked with hot water.\n")
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "no-title.md").write_text("Just a paragraph without a title.\n")
    (tmp_path / "same-id.md").write_text("---\ntitle: Tea\n---\nAnother tea text.\n")
    first = _run(tmp_path, "ask", "--log", "What is the capital of Peru?")
    assert first.returncode == 0, first.stderr
    return tmp_path


def test_kb_commands_work_on_a_store(store: Path) -> None:
    listed = _run(store, "kb", "list")
    assert listed.returncode == 0 and "tea  [file, 4 sentences]  Tea notes" in listed.stdout

    added = _run(store, "kb", "add", "plain.txt", "--title", "Matcha", "--url", "https://example.org/matcha")
    assert added.returncode == 0, added.stderr
    assert "added matcha: Matcha (2 sentences)" in added.stdout
    assert "matcha  [admin" in _run(store, "kb", "list").stdout
    answer = _run(store, "ask", "--log", "--json", "What is matcha?")  # --log: served from the store
    assert json.loads(answer.stdout)["citations"][0]["document"] == "matcha"

    (store / "knowledge" / "tea.md").write_text(TEA.replace("Its flavour", "Its taste"), encoding="utf-8")
    dry = _run(store, "kb", "reload", "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout and "~ tea (+1 / -1 sentences)" in dry.stdout
    applied = _run(store, "kb", "reload")
    assert applied.returncode == 0 and "reload (applied)" in applied.stdout
    assert "matcha" in _run(store, "kb", "list").stdout  # admin documents survive a reload

    unanswered = _run(store, "kb", "unanswered", "--limit", "5")
    assert unanswered.returncode == 0 and "What is the capital of Peru?" in unanswered.stdout
    stats = _run(store, "kb", "stats")
    assert stats.returncode == 0 and "2 questions, 50.0 % answered" in stats.stdout

    assert _run(store, "kb", "remove", "matcha").returncode == 0
    assert "matcha" not in _run(store, "kb", "list").stdout


MALFORMED = [
    ("kb",),
    ("kb", "frobnicate"),
    ("kb", "list", "extra"),
    ("kb", "add"),
    ("kb", "add", "missing.md"),
    ("kb", "add", "binary.md"),
    ("kb", "add", "plain.txt", "--title", ""),
    ("kb", "add", "plain.txt", "--url", "not a link", "--title", "T"),
    ("kb", "add", "same-id.md"),  # its id, "tea", is taken
    ("kb", "remove"),
    ("kb", "remove", "no-such-document"),
    ("kb", "remove", "tea"),  # a file document: delete the file instead
    ("kb", "reload", "--now"),
    ("kb", "unanswered", "--limit", "0"),
    ("kb", "unanswered", "--limit", "many"),
    ("kb", "unanswered", "--limit", "99999999999999999999"),
    ("kb", "stats", "--days", "-3"),
    ("kb", "stats", "--days", "800000"),
    ("kb", "stats", "--days", "2.5"),
    ("kb", "forget-user"),
    ("kb", "forget-user", "alice"),
    ("kb", "forget-user", "99999999999999999999999"),
]


@pytest.mark.parametrize("args", MALFORMED, ids=" ".join)
def test_malformed_kb_input_exits_1_with_a_message_and_changes_nothing(
    store: Path, args: tuple[str, ...]
) -> None:
    before = _dump(store)
    result = _run(store, *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert _dump(store) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("stats", "--days", "800000"), "argument --days: must be from 1 to 3650, not 800000"),
        (("unanswered", "--limit", "0"), "argument --limit: must be from 1 to 1000, not 0"),
        (("forget-user", "18446744073709551616"), "'18446744073709551616' is not a user id"),
    ],
)
def test_numbers_out_of_range_say_what_is_allowed(store: Path, args: tuple[str, ...], message: str) -> None:
    result = _run(store, "kb", *args)
    assert result.returncode == 1 and message in result.stderr


def test_the_largest_numbers_allowed_work(store: Path) -> None:
    assert "last 3650 days: 1 questions" in _run(store, "kb", "stats", "--days", "3650").stdout
    assert "capital of Peru" in _run(store, "kb", "unanswered", "--limit", "1000").stdout
    largest_id = str(2**64 - 1)  # Discord ids are unsigned 64-bit
    assert _run(store, "kb", "forget-user", largest_id).stdout.startswith(
        f"forgot discord user {largest_id}: 0"
    )


def test_kb_add_without_a_title_takes_the_file_name_and_says_so(store: Path) -> None:
    added = _run(store, "kb", "add", "no-title.md")
    assert added.returncode == 0, added.stderr
    assert "added no-title: no-title (1 sentences)" in added.stdout
    assert "the title is its file name" in added.stdout and "--title" in added.stdout
    assert "no-title  [admin" in _run(store, "kb", "list").stdout


def test_kb_add_without_a_title_takes_the_first_heading_and_says_so(store: Path) -> None:
    (store / "oolong.txt").write_text("Intro line.\n\n## Oolong tea\n\nOolong is partly oxidised.\n")
    added = _run(store, "kb", "add", "oolong.txt")
    assert added.returncode == 0, added.stderr
    assert "added oolong-tea: Oolong tea (2 sentences)" in added.stdout
    assert "the title is its first heading" in added.stdout


def test_kb_add_prefers_the_given_title_and_the_front_matter_title(store: Path) -> None:
    (store / "titled.md").write_text("---\ntitle: Rooibos\n---\n# Heading\n\nRooibos is not tea.\n")
    added = _run(store, "kb", "add", "titled.md")
    assert "added rooibos: Rooibos" in added.stdout and "the title is" not in added.stdout
    given = _run(store, "kb", "add", "no-title.md", "--title", "Puerh")
    assert "added puerh: Puerh" in given.stdout and "the title is" not in given.stdout


def test_reload_with_a_broken_file_names_it_and_changes_nothing(store: Path) -> None:
    before = _dump(store)
    (store / "knowledge" / "intents.yaml").write_text("intents: [unclosed\n", encoding="utf-8")
    for args in (("kb", "reload"), ("kb", "reload", "--dry-run")):
        result = _run(store, *args)
        assert result.returncode == 1 and "intents.yaml" in result.stderr and "invalid YAML" in result.stderr
    assert _dump(store) == before


def test_corrupt_and_locked_databases_give_a_message_not_a_traceback(store: Path) -> None:
    database = store / "data" / "citebot.sqlite3"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO meta VALUES ('x', 'y')")
    try:
        locked = _run(store, "kb", "list")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert locked.returncode == 1 and "locked by another process" in locked.stderr
    assert "Traceback" not in locked.stderr

    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    database.write_bytes(b"garbage" * 1000)
    corrupt = _run(store, "kb", "stats")
    assert corrupt.returncode == 1 and "corrupt or not a SQLite database" in corrupt.stderr
    assert "Traceback" not in corrupt.stderr


def test_forget_user_through_the_cli(store: Path) -> None:
    assert _run(store, "kb", "forget-user", "42").stdout.startswith(
        "forgot discord user 42: 0 questions and votes"
    )


def test_ask_json_creates_no_files(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = _run(tmp_path, "ask", "--json", "Where does green tea come from?")
    assert result.returncode == 0 and json.loads(result.stdout)["answered"] is True
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_log_questions_setting_logs_ask_and_chat(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    assert _run(tmp_path, "ask", "What is the capital of Peru?", LOG_QUESTIONS="true").returncode == 0
    chat = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--log"],
        input="What is the capital of Chile?\n\n",
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert chat.returncode == 0, chat.stderr
    unanswered = _run(tmp_path, "kb", "unanswered").stdout
    assert "capital of Peru" in unanswered and "capital of Chile" in unanswered


def test_ask_log_exits_1_and_says_so_when_the_log_cannot_be_written(store: Path) -> None:
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--log"],
        cwd=store,
        env=_env(store),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("Where does green tea come from?\n")
    chat.stdin.flush()
    first = chat.stdout.readline()
    while "Camellia" not in first:  # the answer is printed; the store is open
        first = chat.stdout.readline()
    holder = sqlite3.connect(store / "data" / "citebot.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process takes the write lock and keeps it
    try:
        out, err = chat.communicate("What is oolong?\n", timeout=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert chat.returncode == 1
    assert "answered but not logged" in err and "locked" in err
    assert "Traceback" not in err + out


def test_kb_add_refuses_a_file_that_is_not_markdown_or_text(store: Path) -> None:
    before = _dump(store)
    intents = store / "intents.yaml"
    intents.write_text("- id: greeting\n  examples: [hi]\n  reply: Hello!\n", encoding="utf-8")
    result = _run(store, "kb", "add", str(intents))
    assert result.returncode == 1
    assert "is not a .md or .txt file" in result.stderr
    assert _dump(store) == before


def test_kb_in_a_folder_without_knowledge_says_where_it_looked_and_creates_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in _env(tmp_path).items() if k not in {"KNOWLEDGE_DIR", "DATABASE_PATH"}}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "list"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "does not exist" in result.stderr and "KNOWLEDGE_DIR is not set" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no stray database


def test_documents_over_the_size_limit_are_refused_by_name_and_change_nothing(store: Path) -> None:
    big = store / "big.md"
    big.write_text("---\ntitle: Big\n---\n\n" + "Green tea is green. " * 200, encoding="utf-8")
    before = _dump(store)
    added = _run(store, "kb", "add", "big.md", MAX_DOCUMENT_BYTES="2000")
    assert added.returncode == 1
    assert (
        "big.md is 4,0" in added.stderr and "over the 2,000-byte limit (MAX_DOCUMENT_BYTES)" in added.stderr
    )
    (store / "knowledge" / "big.md").write_bytes(big.read_bytes())
    reloaded = _run(store, "kb", "reload", MAX_DOCUMENT_BYTES="2000")
    assert reloaded.returncode == 1 and "big.md" in reloaded.stderr and "2,000-byte limit" in reloaded.stderr
    assert _dump(store) == before  # neither changed the store
    checked = _run(store, "check", MAX_DOCUMENT_BYTES="2000")
    assert checked.returncode == 1 and "big.md" in checked.stdout and "2,000-byte limit" in checked.stdout
    assert _run(store, "check").returncode == 0  # under the default limit, the same file is fine
