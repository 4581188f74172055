"""The application object both fronts use: knowledge served from the store, questions logged to it.

:class:`Citebot` owns the :class:`~bot.storage.Store` and the :class:`~bot.core.service.QAService`.
Knowledge changes (reload, add, remove) follow one recipe: read and validate everything, build the
new index in a worker thread, write the new document set and knowledge version in ONE transaction,
and only then swap the service's knowledge. Any failure before the commit leaves both the store
and the served knowledge as they were.

Documents from ``KNOWLEDGE_DIR`` files are "file" documents: a reload replaces them with what the
folder holds. Documents added by an admin are "admin" documents: they live only in the database,
survive restarts and reloads, and only :meth:`Citebot.remove_document` removes them. Removing a
file document is refused (:class:`FileDocumentError`): it would come back at the next reload, so
the operator is told to delete the file instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from bot.config import Settings
from bot.core.answers import Answer
from bot.core.documents import Document, DocumentMeta, Paragraph, Sentence, parse_document
from bot.core.errors import CitebotError, KnowledgeError, KnowledgeProblem
from bot.core.intents import Intent, parse_intent_file, resolve_intents
from bot.core.knowledge import ENGINE_VERSION, KnowledgeBase, build_knowledge, read_knowledge_texts
from bot.core.service import QAService
from bot.storage import (
    GuildSettings,
    LoggedQuestion,
    QuestionRecord,
    Stats,
    StorageError,
    Store,
    StoredDocument,
    StoredIntentFile,
    StoredKnowledge,
)

__all__ = [
    "AskResult",
    "Citebot",
    "DocumentChange",
    "DocumentInfo",
    "FileDocumentError",
    "ReloadReport",
]

log = logging.getLogger(__name__)

USER_KEY_META = "user_id_key"
# Hex characters of HMAC-SHA256 kept per user: 128 bits, collision-free for any real guild.
USER_HASH_CHARS = 32
# Layout of the stored document structure; bump when _structure changes shape.
STRUCTURE_FORMAT = 1


class FileDocumentError(CitebotError):
    """The document comes from a file in KNOWLEDGE_DIR; it changes only with that file."""


@dataclass(frozen=True, slots=True)
class AskResult:
    """An answer and the question-log row it was recorded as (None when not logged)."""

    answer: Answer
    answer_id: int | None


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
        structure=_structure(document),
    )


def _structure(document: Document) -> str:
    """The parsed layout of ``document`` as JSON: paragraphs and sentence offsets into its body."""
    paragraphs = [
        [p.number, p.start, p.end, p.section, [[s.start, s.end] for s in p.sentences]]
        for p in document.paragraphs
    ]
    layout = {
        "format": STRUCTURE_FORMAT,
        "engine": ENGINE_VERSION,
        "body": document.body,
        "paragraphs": paragraphs,
    }
    return json.dumps(layout, ensure_ascii=False)


def _from_structure(row: StoredDocument) -> Document | None:
    """The document rebuilt from its stored layout without splitting sentences; None if that is unsafe.

    The layout is used only when it was written by this engine and format and the rebuilt
    document hashes to the stored content hash; otherwise the text is parsed again.
    """
    if row.structure is None:
        return None
    try:
        layout = json.loads(row.structure)
        if layout.get("format") != STRUCTURE_FORMAT or layout.get("engine") != ENGINE_VERSION:
            return None
        body: str = layout["body"]
        paragraphs = tuple(
            Paragraph(
                number,
                body[start:end],
                start,
                end,
                section,
                tuple(Sentence(body[s:e], number, s, e) for s, e in spans),
            )
            for number, start, end, section, spans in layout["paragraphs"]
        )
        meta = DocumentMeta.model_validate(
            {"title": row.title, "url": row.url, "author": row.author, "published": row.published}
        )
    except (ValueError, KeyError, TypeError, AttributeError):  # pydantic's ValidationError is a ValueError
        return None
    document = Document(row.id, meta, body, paragraphs, row.source)
    if document.content_hash != row.content_hash or not _layout_fits(document):
        return None
    return document


def _layout_fits(document: Document) -> bool:
    """Whether paragraphs and sentences are ordered, non-empty, trimmed slices inside one another."""
    cursor = 0
    for paragraph in document.paragraphs:
        if not cursor <= paragraph.start < paragraph.end <= len(document.body):
            return False
        if paragraph.text != paragraph.text.strip() or not paragraph.sentences:
            return False
        inner = paragraph.start
        for sentence in paragraph.sentences:
            if (
                not inner <= sentence.start < sentence.end <= paragraph.end
                or sentence.text != sentence.text.strip()
            ):
                return False
            inner = sentence.end
        cursor = paragraph.end
    return bool(document.paragraphs)


def _read_folder(
    directory: Path, known: dict[str, tuple[str, Document]] | None = None
) -> tuple[list[tuple[Document, str]], list[StoredIntentFile]]:
    """Every document (with its text) and intent file under ``directory``; collects every problem.

    ``known`` maps document ids to (text, document) already parsed: a file whose text is
    unchanged is not parsed again.
    """
    texts, problems = read_knowledge_texts(directory)
    documents: list[tuple[Document, str]] = []
    intent_files: list[StoredIntentFile] = []
    for item in texts:
        try:
            if item.doc_id is not None:
                previous = (known or {}).get(item.doc_id)
                if previous is not None and previous[0] == item.text and previous[1].source == item.source:
                    documents.append((previous[1], item.text))
                else:
                    documents.append((parse_document(item.text, item.source, doc_id=item.doc_id), item.text))
            else:
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


def _parse_rows(rows: Iterable[StoredDocument], served: KnowledgeBase | None) -> list[Document]:
    """Documents of stored rows; a row unchanged since it was served is not parsed again."""
    known = {d.id: d for d in served.documents} if served is not None else {}
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
        stored = _from_structure(row)
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


def _broken_intents(intents: Sequence[tuple[Intent, str]], documents: Sequence[Document]) -> tuple[str, ...]:
    broken: list[str] = []
    for intent, source in intents:
        try:
            resolve_intents([(intent, source)], documents)
        except KnowledgeError as exc:
            broken.extend(f"{intent.id} ({source}): {p.message}" for p in exc.problems)
    return tuple(broken)


def _sentence_changes(old: Document, new: Document) -> DocumentChange:
    before = Counter(s.text for s in old.sentences)
    after = Counter(s.text for s in new.sentences)
    return DocumentChange(new.id, sum((after - before).values()), sum((before - after).values()))


class Citebot:
    """The application: a store, the knowledge it serves, and the question log."""

    def __init__(
        self, settings: Settings, store: Store, service: QAService, rows: Sequence[StoredDocument]
    ) -> None:
        """Use :meth:`open`."""
        self.settings = settings
        self.store = store
        self.service = service
        self._rows = {row.id: row for row in rows}
        self._user_key = b""
        # One knowledge change at a time; questions never wait for it.
        self._knowledge_lock = asyncio.Lock()

    @classmethod
    async def open(cls, settings: Settings) -> Citebot:
        """Open the store, import KNOWLEDGE_DIR on the first start, and serve the stored knowledge.

        Raises :class:`~bot.storage.StorageError` when the database cannot be used and
        :class:`KnowledgeError` when the knowledge is invalid.
        """
        store = await Store.open(settings.database_path, timeout=settings.database_timeout_seconds)
        try:
            stored = await store.load_knowledge()
            if stored.version is None:
                log.info("first start: importing the knowledge in %s", settings.knowledge_dir)
                candidate = await asyncio.to_thread(
                    cls._candidate_from_folder, settings.knowledge_dir, (), None
                )
                await store.replace_knowledge(
                    candidate.rows, candidate.intent_files, candidate.knowledge.version, expected_version=None
                )
                rows, knowledge = candidate.rows, candidate.knowledge
            else:
                rows = stored.documents
                knowledge = await asyncio.to_thread(
                    lambda: build_knowledge(_parse_rows(rows, None), _parse_intents(stored.intent_files))
                )
                if knowledge.version != stored.version or any(row.structure is None for row in rows):
                    # The engine changed (ENGINE_VERSION) or layouts are missing: record what is served
                    # now, with fresh layouts, so the next start need not split sentences again.
                    parsed = {d.id: d for d in knowledge.documents}
                    rows = tuple(replace(row, structure=_structure(parsed[row.id])) for row in rows)
                    await store.replace_knowledge(
                        rows, stored.intent_files, knowledge.version, expected_version=stored.version
                    )
            service = QAService(
                knowledge,
                minimum_confidence=settings.minimum_confidence,
                max_question_chars=settings.max_question_chars,
            )
            citebot = cls(settings, store, service, rows)
            citebot._user_key = await citebot._load_user_key()
            await citebot.prune()
        except BaseException:
            await store.close()
            raise
        log.info(
            "serving knowledge version %s: %d documents, %d intents",
            knowledge.version,
            len(knowledge.documents),
            len(knowledge.intents),
        )
        return citebot

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()

    async def _load_user_key(self) -> bytes:
        configured = self.settings.user_id_key.get_secret_value()
        if configured:
            return configured.encode()
        # No key configured: make one and keep it with the data it protects, so hashes stay stable.
        stored = await self.store.get_meta(USER_KEY_META)
        if stored is None:
            stored = secrets.token_hex(32)
            await self.store.set_meta(USER_KEY_META, stored)
        return stored.encode()

    def user_hash(self, user_id: int) -> str:
        """The pseudonymous id stored for a user: a keyed hash, not reversible without the key."""
        return hmac.new(self._user_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:USER_HASH_CHARS]

    @property
    def knowledge_version(self) -> str:
        """The version of the knowledge being served."""
        return self.service.knowledge.version

    # -- questions ------------------------------------------------------------------------

    async def ask(
        self,
        question: str,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user_id: int | None = None,
        log: bool = True,
    ) -> AskResult:
        """Answer ``question`` and, if ``log``, record it in the question log.

        If the log cannot be written (say the database is locked), the answer is still returned,
        with ``answer_id`` None, and the failure is logged.
        Raises :class:`~bot.core.errors.QuestionError` for an empty or too long question.
        """
        started = time.perf_counter()
        answer = self.service.ask(question)
        latency_ms = 1000 * (time.perf_counter() - started)
        if not log:
            return AskResult(answer, None)
        record = QuestionRecord(
            asked_at=dt.datetime.now(dt.UTC),
            guild_id=guild_id,
            channel_id=channel_id,
            user_hash=self.user_hash(user_id) if user_id is not None else None,
            question=answer.question,
            answered=answer.answered,
            confidence=answer.confidence,
            reason=answer.reason.value,
            citations=tuple(
                {"document": c.document, "paragraph": c.paragraph, "text": c.text} for c in answer.citations
            ),
            latency_ms=latency_ms,
            knowledge_version=answer.knowledge_version,
        )
        try:
            answer_id = await self.store.log_question(record)
        except StorageError:
            # The answer is good without its log entry: the user still gets it, operators see why.
            logger = logging.getLogger(__name__)  # the ``log`` parameter hides the module's ``log``
            logger.exception("could not log a question (guild %s, channel %s)", guild_id, channel_id)
            return AskResult(answer, None)
        return AskResult(answer, answer_id)

    async def record_feedback(self, answer_id: int, user_id: int, helpful: bool) -> None:
        """Record a helpful / not helpful vote; a user's second vote on an answer replaces the first."""
        await self.store.record_feedback(answer_id, self.user_hash(user_id), helpful)

    async def unanswered(
        self, *, limit: int = 10, offset: int = 0, guild_id: int | None = None
    ) -> list[LoggedQuestion]:
        """Questions the bot declined, newest first."""
        return await self.store.unanswered(limit=limit, offset=offset, guild_id=guild_id)

    async def stats(self, *, days: int = 30, guild_id: int | None = None) -> Stats:
        """Questions per day, share answered, top questions and votes over the last ``days`` days."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        return await self.store.stats(since=since, days=days, guild_id=guild_id)

    async def forget_user(self, user_id: int) -> int:
        """Delete everything logged about a user (questions and votes); returns how many rows went."""
        return await self.store.forget_user(self.user_hash(user_id))

    async def prune(self) -> int:
        """Delete questions older than QUESTION_RETENTION_DAYS; returns how many went."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=self.settings.question_retention_days)
        pruned = await self.store.prune(cutoff)
        if pruned:
            log.info("pruned %d questions older than %s", pruned, cutoff.date().isoformat())
        return pruned

    # -- knowledge ------------------------------------------------------------------------

    @staticmethod
    def _candidate_from_folder(
        directory: Path,
        admin_rows: Sequence[StoredDocument],
        served: KnowledgeBase | None,
        file_rows: Sequence[StoredDocument] = (),
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
        folder_docs, intent_files = _read_folder(directory, known)
        previous = {row.id: row for row in admin_rows}
        rows = [_row(doc, text, "file", None) for doc, text in folder_docs]
        rows.extend(previous.values())
        documents = [doc for doc, _ in folder_docs] + _parse_rows(admin_rows, served)
        knowledge = build_knowledge(documents, _parse_intents(intent_files))
        return _Candidate(tuple(rows), tuple(intent_files), knowledge)

    async def reload(self, *, dry_run: bool = False) -> ReloadReport:
        """Re-read KNOWLEDGE_DIR and switch to it in one step (or, with ``dry_run``, only report).

        Admin documents are kept. Raises :class:`KnowledgeError` naming each bad file; the
        previous knowledge keeps being served and the store is unchanged.
        """
        async with self._knowledge_lock:
            stored = await self.store.load_knowledge()
            served = self.service.knowledge
            admin_rows = [row for row in stored.documents if row.source_kind == "admin"]
            directory = self.settings.knowledge_dir
            try:
                file_rows = [row for row in stored.documents if row.source_kind == "file"]
                candidate = await asyncio.to_thread(
                    self._candidate_from_folder, directory, admin_rows, served, file_rows
                )
            except KnowledgeError:
                if not dry_run:
                    raise
                # A dry run still reports what would break, as long as every file parses.
                folder_docs, intent_files = await asyncio.to_thread(_read_folder, directory)
                documents = [doc for doc, _ in folder_docs] + _parse_rows(admin_rows, served)
                broken = _broken_intents(_parse_intents(intent_files), documents)
                if not broken:
                    raise
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
            report = self._report(
                served, knowledge.documents, (), applied=not dry_run, version=knowledge.version
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

    async def _apply(self, rows: Sequence[StoredDocument], stored: StoredKnowledge) -> KnowledgeBase:
        """Validate and index ``rows`` with the stored intents, save them, then serve them."""
        served = self.service.knowledge
        knowledge = await asyncio.to_thread(
            lambda: build_knowledge(_parse_rows(rows, served), _parse_intents(stored.intent_files))
        )
        await self.store.replace_knowledge(
            rows, stored.intent_files, knowledge.version, expected_version=stored.version
        )
        self._swap(knowledge, rows)
        return knowledge

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
        async with self._knowledge_lock:
            name = source or "the new document"
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
            knowledge = await self._apply([*stored.documents, row], stored)
        log.info("document %s added by %s; knowledge version %s", document.id, added_by, knowledge.version)
        served = knowledge.document(document.id)
        return served if served is not None else document

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
            knowledge = await self._apply([r for r in stored.documents if r.id != doc_id], stored)
        log.info("document %s removed; knowledge version %s", doc_id, knowledge.version)
        return True

    async def documents(self) -> list[DocumentInfo]:
        """Every document being served, in id order."""
        knowledge = self.service.knowledge
        counts = {d.id: len(d.sentences) for d in knowledge.documents}
        return [
            DocumentInfo(
                row.id, row.title, row.url, row.source_kind, row.source, row.added_by, row.added_at, counts[i]
            )
            for i, row in sorted(self._rows.items())
            if i in counts
        ]

    # -- guild settings and meta ----------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The settings of a guild (defaults when it has none)."""
        return await self.store.guild_settings(guild_id, default_cooldown=self.settings.cooldown_seconds)

    async def add_answer_channel(self, guild_id: int, channel_id: int) -> None:
        """Treat every message in the channel as a question."""
        await self.store.add_answer_channel(guild_id, channel_id)

    async def remove_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop treating the channel as an answer channel; False if it was not one."""
        return await self.store.remove_answer_channel(guild_id, channel_id)

    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        """Set (None: clear) the role that may manage the bot in the guild."""
        await self.store.set_admin_role(guild_id, role_id)

    async def set_cooldown(self, guild_id: int, seconds: float) -> None:
        """Set the per-user cooldown between questions in the guild; raises ValueError if negative."""
        if seconds < 0:
            raise ValueError("cooldown seconds must not be negative")
        await self.store.set_cooldown(guild_id, seconds)

    async def get_meta(self, key: str) -> str | None:
        """A value from the store's key/value table."""
        return await self.store.get_meta(key)

    async def set_meta(self, key: str, value: str) -> None:
        """Store a value in the store's key/value table."""
        await self.store.set_meta(key, value)
