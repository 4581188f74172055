"""A knowledge base: documents and intents, validated together and indexed once.

A :class:`KnowledgeBase` is immutable. Changing knowledge means building a new one and
swapping it in (see :class:`~bot.core.service.QAService`), so a failed load never disturbs
the knowledge being served.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.core.documents import (
    MAX_DOCUMENT_BYTES,
    DescribedDocuments,
    Document,
    DocumentText,
    parse_documents,
    slugify,
)
from bot.core.errors import KnowledgeError, KnowledgeProblem
from bot.core.index import KnowledgeIndex
from bot.core.intent_matcher import IntentMatcher
from bot.core.intents import Intent, ResolvedIntent, parse_intent_file, resolve_intents
from bot.core.model import model_digest

__all__ = [
    "DOCUMENT_SUFFIXES",
    "ENGINE_VERSION",
    "INTENT_SUFFIXES",
    "DocumentSummary",
    "KnowledgeBase",
    "KnowledgeFiles",
    "KnowledgeText",
    "build_knowledge",
    "document_hashes",
    "documents_key",
    "knowledge_of",
    "load_knowledge_dir",
    "parse_knowledge_texts",
    "read_knowledge_dir",
    "read_knowledge_texts",
    "too_large",
]

DOCUMENT_SUFFIXES = (".md", ".markdown")
INTENT_SUFFIXES = (".yaml", ".yml")
# How documents are split into paragraphs and sentences; stored layouts of another version are
# split again. Answers also change with the fitted model, whose digest is part of every version.
ENGINE_VERSION = "1"


@dataclass(frozen=True, slots=True)
class KnowledgeFiles:
    """The parsed, not yet cross-checked, contents of a knowledge folder."""

    documents: tuple[Document, ...]
    intents: tuple[tuple[Intent, str], ...]  # (intent, source file)


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """What lists of documents show, read without rebuilding the document."""

    id: str
    title: str
    url: str | None
    published: dt.date | None
    paragraphs: int
    sentences: int


@dataclass(frozen=True)
class KnowledgeBase:
    """Validated documents and intents with their search structures."""

    documents: Sequence[Document]
    intents: tuple[ResolvedIntent, ...]
    index: KnowledgeIndex
    matcher: IntentMatcher
    version: str
    # What the index was built from (the engine and every document's content, not the intents or
    # the model): index snapshots are kept under it, so teaching an intent reuses the saved index.
    documents_key: str = ""

    def document(self, doc_id: str) -> Document | None:
        """The document with id ``doc_id``, if there is one."""
        position = self.index.document_position(doc_id)
        return None if position is None else self.documents[position]

    @cached_property
    def summaries(self) -> tuple[DocumentSummary, ...]:
        """Every document's id, title, link, date and size, in order, without rebuilding any."""
        arrays = self.index.arrays.arrays
        paragraphs = np.diff(arrays["doc_first_paragraph"]).tolist()
        sentences = np.diff(arrays["doc_first_sentence"]).tolist()
        documents = self.documents
        if isinstance(documents, DescribedDocuments):
            described = documents.described_meta()
        else:
            described = [(d.id, d.title, d.meta.url, d.meta.published) for d in documents]
        return tuple(
            DocumentSummary(doc_id, title, url, published, paragraphs[i], sentences[i])
            for i, (doc_id, title, url, published) in enumerate(described)
        )

    @property
    def sentence_count(self) -> int:
        """How many sentences the documents hold."""
        return len(self.index.sentences)


def _version(hashes: Iterable[tuple[str, str]], intents: Sequence[tuple[Intent, str]]) -> str:
    """The knowledge version of documents given as (id, content hash) and ``intents``."""
    digest = hashlib.sha256(f"engine {ENGINE_VERSION}\nmodel {model_digest()}\n".encode())
    for doc_id, content_hash in sorted(hashes):
        digest.update(f"doc {doc_id} {content_hash}\n".encode())
    for intent, _ in sorted(intents, key=lambda pair: pair[0].id):
        digest.update(f"intent {json.dumps(intent.model_dump(), sort_keys=True)}\n".encode())
    return digest.hexdigest()[:16]


def build_knowledge(
    documents: Sequence[Document],
    intents: Sequence[tuple[Intent, str]] = (),
    *,
    index: KnowledgeIndex | None = None,
) -> KnowledgeBase:
    """Cross-check and index ``documents`` and ``intents``; raises :class:`KnowledgeError`.

    ``index``, already built over exactly these documents, is used as it is: a change of intents
    alone (teaching) then takes milliseconds rather than the seconds of indexing.
    """
    problems: list[KnowledgeProblem] = []
    seen: dict[str, str] = {}
    for document in documents:
        if document.id in seen:
            problems.append(
                KnowledgeProblem(
                    document.source, f"document id {document.id!r} is also used by {seen[document.id]}"
                )
            )
        seen.setdefault(document.id, document.source)
    if problems:
        raise KnowledgeError(problems)
    return knowledge_of(index if index is not None else KnowledgeIndex(documents), intents)


def knowledge_of(index: KnowledgeIndex, intents: Sequence[tuple[Intent, str]] = ()) -> KnowledgeBase:
    """The knowledge served from ``index`` (built now, or opened from a snapshot) and ``intents``.

    Raises :class:`KnowledgeError` when an intent quotes what the documents do not say.
    """
    documents = index.documents
    resolved = resolve_intents(intents, documents) if intents else []
    hashes = document_hashes(documents)
    return KnowledgeBase(
        documents,
        tuple(resolved),
        index,
        IntentMatcher(resolved, index),
        _version(hashes, intents),
        documents_key(hashes),
    )


