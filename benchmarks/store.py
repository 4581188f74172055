"""Store benchmark: start-up, reload, question-log writes, and what logging adds to an answer.

Run from the repository root: ``python benchmarks/store.py`` (about half a minute).
Every figure is a median; floors are checked and a figure over its floor exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from bot.runtime import Citebot

ROOT = Path(__file__).resolve().parents[1]
STARTUP_FLOOR_S = 1.0
LOGGING_FLOOR_MS = 1.0

QUESTIONS = [
    "Who tracked Chang'e-6?",
    "When did Chang'e-6 launch?",
    "What is the capital of Peru?",
    "Which ESA station will track the return?",
    "hello",
    "What did the French instrument measure?",
    "How long did Kourou track the spacecraft?",
    "Why might ESA and China stop cooperating?",
]

# Opens the application in a fresh process (no warm caches) and prints how long that took.
OPEN_SCRIPT = """
import asyncio, sys, time
started = time.perf_counter()
from pathlib import Path
from bot.config import Settings
from bot.runtime import Citebot

async def main() -> None:
    app = await Citebot.open(Settings(knowledge_dir=Path(sys.argv[1]), database_path=Path(sys.argv[2])))
    print(time.perf_counter() - started, len(app.service.knowledge.documents))
    await app.close()

asyncio.run(main())
"""


def _generate(directory: Path, count: int) -> None:
    """``count`` documents of 4 paragraphs and 12 sentences each, on made-up topics."""
    for number in range(count):
        paragraphs = [
            " ".join(
                f"Station {number}-{p}-{s} recorded {s + p + number} samples of regolith during pass {s}."
                for s in range(3)
            )
            for p in range(4)
        ]
        (directory / f"generated-{number:04d}.md").write_text(
            f"---\ntitle: Survey report {number}\nurl: https://example.org/{number}\n---\n"
            + "\n\n".join(paragraphs),
            encoding="utf-8",
        )


def _startup(knowledge: Path, database: Path, runs: int) -> tuple[float, float, int]:
    """(median open time in a fresh process, median process wall time, documents) after a first import."""
    subprocess.run(
        [sys.executable, "-c", OPEN_SCRIPT, str(knowledge), str(database)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    opens: list[float] = []
    walls: list[float] = []
    documents = 0
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", OPEN_SCRIPT, str(knowledge), str(database)],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.split()
        walls.append(time.perf_counter() - started)
        opens.append(float(out[0]))
        documents = int(out[1])
    return statistics.median(opens), statistics.median(walls), documents


async def _reload(knowledge: Path, database: Path, runs: int) -> tuple[float, float]:
    """(median no-change reload, median reload after one file changed), in seconds, in a running app."""
    app = await Citebot.open(Settings(knowledge_dir=knowledge, database_path=database))
    try:
        unchanged: list[float] = []
        changed: list[float] = []
        target = knowledge / "generated-0000.md"
        original = target.read_text(encoding="utf-8")
        for run in range(runs):
            started = time.perf_counter()
            await app.reload()
            unchanged.append(time.perf_counter() - started)
            target.write_text(original + f"\n\nA new closing sentence number {run}.\n", encoding="utf-8")
            started = time.perf_counter()
            report = await app.reload()
            changed.append(time.perf_counter() - started)
            assert report.documents_changed == ("generated-0000",)
        target.write_text(original, encoding="utf-8")
        return statistics.median(unchanged), statistics.median(changed)
    finally:
        await app.close()


async def _logging(database: Path, rounds: int) -> tuple[float, float, float]:
    """(median answer ms without logging, median with logging, questions answered and written per second).

    The questions repeat, so answers come from the recent ones: what is left is logging's cost.
    The log is written by a background writer; the rate counts until it has written everything.
    """
    app = await Citebot.open(Settings(knowledge_dir=ROOT / "knowledge", database_path=database))
    try:
        for question in QUESTIONS:  # warm-up
            await app.ask(question, log=False)
            await app.ask(question, user_id=1, guild_id=1, channel_id=1)
        plain: list[float] = []
        logged: list[float] = []
        await app.questions.flush(30)
        loop_started = time.perf_counter()
        for _ in range(rounds):  # interleaved, so both see the same machine state
            for question in QUESTIONS:
                started = time.perf_counter()
                await app.ask(question, log=False)
                plain.append(time.perf_counter() - started)
                started = time.perf_counter()
                await app.ask(question, user_id=42, guild_id=1, channel_id=2)
                logged.append(time.perf_counter() - started)
        await app.questions.flush(30)
        elapsed = time.perf_counter() - loop_started - sum(plain)
        return 1000 * statistics.median(plain), 1000 * statistics.median(logged), len(logged) / elapsed
    finally:
        await app.close()


def main() -> int:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=1000, help="generated documents for the large case")
    parser.add_argument("--runs", type=int, default=5, help="start-up and reload runs per figure")
    parser.add_argument("--rounds", type=int, default=60, help="rounds of questions for the logging figures")
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        open_s, wall_s, docs = _startup(ROOT / "knowledge", work / "default.sqlite3", args.runs)
        slow = open_s > STARTUP_FLOOR_S
        failed |= slow
        rows.append(
            (
                f"start-up, default knowledge ({docs} docs): Citebot.open",
                f"{1000 * open_s:.0f} ms",
                f"<= {1000 * STARTUP_FLOOR_S:.0f} ms {'SLOW' if slow else 'ok'}",
            )
        )
        rows.append(("start-up, default knowledge: whole process", f"{1000 * wall_s:.0f} ms", ""))

        large = work / "large"
        shutil.copytree(ROOT / "knowledge", large)
        _generate(large, args.documents)
        open_s, wall_s, docs = _startup(large, work / "large.sqlite3", max(2, args.runs // 2))
        rows.append((f"start-up, {docs} docs: Citebot.open", f"{1000 * open_s:.0f} ms", ""))
        rows.append((f"start-up, {docs} docs: whole process", f"{1000 * wall_s:.0f} ms", ""))

        unchanged_s, changed_s = asyncio.run(_reload(large, work / "large.sqlite3", max(2, args.runs // 2)))
        rows.append((f"reload, {docs} docs, nothing changed", f"{1000 * unchanged_s:.0f} ms", ""))
        rows.append((f"reload, {docs} docs, one file changed", f"{1000 * changed_s:.0f} ms", ""))

        plain_ms, logged_ms, per_second = asyncio.run(_logging(work / "log.sqlite3", args.rounds))
        added = logged_ms - plain_ms
        slow = added > LOGGING_FLOOR_MS
        failed |= slow
        rows.append(("answer, not logged (median)", f"{plain_ms:.2f} ms", ""))
        rows.append(("answer, logged (median)", f"{logged_ms:.2f} ms", ""))
        rows.append(
            (
                "added by logging (median)",
                f"{added:.2f} ms",
                f"<= {LOGGING_FLOOR_MS:.0f} ms {'SLOW' if slow else 'ok'}",
            )
        )
        rows.append(("questions answered and written per second", f"{per_second:.0f} /s", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'median':>10}  floor")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 12}")
    for name, value, floor in rows:
        print(f"{name:<{width}}  {value:>10}  {floor}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
