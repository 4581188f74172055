"""Knowledge documents: Markdown with YAML front matter, parsed into paragraphs and sentences.

A document is its front matter (``title`` required; ``url``, ``author``, ``published``
optional) and a body of paragraphs separated by blank lines. Markdown headings are section
titles: they label the paragraphs under them and are never quoted as answers. Every sentence
keeps its character offsets into the body, so an answer is always a verbatim slice of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import PurePath
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.core.errors import KnowledgeError, KnowledgeProblem
from bot.core.parallel import chunks, collection_paused, in_processes

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "DescribedDocuments",
    "Document",
    "DocumentMeta",
    "DocumentText",
    "Paragraph",
    "Sentence",
    "YamlProblem",
    "fallback_title",
    "load_yaml",
    "parse_document",
    "parse_documents",
    "sentence_spans",
    "sliced_paragraphs",
    "slugify",
    "spans_in",
]

# The largest knowledge file read (MAX_DOCUMENT_BYTES overrides it): 25 MB holds a long manual or
# years of FAQ answers as one file, and is well past any document written by hand. Larger files
# are exports or dumps, better split into documents so citations point somewhere useful, and
# parsing one costs time and memory in proportion at every reload.
MAX_DOCUMENT_BYTES = 25_000_000


class YamlProblem(ValueError):
    """YAML that does not parse: what is wrong, and on which line (1-based) when PyYAML knows."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with libyaml when available; raises :class:`YamlProblem`."""
    # Imported here: PyYAML takes 20 ms to import, and a start from a snapshot without intent
    # files (or a document without front matter) parses no YAML at all.
    import yaml

    # libyaml's safe loader when PyYAML was built with it (its wheels are): ten times faster than
    # the pure-Python one, which dominated start-up with a few hundred intent examples.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlProblem(problem, mark.line + 1 if mark is not None else None) from exc


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_BLOCK_SEPARATOR = re.compile(r"\n[ \t]*\n")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_TITLE_CHARS = 200


