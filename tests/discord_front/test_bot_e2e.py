"""The real bot process against the loopback Discord API: what members and admins see."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.discord_front.fake_discord import (
    ADMIN_PERMISSIONS,
    APPLICATION_ID,
    BOT_USER,
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    FakeDiscord,
    message_payload,
    option,
    snowflake,
    subcommand,
    user,
)
from tests.discord_front.harness import (
    BotProcess,
    callback_of,
    response_message,
    run_command,
)
from tests.png import png_size

MEMBER = user(730000000000000001, "member")
ADMIN = user(730000000000000002, "admin")
QUESTION = "When did Chang'e-6 launch?"
QUOTED = "launched May 3"
SOURCE_URL = "https://spacenews.com/esa-china-moon-cooperation-could-end-with-change-6/"
EPHEMERAL = 64


def ask(fake: FakeDiscord, question: str, invoker: dict[str, Any] = MEMBER) -> dict[str, Any]:
    payload, mark = run_command(fake, "ask", [option("question", question)], invoker=invoker)
    return response_message(fake, payload, mark)


def assert_no_pings(body: dict[str, Any]) -> None:
    assert body["allowed_mentions"]["parse"] == []
    assert not body["allowed_mentions"].get("users") and not body["allowed_mentions"].get("roles")


def custom_ids(body: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in body.get("components", []) for c in row["components"]]


def test_logs_in_and_registers_the_commands_to_the_dev_guild(fake: FakeDiscord, bot: BotProcess) -> None:
    paths = [(r.method, r.path) for r in fake.requests]
    assert paths[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    put = fake.find("PUT", f"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands")
    assert len(put) == 1
    registered = {(c["name"], c.get("type", 1)) for c in put[0].body}
    assert {("ask", 1), ("sources", 1), ("help", 1), ("kb", 1), ("Ask citebot", 3)} <= registered
    identify = next(f for f in fake.gateway_frames if f["op"] == 2)
    assert identify["d"]["intents"] & (1 << 15) == 0  # no message content intent unless asked for


def test_ask_replies_with_quotes_link_and_buttons_pinging_nobody(fake: FakeDiscord, bot: BotProcess) -> None:
    payload, mark = run_command(
        fake, "ask", [option("question", f"@everyone <@&123> {QUESTION}")], invoker=MEMBER
    )
    body = callback_of(fake, payload, mark)
    assert body["type"] == 4
    message = body["data"]
    assert_no_pings(message)
    assert not message.get("flags", 0) & EPHEMERAL
    embed = message["embeds"][0]
    assert "> “" in embed["description"]
    assert QUOTED in embed["description"]
    source = embed["fields"][0]["value"]
    assert f"]({SOURCE_URL})" in source and "paragraph" in source and "2024-06-12" in source
    ids = custom_ids(message)
    assert any(i.startswith("citebot:ctx:") for i in ids)
    assert any(i.startswith("citebot:fb:") and i.endswith(":y") for i in ids)


def test_show_context_is_shown_only_to_the_clicker(fake: FakeDiscord, bot: BotProcess) -> None:
    answer = ask(fake, QUESTION)
    context_id = next(i for i in custom_ids(answer) if i.startswith("citebot:ctx:"))
    clicked = click(fake, context_id, answer, MEMBER)
    assert clicked["type"] == 4 and clicked["data"]["flags"] & EPHEMERAL
    assert "paragraph" in clicked["data"]["content"] and QUOTED in clicked["data"]["content"]


def click(
    fake: FakeDiscord, custom_id: str, message: dict[str, Any], invoker: dict[str, Any]
) -> dict[str, Any]:
    shown = message_payload(
        message.get("content") or "",
        author=BOT_USER,
        embeds=message.get("embeds"),
        components=message.get("components"),
    )
    from tests.discord_front.fake_discord import interaction_payload

    payload = interaction_payload(
        3, {"custom_id": custom_id, "component_type": 2}, invoker=invoker, message=shown
    )
    mark = fake.mark()
    fake.dispatch("INTERACTION_CREATE", payload)
    return callback_of(fake, payload, mark)


def test_autocomplete_offers_matching_examples_and_titles(fake: FakeDiscord, bot: BotProcess) -> None:
    from tests.discord_front.fake_discord import command_data, interaction_payload

    data = command_data(fake, "ask", [option("question", "chang", focused=True)])
    payload = interaction_payload(4, data, invoker=MEMBER)
    mark = fake.mark()
    fake.dispatch("INTERACTION_CREATE", payload)
    body = callback_of(fake, payload, mark)
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all("chang" in c["name"].lower() for c in choices)


def test_a_declined_question_offers_suggestion_buttons(fake: FakeDiscord, bot: BotProcess) -> None:
    message = ask(fake, "What is the capital of Peru?")
    assert message["content"].startswith("I don't know that from my sources")
    assert not message.get("embeds")
    assert_no_pings(message)
    assert any(i.startswith("citebot:ask:") for i in custom_ids(message))


def test_a_too_long_question_gets_a_clear_private_message(fake: FakeDiscord, bot: BotProcess) -> None:
    payload, mark = run_command(fake, "ask", [option("question", "why " * 200)], invoker=MEMBER)
    body = callback_of(fake, payload, mark)
    assert body["data"]["flags"] & EPHEMERAL
    assert "characters long" in body["data"]["content"]


def test_a_mention_is_answered_in_the_channel(fake: FakeDiscord, bot: BotProcess) -> None:
    mark = fake.mark()
    message = message_payload(f"<@{BOT_USER_ID}> {QUESTION} @everyone", author=MEMBER, mentions=[BOT_USER])
    fake.dispatch("MESSAGE_CREATE", message)
    reply = fake.wait_request("POST", f"/channels/{CHANNEL_ID}/messages", since=mark)
    assert str(reply.body["message_reference"]["message_id"]) == message["id"]
    assert QUOTED in reply.body["embeds"][0]["description"]
    assert_no_pings(reply.body)


def test_a_reply_to_an_answer_is_answered(fake: FakeDiscord, bot: BotProcess) -> None:
    answer = message_payload("", author=BOT_USER)
    mark = fake.mark()
    message = message_payload("Where did Chang'e-6 land?", author=MEMBER, reference=answer)
    fake.dispatch("MESSAGE_CREATE", message)
    reply = fake.wait_request("POST", f"/channels/{CHANNEL_ID}/messages", since=mark)
    assert str(reply.body["message_reference"]["message_id"]) == message["id"]
    assert reply.body["embeds"]


def test_other_messages_and_bots_are_ignored(fake: FakeDiscord, bot: BotProcess) -> None:
    mark = fake.mark()
    fake.dispatch("MESSAGE_CREATE", message_payload(QUESTION, author=MEMBER))
    fake.dispatch(
        "MESSAGE_CREATE",
        message_payload(f"<@{BOT_USER_ID}> {QUESTION}", author=user(5, "b", bot=True), mentions=[BOT_USER]),
    )
    time.sleep(1.0)
    assert not fake.find("POST", f"/channels/{CHANNEL_ID}/messages", since=mark)


def test_the_context_menu_answers_the_chosen_message(fake: FakeDiscord, bot: BotProcess) -> None:
    target = message_payload(QUESTION, author=MEMBER)
    payload, mark = run_command(
        fake,
        "Ask citebot",
        invoker=MEMBER,
        command_type=3,
        data_extra={"target_id": target["id"], "resolved": {"messages": {target["id"]: target}}},
    )
    message = response_message(fake, payload, mark)
    assert QUOTED in message["embeds"][0]["description"]


def test_sources_and_help(fake: FakeDiscord, bot: BotProcess) -> None:
    payload, mark = run_command(fake, "sources", invoker=MEMBER)
    body = callback_of(fake, payload, mark)
    assert SOURCE_URL in body["data"]["embeds"][0]["description"]
    payload, mark = run_command(fake, "help", invoker=MEMBER)
    assert "/ask" in callback_of(fake, payload, mark)["data"]["content"]


def kb(
    fake: FakeDiscord, sub: dict[str, Any], invoker: dict[str, Any], permissions: str, **kwargs: Any
) -> dict[str, Any]:
    payload, mark = run_command(fake, "kb", [sub], invoker=invoker, permissions=permissions, **kwargs)
    return response_message(fake, payload, mark) | {"_callback": callback_of(fake, payload, mark)}


def test_kb_reload_is_refused_politely_to_a_member(fake: FakeDiscord, bot: BotProcess) -> None:
    from tests.discord_front.fake_discord import MEMBER_PERMISSIONS

    shown = kb(fake, subcommand("reload"), MEMBER, MEMBER_PERMISSIONS)
    assert shown["flags"] & EPHEMERAL
    assert shown["content"].startswith("Sorry, only members with the Manage Server permission")
    assert "refused admin command command=kb reload" in bot.output()


def test_kb_reload_by_an_admin_applies_and_a_broken_file_keeps_the_old_answers(
    fake: FakeDiscord, bot: BotProcess, root: Path
) -> None:
    (root / "knowledge" / "lunar-water.md").write_text(
        "---\ntitle: Water on the moon\nurl: https://example.org/water\npublished: 2025-01-02\n---\n\n"
        "Scientists found water ice in permanently shadowed craters near the lunar south pole.\n",
        encoding="utf-8",
    )
    dry = kb(fake, subcommand("reload", [option("dry_run", True, 5)]), ADMIN, ADMIN_PERMISSIONS)
    assert dry["_callback"]["data"]["flags"] & EPHEMERAL
    assert "Dry run" in dry["content"] and "lunar-water" in dry["content"]
    applied = kb(fake, subcommand("reload"), ADMIN, ADMIN_PERMISSIONS)
    assert "Reloaded" in applied["content"] and "lunar-water" in applied["content"]
    assert "water ice" in ask(fake, "Where was water ice found?")["embeds"][0]["description"]

    (root / "knowledge" / "broken.md").write_text("---\ntitle: [unclosed\n---\n\nText.\n", encoding="utf-8")
    failed = kb(fake, subcommand("reload"), ADMIN, ADMIN_PERMISSIONS)
    assert "Reload failed" in failed["content"] and "broken.md" in failed["content"]
    assert QUOTED in ask(fake, QUESTION)["embeds"][0]["description"]
    assert "water ice" in ask(fake, "Where was water ice found?")["embeds"][0]["description"]
    (root / "knowledge" / "broken.md").unlink()


def test_the_health_file_is_touched_while_connected(bot: BotProcess, root: Path) -> None:
    deadline = time.monotonic() + 15
    while not (root / "health").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    check = subprocess.run([sys.executable, "-m", "bot.health", str(root / "health")], check=False)
    assert check.returncode == 0
    stale = subprocess.run([sys.executable, "-m", "bot.health", str(root / "missing")], check=False)
    assert stale.returncode == 1


def test_a_suggestion_button_asks_its_question(fake: FakeDiscord, bot: BotProcess) -> None:
    declined = ask(fake, "What is the capital of Peru?")
    suggestion = next(i for i in custom_ids(declined) if i.startswith("citebot:ask:"))
    body = click(fake, suggestion, declined, MEMBER)
    assert body["type"] == 4 and not body["data"].get("flags", 0) & EPHEMERAL
    assert_no_pings(body["data"])
    assert body["data"].get("embeds") or body["data"].get("content")


def test_kb_unanswered_lists_declined_questions_newest_first(fake: FakeDiscord, bot: BotProcess) -> None:
    ask(fake, "Who painted the Mona Lisa?")
    shown = kb(fake, subcommand("unanswered"), ADMIN, ADMIN_PERMISSIONS)
    assert shown["_callback"]["data"]["flags"] & EPHEMERAL
    lines = shown["content"].splitlines()
    assert "Who painted the Mona Lisa?" in lines[1]
    assert any("capital of Peru" in line for line in lines[2:])


def test_kb_stats_counts_questions(fake: FakeDiscord, bot: BotProcess) -> None:
    shown = kb(fake, subcommand("stats"), ADMIN, ADMIN_PERMISSIONS)
    assert "questions" in shown["content"] and "answered" in shown["content"]


def test_kb_stats_attaches_a_chart_for_an_admin_and_refuses_a_member(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    from tests.discord_front.fake_discord import MEMBER_PERMISSIONS

    ask(fake, QUESTION)
    payload, mark = run_command(
        fake, "kb", [subcommand("stats")], invoker=ADMIN, permissions=ADMIN_PERMISSIONS
    )
    deferred = callback_of(fake, payload, mark)
    assert deferred["type"] == 5 and deferred["data"]["flags"] & EPHEMERAL
    # The first matplotlib import in the bot can take seconds: the followup may come late.
    shown = fake.wait_for(
        lambda r: (
            r.method in ("POST", "PATCH")
            and r.path.startswith(f"/webhooks/{APPLICATION_ID}/{payload['token']}")
        ),
        since=mark,
        timeout=60,
    )
    assert shown.body["content"].startswith("Last 30 days:") and "answered" in shown.body["content"]
    [chart] = shown.files
    assert chart.filename == "citebot-stats.png"
    assert png_size(chart.data) == (900, 600)
    assert [a["filename"] for a in shown.body["attachments"]] == ["citebot-stats.png"]
    assert_no_pings(shown.body)

    refused, mark = run_command(
        fake, "kb", [subcommand("stats")], invoker=MEMBER, permissions=MEMBER_PERMISSIONS
    )
    answer = callback_of(fake, refused, mark)
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    assert answer["data"]["content"].startswith("Sorry, only members with the Manage Server permission")
    assert "refused admin command command=kb stats" in bot.output()
    ask(fake, QUESTION)  # a round trip after the refusal: anything it sent has arrived by now
    assert not [
        r for r in fake.requests[mark:] if r.files or (refused["token"] in r.path and "webhooks" in r.path)
    ]


def test_answer_channels_and_the_admin_role(fake: FakeDiscord, bot: BotProcess) -> None:
    from tests.discord_front.fake_discord import ANSWER_CHANNEL_ID, MEMBER_PERMISSIONS, ROLE_ID

    channel = {
        "id": str(ANSWER_CHANNEL_ID),
        "type": 0,
        "name": "answers",
        "guild_id": str(GUILD_ID),
        "permissions": ADMIN_PERMISSIONS,
        "position": 1,
        "parent_id": None,
        "nsfw": False,
    }

    added = kb(
        fake,
        subcommand(
            "channel", [subcommand("add", [option("channel", str(ANSWER_CHANNEL_ID), 7)])], group=True
        ),
        ADMIN,
        ADMIN_PERMISSIONS,
        data_extra={"resolved": {"channels": {str(ANSWER_CHANNEL_ID): channel}}},
    )
    assert f"<#{ANSWER_CHANNEL_ID}>" in added["content"]
    mark = fake.mark()
    fake.dispatch("MESSAGE_CREATE", message_payload(QUESTION, author=MEMBER, channel_id=ANSWER_CHANNEL_ID))
    reply = fake.wait_request("POST", f"/channels/{ANSWER_CHANNEL_ID}/messages", since=mark)
    assert QUOTED in reply.body["embeds"][0]["description"]

    role_id = ROLE_ID
    listing = subcommand("channel", [subcommand("list")], group=True)
    assert kb(fake, listing, MEMBER, MEMBER_PERMISSIONS)["content"].startswith("Sorry")
    role = {
        "id": str(role_id),
        "name": "kb admins",
        "permissions": "0",
        "position": 1,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    set_role = kb(
        fake,
        subcommand("adminrole", [option("role", str(role_id), 8)]),
        ADMIN,
        ADMIN_PERMISSIONS,
        data_extra={"resolved": {"roles": {str(role_id): role}}},
    )
    assert "may now use /kb" in set_role["content"]
    payload, mark = run_command(
        fake, "kb", [listing], invoker=MEMBER, permissions=MEMBER_PERMISSIONS, roles=[role_id]
    )
    assert str(ANSWER_CHANNEL_ID) in response_message(fake, payload, mark)["content"]


def _attach(fake: FakeDiscord, name: str, content: bytes) -> tuple[str, dict[str, Any]]:
    """A file the fake serves, as an attachment id and the command's ``resolved`` data."""
    fake.files[name] = content
    attachment_id = str(snowflake())
    attachment = {
        "id": attachment_id,
        "filename": name,
        "size": len(content),
        "content_type": "text/markdown",
        "url": f"{fake.base_url}/files/{name}",
        "proxy_url": f"{fake.base_url}/files/{name}",
    }
    return attachment_id, {"resolved": {"attachments": {attachment_id: attachment}}}


