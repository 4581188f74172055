"""The real ``python -m bot telegram`` against the loopback Bot API: what members and admins get.

One bot serves the whole module (``conftest.bot``); at its end the fixture checks that it
stopped cleanly, never sent Telegram HTML that does not parse, never called a method Telegram
lacks, and never logged the token.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.png import png_size
from tests.telegram_front.conftest import ADMIN_ID
from tests.telegram_front.fake_telegram import (
    BOT_ID,
    BOT_USERNAME,
    FakeTelegram,
    Recorded,
    group_chat,
    parse_html,
    user,
)
from tests.telegram_front.harness import TelegramBot, reply_to

LAUNCH = (
    "ESA provided a payload for China’s Chang’e-6 complex lunar far side sample return mission "
    "which launched May 3."
)
PARAGRAPH_2_END = "providing unprecedented insights into the moon’s composition and history."
ARTICLE_URL = "https://spacenews.com/esa-china-moon-cooperation-could-end-with-change-6/"
MEMBER = user(500001, "Mia", "mia_member")
OTHER = user(500002, "Olu")
ADMIN = user(ADMIN_ID, "Ada", "ada_admin")
GROUP = group_chat(4242, "Moon fans", supergroup=True)


def plain(recorded: Recorded) -> str:
    """What the member reads."""
    return parse_html(recorded.params["text"])


def buttons(recorded: Recorded) -> list[dict[str, Any]]:
    """The inline keyboard's buttons, row after row."""
    markup = recorded.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def bot_message(recorded: Recorded) -> dict[str, Any]:
    """The message Telegram made of an accepted sendMessage (what a button press refers to)."""
    message: dict[str, Any] = recorded.result
    return message


def ask_privately(fake: FakeTelegram, sender: dict[str, Any], text: str) -> Recorded:
    mark = fake.mark()
    return reply_to(fake, fake.private_message(sender, text), mark)


def logged(root: Path, question: str) -> list[Any]:
    """The question log's rows of ``question`` (written by a background task: waits a little)."""
    deadline = time.monotonic() + 10
    rows: list[Any] = []
    while time.monotonic() < deadline and not rows:
        with sqlite3.connect(root / "data" / "citebot.db") as raw:
            rows = raw.execute(
                "SELECT front, user_hash, channel_id, guild_id FROM questions WHERE question = ?", (question,)
            ).fetchall()
        raw.close()
        time.sleep(0.1)
    return rows


def no_reply_within(fake: FakeTelegram, chat_id: int, since: int, seconds: float) -> None:
    time.sleep(seconds)
    sent = [r for r in fake.find("sendMessage", since) if r.params.get("chat_id") == chat_id]
    assert sent == [], [r.params.get("text") for r in sent]


