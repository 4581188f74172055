"""Load and fault scenarios against the loopback Discord: shared by the tests and the benchmark.

Each scenario sends questions to a running bot (``python -m bot discord`` in a subprocess) and
returns what Discord saw: how many interactions were acknowledged within 3 s and how many of
the members got their answer, by whichever path (the callback, a follow-up, or the channel).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.presentation import DECLINE_TEXT
from tests.discord_front.fake_discord import (
    CHANNEL_ID,
    FakeDiscord,
    Recorded,
    command_data,
    interaction_payload,
    option,
    user,
)

QUESTION = "When did Chang'e-6 launch?"
FIRST_USER_ID = 731000000000000000
# Openings that make each round of QUESTIONS new text: 7 rounds of 155 cover a 1,000 burst, and
# two bursts (``round_offset`` 0 and 7) share none. Each keeps most questions answerable.
DISTINCT_OPENINGS = (
    "",
    "Please, ",
    "Hi! ",
    "Hello, ",
    "One more: ",
    "Hey, ",
    "Hi there, ",
    "Hello there! ",
    "Thanks! ",
    "Hi all, ",
    "Hey there, ",
    "Good morning! ",
    "Good evening, ",
    "Sorry, ",
)
# Varied questions, so a burst measures answering, not one answer over and over.
QUESTIONS = tuple(
    json.loads(line)["question"]
    for line in (Path(__file__).parents[1] / "data" / "article-questions.jsonl").read_text().splitlines()
    if line.strip()
)


@dataclass(frozen=True)
class Outcome:
    """What became of a batch of /ask interactions."""

    total: int
    acked_in_time: int
    answered: int  # the member saw the answer: callback, follow-up or channel message
    in_channel: int  # of which by a channel message
    deferred: int
    second_callbacks: int  # callbacks after the first accepted or refused one (apologies, retries)
    ack_delays: tuple[float, ...]  # seconds from creation to acknowledgement

    def ack_quantile(self, q: float) -> float:
        """A quantile of the acknowledgement delay (nan when nothing was acknowledged)."""
        if not self.ack_delays:
            return float("nan")
        ordered = sorted(self.ack_delays)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def ack_median(self) -> float:
        """The median acknowledgement delay."""
        return statistics.median(self.ack_delays) if self.ack_delays else float("nan")


def ask_payload(fake: FakeDiscord, index: int, question: str = QUESTION) -> dict[str, Any]:
    """An /ask interaction from member number ``index`` (each member is a different user)."""
    member = user(FIRST_USER_ID + index, f"member{index}")
    data = command_data(fake, "ask", [option("question", question)])
    return interaction_payload(2, data, invoker=member)


def _has_answer(body: Any) -> bool:
    """Whether a message body is an answer: quotes in an embed, or the polite decline."""
    if not isinstance(body, dict):
        return False
    data = body.get("data", body) if "type" in body else body
    if not isinstance(data, dict):
        return False
    embeds = data.get("embeds") or []
    quoted = any("quoted verbatim" in ((e.get("footer") or {}).get("text") or "") for e in embeds)
    return quoted or DECLINE_TEXT in (data.get("content") or "")


def outcome(fake: FakeDiscord, payloads: list[dict[str, Any]], *, settle: float = 60.0) -> Outcome:
    """Wait until every interaction is settled and its answer has had time to arrive; the outcome."""
    ids = [p["id"] for p in payloads]
    fake.wait_interactions_settled(ids, timeout=settle)
    users = {str(p["member"]["user"]["id"]): p for p in payloads}
    deadline = time.monotonic() + settle
    while True:
        results = _collect(fake, payloads, users)
        if results.answered == results.total or time.monotonic() > deadline:
            return results
        time.sleep(0.2)


def _collect(fake: FakeDiscord, payloads: list[dict[str, Any]], users: dict[str, Any]) -> Outcome:
    outcomes = fake.interaction_outcomes([p["id"] for p in payloads])
    channel_posts: list[Recorded] = [
        r for r in fake.find("POST", f"/channels/{CHANNEL_ID}/messages") if 200 <= r.status < 300
    ]
    in_channel = set()
    for post in channel_posts:
        content = (post.body or {}).get("content") or ""
        if _has_answer(post.body):
            for uid in users:
                if f"<@{uid}>" in content:
                    in_channel.add(uid)
    answered = 0
    channel_only = 0
    second = 0
    for o, p in zip(outcomes, sorted(payloads, key=lambda p: int(p["id"])), strict=True):
        accepted = [c for c in o.callbacks if 200 <= c.status < 300]
        via_callback = any(_has_answer(c.body) for c in accepted)
        via_followup = any(_has_answer(m.body) for m in o.messages)
        uid = str(p["member"]["user"]["id"])
        if via_callback or via_followup:
            answered += 1
        elif uid in in_channel:
            answered += 1
            channel_only += 1
        settled = [c for c in o.callbacks if c.status != 429 and c.status < 500]
        second += max(0, len(settled) - 1)
    return Outcome(
        total=len(outcomes),
        acked_in_time=sum(1 for o in outcomes if o.acknowledged),
        answered=answered,
        in_channel=channel_only,
        deferred=sum(1 for o in outcomes if o.callback_type == 5),
        second_callbacks=second,
        ack_delays=tuple(o.ack_delay for o in outcomes if o.ack_delay is not None),
    )


def burst(
    fake: FakeDiscord,
    count: int,
    rate: float,
    *,
    first: int = 0,
    distinct: bool = False,
    round_offset: int = 0,
) -> Outcome:
    """``count`` /ask (the article questions in turn) from different members at ``rate`` a second.

    ``distinct`` opens each round of the questions with another greeting ("Hi! When…"), so no two
    are the same and none is answered from the bot's recent answers, while most are still answered
    (a number added to a question would make most of them declines).
    """

    def question(i: int) -> str:
        rounds, index = divmod(i, len(QUESTIONS))
        opening = DISTINCT_OPENINGS[(round_offset + rounds) % len(DISTINCT_OPENINGS)] if distinct else ""
        return opening + QUESTIONS[index]

    sent = fake.dispatch_many(
        "INTERACTION_CREATE",
        lambda i: ask_payload(fake, first + i, question(i)),
        count,
        rate_per_second=rate,
    )
    return outcome(fake, sent.payloads)


def ask_some(
    fake: FakeDiscord, count: int, *, first: int = 0, spacing: float = 0.05, question: str = QUESTION
) -> Outcome:
    """``count`` /ask a little apart (``spacing`` seconds); the outcome."""
    sent = fake.dispatch_many(
        "INTERACTION_CREATE",
        lambda i: ask_payload(fake, first + i, question),
        count,
        rate_per_second=1 / spacing,
    )
    return outcome(fake, sent.payloads)
