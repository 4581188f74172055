"""Citebot, the application object, on real SQLite files: knowledge in the store, the question log."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.core.errors import KnowledgeError, QuestionError
from bot.core.knowledge import load_knowledge_dir
from bot.runtime import Citebot, FileDocumentError, UserRef
from bot.runtime.question_log import QuestionLog
from bot.storage import QuestionRecord, UnknownAnswerError
from bot.storage.snapshot import snapshot_folder
from tests.storage.knowledge_fixtures import COFFEE, TEA_CHANGED, settings_for, write_knowledge

NOTE = "Oolong tea is partly oxidised. It sits between green and black tea in flavour."


@pytest.fixture
async def citebot(tmp_path: Path) -> Citebot:
    write_knowledge(tmp_path / "knowledge")
    app = await Citebot.open(settings_for(tmp_path))
    yield app  # type: ignore[misc]
    await app.close()


def _dump(path: Path) -> list[tuple[object, ...]]:
    raw = sqlite3.connect(path)
    try:
        rows = [("documents", *r) for r in raw.execute("SELECT * FROM documents ORDER BY id")]
        rows += [("intent_files", *r) for r in raw.execute("SELECT * FROM intent_files ORDER BY source")]
        rows += [("meta", *r) for r in raw.execute("SELECT * FROM meta ORDER BY key")]
        return rows
    finally:
        raw.close()


async def test_first_start_imports_the_folder_and_later_starts_serve_the_store(tmp_path: Path) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge")
    expected = load_knowledge_dir(knowledge).version
    app = await Citebot.open(settings_for(tmp_path))
    assert app.knowledge_version == expected
    answer = (await app.ask("Where does green tea come from?", log=False)).answer
    assert answer.citations[0].text == "Green tea comes from the leaves of Camellia sinensis."
    await app.close()

    for path in knowledge.iterdir():  # the files are gone: the store alone serves
        path.unlink()
    app = await Citebot.open(settings_for(tmp_path))
    try:
        assert app.knowledge_version == expected
        answer = (await app.ask("Where does green tea come from?", log=False)).answer
        assert answer.citations[0].text == "Green tea comes from the leaves of Camellia sinensis."
    finally:
        await app.close()


async def test_start_up_uses_the_stored_layout_and_falls_back_to_parsing(tmp_path: Path) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    parsed = {d.id: d for d in load_knowledge_dir(knowledge).documents}
    settings = settings_for(tmp_path)
    await (await Citebot.open(settings)).close()
    for garble in (False, True):
        # Without the index snapshot, the start rebuilds the index from the stored layouts.
        shutil.rmtree(snapshot_folder(settings.database_path))
        if garble:  # a layout that no longer fits must not be trusted
            raw = sqlite3.connect(settings.database_path)
            shifted = "replace(structure, '\"paragraphs\": [[1, 0', '\"paragraphs\": [[1, 3')"
            raw.execute(f"UPDATE documents SET structure = {shifted}")
            raw.execute("UPDATE documents SET structure = '{not json' WHERE id = 'coffee'")
            raw.commit()
            raw.close()
        app = await Citebot.open(settings)
        try:
            for document in app.service.knowledge.documents:
                assert document.paragraphs == parsed[document.id].paragraphs
                assert document.meta == parsed[document.id].meta
        finally:
            await app.close()
    raw = sqlite3.connect(settings.database_path)
    try:  # a layout that was missing is written again at start
        raw.execute("UPDATE documents SET structure = NULL")
        raw.commit()
        raw.close()
        shutil.rmtree(snapshot_folder(settings.database_path))
        await (await Citebot.open(settings)).close()
        raw = sqlite3.connect(settings.database_path)
        assert raw.execute("SELECT count(*) FROM documents WHERE structure IS NULL").fetchone() == (0,)
    finally:
        raw.close()


async def test_reload_reports_and_applies_the_difference(citebot: Citebot, tmp_path: Path) -> None:
    old_version = citebot.knowledge_version
    write_knowledge(tmp_path / "knowledge", tea=TEA_CHANGED, coffee=COFFEE)

    dry = await citebot.reload(dry_run=True)
    assert (dry.applied, dry.documents_added, dry.documents_removed, dry.documents_changed) == (
        False,
        ("coffee",),
        (),
        ("tea",),
    )
    assert (dry.changes[0].sentences_added, dry.changes[0].sentences_removed) == (2, 1)
    assert citebot.knowledge_version == old_version  # a dry run changes nothing
    assert not (await citebot.ask("What is espresso?", log=False)).answer.answered

    report = await citebot.reload()
    assert report.applied and report.version == citebot.knowledge_version != old_version
    answer = (await citebot.ask("How is espresso brewed?", log=False)).answer
    assert answer.citations[0].document == "coffee"
    # Asked again after the reload, the question declined before is answered from the new knowledge.
    assert (await citebot.ask("What is espresso?", log=False)).answer.answered

    write_knowledge(tmp_path / "knowledge", tea=TEA_CHANGED)  # coffee.md deleted
    assert (await citebot.reload()).documents_removed == ("coffee",)


async def test_invalid_file_keeps_old_knowledge_and_store_and_names_the_file(
    citebot: Citebot, tmp_path: Path
) -> None:
    before = _dump(citebot.settings.database_path)
    version = citebot.knowledge_version
    write_knowledge(tmp_path / "knowledge", coffee=COFFEE)
    (tmp_path / "knowledge" / "broken.md").write_text(
        "---\nurl: not-a-link\n---\nSome text.\n", encoding="utf-8"
    )
    for dry_run in (False, True):
        with pytest.raises(KnowledgeError) as caught:
            await citebot.reload(dry_run=dry_run)
        assert "broken.md" in str(caught.value) and "title" in str(caught.value)
    assert citebot.knowledge_version == version
    assert _dump(citebot.settings.database_path) == before
    assert (await citebot.ask("Where does green tea come from?", log=False)).answer.answered


async def test_dry_run_lists_intents_whose_quotes_no_longer_match(citebot: Citebot, tmp_path: Path) -> None:
    before = _dump(citebot.settings.database_path)
    tea = (tmp_path / "knowledge" / "tea.md").read_text(encoding="utf-8")
    write_knowledge(tmp_path / "knowledge", tea=tea.replace("Camellia sinensis", "the tea plant"))
    report = await citebot.reload(dry_run=True)
    assert not report.applied and report.version == ""
    assert len(report.intents_broken) == 1 and report.intents_broken[0].startswith("green-tea-source")
    with pytest.raises(KnowledgeError, match="green-tea-source"):
        await citebot.reload()
    assert _dump(citebot.settings.database_path) == before


async def test_admin_documents_survive_reloads_and_restarts(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path)
    app = await Citebot.open(settings)
    document = await app.add_document(NOTE, title="Oolong", added_by="admin#1")
    assert document.id == "oolong" and len(document.sentences) == 2
    await app.reload()
    await app.close()

    app = await Citebot.open(settings)
    try:
        listed = {d.id: d for d in await app.documents()}
        assert (listed["oolong"].source_kind, listed["oolong"].added_by) == ("admin", "admin#1")
        assert listed["tea"].source_kind == "file"
        answer = (await app.ask("Which tea is partly oxidised?", log=False)).answer
        assert answer.citations[0].document == "oolong"

        with pytest.raises(FileDocumentError, match=r"tea\.md"):
            await app.remove_document("tea")
        with pytest.raises(KnowledgeError, match="already exists"):
            await app.add_document(NOTE, title="Oolong", added_by="admin#2")
        assert await app.remove_document("nope") is False
        assert await app.remove_document("oolong") is True
        assert [d.id for d in await app.documents()] == ["tea"]
    finally:
        await app.close()


async def test_add_document_validates_before_changing_anything(citebot: Citebot) -> None:
    before = _dump(citebot.settings.database_path)
    with pytest.raises(KnowledgeError, match="title"):
        await citebot.add_document("Plain text without any title.", added_by="x")
    with pytest.raises(KnowledgeError, match="no paragraphs"):
        await citebot.add_document("---\ntitle: Empty\n---\n\n", added_by="x")
    assert _dump(citebot.settings.database_path) == before


async def test_a_folder_intent_quoting_an_admin_document_is_refused_at_reload(
    citebot: Citebot, tmp_path: Path
) -> None:
    # The folder would not load on its own (a first start from it, `check`): a reload refuses it
    # too, or the store would hold knowledge no fresh start can rebuild.
    await citebot.add_document(
        "Rooibos is not tea at all. It is a South African herb.", title="Rooibos", added_by="a"
    )
    version = citebot.knowledge_version
    intents = (tmp_path / "knowledge" / "intents.yaml").read_text(encoding="utf-8")
    (tmp_path / "knowledge" / "intents.yaml").write_text(
        intents
        + '  - id: rooibos\n    examples: ["Is rooibos tea?"]\n    quotes: ["Rooibos is not tea at all."]\n',
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError, match="intent 'rooibos': it quotes 'rooibos', added with kb add"):
        await citebot.reload()
    dry = await citebot.reload(dry_run=True)
    assert dry.intents_broken and dry.intents_broken[0].startswith("rooibos (")
    assert citebot.knowledge_version == version
    assert await citebot.remove_document("rooibos")


async def test_questions_are_logged_with_a_pseudonymous_user(citebot: Citebot) -> None:
    result = await citebot.ask(
        "What is the capital of Peru?", guild_id=10, channel_id=20, user=UserRef("discord", 123456789)
    )
    assert result.answer_id is not None and not result.answer.answered
    assert (await citebot.ask("Where does green tea come from?", log=False)).answer_id is None
    [logged] = await citebot.unanswered()
    assert (logged.id, logged.question, logged.guild_id, logged.channel_id) == (
        result.answer_id,
        "What is the capital of Peru?",
        10,
        20,
    )
    assert logged.knowledge_version == citebot.knowledge_version
    assert await citebot.unanswered(guild_id=11) == []
    raw = sqlite3.connect(citebot.settings.database_path)
    try:
        [(user_hash,)] = raw.execute("SELECT user_hash FROM questions").fetchall()
    finally:
        raw.close()
    assert "123456789" not in user_hash and len(user_hash) == 32
    with pytest.raises(QuestionError):
        await citebot.ask("   ")


async def test_a_write_locked_database_delays_no_answer_and_loses_no_question(
    citebot: Citebot, caplog: pytest.LogCaptureFixture
) -> None:
    holder = sqlite3.connect(citebot.settings.database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing and does not let go
    try:
        asked = [
            await citebot.ask("Where does green tea come from?", user=UserRef("discord", n), guild_id=3)
            for n in range(20)
        ]
        # All 20 answered while the lock is still held: none waited for the database.
        assert all(r.answer.answered for r in asked)
        assert len({r.answer_id for r in asked}) == 20 and None not in {r.answer_id for r in asked}
        await asyncio.sleep(1.5)  # the writer is retrying meanwhile
        health = await citebot.health()
        assert health.question_log.pending == 20 and "locked" in (health.question_log.last_error or "")
        assert health.lines()[0] == "degraded"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await citebot.questions.flush(10)
    assert (await citebot.stats(guild_id=3)).questions == 20
    ids = sorted(r.answer_id for r in asked if r.answer_id is not None)
    assert [q.id for q in await citebot.unanswered(limit=100)] == []  # all were answered ...
    assert ids == [r.answer_id for r in asked]  # ... and their ids rise in the order asked
    assert "cannot write the question log for now" in caplog.text
    assert (await citebot.health()).lines() == ["ok"]


async def test_a_full_log_queue_drops_the_log_entry_not_the_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_knowledge(tmp_path / "knowledge")
    app = await Citebot.open(settings_for(tmp_path))
    app.questions = QuestionLog(app.store, b"key", capacity=3)
    holder = sqlite3.connect(app.settings.database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        results = [await app.ask("Where does green tea come from?") for _ in range(6)]
        await asyncio.sleep(0)
        assert all(r.answer.answered for r in results)
        # One batch in the writer's hands, three waiting, the rest dropped.
        assert [r.answer_id is None for r in results].count(True) == 2
        assert "the question log is 3 questions behind" in caplog.text
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    status = await app.close()
    assert (status.written, status.dropped, status.pending) == (4, 2, 0)


async def test_closing_waits_for_the_log_then_gives_up_and_says_so(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    app = await Citebot.open(settings_for(tmp_path))
    holder = sqlite3.connect(app.settings.database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for _ in range(3):
            await app.ask("Where does green tea come from?")
        status = await app.close(flush_seconds=1.0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (status.written, status.dropped, status.unlogged) == (0, 3, 3)


async def test_user_key_setting_changes_the_pseudonym(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    app = await Citebot.open(settings_for(tmp_path))
    generated = app.user_hash(UserRef("discord", 1))
    await app.close()
    app = await Citebot.open(settings_for(tmp_path))
    assert app.user_hash(UserRef("discord", 1)) == generated  # the generated key was kept in the database
    await app.close()
    app = await Citebot.open(settings_for(tmp_path, user_id_key="s3cret"))
    try:
        assert app.user_hash(UserRef("discord", 1)) != generated
    finally:
        await app.close()


async def test_second_vote_replaces_the_first(citebot: Citebot) -> None:
    answer_id = (await citebot.ask("Where does green tea come from?", user=UserRef("discord", 1))).answer_id
    assert answer_id is not None
    await citebot.record_feedback(answer_id, UserRef("discord", 2), True)
    await citebot.record_feedback(answer_id, UserRef("discord", 2), False)
    await citebot.record_feedback(answer_id, UserRef("discord", 3), False)
    stats = await citebot.stats()
    assert (stats.helpful, stats.not_helpful) == (0, 2)
    with pytest.raises(UnknownAnswerError):
        await citebot.record_feedback(answer_id + 100, UserRef("discord", 2), True)


async def test_forget_user_deletes_their_questions_and_votes(citebot: Citebot) -> None:
    mine = (await citebot.ask("What is the capital of Peru?", user=UserRef("discord", 1))).answer_id
    theirs = (await citebot.ask("What is the capital of Chile?", user=UserRef("discord", 2))).answer_id
    assert mine is not None and theirs is not None
    await citebot.record_feedback(theirs, UserRef("discord", 1), True)
    await citebot.record_feedback(mine, UserRef("discord", 2), False)
    assert (
        await citebot.forget_user(UserRef("discord", 1)) == 2
    )  # one question (its vote by 2 cascades) and one vote
    assert [q.question for q in await citebot.unanswered()] == ["What is the capital of Chile?"]
    stats = await citebot.stats()
    assert (stats.questions, stats.helpful, stats.not_helpful) == (1, 0, 0)
    assert await citebot.forget_user(UserRef("discord", 1)) == 0


async def test_the_same_id_on_two_fronts_is_two_people(citebot: Citebot) -> None:
    discord_user, telegram_user = UserRef("discord", 42), UserRef("telegram", 42)
    assert citebot.user_hash(discord_user) != citebot.user_hash(telegram_user)
    on_discord = (await citebot.ask("What is the capital of Peru?", user=discord_user)).answer_id
    on_telegram = (await citebot.ask("What is the capital of Chile?", user=telegram_user)).answer_id
    assert on_discord is not None and on_telegram is not None
    await citebot.record_feedback(on_discord, telegram_user, True)
    await citebot.record_feedback(on_discord, discord_user, False)  # a second voter, not a changed vote
    assert ((await citebot.stats()).helpful, (await citebot.stats()).not_helpful) == (1, 1)
    assert await citebot.forget_user(discord_user) == 2  # their question (and the vote on it) and their vote
    assert [q.question for q in await citebot.unanswered()] == ["What is the capital of Chile?"]
    raw = sqlite3.connect(citebot.settings.database_path)
    try:
        assert raw.execute("SELECT front FROM questions").fetchall() == [("telegram",)]
    finally:
        raw.close()


async def test_retention_prunes_old_questions_at_start(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path, question_retention_days=30)
    app = await Citebot.open(settings)
    now = dt.datetime.now(dt.UTC)
    for days in (45, 31, 5):
        await app.store.log_question(
            QuestionRecord(
                now - dt.timedelta(days=days),
                1,
                1,
                None,
                f"{days} days ago?",
                False,
                0.0,
                "no_match",
                (),
                1.0,
                app.knowledge_version,
            )
        )
    await app.close()
    app = await Citebot.open(settings)
    try:
        assert [q.question for q in await app.unanswered()] == ["5 days ago?"]
        assert await app.prune() == 0
    finally:
        await app.close()


async def test_stats_count_per_day_answered_share_and_top_questions(citebot: Citebot) -> None:
    for question in ["Where does green tea come from?"] * 3 + ["What is the capital of Peru?"]:
        await citebot.ask(question, guild_id=1)
    await citebot.ask("hello", guild_id=2)
    stats = await citebot.stats(guild_id=1)
    assert (stats.questions, stats.answered, stats.answered_share) == (4, 3, 0.75)
    assert stats.top_questions[0] == ("where does green tea come from?", 3)
    assert [d.questions for d in stats.per_day] == [4]
    assert (await citebot.stats()).questions == 5


async def test_answers_keep_flowing_while_a_reload_runs(citebot: Citebot, tmp_path: Path) -> None:
    old = citebot.knowledge_version
    knowledge = tmp_path / "knowledge"
    for number in range(150):  # enough text that building the new index takes a while
        (knowledge / f"extra-{number}.md").write_text(
            f"---\ntitle: Extra {number}\n---\n"
            + " ".join(
                f"Fact {i} about topic {number} is that item {i} weighs {i + number} grams."
                for i in range(20)
            )
            + "\n",
            encoding="utf-8",
        )
    reload = asyncio.create_task(citebot.reload())
    seen: list[str] = []
    while not reload.done():
        result = await citebot.ask("Where does green tea come from?")
        assert result.answer.answered
        seen.append(result.answer.knowledge_version)
        await asyncio.sleep(0)
    report = await reload
    seen.append((await citebot.ask("Where does green tea come from?")).answer.knowledge_version)
    assert seen.count(old) >= 5  # questions were answered during the reload
    assert set(seen) == {old, report.version}
    switch = seen.index(report.version)
    assert seen[:switch] == [old] * switch and seen[switch:] == [report.version] * (len(seen) - switch)
    assert (await citebot.stats()).questions == len(seen)


async def test_guild_settings_and_meta_through_the_application(citebot: Citebot) -> None:
    assert (await citebot.guild_settings(5)).cooldown_seconds == citebot.settings.cooldown_seconds
    await citebot.add_answer_channel(5, 50)
    await citebot.set_cooldown(5, 0.0)
    await citebot.set_admin_role(5, 9)
    settings = await citebot.guild_settings(5)
    assert (settings.answer_channels, settings.cooldown_seconds, settings.admin_role_id) == (
        frozenset({50}),
        0.0,
        9,
    )
    assert await citebot.remove_answer_channel(5, 50) is True
    with pytest.raises(ValueError):
        await citebot.set_cooldown(5, -1)
    await citebot.set_meta("k", "v")
    assert await citebot.get_meta("k") == "v"


async def test_a_deleted_database_file_is_noticed_and_written_back(
    citebot: Citebot, caplog: pytest.LogCaptureFixture
) -> None:
    path = citebot.settings.database_path
    await citebot.ask("Where does green tea come from?", guild_id=4)
    assert await citebot.questions.flush(5)
    for extra in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    await citebot.ask("What is the capital of Peru?", guild_id=4)  # logged after the deletion
    health = await citebot.health()
    assert health.lines()[0] == "degraded"
    assert "was deleted" in (health.database_problem or "") and "nothing was lost" in (
        health.database_problem or ""
    )
    assert "was deleted" in caplog.text
    assert path.exists()
    await citebot.ask("Where does green tea come from?", guild_id=4)
    await citebot.close()
    raw = sqlite3.connect(path)
    try:
        logged = [q for (q,) in raw.execute("SELECT question FROM questions WHERE guild_id = 4 ORDER BY id")]
    finally:
        raw.close()
    assert logged == [
        "Where does green tea come from?",
        "What is the capital of Peru?",
        "Where does green tea come from?",
    ]


@pytest.mark.parametrize(("content", "said"), [(b"", "was empty (0 bytes)"), (b"x", "was only 1 bytes")])
async def test_an_empty_database_file_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, said: str
) -> None:
    write_knowledge(tmp_path / "knowledge")
    settings = settings_for(tmp_path)
    settings.database_path.parent.mkdir(parents=True)
    settings.database_path.write_bytes(content)
    app = await Citebot.open(settings)
    try:
        problem = (await app.health()).database_problem or ""
        assert said in problem and said in caplog.text
        assert (await app.ask("Where does green tea come from?")).answer.answered
    finally:
        await app.close()
