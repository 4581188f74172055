"""Curated intents: example questions with a cited answer or a fixed chit-chat reply.

An intent file is YAML with a top-level ``intents`` list. Each intent has an ``id``, its
``examples`` (questions as readers would ask them) and either ``quotes`` (text quoted from a
document; each must occur verbatim in it) or ``reply`` (fixed text, for chit-chat)::

    intents:
      - id: tracking
        document: esa-china-moon-cooperation
        examples: ["Who tracked Chang'e-6?"]
        quotes: ["Kourou station in French Guiana tracked the spacecraft"]
      - id: greeting
        examples: [hello, hi there]
        reply: Hello! Ask me about my sources.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.core.documents import DescribedDocuments, Document, Sentence, YamlProblem, load_yaml
from bot.core.errors import KnowledgeError, KnowledgeProblem

__all__ = [
    "TAUGHT_SOURCE",
    "Intent",
    "IntentFile",
    "ResolvedIntent",
    "fold_example",
    "merge_taught",
    "parse_intent_file",
    "resolve_intents",
]

# The source named for intents taught by admins (``kb teach``, ``/kb review``): they live in the store.
TAUGHT_SOURCE = "taught intents (the store)"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Intent(BaseModel):
    """One curated intent as written in YAML."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    id: str
    examples: list[str] = Field(min_length=1)
    document: str | None = None
    quotes: list[str] = Field(default_factory=list)
    reply: str | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower-case letters, digits, '-' or '_' (at most 64)")
        return value

    @field_validator("examples", "quotes")
    @classmethod
    def _no_blank_strings(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("must not contain empty strings")
        return value

    @model_validator(mode="after")
    def _quotes_or_reply(self) -> Intent:
        if bool(self.quotes) == bool(self.reply):
            raise ValueError("needs either 'quotes' (cited answer) or 'reply' (chit-chat), not both")
        return self


class IntentFile(BaseModel):
    """The top level of an intent file."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    intents: list[Intent] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ResolvedIntent:
    """An intent whose quotes have been found in their documents."""

    id: str
    examples: tuple[str, ...]
    citations: tuple[tuple[str, Sentence], ...]  # (document id, sentence), in quote order
    reply: str | None
    source: str

    @property
    def is_chitchat(self) -> bool:
        """Whether this intent answers with fixed text rather than citations."""
        return self.reply is not None


def parse_intent_file(text: str, source: str) -> list[Intent]:
    """Parse and validate one intent YAML file; errors name the file and the intent."""
    try:
        raw: Any = load_yaml(text)
    except YamlProblem as exc:
        where = f"line {exc.line}" if exc.line is not None else ""
        raise KnowledgeError([KnowledgeProblem(source, f"invalid YAML: {exc.problem}", where)]) from exc
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise KnowledgeError(
            [KnowledgeProblem(source, "must be a mapping with an 'intents' list", "top level")]
        )
    try:
        return IntentFile.model_validate(raw).intents
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = "field '" + ".".join(str(p) for p in loc) + "'"
            if len(loc) >= 2 and loc[0] == "intents" and isinstance(loc[1], int):
                items = raw.get("intents") or []
                item = items[loc[1]] if loc[1] < len(items) else None
                name = item.get("id") if isinstance(item, dict) else None
                rest = ".".join(str(p) for p in loc[2:])
                where = f"intent {name!r}" if name else f"intent #{loc[1] + 1}"
                if rest:
                    where += f" field '{rest}'"
            message = "is required" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
            problems.append(KnowledgeProblem(source, message, where))
        raise KnowledgeError(problems) from exc


_QUOTE_MARKS = str.maketrans("\u2018\u2019\u201c\u201d\u2013\u2014", "''\"\"--")


def _fold_quotes(text: str) -> str:
    # Same length as the input, so positions found in the folded text are positions in the original.
    return text.translate(_QUOTE_MARKS)


def _find_quote(
    quote: str, documents: Sequence[Document], folded: dict[str, str]
) -> tuple[Document, list[Sentence]] | None:
    """The document quoting ``quote`` and the sentences it spans; ``folded``: bodies folded so far."""
    needle = _fold_quotes(quote)
    for document in documents:
        # Each body is folded once for all the quotes: folding is most of the cost of resolving.
        body = folded.get(document.id)
        if body is None:
            body = folded[document.id] = _fold_quotes(document.body)
        at = body.find(needle)
        if at < 0:
            continue
        end = at + len(needle)
        sentences = [s for s in document.sentences if s.start < end and s.end > at]
        if sentences:
            return document, sentences
    return None


def resolve_intents(
    intents: Sequence[tuple[Intent, str]], documents: Sequence[Document]
) -> list[ResolvedIntent]:
    """Find every quote of every (intent, source file) in the documents; collect every failure."""
    # Positions by id, without rebuilding every document of a snapshot for the few intents name.
    ids = documents.ids if isinstance(documents, DescribedDocuments) else [d.id for d in documents]
    by_id = {doc_id: position for position, doc_id in enumerate(ids)}
    problems: list[KnowledgeProblem] = []
    resolved: list[ResolvedIntent] = []
    seen: dict[str, str] = {}
    folded: dict[str, str] = {}
    for intent, source in intents:
        where = f"intent {intent.id!r}"
        if intent.id in seen:
            problems.append(KnowledgeProblem(source, f"id is already used in {seen[intent.id]}", where))
            continue
        seen[intent.id] = source
        scope: Sequence[Document] = documents
        if intent.document is not None:
            if intent.document not in by_id:
                known = ", ".join(sorted(by_id)) or "none"
                problems.append(
                    KnowledgeProblem(
                        source, f"document {intent.document!r} does not exist (known: {known})", where
                    )
                )
                continue
            scope = [documents[by_id[intent.document]]]
        citations: list[tuple[str, Sentence]] = []
        for number, quote in enumerate(intent.quotes, 1):
            found = _find_quote(quote, scope, folded)
            if found is None:
                in_what = f"document {intent.document!r}" if intent.document else "any document"
                problems.append(
                    KnowledgeProblem(
                        source, f"quote {number} is not found verbatim in {in_what}: {quote[:80]!r}", where
                    )
                )
                continue
            document, sentences = found
            for sentence in sentences:
                if (document.id, sentence) not in citations:
                    citations.append((document.id, sentence))
        resolved.append(
            ResolvedIntent(intent.id, tuple(intent.examples), tuple(citations), intent.reply, source)
        )
    if problems:
        raise KnowledgeError(problems)
    return resolved


# Punctuation that carries meaning at the end of a question ("50%", "#billing") is kept.
_KEPT_AT_EDGES = frozenset("%#@&")


def _edge_mark(char: str) -> bool:
    return char.isspace() or (unicodedata.category(char).startswith("P") and char not in _KEPT_AT_EDGES)


def fold_example(question: str) -> str:
    """A question as two wordings of it compare: case, runs of blanks and edge punctuation ignored.

    "Who runs the station?", "who runs the  station" and "who runs the station!" fold alike; a
    question's inner punctuation ("Chang'e-6") stays.
    """
    text = " ".join(question.casefold().split())
    start, end = 0, len(text)
    while start < end and _edge_mark(text[start]):
        start += 1
    while end > start and _edge_mark(text[end - 1]):
        end -= 1
    return text[start:end]


def merge_taught(
    intents: Sequence[tuple[Intent, str]], taught: Sequence[Intent], documents: Sequence[Document]
) -> tuple[list[tuple[Intent, str]], list[str]]:
    """The file ``intents`` with the ``taught`` ones merged in, and why each unusable taught one is.

    A taught intent with the id of a file intent adds its examples to it (teaching a question to
    an intent curated in a file). An example some file intent already has is left out, so taught
    intents exported and committed as a file take over from the store's copies without clashing.
    A taught intent whose quote the documents no longer hold verbatim is left out and reported,
    never dropped: it is served again once its sentence is back.
    """
    merged = list(intents)
    at = {intent.id: position for position, (intent, _) in enumerate(merged)}
    known = {fold_example(e) for intent, _ in intents for e in intent.examples}
    unusable: list[str] = []
    for intent in taught:
        new = list(dict.fromkeys(e for e in intent.examples if fold_example(e) not in known))
        if not new:
            continue
        position = at.get(intent.id)
        if position is not None:
            held, source = merged[position]
            merged[position] = (held.model_copy(update={"examples": [*held.examples, *new]}), source)
        else:
            candidate = intent.model_copy(update={"examples": new})
            try:
                resolve_intents([(candidate, TAUGHT_SOURCE)], documents)
            except KnowledgeError as exc:
                unusable.extend(f"{intent.id}: {p.message}" for p in exc.problems)
                continue
            at[intent.id] = len(merged)
            merged.append((candidate, TAUGHT_SOURCE))
        known.update(fold_example(e) for e in new)
    return merged, unusable
