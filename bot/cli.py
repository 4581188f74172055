"""The command-line front: ask, chat and check from a terminal (eval and fit: ``cli_quality``).

Nothing here imports discord: ``python -m bot ask`` must start fast.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from bot.cli_kb import Asker, run_logged
from bot.cli_kb import register as register_kb
from bot.cli_quality import register as register_quality
from bot.config import Settings
from bot.core.answers import Answer, in_quote_marks
from bot.core.errors import CitebotError, KnowledgeError, QuestionError
from bot.core.knowledge import KnowledgeBase
from bot.core.service import QAService
from bot.presentation import DECLINE_TEXT, SUGGESTIONS_INTRO

__all__ = ["build_parser", "main", "render_text"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
# `ask --json`'s reason for a line that could not be asked (empty, too long); "error" says why.
INVALID_QUESTION = "invalid_question"
# Words that end `chat`, as they end most consoles.
CHAT_ENDINGS = frozenset({"quit", "exit"})


def render_text(answer: Answer) -> str:
    """An answer as a person reads it in a terminal."""
    if answer.reply is not None:
        return answer.reply
    lines: list[str] = []
    if not answer.answered:
        lines.append(DECLINE_TEXT)
        if answer.suggestions:
            lines.append(SUGGESTIONS_INTRO)
            lines.extend(f"  - {s}" for s in answer.suggestions)
        return "\n".join(lines)
    where: str | None = None
    for citation in answer.citations:
        page = f", page {citation.page}" if citation.page else ""
        source = f"{citation.title}{page}, paragraph {citation.paragraph}"
        if citation.published:
            source += f" ({citation.published.isoformat()})"
        if citation.url:
            source += f"\n  {citation.url}"
        # Each quote's source follows it; consecutive quotes from one paragraph share one line.
        if where is not None and source != where:
            lines.append(f"— {where}")
        lines.append(
            textwrap.fill(
                in_quote_marks(citation.text), width=100, initial_indent="> ", subsequent_indent="  "
            )
        )
        where = source
    if where is not None:
        lines.append(f"— {where}")
    return "\n".join(lines)


def _load(settings: Settings, knowledge: Path | None, out: TextIO) -> KnowledgeBase | None:
    from bot.storage.folder_cache import default_cache_dir, load_folder

    directory = knowledge or settings.knowledge_dir
    try:
        return load_folder(directory, settings.max_document_bytes, settings.cache_dir or default_cache_dir())
    except KnowledgeError as exc:
        print(f"citebot: cannot load the knowledge in {directory}: {exc}", file=out)
        if knowledge is None and not directory.exists():
            print(f"citebot: {_where_knowledge_is(settings)}", file=out)
        return None


def _where_knowledge_is(settings: Settings) -> str:
    """How the knowledge folder was chosen, for someone whose folder is not there."""
    if "knowledge_dir" in settings.model_fields_set:
        return f"KNOWLEDGE_DIR names it ({settings.knowledge_dir}); correct it, or pass --knowledge DIR"
    return (
        f"KNOWLEDGE_DIR is not set, so the knowledge folder is {settings.knowledge_dir}/ in the current "
        f"folder ({Path.cwd()}); run from the repository, set KNOWLEDGE_DIR (environment or .env), "
        "or pass --knowledge DIR"
    )


def _service(settings: Settings, knowledge: KnowledgeBase) -> QAService:
    return QAService(
        knowledge,
        minimum_confidence=settings.minimum_confidence,
        max_question_chars=settings.max_question_chars,
    )


def _cmd_ask(args: argparse.Namespace, settings: Settings, service: Asker | None = None) -> int:
    if service is None and (args.log or settings.log_questions):
        return run_logged(_cmd_ask, args, settings)  # opens the store only when logging
    if service is None:
        knowledge = _load(settings, args.knowledge, sys.stderr)
        if knowledge is None:
            return EXIT_INVALID
        service = _service(settings, knowledge)
    from_stdin = not args.question
    # JSON is exchanged as UTF-8, whatever the terminal's locale (a stream a caller swapped in
    # is left as it is).
    if args.json and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    status = EXIT_OK
    printed = False
    for question in _stdin_lines() if from_stdin else map(_from_argv, args.question):
        if from_stdin and not args.json and not question.strip():
            continue  # blank lines separate questions in a file; JSON keeps one line per line
        try:
            answer = service.ask(question)
        except QuestionError as exc:
            if args.json:
                print(json.dumps(_error_json(question, exc, service, args.explain), ensure_ascii=False))
            else:
                print(f"citebot: {exc}", file=sys.stderr)
            status = EXIT_USAGE if not from_stdin else status
        else:
            if args.json:
                print(json.dumps(answer.to_json(explain=args.explain), ensure_ascii=False))
            else:
                if printed:
                    print()
                print(render_text(answer))
                printed = True
        if from_stdin:
            sys.stdout.flush()  # whoever feeds the questions one by one sees each answer at once
    return status


def _stdin_lines() -> Iterator[str]:
    """Stdin's lines as they arrive, without their line ends; undecodable bytes become U+FFFD."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _from_argv(question: str) -> str:
    # Bytes of another encoding in an argument arrive as lone surrogates, which no UTF-8 output
    # can carry: they become U+FFFD, as on stdin.
    return os.fsencode(question).decode("utf-8", errors="replace")