def test_start_up_gets_me_and_registers_member_and_admin_commands(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    assert fake.find("getMe") and fake.find("deleteWebhook")  # polling: no webhook left behind
    assert [c["command"] for c in fake.commands_for()] == ["ask", "sources", "help"]
    for admin_id in (ADMIN_ID, 222222):
        scoped = [c["command"] for c in fake.commands_for({"type": "chat", "chat_id": admin_id})]
        assert scoped == ["ask", "sources", "help", "reload", "unanswered", "stats"]
    fake.wait_polling()
    assert set(fake.allowed_updates or ()) == {"message", "callback_query", "inline_query"}


def test_a_private_message_is_answered_with_a_cited_verbatim_quote(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    reply = ask_privately(fake, MEMBER, "When did Chang'e-6 launch?")
    params = reply.params
    assert params["parse_mode"] == "HTML"
    assert params["link_preview_options"] == {"is_disabled": True}
    assert params["reply_parameters"]["allow_sending_without_reply"] is True
    text = plain(reply)
    assert f"“{LAUNCH}”" in text  # the sentence, word for word, in quotation marks
    assert "ESA-China moon cooperation could end with Chang'e-6, paragraph 2 · published 2024-06-12" in text
    assert f'<a href="{ARTICLE_URL}">' in params["text"]  # the title links to the source
    labels = [b["text"] for b in buttons(reply)]
    assert labels == ["📄 Show context", "👍", "👎"]


def test_markup_in_a_question_is_shown_as_typed_and_never_injected(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    question = "When did Chang'e-6 launch? <b>now</b> & </i>"
    reply = ask_privately(fake, MEMBER, question)
    assert LAUNCH in plain(reply)
    # The question comes back in the admin's stats, as typed: escaped, not markup.
    stats = ask_privately(fake, ADMIN, "/stats")
    assert question.lower() in plain(stats).lower()
    assert "<b>now</b>" not in stats.params["text"]


def test_show_context_answers_the_press_at_once_and_sends_the_whole_paragraph(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    answer = ask_privately(fake, MEMBER, "When did Chang'e-6 launch?")
    [context_button] = [b for b in buttons(answer) if b["text"] == "📄 Show context"]
    mark = fake.mark()
    press = fake.callback_query(MEMBER, bot_message(answer), context_button["callback_data"])
    answered = fake.wait_request("answerCallbackQuery", since=mark)
    assert answered.ok and answered.params["callback_query_id"] == press["callback_query"]["id"]
    shown = fake.wait_for(
        lambda r: r.method == "sendMessage" and PARAGRAPH_2_END in r.params.get("text", ""), since=mark
    )
    assert LAUNCH in plain(shown) and "paragraph 2" in plain(shown)
    assert shown.params["reply_parameters"]["message_id"] == answer.result["message_id"]
    # The press was answered before the paragraph was sent.
    assert answered.at <= shown.at


def test_votes_are_acknowledged_and_counted_once_per_member(fake: FakeTelegram, bot: TelegramBot) -> None:
    before = plain(ask_privately(fake, ADMIN, "/stats"))
    answer = ask_privately(fake, MEMBER, "Who wrote the article?")
    up = next(b for b in buttons(answer) if b["text"] == "👍")
    down = next(b for b in buttons(answer) if b["text"] == "👎")
    for press in (up, down):  # a second vote replaces the first
        mark = fake.mark()
        fake.callback_query(MEMBER, bot_message(answer), press["callback_data"])
        acknowledged = fake.wait_request("answerCallbackQuery", since=mark)
        assert acknowledged.params.get("text") == "Thanks for the feedback!"
    after = plain(ask_privately(fake, ADMIN, "/stats"))
    helpful = int(before.split("Feedback: ")[1].split(" helpful")[0])
    not_helpful = int(before.split("helpful, ")[1].split(" not helpful")[0])
    assert f"Feedback: {helpful} helpful, {not_helpful + 1} not helpful." in after


def test_forged_or_stale_button_data_is_answered_politely(fake: FakeTelegram, bot: TelegramBot) -> None:
    answer = ask_privately(fake, MEMBER, "When did Chang'e-6 launch?")
    for data in ("c:²@x", "f:²:y", "s:²", "f:99999999999999999999999999:y", "zz", "f:1:y"):
        mark = fake.mark()
        fake.callback_query(MEMBER, bot_message(answer), data)
        acknowledged = fake.wait_request("answerCallbackQuery", since=mark)
        assert acknowledged.params.get("text") in (
            "This button no longer works.",
            "That answer is too old to vote on.",
        )
    assert "Traceback" not in bot.output()


def test_a_decline_offers_suggestions_as_buttons_and_a_press_answers_one(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    decline = ask_privately(fake, MEMBER, "What is the capital of Peru?")
    text = plain(decline)
    assert text.startswith("I don't know that from my sources.")
    assert "Questions I can answer that are close to yours:" in text
    suggestions = buttons(decline)
    assert suggestions and all(f"• {b['text']}" in text for b in suggestions)
    mark = fake.mark()
    fake.callback_query(MEMBER, bot_message(decline), suggestions[0]["callback_data"])
    assert fake.wait_request("answerCallbackQuery", since=mark).ok
    answer = fake.wait_for(
        lambda r: (
            r.method == "sendMessage"
            and r.params["reply_parameters"]["message_id"] == decline.result["message_id"]
        ),
        since=mark,
    )
    assert plain(answer).startswith(suggestions[0]["text"])  # the question, then its cited answer
    assert "“" in plain(answer) and "paragraph" in plain(answer)


def test_start_help_and_sources(fake: FakeTelegram, bot: TelegramBot) -> None:
    start = plain(ask_privately(fake, MEMBER, "/start"))
    assert start.startswith("Hi! I'm citebot.") and "/sources" in start
    assert "Admin commands" not in start
    assert "Admin commands" in plain(ask_privately(fake, ADMIN, "/help"))
    sources = ask_privately(fake, MEMBER, "/sources")
    assert "My sources (1)" in plain(sources)
    assert (
        f'<a href="{ARTICLE_URL}">ESA-China moon cooperation could end with Chang\'e-6</a>'
        in sources.params["text"]
    )
    assert "2024-06-12" in plain(sources)


def test_an_empty_ask_gets_usage_and_a_long_question_a_polite_limit(
    fake: FakeTelegram, bot: TelegramBot, root: Path
) -> None:
    assert plain(ask_privately(fake, MEMBER, "/ask")).startswith(
        "Ask me a question after the command, like:\n/ask "
    )
    # A question on the lines after the command is asked whole.
    assert LAUNCH in plain(ask_privately(fake, MEMBER, "/ask\nWhen did the Chang'e-6\nmission launch?"))
    assert logged(root, "When did the Chang'e-6 mission launch?")
    long = "Why " + "really " * 100 + "?"
    assert "please keep it to 500 characters or fewer" in plain(ask_privately(fake, MEMBER, long))
    assert "please keep it to 500 characters or fewer" in plain(ask_privately(fake, MEMBER, "/ask " + long))


def test_non_text_and_unknown_commands_get_a_hint(fake: FakeTelegram, bot: TelegramBot) -> None:
    assert "I don't know that command" in plain(ask_privately(fake, MEMBER, "/frobnicate"))
    mark = fake.mark()
    sticker = fake.push_update(
        {
            "message": {
                "message_id": 990001,
                "from": MEMBER,
                "chat": {"id": MEMBER["id"], "type": "private", "first_name": "Mia"},
                "date": int(time.time()),
                "sticker": {
                    "file_id": "x",
                    "file_unique_id": "y",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                },
            }
        }
    )
    assert "only answer questions written as text" in plain(reply_to(fake, sticker, mark))


def test_in_groups_mentions_replies_and_ask_are_answered_and_the_rest_ignored(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    mark = fake.mark()
    mention = fake.group_message(MEMBER, GROUP, f"@{BOT_USERNAME} when did Chang'e-6 launch?")
    answer = reply_to(fake, mention, mark)
    assert LAUNCH in plain(answer)
    for text in (f"/ask@{BOT_USERNAME} When did Chang'e-6 launch?", "/ask When did Chang'e-6 launch?"):
        mark = fake.mark()
        assert LAUNCH in plain(reply_to(fake, fake.group_message(OTHER, GROUP, text), mark))
    mark = fake.mark()
    follow_up = fake.group_message(OTHER, GROUP, "Who wrote it?", reply_to=bot_message(answer))
    assert "Andrew Jones" in plain(reply_to(fake, follow_up, mark))
    # Not for the bot: chatter, another bot's command, a reply to someone else, a mention of someone else.
    mark = fake.mark()
    fake.group_message(MEMBER, GROUP, "When did Chang'e-6 launch?")
    fake.group_message(MEMBER, GROUP, "/ask@some_other_bot When did Chang'e-6 launch?")
    fake.group_message(OTHER, GROUP, "Who wrote it?", reply_to=mention["message"])
    fake.group_message(OTHER, GROUP, "@someone_else when did Chang'e-6 launch?")
    no_reply_within(fake, GROUP["id"], mark, 1.5)
    # An anonymous group admin (sent as the group itself) is answered like anyone.
    mark = fake.mark()
    anonymous = fake.push_update(
        {
            "message": {
                "message_id": 880001,
                "from": user(1087968824, "Group", "GroupAnonymousBot", is_bot=True),
                "sender_chat": GROUP,
                "chat": GROUP,
                "date": int(time.time()),
                "text": f"@{BOT_USERNAME} when did Chang'e-6 launch?",
                "entities": [{"type": "mention", "offset": 0, "length": len(BOT_USERNAME) + 1}],
            }
        }
    )
    assert LAUNCH in plain(reply_to(fake, anonymous, mark))
    # An empty mention gets how to ask.
    mark = fake.mark()
    assert "Ask me a question" in plain(
        reply_to(fake, fake.group_message(MEMBER, GROUP, f"@{BOT_USERNAME}"), mark)
    )


def test_inline_mode_returns_the_cited_answer(fake: FakeTelegram, bot: TelegramBot) -> None:
    mark = fake.mark()
    query = fake.inline_query(MEMBER, "When did Chang'e-6 launch?")
    answered = fake.wait_request("answerInlineQuery", since=mark)
    assert answered.ok and answered.params["inline_query_id"] == query["inline_query"]["id"]
    [result] = answered.params["results"]
    content = result["input_message_content"]
    assert content["parse_mode"] == "HTML" and content["link_preview_options"] == {"is_disabled": True}
    shown = parse_html(content["message_text"])
    assert shown.startswith("When did Chang'e-6 launch?") and f"“{LAUNCH}”" in shown
    # More than two queries a second from one member get no results, not time on the answering thread.
    mark = fake.mark()
    fake.inline_query(MEMBER, "Who wrote the article?")
    assert fake.wait_request("answerInlineQuery", since=mark).params["results"] == []


def test_inline_mode_offers_the_suggestions_answers_for_a_decline(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    mark = fake.mark()
    fake.inline_query(OTHER, "What is the capital of Peru?")
    results = fake.wait_request("answerInlineQuery", since=mark).params["results"]
    decline = ask_privately(fake, OTHER, "What is the capital of Peru?")
    suggested = [b["text"] for b in buttons(decline)]
    assert results and [r["title"] for r in results] == suggested[: len(results)]
    for result in results:
        shown = parse_html(result["input_message_content"]["message_text"])
        assert shown.startswith(result["title"]) and "“" in shown  # each one an answer, cited


def test_stats_sends_a_chart_after_the_text(fake: FakeTelegram, bot: TelegramBot) -> None:
    ask_privately(fake, MEMBER, "When did Chang'e-6 launch?")
    mark = fake.mark()
    update = fake.private_message(ADMIN, "/stats 7")
    text = reply_to(fake, update, mark)
    assert plain(text).startswith("Last 7 days:")
    # The first matplotlib import in the bot can take seconds.
    photo = fake.wait_request("sendPhoto", since=mark, timeout=60)
    assert photo.ok, photo.response
    assert photo.at > text.at
    assert photo.params["chat_id"] == ADMIN["id"]
    assert photo.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert photo.params["photo"]["file_name"] == "citebot-stats.png"
    assert png_size(fake.uploads["photo"]) == (900, 600)


def test_admin_commands_refuse_non_admins_and_change_nothing(
    fake: FakeTelegram, bot: TelegramBot, root: Path
) -> None:
    (root / "knowledge" / "tea.md").write_text(
        "---\ntitle: Tea notes\nurl: https://example.org/tea\n---\n\n"
        "Green tea comes from Camellia sinensis leaves.\n",
        encoding="utf-8",
    )
    start = fake.mark()
    try:
        for command in ("/reload", "/reload dry", "/unanswered", "/stats"):
            name = command.split()[0]
            assert (
                plain(ask_privately(fake, MEMBER, command)) == f"Sorry, only citebot's admins can use {name}."
            )
            mark = fake.mark()
            in_group = fake.group_message(MEMBER, GROUP, f"{name}@{BOT_USERNAME}")
            assert "only citebot's admins" in plain(reply_to(fake, in_group, mark))
        # A citebot admin in a group is asked to use a private chat: the reports hold members' questions.
        mark = fake.mark()
        in_group = fake.group_message(ADMIN, GROUP, f"/unanswered@{BOT_USERNAME}")
        assert plain(reply_to(fake, in_group, mark)).startswith(
            "Please use /unanswered in a private chat with me"
        )
        bot.wait_logged("refused /stats to a non-admin")
        assert str(MEMBER["id"]) not in bot.output()  # refusals are logged with a pseudonym
        assert fake.find("sendPhoto", start) == []  # no chart for them either
        # Nothing was reloaded: the new document is not served.
        assert plain(ask_privately(fake, MEMBER, "Where does green tea come from?")).startswith(
            "I don't know"
        )
        dry = plain(ask_privately(fake, ADMIN, "/reload dry"))
        assert dry.startswith("Dry run: nothing applied.") and "Added: tea" in dry
        assert plain(ask_privately(fake, MEMBER, "Where does green tea come from?")).startswith(
            "I don't know"
        )
        assert plain(ask_privately(fake, ADMIN, "/reload")).startswith("Reloaded: now serving version")
        assert "Camellia sinensis" in plain(ask_privately(fake, MEMBER, "Where does green tea come from?"))
    finally:
        (root / "knowledge" / "tea.md").unlink()
        assert plain(ask_privately(fake, ADMIN, "/reload")).startswith("Reloaded")


def test_a_failed_reload_keeps_the_knowledge_and_says_why(
    fake: FakeTelegram, bot: TelegramBot, root: Path
) -> None:
    broken = root / "knowledge" / "broken.yaml"
    broken.write_text("intents: [unclosed\n", encoding="utf-8")
    try:
        failed = plain(ask_privately(fake, ADMIN, "/reload"))
        assert failed.startswith("Reload failed; I keep answering from the previous knowledge.")
        assert "broken.yaml" in failed
        assert LAUNCH in plain(ask_privately(fake, MEMBER, "When did Chang'e-6 launch?"))
    finally:
        broken.unlink()


def test_unanswered_lists_declined_questions_for_admins(fake: FakeTelegram, bot: TelegramBot) -> None:
    ask_privately(fake, MEMBER, "How tall is the Eiffel tower?")
    listed = plain(ask_privately(fake, ADMIN, "/unanswered"))
    assert listed.startswith("Declined questions, page 1 (newest first):")
    assert listed.splitlines()[1].endswith("How tall is the Eiffel tower?")
    assert "Usage: /unanswered" in plain(ask_privately(fake, ADMIN, "/unanswered two"))
    assert "Usage: /stats" in plain(ask_privately(fake, ADMIN, "/stats 9999"))


def test_questions_are_logged_with_pseudonyms_marked_as_telegram(
    fake: FakeTelegram, bot: TelegramBot, root: Path
) -> None:
    ask_privately(fake, OTHER, "Who is Andrew Jones?")
    rows = logged(root, "Who is Andrew Jones?")
    [(front, user_hash, channel_id, guild_id)] = rows
    assert front == "telegram" and guild_id is None and channel_id == OTHER["id"]
    assert len(user_hash) == 32 and str(OTHER["id"]) not in user_hash


def test_a_429_is_waited_out_and_the_answer_still_delivered(fake: FakeTelegram, bot: TelegramBot) -> None:
    fake.rate_limit_next("sendMessage", retry_after=1)
    mark = fake.mark()
    update = fake.private_message(MEMBER, "When did Chang'e-6 launch?")
    delivered = reply_to(fake, update, mark, timeout=20)
    refused = [r for r in fake.find("sendMessage", mark) if r.status == 429]
    assert len(refused) == 1 and LAUNCH in plain(delivered)
    assert delivered.at - refused[0].at >= 0.9  # it waited retry_after before sending again


def test_a_server_error_is_retried(fake: FakeTelegram, bot: TelegramBot) -> None:
    fake.fail_next("sendMessage", status=502)
    mark = fake.mark()
    update = fake.private_message(MEMBER, "When did Chang'e-6 launch?")
    assert LAUNCH in plain(reply_to(fake, update, mark, timeout=20))


def test_replies_to_one_chat_keep_order_and_about_one_a_second(fake: FakeTelegram, bot: TelegramBot) -> None:
    chatty = user(500077, "Chatty")
    questions = ["When did Chang'e-6 launch?", "Who wrote the article?", "What is NILS?", "What is the ILRS?"]
    mark = fake.mark()
    updates = [fake.private_message(chatty, q) for q in questions]
    replies = [reply_to(fake, u, mark, timeout=20) for u in updates]
    assert [r.at for r in replies] == sorted(r.at for r in replies)  # in the order asked
    gaps = [b.at - a.at for a, b in itertools.pairwise(replies)]
    assert min(gaps) >= 0.9, gaps


def test_a_failing_handler_is_logged_once_and_the_bot_keeps_serving(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.fail_next("sendMessage", status=400, description="Bad Request: message thread not found")
    mark = fake.mark()
    update = fake.private_message(MEMBER, "When did Chang'e-6 launch?")
    apology = (
        reply_to(fake, update, mark)
        if False
        else fake.wait_for(
            lambda r: (
                r.method == "sendMessage" and r.ok and "something went wrong" in r.params.get("text", "")
            ),
            since=mark,
        )
    )
    assert apology.params["chat_id"] == MEMBER["id"]
    bot.wait_logged(f"error handling update={update['update_id']}")
    assert bot.output().count(f"error handling update={update['update_id']}") == 1
    assert LAUNCH in plain(ask_privately(fake, MEMBER, "When did Chang'e-6 launch?"))


def test_the_health_file_says_ok_while_polling(bot: TelegramBot, root: Path) -> None:
    import subprocess
    import sys

    deadline = time.monotonic() + 15
    while not (root / "health").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    check = subprocess.run(
        [sys.executable, "-m", "bot.health", str(root / "health")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and check.stdout.startswith("healthy (ok)")


@pytest.mark.parametrize("bot_id", [BOT_ID])
def test_the_bot_never_answers_itself(fake: FakeTelegram, bot: TelegramBot, bot_id: int) -> None:
    mark = fake.mark()
    itself = user(bot_id, "citebot", BOT_USERNAME, is_bot=True)
    fake.group_message(itself, GROUP, f"@{BOT_USERNAME} When did Chang'e-6 launch?")
    no_reply_within(fake, GROUP["id"], mark, 1.0)
