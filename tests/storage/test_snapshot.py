"""Index snapshots on real files: a start serves the saved index, and a bad one is never trusted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.knowledge import load_knowledge_dir
from bot.runtime import Citebot
from bot.storage.snapshot import open_snapshot, snapshot_folder
from tests.storage.knowledge_fixtures import COFFEE, settings_for, write_knowledge

QUESTION = "Where does green tea come from?"
GREEN_TEA = "Green tea comes from the leaves of Camellia sinensis."
NOTE = "Oolong tea is partly oxidised. It sits between green and black tea in flavour."


def _garble_stored_text(database: Path, *more: str) -> None:
    """Change the stored coffee text and drop its layouts: a start that parsed it would quote "boiled"."""
    raw = sqlite3.connect(database)
    for statement in (
        *more,
        "UPDATE documents SET text = replace(text, 'roasted', 'boiled'), structure = NULL",
    ):
        raw.execute(statement)
    raw.commit()
    raw.close()


def _keys(database: Path) -> list[str]:
    return sorted(p.name for p in snapshot_folder(database).iterdir())


async def test_a_start_serves_the_saved_index_without_reading_the_documents(tmp_path: Path) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    parsed = {d.id: d for d in load_knowledge_dir(knowledge).documents}
    settings = settings_for(tmp_path)
    first = await Citebot.open(settings)
    version = first.knowledge_version
    expected = (await first.ask("What are coffee beans?", log=False)).answer
    await first.close()
    assert _keys(settings.database_path) == [first.service.knowledge.documents_key]
    _garble_stored_text(settings.database_path)
    app = await Citebot.open(settings)
    try:
        assert app.knowledge_version == version
        answer = (await app.ask("What are coffee beans?", log=False)).answer
        assert answer.citations == expected.citations
        assert "roasted seeds" in answer.citations[0].text
        assert (await app.ask(QUESTION, log=False)).answer.citations[0].text == GREEN_TEA
        for document in app.service.knowledge.documents:  # rebuilt from the snapshot, as parsed
            assert document == parsed[document.id]
        assert [d.id for d in await app.documents()] == ["coffee", "tea"]
        assert [(s.id, s.paragraphs, s.sentences) for s in app.service.knowledge.summaries] == [
            (d.id, len(d.paragraphs), len(d.sentences)) for d in parsed.values()
        ]
    finally:
        await app.close()
    raw = sqlite3.connect(settings.database_path)
    assert raw.execute("SELECT count(*) FROM documents WHERE structure IS NULL").fetchone() == (2,)
    raw.close()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda folder: _cut(folder / "arrays.bin"), id="arrays cut short"),
        pytest.param(lambda folder: _cut(folder / "strings.bin"), id="words cut short"),
        pytest.param(lambda folder: (folder / "texts.bin").unlink(), id="the headings deleted"),
        pytest.param(lambda folder: (folder / "meta.json").unlink(), id="its description deleted"),
        # The same size, other bytes: served, it would quote what the documents never said.
        pytest.param(
            lambda folder: _edit(folder / "arrays.bin", b"Green tea", b"Blue milk"), id="text edited"
        ),
        # Stale sizes and places in a description that still passes the file checks.
        pytest.param(lambda folder: _edit_meta(folder, _shift_an_array), id="an array placed past the end"),
        pytest.param(lambda folder: _edit_meta(folder, _shorten_a_list), id="a list's length wrong"),
    ],
)
async def test_a_snapshot_damaged_any_way_is_rebuilt_once_and_never_misquotes(
    tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path)
    await (await Citebot.open(settings)).close()
    (key,) = _keys(settings.database_path)
    damage(snapshot_folder(settings.database_path) / key)
    for _ in range(2):
        app = await Citebot.open(settings)
        try:
            assert (await app.ask(QUESTION, log=False)).answer.citations[0].text == GREEN_TEA
        finally:
            await app.close()
        # Saved whole again by the first start: the second opens it rather than indexing again.
        assert open_snapshot(snapshot_folder(settings.database_path), key) is not None


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _edit_meta(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    change(meta)
    (folder / "meta.json").write_text(json.dumps(meta))


def _shift_an_array(meta: dict[str, Any]) -> None:
    meta["arrays"]["sentence_bm25_weights"][2] += meta["files"]["arrays.bin"][0]


def _shorten_a_list(meta: dict[str, Any]) -> None:
    meta["lists"]["sections"] -= 1


def _edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new))


async def test_a_snapshot_of_other_knowledge_is_not_served(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path)
    first = await Citebot.open(settings)
    version = first.knowledge_version
    await first.close()
    # Another process changed the stored intents without recording the knowledge version they make.
    raw = sqlite3.connect(settings.database_path)
    raw.execute("UPDATE intent_files SET text = replace(text, 'Hello! Ask me about tea.', 'Hi, tea here.')")
    raw.commit()
    raw.close()
    app = await Citebot.open(settings)
    try:
        reply = (await app.ask("hello", log=False)).answer
        assert reply.reply == "Hi, tea here."
        assert app.knowledge_version != version
    finally:
        await app.close()


async def test_every_change_saves_the_new_version_and_a_new_process_serves_it(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path)
    app = await Citebot.open(settings)
    try:
        await app.add_document(NOTE, title="Oolong", added_by="admin")
        added = app.knowledge_version
        assert _keys(settings.database_path) == [app.service.knowledge.documents_key]
    finally:
        await app.close()
    again = await Citebot.open(settings)
    try:
        assert again.knowledge_version == added
        answer = (await again.ask("What sits between green and black tea?", log=False)).answer
        assert answer.citations[0].text == "It sits between green and black tea in flavour."
        assert answer.citations[0].title == "Oolong"
        await again.remove_document("oolong")
        assert _keys(settings.database_path) == [again.service.knowledge.documents_key]
    finally:
        await again.close()


async def test_teaching_keeps_the_saved_index_and_a_restart_serves_what_was_taught(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    settings = settings_for(tmp_path)
    app = await Citebot.open(settings)
    try:
        before = _keys(settings.database_path)
        saved = {
            p.name: p.stat().st_mtime_ns
            for p in (snapshot_folder(settings.database_path) / before[0]).iterdir()
        }
        await app.teach_reply(
            "Do you sell mugs?", "We don't sell anything here, see #shop.", taught_by="admin"
        )
        taught_version = app.knowledge_version
        assert _keys(settings.database_path) == before  # intents are not part of the index
    finally:
        await app.close()
    again = await Citebot.open(settings)
    try:
        assert again.knowledge_version == taught_version
        assert (
            await again.ask("Do you sell mugs?", log=False)
        ).answer.reply == "We don't sell anything here, see #shop."
    finally:
        await again.close()
    folder = snapshot_folder(settings.database_path) / before[0]
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == saved  # opened, never rewritten


async def test_a_new_model_keeps_the_saved_index_and_records_the_new_version(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    settings = settings_for(tmp_path)
    first = await Citebot.open(settings)
    version = first.knowledge_version
    await first.close()
    # As after an upgrade with another model file: the stored version no longer matches, and the
    # text is garbled so that indexing it again would show in the answers.
    _garble_stored_text(
        settings.database_path, "UPDATE meta SET value = 'fitted-before' WHERE key = 'knowledge_version'"
    )
    app = await Citebot.open(settings)
    try:
        assert app.knowledge_version == version
        answer = (await app.ask("What are coffee beans?", log=False)).answer
        assert "roasted seeds" in answer.citations[0].text
    finally:
        await app.close()
    raw = sqlite3.connect(settings.database_path)
    stored = raw.execute("SELECT value FROM meta WHERE key = 'knowledge_version'").fetchone()
    raw.close()
    assert stored == (version,)