def _error_json(question: str, error: QuestionError, service: Asker, explain: bool) -> dict[str, object]:
    """The ``ask --json`` object of a line that could not be asked: every key of an answer."""
    shown: dict[str, object] = {
        "question": question,
        "answered": False,
        "confidence": 0.0,
        "citations": [],
        "suggestions": [],
        "intent": None,
        "reason": INVALID_QUESTION,
        "reply": None,
        "knowledge_version": service.knowledge.version,
    }
    if explain:
        shown["trace"] = None
    shown["error"] = str(error)
    return shown


def _cmd_chat(args: argparse.Namespace, settings: Settings, service: Asker | None = None) -> int:
    if service is None and (args.log or settings.log_questions):
        return run_logged(_cmd_chat, args, settings)  # opens the store only when logging
    if service is None:
        knowledge = _load(settings, args.knowledge, sys.stderr)
        if knowledge is None:
            return EXIT_INVALID
        service = _service(settings, knowledge)
    titles = ", ".join(d.title for d in service.knowledge.summaries) or "nothing yet"
    print(f"citebot: ask me about {titles}. An empty line, quit, exit or Ctrl-D ends the chat.")
    while True:
        try:
            question = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return EXIT_OK
        if not question.strip() or question.strip().casefold() in CHAT_ENDINGS:
            return EXIT_OK
        try:
            print(render_text(service.ask(question)))
        except QuestionError as exc:
            print(exc)


def _cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    knowledge = _load(settings, args.knowledge, sys.stdout)
    if knowledge is None:
        return EXIT_INVALID
    paragraphs = sum(d.paragraphs for d in knowledge.summaries)
    print(f"knowledge version {knowledge.version}: OK")
    print(f"documents   {len(knowledge.documents)}")
    print(f"paragraphs  {paragraphs}")
    print(f"sentences   {knowledge.sentence_count}")
    print(f"intents     {len(knowledge.intents)}")
    for document in knowledge.summaries:
        print(
            f"  {document.id}: {document.title} ({document.paragraphs} paragraphs, "
            f"{document.sentences} sentences)"
        )
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.serve import run  # imports the fronts asked for: only for these commands

    return run(settings, args.fronts)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="citebot", description="Answers questions with cited, verbatim sentences."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def knowledge_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--knowledge", type=Path, metavar="DIR", help="knowledge folder (default: KNOWLEDGE_DIR)"
        )

    ask = commands.add_parser("ask", help="answer questions (from arguments, or stdin one per line)")
    ask.add_argument("question", nargs="*", help="the question(s); none: read stdin")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument(
        "--explain",
        action="store_true",
        help="with --json: add the trace (the stage and values that decided)",
    )
    ask.add_argument("--log", action="store_true", help="log the questions in the store (or LOG_QUESTIONS)")
    knowledge_option(ask)
    ask.set_defaults(handler=_cmd_ask)

    chat = commands.add_parser("chat", help="an interactive console")
    chat.add_argument("--log", action="store_true", help="log the questions in the store (or LOG_QUESTIONS)")
    knowledge_option(chat)
    chat.set_defaults(handler=_cmd_chat)

    check = commands.add_parser("check", help="validate the knowledge base and count what it holds")
    knowledge_option(check)
    check.set_defaults(handler=_cmd_check)

    run = commands.add_parser(
        "run", help="run every bot whose token is set (DISCORD_TOKEN, TELEGRAM_TOKEN) in one process"
    )
    run.set_defaults(handler=_cmd_serve, fronts=None)
    discord = commands.add_parser("discord", help="run the Discord bot (needs DISCORD_TOKEN)")
    discord.set_defaults(handler=_cmd_serve, fronts=["discord"])
    telegram = commands.add_parser("telegram", help="run the Telegram bot (needs TELEGRAM_TOKEN)")
    telegram.set_defaults(handler=_cmd_serve, fronts=["telegram"])

    register_kb(commands)
    register_quality(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # What the imports made lives as long as the process: out of the collector's reach, a full
    # collection while the knowledge opens walks only what opening makes (20 ms less a start).
    gc.freeze()
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            print(f"citebot: setting {name}: {error['msg']}", file=sys.stderr)
        return EXIT_INVALID
    try:
        code: int = args.handler(args, settings)
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        if isinstance(exc, KnowledgeError) and not settings.knowledge_dir.exists():
            print(f"citebot: {_where_knowledge_is(settings)}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly. What is still buffered for stdout
        # would fail again when Python flushes it at exit, so stdout now leads nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
    return code
