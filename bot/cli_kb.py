"""Operator commands on the store: ``python -m bot kb list | add | remove | reload | ...``.

Also runs ``ask`` and ``chat`` with ``--log`` through the store. The runtime (and with it
aiosqlite) is imported inside the handlers, so ``python -m bot ask`` without logging stays fast
and creates no files.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

from bot.config import Settings
from bot.core.answers import Answer
from bot.core.documents import Document, fallback_title
from bot.core.knowledge import KnowledgeBase, too_large

if TYPE_CHECKING:
    import asyncio

    from bot.runtime import Citebot, DayActivity, Front, ReloadReport

__all__ = ["Asker", "logging_asker", "register", "run_action", "run_logged"]

EXIT_OK, EXIT_INVALID = 0, 1
T = TypeVar("T")
# Bounds of the numeric options: beyond them a date or an SQLite integer overflows, and nobody
# reads more of the log in a terminal.
MAX_DAYS = 3650
MAX_LIMIT = 1000
# Discord user ids (snowflakes) are unsigned 64-bit integers.
MAX_USER_ID = 2**64 - 1


class Asker(Protocol):
    """What ``ask`` and ``chat`` need: the knowledge served and a way to ask (QAService has both)."""

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge being served."""
        ...

    def ask(self, question: str) -> Answer:
        """Answer ``question``."""
        ...


