"""The application object every front uses: the store, the knowledge served, the question log.

:class:`Citebot` wires the runtime's parts together and is what fronts talk to; they never touch
the store directly. Answering runs on one worker thread, so a slow question never stalls the event
loop (and with it every acknowledgement to Discord), and answers come out in the order asked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.answers import Answer
from bot.core.documents import Document
from bot.core.errors import CitebotError, KnowledgeError, KnowledgeProblem
from bot.core.intents import Intent, fold_example
from bot.core.service import QAService
from bot.runtime.cooldowns import Cooldowns
from bot.runtime.guild_settings import GuildSettingsCache
from bot.runtime.in_flight import InFlight
from bot.runtime.knowledge_sync import DocumentInfo, KnowledgeSync, ReloadReport, Taught
from bot.runtime.question_log import LogStatus, QuestionLog, UserRef
from bot.runtime.review import (
    REVIEW_CANDIDATES,
    ReviewItem,
    ReviewPage,
    find_sentence,
    parse_reference,
    review_queue,
)
from bot.storage import DayActivity, GuildSettings, LoggedQuestion, QuestionRecord, Stats, Store
from bot.storage.snapshot import snapshot_folder

if TYPE_CHECKING:  # aiohttp, trafilatura and pypdf load only when a link is fetched (0.3 s and more)
    from bot.runtime.conversion import Converted
    from bot.runtime.fetching import FetchLimits

__all__ = ["AskResult", "Citebot", "Health"]

log = logging.getLogger(__name__)

# How long closing waits for queued question-log writes.
CLOSE_FLUSH_SECONDS = 10.0
RECENT_ANSWERS = 1024
# How long the review queue waits for questions still being logged: an admin's click must be
# answered within Discord's 3 s.
REVIEW_FLUSH_SECONDS = 1.5


@dataclass(frozen=True, slots=True)
class AskResult:
    """An answer and the id it is logged under (None when not logged)."""

    answer: Answer
    answer_id: int | None


@dataclass(frozen=True, slots=True)
class Health:
    """What operators need to know beyond "connected": the database file and the question log."""

    database_problem: str | None
    question_log: LogStatus

    def lines(self) -> list[str]:
        """Human-readable status lines; the first says whether all is well."""
        status = self.question_log
        lines = ["ok" if self.database_problem is None and status.last_error is None else "degraded"]
        if self.database_problem is not None:
            lines.append(f"database: {self.database_problem}")
        if status.last_error is not None:
            lines.append(f"question log: cannot write ({status.last_error}); {status.pending} waiting")
        if status.unlogged:
            lines.append(f"question log: {status.unlogged} questions answered but not logged")
        return lines


class Citebot:
    """The application: knowledge served from a store, questions answered off the loop and logged."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        knowledge: KnowledgeSync,
        questions: QuestionLog,
        guilds: GuildSettingsCache,
    ) -> None:
        """Use :meth:`open`."""
        self.settings = settings
        self.store = store
        self.knowledge = knowledge
        self.questions = questions
        self.guilds = guilds
        # Shared by the fronts of one process: a member's cooldown and a shutdown's wait are
        # the application's, not one platform's.
        self.in_flight = InFlight()
        self.cooldowns = Cooldowns()
        self._answerer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-answer")
        # Recent answers by (knowledge version, question): a burst often asks the same thing, and the
        # answer cannot differ while the knowledge is the same. Used only on the answering thread.
        self._recent: OrderedDict[tuple[str, str], Answer] = OrderedDict()

    @classmethod
    async def open(cls, settings: Settings, *, warn_unserved: bool = True) -> Citebot:
        """Open the store, import KNOWLEDGE_DIR on the first start, and serve the stored knowledge.

        Taught intents that cannot be served (their quote is gone) are logged as warnings, unless
        ``warn_unserved`` is False: for a command that reports them itself (a reload). Raises
        :class:`~bot.storage.StorageError` when the database cannot be used and
        :class:`~bot.core.errors.KnowledgeError` when the knowledge is invalid.
        """
        if not settings.database_path.exists() and not settings.knowledge_dir.is_dir():
            # A first start with nothing to import: say so before creating an empty database.
            raise KnowledgeError(
                [
                    KnowledgeProblem(
                        str(settings.knowledge_dir),
                        f"does not exist (looked for {settings.knowledge_dir.resolve()})",
                    )
                ]
            )
        store = await Store.open(settings.database_path, timeout=settings.database_timeout_seconds)
        try:
            snapshots = snapshot_folder(settings.database_path)
            knowledge, rows = await KnowledgeSync.load(
                store,
                settings.knowledge_dir,
                settings.max_document_bytes,
                snapshots,
                warn_unserved=warn_unserved,
            )
            service = QAService(
                knowledge,
                minimum_confidence=settings.minimum_confidence,
                max_question_chars=settings.max_question_chars,
            )
            questions = await QuestionLog.open(store, settings.user_id_key.get_secret_value())
            questions.prune_soon(settings.question_retention_days)
        except BaseException:
            await store.close()
            raise
        citebot = cls(
            settings,
            store,
            KnowledgeSync(
                store, service, settings.knowledge_dir, rows, settings.max_document_bytes, snapshots
            ),
            questions,
            GuildSettingsCache(store, settings.cooldown_seconds),
        )
        log.info(
            "serving knowledge version %s: %d documents, %d intents",
            knowledge.version,
            len(knowledge.documents),
            len(knowledge.intents),
        )
        return citebot

    def warm_up(self) -> None:
        """Load, on the answering thread, what the first answer would (the lexicon, the model's arrays).

        For long-running fronts, so the first member does not wait; one-off commands skip it.
        """
        self._answerer.submit(self.service.ask, "warm up")

    async def close(self, flush_seconds: float = CLOSE_FLUSH_SECONDS) -> LogStatus:
        """Write what the question log still holds (for at most ``flush_seconds``), then close.

        Returns the question log's final status, so a caller can say what was not logged.
        """
        status = await self.questions.close(flush_seconds)
        self._answerer.shutdown(wait=False, cancel_futures=True)
        await self.store.check_file()
        await self.store.close()
        return status

    @property
    def service(self) -> QAService:
        """The question-answering service."""
        return self.knowledge.service

    @property
    def knowledge_version(self) -> str:
        """The version of the knowledge being served."""
        return self.service.knowledge.version

    async def health(self) -> Health:
        """The database file and question log status (checks whether the file is still there)."""
        problem = await self.store.check_file()
        return Health(problem, self.questions.status())

    # -- questions ------------------------------------------------------------------------

    def user_hash(self, user: UserRef) -> str:
        """The pseudonymous id stored for a user."""
        return self.questions.user_hash(user)

    @property
    def shutting_down(self) -> bool:
        """Whether a shutdown began: fronts refuse new questions."""
        return self.in_flight.shutting_down

    def cooldown_left(self, user: UserRef, seconds: float) -> float:
        """Seconds ``user`` must wait before asking again (0: go ahead, and the question counts)."""
        return self.cooldowns.retry_after(user, seconds)

    def _recent_or_new(self, question: str) -> Answer:
        """The answer from recent ones of the same knowledge, else a new one (answering thread only)."""
        key = (self.service.knowledge.version, question)
        cached = self._recent.get(key)
        if cached is not None:
            self._recent.move_to_end(key)
            return cached
        answer = self.service.ask(question)
        if answer.knowledge_version == key[0]:  # not swapped meanwhile
            self._recent[key] = answer
            if len(self._recent) > RECENT_ANSWERS:
                self._recent.popitem(last=False)
        return answer

    async def answer(self, question: str) -> Answer:
        """Answer ``question`` on the answering thread; raises QuestionError for an unusable one."""
        self.service.validate(question)  # cheap, and an unusable question should not queue
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._answerer, self._recent_or_new, question)

    async def ask(
        self,
        question: str,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user: UserRef | None = None,
        log: bool = True,
    ) -> AskResult:
        """Answer ``question`` and, if ``log``, queue it for the question log.

        ``channel_id`` is the chat asked in (a Discord channel, a Telegram chat); ``guild_id`` is
        only Discord's. The row names ``user``'s front, so ids from two platforms never mix.

        Never waits for the database: the log is written by a background writer (see
        :mod:`bot.runtime.question_log`). Raises :class:`~bot.core.errors.QuestionError` for an
        empty or too long question.
        """
        started = time.perf_counter()
        answer = await self.answer(question)
        if not log:
            return AskResult(answer, None)
        record = QuestionRecord(
            asked_at=dt.datetime.now(dt.UTC),
            guild_id=guild_id,
            channel_id=channel_id,
            user_hash=self.user_hash(user) if user is not None else None,
            question=answer.question,
            answered=answer.answered,
            confidence=answer.confidence,
            reason=answer.reason.value,
            citations=tuple(
                {"document": c.document, "paragraph": c.paragraph, "text": c.text} for c in answer.citations
            ),
            latency_ms=1000 * (time.perf_counter() - started),
            knowledge_version=answer.knowledge_version,
            front=user.front if user is not None else None,
        )
        return AskResult(answer, self.questions.record(record))

    async def record_feedback(self, answer_id: int, user: UserRef, helpful: bool) -> None:
        """Record a helpful / not helpful vote; a user's second vote on an answer replaces the first."""
        await self.questions.record_feedback(answer_id, user, helpful)

    async def unanswered(
        self, *, limit: int = 10, offset: int = 0, guild_id: int | None = None
    ) -> list[LoggedQuestion]:
        """Questions the bot declined, newest first."""
        return await self.questions.unanswered(limit=limit, offset=offset, guild_id=guild_id)

    async def stats(self, *, days: int = 30, guild_id: int | None = None) -> Stats:
        """Questions per day, share answered, top questions and votes over the last ``days`` days."""
        return await self.questions.stats(days=days, guild_id=guild_id)

    async def daily_activity(self, *, days: int = 30, guild_id: int | None = None) -> tuple[DayActivity, ...]:
        """Each day of the last ``days`` days, zeros included: asked, answered and the votes (for charts)."""
        return await self.questions.daily_activity(days=days, guild_id=guild_id)

    async def forget_user(self, user: UserRef) -> int:
        """Delete everything logged about a user (questions and votes); how many rows went."""
        return await self.questions.forget_user(user)

    async def prune(self) -> int:
        """Delete questions older than QUESTION_RETENTION_DAYS; how many went."""
        return await self.questions.prune(self.settings.question_retention_days)

    # -- knowledge ------------------------------------------------------------------------

    async def reload(self, *, dry_run: bool = False) -> ReloadReport:
        """Re-read KNOWLEDGE_DIR and switch to it in one step; see :meth:`KnowledgeSync.reload`."""
        return await self.knowledge.reload(dry_run=dry_run)

    async def add_document(
        self,
        text: str,
        *,
        title: str | None = None,
        url: str | None = None,
        added_by: str,
        source: str | None = None,
    ) -> Document:
        """Add an admin document; see :meth:`KnowledgeSync.add_document`."""
        return await self.knowledge.add_document(text, title=title, url=url, added_by=added_by, source=source)

    @property
    def fetch_limits(self) -> FetchLimits:
        """The bounds of every fetch, from the settings."""
        from bot.runtime.fetching import FetchLimits

        settings = self.settings
        return FetchLimits(
            settings.max_document_bytes, settings.fetch_timeout_seconds, settings.allow_private_urls
        )

    async def add_link(
        self, url: str, *, title: str | None = None, added_by: str
    ) -> tuple[Document, Converted]:
        """Fetch a web page or PDF and add its text as an admin document linking to the page.

        Raises :class:`~bot.runtime.fetching.FetchError` or
        :class:`~bot.runtime.conversion.ConversionError` naming the link, and
        :class:`KnowledgeError` as :meth:`add_document` does; nothing changes then.
        """
        from bot.runtime.conversion import fetched_document
        from bot.runtime.fetching import fetch

        page = await fetch(url, self.fetch_limits)
        converted = await asyncio.to_thread(fetched_document, page, title=title)
        document = await self.add_document(converted.text, added_by=added_by, source=page.url)
        return document, converted

    async def refresh(self, *, dry_run: bool = False) -> tuple[ReloadReport, tuple[str, ...]]:
        """Fetch every document added from a link again and switch to the new texts in one step.

        Returns the report (as a reload's) and the links fetched. When any link cannot be fetched
        or read, raises :class:`~bot.runtime.fetching.RefreshError` naming each, and nothing
        changes: the documents keep what they said.
        """
        from bot.runtime.conversion import ConversionError, fetched_document
        from bot.runtime.fetching import FetchError, RefreshError, fetch

        links = await self.knowledge.links()
        # A few at a time: enough to overlap slow servers, few enough not to hammer one site.
        gate = asyncio.Semaphore(4)

        async def fetch_again(url: str, title: str) -> str:
            async with gate:
                page = await fetch(url, self.fetch_limits)
            return (await asyncio.to_thread(fetched_document, page, title=title)).text

        results = await asyncio.gather(
            *(fetch_again(url, title) for _, url, title in links), return_exceptions=True
        )
        failures: list[CitebotError] = []
        texts: dict[str, tuple[str, str]] = {}
        for (doc_id, url, _), result in zip(links, results, strict=True):
            if isinstance(result, FetchError | ConversionError):
                failures.append(result)
            elif isinstance(result, BaseException):
                raise result
            else:
                texts[doc_id] = (url, result)
        if failures:
            log.info("refresh refused: %d of %d links failed", len(failures), len(links))
            raise RefreshError(failures)
        report = await self.knowledge.replace_texts(texts, dry_run=dry_run)
        return report, tuple(url for _, url, _ in links)

    async def remove_document(self, doc_id: str) -> bool:
        """Remove an admin document; see :meth:`KnowledgeSync.remove_document`."""
        return await self.knowledge.remove_document(doc_id)

    async def documents(self) -> list[DocumentInfo]:
        """Every document being served, in id order."""
        return await self.knowledge.documents()

    # -- review and teaching ---------------------------------------------------------------

    async def review(self, position: int, *, below: float, guild_id: int | None = None) -> ReviewPage:
        """The review queue's item at ``position`` (from 0, kept within the queue) and how many are left.

        Only ``guild_id``'s questions when given (a Discord server's admins see their server's).
        """
        await self.questions.flush(REVIEW_FLUSH_SECONDS)  # what was just asked is in the queue
        rows = await self.store.review_rows(below=below, guild_id=guild_id)
        queue = review_queue(rows, await self.store.review_verdicts(), below)
        if not queue:
            return ReviewPage(None, 0, 0)
        position = min(max(position, 0), len(queue) - 1)
        entry = queue[position]
        loop = asyncio.get_running_loop()
        candidates = await loop.run_in_executor(
            self._answerer, self.service.candidates, entry.question, REVIEW_CANDIDATES
        )
        return ReviewPage(ReviewItem(entry, candidates), position, len(queue))

    async def logged_question(self, question_id: int) -> str | None:
        """The wording of a logged question, if it is still in the log."""
        return await self.store.logged_question(question_id)

    async def teach_citation(self, question: str, reference: str, *, taught_by: str) -> Taught:
        """Teach that the sentence ``DOC:PARAGRAPH:SENTENCE`` answers ``question``; served at once.

        Raises :class:`~bot.core.errors.QuestionError` for an unusable question and
        :class:`~bot.runtime.knowledge_sync.TeachingError` for a reference to nothing; nothing
        changes then.
        """
        text = self.service.validate(question)
        first = next(iter(self.service.knowledge.summaries), None)
        doc_id, paragraph, number = parse_reference(reference, first.id if first is not None else "DOC")
        sentence = find_sentence(self.service.knowledge, doc_id, paragraph, number)
        return await self.knowledge.teach_citation(text, doc_id, sentence, taught_by=taught_by)

    async def teach_reply(self, question: str, reply: str, *, taught_by: str) -> Taught:
        """Teach the fixed ``reply`` to ``question`` (a reply intent); served at once."""
        text = self.service.validate(question)
        return await self.knowledge.teach_reply(text, reply, taught_by=taught_by)

    async def not_in_sources(self, question: str, *, decided_by: str) -> None:
        """Judge ``question`` not answerable from the sources: it leaves the review queue for good."""
        await self.store.set_review_verdict(fold_example(question), "not_in_sources", decided_by)
        log.info("review: not in the sources, decided by %s", decided_by)

    async def taught_intents(self) -> list[Intent]:
        """The intents taught by admins, served or not, oldest first."""
        return await self.knowledge.taught_intents()

    # -- guild settings and meta ----------------------------------------------------------

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The settings of a guild (defaults when it has none); cached after the first read."""
        return await self.guilds.get(guild_id)

    async def add_answer_channel(self, guild_id: int, channel_id: int) -> None:
        """Treat every message in the channel as a question."""
        await self.guilds.add_answer_channel(guild_id, channel_id)

    async def remove_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop treating the channel as an answer channel; False if it was not one."""
        return await self.guilds.remove_answer_channel(guild_id, channel_id)

    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        """Set (None: clear) the role that may manage the bot in the guild."""
        await self.guilds.set_admin_role(guild_id, role_id)

    async def set_cooldown(self, guild_id: int, seconds: float) -> None:
        """Set the per-user cooldown between questions in the guild; raises ValueError if negative."""
        await self.guilds.set_cooldown(guild_id, seconds)

    async def get_meta(self, key: str) -> str | None:
        """A value from the store's key/value table."""
        return await self.store.get_meta(key)

    async def set_meta(self, key: str, value: str) -> None:
        """Store a value in the store's key/value table."""
        await self.store.set_meta(key, value)
