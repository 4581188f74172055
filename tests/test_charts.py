"""The stats chart: the per-day series on a real store, ``kb stats --plot`` as a real subprocess,
and matplotlib staying out of every path that draws nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.charts import activity_chart, admin_chart
from bot.runtime import Citebot, DayActivity
from bot.storage import QuestionRecord, Store
from tests.png import png_size
from tests.storage.knowledge_fixtures import settings_for, write_knowledge
from tests.test_cli import WITHOUT_MODULE

ROOT = Path(__file__).parents[1]
TODAY = dt.datetime.now(dt.UTC).date()
CHART_SIZE = (900, 600)  # figsize (9, 6) at 100 dpi


def _record(asked_at: dt.datetime, answered: bool, guild_id: int = 1) -> QuestionRecord:
    return QuestionRecord(
        asked_at=asked_at,
        guild_id=guild_id,
        channel_id=2,
        user_hash="asker",
        question="Where does green tea come from?" if answered else "What is the capital of Peru?",
        answered=answered,
        confidence=0.9 if answered else 0.1,
        reason="" if answered else "low_confidence",
        citations=(),
        latency_ms=1.0,
        knowledge_version="v1",
    )


async def _fill(database: Path) -> None:
    """Five days ago 3 questions (2 answered, votes 2 up, 1 down); three days ago 1 declined;
    today 2 answered (one in guild 2, voted down); and one question 20 days ago."""
    now = dt.datetime.now(dt.UTC)
    store = await Store.open(database)
    try:
        await store.log_questions(
            [
                (1, _record(now - dt.timedelta(days=20), True)),
                (2, _record(now - dt.timedelta(days=5), True)),
                (3, _record(now - dt.timedelta(days=5), True)),
                (4, _record(now - dt.timedelta(days=5), False)),
                (5, _record(now - dt.timedelta(days=3), False)),
                (6, _record(now, True)),
                (7, _record(now, True, guild_id=2)),
            ]
        )
        await store.record_feedback(2, "u1", True)
        await store.record_feedback(2, "u2", True)
        await store.record_feedback(3, "u1", False)
        await store.record_feedback(7, "u3", False)
        await store.record_feedback(1, "u1", True)  # on the question outside the window
    finally:
        await store.close()


def _day(days_ago: int, *counts: int) -> DayActivity:
    return DayActivity(TODAY - dt.timedelta(days=days_ago), *counts)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A knowledge folder and a store at tmp_path/data/citebot.sqlite3 holding the questions above."""
    write_knowledge(tmp_path / "knowledge")
    asyncio.run(_fill(tmp_path / "data" / "citebot.sqlite3"))
    return tmp_path


def test_every_day_of_the_window_is_counted_and_quiet_days_are_zeros(history: Path) -> None:
    async def read() -> tuple[tuple[DayActivity, ...], tuple[DayActivity, ...], int, int, int]:
        citebot = await Citebot.open(settings_for(history))
        try:
            every = await citebot.daily_activity(days=7)
            guild = await citebot.daily_activity(days=7, guild_id=1)
            stats = await citebot.stats(days=7)
            return every, guild, stats.questions, stats.helpful, stats.not_helpful
        finally:
            await citebot.close()

    every, guild, questions, helpful, not_helpful = asyncio.run(read())
    # The window reaches back 7 times 24 hours: 8 calendar days, the first one in part.
    assert every == (
        _day(7, 0, 0, 0, 0),
        _day(6, 0, 0, 0, 0),
        _day(5, 3, 2, 2, 1),
        _day(4, 0, 0, 0, 0),
        _day(3, 1, 0, 0, 0),
        _day(2, 0, 0, 0, 0),
        _day(1, 0, 0, 0, 0),
        _day(0, 2, 2, 0, 1),
    )
    assert [d.answered_share for d in every if d.asked] == [2 / 3, 0.0, 1.0]
    assert every[0].answered_share is None  # no questions: no share, rather than 0 %
    # The days add up to the text summary's totals.
    assert sum(d.asked for d in every) == questions == 6
    assert (sum(d.helpful for d in every), sum(d.not_helpful for d in every)) == (helpful, not_helpful)
    assert guild[-1] == _day(0, 1, 1, 0, 0)  # guild 2's question and its vote are not guild 1's
    assert [d.day for d in guild] == [d.day for d in every]


def test_a_chart_is_a_png_and_an_empty_period_has_none() -> None:
    days = [_day(2, 4, 3, 2, 1), _day(1, 0, 0, 0, 0), _day(0, 1, 0, 0, 0)]
    png = activity_chart(days, title="Questions per day")
    assert png is not None and png_size(png) == CHART_SIZE
    assert activity_chart([_day(1, 0, 0, 0, 0), _day(0, 0, 0, 0, 0)], title="Nothing") is None
    assert activity_chart([], title="Nothing") is None


