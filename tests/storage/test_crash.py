"""A reload killed with SIGKILL at any moment leaves the old or the new knowledge, never a mix."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.knowledge import build_knowledge, load_knowledge_dir
from bot.runtime import Citebot
from bot.runtime.knowledge_sync import _parse_intents, _parse_rows
from bot.storage import Store
from tests.storage.knowledge_fixtures import COFFEE, TEA_CHANGED, settings_for, write_knowledge

RELOADER = """
import asyncio, sys
from pathlib import Path
from bot.config import Settings
from bot.runtime import Citebot
from bot.storage import Store

pause = Store._pause

async def announced_pause(self: Store) -> None:
    # Tell the test where the transaction is, then hold still there so the kill lands inside it.
    print("pause", flush=True)
    await pause(self)

Store._pause = announced_pause

async def main() -> None:
    app = await Citebot.open(Settings(knowledge_dir=Path(sys.argv[1]), database_path=Path(sys.argv[2])))
    app.store.write_pause = 0.5
    print("reloading", flush=True)
    await app.reload()
    print("done", flush=True)
    await app.close()

asyncio.run(main())
"""

# (line to wait for, how many of them): before the transaction, after each of its 4 steps
# (documents deleted, documents written, intents written, version set: all before COMMIT),
# and after the commit.
KILL_POINTS = [("reloading", 1), ("pause", 1), ("pause", 2), ("pause", 3), ("pause", 4), ("done", 1)]
EXPECTED = ["old", "old", "old", "old", "old", "new"]


async def _stored_version_is_consistent(database: Path) -> str:
    """The stored knowledge version, checked against a rebuild from the stored rows."""
    store = await Store.open(database)
    try:
        stored = await store.load_knowledge()
    finally:
        await store.close()
    rebuilt = build_knowledge(_parse_rows(stored.documents, None), _parse_intents(stored.intent_files))
    assert stored.version == rebuilt.version, "the stored rows and the stored version disagree: a mix"
    return rebuilt.version


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_reload_killed_at_any_moment_leaves_old_or_new(tmp_path: Path) -> None:
    knowledge = write_knowledge(tmp_path / "knowledge")
    pristine = tmp_path / "pristine.sqlite3"
    app = await Citebot.open(settings_for(tmp_path, database_path=pristine))
    old = app.knowledge_version
    await app.close()
    write_knowledge(knowledge, tea=TEA_CHANGED, coffee=COFFEE)
    new = load_knowledge_dir(knowledge).version
    assert new != old

    script = tmp_path / "reloader.py"
    script.write_text(RELOADER, encoding="utf-8")
    outcomes: list[str] = []
    for number, (line, count) in enumerate(KILL_POINTS):
        database = tmp_path / f"run{number}.sqlite3"
        shutil.copy(pristine, database)
        process = subprocess.Popen(
            [sys.executable, str(script), str(knowledge), str(database)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        assert process.stdout is not None
        seen = 0
        while seen < count:
            output = process.stdout.readline()
            assert output, "the reloader ended early"
            seen += output == f"{line}\n".encode()
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()

        version = await _stored_version_is_consistent(database)
        assert version in (old, new)
        app = await Citebot.open(settings_for(tmp_path, database_path=database))
        try:
            assert app.knowledge_version == version
            espresso = (await app.ask("How is espresso brewed?", log=False)).answer
            assert espresso.answered == (version == new)
        finally:
            await app.close()
        outcomes.append("new" if version == new else "old")
        await asyncio.sleep(0)
    assert outcomes == EXPECTED
