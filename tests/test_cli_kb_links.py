"""``python -m bot kb add LINK | FILE.pdf | FILE.html`` and ``kb refresh`` as real subprocesses.

The pages come from a loopback web server (tests/web_pages.py), so the bot may fetch them only with
ALLOW_PRIVATE_URLS=true; without it the same links are refused.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.storage.knowledge_fixtures import write_knowledge
from tests.test_cli_kb import _dump, _run
from tests.web_pages import ARTICLE, FOOTER_TEXT, HANDBOOK_PAGES, NAV_TEXT, PageServer, Route, make_pdf

OPEN = {"ALLOW_PRIVATE_URLS": "true", "FETCH_TIMEOUT_SECONDS": "2", "MAX_DOCUMENT_BYTES": "50000"}
ROVER_QUESTION = "Which rover has explored the far side of the Moon since 2019?"
HALO_QUESTION = "What is HALO?"


@pytest.fixture
def server() -> Iterator[PageServer]:
    pages = PageServer().start()
    yield pages
    pages.stop()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    write_knowledge(tmp_path / "knowledge")
    assert _run(tmp_path, "kb", "list").returncode == 0  # the store, with the tea notes
    return tmp_path


def _stored_text(store: Path, doc_id: str) -> str:
    raw = sqlite3.connect(store / "data" / "citebot.sqlite3")
    try:
        (text,) = raw.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return str(text)
    finally:
        raw.close()


def test_kb_add_a_link_then_ask_cites_the_page(store: Path, server: PageServer) -> None:
    url = server.url("/article.html")
    added = _run(store, "kb", "add", url, **OPEN)
    assert added.returncode == 0, added.stderr
    assert "added far-side-rovers: Far side rovers" in added.stdout
    assert "the title is the page's title; --title sets another" in added.stdout
    text = _stored_text(store, "far-side-rovers")
    assert NAV_TEXT not in text and FOOTER_TEXT not in text

    asked = _run(store, "ask", "--log", "--json", ROVER_QUESTION)
    answer = json.loads(asked.stdout)
    assert answer["answered"] is True, answer
    citation = answer["citations"][0]
    assert citation["document"] == "far-side-rovers" and citation["url"] == url
    assert citation["text"].startswith("Yutu-2 is the rover") and citation["page"] is None
    shown = _run(store, "ask", "--log", ROVER_QUESTION).stdout
    assert f"— Far side rovers, paragraph 1 (2024-06-12)\n  {url}" in shown


def test_kb_add_a_pdf_link_cites_the_page_number(store: Path, server: PageServer) -> None:
    url = server.url("/docs/handbook.pdf")
    added = _run(store, "kb", "add", url, "--title", "Gateway handbook", **OPEN)
    assert added.returncode == 0, added.stderr
    assert "added gateway-handbook: Gateway handbook" in added.stdout and "the title is" not in added.stdout
    answer = json.loads(_run(store, "ask", "--log", "--json", HALO_QUESTION).stdout)
    citation = answer["citations"][0]
    assert citation["text"] == "HALO is the first living space for astronauts visiting the station."
    assert (citation["url"], citation["page"], citation["paragraph"]) == (url, 2, 5)
    assert "— Gateway handbook, page 2, paragraph 5" in _run(store, "ask", "--log", HALO_QUESTION).stdout


def test_kb_add_pdf_and_html_files(store: Path) -> None:
    (store / "gateway.pdf").write_bytes(make_pdf(HANDBOOK_PAGES))
    (store / "rovers.html").write_text(ARTICLE, encoding="utf-8")
    pdf = _run(store, "kb", "add", "gateway.pdf", "--url", "https://example.org/gateway.pdf")
    assert pdf.returncode == 0, pdf.stderr
    assert "added gateway: gateway" in pdf.stdout and "the title is its file name" in pdf.stdout
    html = _run(store, "kb", "add", "rovers.html")
    assert html.returncode == 0 and "added far-side-rovers: Far side rovers" in html.stdout
    listed = _run(store, "kb", "list").stdout
    assert "gateway  [admin" in listed and "far-side-rovers  [admin" in listed
    halo = json.loads(_run(store, "ask", "--log", "--json", HALO_QUESTION).stdout)["citations"][0]
    assert (halo["url"], halo["page"]) == ("https://example.org/gateway.pdf", 2)
    rover = json.loads(_run(store, "ask", "--log", "--json", ROVER_QUESTION).stdout)["citations"][0]
    assert rover["document"] == "far-side-rovers" and rover["url"] is None
    # Files are not links: refresh has nothing to fetch.
    assert "nothing to refresh" in _run(store, "kb", "refresh", **OPEN).stdout


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop", "it redirects more than 5 times"),
        ("/endless.html", "is over the 50,000-byte limit (MAX_DOCUMENT_BYTES)"),
        ("/huge.html", "is 100,007 bytes, over the 50,000-byte limit"),
        ("/picture.png", "it is image/png, not a web page or PDF"),
        ("/missing.html", "the server answered 404 Not Found"),
        ("/slow.html", "it took longer than 2 s"),
        ("/menu.html", "has no main text to keep"),
        ("/broken.pdf", "cannot be read as a PDF"),
    ],
)
def test_a_link_that_cannot_be_added_is_named_and_changes_nothing(
    store: Path, server: PageServer, path: str, reason: str
) -> None:
    before = _dump(store)
    result = _run(store, "kb", "add", server.url(path), **OPEN)
    assert result.returncode == 1, result.stdout
    assert server.url(path) in result.stderr and reason in result.stderr, result.stderr
    assert "nothing changed" in result.stderr and "Traceback" not in result.stderr
    assert _dump(store) == before


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_links_are_refused_with_the_setting_off(store: Path, server: PageServer, host: str) -> None:
    before = _dump(store)
    closed = {k: v for k, v in OPEN.items() if k != "ALLOW_PRIVATE_URLS"}
    result = _run(store, "kb", "add", server.url("/article.html", host), **closed)
    assert result.returncode == 1
    assert "a loopback address (ALLOW_PRIVATE_URLS is off)" in result.stderr
    assert server.url("/article.html", host) in result.stderr
    assert server.requests == []  # never connected
    assert _dump(store) == before


def test_kb_add_a_link_refuses_url(store: Path, server: PageServer) -> None:
    before = _dump(store)
    result = _run(store, "kb", "add", server.url("/article.html"), "--url", "https://example.org/", **OPEN)
    assert result.returncode == 1 and "--url is for files" in result.stderr
    assert _dump(store) == before


def test_kb_refresh_reports_what_changed_and_a_failing_link_changes_nothing(
    store: Path, server: PageServer
) -> None:
    url = server.url("/article.html")
    assert _run(store, "kb", "add", url, **OPEN).returncode == 0
    assert _run(store, "kb", "add", server.url("/docs/handbook.pdf"), **OPEN).returncode == 0
    unchanged = _run(store, "kb", "refresh", **OPEN)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "fetched 2 links again" in unchanged.stdout and "no document changes" in unchanged.stdout

    server.routes["/article.html"] = Route(
        body=ARTICLE.replace(
            "waking up at every lunar dawn.", "waking up at every lunar dawn. Its radar stopped in 2024."
        ).encode()
    )
    before = _dump(store)
    dry = _run(store, "kb", "refresh", "--dry-run", **OPEN)
    assert dry.returncode == 0 and "refresh (dry run, nothing applied)" in dry.stdout
    assert "~ far-side-rovers (+1 / -0 sentences)" in dry.stdout
    assert _dump(store) == before
    applied = _run(store, "kb", "refresh", **OPEN)
    assert applied.returncode == 0 and "refresh (applied)" in applied.stdout
    assert "~ far-side-rovers (+1 / -0 sentences)" in applied.stdout
    assert "handbook" not in applied.stdout  # unchanged documents are not listed
    assert "Its radar stopped in 2024." in _stored_text(store, "far-side-rovers")

    server.routes["/docs/handbook.pdf"] = Route(status=500, body=b"oops")
    server.routes["/article.html"] = Route(body=ARTICLE.replace("Yutu-2", "Yutu-3").encode())
    before = _dump(store)
    failed = _run(store, "kb", "refresh", **OPEN)
    assert failed.returncode == 1
    assert "refresh changed nothing: 1 link failed" in failed.stderr
    assert f"cannot fetch {server.url('/docs/handbook.pdf')}: the server answered 500" in failed.stderr
    assert _dump(store) == before  # the page that did change was not applied either
    answer = json.loads(_run(store, "ask", "--json", "--log", ROVER_QUESTION).stdout)
    assert "Yutu-2" in answer["citations"][0]["text"]


def test_kb_refresh_reports_a_taught_quote_it_breaks_once_and_dry_runs_the_same_version(
    store: Path, server: PageServer
) -> None:
    url = server.url("/article.html")
    assert _run(store, "kb", "add", url, **OPEN).returncode == 0
    question = "How long was the rover meant to work?"
    taught = _run(store, "kb", "teach", question, "--cite", "far-side-rovers:5:1")
    assert taught.returncode == 0, taught.stderr
    server.routes["/article.html"] = Route(body=ARTICLE.replace("three months", "ninety days").encode())

    missing = "! taught quote no longer in the documents (kept, not served): taught-how-long-was-the-rover"
    dry = _run(store, "kb", "refresh", "--dry-run", **OPEN)
    applied = _run(store, "kb", "refresh", **OPEN)
    assert dry.returncode == 0 and applied.returncode == 0, dry.stderr + applied.stderr
    versions = [re.search(r"knowledge version (\S+) -> (\S+)", done.stdout) for done in (dry, applied)]
    assert versions[0] is not None and versions[1] is not None
    assert versions[0].groups() == versions[1].groups()  # the dry run foresaw the very version
    assert missing in dry.stdout and missing in applied.stdout
    assert "taught" not in applied.stderr

    # Every later command warns once; reload and refresh, which list it, only in their report.
    listed = _run(store, "kb", "list")
    assert listed.stderr.count("taught intent not served") == 1, listed.stderr
    for command in (("kb", "reload"), ("kb", "refresh")):
        done = _run(store, *command, **OPEN)
        assert (done.stdout + done.stderr).count("taught-how-long-was-the-rover") == 1, done


def test_kb_add_a_link_that_is_not_http_is_named_as_typed(store: Path) -> None:
    before = _dump(store)
    done = _run(store, "kb", "add", "ftp://127.0.0.1/x")
    assert done.returncode == 1
    assert "ftp://127.0.0.1/x is not an http(s) link" in done.stderr and "ftp:/127" not in done.stderr
    assert _dump(store) == before
