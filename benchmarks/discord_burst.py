"""Discord under load and faults: the real bot against the loopback Discord, figures against floors.

Run from the repository root: ``python benchmarks/discord_burst.py`` (about two minutes).
``--bot-repo PATH`` runs the bot of another checkout (say an older commit in a git worktree)
against the same scenarios, for before/after figures. Exits 1 when a figure misses its floor.

Every scenario counts what members would notice: interactions acknowledged within Discord's 3 s
(from their creation), members who got their answer by any path (the interaction, or the
channel when the interaction could not be used), and callbacks sent after the first (late
apologies). Acknowledgement times are from the interaction's creation to the fake recording it.
"""

from __future__ import annotations

import argparse
import math
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from table import Row, print_rows  # noqa: E402  (this folder: the script's own)

from tests.discord_front.fake_discord import (  # noqa: E402
    BOT_USER,
    FakeDiscord,
    command_data,
    interaction_payload,
    message_payload,
    option,
    user,
)
from tests.discord_front.harness import BotProcess, knowledge_copy, start_bot  # noqa: E402
from tests.discord_front.scenarios import QUESTION, Outcome, ask_payload, ask_some, burst, outcome  # noqa: E402


def _fmt(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds:.2f} s"


def _outcome_rows(name: str, result: Outcome, *, need_acked: bool = True) -> list[Row]:
    rows = [
        Row(name, "answered", f"{result.answered}/{result.total}", "all", result.answered == result.total),
        Row(
            name,
            "acknowledged within 3 s",
            f"{result.acked_in_time}/{result.total}",
            "all" if need_acked else "-",
            result.acked_in_time == result.total or not need_acked,
        ),
        Row(
            name,
            "ack median / p99",
            f"{_fmt(result.ack_median)} / {_fmt(result.ack_quantile(0.99))}",
            "-",
            True,
        ),
        Row(name, "answered in the channel", str(result.in_channel), "-", True),
        Row(name, "second callbacks", str(result.second_callbacks), "0", result.second_callbacks == 0),
    ]
    return rows


