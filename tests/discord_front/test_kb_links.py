"""``/kb add url:`` through the real bot against the loopback Discord, fetching a loopback web server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.discord_front.fake_discord import (
    ADMIN_PERMISSIONS,
    MEMBER_PERMISSIONS,
    TOKEN,
    FakeDiscord,
    option,
    subcommand,
)
from tests.discord_front.harness import BotProcess, start_bot
from tests.discord_front.test_bot_e2e import ADMIN, EPHEMERAL, MEMBER, ask, click, custom_ids, kb
from tests.web_pages import PageServer


@pytest.fixture(scope="module")
def server() -> Iterator[PageServer]:
    pages = PageServer().start()
    yield pages
    pages.stop()


@pytest.fixture(scope="module")
def bot(fake: FakeDiscord, root: Path) -> Iterator[BotProcess]:
    """The bot, allowed to fetch from the loopback web server."""
    process = start_bot(fake, root, ALLOW_PRIVATE_URLS="true", FETCH_TIMEOUT_SECONDS="5")
    yield process
    assert process.stop() == 0, process.output()
    assert TOKEN not in process.output()


def add_url(
    fake: FakeDiscord, invoker: dict[str, Any], permissions: str, *options: dict[str, Any]
) -> dict[str, Any]:
    return kb(fake, subcommand("add", list(options)), invoker, permissions)


def test_a_member_cannot_make_the_bot_fetch(fake: FakeDiscord, bot: BotProcess, server: PageServer) -> None:
    shown = add_url(fake, MEMBER, MEMBER_PERMISSIONS, option("url", server.url("/article.html")))
    assert shown["flags"] & EPHEMERAL
    assert shown["content"].startswith("Sorry, only members with the Manage Server permission")
    assert server.requests == []  # refused before fetching anything
    assert "Yutu-2" not in str(ask(fake, "Which rover explores the far side of the Moon?"))


def test_an_admin_adds_a_page_and_answers_cite_it(
    fake: FakeDiscord, bot: BotProcess, server: PageServer
) -> None:
    url = server.url("/article.html")
    shown = add_url(fake, ADMIN, ADMIN_PERMISSIONS, option("url", url))
    assert shown["_callback"]["data"]["flags"] & EPHEMERAL
    assert shown["content"].startswith(
        f"Added **Far side rovers** (`far-side-rovers`, 5 paragraphs) from <{url}>."
    )
    assert "The title is the page's title; the `title` option sets another." in shown["content"]
    answer = ask(fake, "Which rover has explored the far side of the Moon since 2019?")
    assert "Yutu-2 is the rover" in answer["embeds"][0]["description"]
    assert f"]({url}), paragraph 1" in answer["embeds"][0]["fields"][0]["value"]


def test_a_pdf_answer_cites_its_page(fake: FakeDiscord, bot: BotProcess, server: PageServer) -> None:
    url = server.url("/docs/handbook.pdf")
    shown = add_url(fake, ADMIN, ADMIN_PERMISSIONS, option("url", url), option("title", "Gateway handbook"))
    assert shown["content"].startswith("Added **Gateway handbook** (`gateway-handbook`")
    answer = ask(fake, "What is HALO?")
    assert "HALO is the first living space" in answer["embeds"][0]["description"]
    assert f"]({url}), page 2, paragraph 5" in answer["embeds"][0]["fields"][0]["value"]
    context_id = next(i for i in custom_ids(answer) if i.startswith("citebot:ctx:"))
    context = click(fake, context_id, answer, MEMBER)["data"]["content"]
    assert f"(<{url}>), page 2, paragraph 5:" in context  # a link without a preview


def test_a_link_that_cannot_be_added_is_named_privately(
    fake: FakeDiscord, bot: BotProcess, server: PageServer
) -> None:
    url = server.url("/picture.png")
    shown = add_url(fake, ADMIN, ADMIN_PERMISSIONS, option("url", url))
    assert shown["flags"] & EPHEMERAL or shown["_callback"]["data"]["flags"] & EPHEMERAL
    assert shown["content"].startswith(f"cannot fetch {url}: it is image/png, not a web page or PDF")
    assert "nothing changed" in shown["content"]


def test_neither_a_file_nor_a_url_says_what_to_give(fake: FakeDiscord, bot: BotProcess) -> None:
    shown = add_url(fake, ADMIN, ADMIN_PERMISSIONS)
    assert shown["flags"] & EPHEMERAL
    assert "attach a .md or .txt file, or give the `url`" in shown["content"]
