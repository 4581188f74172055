"""Knowledge sync: reload KNOWLEDGE_DIR, add and remove admin documents, and say what changed.

Every knowledge change follows one recipe: read and validate everything, build the new index in
a worker thread, write the new document set and knowledge version in ONE transaction, and only
then swap the served knowledge. Any failure before the commit leaves both the store and the
served knowledge as they were.

Documents from ``KNOWLEDGE_DIR`` files are "file" documents: a reload replaces them with what the
folder holds. Documents added by an admin are "admin" documents: they live only in the database,
survive restarts and reloads, and only :meth:`KnowledgeSync.remove_document` removes them.
Removing a file document is refused (:class:`FileDocumentError`): it would come back at the next
reload, so the operator is told to delete the file instead.

Intents taught by admins (:meth:`KnowledgeSync.teach_citation`, :meth:`KnowledgeSync.teach_reply`)
live in the store and are merged with the file intents into every knowledge built (see
:func:`~bot.core.intents.merge_taught`), so they count in the knowledge version and survive reloads
and restarts. Teaching builds the new knowledge over the index being served (the documents did not
change), saves it, and swaps it in: the next question is answered from it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from bot.core.documents import Document, DocumentText, Sentence, parse_document, parse_documents, slugify
from bot.core.errors import CitebotError, KnowledgeError, KnowledgeProblem
from bot.core.index import KnowledgeIndex
from bot.core.intents import Intent, fold_example, merge_taught, parse_intent_file, resolve_intents
from bot.core.knowledge import (
    KnowledgeBase,
    KnowledgeText,
    build_knowledge,
    document_hashes,
    documents_key,
    knowledge_of,
    read_knowledge_texts,
    too_large,
)
from bot.core.service import QAService
from bot.storage import Store, StoredDocument, StoredIntentFile, StoredKnowledge, TaughtIntent
from bot.storage.layout import decode_layout, encode_layout
from bot.storage.snapshot import open_snapshot, save_snapshot

__all__ = [
    "DOCUMENT_SUFFIXES",
    "DocumentChange",
    "DocumentInfo",
    "FileDocumentError",
    "KnowledgeSync",
    "ReloadReport",
    "Taught",
    "TeachingError",
]

log = logging.getLogger(__name__)

# Files an admin may add as they are: Markdown (front matter optional) and plain text. Anything
# else (YAML, PDF, HTML) would be read as prose and quoted back as answers; web pages and PDFs are
# converted to Markdown first (bot.runtime.conversion).
DOCUMENT_SUFFIXES = (".md", ".txt")


class FileDocumentError(CitebotError):
    """The document comes from a file in KNOWLEDGE_DIR; it changes only with that file."""


class TeachingError(CitebotError):
    """A question cannot be taught as asked (a wrong reference, an empty reply); nothing changed."""


# Characters of a taught fixed reply: it must fit in one chat message with room to spare.
MAX_REPLY_CHARS = 1000
_TAUGHT_ID_CHARS = 48


@dataclass(frozen=True, slots=True)
class Taught:
    """What teaching one question did."""

    intent: str  # the id of the intent the question is now an example of
    created: bool  # a new intent, rather than a question added to one
    version: str  # the knowledge version now served
    already: bool = False  # the question was an example of that intent already: nothing changed


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """How a document's sentences changed in a reload."""

    id: str
    sentences_added: int
    sentences_removed: int


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload changed (or, in a dry run, would change)."""

    documents_added: tuple[str, ...]
    documents_removed: tuple[str, ...]
    documents_changed: tuple[str, ...]  # ids; the sentence counts are in ``changes``
    changes: tuple[DocumentChange, ...]
    intents_broken: tuple[str, ...]  # "intent-id (file): why", for intents whose quotes no longer match
    applied: bool
    version: str  # the new knowledge version; "" when the new knowledge is invalid (dry run only)
    previous_version: str
    # "intent-id: why", for taught intents whose quote the documents no longer hold verbatim: kept in
    # the store, not served until it matches again.
    taught_missing: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the knowledge differs from what was served."""
        return self.version != self.previous_version


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """A document as operators see it in listings."""

    id: str
    title: str
    url: str | None
    source_kind: Literal["file", "admin"]
    source: str
    added_by: str | None
    added_at: dt.datetime
    sentences: int


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A complete new knowledge set, validated and indexed, not yet saved."""

    rows: tuple[StoredDocument, ...]
    intent_files: tuple[StoredIntentFile, ...]
    knowledge: KnowledgeBase
    taught_missing: tuple[str, ...] = ()


def _row(
    document: Document, text: str, kind: Literal["file", "admin"], added_by: str | None
) -> StoredDocument:
    meta = document.meta
    return StoredDocument(
        id=document.id,
        title=meta.title,
        url=meta.url,
        author=meta.author,
        published=meta.published.isoformat() if meta.published else None,
        text=text,
        source_kind=kind,
        source=document.source,
        added_by=added_by,
        added_at=dt.datetime.now(dt.UTC),
        content_hash=document.content_hash,
        structure=encode_layout(document),
    )


def _read_folder(
    directory: Path, max_bytes: int, known: dict[str, tuple[str, Document]] | None = None
) -> tuple[list[tuple[Document, str]], list[StoredIntentFile]]:
    """Every document (with its text) and intent file under ``directory``; collects every problem.

    ``known`` maps document ids to (text, document) already parsed: a file whose text is
    unchanged is not parsed again.
    """
    texts, problems = read_knowledge_texts(directory, max_bytes)
    documents: list[tuple[Document, str]] = []
    intent_files: list[StoredIntentFile] = []

    def unchanged(item: KnowledgeText) -> Document | None:
        previous = (known or {}).get(item.doc_id or "")
        if previous is not None and previous[0] == item.text and previous[1].source == item.source:
            return previous[1]
        return None

    changed = [i for i in texts if i.doc_id is not None and unchanged(i) is None]
    parsed = iter(parse_documents([DocumentText(i.text, i.source, i.doc_id) for i in changed]))
    for item in texts:
        if item.doc_id is not None:
            document = unchanged(item) or next(parsed)
            if isinstance(document, Document):
                documents.append((document, item.text))
            else:
                problems.extend(document)
            continue
        try:
            parse_intent_file(item.text, item.source)  # validate now, so the error names this file
            intent_files.append(StoredIntentFile(item.source, item.text))
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeError(problems)
    return documents, intent_files


def _parse_intents(files: Iterable[StoredIntentFile]) -> list[tuple[Intent, str]]:
    problems: list[KnowledgeProblem] = []
    pairs: list[tuple[Intent, str]] = []
    for file in files:
        try:
            pairs.extend((intent, file.source) for intent in parse_intent_file(file.text, file.source))
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeError(problems)
    return pairs


def _taught(rows: Iterable[TaughtIntent]) -> list[Intent]:
    return [Intent.model_validate_json(row.intent) for row in rows]


def _build(
    documents: Sequence[Document],
    intents: Sequence[tuple[Intent, str]],
    taught: Sequence[Intent],
    served: KnowledgeBase | None,
) -> tuple[KnowledgeBase, tuple[str, ...]]:
    """The knowledge of ``documents`` with the file and taught intents, and the taught ones unusable.

    The served index is reused when the documents are the very ones it was built over.
    """
    if served is not None and documents_key(document_hashes(documents)) == served.documents_key:
        # The same documents: their index is reused whole (teaching changes only intents).
        merged, missing = merge_taught(intents, taught, served.documents)
        return knowledge_of(served.index, merged), tuple(missing)
    merged, missing = merge_taught(intents, taught, documents)
    return build_knowledge(documents, merged), tuple(missing)


def _parse_rows(
    rows: Iterable[StoredDocument], served: KnowledgeBase | None, parsed: Sequence[Document] = ()
) -> list[Document]:
    """Documents of stored rows; a row unchanged since it was served, or ``parsed``, is not parsed again."""
    known = {d.id: d for d in served.documents} if served is not None else {}
    known.update((d.id, d) for d in parsed)
    documents: list[Document] = []
    problems: list[KnowledgeProblem] = []
    for row in rows:
        previous = known.get(row.id)
        if (
            previous is not None
            and previous.content_hash == row.content_hash
            and previous.source == row.source
        ):
            documents.append(previous)
            continue
        stored = decode_layout(row)
        if stored is not None:
            documents.append(stored)
            continue
        try:
            documents.append(
                parse_document(row.text, row.source, doc_id=row.id, title=row.title, url=row.url)
            )
        except KnowledgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise KnowledgeError(problems)
    return documents


def _save_snapshot(folder: Path, knowledge: KnowledgeBase) -> None:
    """Save the index of ``knowledge`` for the next start; a failure only costs that start time."""
    try:
        save_snapshot(folder, knowledge.documents_key, knowledge.index)
    except OSError as exc:
        log.warning("could not save the index snapshot in %s (%s); the next start indexes again", folder, exc)


def _admin_quoted(intent: Intent, source: str, admin: Sequence[Document]) -> list[str]:
    """The admin documents ``intent`` quotes, if it resolves in them (none: it does not)."""
    if not intent.quotes or not admin:
        return []
    try:
        resolved = resolve_intents([(intent, source)], admin)
    except KnowledgeError:
        return []
    return sorted({doc_id for r in resolved for doc_id, _ in r.citations})


def _folder_problems(
    problems: Iterable[KnowledgeProblem], intents: Sequence[tuple[Intent, str]], admin: Sequence[Document]
) -> list[KnowledgeProblem]:
    """``problems`` of the folder's ``intents``, saying so where an intent quotes an admin document."""
    by_place = {(source, f"intent {intent.id!r}"): (intent, source) for intent, source in intents}
    said: set[tuple[str, str]] = set()
    out: list[KnowledgeProblem] = []
    for problem in problems:
        place = (problem.source, problem.where)
        pair = by_place.get(place)
        quoted = (
            _admin_quoted(*pair, admin)
            if pair and problem.message.startswith(("document ", "quote "))
            else []
        )
        if not quoted:
            out.append(problem)
        elif place not in said:  # one problem per intent: the reason is the same
            said.add(place)
            names = ", ".join(map(repr, quoted))
            out.append(
                replace(
                    problem,
                    message=f"it quotes {names}, added with kb add: such a document lives only in the "
                    "database, and the knowledge folder must load on its own (as at a first start "
                    "and at check)",
                )
            )
    return out