def document_hashes(documents: Sequence[Document]) -> list[tuple[str, str]]:
    """(id, content hash) of every document, read from a snapshot's description when it has one."""
    if isinstance(documents, DescribedDocuments):
        return documents.content_hashes()
    return [(d.id, d.content_hash) for d in documents]


def documents_key(hashes: Iterable[tuple[str, str]]) -> str:
    """The key of an index built from documents given as (id, content hash) by this engine."""
    digest = hashlib.sha256(f"engine {ENGINE_VERSION}\n".encode())
    for doc_id, content_hash in sorted(hashes):
        digest.update(f"doc {doc_id} {content_hash}\n".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class KnowledgeText:
    """The raw text of one knowledge file: a document (with its id) or an intent file."""

    source: str
    text: str
    doc_id: str | None  # None for an intent file


def _knowledge_files(directory: Path, problems: list[KnowledgeProblem]) -> list[Path]:
    """Every document and intent file under ``directory``, following symbolic links.

    What cannot be read is a problem naming its path, never skipped in silence: a folder without
    permission, a link to nothing, a link that leads back into a folder it is in.
    """
    found: list[Path] = []
    suffixes = DOCUMENT_SUFFIXES + INTENT_SUFFIXES

    def walk(folder: Path, above: tuple[tuple[int, int], ...]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(KnowledgeProblem(str(folder), f"cannot be read: {exc.strerror}"))
            return
        for entry in entries:
            path = Path(entry.path)
            suffix = path.suffix.lower()
            # A link that cannot be followed matters when it names a knowledge file or, having
            # no extension, perhaps a folder of them.
            hidden = entry.name.startswith(".")
            wanted = not hidden and (suffix in suffixes or not suffix)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
                identity = entry.stat() if is_dir else None
            except OSError as exc:
                if wanted:
                    why = "loops" if exc.errno == errno.ELOOP else f"cannot be followed: {exc.strerror}"
                    problems.append(KnowledgeProblem(str(path), f"is a symbolic link that {why}"))
                continue
            if identity is not None:
                key = (identity.st_dev, identity.st_ino)
                if key in above:
                    problems.append(
                        KnowledgeProblem(
                            str(path), f"leads back to {os.path.realpath(path)}, a folder it is in: a loop"
                        )
                    )
                else:
                    walk(path, (*above, key))
            elif is_file:
                if suffix in suffixes and not hidden:
                    found.append(path)
            elif entry.is_symlink() and wanted:
                problems.append(
                    KnowledgeProblem(
                        str(path), f"is a symbolic link to {os.readlink(path)}, which does not exist"
                    )
                )

    top = directory.stat()
    walk(directory, ((top.st_dev, top.st_ino),))
    return sorted(found)


def read_knowledge_texts(
    directory: Path, max_bytes: int = MAX_DOCUMENT_BYTES
) -> tuple[list[KnowledgeText], list[KnowledgeProblem]]:
    """The text of every document and intent file under ``directory``, and every file that failed.

    A file over ``max_bytes`` is a problem, found before it is read.
    """
    if not directory.exists():
        raise KnowledgeError(
            [KnowledgeProblem(str(directory), f"does not exist (looked for {directory.absolute()})")]
        )
    if not directory.is_dir():
        raise KnowledgeError([KnowledgeProblem(str(directory), "is not a folder")])
    texts: list[KnowledgeText] = []
    problems: list[KnowledgeProblem] = []
    for path in _knowledge_files(directory, problems):
        suffix = path.suffix.lower()
        source = str(path)
        try:
            size = path.stat().st_size
            if size > max_bytes:
                problems.append(KnowledgeProblem(source, too_large(size, max_bytes)))
                continue
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            problems.append(KnowledgeProblem(source, f"is not UTF-8 text (byte {exc.start})"))
            continue
        except OSError as exc:
            problems.append(KnowledgeProblem(source, f"cannot be read: {exc.strerror}"))
            continue
        texts.append(KnowledgeText(source, text, slugify(path.stem) if suffix in DOCUMENT_SUFFIXES else None))
    return texts, problems


def too_large(size: int, max_bytes: int) -> str:
    """The problem of a document of ``size`` bytes over the limit."""
    return (
        f"is {size:,} bytes, over the {max_bytes:,}-byte limit (MAX_DOCUMENT_BYTES); "
        "split it into smaller documents"
    )


def read_knowledge_dir(directory: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> KnowledgeFiles:
    """Parse every document and intent file under ``directory``, collecting every problem."""
    texts, problems = read_knowledge_texts(directory, max_bytes)
    return parse_knowledge_texts(texts, problems)


def parse_knowledge_texts(
    texts: Sequence[KnowledgeText], problems: Sequence[KnowledgeProblem] = ()
) -> KnowledgeFiles:
    """Parse the documents and intent files of ``texts``; raises with ``problems`` and every new one."""
    problems = list(problems)
    documents: list[Document] = []
    intents: list[tuple[Intent, str]] = []
    parsed = iter(
        parse_documents([DocumentText(i.text, i.source, i.doc_id) for i in texts if i.doc_id is not None])
    )
    for item in texts:
        if item.doc_id is not None:
            document = next(parsed)
            if isinstance(document, Document):
                documents.append(document)
            else:
                problems.extend(document)
            continue
        try:
            intents.extend((intent, item.source) for intent in parse_intent_file(item.text, item.source))
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeFiles(tuple(documents), tuple(intents))


def load_knowledge_dir(directory: Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> KnowledgeBase:
    """Read, validate and index the knowledge folder ``directory`` (no file over ``max_bytes``)."""
    files = read_knowledge_dir(directory, max_bytes)
    return build_knowledge(files.documents, files.intents)
