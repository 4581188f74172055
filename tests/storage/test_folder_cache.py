"""A knowledge folder prepared once per content: the same answers, never stale, never trusted blindly."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.documents import DescribedDocuments
from bot.core.errors import KnowledgeError
from bot.core.knowledge import KnowledgeBase, load_knowledge_dir
from bot.core.service import QAService
from bot.storage.folder_cache import KEEP_FOLDERS, load_folder
from tests.storage.knowledge_fixtures import COFFEE, TEA, TEA_CHANGED, write_knowledge

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = (
    "Where does green tea come from?",  # an intent
    "hello",  # chit-chat
    "What are coffee beans?",
    "How is espresso brewed?",
    "Which black teas are famous?",
    "Who won the football cup?",
)
LIMIT = 1_000_000


def answers(knowledge: KnowledgeBase) -> list[dict[str, object]]:
    service = QAService(knowledge)
    return [service.ask(q).to_json(explain=True) for q in QUESTIONS]


def entries(cache: Path) -> list[Path]:
    kept = cache / "knowledge-folders"
    return sorted(p for p in kept.iterdir() if p.is_dir()) if kept.exists() else []


def test_a_second_read_serves_the_prepared_folder_with_the_same_answers(tmp_path: Path) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    cache = tmp_path / "cache"
    fresh = load_knowledge_dir(folder)
    first = load_folder(folder, LIMIT, cache)
    again = load_folder(folder, LIMIT, cache)
    assert len(entries(cache)) == 1
    # The second is opened from the saved snapshot: its documents are rebuilt only when used.
    assert not isinstance(first.documents, DescribedDocuments)
    assert isinstance(again.documents, DescribedDocuments)
    assert again.version == first.version == fresh.version
    assert answers(again) == answers(fresh)


def test_an_edited_file_is_read_again_and_answered_from(tmp_path: Path) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    cache = tmp_path / "cache"
    before = load_folder(folder, LIMIT, cache)
    write_knowledge(folder, tea=TEA_CHANGED, coffee=COFFEE)
    after = load_folder(folder, LIMIT, cache)
    assert after.version != before.version
    assert after.version == load_knowledge_dir(folder).version
    answer = QAService(after).ask("Which black teas are famous?")
    assert answer.citations[0].text == "Assam and Darjeeling are famous black teas."
    assert len(entries(cache)) == 2


def test_a_damaged_cache_is_read_past_and_prepared_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    cache = tmp_path / "cache"
    expected = answers(load_folder(folder, LIMIT, cache))
    (prepared,) = cache.glob("*/*/prepared.pickle")
    prepared.write_bytes(prepared.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        again = load_folder(folder, LIMIT, cache)
    assert "unreadable" in caplog.text
    assert answers(again) == expected
    # ...and the next read has a good one again.
    assert isinstance(load_folder(folder, LIMIT, cache).documents, DescribedDocuments)


def test_a_cache_that_cannot_be_written_costs_time_not_answers(tmp_path: Path) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    knowledge = load_folder(folder, LIMIT, blocked / "cache")
    assert answers(knowledge) == answers(load_knowledge_dir(folder))


def test_a_folder_with_a_problem_fails_as_it_does_uncached_and_keeps_nothing(tmp_path: Path) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    cache = tmp_path / "cache"
    with pytest.raises(KnowledgeError) as uncached:
        load_knowledge_dir(folder)
    with pytest.raises(KnowledgeError) as cached:
        load_folder(folder, LIMIT, cache)
    assert str(cached.value) == str(uncached.value)
    assert entries(cache) == []


def test_only_the_most_recently_used_contents_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "knowledge"
    cache = tmp_path / "cache"
    for n in range(KEEP_FOLDERS + 3):
        write_knowledge(folder, tea=TEA + f"\nNote {n}: tea keeps well in a dry tin.\n")
        load_folder(folder, LIMIT, cache)
    assert len(entries(cache)) == KEEP_FOLDERS
    # The newest is among them: reading the folder as it is now opens it.
    assert isinstance(load_folder(folder, LIMIT, cache).documents, DescribedDocuments)


def test_pruning_never_touches_what_else_is_in_the_cache_folder(tmp_path: Path) -> None:
    # CACHE_DIR may be a folder other programs keep things in too (~/.cache, say).
    folder = tmp_path / "knowledge"
    cache = tmp_path / "shared"
    theirs = [cache / f"app{n}" for n in range(KEEP_FOLDERS + 2)]
    for other in theirs:
        other.mkdir(parents=True)
        (other / "data.txt").write_text("keep me", encoding="utf-8")
    for n in range(KEEP_FOLDERS + 2):
        write_knowledge(folder, tea=TEA + f"\nNote {n}: tea keeps well in a dry tin.\n")
        load_folder(folder, LIMIT, cache)
    assert all((other / "data.txt").read_text(encoding="utf-8") == "keep me" for other in theirs)
    assert len(entries(cache)) == KEEP_FOLDERS


def test_an_empty_cache_dir_setting_means_the_default_and_a_tilde_means_home() -> None:
    assert Settings(cache_dir="").cache_dir is None  # type: ignore[arg-type]
    assert Settings(cache_dir="~/citebot-cache").cache_dir == Path.home() / "citebot-cache"  # type: ignore[arg-type]


def test_the_command_line_answers_the_same_from_the_cache(tmp_path: Path) -> None:
    folder = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    env = {**os.environ, "PYTHONPATH": str(REPO), "CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "bot", "ask", "--json", "--knowledge", str(folder), *QUESTIONS]
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=tmp_path)
    second = subprocess.run(command, capture_output=True, text=True, env=env, check=True, cwd=tmp_path)
    assert len(entries(tmp_path / "cache")) == 1
    assert second.stdout == first.stdout
    assert second.stderr == first.stderr == ""
