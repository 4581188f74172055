"""Stats chart benchmark: how long the chart takes to draw, and what drawing costs a bot's answers.

Run from the repository root: ``python benchmarks/charts.py`` (about half a minute; needs matplotlib).
Figures are medians of ``--repeat`` runs; a figure over its floor exits with status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from table import Row, print_rows  # noqa: E402  (this folder: the script's own)

from bot.charts import activity_chart  # noqa: E402
from bot.runtime import DayActivity  # noqa: E402

# Discord's /kb stats allows up to 365 days, the command line 3650.
PERIODS = (7, 30, 365, 3650)
DRAW_FLOOR_S = {7: 1.0, 30: 1.0, 365: 1.5, 3650: 2.0}
COLD_FLOOR_S = 5.0  # first chart of a process: matplotlib's import, then the drawing
# While a chart is drawn in a worker thread, the bot's event loop must keep serving answers.
LOOP_LAG_FLOOR_MS = 100.0
TICK_S = 0.005

COLD_SCRIPT = """
import datetime as dt, time
started = time.perf_counter()
from bot.charts import activity_chart
from bot.runtime import DayActivity
days = [DayActivity(dt.date(2026, 1, 1) + dt.timedelta(days=i), 9, 6, 3, 1) for i in range(31)]
assert activity_chart(days, title="cold") is not None
print(time.perf_counter() - started)
"""


def history(days: int) -> list[DayActivity]:
    """A busy-looking period: weekly rhythm, some quiet days, votes on most days."""
    start = dt.date(2026, 1, 1)
    series = []
    for n in range(days + 1):
        asked = 0 if n % 11 == 0 else 5 + (n % 7) * 3
        answered = asked * 3 // 4
        series.append(DayActivity(start + dt.timedelta(days=n), asked, answered, answered // 3, n % 3))
    return series


def draw_seconds(days: int, repeat: int) -> float:
    """Median wall time of drawing the chart of ``days`` days (matplotlib already imported)."""
    series = history(days)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        activity_chart(series, title=f"last {days} days")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_seconds(repeat: int) -> float:
    """Median wall time of a fresh process's first chart, imports included."""
    times = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-c", COLD_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
        )
        times.append(float(result.stdout))
    return statistics.median(times)


async def loop_lag_ms(days: int) -> float:
    """The longest an event loop's 5 ms timer came late while a chart was drawn in a worker thread."""
    drawing = asyncio.ensure_future(asyncio.to_thread(activity_chart, history(days), title="lag"))
    worst = 0.0
    while not drawing.done():
        due = time.perf_counter() + TICK_S
        await asyncio.sleep(TICK_S)
        worst = max(worst, time.perf_counter() - due)
    await drawing
    return 1000 * worst


def main() -> int:
    """Print the table; exit 1 if a figure is over its floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    args = parser.parse_args()
    activity_chart(history(3), title="warm-up")  # the import, outside the timed draws
    rows = []
    for days in PERIODS:
        seconds = draw_seconds(days, args.repeat)
        floor = DRAW_FLOOR_S[days]
        rows.append(Row(f"{days} days", "draw", f"{seconds:.2f} s", f"<= {floor:.1f} s", seconds <= floor))
    cold = cold_seconds(args.repeat)
    rows.append(
        Row("new process", "first chart", f"{cold:.2f} s", f"<= {COLD_FLOOR_S:.1f} s", cold <= COLD_FLOOR_S)
    )
    lags = [asyncio.run(loop_lag_ms(365)) for _ in range(args.repeat)]
    lag = statistics.median(lags)
    rows.append(
        Row(
            "365 days in a thread",
            "event loop lag (max)",
            f"{lag:.0f} ms",
            f"<= {LOOP_LAG_FLOOR_MS:.0f} ms",
            lag <= LOOP_LAG_FLOOR_MS,
        )
    )
    print_rows(rows)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
