"""Telegram under load: the real bot against the loopback Bot API, figures against floors.

Run from the repository root: ``python benchmarks/telegram_burst.py`` (about two minutes).
Exits 1 when a figure misses its floor.

Latencies run from the moment the update is queued at the fake to the moment the fake records
the answer's ``sendMessage``. The baseline is the same measure for questions asked one at a
time, in the same process, so the burst figures read as ratios on this machine. Telegram's own
limits set the floors: about 1 message a second per chat, 20 a minute per group, 30 a second
overall, so a burst of N private questions cannot all be answered in less than N / 30 seconds
(the bot paces itself at 25 a second, evenly, to stay under the limit where messages arrive).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from table import Row, print_rows  # noqa: E402  (this folder: the script's own)

from tests.discord_front.scenarios import DISTINCT_OPENINGS, QUESTIONS  # noqa: E402
from tests.telegram_front.fake_telegram import (  # noqa: E402
    BOT_USERNAME,
    FakeTelegram,
    Recorded,
    group_chat,
    max_in_window,
    user,
)
from tests.telegram_front.harness import knowledge_copy, start_bot  # noqa: E402

FIRST_USER = 800_000_000


def _question(i: int) -> str:
    rounds, index = divmod(i, len(QUESTIONS))
    return DISTINCT_OPENINGS[rounds % len(DISTINCT_OPENINGS)] + QUESTIONS[index]


def _answers(
    fake: FakeTelegram, updates: list[dict[str, Any]], since: int, settle: float
) -> dict[int, Recorded]:
    """The accepted reply to each update's message, by update id (those answered within ``settle``)."""
    wanted = {(u["message"]["chat"]["id"], u["message"]["message_id"]): u["update_id"] for u in updates}
    found: dict[int, Recorded] = {}
    deadline = time.monotonic() + settle
    while len(found) < len(wanted) and time.monotonic() < deadline:
        for r in fake.find("sendMessage", since):
            reply = (r.params.get("reply_parameters") or {}).get("message_id")
            key = (r.params.get("chat_id"), reply)
            if r.ok and key in wanted:
                found.setdefault(wanted[key], r)
        time.sleep(0.2)
    return found


def _latencies(
    updates: list[dict[str, Any]], pushed: dict[int, float], found: dict[int, Recorded]
) -> list[float]:
    return sorted(
        found[u["update_id"]].at - pushed[u["update_id"]] for u in updates if u["update_id"] in found
    )


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def _push_private(
    fake: FakeTelegram, count: int, first: int
) -> tuple[list[dict[str, Any]], dict[int, float]]:
    updates, pushed = [], {}
    for i in range(count):
        update = fake.private_message(user(FIRST_USER + first + i, f"m{i}"), _question(first + i))
        pushed[update["update_id"]] = time.monotonic()
        updates.append(update)
    return updates, pushed


def run(fake: FakeTelegram, rows: list[Row], burst: int, group_burst: int) -> None:
    # Baseline: one at a time.
    since = fake.mark()
    single: list[float] = []
    for i in range(20):
        updates, pushed = _push_private(fake, 1, 10_000 + i)
        single += _latencies(updates, pushed, _answers(fake, updates, since, 15))
    base = statistics.median(single)
    rows.append(Row("one at a time", "median latency", f"{base:.3f} s", "baseline", True))

    # Private burst from distinct members, distinct questions.
    since = fake.mark()
    updates, pushed = _push_private(fake, burst, 0)
    found = _answers(fake, updates, since, burst / 25 + 60)
    latencies = _latencies(updates, pushed, found)
    sends = [r.at for r in found.values()]
    name = f"{burst} members at once"
    rows.append(Row(name, "answered", f"{len(found)}/{burst}", "all", len(found) == burst))
    median = _quantile(latencies, 0.5)
    rows.append(Row(name, "median latency", f"{median:.2f} s ({median / base:.0f}x)", "-", True))
    p99, bound = _quantile(latencies, 0.99), burst / 25 + 2
    rows.append(Row(name, "p99 latency", f"{p99:.2f} s", f"<= {bound:.1f} s (N/25 + 2)", p99 <= bound))
    most = max_in_window(sends, 1.0)
    rows.append(Row(name, "most sent in any 1 s", str(most), "<= 30", most <= 30))

    # 429s in the middle of a burst: waited out, nothing lost.
    since = fake.mark()
    fake.rate_limit_next("sendMessage", times=10, retry_after=1)
    updates, pushed = _push_private(fake, 60, 20_000)
    found = _answers(fake, updates, since, 60)
    limited = sum(1 for r in fake.find("sendMessage", since) if r.status == 429)
    name = "60 at once, 10 refused 429"
    rows.append(Row(name, "answered", f"{len(found)}/60 ({limited} 429s)", "all", len(found) == 60))

    # A group: mentions from many members; Telegram allows 20 messages a minute there.
    group = group_chat(777, "Busy group", supergroup=True)
    since = fake.mark()
    updates, pushed = [], {}
    for i in range(group_burst):
        sender = user(FIRST_USER + 30_000 + i, f"g{i}")
        update = fake.group_message(sender, group, f"@{BOT_USERNAME} {_question(i)}")
        pushed[update["update_id"]] = time.monotonic()
        updates.append(update)
    found = _answers(fake, updates, since, 90)
    name = f"{group_burst} mentions in one group"
    rows.append(Row(name, "answered", f"{len(found)}/{group_burst}", "all", len(found) == group_burst))
    in_minute = max_in_window(fake.send_times(group["id"]), 60.0)
    rows.append(Row(name, "most sent in any 60 s", str(in_minute), "<= 20", in_minute <= 20))
    in_second = max_in_window(fake.send_times(group["id"]), 1.0)
    rows.append(Row(name, "most sent in any 1 s", str(in_second), "<= 1", in_second <= 1))


def main(argv: list[str] | None = None) -> int:
    """Run the scenarios and print the table; 1 if a floor is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--burst", type=int, default=300, help="private questions at once (default 300)")
    parser.add_argument("--group-burst", type=int, default=25, help="mentions in one group (default 25)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    fake = FakeTelegram().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            knowledge_copy(root)
            bot = start_bot(fake, root)
            try:
                run(fake, rows, args.burst, args.group_burst)
            finally:
                code = bot.stop()
            rows.append(Row("shutdown", "exit code", str(code), "0", code == 0))
            token_logged = fake.token in bot.output()
            rows.append(Row("shutdown", "token in the log", str(token_logged), "False", not token_logged))
    finally:
        fake.stop()
    print_rows(rows)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
