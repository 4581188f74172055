"""Index snapshots: the built index of one set of documents, saved as files and memory-mapped.

A knowledge base of a million sentences takes a minute to analyse and index, but only as long as
it takes to map a few files to serve again. So every knowledge version the runtime builds is
saved beside the database, in ``<database>.index/<key>/``: one file of every array of
:class:`~bot.core.index.IndexArrays`, one of its words and headings, and what describes the
documents. The key
(:func:`~bot.core.knowledge.documents_key`) covers the engine and every document's content but
not the intents, which are cheap to add, so teaching the bot keeps the saved index. A process
starting on stored documents opens that folder instead of parsing and indexing: numpy maps
the arrays read-only, so nothing is copied or re-computed, the operating system pages in only
what questions touch, and processes serving the same version share those pages.

A snapshot is a cache. One that is missing, from another format, or unreadable is ignored (the
knowledge is rebuilt from the store, and saved again); it is written to a temporary folder and
renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import mmap
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.documents import Document, DocumentMeta, Paragraph, Sentence
from bot.core.index import IndexArrays, KnowledgeIndex

__all__ = [
    "SNAPSHOT_FORMAT",
    "Snapshot",
    "SnapshotDocuments",
    "open_snapshot",
    "save_snapshot",
    "snapshot_folder",
]

log = logging.getLogger(__name__)

# Bump when the files or IndexArrays change shape: older snapshots are then rebuilt, not misread.
SNAPSHOT_FORMAT = 3
_META = "meta.json"
# Every array in one file, each at a multiple of _ALIGN bytes, mapped once: a file per array cost
# a start-up as much in opening and header parsing as everything else it does.
_ARRAYS = "arrays.bin"
_ALIGN = 64
# The interned words (tokens, which hold no NUL), joined by NUL: splitting is the fastest way back.
_STRINGS = "strings.bin"
# The section headings and the aliases, as one UTF-8 text cut by the "*.ends" arrays.
_TEXTS = "texts.bin"
_ENDS = ".ends"
# Documents kept materialised: citations come from a few documents at a time.
DOCUMENT_CACHE = 16


def snapshot_folder(database: Path) -> Path:
    """Where the snapshots of the store at ``database`` live."""
    return database.with_name(database.name + ".index")


@dataclass(frozen=True)
class Snapshot:
    """An opened snapshot: the index arrays, and the documents described without their text parsed."""

    key: str
    arrays: IndexArrays
    documents: SnapshotDocuments


def _meta_of(document: Document) -> list[Any]:
    meta = document.meta
    published = meta.published.isoformat() if meta.published else None
    return [document.id, meta.title, meta.url, meta.author, published, document.source, document.content_hash]


def _joined(items: Sequence[str]) -> tuple[str, npt.NDArray[np.int64]]:
    """``items`` as one string and the end of each in it: any text, no separator to escape."""
    ends = np.fromiter((len(item) for item in items), dtype=np.int64, count=len(items))
    np.cumsum(ends, out=ends)
    return "".join(items), ends


def _cut(text: str, ends: npt.NDArray[Any]) -> list[str]:
    """The items :func:`_joined` joined into ``text``."""
    if (int(ends[-1]) if len(ends) else 0) != len(text) or (
        len(ends) and (ends[0] < 0 or np.any(np.diff(ends) < 0))
    ):
        raise ValueError("a list's ends do not cut its text")
    bounds = ends.tolist()
    return list(map(text.__getitem__, map(slice, [0, *bounds], bounds)))


def save_snapshot(folder: Path, key: str, index: KnowledgeIndex) -> Path:
    """Save ``index`` (of the documents ``key`` names) under ``folder`` and remove older snapshots there."""
    target = folder / key
    if (target / _META).exists():
        return target
    # A folder without its description was damaged (or never finished): it would block the rename.
    shutil.rmtree(target, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        arrays = index.arrays
        if any("\0" in word for word in arrays.strings):
            raise ValueError("an interned word holds a NUL character")  # words are tokens: a bug
        # Headings and aliases can hold any character, so they are cut by their ends instead.
        lists = {
            "sections": arrays.sections,
            "alias_short": list(arrays.aliases.values()),
            "alias_words": [word for spelled in arrays.aliases for word in spelled],
        }
        texts: list[str] = []
        named = dict(arrays.arrays)
        for name, items in lists.items():
            text, named[f"{name}{_ENDS}"] = _joined(items)
            texts.append(text)
        named[f"alias_size{_ENDS}"] = np.cumsum([len(spelled) for spelled in arrays.aliases], dtype=np.int64)
        placed: dict[str, list[Any]] = {}
        with open(temporary / _ARRAYS, "wb") as out:
            for name, array in sorted(named.items()):
                array = np.ascontiguousarray(array)
                if array.dtype.hasobject:
                    raise TypeError(f"array {name} holds Python objects")
                padding = -out.tell() % _ALIGN
                out.write(bytes(padding))
                offset = out.tell()
                placed[name] = [array.dtype.str, list(array.shape), offset]
                out.write(array.data)
        (temporary / _STRINGS).write_bytes("\0".join(arrays.strings).encode())
        (temporary / _TEXTS).write_bytes("".join(texts).encode())
        documents = index.documents
        described = (
            documents.described
            if isinstance(documents, SnapshotDocuments)
            else [_meta_of(d) for d in documents]
        )
        meta = {
            "format": SNAPSHOT_FORMAT,
            "key": key,
            "documents": described,
            "arrays": placed,
            # The characters of each list in the texts, in the order they are stored.
            "lists": {name: len(text) for name, text in zip(lists, texts, strict=True)},
            "strings": len(arrays.strings),
            # Each file's size and modification time, checked on open: a file truncated or edited
            # since would serve wrong words or, worse, quote text the documents never held.
            "files": {f.name: [f.stat().st_size, f.stat().st_mtime_ns] for f in sorted(temporary.iterdir())},
        }
        (temporary / _META).write_text(json.dumps(meta, ensure_ascii=False))
        os.replace(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    for other in folder.iterdir():
        # Processes still serving an older version keep their mapped files: unlinking them on
        # POSIX leaves open mappings intact.
        if other.name != key and not other.name.startswith("."):
            shutil.rmtree(other, ignore_errors=True)
    return target


def open_snapshot(folder: Path, key: str) -> Snapshot | None:
    """The snapshot of the documents ``key`` names under ``folder``, memory-mapped; None if none is usable."""
    where = folder / key
    try:
        text = (where / _META).read_text()
    except FileNotFoundError:
        return None  # none saved (a folder without its description is replaced by the next save)
    except OSError as exc:
        _damaged(where, exc)
        return None
    try:
        meta = json.loads(text)
        if meta.get("format") != SNAPSHOT_FORMAT or meta.get("key") != key:
            raise ValueError(f"it was saved by another citebot (format {meta.get('format')!r})")
        for name, (size, modified) in meta["files"].items():
            found = (where / name).stat()
            if found.st_size != size or found.st_mtime_ns != modified:
                raise ValueError(f"{name} changed since it was saved")
        named = _mapped(where / _ARRAYS, meta["arrays"])
        strings = (where / _STRINGS).read_bytes().decode().split("\0")
        if len(strings) != meta["strings"]:
            raise ValueError(f"{_STRINGS} holds {len(strings)} words, not {meta['strings']}")
        texts = (where / _TEXTS).read_bytes().decode()
        lists: dict[str, list[str]] = {}
        start = 0
        for name, length in meta["lists"].items():
            lists[name] = _cut(texts[start : start + length], named.pop(f"{name}{_ENDS}"))
            start += length
        if start != len(texts):
            raise ValueError(f"{_TEXTS} holds {len(texts)} characters, not {start}")
        words, shorts = lists["alias_words"], lists["alias_short"]
        ends = named.pop(f"alias_size{_ENDS}")
        spelled = [tuple(words[a:b]) for a, b in zip([0, *ends.tolist()], ends.tolist(), strict=False)]
        if len(spelled) != len(shorts) or (int(ends[-1]) if len(ends) else 0) != len(words):
            raise ValueError("the aliases do not match their words")
        aliases = dict(zip(spelled, shorts, strict=True))
        index_arrays = IndexArrays(named, strings, lists["sections"], aliases)
        documents = SnapshotDocuments(meta["documents"], index_arrays)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _damaged(where, exc)
        return None
    return Snapshot(key, index_arrays, documents)


def _mapped(path: Path, placed: dict[str, list[Any]]) -> dict[str, npt.NDArray[Any]]:
    """Every array of the file at ``path``, as read-only views of one memory map."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        # A map shares the page cache (and its pages between processes serving the same version)
        # instead of reading the file; an empty file cannot be mapped, and holds only empty arrays.
        buffer: Any = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, (dtype, shape, offset) in placed.items():
        kind = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if offset < 0 or offset + count * kind.itemsize > size:
            raise ValueError(f"array {name} lies past the end of {path.name}")
        arrays[name] = np.frombuffer(buffer, dtype=kind, count=count, offset=offset).reshape(shape)
    return arrays