class _KbArgumentParser(argparse.ArgumentParser):
    """Malformed ``kb`` input exits 1 (argparse's own 2 means "usage" elsewhere in the CLI)."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and the problem, then exit 1."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse, treating leftover arguments as an error here rather than in the top-level parser."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def _whole_number(maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to ``maximum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be from 1 to {maximum}, not {value}")
        return value

    return parse


def _user_id(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_USER_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not a user id (digits, up to 20)")
    return int(text)


def _run(
    settings: Settings, action: Callable[[Citebot], Coroutine[Any, Any, T]], *, warn_unserved: bool = True
) -> T:
    """Open the application, run ``action`` on it, and always close it.

    ``warn_unserved`` False: the command reports the taught intents not served itself, so the
    warning at start would say it twice.
    """
    import asyncio

    from bot.runtime import Citebot

    async def main() -> T:
        citebot = await Citebot.open(settings, warn_unserved=warn_unserved)
        try:
            return await action(citebot)
        finally:
            await citebot.close()

    return asyncio.run(main())


def run_action(settings: Settings, action: Callable[[Citebot], Coroutine[Any, Any, T]]) -> T:
    """Open the application, run ``action`` on it, and always close it (for the other kb modules)."""
    return _run(settings, action)


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        documents = await citebot.documents()
        print(f"knowledge version {citebot.knowledge_version}: {len(documents)} documents")
        for doc in documents:
            who = f", added by {doc.added_by}" if doc.added_by else ""
            print(f"  {doc.id}  [{doc.source_kind}{who}, {doc.sentences} sentences]  {doc.title}")
        return EXIT_OK

    return _run(settings, action)


def _cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import DOCUMENT_SUFFIXES
    from bot.runtime.conversion import file_kind
    from bot.runtime.fetching import is_link

    if is_link(args.file):
        return _add_link(args, settings)
    if "://" in args.file:  # a link of another kind: Path would fold its "//" into "/"
        print(
            f"citebot: {args.file} is not an http(s) link; only web pages and PDFs over http or https "
            "can be fetched (nothing changed)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    path = Path(args.file)
    if file_kind(path.name) is not None:
        return _add_converted_file(path, args, settings)
    if path.suffix.lower() not in DOCUMENT_SUFFIXES:
        print(
            f"citebot: {path} is not a .md or .txt file, nor .html, .pdf or an http(s) link; "
            "add Markdown, plain text, a web page or a PDF (nothing changed)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    data = _read_document_file(path, settings)
    if data is None:
        return EXIT_INVALID
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(f"citebot: {path} is not UTF-8 text (byte {exc.start})", file=sys.stderr)
        return EXIT_INVALID

    title: str | None = args.title
    found = fallback_title(text, path.name) if title is None else None
    if found is not None:
        title = found[0]

    async def action(citebot: Citebot) -> int:
        document = await citebot.add_document(
            text, title=title, url=args.url, added_by=f"cli:{getpass.getuser()}", source=str(path)
        )
        print(f"added {document.id}: {document.title} ({len(document.sentences)} sentences)")
        if found is not None:
            print(f"the title is {found[1]}, as the file has no front matter title; --title sets another")
        print(f"knowledge version {citebot.knowledge_version}")
        return EXIT_OK

    return _run(settings, action)


def _read_document_file(path: Path, settings: Settings) -> bytes | None:
    """The bytes of a document file for ``kb add``; None, with the reason on stderr, if it cannot be."""
    try:
        size = path.stat().st_size
        if size > settings.max_document_bytes:
            print(
                f"citebot: {path} {too_large(size, settings.max_document_bytes)} (nothing changed)",
                file=sys.stderr,
            )
            return None
        return path.read_bytes()
    except OSError as exc:
        print(f"citebot: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


def _print_added(document: Document, title_from: str | None, version: str) -> None:
    print(f"added {document.id}: {document.title} ({len(document.sentences)} sentences)")
    if title_from is not None:
        print(f"the title is {title_from}; --title sets another")
    print(f"knowledge version {version}")


def _add_link(args: argparse.Namespace, settings: Settings) -> int:
    """``kb add URL``: fetch a web page or PDF and add its text, linking to it."""
    if args.url is not None:
        print(
            "citebot: --url is for files; a document fetched from a link links to its page (nothing changed)",
            file=sys.stderr,
        )
        return EXIT_INVALID

    async def action(citebot: Citebot) -> int:
        document, converted = await citebot.add_link(
            args.file, title=args.title, added_by=f"cli:{getpass.getuser()}"
        )
        _print_added(document, converted.title_from, citebot.knowledge_version)
        return EXIT_OK

    return _run(settings, action)


def _add_converted_file(path: Path, args: argparse.Namespace, settings: Settings) -> int:
    """``kb add FILE.html`` or ``FILE.pdf``: its text, as a link's would be."""
    from bot.runtime.conversion import file_kind, html_document, pdf_document

    data = _read_document_file(path, settings)
    if data is None:
        return EXIT_INVALID
    convert = pdf_document if file_kind(path.name) == "pdf" else html_document
    converted = convert(data, str(path), name=path.name, title=args.title, url=args.url)

    async def action(citebot: Citebot) -> int:
        document = await citebot.add_document(
            converted.text, added_by=f"cli:{getpass.getuser()}", source=str(path)
        )
        _print_added(document, converted.title_from, citebot.knowledge_version)
        return EXIT_OK

    return _run(settings, action)


def _cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        report, links = await citebot.refresh(dry_run=args.dry_run)
        if not links:
            print("no documents were added from links (kb add URL); nothing to refresh")
            _print_taught_missing(report)
            return EXIT_OK
        print(f"fetched {len(links)} {'link' if len(links) == 1 else 'links'} again")
        _print_report(report, command="refresh")
        return EXIT_OK

    return _run(settings, action, warn_unserved=False)


def _cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        if not await citebot.remove_document(args.doc):
            print(f"citebot: there is no document {args.doc!r} (see: python -m bot kb list)", file=sys.stderr)
            return EXIT_INVALID
        print(f"removed {args.doc}; knowledge version {citebot.knowledge_version}")
        return EXIT_OK

    return _run(settings, action)


def _print_report(report: ReloadReport, command: str = "reload") -> None:
    heading = "applied" if report.applied else "dry run, nothing applied"
    print(
        f"{command} ({heading}): knowledge version {report.previous_version} -> {report.version or 'invalid'}"
    )
    for doc_id in report.documents_added:
        print(f"  + {doc_id}")
    for doc_id in report.documents_removed:
        print(f"  - {doc_id}")
    for change in report.changes:
        print(f"  ~ {change.id} (+{change.sentences_added} / -{change.sentences_removed} sentences)")
    for broken in report.intents_broken:
        print(f"  ! intent {broken}")
    _print_taught_missing(report)
    if not (report.documents_added or report.documents_removed or report.changes or report.intents_broken):
        print("  no document changes")