def test_kb_add_and_remove_a_document(fake: FakeDiscord, bot: BotProcess) -> None:
    attachment_id, resolved = _attach(
        fake, "rovers.md", b"Yutu-2 is the rover that explores the far side of the moon since 2019.\n"
    )
    payload, mark = run_command(
        fake,
        "kb",
        [
            subcommand(
                "add",
                [
                    option("file", attachment_id, 11),
                    option("title", "Moon rovers"),
                    option("url", "https://example.org/rovers"),
                ],
            )
        ],
        invoker=ADMIN,
        permissions=ADMIN_PERMISSIONS,
        data_extra=resolved,
    )
    added = response_message(fake, payload, mark)
    assert "Added **Moon rovers**" in added["content"]
    doc_id = added["content"].split("`")[1]
    assert "Yutu-2" in ask(fake, "Which rover explores the far side of the moon?")["embeds"][0]["description"]
    removed = kb(fake, subcommand("remove", [option("document", doc_id)]), ADMIN, ADMIN_PERMISSIONS)
    assert removed["content"] == f"Removed `{doc_id}`."


def test_kb_add_without_a_title_takes_the_first_heading_and_says_so(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    attachment_id, resolved = _attach(
        fake, "landers.md", b"# Lunar landers\n\nChang'e-3 landed in Mare Imbrium in December 2013.\n"
    )
    payload, mark = run_command(
        fake,
        "kb",
        [subcommand("add", [option("file", attachment_id, 11)])],
        invoker=ADMIN,
        permissions=ADMIN_PERMISSIONS,
        data_extra=resolved,
    )
    added = response_message(fake, payload, mark)
    assert "Added **Lunar landers**" in added["content"]
    assert "The title is its first heading" in added["content"]
    doc_id = added["content"].split("`")[1]
    kb(fake, subcommand("remove", [option("document", doc_id)]), ADMIN, ADMIN_PERMISSIONS)


def test_a_direct_message_is_answered(fake: FakeDiscord, bot: BotProcess) -> None:
    from tests.discord_front.fake_discord import DM_CHANNEL_ID

    mark = fake.mark()
    fake.dispatch(
        "MESSAGE_CREATE", message_payload(QUESTION, author=MEMBER, channel_id=DM_CHANNEL_ID, guild_id=None)
    )
    reply = fake.wait_request("POST", f"/channels/{DM_CHANNEL_ID}/messages", since=mark)
    assert QUOTED in reply.body["embeds"][0]["description"]


def test_a_servers_cooldown_gets_a_polite_note(fake: FakeDiscord, bot: BotProcess) -> None:
    hasty = user(730000000000000003, "hasty")
    set_cooldown = kb(fake, subcommand("cooldown", [option("seconds", 60, 10)]), ADMIN, ADMIN_PERMISSIONS)
    assert "every 60 seconds" in set_cooldown["content"]
    try:
        assert ask(fake, QUESTION, invoker=hasty)["embeds"]
        payload, mark = run_command(fake, "ask", [option("question", QUESTION)], invoker=hasty)
        body = callback_of(fake, payload, mark)
        assert body["data"]["flags"] & EPHEMERAL and "Please wait" in body["data"]["content"]
    finally:
        kb(fake, subcommand("cooldown", [option("seconds", 0, 10)]), ADMIN, ADMIN_PERMISSIONS)