def test_a_long_period_draws_too(history: Path) -> None:
    days = [_day(n, n % 5, n % 3 if n % 3 <= n % 5 else 0, n % 2, 0) for n in range(365, -1, -1)]
    png = activity_chart(days, title="A year")
    assert png is not None and png_size(png) == CHART_SIZE


def test_without_matplotlib_the_admin_gets_no_chart_and_the_log_says_why(
    history: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # As if matplotlib were not installed: a None in sys.modules makes its import fail.
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)

    async def chart() -> bytes | None:
        citebot = await Citebot.open(settings_for(history))
        try:
            return await admin_chart(citebot, days=7)
        finally:
            await citebot.close()

    with caplog.at_level(logging.WARNING, logger="bot.charts"):
        assert asyncio.run(chart()) is None
    assert "stats sent without a chart: the stats chart needs matplotlib: pip install -e '.[plot]'" in (
        caplog.text
    )


# -- kb stats --plot, the real command ---------------------------------------------------------


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_QUESTIONS", "USER_ID_KEY"}}
    env.update(
        KNOWLEDGE_DIR=str(root / "knowledge"),
        DATABASE_PATH=str(root / "data" / "citebot.sqlite3"),
        DATABASE_TIMEOUT_SECONDS="0.5",
        PYTHONPATH=str(ROOT),
    )
    return env


def _kb(root: Path, *args: str, without: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m bot kb ARGS`` in ``root``; ``without`` a top-level package that cannot be imported."""
    command = ["-m", "bot"] if without is None else ["-c", WITHOUT_MODULE, without]
    return subprocess.run(
        [sys.executable, *command, "kb", *args],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kb_stats_plot_writes_the_chart_and_still_prints_the_text(history: Path) -> None:
    result = _kb(history, "stats", "--days", "7", "--plot", "chart.png")
    assert result.returncode == 0, result.stderr
    assert "last 7 days: 6 questions, 66.7 % answered" in result.stdout
    assert "feedback: 2 helpful, 2 not helpful" in result.stdout
    assert result.stderr.strip() == "wrote chart.png"
    data = (history / "chart.png").read_bytes()
    assert png_size(data) == CHART_SIZE
    assert len(data) > 10_000  # drawn, not a blank canvas


def test_kb_stats_plot_of_an_empty_log_draws_nothing_and_says_so(tmp_path: Path) -> None:
    write_knowledge(tmp_path / "knowledge")
    result = _kb(tmp_path, "stats", "--plot", "chart.png")
    assert result.returncode == 0, result.stderr
    assert "last 30 days: 0 questions" in result.stdout
    assert "no questions in the last 30 days, so no chart; chart.png was not written" in result.stderr
    assert not (tmp_path / "chart.png").exists()


def test_kb_stats_plot_to_an_unwritable_place_says_so_and_writes_nothing(history: Path) -> None:
    (history / "taken.png").mkdir()

    def files() -> list[Path]:  # but the database's
        return sorted(p for p in history.rglob("*") if p.relative_to(history).parts[0] != "data")

    before = files()
    for target in ("missing/chart.png", "taken.png"):
        result = _kb(history, "stats", "--days", "7", "--plot", target)
        assert result.returncode == 1
        assert f"citebot: cannot write the chart to {target}: " in result.stderr
        assert "Traceback" not in result.stderr
        assert "6 questions" in result.stdout
    wrong = _kb(history, "stats", "--plot", "chart.jpg")
    assert wrong.returncode == 1
    assert "'chart.jpg' does not end in .png; the chart is a PNG image" in wrong.stderr
    assert files() == before


def test_kb_stats_plot_without_matplotlib_says_what_to_install(history: Path) -> None:
    result = _kb(history, "stats", "--days", "7", "--plot", "chart.png", without="matplotlib")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("citebot: --plot needs matplotlib: pip install -e '.[plot]'")
    assert "6 questions" in result.stdout  # the text summary is still printed
    assert not (history / "chart.png").exists()
    plain = _kb(history, "stats", without="matplotlib")  # without --plot nothing needs it
    assert plain.returncode == 0 and plain.stderr == ""


# -- matplotlib only where something is drawn ----------------------------------------------------

NO_MATPLOTLIB = (
    "loaded = [m for m in sys.modules if m.split('.')[0] == 'matplotlib']; assert not loaded, loaded"
)


def test_asking_and_starting_the_fronts_never_import_matplotlib(history: Path) -> None:
    # A fresh interpreter: this test session has imported matplotlib long ago.
    ask = "import sys; from bot.cli import main; assert main(['ask', 'Where does green tea come from?']) == 0"
    fronts = (
        "import sys, bot.cli, bot.cli_kb, bot.cli_quality, bot.charts, bot.serve, bot.discord_front.front,"
        " bot.discord_front.cogs.admin, bot.telegram_front.front, bot.telegram_front.handlers"
    )
    for code in (ask, fronts):
        result = subprocess.run(
            [sys.executable, "-c", f"{code}; {NO_MATPLOTLIB}"],
            cwd=history,
            env=_env(history),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
