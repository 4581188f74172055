"""Web pages and PDFs as knowledge documents, in the Markdown the knowledge already reads.

``kb add`` of a link, an ``.html`` or a ``.pdf`` file turns it into a Markdown document with front
matter (title, url, author, published), so everything after it (parsing, indexing, citing,
reloading) is the same as for a document written by hand:

- **Web pages.** trafilatura finds the main text and leaves out navigation, ads, footers,
  comments and tables. Its headings become ``#`` headings (section titles, never quoted), and its
  paragraphs and list items become paragraphs, one per list item so that no quote starts with a
  bullet. Whitespace is collapsed as a browser shows it. Only a date in the page's metadata
  becomes ``published``: one guessed from the text could be any date the page mentions.
- **PDFs.** pypdf reads each page's text in layout mode, where the gaps between paragraphs are
  blank lines; the lines of a paragraph are joined (a line ending in a hyphen joins the next
  without a space). Each page's paragraphs sit under a ``## Page N`` heading
  (:func:`bot.core.answers.page_heading`): the parser keeps it as their section, so citations say
  "page N", and a paragraph never spans two pages. Text set in columns comes out line by line
  across the columns, as pypdf lays it out; a scanned PDF has no text to read.

The title is the one given, else the page's or the PDF's own, else the file or link name; the
result says where it came from. Every failure is a :class:`ConversionError` naming the source.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from bot.core.answers import page_heading
from bot.core.documents import MAX_TITLE_CHARS
from bot.core.errors import CitebotError
from bot.runtime.fetching import FetchedPage

__all__ = [
    "CONVERTED_SUFFIXES",
    "ConversionError",
    "Converted",
    "fetched_document",
    "file_kind",
    "html_document",
    "link_name",
    "pdf_document",
]

log = logging.getLogger(__name__)

# Files `kb add` converts (by their suffix), and what each is read as.
CONVERTED_SUFFIXES: dict[str, str] = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf"}
# A line of Markdown the document parser would take for a heading; a paragraph must not be one.
_LOOKS_LIKE_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]|$)")
# A paragraph that is only a number is a page number or a footnote mark, not something to quote.
_PAGE_NUMBER = re.compile(r"[-–—\s]*[0-9]{1,6}[-–—\s]*")


class ConversionError(CitebotError):
    """A page or PDF has no text that can be kept; the message names it."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        super().__init__(f"cannot add {source}: {reason} (nothing changed)")


@dataclass(frozen=True, slots=True)
class Converted:
    """A page or PDF as a Markdown document, and where its title came from."""

    text: str  # Markdown with front matter
    title: str
    title_from: str | None  # "the page's title", "the PDF's title", "its file name", ...; None if given


def file_kind(name: str) -> str | None:
    """The kind ("html" or "pdf") of a file ``kb add`` converts, by its suffix; None for others."""
    return CONVERTED_SUFFIXES.get(PurePosixPath(name).suffix.lower())


def link_name(url: str) -> str:
    """What a link is called when nothing else names it: its last path part, else its host."""
    parts = urlsplit(url)
    last = PurePosixPath(unquote(parts.path)).name
    return last or parts.hostname or url


def _collapse(text: str) -> str:
    """``text`` with every run of whitespace as one space, as a browser shows it."""
    return " ".join(text.split())


def _paragraph(text: str) -> str:
    text = _collapse(text)
    # A leading "# " would make the parser read the paragraph as a heading and drop it.
    return text.lstrip("# ") if _LOOKS_LIKE_HEADING.match(text) else text


