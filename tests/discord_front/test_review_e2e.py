"""/kb review against the loopback Discord: an admin teaches, a member is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from tests.discord_front.fake_discord import (
    ADMIN_PERMISSIONS,
    BOT_USER,
    MEMBER_PERMISSIONS,
    FakeDiscord,
    interaction_payload,
    message_payload,
    option,
    subcommand,
    user,
)
from tests.discord_front.harness import BotProcess, callback_of, response_message, run_command

MEMBER = user(730000000000000011, "member")
ADMIN = user(730000000000000012, "admin")
EPHEMERAL = 64
DECLINE = "I don't know that from my sources"
# Declined by the bot; the second candidate sentence answers it.
KOUROU = "Who runs the Kourou station?"
KOUROU_SENTENCE = "Kourou station in French Guiana tracked the spacecraft"
KOUROU_REFERENCE = "esa-china-moon-cooperation:21:2"
PRICING = "How much does a ticket to the moon cost?"
PRICING_REPLY = "We don't cover pricing here, see #billing"
PERU = "What is the capital of Peru?"


def ask(fake: FakeDiscord, question: str) -> dict[str, Any]:
    payload, mark = run_command(fake, "ask", [option("question", question)], invoker=MEMBER)
    return response_message(fake, payload, mark)


def review(fake: FakeDiscord, invoker: dict[str, Any], permissions: str) -> dict[str, Any]:
    """Run /kb review; the callback body (type and data)."""
    payload, mark = run_command(fake, "kb", [subcommand("review")], invoker=invoker, permissions=permissions)
    return callback_of(fake, payload, mark)


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for row in message.get("components", []) for c in row["components"]]


def component(message: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(c for c in components(message) if c["custom_id"].startswith(prefix))


def interact(
    fake: FakeDiscord,
    message: dict[str, Any],
    data: dict[str, Any],
    invoker: dict[str, Any],
    permissions: str,
    kind: int = 3,
) -> dict[str, Any]:
    """A component click (or a modal submit, ``kind`` 5) on ``message``; the callback body."""
    shown = message_payload(
        message.get("content") or "", author=BOT_USER, components=message.get("components"), flags=EPHEMERAL
    )
    payload = interaction_payload(kind, data, invoker=invoker, permissions=permissions, message=shown)
    mark = fake.mark()
    fake.dispatch("INTERACTION_CREATE", payload)
    return callback_of(fake, payload, mark)


def choose(
    fake: FakeDiscord, message: dict[str, Any], value: str, invoker: dict[str, Any], permissions: str
) -> dict[str, Any]:
    menu = component(message, "citebot:rv:cite:")
    data = {"custom_id": menu["custom_id"], "component_type": 3, "values": [value]}
    return interact(fake, message, data, invoker, permissions)


def click(
    fake: FakeDiscord, message: dict[str, Any], prefix: str, invoker: dict[str, Any], permissions: str
) -> dict[str, Any]:
    button = component(message, prefix)
    return interact(
        fake, message, {"custom_id": button["custom_id"], "component_type": 2}, invoker, permissions
    )


def test_a_member_is_refused_and_changes_nothing(fake: FakeDiscord, bot: BotProcess) -> None:
    assert ask(fake, KOUROU)["content"].startswith(DECLINE)
    refused = review(fake, MEMBER, MEMBER_PERMISSIONS)
    assert refused["data"]["flags"] & EPHEMERAL
    assert refused["data"]["content"].startswith("Sorry, only members with the Manage Server permission")

    # A member replaying an admin's menu (its custom id) is refused too, and nothing is taught.
    shown = review(fake, ADMIN, ADMIN_PERMISSIONS)["data"]
    forged = choose(fake, shown, KOUROU_REFERENCE, MEMBER, MEMBER_PERMISSIONS)
    assert forged["data"]["flags"] & EPHEMERAL and forged["data"]["content"].startswith("Sorry, only")
    not_in = click(fake, shown, "citebot:rv:none:", MEMBER, MEMBER_PERMISSIONS)
    assert not_in["data"]["content"].startswith("Sorry, only")
    assert "refused admin command" in bot.output()
    assert ask(fake, KOUROU)["content"].startswith(DECLINE)
    assert KOUROU in review(fake, ADMIN, ADMIN_PERMISSIONS)["data"]["content"]


def test_an_admin_teaches_a_sentence_and_the_next_question_is_answered(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    body = review(fake, ADMIN, ADMIN_PERMISSIONS)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    shown = body["data"]
    assert KOUROU in shown["content"] and "of 1 left" in shown["content"] and "declined" in shown["content"]
    menu = component(shown, "citebot:rv:cite:")
    assert 1 <= len(menu["options"]) <= 5
    assert KOUROU_REFERENCE in [o["value"] for o in menu["options"]]
    assert f"`{KOUROU_REFERENCE}`" in shown["content"]  # the candidates, with what citations show
    labels = {c.get("label") for c in components(shown)}
    assert {"Not in the sources", "Reply with…", "Skip", "Previous"} <= labels

    taught = choose(fake, shown, KOUROU_REFERENCE, ADMIN, ADMIN_PERMISSIONS)
    assert taught["type"] == 7  # the review message moves on in place
    assert taught["data"]["content"].startswith("Taught:")
    assert "Nothing to review" in taught["data"]["content"]  # it left the queue

    # No reload, no restart: the very next question is answered from the taught sentence.
    answer = ask(fake, KOUROU)
    assert KOUROU_SENTENCE in answer["embeds"][0]["description"]


def test_reply_with_stores_a_fixed_reply(fake: FakeDiscord, bot: BotProcess) -> None:
    assert ask(fake, PRICING)["content"].startswith(DECLINE)
    shown = review(fake, ADMIN, ADMIN_PERMISSIONS)["data"]
    assert PRICING in shown["content"]
    modal = click(fake, shown, "citebot:rv:reply:", ADMIN, ADMIN_PERMISSIONS)
    assert modal["type"] == 9
    rows = modal["data"]["components"]
    field = next(c for row in rows for c in ([row["component"]] if "component" in row else row["components"]))
    submitted_rows = [
        {**row, "component": {**field, "value": PRICING_REPLY}}
        if "component" in row
        else {"type": 1, "components": [{"type": 4, "custom_id": field["custom_id"], "value": PRICING_REPLY}]}
        for row in rows
    ]
    submit = {"custom_id": modal["data"]["custom_id"], "components": submitted_rows}
    done = interact(fake, shown, submit, ADMIN, ADMIN_PERMISSIONS, kind=5)
    assert done["type"] == 7 and done["data"]["content"].startswith("Taught:")
    assert ask(fake, PRICING)["content"] == PRICING_REPLY


def test_not_in_the_sources_and_skip(fake: FakeDiscord, bot: BotProcess) -> None:
    ask(fake, PERU)
    ask(fake, "Who painted the Mona Lisa?")
    first = review(fake, ADMIN, ADMIN_PERMISSIONS)["data"]
    assert "Question 1 of 2 left" in first["content"] and "Mona Lisa" in first["content"]
    skipped = click(fake, first, "citebot:rv:skip:", ADMIN, ADMIN_PERMISSIONS)["data"]
    assert "Question 2 of 2 left" in skipped["content"] and PERU in skipped["content"]
    back = click(fake, skipped, "citebot:rv:prev:", ADMIN, ADMIN_PERMISSIONS)["data"]
    assert "Mona Lisa" in back["content"]

    gone = click(fake, skipped, "citebot:rv:none:", ADMIN, ADMIN_PERMISSIONS)["data"]
    assert gone["content"].startswith("Marked as not in the sources")
    assert "of 1 left" in gone["content"] and PERU not in gone["content"].split("\n", 2)[2]
    assert ask(fake, PERU)["content"].startswith(DECLINE)  # it keeps declining...
    assert PERU not in review(fake, ADMIN, ADMIN_PERMISSIONS)["data"]["content"]  # ...and stays out