def _check_folder_intents(
    intents: Sequence[tuple[Intent, str]], folder: Sequence[Document], admin: Sequence[Document]
) -> None:
    """Raise :class:`KnowledgeError` unless the folder's intents resolve in the folder's documents alone.

    A folder whose intents quote an admin document would load here but not at a first start from
    the same folder, nor at ``check``: a reload refuses it as they do.
    """
    try:
        resolve_intents(intents, folder)
    except KnowledgeError as exc:
        raise KnowledgeError(_folder_problems(exc.problems, intents, admin)) from exc


def _broken_intents(
    intents: Sequence[tuple[Intent, str]], folder: Sequence[Document], admin: Sequence[Document]
) -> tuple[str, ...]:
    """The ``id (file): why`` of each of the folder's intents that does not resolve in its documents."""
    broken: list[str] = []
    for intent, source in intents:
        try:
            resolve_intents([(intent, source)], folder)
        except KnowledgeError as exc:
            problems = _folder_problems(exc.problems, [(intent, source)], admin)
            broken.extend(f"{intent.id} ({source}): {p.message}" for p in problems)
    return tuple(broken)


def _sentence_changes(old: Document, new: Document) -> DocumentChange:
    before = Counter(s.text for s in old.sentences)
    after = Counter(s.text for s in new.sentences)
    return DocumentChange(new.id, sum((after - before).values()), sum((before - after).values()))