def _print_taught_missing(report: ReloadReport) -> None:
    for missing in report.taught_missing:
        print(f"  ! taught quote no longer in the documents (kept, not served): {missing}")


def _cmd_reload(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        report = await citebot.reload(dry_run=args.dry_run)
        _print_report(report)
        return EXIT_INVALID if report.intents_broken else EXIT_OK

    return _run(settings, action, warn_unserved=False)


def _cmd_unanswered(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        questions = await citebot.unanswered(limit=args.limit)
        if not questions:
            print("no unanswered questions in the log")
        for q in questions:
            print(
                f"{q.asked_at:%Y-%m-%d %H:%M}  [{q.reason or 'declined'}, {q.confidence:.2f}]  {q.question}"
            )
        return EXIT_OK

    return _run(settings, action)


def _cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        stats = await citebot.stats(days=args.days)
        share = 100 * stats.answered_share
        print(f"last {stats.days} days: {stats.questions} questions, {share:.1f} % answered")
        print(f"feedback: {stats.helpful} helpful, {stats.not_helpful} not helpful")
        for day in stats.per_day:
            print(f"  {day.day.isoformat()}  {day.questions:5d} asked  {day.answered:5d} answered")
        if stats.top_questions:
            print("top questions:")
            for question, count in stats.top_questions:
                print(f"  {count:5d}  {question}")
        if args.plot is not None:
            return _plot_stats(await citebot.daily_activity(days=args.days), args.plot, args.days)
        return EXIT_OK

    return _run(settings, action)


def _png_path(text: str) -> Path:
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"{text!r} does not end in .png; the chart is a PNG image")
    return Path(text)


def _plot_stats(activity: Sequence[DayActivity], path: Path, days: int) -> int:
    """Draw ``kb stats --plot``'s chart into ``path``; a missing matplotlib propagates to the CLI."""
    from bot.charts import activity_chart

    png = activity_chart(activity, title=f"Questions per day, last {days} days (UTC)", purpose="--plot")
    if png is None:
        print(f"no questions in the last {days} days, so no chart; {path} was not written", file=sys.stderr)
        return EXIT_OK
    try:
        path.write_bytes(png)
    except OSError as exc:
        print(f"citebot: cannot write the chart to {path}: {exc.strerror} (nothing written)", file=sys.stderr)
        return EXIT_INVALID
    print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def _cmd_forget_user(args: argparse.Namespace, settings: Settings) -> int:
    async def action(citebot: Citebot) -> int:
        from bot.runtime import UserRef

        front: Front = "telegram" if args.telegram else "discord"
        deleted = await citebot.forget_user(UserRef(front, args.user_id))
        print(f"forgot {front} user {args.user_id}: {deleted} questions and votes deleted")
        return EXIT_OK

    return _run(settings, action)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``kb`` command and its subcommands to the CLI's subparsers."""
    kb = commands.add_parser("kb", help="manage the stored knowledge and the question log")
    # Subparsers inherit their parent's class: every malformed kb command then exits 1.
    kb.__class__ = _KbArgumentParser
    sub = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")

    sub.add_parser("list", help="list the documents being served").set_defaults(handler=_cmd_list)

    add = sub.add_parser(
        "add",
        help="add a document: a Markdown or text file (front matter optional), a web page or PDF "
        "file, or an http(s) link to fetch",
    )
    add.add_argument("file", metavar="FILE_OR_LINK")
    add.add_argument(
        "--title",
        help="title, when the file has no front matter one (default: its first heading, or file name)",
    )
    add.add_argument("--url", help="source link, when the file has no front matter url (a link's is itself)")
    add.set_defaults(handler=_cmd_add)

    remove = sub.add_parser("remove", help="remove a document added by an admin")
    remove.add_argument("doc", metavar="DOC", help="document id (see: kb list)")
    remove.set_defaults(handler=_cmd_remove)

    reload = sub.add_parser("reload", help="re-read KNOWLEDGE_DIR and switch to it in one step")
    reload.add_argument("--dry-run", action="store_true", help="only report what would change")
    reload.set_defaults(handler=_cmd_reload)

    refresh = sub.add_parser("refresh", help="fetch the documents added from links again")
    refresh.add_argument("--dry-run", action="store_true", help="only report what would change")
    refresh.set_defaults(handler=_cmd_refresh)

    unanswered = sub.add_parser("unanswered", help="recent questions the bot declined")
    unanswered.add_argument(
        "--limit",
        type=_whole_number(MAX_LIMIT),
        default=10,
        metavar="N",
        help=f"1 to {MAX_LIMIT} (default 10)",
    )
    unanswered.set_defaults(handler=_cmd_unanswered)

    stats = sub.add_parser("stats", help="questions per day, share answered, top questions, feedback")
    stats.add_argument(
        "--days", type=_whole_number(MAX_DAYS), default=30, metavar="N", help=f"1 to {MAX_DAYS} (default 30)"
    )
    stats.add_argument(
        "--plot",
        type=_png_path,
        metavar="FILE.png",
        help="also draw questions per day, share answered and votes per day into a PNG (matplotlib)",
    )
    stats.set_defaults(handler=_cmd_stats)

    forget = sub.add_parser("forget-user", help="delete a user's logged questions and votes")
    forget.add_argument(
        "user_id", type=_user_id, metavar="ID", help="Discord user id (or Telegram's, with --telegram)"
    )
    forget.add_argument("--telegram", action="store_true", help="ID is a Telegram user id")
    forget.set_defaults(handler=_cmd_forget_user)

    from bot.cli_teach import register as register_teaching

    register_teaching(sub)


class _LoggingAsker:
    """Asks through :class:`~bot.runtime.Citebot` on a private event loop, logging every question."""

    def __init__(self, runner: asyncio.Runner, citebot: Citebot) -> None:
        self._runner = runner
        self._citebot = citebot
        self.unlogged = 0
        self.log_error: str | None = None

    @property
    def knowledge(self) -> KnowledgeBase:
        return self._citebot.service.knowledge

    def ask(self, question: str) -> Answer:
        answer = self._runner.run(self._citebot.ask(question, log=True)).answer
        # The log's writer runs only while this loop does: let it finish now, so no write
        # transaction stays open while the console waits for the next question.
        self._runner.run(self._citebot.questions.flush(self._citebot.settings.database_timeout_seconds + 1))
        return answer


@contextmanager
def logging_asker(settings: Settings, knowledge: Path | None) -> Iterator[_LoggingAsker]:
    """An :class:`Asker` that serves from the store and logs each question there.

    After the block, ``unlogged`` on the asker says how many questions could not be logged.
    """
    import asyncio

    from bot.runtime import Citebot

    if knowledge is not None:
        settings = settings.model_copy(update={"knowledge_dir": knowledge})
    with asyncio.Runner() as runner:
        citebot = runner.run(Citebot.open(settings))
        asker = _LoggingAsker(runner, citebot)
        try:
            yield asker
        finally:
            # Long enough to wait out another process's write, as an answer would have.
            status = runner.run(citebot.close(flush_seconds=settings.database_timeout_seconds + 1))
            asker.unlogged, asker.log_error = status.unlogged, status.last_error


def run_logged(
    handler: Callable[[argparse.Namespace, Settings, Asker], int],
    args: argparse.Namespace,
    settings: Settings,
) -> int:
    """Run the ``ask`` or ``chat`` handler with an asker that logs to the store.

    Exits 1 when a question was answered but could not be logged: ``--log`` was asked for.
    """
    with logging_asker(settings, args.knowledge) as asker:
        code = handler(args, settings, asker)
    if asker.unlogged:
        plural = "s were" if asker.unlogged != 1 else " was"
        reason = f": {asker.log_error}" if asker.log_error else ""
        print(f"citebot: {asker.unlogged} question{plural} answered but not logged{reason}", file=sys.stderr)
        return max(code, EXIT_INVALID)
    return code