def _front_matter(fields: dict[str, Any]) -> str:
    kept = {k: v for k, v in fields.items() if v}
    dumped = yaml.safe_dump(kept, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{dumped}---\n\n"


def _title(
    given: str | None, found: str | None, found_from: str, name: str, name_from: str
) -> tuple[str, str | None]:
    if given is not None:
        return given, None
    if found and _collapse(found):
        return _collapse(found)[:MAX_TITLE_CHARS].strip(), found_from
    stem = PurePosixPath(name).stem.strip() or name
    return stem[:MAX_TITLE_CHARS].strip(), name_from


def _document(fields: dict[str, Any], blocks: list[str]) -> str:
    return _front_matter(fields) + "\n\n".join(blocks) + "\n"


# -- web pages ----------------------------------------------------------------------------


def _own_text(element: Any) -> str:
    """The text of a trafilatura element, nested lists left out (their items are paragraphs too)."""
    parts: list[str] = [element.text or ""]
    for child in element:
        if child.tag == "lb":  # a <br>: the words either side must not run together
            parts.append(" ")
        elif child.tag != "list":
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _html_blocks(body: Any) -> Iterator[tuple[int, str]]:
    """(heading level, or 0 for a paragraph; text) of trafilatura's main text, one per list item."""
    for element in body:
        if element.tag == "head":
            level = element.get("rend", "h2")[1:]
            text = _collapse(_own_text(element))
            if text:
                yield (int(level) if level.isdigit() and 1 <= int(level) <= 6 else 2), text
        elif element.tag == "list":
            for item in element.iter("item"):
                text = _paragraph(_own_text(item))
                if text:
                    yield 0, text
        elif element.tag in ("p", "quote"):
            # Where trafilatura falls back to the page's whole text it keeps blocks on lines.
            for line in _own_text(element).split("\n"):
                text = _paragraph(line)
                if text:
                    yield 0, text


def html_document(
    data: bytes,
    source: str,
    *,
    name: str,
    name_from: str = "its file name",
    title: str | None = None,
    url: str | None = None,
) -> Converted:
    """A web page's main text as a Markdown document.

    ``name`` (a file's or a link's, as ``name_from`` says) titles it when nothing else does.
    Raises :class:`ConversionError` naming ``source``.
    """
    import trafilatura  # 0.3 s to import: only commands that convert pay for it

    try:
        extracted = trafilatura.bare_extraction(
            data,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            include_formatting=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # untrusted input into a third-party parser: any failure is "unreadable"
        log.debug("trafilatura failed on %s", source, exc_info=True)
        raise ConversionError(source, f"cannot be read as a web page ({type(exc).__name__})") from exc
    if extracted is None or isinstance(extracted, dict) or extracted.body is None:
        raise ConversionError(source, "has no main text to keep")
    found_blocks = list(_html_blocks(extracted.body))
    if all(level for level, _ in found_blocks):
        raise ConversionError(source, "has no main text to keep")
    blocks = [f"{'#' * level} {text}" if level else text for level, text in found_blocks]
    first_heading = next((text for level, text in found_blocks if level), None)
    found, found_from = (
        (extracted.title, "the page's title") if extracted.title else (first_heading, "its first heading")
    )
    chosen, chosen_from = _title(title, found, found_from, name, name_from)
    published: dt.date | None = None
    if extracted.date:
        try:
            published = dt.date.fromisoformat(extracted.date[:10])
        except ValueError:
            published = None
    fields = {"title": chosen, "url": url, "author": extracted.author, "published": published}
    return Converted(_document(fields, blocks), chosen, chosen_from)


# -- PDFs ---------------------------------------------------------------------------------


def _join_lines(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if not text:
            text = line
        elif text.endswith("-"):  # a word broken at the line's end, or a compound: keep the hyphen
            text += line
        else:
            text += " " + line
    return text


def _pdf_paragraphs(page_text: str) -> Iterator[str]:
    """Paragraphs of one page's layout text: blocks of lines between blank lines."""
    lines: list[str] = []
    for raw in [*page_text.splitlines(), ""]:
        line = _collapse(raw)
        if line:
            lines.append(line)
            continue
        if lines:
            text = _paragraph(_join_lines(lines))
            lines = []
            if text and not _PAGE_NUMBER.fullmatch(text):
                yield text


def _page_text(page: Any) -> str:
    try:
        text: str = page.extract_text(extraction_mode="layout")
    except Exception:  # layout mode fails on some fonts; plain mode still reads the words
        log.debug("layout extraction failed; reading the page plainly", exc_info=True)
        text = page.extract_text()
    return text


def pdf_document(
    data: bytes,
    source: str,
    *,
    name: str,
    name_from: str = "its file name",
    title: str | None = None,
    url: str | None = None,
) -> Converted:
    """A PDF's text as a Markdown document, a ``## Page N`` heading per page.

    ``name`` (a file's or a link's, as ``name_from`` says) titles it when nothing else does.
    Raises :class:`ConversionError` naming ``source``.
    """
    import pypdf

    # pypdf warns of every flaw it works around ("EOF marker not found"), which the command line
    # would print above its own message; a PDF that cannot be read gets a ConversionError instead.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    blocks: list[str] = []
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ConversionError(source, "is encrypted with a password")
        metadata = reader.metadata
        for number, page in enumerate(reader.pages, start=1):
            paragraphs = list(_pdf_paragraphs(_page_text(page)))
            if paragraphs:
                blocks.append(f"## {page_heading(number)}")
                blocks.extend(paragraphs)
        found_title = metadata.title if metadata is not None else None
        author = metadata.author if metadata is not None else None
    except ConversionError:
        raise
    except Exception as exc:  # untrusted input into a third-party parser: any failure is "unreadable"
        log.debug("pypdf failed on %s", source, exc_info=True)
        raise ConversionError(source, f"cannot be read as a PDF ({type(exc).__name__}: {exc})") from exc
    if not blocks:
        raise ConversionError(source, "has no text to read (a scanned PDF holds only images of its pages)")
    chosen, chosen_from = _title(title, found_title, "the PDF's title", name, name_from)
    fields = {"title": chosen, "url": url, "author": author}
    return Converted(_document(fields, blocks), chosen, chosen_from)


def fetched_document(page: FetchedPage, *, title: str | None = None) -> Converted:
    """A fetched page or PDF as a Markdown document linking to where it was fetched from."""
    convert = pdf_document if page.kind == "pdf" else html_document
    return convert(
        page.body,
        page.url,
        name=link_name(page.final_url),
        name_from="the end of its link",
        title=title,
        url=page.final_url,
    )