def _hogs(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _mention_reply_seconds(fake: FakeDiscord, index: int) -> float:
    """Seconds from a mention to its answer (nan when none came within 30 s)."""
    author = user(733000000000000000 + index, f"mention{index}")
    message = message_payload(f"<@{BOT_USER['id']}> {QUESTION}", author=author, mentions=[BOT_USER])
    mark = fake.mark()
    started = time.monotonic()
    fake.dispatch("MESSAGE_CREATE", message)
    try:
        fake.wait_for(
            lambda r: (
                r.path.startswith("/channels/")
                and 200 <= r.status < 300
                and str(((r.body or {}).get("message_reference") or {}).get("message_id")) == message["id"]
            ),
            since=mark,
            timeout=30,
        )
    except TimeoutError:
        return float("nan")
    return time.monotonic() - started


def run_shared(fake: FakeDiscord, bot: BotProcess, root: Path, rows: list[Row]) -> None:
    """The scenarios that share one bot."""
    time.sleep(2)  # let start-up settle
    # Distinct questions first: nothing can come from recent answers.
    rows += _outcome_rows("1,000 distinct /ask at 500/s", burst(fake, 1000, 500, first=0, distinct=True))
    rows += _outcome_rows("1,000 /ask at 500/s", burst(fake, 1000, 500, first=1000))
    hogs = _hogs(2)
    try:
        rows += _outcome_rows(
            "1,000 distinct /ask at 200/s, 2 busy processes",
            burst(fake, 1000, 200, first=2000, distinct=True, round_offset=7),
        )
        rows += _outcome_rows("1,000 /ask at 200/s, 2 busy processes", burst(fake, 1000, 200, first=3000))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()

    fake.rate_limit_next("POST", "/interactions/", times=30, retry_after=0.5)
    rows += _outcome_rows("429 on callbacks, retry_after 0.5 s (30 asks)", ask_some(fake, 30, first=10_000))
    fake.clear_faults()
    fake.rate_limit_next("POST", "/interactions/", times=20, retry_after=2.0)
    rows += _outcome_rows("429 on callbacks, retry_after 2 s (20 asks)", ask_some(fake, 20, first=10_100))
    fake.clear_faults()
    fake.rate_limit_globally(4.0)
    rows += _outcome_rows("global 429 for 4 s (10 asks)", ask_some(fake, 10, first=10_200), need_acked=False)
    fake.clear_faults()
    fake.fail_next("POST", "/interactions/", times=2)
    fake.fail_next("POST", "/channels/*/messages", times=2)
    rows += _outcome_rows(
        "two 503s on the callback and on the channel", ask_some(fake, 1, first=10_300), need_acked=False
    )
    fake.clear_faults()

    fake.fail_next("POST", "/channels/*/messages", times=2)
    seconds = _mention_reply_seconds(fake, 1)
    rows.append(
        Row(
            "mention, two 503s on the reply",
            "answered after",
            _fmt(seconds),
            "answered",
            not math.isnan(seconds),
        )
    )
    fake.rate_limit_next("POST", "/channels/*/messages", retry_after=3.0)
    seconds = _mention_reply_seconds(fake, 2)
    rows.append(
        Row(
            "mention, 429 retry_after 3 s",
            "answered after",
            _fmt(seconds),
            "answered",
            not math.isnan(seconds),
        )
    )
    fake.clear_faults()

    # A write-locked database: answer times beside a baseline in the same run.
    baseline = ask_some(fake, 20, first=10_400, spacing=0.2)
    database = root / "data" / "citebot.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    try:
        locked = ask_some(
            fake, 20, first=10_500, spacing=0.2, question="When did the Chang'e-6 mission launch?"
        )
        time.sleep(max(0.0, 10 - (time.monotonic() - started)))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ratio = locked.ack_median / baseline.ack_median if baseline.ack_median else float("nan")
    rows += _outcome_rows("database write-locked for 10 s (20 asks)", locked)
    rows.append(
        Row(
            "database write-locked for 10 s (20 asks)",
            "ack median vs unlocked",
            f"{_fmt(locked.ack_median)} vs {_fmt(baseline.ack_median)} (x{ratio:.2f})",
            "x<2",
            ratio < 2,
        )
    )
    logged = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and logged < 20:
        reader = sqlite3.connect(database)
        try:
            logged = reader.execute(
                "SELECT count(*) FROM questions WHERE question = ?",
                ("When did the Chang'e-6 mission launch?",),
            ).fetchone()[0]
        finally:
            reader.close()
        time.sleep(0.2)
    rows.append(
        Row(
            "database write-locked for 10 s (20 asks)",
            "logged after the lock",
            f"{logged}/20",
            "20/20",
            logged == 20,
        )
    )

    # An interaction that reaches the bot after its 3 s: one log line, no callback at all.
    member = user(734000000000000001, "late")
    data = command_data(fake, "ask", [option("question", QUESTION)])
    late = interaction_payload(2, data, invoker=member, created_at=time.time() - 3.5)
    size_before = len(bot.output())
    fake.dispatch("INTERACTION_CREATE", late)
    result = outcome(fake, [late], settle=15)
    time.sleep(0.5)
    added = bot.output()[size_before:]
    lines = [
        line for line in added.splitlines() if member["id"] in line and ("WARNING" in line or "ERROR" in line)
    ]
    callbacks = len(fake.interaction_outcome(late["id"]).callbacks)
    rows.append(Row("interaction seen after 3 s", "callbacks sent", str(callbacks), "0", callbacks == 0))
    rows.append(
        Row("interaction seen after 3 s", "warning/error lines", str(len(lines)), "1", len(lines) == 1)
    )
    rows.append(
        Row(
            "interaction seen after 3 s",
            "answered (in the channel)",
            f"{result.answered}/1",
            "1/1",
            result.answered == 1,
        )
    )


def run_sigterm(repo: Path, rows: list[Row]) -> None:
    """SIGTERM half a second into a burst, on a bot and Discord of its own."""
    fake = FakeDiscord().start()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        knowledge_copy(root)
        bot = start_bot(fake, root, repo=repo)
        time.sleep(1)
        sent = fake.dispatch_many(
            "INTERACTION_CREATE",
            lambda i: ask_payload(fake, 20_000 + i),
            300,
            rate_per_second=300,
            wait=False,
        )
        time.sleep(0.5)
        stopped = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        code = bot.stop(60)  # already signalled: waits, then closes its log
        took = time.monotonic() - stopped
        sent.wait(10)
        output = bot.output()
        acked = [o for o in fake.interaction_outcomes([p["id"] for p in sent.payloads]) if o.acknowledged]
        silent = sum(
            1
            for o in acked
            if not any(c.status == 200 and c.body.get("type") == 4 for c in o.callbacks) and not o.messages
        )
        problems = sum(output.count(p) for p in ("Traceback", "closed database", "never retrieved"))
    fake.stop()
    name = "SIGTERM 0.5 s into 300 /ask at 300/s"
    rows.append(Row(name, "exit code", str(code), "0", code == 0))
    rows.append(Row(name, "acknowledged but never answered", f"{silent}/{len(acked)}", "0", silent == 0))
    rows.append(Row(name, "tracebacks / closed-database errors", str(problems), "0", problems == 0))
    rows.append(Row(name, "SIGTERM to exit", _fmt(took), "< 10 s", took < 10))


def main(argv: list[str] | None = None) -> int:
    """Run every scenario and print the table; 1 if a floor is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--bot-repo", type=Path, default=ROOT, help="checkout whose bot to run (default: this one)"
    )
    args = parser.parse_args(argv)
    rows: list[Row] = []
    fake = FakeDiscord().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            knowledge_copy(root)
            bot = start_bot(fake, root, repo=args.bot_repo)
            try:
                run_shared(fake, bot, root, rows)
            finally:
                bot.stop()
    finally:
        fake.stop()
    run_sigterm(args.bot_repo, rows)
    print(f"bot from {args.bot_repo}")
    print_rows(rows)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
