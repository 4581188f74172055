"""Fetching links (bot.runtime.fetching) against a loopback web server, and turning them into documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.core.documents import parse_document
from bot.runtime.conversion import ConversionError, fetched_document, html_document, pdf_document
from bot.runtime.fetching import FetchError, FetchLimits, address_problem, fetch
from tests.web_pages import (
    AD_TEXT,
    ARTICLE,
    FOOTER_TEXT,
    HANDBOOK_PAGES,
    NAV_TEXT,
    PageServer,
    make_pdf,
)

OPEN = FetchLimits(max_bytes=50_000, timeout=2.0, allow_private=True)


@pytest.fixture(scope="module")
def server() -> Iterator[PageServer]:
    pages = PageServer().start()
    yield pages
    pages.stop()


async def test_a_page_is_fetched_and_keeps_only_its_main_text(server: PageServer) -> None:
    page = await fetch(server.url("/article.html"), OPEN)
    assert (page.kind, page.final_url) == ("html", server.url("/article.html"))
    converted = fetched_document(page)
    document = parse_document(converted.text, page.url)
    assert document.title == "Far side rovers" and converted.title_from == "the page's title"
    assert document.meta.url == server.url("/article.html")
    assert document.meta.published is not None and document.meta.published.isoformat() == "2024-06-12"
    texts = [p.text for p in document.paragraphs]
    assert texts[0].startswith("Yutu-2 is the rover that has explored the far side of the Moon")
    assert "Von Kármán crater, and it has driven" in texts[0]  # source line breaks collapsed
    # Each list item is a paragraph of its own, without a bullet.
    assert "The panoramic camera takes colour pictures of the landscape around the rover." in texts
    assert [p.section for p in document.paragraphs][1:3] == ["Instruments", "Instruments"]
    for boilerplate in (NAV_TEXT, FOOTER_TEXT, AD_TEXT, "Home", "Privacy"):
        assert boilerplate not in document.body


async def test_a_redirect_is_followed_and_the_document_links_to_where_it_led(server: PageServer) -> None:
    page = await fetch(server.url("/moved"), OPEN)
    assert page.url == server.url("/moved") and page.final_url == server.url("/article.html")
    assert parse_document(fetched_document(page).text, page.url).meta.url == server.url("/article.html")


async def test_a_pdf_keeps_its_pages_for_the_citations(server: PageServer) -> None:
    page = await fetch(server.url("/docs/handbook.pdf"), OPEN)
    assert page.kind == "pdf"
    converted = fetched_document(page)
    assert (converted.title, converted.title_from) == ("handbook", "the end of its link")
    document = parse_document(converted.text, page.url)
    shown = [(p.section, p.text) for p in document.paragraphs]
    assert shown == [
        ("Page 1", "Lunar Gateway handbook"),
        (
            "Page 1",
            "The Gateway is a small space station that will orbit the Moon. "
            "It is built by NASA with ESA, JAXA and the Canadian Space Agency.",
        ),
        ("Page 1", "Its first modules are planned to launch together on one rocket."),
        (
            "Page 2",
            "The Power and Propulsion Element supplies electricity and moves "
            "the station between orbits with solar electric propulsion.",
        ),
        ("Page 2", "HALO is the first living space for astronauts visiting the station."),
    ]  # the page number "2" at the foot of page 2 is not a paragraph


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop", "it redirects more than 5 times"),
        ("/huge.html", "is 100,007 bytes, over the 50,000-byte limit (MAX_DOCUMENT_BYTES)"),
        ("/endless.html", "is over the 50,000-byte limit (MAX_DOCUMENT_BYTES); reading stopped there"),
        ("/picture.png", "it is image/png, not a web page or PDF"),
        ("/missing.html", "the server answered 404 Not Found"),
        ("/slow.html", "it took longer than 2 s (FETCH_TIMEOUT_SECONDS)"),
    ],
)
async def test_fetches_that_cannot_be_kept_name_the_link_and_say_why(
    server: PageServer, path: str, reason: str
) -> None:
    with pytest.raises(FetchError) as caught:
        await fetch(server.url(path), OPEN)
    assert str(caught.value).startswith(f"cannot fetch {server.url(path)}: ")
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/article.html", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/article.html", "localhost is 127.0.0.1, a loopback address"),
        ("http://[::1]:{port}/article.html", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
    ],
)
async def test_private_addresses_are_refused_unless_allowed(
    server: PageServer, url: str, reason: str
) -> None:
    closed = FetchLimits(max_bytes=50_000, timeout=2.0, allow_private=False)
    before = len(server.requests)
    with pytest.raises(FetchError) as caught:
        await fetch(url.format(port=server.port), closed)
    assert reason in str(caught.value) and "ALLOW_PRIVATE_URLS is off" in str(caught.value)
    assert len(server.requests) == before  # refused before connecting


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("192.168.1.20", "a private address"),
        ("172.16.0.1", "a private address"),
        ("fd00::1", "a private address"),
        ("127.8.8.8", "a loopback address"),
        ("fe80::1%eth0", "a link-local address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4 inside IPv6 reaches the IPv4 host
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("0.0.0.0", "a loopback address"),  # connecting to it reaches this machine
        ("224.0.0.1", "not a public address"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_links_may_not_reach(address: str, problem: str | None) -> None:
    assert address_problem(address) == problem


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "not a link"])
async def test_only_http_links_are_fetched(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https links can be added"):
        await fetch(url, OPEN)


async def test_pages_and_pdfs_without_text_to_keep_say_so(server: PageServer) -> None:
    menu = await fetch(server.url("/menu.html"), OPEN)
    with pytest.raises(ConversionError, match=r"/menu\.html: has no main text to keep"):
        fetched_document(menu)
    broken = await fetch(server.url("/broken.pdf"), OPEN)
    with pytest.raises(ConversionError, match=r"/broken\.pdf: cannot be read as a PDF"):
        fetched_document(broken)
    with pytest.raises(ConversionError, match=r"scan\.pdf: has no text to read"):
        pdf_document(make_pdf([[], []]), "scan.pdf", name="scan.pdf")


def test_a_given_title_wins_and_a_file_name_is_the_last_resort() -> None:
    given = html_document(ARTICLE.encode(), "a.html", name="a.html", title="Rovers")
    assert (parse_document(given.text, "a.html").title, given.title_from) == ("Rovers", None)
    named = pdf_document(make_pdf(HANDBOOK_PAGES), "docs/gateway.pdf", name="gateway.pdf")
    assert (named.title, named.title_from) == ("gateway", "its file name")
