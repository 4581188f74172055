"""Teaching from the command line: ``python -m bot kb teach | review | export-intents``.

Registered by :mod:`bot.cli_kb`. Like the other ``kb`` commands they work on the store (the same
database as a running bot, which serves what is taught here from its next reload); malformed input
exits 1 with a message and changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.errors import KnowledgeError, QuestionError
from bot.core.intents import TAUGHT_SOURCE, Intent, parse_intent_file, resolve_intents
from bot.presentation import PLAIN, fit_lines, review_lines, taught_line

if TYPE_CHECKING:
    from bot.core.knowledge import KnowledgeBase
    from bot.runtime import Citebot, ReviewPage

__all__ = ["register"]

EXIT_OK, EXIT_INVALID = 0, 1
OTHER_KEYS = "n not in the sources · r reply with… · s skip · p previous · q quit"
EXPORT_HEADER = (
    "# Intents taught with `kb teach` and `kb review`, exported by `python -m bot kb export-intents`.\n"
    "# Put this file in KNOWLEDGE_DIR to keep them with the documents (the format: bot/core/intents.py).\n"
)


def _keys(candidates: int) -> str:
    """The keys of an item with ``candidates`` sentences: a number key only for those there are."""
    if candidates == 0:
        return OTHER_KEYS
    numbers = "1" if candidates == 1 else f"1-{candidates}"
    return f"{numbers} this one answers it · {OTHER_KEYS}"


def _who() -> str:
    return f"cli:{getpass.getuser()}"


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {value:g}")
    return value


def _fail(message: str) -> int:
    said = "nothing changed" in message  # some errors say it themselves
    print(f"citebot: {message}{'' if said else ' (nothing changed)'}", file=sys.stderr)
    return EXIT_INVALID


def _cmd_teach(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_kb import run_action
    from bot.runtime import TeachingError

    async def action(citebot: Citebot) -> int:
        try:
            if args.cite is not None:
                taught = await citebot.teach_citation(args.question, args.cite, taught_by=_who())
            else:
                taught = await citebot.teach_reply(args.question, args.reply, taught_by=_who())
        except (QuestionError, TeachingError) as exc:
            return _fail(str(exc))
        print(taught_line(taught, args.question.strip(), PLAIN, in_bot=False))
        return EXIT_OK

    return run_action(settings, action)


def _cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_kb import run_action

    path: Path = args.file
    if path.suffix.lower() not in (".yaml", ".yml"):
        return _fail(f"{path} should end in .yaml, the knowledge's intent files do")

    async def action(citebot: Citebot) -> int:
        intents = await citebot.taught_intents()
        # A question taught to an intent of a file is kept under that intent's id; in a file of
        # its own it needs an id of its own, or the folder would define the id twice. The file
        # being replaced does not count: exporting to the same file again gives the same ids.
        target = path.resolve()
        in_files = {
            i.id
            for i in citebot.service.knowledge.intents
            if i.source != TAUGHT_SOURCE and Path(i.source).resolve() != target
        }
        taken = in_files | {i.id for i in intents}
        renamed = []
        for intent in intents:
            if intent.id in in_files:
                new_id = f"{intent.id[:55]}-taught"
                number = 1
                while new_id in taken:
                    number += 1
                    new_id = f"{intent.id[:52]}-taught{number}"
                taken.add(new_id)
                intent = intent.model_copy(update={"id": new_id})
            renamed.append(intent)
        kinds = {doc.id: doc.source_kind for doc in await citebot.documents()}
        kept, left_out = _loadable(renamed, citebot.service.knowledge, kinds, str(path))
        listed = [intent.model_dump(exclude_none=True, exclude_defaults=True) for intent in kept]
        # The id first and the examples before the answer, as people write intent files.
        order = ("id", "document", "examples", "quotes", "reply")
        listed = [{key: item[key] for key in order if key in item} for item in listed]
        note = ""
        if left_out:
            note = textwrap.fill(f"Left out, {_LEFT_OUT}:", 98, initial_indent="# ", subsequent_indent="# ")
            note += "\n" + "".join(f"#   {line}\n" for line in left_out)
        import yaml  # only exporting writes YAML; importing it costs every `kb` command 15 ms

        text = (
            EXPORT_HEADER
            + note
            + yaml.safe_dump({"intents": listed}, allow_unicode=True, sort_keys=False, width=100)
        )
        try:
            parse_intent_file(text, str(path))  # what is written must load back
        except KnowledgeError as exc:  # pragma: no cover - the store holds only valid intents
            return _fail(f"the export would not load back: {exc}")
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {path}: {exc.strerror}")
        print(f"wrote {_count(len(kept), 'taught intent')} to {path}")
        if left_out:
            print(
                f"citebot: left out {_count(len(left_out), 'taught intent')}, {_LEFT_OUT}:", file=sys.stderr
            )
            for line in left_out:
                print(f"  {line}", file=sys.stderr)
        return EXIT_OK

    return run_action(settings, action)


_LEFT_OUT = (
    "as the knowledge folder would not load with them on its own (they stay taught in the database "
    "and are served from there)"
)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def _loadable(
    intents: list[Intent], knowledge: KnowledgeBase, kinds: Mapping[str, str], source: str
) -> tuple[list[Intent], list[str]]:
    """The ``intents`` that resolve in the file documents alone, and "id: why" for the others.

    A folder must load by itself (at a first start, at ``check``, at a reload): an intent citing a
    document added with ``kb add`` (it lives only in the database) or a quote the documents no
    longer hold would break it.
    """
    files = [doc for doc in (knowledge.document(i) for i, kind in kinds.items() if kind == "file") if doc]
    kept: list[Intent] = []
    left_out: list[str] = []
    for intent in intents:
        try:
            resolve_intents([(intent, source)], files)
        except KnowledgeError as exc:
            if intent.document is not None and kinds.get(intent.document) == "admin":
                why = f"it cites {intent.document!r}, a document added with kb add, not a file"
            else:
                why = exc.problems[0].message
            left_out.append(f"{intent.id}: {why}")
            continue
        kept.append(intent)
    return kept, left_out


def _read(prompt: str) -> str | None:
    """One line from the terminal or piped stdin; None at the end of the input."""
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        print()
        return None
    if not sys.stdin.isatty():
        print(line.strip())  # a transcript of piped answers reads as if typed
    return line.strip()


def _questions(count: int) -> str:
    return "1 question" if count == 1 else f"{count} questions"


def _cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import Citebot, TeachingError, sentence_reference

    below: float = args.below
    with asyncio.Runner() as runner:
        citebot = runner.run(Citebot.open(settings))
        try:
            position = 0
            while True:
                page: ReviewPage = runner.run(citebot.review(position, below=below))
                item = page.item
                if item is None:
                    print(fit_lines(review_lines(page, PLAIN), 10_000))
                    return EXIT_OK
                if page.position < position:
                    print(f"End of the queue: {_questions(page.left)} left, skipped for now.")
                    return EXIT_OK
                position = page.position
                print()
                print(fit_lines(review_lines(page, PLAIN), 10_000))
                keys = _keys(len(item.candidates))
                key = _read(f"[{keys}] > ")
                question = item.entry.question
                if key is None or key.lower() in ("q", "quit"):
                    print(f"{_questions(page.left)} left.")
                    return EXIT_OK
                key = key.lower()
                try:
                    if key.isdigit() and 1 <= int(key) <= len(item.candidates):
                        reference = sentence_reference(item.candidates[int(key) - 1])
                        taught = runner.run(citebot.teach_citation(question, reference, taught_by=_who()))
                        print(taught_line(taught, question, PLAIN, in_bot=False))
                    elif key == "n":
                        runner.run(citebot.not_in_sources(question, decided_by=_who()))
                        print("Marked as not in the sources: it leaves the queue, and I keep declining it.")
                    elif key == "r":
                        reply = _read("Reply with: ")
                        if reply is None:
                            return EXIT_OK
                        taught = runner.run(citebot.teach_reply(question, reply, taught_by=_who()))
                        print(taught_line(taught, question, PLAIN, in_bot=False))
                    elif key == "s":
                        position += 1
                    elif key == "p" and position == 0:
                        print("This is the first question: there is no previous one.")
                    elif key == "p":
                        position -= 1
                    else:
                        print(f"{key!r} is not one of the keys: {keys}")
                except (QuestionError, TeachingError) as exc:
                    print(f"citebot: {exc}", file=sys.stderr)
        finally:
            runner.run(citebot.close())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``teach``, ``review`` and ``export-intents`` to the ``kb`` subcommands."""
    # Not from bot.runtime: registering every command must not load the store for `ask`.
    from bot.core.service import DEFAULT_REVIEW_BELOW

    teach = sub.add_parser("teach", help="teach one question: the sentence that answers it, or a fixed reply")
    teach.add_argument("question", metavar="QUESTION")
    answer = teach.add_mutually_exclusive_group(required=True)
    answer.add_argument(
        "--cite",
        metavar="DOC:PARAGRAPH:SENTENCE",
        help="the sentence that answers it: document id, paragraph and sentence numbers from 1",
    )
    answer.add_argument("--reply", metavar="TEXT", help="a fixed reply, such as a pointer elsewhere")
    teach.set_defaults(handler=_cmd_teach)

    review = sub.add_parser("review", help="walk the questions worth teaching, one at a time")
    review.add_argument(
        "--below",
        type=_confidence,
        default=DEFAULT_REVIEW_BELOW,
        metavar="CONFIDENCE",
        help=f"also answers under this confidence, 0 to 1 (default {DEFAULT_REVIEW_BELOW})",
    )
    review.set_defaults(handler=_cmd_review)

    export = sub.add_parser("export-intents", help="write the taught intents as a knowledge YAML file")
    export.add_argument("file", type=Path, metavar="FILE.yaml")
    export.set_defaults(handler=_cmd_export)