def _damaged(where: Path, problem: Exception) -> None:
    log.warning("index snapshot %s is unusable (%s); the knowledge will be indexed again", where, problem)
    # Written whole or not at all (renamed into place), so it was damaged later: make way for a new one.
    shutil.rmtree(where, ignore_errors=True)


class SnapshotDocuments(Sequence[Document]):
    """The documents of a snapshot, each rebuilt from the saved text and offsets when first used."""

    def __init__(self, described: list[list[Any]], arrays: IndexArrays) -> None:
        self.described = described
        self.ids = [row[0] for row in described]
        self._arrays = arrays
        self._cache: dict[int, Document] = {}

    def __len__(self) -> int:
        return len(self.described)

    def __getitem__(self, i: int) -> Document:  # type: ignore[override]
        if i < 0:
            i += len(self.described)
        document = self._cache.get(i)
        if document is None:
            document = self._document(i)
            if len(self._cache) >= DOCUMENT_CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[i] = document
        return document

    def _document(self, i: int) -> Document:
        doc_id, title, url, author, published, source, _ = self.described[i]
        a = self._arrays.arrays
        low, high = a["doc_bytes"][i].tolist()
        body = a["text"][low:high].tobytes().decode()
        sections = self._arrays.sections
        paragraphs: list[Paragraph] = []
        first, last = int(a["doc_first_paragraph"][i]), int(a["doc_first_paragraph"][i + 1])
        spans, starts = a["sentence_span"], a["paragraph_first_sentence"]
        for p in range(first, last):
            number = int(a["paragraph_number"][p])
            start, end = a["paragraph_span"][p].tolist()
            section = int(a["paragraph_section"][p])
            sentences = tuple(
                Sentence(body[s:e], number, s, e) for s, e in spans[starts[p] : starts[p + 1]].tolist()
            )
            heading = None if section < 0 else sections[section]
            paragraphs.append(Paragraph(number, body[start:end], start, end, heading, sentences))
        date = dt.date.fromisoformat(published) if published else None
        meta = DocumentMeta(title=title, url=url, author=author, published=date)
        return Document(doc_id, meta, body, tuple(paragraphs), source)

    def content_hashes(self) -> list[tuple[str, str]]:
        """(id, content hash) of every document, without rebuilding any."""
        return [(row[0], row[6]) for row in self.described]

    def described_meta(self) -> list[tuple[str, str, str | None, dt.date | None]]:
        """(id, title, link, publication date) of every document, without rebuilding any."""
        return [
            (row[0], row[1], row[2], dt.date.fromisoformat(row[4]) if row[4] else None)
            for row in self.described
        ]