class KnowledgeSync:
    """The knowledge in the store and the knowledge served, kept in step."""

    def __init__(
        self,
        store: Store,
        service: QAService,
        knowledge_dir: Path,
        rows: Sequence[StoredDocument],
        max_document_bytes: int,
        snapshots: Path | None = None,
    ) -> None:
        """Use :meth:`load`; ``snapshots`` is where index snapshots are kept (None: nowhere)."""
        self.snapshots = snapshots
        self.store = store
        self.service = service
        self.knowledge_dir = knowledge_dir
        self.max_document_bytes = max_document_bytes
        self._rows = {row.id: row for row in rows}
        # One knowledge change at a time; questions never wait for it.
        self._knowledge_lock = asyncio.Lock()

    @staticmethod
    async def load(
        store: Store,
        knowledge_dir: Path,
        max_document_bytes: int,
        snapshots: Path | None = None,
        *,
        warn_unserved: bool = True,
    ) -> tuple[KnowledgeBase, tuple[StoredDocument, ...]]:
        """The knowledge to serve at start: imported from ``knowledge_dir`` the first time, else stored.

        With ``snapshots``, the stored version's index snapshot is opened instead of parsing and
        indexing the documents, and a version without one gets one. Taught intents whose quote
        the documents no longer hold are logged as warnings, unless ``warn_unserved`` is False
        (a command whose report lists them anyway). Raises :class:`KnowledgeError` when the
        knowledge is invalid.
        """
        loaded: tuple[KnowledgeBase, tuple[str, ...]] | None = None
        if snapshots is not None:
            catalog = await store.knowledge_catalog()
            loaded = await asyncio.to_thread(KnowledgeSync._open_snapshot, snapshots, catalog)
            rows = catalog.documents
        if loaded is None:
            knowledge, rows, missing = await KnowledgeSync._load(store, knowledge_dir, max_document_bytes)
            if snapshots is not None:
                await asyncio.to_thread(_save_snapshot, snapshots, knowledge)
        else:
            knowledge, missing = loaded
            if knowledge.version != catalog.version:
                log.info("knowledge version %s -> %s (a new model)", catalog.version, knowledge.version)
                await store.record_version(
                    knowledge.version, expected_version=catalog.version, intents=len(knowledge.intents)
                )
        if warn_unserved:
            for problem in missing:
                log.warning("taught intent not served, its quote is no longer in the documents: %s", problem)
        return knowledge, rows

    @staticmethod
    def _open_snapshot(
        folder: Path, catalog: StoredKnowledge
    ) -> tuple[KnowledgeBase, tuple[str, ...]] | None:
        if catalog.version is None:
            return None
        snapshot = open_snapshot(
            folder, documents_key((row.id, row.content_hash) for row in catalog.documents)
        )
        if snapshot is None:
            return None
        try:
            index = KnowledgeIndex(snapshot.documents, snapshot.arrays)
            merged, missing = merge_taught(
                _parse_intents(catalog.intent_files), _taught(catalog.taught), snapshot.documents
            )
            knowledge = knowledge_of(index, merged)
        except KnowledgeError:
            return None
        # The documents are the snapshot's (its key covers every document's hash and the engine),
        # so its index serves as it is even when the version differs: a new model, or intents
        # another process stored without recording the version they make. load() records it.
        return knowledge, tuple(missing)

    @staticmethod
    async def _load(
        store: Store, knowledge_dir: Path, max_document_bytes: int
    ) -> tuple[KnowledgeBase, tuple[StoredDocument, ...], tuple[str, ...]]:
        stored = await store.load_knowledge()
        if stored.version is None:
            log.info("first start: importing the knowledge in %s", knowledge_dir)
            candidate = await asyncio.to_thread(
                KnowledgeSync._candidate_from_folder, knowledge_dir, max_document_bytes, (), None, (), ()
            )
            await store.replace_knowledge(
                candidate.rows, candidate.intent_files, candidate.knowledge.version, expected_version=None
            )
            return candidate.knowledge, candidate.rows, candidate.taught_missing
        rows = stored.documents
        knowledge, missing = await asyncio.to_thread(
            lambda: _build(
                _parse_rows(rows, None), _parse_intents(stored.intent_files), _taught(stored.taught), None
            )
        )
        if knowledge.version != stored.version or any(row.structure is None for row in rows):
            # The engine changed (ENGINE_VERSION) or layouts are missing: record what is served
            # now, with fresh layouts, so the next start need not split sentences again.
            parsed = {d.id: d for d in knowledge.documents}
            rows = tuple(replace(row, structure=encode_layout(parsed[row.id])) for row in rows)
            await store.replace_knowledge(
                rows, stored.intent_files, knowledge.version, expected_version=stored.version
            )
        return knowledge, rows, missing

    @staticmethod
    def _candidate_from_folder(
        directory: Path,
        max_bytes: int,
        admin_rows: Sequence[StoredDocument],
        served: KnowledgeBase | None,
        file_rows: Sequence[StoredDocument],
        taught: Sequence[Intent],
    ) -> _Candidate:
        known: dict[str, tuple[str, Document]] = {}
        if served is not None and file_rows:
            by_id = {d.id: d for d in served.documents}
            # Only documents served from exactly this row: another process may have changed the store.
            known = {
                row.id: (row.text, by_id[row.id])
                for row in file_rows
                if row.id in by_id and by_id[row.id].content_hash == row.content_hash
            }
        folder_docs, intent_files = _read_folder(directory, max_bytes, known)
        previous = {row.id: row for row in admin_rows}
        rows = [_row(doc, text, "file", None) for doc, text in folder_docs]
        rows.extend(previous.values())
        intents = _parse_intents(intent_files)
        admin = _parse_rows(admin_rows, served)
        if admin:  # without them, building the knowledge below checks exactly this
            _check_folder_intents(intents, [doc for doc, _ in folder_docs], admin)
        documents = [doc for doc, _ in folder_docs] + admin
        knowledge, missing = _build(documents, intents, taught, served)
        return _Candidate(tuple(rows), tuple(intent_files), knowledge, missing)

    async def reload(self, *, dry_run: bool = False) -> ReloadReport:
        """Re-read KNOWLEDGE_DIR and switch to it in one step (or, with ``dry_run``, only report).

        Admin documents are kept. Raises :class:`KnowledgeError` naming each bad file; the
        previous knowledge keeps being served and the store is unchanged.
        """
        async with self._knowledge_lock:
            stored = await self.store.load_knowledge()
            served = self.service.knowledge
            admin_rows = [row for row in stored.documents if row.source_kind == "admin"]
            directory = self.knowledge_dir
            try:
                file_rows = [row for row in stored.documents if row.source_kind == "file"]
                candidate = await asyncio.to_thread(
                    self._candidate_from_folder,
                    directory,
                    self.max_document_bytes,
                    admin_rows,
                    served,
                    file_rows,
                    _taught(stored.taught),
                )
            except KnowledgeError:
                if not dry_run:
                    raise
                # A dry run still reports what would break, as long as every file parses.
                folder_docs, intent_files = await asyncio.to_thread(
                    _read_folder, directory, self.max_document_bytes
                )
                # The folder's intents must hold in its own documents (see _check_folder_intents).
                admin = _parse_rows(admin_rows, served)
                broken = _broken_intents(_parse_intents(intent_files), [doc for doc, _ in folder_docs], admin)
                if not broken:
                    raise
                documents = [doc for doc, _ in folder_docs] + admin
                return self._report(served, documents, broken, applied=False, version="")
            # Preserve when each file document first arrived.
            old_rows = {row.id: row for row in stored.documents}
            rows = tuple(
                replace(row, added_at=old_rows[row.id].added_at)
                if row.id in old_rows and old_rows[row.id].source_kind == row.source_kind
                else row
                for row in candidate.rows
            )
            knowledge = candidate.knowledge
            if not dry_run:
                await self.store.replace_knowledge(
                    rows, candidate.intent_files, knowledge.version, expected_version=stored.version
                )
                self._swap(knowledge, rows)
                await self._save_snapshot(knowledge)
            report = replace(
                self._report(served, knowledge.documents, (), applied=not dry_run, version=knowledge.version),
                taught_missing=candidate.taught_missing,
            )
        log.info(
            "reload%s: +%d -%d ~%d documents, version %s -> %s",
            " (dry run)" if dry_run else "",
            len(report.documents_added),
            len(report.documents_removed),
            len(report.documents_changed),
            report.previous_version,
            report.version,
        )
        return report

    @staticmethod
    def _report(
        served: KnowledgeBase,
        documents: Sequence[Document],
        broken: tuple[str, ...],
        *,
        applied: bool,
        version: str,
    ) -> ReloadReport:
        old = {d.id: d for d in served.documents}
        new = {d.id: d for d in documents}
        changes = tuple(
            _sentence_changes(old[i], new[i])
            for i in sorted(old.keys() & new.keys())
            if old[i].content_hash != new[i].content_hash
        )
        return ReloadReport(
            documents_added=tuple(sorted(new.keys() - old.keys())),
            documents_removed=tuple(sorted(old.keys() - new.keys())),
            documents_changed=tuple(c.id for c in changes),
            changes=changes,
            intents_broken=broken,
            applied=applied,
            version=version,
            previous_version=served.version,
        )

    def _swap(self, knowledge: KnowledgeBase, rows: Iterable[StoredDocument]) -> None:
        self.service.swap(knowledge)
        self._rows = {row.id: row for row in rows}

    async def _save_snapshot(self, knowledge: KnowledgeBase) -> None:
        if self.snapshots is not None:
            await asyncio.to_thread(_save_snapshot, self.snapshots, knowledge)

    async def _apply(
        self,
        rows: Sequence[StoredDocument],
        stored: StoredKnowledge,
        *,
        dry_run: bool = False,
        parsed: Sequence[Document] = (),
    ) -> tuple[KnowledgeBase, tuple[str, ...]]:
        """Validate and index ``rows`` with the stored intents, save them, then serve them.

        ``parsed``: documents of ``rows`` parsed already (a document being added), used as they
        are. Returns the knowledge and the taught intents it cannot serve (see :func:`_build`). A
        dry run builds the very same knowledge, so it reports the version the change would give.
        """
        served = self.service.knowledge
        knowledge, missing = await asyncio.to_thread(
            lambda: _build(
                _parse_rows(rows, served, parsed),
                _parse_intents(stored.intent_files),
                _taught(stored.taught),
                served,
            )
        )
        if dry_run:
            return knowledge, missing
        await self.store.replace_knowledge(
            rows, stored.intent_files, knowledge.version, expected_version=stored.version
        )
        self._swap(knowledge, rows)
        await self._save_snapshot(knowledge)
        return knowledge, missing

    async def add_document(
        self,
        text: str,
        *,
        title: str | None = None,
        url: str | None = None,
        added_by: str,
        source: str | None = None,
    ) -> Document:
        """Add an admin document from Markdown (front matter optional) or plain text with ``title``.

        Raises :class:`KnowledgeError` when the text is invalid, its id is taken, or the knowledge
        would not validate with it; nothing changes then.
        """
        name = source or "the new document"
        size = len(text.encode())
        if size > self.max_document_bytes:
            raise KnowledgeError([KnowledgeProblem(name, too_large(size, self.max_document_bytes))])
        async with self._knowledge_lock:
            document = await asyncio.to_thread(parse_document, text, name, title=title, url=url)
            stored = await self.store.load_knowledge()
            taken = next((row for row in stored.documents if row.id == document.id), None)
            if taken is not None:
                raise KnowledgeError(
                    [
                        KnowledgeProblem(
                            name,
                            f"a document with id {document.id!r} already exists ({taken.source}); "
                            "remove it first or give this one another title",
                        )
                    ]
                )
            row = _row(document, text, "admin", added_by)
            if source is None:
                row = replace(row, source=f"added by {added_by}")
            # The document just parsed, not its stored layout decoded again (seconds for 20 MB).
            parsed = replace(document, source=row.source)
            knowledge, _ = await self._apply([*stored.documents, row], stored, parsed=[parsed])
        log.info("document %s added by %s; knowledge version %s", document.id, added_by, knowledge.version)
        served = knowledge.document(document.id)
        return served if served is not None else document

    async def links(self) -> list[tuple[str, str, str]]:
        """(id, link, title) of every admin document added from a link, in id order."""
        from bot.runtime.fetching import is_link  # aiohttp only where links are fetched

        stored = await self.store.load_knowledge()
        return sorted(
            (row.id, row.source, row.title)
            for row in stored.documents
            if row.source_kind == "admin" and is_link(row.source)
        )

    async def replace_texts(
        self, texts: Mapping[str, tuple[str, str]], *, dry_run: bool = False
    ) -> ReloadReport:
        """Give admin documents new text, ``{id: (source, text)}``, in one step; report as a reload does.

        A document is replaced only while it still comes from ``source`` (it may have been removed,
        or removed and added again from elsewhere, meanwhile); its id, title, who added it and
        when stay. Raises :class:`KnowledgeError` when a new text is invalid; nothing changes then.
        """
        async with self._knowledge_lock:
            stored = await self.store.load_knowledge()
            served = self.service.knowledge
            rows: list[StoredDocument] = []
            for row in stored.documents:
                new = texts.get(row.id)
                if row.source_kind != "admin" or new is None or new[0] != row.source or new[1] == row.text:
                    rows.append(row)
                    continue
                document = await asyncio.to_thread(parse_document, new[1], row.source, doc_id=row.id)
                rows.append(replace(_row(document, new[1], "admin", row.added_by), added_at=row.added_at))
            knowledge, missing = await self._apply(rows, stored, dry_run=dry_run)
            report = replace(
                self._report(served, knowledge.documents, (), applied=not dry_run, version=knowledge.version),
                taught_missing=missing,
            )
        log.info(
            "refresh%s: ~%d documents, version %s -> %s",
            " (dry run)" if dry_run else "",
            len(report.documents_changed),
            report.previous_version,
            report.version,
        )
        return report

    async def remove_document(self, doc_id: str) -> bool:
        """Remove an admin document; False if there is none with that id.

        Raises :class:`FileDocumentError` for a document that comes from a KNOWLEDGE_DIR file, and
        :class:`KnowledgeError` when an intent still quotes the document.
        """
        async with self._knowledge_lock:
            stored = await self.store.load_knowledge()
            row = next((r for r in stored.documents if r.id == doc_id), None)
            if row is None:
                return False
            if row.source_kind == "file":
                raise FileDocumentError(
                    f"document {doc_id!r} comes from the file {row.source}; delete or move that file, "
                    "then reload"
                )
            knowledge, _ = await self._apply([r for r in stored.documents if r.id != doc_id], stored)
        log.info("document %s removed; knowledge version %s", doc_id, knowledge.version)
        return True

    async def teach_citation(
        self, question: str, doc_id: str, sentence: Sentence, *, taught_by: str
    ) -> Taught:
        """Make ``question`` an example of the intent citing ``sentence`` of ``doc_id``; served at once.

        The intent is created when none cites the sentence yet. Raises :class:`TeachingError` when
        the question is already an example of another intent, or the sentence is not served.
        """

        def change(served: KnowledgeBase, taught: dict[str, Intent]) -> Intent:
            citing = next(
                (
                    i.id
                    for i in served.intents
                    if any(d == doc_id and s.start == sentence.start for d, s in i.citations[:1])
                ),
                None,
            )
            if citing is not None:
                return _with_example(
                    taught.get(citing), citing, question, document=doc_id, quote=sentence.text
                )
            return Intent(
                id=_new_id(question, served, taught),
                examples=[question],
                document=doc_id,
                quotes=[sentence.text],
            )

        return await self._teach(question, change, taught_by)

    async def teach_reply(self, question: str, reply: str, *, taught_by: str) -> Taught:
        """Make ``question`` an example of an intent giving the fixed ``reply``; served at once.

        Questions taught the same reply share one intent. Raises :class:`TeachingError` for an empty
        or too long reply, or a question already an example of another intent.
        """
        text = reply.strip()
        if not text:
            raise TeachingError("The reply is empty: write the text the bot should give.")
        if len(text) > MAX_REPLY_CHARS:
            raise TeachingError(
                f"That reply is {len(text)} characters long; please keep it to {MAX_REPLY_CHARS} or fewer."
            )

        def change(served: KnowledgeBase, taught: dict[str, Intent]) -> Intent:
            same = next((i.id for i in served.intents if i.reply == text), None)
            if same is not None:
                return _with_example(taught.get(same), same, question, reply=text)
            return Intent(
                id=_new_id(question, served, taught, "taught-reply-"), examples=[question], reply=text
            )

        return await self._teach(question, change, taught_by)

    async def _teach(
        self,
        question: str,
        change: Callable[[KnowledgeBase, dict[str, Intent]], Intent],
        taught_by: str,
    ) -> Taught:
        async with self._knowledge_lock:
            # Without the documents' text: teaching changes only intents, and the served index is
            # reused whole when the stored documents are still the served ones.
            stored = await self.store.knowledge_catalog()
            served = self.service.knowledge
            keyed = ((row.id, row.content_hash) for row in stored.documents)
            unchanged = documents_key(keyed) == served.documents_key
            if not unchanged:
                stored = await self.store.load_knowledge()  # another process changed the documents
            taught = {intent.id: intent for intent in _taught(stored.taught)}
            intent = change(served, taught)
            folded = fold_example(question)
            holder = next(
                (i for i in served.intents if i.id != intent.id and folded in map(fold_example, i.examples)),
                None,
            )
            if holder is not None:
                raise TeachingError(
                    f"That question is already an example of the intent {holder.id!r} ({holder.source}); "
                    "nothing changed."
                )
            same = next((i for i in served.intents if i.id == intent.id), None)
            if taught.get(intent.id) == intent or (
                same is not None and folded in map(fold_example, same.examples)
            ):
                # Taught before (or curated so): only the review queue learns it is decided.
                if folded not in map(fold_example, await self.store.review_verdicts()):
                    await self.store.set_review_verdict(folded, "taught", taught_by)
                return Taught(intent.id, False, served.version, already=True)
            created = intent.id not in taught and same is None
            taught[intent.id] = intent
            rows = stored.documents
            knowledge, missing = await asyncio.to_thread(
                lambda: _build(
                    served.documents if unchanged else _parse_rows(rows, served),
                    _parse_intents(stored.intent_files),
                    list(taught.values()),
                    served,
                )
            )
            if any(problem.startswith(f"{intent.id}: ") for problem in missing):
                raise TeachingError(
                    "That sentence is not in the knowledge stored now (another process changed it); "
                    "reload, then teach again. Nothing changed."
                )
            record = TaughtIntent(
                intent.id, intent.model_dump_json(exclude_none=True), taught_by, dt.datetime.now(dt.UTC)
            )
            await self.store.save_taught(
                record,
                knowledge.version,
                expected_version=stored.version,
                question=folded,
                intents=len(knowledge.intents),
            )
            self._swap(knowledge, rows)
        log.info("taught intent %s by %s; knowledge version %s", intent.id, taught_by, knowledge.version)
        return Taught(intent.id, created, knowledge.version)

    async def taught_intents(self) -> list[Intent]:
        """The intents taught by admins, as the store keeps them (served or not), oldest first."""
        return _taught((await self.store.load_knowledge()).taught)

    async def documents(self) -> list[DocumentInfo]:
        """Every document being served, in id order."""
        knowledge = self.service.knowledge
        counts = {d.id: d.sentences for d in knowledge.summaries}
        return [
            DocumentInfo(
                row.id, row.title, row.url, row.source_kind, row.source, row.added_by, row.added_at, counts[i]
            )
            for i, row in sorted(self._rows.items())
            if i in counts
        ]


def _with_example(
    held: Intent | None,
    intent_id: str,
    question: str,
    *,
    document: str | None = None,
    quote: str | None = None,
    reply: str | None = None,
) -> Intent:
    """The taught intent ``intent_id`` (``held``, or a new one) with ``question`` among its examples."""
    if held is None:
        return Intent(
            id=intent_id,
            examples=[question],
            document=document,
            quotes=[quote] if quote is not None else [],
            reply=reply,
        )
    if fold_example(question) in map(fold_example, held.examples):
        return held
    return held.model_copy(update={"examples": [*held.examples, question]})


def _new_id(question: str, served: KnowledgeBase, taught: dict[str, Intent], prefix: str = "taught-") -> str:
    """An intent id made from ``question``, used by no intent served or taught."""
    base = (prefix + slugify(question))[:_TAUGHT_ID_CHARS].rstrip("-")
    taken = set(taught) | {i.id for i in served.intents}
    number = 1
    candidate = base
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