class DocumentMeta(BaseModel):
    """Front matter of a knowledge document."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, defer_build=True)

    title: str
    url: str | None = None
    author: str | None = None
    published: dt.date | None = None

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        if len(value) > MAX_TITLE_CHARS:
            raise ValueError(f"must be at most {MAX_TITLE_CHARS} characters")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_web_link(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError("must be an http(s) link")
        return value or None


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence, verbatim, with its place in the document body."""

    text: str
    paragraph: int  # 1-based, counting paragraphs only (headings are not paragraphs)
    start: int  # character offsets into Document.body
    end: int

    def __reduce__(self) -> tuple[type[Sentence], tuple[str, int, int, int]]:
        # Documents parsed in worker processes come back pickled, a million sentences at scale:
        # by their fields, pickling is twice as fast as through the dataclass's __getstate__.
        return Sentence, (self.text, self.paragraph, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph of body text under an optional section heading."""

    number: int
    text: str
    start: int
    end: int
    section: str | None
    sentences: tuple[Sentence, ...]

    def __reduce__(self) -> tuple[type[Paragraph], tuple[Any, ...]]:
        return Paragraph, (self.number, self.text, self.start, self.end, self.section, self.sentences)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed knowledge document."""

    id: str
    meta: DocumentMeta
    body: str
    paragraphs: tuple[Paragraph, ...]
    source: str

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Documents parsed in worker processes come back pickled. Their paragraphs and sentences
        # are slices of the body: sent as offsets, a sentence costs its worker two integers, not
        # an object and a copy of its text (a 1M build pickles 900k of them).
        body = self.body
        layout: _Layout = []
        for p in self.paragraphs:
            sentences = p.sentences
            starts, ends = [s.start for s in sentences], [s.end for s in sentences]
            layout.append((p.number, p.start, p.end, p.section, starts, ends))
            if p.text != body[p.start : p.end] or any(
                sentence.paragraph != p.number or sentence.text != body[sentence.start : sentence.end]
                for sentence in p.sentences
            ):  # built by hand, not by parsing: every field as it is
                return Document, (self.id, self.meta, body, self.paragraphs, self.source)
        return _sliced_document, (self.id, self.meta, body, self.source, layout)

    @property
    def title(self) -> str:
        """The document's title."""
        return self.meta.title

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        """Every sentence of every paragraph, in order."""
        return tuple(s for p in self.paragraphs for s in p.sentences)

    @property
    def content_hash(self) -> str:
        """A hash of everything in the document that can shape an answer."""
        digest = hashlib.sha256()
        digest.update(self.meta.model_dump_json().encode())
        digest.update(b"\0")
        digest.update(self.body.encode())
        return digest.hexdigest()


# A paragraph's number, start, end, section, and its sentences' starts and ends.
_Offsets = tuple[int, int, int, str | None, Sequence[int], Sequence[int]]
_Layout = list[_Offsets]


def sliced_paragraphs(body: str, layout: Iterable[_Offsets]) -> tuple[Paragraph, ...]:
    """The paragraphs of ``body`` at these offsets, each with its sentences, as parsing made them.

    ``layout``: each paragraph's number, start, end, section, and its sentences' starts and ends.
    """
    cut = body.__getitem__
    # map() runs the loop over a paragraph's sentences in C.
    return tuple(
        Paragraph(
            number,
            body[start:end],
            start,
            end,
            section,
            tuple(map(Sentence, map(cut, map(slice, starts, ends)), repeat(number), starts, ends)),
        )
        for number, start, end, section, starts, ends in layout
    )


def _sliced_document(doc_id: str, meta: DocumentMeta, body: str, source: str, layout: _Layout) -> Document:
    """The document :meth:`Document.__reduce__` sent as offsets into its body."""
    paragraphs = sliced_paragraphs(body, layout)
    return Document(doc_id, meta, body, paragraphs, source)


@runtime_checkable
class DescribedDocuments(Protocol):
    """Documents that know their ids, content hashes and titles without being rebuilt (a snapshot's)."""

    ids: list[str]

    def content_hashes(self) -> list[tuple[str, str]]:
        """(id, content hash) of every document, in order."""
        ...

    def described_meta(self) -> list[tuple[str, str, str | None, dt.date | None]]:
        """(id, title, link, publication date) of every document, in order."""
        ...


def slugify(text: str) -> str:
    """A stable, URL-safe id from a title or file name: "Chang'e-6 news" -> "change-6-news"."""
    from bot.core.text import fold  # local: text pulls in the stemmer, documents need not

    slug = re.sub(r"[^a-z0-9]+", "-", fold(text).replace("'", "")).strip("-")
    return slug[:80].strip("-") or "document"


@lru_cache(maxsize=16384)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Pysbd sentences of one paragraph as (start, end) spans, whitespace excluded.

    pysbd's English rules run as :func:`bot.core.sentences.segment`, sentence for sentence the
    same as ``pysbd.Segmenter(language="en", clean=False)`` but compiled once. Cached by
    paragraph text: unchanged paragraphs are not re-split on reload.
    """
    # Imported here: pysbd's rules take 40 ms to load, and a start from a snapshot splits nothing.
    from bot.core.sentences import segment

    return spans_in(segment(text), text)


def spans_in(sentences: Iterable[str], text: str) -> tuple[tuple[int, int], ...]:
    """Where each of a splitter's ``sentences`` lies in ``text``, in order, whitespace excluded.

    A text with no sentence found is one span of its stripped whole.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for raw in sentences:
        sentence = raw.strip()
        if not sentence:
            continue
        start = text.find(sentence, cursor)
        if start >= 0:
            end = start + len(sentence)
        else:
            # pysbd occasionally alters inner whitespace; find the same words from the cursor.
            pattern = r"\s+".join(re.escape(word) for word in sentence.split())
            match = re.compile(pattern).search(text, cursor)
            if match is None:
                continue
            start, end = match.span()
        spans.append((start, end))
        cursor = end
    if not spans and text.strip():
        stripped_start = len(text) - len(text.lstrip())
        spans.append((stripped_start, len(text.rstrip())))
    return tuple(spans)


def _split_front_matter(text: str, source: str) -> tuple[dict[str, Any] | None, str, int]:
    """(front matter or None, body, line number where the body starts)."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        if text.lstrip().startswith("---"):
            raise KnowledgeError(
                [KnowledgeProblem(source, "front matter opened with '---' is never closed", "line 1")]
            )
        return None, text, 1
    try:
        loaded = load_yaml(match.group(1))
    except YamlProblem as exc:
        where = f"front matter line {exc.line}" if exc.line is not None else "front matter"
        raise KnowledgeError([KnowledgeProblem(source, f"invalid YAML: {exc.problem}", where)]) from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise KnowledgeError(
            [KnowledgeProblem(source, "front matter must be a mapping of keys", "front matter")]
        )
    body_line = text.count("\n", 0, match.end()) + 1
    return loaded, text[match.end() :], body_line


def _meta(raw: dict[str, Any], source: str) -> DocumentMeta:
    try:
        return DocumentMeta.model_validate(raw)
    except ValidationError as exc:
        problems = [
            KnowledgeProblem(
                source,
                "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, "),
                f"front matter field '{'.'.join(str(p) for p in err['loc'])}'",
            )
            for err in exc.errors()
        ]
        raise KnowledgeError(problems) from exc


# A body this long has its sentences split in worker processes (a 20 MB manual: 200k sentences).
PARALLEL_BYTES = 2_000_000


def _spans_of_all(texts: Sequence[str]) -> list[tuple[tuple[int, int], ...]]:
    return [sentence_spans(text) for text in texts]


def _paragraphs(body: str) -> tuple[Paragraph, ...]:
    blocks: list[tuple[int, int, str | None]] = []  # (start, end, section) of each paragraph
    section: str | None = None
    block_start = 0
    separators = [*_BLOCK_SEPARATOR.finditer(body), None]
    for separator in separators:
        block_end = separator.start() if separator else len(body)
        cursor = block_start
        # A heading may sit directly above its paragraph without a blank line between them.
        for line in body[block_start:block_end].splitlines(keepends=True):
            if not line.strip():
                cursor += len(line)
                continue
            heading = _HEADING.match(line.rstrip("\r\n"))
            if heading is None:
                break
            section = heading.group(2).strip()
            cursor += len(line)
        text = body[cursor:block_end]
        if text.strip():
            lead = len(text) - len(text.lstrip())
            blocks.append((cursor + lead, cursor + len(text.rstrip()), section))
        block_start = separator.end() if separator else len(body)
    texts = [body[start:end] for start, end, _ in blocks]
    runs = in_processes(
        _spans_of_all, chunks(texts, 4 * (os.cpu_count() or 1)), worth_it=len(body) >= PARALLEL_BYTES
    )
    spans = [found for run in runs for found in run]
    paragraphs: list[Paragraph] = []
    for number, ((start, end, under), found) in enumerate(zip(blocks, spans, strict=True), 1):
        sentences = tuple(
            Sentence(body[start + s : start + e], number, start + s, start + e) for s, e in found
        )
        paragraphs.append(Paragraph(number, body[start:end], start, end, under, sentences))
    return tuple(paragraphs)


def fallback_title(text: str, file_name: str) -> tuple[str, str] | None:
    """The title of a document whose front matter has none: (its first heading, or else its file
    name without the extension; where the title came from). None when the front matter gives a
    title, or is broken (``parse_document`` reports that).
    """
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    try:
        raw, body, _ = _split_front_matter(text, file_name)
    except KnowledgeError:
        return None
    if (raw or {}).get("title"):
        return None
    for line in body.splitlines():
        heading = _HEADING.match(line)
        if heading is not None and len(heading.group(2).strip()) <= MAX_TITLE_CHARS:
            return heading.group(2).strip(), "its first heading"
    stem = PurePath(file_name).stem.strip()
    if stem:
        return stem[:MAX_TITLE_CHARS].strip(), "its file name"
    return None


@dataclass(frozen=True, slots=True)
class DocumentText:
    """A document's text to parse, with what :func:`parse_document` takes besides."""

    text: str
    source: str
    doc_id: str | None = None
    title: str | None = None
    url: str | None = None


def _parse_or_problems(item: DocumentText) -> Document | list[KnowledgeProblem]:
    try:
        return parse_document(item.text, item.source, doc_id=item.doc_id, title=item.title, url=item.url)
    except KnowledgeError as exc:
        return list(exc.problems)


def parse_documents(items: Sequence[DocumentText]) -> list[Document | list[KnowledgeProblem]]:
    """:func:`parse_document` of each item, in worker processes when there is much text; each a
    document, or the problems that made it invalid.
    """
    worth_it = sum(len(item.text) for item in items) >= PARALLEL_BYTES
    with collection_paused():
        return list(in_processes(_parse_or_problems, items, worth_it=worth_it))


def parse_document(
    text: str,
    source: str,
    *,
    doc_id: str | None = None,
    title: str | None = None,
    url: str | None = None,
) -> Document:
    """Parse Markdown (with or without front matter) or plain text into a :class:`Document`.

    ``title`` and ``url`` fill in for front matter that lacks them; a document without a title
    from either place is invalid. Raises :class:`KnowledgeError` naming ``source``.
    """
    text = text.replace("\r\n", "\n").lstrip("\ufeff")
    raw, body, _ = _split_front_matter(text, source)
    fields: dict[str, Any] = dict(raw or {})
    if title is not None and not fields.get("title"):
        fields["title"] = title
    if url is not None and not fields.get("url"):
        fields["url"] = url
    meta = _meta(fields, source)
    with collection_paused():
        paragraphs = _paragraphs(body)
    if not paragraphs:
        raise KnowledgeError([KnowledgeProblem(source, "has no paragraphs of text", "body")])
    return Document(doc_id or slugify(meta.title), meta, body, paragraphs, source)
