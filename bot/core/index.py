"""The searchable form of a knowledge base: BM25 over sentences, paragraphs and titles.

Sentences are the unit of an answer; paragraphs and titles are their context. A sentence that
says "It was launched in May" is found through the paragraph and the title that name "it".

Everything lives in a few flat numpy arrays (:class:`IndexArrays`): every word is interned once
as an id, postings and per-sentence analyses are CSR arrays, and the text is kept once, as UTF-8
with offsets. That is what makes a million sentences fit in memory, lets the arrays be saved and
memory-mapped at start-up instead of rebuilt (:mod:`bot.storage.snapshot`), and leaves no
per-sentence Python object alive: a sentence is materialised as an :class:`IndexedSentence` only
when a question looks at it. Everything a question later needs of a sentence (its terms, the kinds
of answer it can give) is computed at build time, once per knowledge version.
"""

from __future__ import annotations

import math
import re
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar, overload

import numpy as np
import numpy.typing as npt

from bot.core.documents import DescribedDocuments, Document, Sentence
from bot.core.english import ALIAS_CUE, DERIVATIONAL_SUFFIXES, NAME_JOINERS, PRONOUNS
from bot.core.lexicon import synonyms
from bot.core.mentions import AnswerType, Mention, mention_rows
from bot.core.parallel import collection_paused, in_processes
from bot.core.text import STOP_WORDS, content_terms, stem, tokenize, tokenize_all

__all__ = [
    "ANAPHORIC_FLAG",
    "BM25",
    "CONTEXTS",
    "LEAD_FLAG",
    "Aliases",
    "Held",
    "IdfView",
    "IndexArrays",
    "IndexedSentence",
    "KnowledgeIndex",
    "Strings",
    "bracketed",
    "build_arrays",
    "derivation_keys",
    "find_aliases",
]

T = TypeVar("T")
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]

# Okapi BM25 parameters; b is low because short sentences are not more relevant for being short.
BM25_K1 = 1.2
BM25_B = 0.5
# A stem this short has too many unrelated extensions to count relatives ("art"/"artist").
MIN_RELATIVE_STEM = 4
# Unknown words whose spelling correction is remembered, per index.
CORRECTION_CACHE = 4096
# Words whose relatives are remembered, per index.
RELATIVES_CACHE = 16384
# Words whose ids an IdfView remembers.
IDF_CACHE = 65536
# Sentences kept materialised: the candidates of the last few hundred questions.
SENTENCE_CACHE = 8192
_KINDS: tuple[AnswerType, ...] = tuple(AnswerType)
_KIND_CODE = {kind: code for code, kind in enumerate(_KINDS)}
# What KnowledgeIndex.held looks in, in order: a sentence's own terms, the sentences before and
# after it in the same document, its paragraph, its document's title.
CONTEXTS = ("sentence", "before", "after", "paragraph", "title")
# Bits of sentence_flags.
LEAD_FLAG, ANAPHORIC_FLAG = 1, 2


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    """A sentence with where it lives and its analysed terms."""

    doc: int  # position in KnowledgeIndex.documents
    paragraph: int  # global paragraph position in KnowledgeIndex.paragraph_keys
    sentence: Sentence
    tokens: tuple[str, ...]  # folded surface tokens
    terms: tuple[str, ...]  # stemmed content terms, in order
    mentions: tuple[Mention, ...]  # dates, numbers, names...: what kinds of answer it can give
    lead: bool  # the first sentence of its document
    anaphoric: bool  # opens with a word standing for something named before ("It", "He", "This")
    defines: frozenset[str]  # terms the sentence defines: "Negative Ions ... (NILS)", "X, also known as Y"


class Held(NamedTuple):
    """What :meth:`KnowledgeIndex.held` found."""

    contexts: npt.NDArray[np.bool_]  # [context, row, sentence]: whether the context holds the row's word
    sentences: list[npt.NDArray[np.bool_]]  # [row, sentence], one per extra code: the sentence's own terms
    # (sentence, row, place): each word of the main code in the sentences' own terms, in reading order.
    where: tuple[IntArray, IntArray, IntArray]


class Strings:
    """Every word of the index, interned: terms, surface tokens and mention words share one id space."""

    def __init__(self, table: list[str]) -> None:
        self.table = table
        self.ids: dict[str, int] = {word: i for i, word in enumerate(table)}

    def __len__(self) -> int:
        return len(self.table)

    def get(self, word: str) -> int | None:
        """The id of ``word``, if the index holds it."""
        return self.ids.get(word)

    def words(self, ids: npt.NDArray[Any]) -> tuple[str, ...]:
        """The words of ``ids``, in order."""
        return tuple(map(self.table.__getitem__, ids.tolist()))


class _Interner:
    """Ids for words as a build first meets them."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, words: Iterable[str]) -> list[int]:
        ids = self.ids
        # len(ids) is read before setdefault stores it: a new word gets the next id.
        return [ids.setdefault(word, len(ids)) for word in words]


def _csr(rows: list[list[int]]) -> tuple[IntArray, Int32Array]:
    """(row pointers, concatenated values) of a list of id lists."""
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    if rows:
        np.cumsum([len(r) for r in rows], out=ptr[1:])
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int32, count=int(ptr[-1]))
    return ptr, flat


class IdfView:
    """``term -> idf`` over one BM25 level, for the terms that occur in it."""

    def __init__(self, bm25: BM25) -> None:
        self._bm25 = bm25
        # A question asks about the same few hundred words many times over (relatives, synonyms,
        # features); each array read costs a microsecond, a dictionary hit a tenth of that.
        self._ids: dict[str, int | None] = {}

    def _id(self, term: str) -> int | None:
        if term in self._ids:
            return self._ids[term]
        i = self._bm25.strings.get(term)
        if i is not None and self._bm25.ptr[i + 1] == self._bm25.ptr[i]:
            i = None
        if len(self._ids) >= IDF_CACHE:
            self._ids.clear()
        self._ids[term] = i
        return i

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._id(term) is not None

    def get(self, term: str, default: float) -> float:
        """The idf of ``term``, or ``default`` when the level never holds it."""
        i = self._id(term)
        return default if i is None else float(self._bm25.idf_by_id[i])

    def __getitem__(self, term: str) -> float:
        i = self._id(term)
        if i is None:
            raise KeyError(term)
        return float(self._bm25.idf_by_id[i])


@dataclass
class BM25:
    """BM25 scores of a bag of terms over a fixed collection of units, as CSR postings by word id."""

    size: int
    strings: Strings
    ptr: IntArray  # word id -> its postings: units[ptr[i]:ptr[i+1]], weights likewise
    units: Int32Array
    weights: FloatArray
    idf_by_id: FloatArray  # 0 for words the level never holds

    @staticmethod
    def arrays(terms_ptr: IntArray, term_ids: Int32Array, words: int) -> dict[str, npt.NDArray[Any]]:
        """Postings of a collection of units given as CSR term ids (ptr over units, ids)."""
        size = len(terms_ptr) - 1
        lengths = np.diff(terms_ptr).astype(np.float64)
        average = float(lengths.mean()) if size and lengths.sum() else 1.0
        norms = BM25_K1 * (1 - BM25_B + BM25_B * lengths / average)
        # One key per (term, unit) pair, sorted by term then unit: the order postings are read in.
        # Computed in place, as np.unique would (its copies were the peak of a 1M build's memory).
        keys = term_ids.astype(np.int64)
        keys *= max(size, 1)
        keys += np.repeat(np.arange(size, dtype=np.int64), np.diff(terms_ptr))
        keys.sort()
        first = np.ones(len(keys), dtype=np.bool_)
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        counts = np.diff(np.append(np.flatnonzero(first), len(keys)))
        keys = keys[first]
        del first
        term_of, units_of = np.divmod(keys, max(size, 1))
        del keys
        units = units_of.astype(np.int32)
        del units_of
        df = np.bincount(term_of, minlength=words)
        ptr = np.zeros(words + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        # math.log per distinct document frequency: the same idf, bit for bit, as a scalar build.
        distinct, which = np.unique(df, return_inverse=True)
        values = [math.log(1 + (size - d + 0.5) / (d + 0.5)) if d else 0.0 for d in distinct.tolist()]
        idf_by_id = np.array(values, dtype=np.float64)[which]
        tf = counts.astype(np.float64)
        del counts
        # idf * tf * (k1 + 1) / (tf + norm), in that order, in place: the same values, bit for bit.
        weights = idf_by_id[term_of]
        del term_of
        weights *= tf
        weights *= BM25_K1 + 1
        tf += norms[units]
        weights /= tf
        return {"ptr": ptr, "units": units, "weights": weights, "idf": idf_by_id}

    @cached_property
    def idf(self) -> IdfView:
        """``term -> idf`` for the terms this level holds."""
        return IdfView(self)

    def scores(self, terms: dict[str, float]) -> FloatArray:
        """BM25 score of every unit for ``terms`` (term -> query weight)."""
        found = [(i, weight) for term, weight in terms.items() if (i := self.strings.get(term)) is not None]
        if not found:
            return np.zeros(self.size, dtype=np.float64)
        ids = np.array([i for i, _ in found], dtype=np.int64)
        starts = self.ptr[ids]
        lengths = self.ptr[ids + 1] - starts
        # Every posting of every term, in term order, gathered at once.
        postings = _ranges(starts, lengths)
        weighted = np.repeat(np.array([weight for _, weight in found]), lengths) * self.weights[postings]
        # One pass over every posting, in term order: each unit's sum is added up in the same order
        # as adding term by term into a zeroed array, so the same, bit for bit, in a third less time.
        summed = np.bincount(self.units[postings], weighted, minlength=self.size)
        return np.asarray(summed, dtype=np.float64)  # float64 already (weighted): no copy


# Capitalised words, possibly joined by a few small words: "Negative Ions at the Lunar Surface".
_JOINERS = "|".join(sorted(NAME_JOINERS))
# (Written to fail fast, with no other matches than the plain pattern: a capital right after a capital
# fails as the one before it did, and no word or space ever gives back a character.)
_NAME_RUN = re.compile(rf"[A-Z](?<![A-Z][A-Z])[\w'’-]*+(?:\s++(?:(?:{_JOINERS})\s++)*[A-Z][\w'’-]*+)+")
# ``\b[A-Z]{2,6}s?\b``, opening with its capital: a pattern opening with a set of characters is
# searched for that set in C, where one opening with ``\b`` is tried at every position.
_ACRONYM = re.compile(r"[A-Z](?<!\w[A-Z])[A-Z]{1,5}s?\b")
# Texts searched at once, joined by a character that no pattern above matches: one C call per run
# of texts rather than a Python call per text.
_JOIN = "\0"
JOINED_TEXTS = 4096
# A short form in brackets straight after what it abbreviates: "antibody (Ab)", "ESA (European...)".
_BRACKETED = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9&.-]{1,9})\s*[),;]")
# Words before the bracket that the short form may abbreviate, at most.
BRACKET_REACH = 6
# Spelled-out name -> the one term it is also written as.
Aliases = dict[tuple[str, ...], str]


def bracketed(text: str) -> list[tuple[list[str], str]]:
    """(the words before, the short form) for each short form in brackets in ``text``."""
    if "(" not in text:
        return []
    return [
        (text[: match.start()].split()[-BRACKET_REACH:], match.group(1).rstrip("."))
        for match in _BRACKETED.finditer(text)
    ]


def _initials_match(short: str, words: list[str]) -> bool:
    """Whether ``short`` abbreviates ``words``: their initials, or letters of one word in order."""
    letters = [c for c in short.lower() if c.isalpha()]
    if len(words) >= 2:
        return "".join(w[0].lower() for w in words) == "".join(letters)
    word = words[0].lower()
    if not letters or word[0] != letters[0]:
        return False
    at = 0
    for letter in letters[1:]:
        at = word.find(letter, at + 1)
        if at < 0:
            return False
    return True


class _AliasEvidence(NamedTuple):
    """What a run of texts says toward the aliases, before the acronyms of all texts are known."""

    acronyms: set[str]
    # (text, spelled-out key, short term) of each short form in brackets after what it abbreviates.
    pairs: list[tuple[int, tuple[str, ...], str]]
    # (text, name run) of each run of capitalised words: which of its stretches an acronym of some
    # text abbreviates is decided once every text's acronyms are known.
    runs: list[tuple[int, str]]


def _alias_pair(phrase: str, short: str) -> tuple[tuple[str, ...], str] | None:
    """(key, term) of a spelled-out ``phrase`` and its ``short`` form, or None when either is empty."""
    key = tuple(content_terms(tokenize(phrase)))
    term = content_terms(tokenize(short))
    if key and term and key != (term[0],):
        return key, term[0]
    return None


def _alias_evidence(texts: list[str]) -> _AliasEvidence:
    """The acronyms, bracketed short forms and name runs of ``texts``."""
    runs = [_JOIN.join(texts[at : at + JOINED_TEXTS]) for at in range(0, len(texts), JOINED_TEXTS)]
    acronyms = {short.rstrip("s") for run in runs for short in _ACRONYM.findall(run)}
    names: list[tuple[int, str]] = []
    for number, run in enumerate(runs):
        starts = [0]
        for text in texts[number * JOINED_TEXTS : (number + 1) * JOINED_TEXTS]:
            starts.append(starts[-1] + len(text) + len(_JOIN))
        first = number * JOINED_TEXTS
        for match in _NAME_RUN.finditer(run):
            names.append((first + bisect_right(starts, match.start()) - 1, match.group()))
    pairs: list[tuple[int, tuple[str, ...], str]] = []
    for i, text in enumerate(texts):
        for words, short in bracketed(text):
            for size in range(1, len(words) + 1):
                if _initials_match(short, words[-size:]):
                    if (pair := _alias_pair(" ".join(words[-size:]), short)) is not None:
                        pairs.append((i, *pair))
                    break
    return _AliasEvidence(acronyms, pairs, names)


_UNSEEN: Any = object()


def _resolve_aliases(evidence: Sequence[_AliasEvidence]) -> Aliases:
    """The aliases of texts whose evidence, in order, is ``evidence``: the first pair for a name wins."""
    acronyms: set[str] = set().union(*(part.acronyms for part in evidence))
    found: Aliases = {}
    # The same names recur through a knowledge base ("European Space Agency", ESA): each is
    # analysed once.
    pairs_of: dict[tuple[str, str], tuple[tuple[str, ...], str] | None] = {}

    def add(phrase: str, short: str) -> None:
        pair = pairs_of.get((phrase, short), _UNSEEN)
        if pair is _UNSEEN:
            pair = pairs_of[phrase, short] = _alias_pair(phrase, short)
        if pair is not None:
            found.setdefault(*pair)

    # A name run met again adds again what it added the first time, which is already there.
    seen: set[str] = set()
    for part in evidence:
        # A text's short forms in brackets come before its name runs.
        pairs, runs = part.pairs, part.runs if acronyms else []
        p = r = 0
        while p < len(pairs) or r < len(runs):
            if r == len(runs) or (p < len(pairs) and pairs[p][0] <= runs[r][0]):
                found.setdefault(pairs[p][1], pairs[p][2])
                p += 1
            else:
                run = runs[r][1]
                if run not in seen:
                    seen.add(run)
                    _add_initials(run, acronyms, add)
                r += 1
    return found


def find_aliases(texts: Iterable[str]) -> Aliases:
    """Names the texts also write as one short form: ("european", "space", "agenc") -> "esa".

    Only pairs the texts themselves attest count: an acronym used in the texts whose letters are
    the initials of a run of capitalised words, or a short form in brackets after the words it
    abbreviates ("an antibody (Ab)"). No outside list of abbreviations is needed.
    """
    return _resolve_aliases([_alias_evidence(list(texts))])


def _add_initials(run: str, acronyms: set[str], add: Callable[[str, str], None]) -> None:
    """``add`` each stretch of the name ``run`` whose initials are one of ``acronyms``."""
    words = run.split()
    capitals = [i for i, w in enumerate(words) if w[0].isupper()]
    initials = "".join(words[i][0] for i in capitals)
    for a, first in enumerate(capitals):
        for b in range(a + 1, min(len(capitals), a + 7)):
            if initials[a : b + 1] in acronyms:
                add(" ".join(words[first : capitals[b] + 1]), initials[a : b + 1])


# Words either side of "also known as" that name the two names of one thing.
ALIAS_REACH = 6
_NOTHING: frozenset[str] = frozenset()


class _DefinitionEvidence(NamedTuple):
    """What a text says toward the terms it defines, before the aliases are known."""

    # (short term, the words before it) of each bracket holding one word or more.
    brackets: list[tuple[str, str]]
    cued: list[str]  # the terms either side of each alias cue ("X, also known as Y")


def _definition_evidence(text: str) -> _DefinitionEvidence:
    """What ``text`` says toward the terms it defines; found in the worker that analyses it."""
    brackets: list[tuple[str, str]] = []
    for before, bracket in bracketed(text):
        short = content_terms(tokenize(bracket))
        if short:
            brackets.append((short[0], " ".join(before)))
    cued: list[str] = []
    for cue in ALIAS_CUE.finditer(text):
        cued += content_terms(tokenize(text[: cue.start()]))[-ALIAS_REACH:]
        cued += content_terms(tokenize(text[cue.end() :]))[:ALIAS_REACH]
    return _DefinitionEvidence(brackets, cued)


def _defined(evidence: _DefinitionEvidence, aliases: Aliases, shorts: Container[str]) -> frozenset[str]:
    """The terms a text defines: a short form with what it abbreviates, or two names of one thing.

    ``shorts``: the short forms of ``aliases`` (its values).
    """
    found = set(evidence.cued)
    for short, before in evidence.brackets:
        if short not in shorts:  # a bracket holding another word defines nothing
            continue
        words = content_terms(tokenize(before))
        for size in range(1, len(words) + 1):
            if aliases.get(tuple(words[-size:])) == short:
                found.update(words[-size:])
                found.add(short)
    return frozenset(found) if found else _NOTHING


@lru_cache(maxsize=65536)
def derivation_keys(term: str) -> tuple[str, ...]:
    """The stems ``term`` could be a derivation of: itself and itself minus each known suffix."""
    keys = [term]
    for size in range(1, 6):
        if len(term) - size >= MIN_RELATIVE_STEM and term[-size:] in DERIVATIONAL_SUFFIXES:
            keys.append(term[:-size])
    return tuple(keys)


@dataclass(frozen=True)
class IndexArrays:
    """The whole index as flat arrays: what :mod:`bot.storage.snapshot` saves and memory-maps.

    ``arrays`` holds, by name: per sentence its document, paragraph, flags, character span in its
    document's body and byte span in ``text``; CSR lists (``*_ptr`` and ``*_ids``) of its tokens,
    terms, defined terms and answer mentions; per paragraph its number, span, section and first
    sentence; per document its first paragraph and sentence, body bytes and title terms; and the
    three BM25 levels' postings. ``strings`` are the interned words all ids point into.
    """

    arrays: dict[str, npt.NDArray[Any]]
    strings: list[str]
    sections: list[str]
    aliases: Aliases


def _byte_offsets(body: str) -> IntArray:
    """The UTF-8 byte offset of every character position of ``body`` (one more than its length)."""
    offsets = np.zeros(len(body) + 1, dtype=np.int64)
    if body.isascii():
        offsets[1:] = np.arange(1, len(body) + 1)
        return offsets
    points = np.frombuffer(body.encode("utf-32-le"), dtype=np.uint32)
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    np.cumsum(widths, out=offsets[1:])
    return offsets


# Sentences analysed per task, and the knowledge size from which analysis runs in worker
# processes: below it, starting them costs more than it saves (each imports the engine afresh).
CHUNK_SENTENCES = 4000
PARALLEL_FROM = 20_000


@dataclass(frozen=True)
class _Analysis:
    """What :func:`_analyse` found in a run of sentences, with ids local to it."""

    words: list[str]
    tokens: tuple[IntArray, Int32Array]
    terms: tuple[IntArray, Int32Array]
    mention_ptr: IntArray
    mention_kinds: npt.NDArray[np.uint8]
    mention_words: tuple[IntArray, Int32Array]
    anaphoric: npt.NDArray[np.bool_]
    aliases: _AliasEvidence
    # What the sentences that may define a term (a bracket, an alias cue) say toward it, by sentence.
    definitions: list[tuple[int, _DefinitionEvidence]]


# A word each alternative of ALIAS_CUE holds ("also known as" holds "known"), and characters that
# re.IGNORECASE matches with an ASCII letter other than by str.lower(): a sentence without any of
# them (nearly all) is spared the case-insensitive search, which tries every position.
_CUE_WORDS = ("known", "called", "referred", "short", "stand", "abbreviat", "simply", "i.e.")
_ASCII_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _may_cue(text: str) -> bool:
    """Whether ``text`` may hold an alias cue: False only when ALIAS_CUE cannot match it."""
    folded = text.translate(_ASCII_FOLD).lower()
    return any(word in folded for word in _CUE_WORDS)


def _maybe_defining(texts: list[str]) -> list[int]:
    """The texts with a bracket or that may hold an alias cue (:func:`_may_cue`), in one scan."""
    joined = "\n".join(texts)
    if joined.isascii():
        folded = joined.lower()
    else:  # the characters that fold differently are not ASCII: only those texts are translated
        folded = "\n".join(text if text.isascii() else text.translate(_ASCII_FOLD) for text in texts)
        folded = folded.lower()
        if len(folded) != len(joined):  # a letter lower-cased into two: offsets no longer match
            return [i for i, text in enumerate(texts) if "(" in text or _may_cue(text)]
    hits: list[int] = []
    for word in ("(", *_CUE_WORDS):
        at = folded.find(word)
        while at >= 0:
            hits.append(at)
            at = folded.find(word, at + 1)
    if not hits:
        return []
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum([len(text) + 1 for text in texts[:-1]], out=starts[1:])
    found: list[int] = np.unique(np.searchsorted(starts, hits, side="right") - 1).tolist()
    return found


def _analyse(texts: list[str]) -> _Analysis:
    """Tokens, terms, answer mentions and openings of ``texts``; runs in a worker process too."""
    count = len(texts)
    tokens, token_counts = tokenize_all(texts)
    # Every word gets an id of this run as it is first met: each distinct token, its stem, the
    # words of each mention. Per-token work is all in C (dictionary lookups by map, numpy); Python
    # looks at each distinct word once.
    ids = dict(zip(dict.fromkeys(tokens), range(len(tokens)), strict=False))
    distinct = list(ids)
    term_of: list[int] = []
    pronoun: list[bool] = []
    for word in distinct:
        term_of.append(-1 if word in STOP_WORDS else ids.setdefault(stem(word), len(ids)))
        pronoun.append(word in PRONOUNS)
    token_ids = np.fromiter(map(ids.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    mention_counts, kinds, said, said_counts = mention_rows(texts)
    definitions: list[tuple[int, _DefinitionEvidence]] = []
    for i in _maybe_defining(texts):
        text = texts[i]
        if "(" in text or ALIAS_CUE.search(text):
            evidence = _definition_evidence(text)
            if evidence.brackets or evidence.cued:
                definitions.append((i, evidence))
    for word in dict.fromkeys(said):
        ids.setdefault(word, len(ids))
    said_ids = np.fromiter(map(ids.__getitem__, said), dtype=np.int64, count=len(said))
    # Terms: each non-stop token's stem, in order.
    token_sentence = np.repeat(np.arange(count), token_counts)
    stems = np.array(term_of, dtype=np.int64)[token_ids] if tokens else np.zeros(0, dtype=np.int64)
    kept = stems >= 0
    term_ids = stems[kept]
    term_sentence = token_sentence[kept]
    said_sentence = np.repeat(np.repeat(np.arange(count), mention_counts), said_counts)
    # Local ids in the order the words are first met reading each sentence's tokens, then its
    # terms, then its mentions' words: the order the index's global ids follow.
    stream = np.concatenate((token_ids, term_ids, said_ids))
    order = np.argsort(
        np.concatenate((token_sentence * 3, term_sentence * 3 + 1, said_sentence * 3 + 2)), kind="stable"
    )
    met, first = np.unique(stream[order], return_index=True)
    by_first = met[np.argsort(first)]
    local = np.empty(len(ids), dtype=np.int32)
    local[by_first] = np.arange(len(by_first), dtype=np.int32)
    names = list(ids)
    token_ptr = _pointers(token_counts)
    anaphoric = np.zeros(count, dtype=np.bool_)
    opened = np.flatnonzero(np.asarray(token_counts) > 0)
    anaphoric[opened] = np.array(pronoun, dtype=np.bool_)[token_ids[token_ptr[opened]]]
    return _Analysis(
        [names[i] for i in by_first.tolist()],
        (token_ptr, local[token_ids]),
        (_pointers(np.bincount(term_sentence, minlength=count)), local[term_ids]),
        _pointers(mention_counts),
        np.array(kinds, dtype=np.uint8),
        (_pointers(said_counts), local[said_ids]),
        anaphoric,
        _alias_evidence(texts),
        definitions,
    )


def _pointers(counts: Any) -> IntArray:
    """The CSR pointers of rows of ``counts`` items."""
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def _analyse_all(texts: list[str]) -> Iterator[_Analysis]:
    """:func:`_analyse` over ``texts`` in runs (in worker processes when many)."""
    runs = [texts[at : at + CHUNK_SENTENCES] for at in range(0, len(texts), CHUNK_SENTENCES)]
    return in_processes(_analyse, runs, worth_it=len(texts) >= PARALLEL_FROM)


def _concatenate(
    parts: list[tuple[IntArray, Int32Array]], remaps: list[Int32Array]
) -> tuple[IntArray, Int32Array]:
    """One CSR list from consecutive parts, their local ids mapped to global ones."""
    ptrs = [np.zeros(1, dtype=np.int64)]
    at = 0
    for ptr, _ in parts:
        ptrs.append(ptr[1:] + at)
        at += int(ptr[-1])
    ids = [remap[local] for (_, local), remap in zip(parts, remaps, strict=True)]
    return np.concatenate(ptrs), np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32)


_TEXT, _START, _END = attrgetter("text"), attrgetter("start"), attrgetter("end")


def build_arrays(documents: Sequence[Document]) -> IndexArrays:
    """Analyse ``documents`` into :class:`IndexArrays`."""
    with collection_paused():
        return _build_arrays(documents)


def _build_arrays(documents: Sequence[Document]) -> IndexArrays:
    texts: list[str] = []
    # Flat machine arrays, not lists of Python ints and tuples: a million sentences' worth of
    # those alone would be several hundred megabytes at the build's peak. A sentence's fields are
    # read by map() in C; only paragraphs are visited in Python.
    starts = array("q")  # of each sentence in its body, by character
    ends = array("q")
    paragraph_number: list[int] = []
    paragraph_span: list[tuple[int, int]] = []
    paragraph_section: list[int] = []
    paragraph_first = [0]
    doc_first_paragraph = [0]
    doc_first_sentence = [0]
    doc_bytes: list[tuple[int, int]] = []
    sections: dict[str, int] = {}
    blob: list[bytes] = []
    # (first sentence, end sentence, position) of each document with characters of several bytes:
    # their sentences' character spans become byte spans once all are collected, in numpy.
    multibyte: list[tuple[int, int, int]] = []
    at = 0
    for doc_pos, document in enumerate(documents):
        body = document.body
        encoded = body.encode()
        blob.append(encoded)
        doc_bytes.append((at, at + len(encoded)))
        for paragraph in document.paragraphs:
            paragraph_number.append(paragraph.number)
            paragraph_span.append((paragraph.start, paragraph.end))
            section = paragraph.section
            paragraph_section.append(-1 if section is None else sections.setdefault(section, len(sections)))
            sentences = paragraph.sentences
            texts += map(_TEXT, sentences)
            starts.extend(map(_START, sentences))
            ends.extend(map(_END, sentences))
            paragraph_first.append(len(texts))
        if len(encoded) != len(body):
            multibyte.append((doc_first_sentence[-1], len(texts), doc_pos))
        doc_first_paragraph.append(len(paragraph_number))
        doc_first_sentence.append(len(texts))
        at += len(encoded)
    intern = _Interner()
    title_rows = [intern(sorted(set(content_terms(tokenize(d.title))))) for d in documents]
    # Each run's words are interned as it arrives, while the workers go on, and then let go: a
    # million sentences' runs hold some four million word strings between them.
    parts: list[_Analysis] = []
    remaps: list[Int32Array] = []
    for part in _analyse_all(texts):
        remaps.append(np.array(intern(part.words), dtype=np.int32))
        parts.append(replace(part, words=[]))
    # Titles first, as an acronym or a name in a title is found before one in the text.
    aliases = _resolve_aliases([_alias_evidence([d.title for d in documents]), *(p.aliases for p in parts)])
    defines: dict[int, list[int]] = {}  # only the few sentences that define a term
    first = 0
    shorts = frozenset(aliases.values())
    for analysis in parts:
        for i, evidence in analysis.definitions:
            found = intern(sorted(_defined(evidence, aliases, shorts)))
            if found:
                defines[first + i] = found
        first += len(analysis.anaphoric)
    strings = list(intern.ids)
    words = len(strings)
    arrays: dict[str, npt.NDArray[Any]] = {}
    arrays["token_ptr"], arrays["token_ids"] = _concatenate([p.tokens for p in parts], remaps)
    arrays["term_ptr"], arrays["term_ids"] = _concatenate([p.terms for p in parts], remaps)
    define_counts = np.zeros(len(texts), dtype=np.int64)
    for position, found in defines.items():
        define_counts[position] = len(found)
    arrays["define_ptr"] = np.concatenate(([0], np.cumsum(define_counts))).astype(np.int64)
    arrays["define_ids"] = np.array(
        [i for position in sorted(defines) for i in defines[position]], dtype=np.int32
    )
    arrays["title_ptr"], arrays["title_ids"] = _csr(title_rows)
    mention_ptrs = [np.zeros(1, dtype=np.int64)]
    mentions = 0
    for part in parts:
        mention_ptrs.append(part.mention_ptr[1:] + mentions)
        mentions += int(part.mention_ptr[-1])
    arrays["mention_ptr"] = np.concatenate(mention_ptrs)
    arrays["mention_kind"] = (
        np.concatenate([p.mention_kinds for p in parts]) if parts else np.zeros(0, dtype=np.uint8)
    )
    arrays["mention_word_ptr"], arrays["mention_word_ids"] = _concatenate(
        [p.mention_words for p in parts], remaps
    )
    anaphoric = np.concatenate([p.anaphoric for p in parts]) if parts else np.zeros(0, dtype=np.bool_)
    # The runs' own arrays are all copied into the index's now: let them go before the postings
    # are sorted, when a 1M build reaches its peak (some 200 MB less).
    del parts, remaps
    doc_sentences = np.diff(doc_first_sentence)
    lead = np.zeros(len(texts), dtype=np.uint8)
    lead[np.array(doc_first_sentence[:-1], dtype=np.int64)[doc_sentences > 0]] = LEAD_FLAG
    arrays["sentence_flags"] = lead | (anaphoric.astype(np.uint8) * ANAPHORIC_FLAG)
    arrays["sentence_doc"] = np.repeat(np.arange(len(documents), dtype=np.int64), doc_sentences)
    arrays["sentence_paragraph"] = np.repeat(
        np.arange(len(paragraph_number), dtype=np.int64), np.diff(paragraph_first)
    )
    arrays["sentence_span"] = np.stack(
        (np.frombuffer(starts, dtype=np.int64), np.frombuffer(ends, dtype=np.int64)), axis=1
    )
    # ASCII: a character is a byte, and a sentence's bytes are its characters past its document's.
    doc_starts = np.array([low for low, _ in doc_bytes], dtype=np.int64)
    byte_spans = arrays["sentence_span"] + np.repeat(doc_starts, doc_sentences)[:, None]
    for first, end, doc_pos in multibyte:
        rows = arrays["sentence_span"][first:end]
        byte_spans[first:end] = _byte_offsets(documents[doc_pos].body)[rows] + doc_bytes[doc_pos][0]
    arrays["sentence_bytes"] = byte_spans
    arrays["paragraph_number"] = np.array(paragraph_number, dtype=np.int64)
    arrays["paragraph_span"] = np.array(paragraph_span, dtype=np.int64).reshape(-1, 2)
    arrays["paragraph_section"] = np.array(paragraph_section, dtype=np.int64)
    arrays["paragraph_first_sentence"] = np.array(paragraph_first, dtype=np.int64)
    arrays["doc_first_paragraph"] = np.array(doc_first_paragraph, dtype=np.int64)
    arrays["doc_first_sentence"] = np.array(doc_first_sentence, dtype=np.int64)
    arrays["doc_bytes"] = np.array(doc_bytes, dtype=np.int64).reshape(-1, 2)
    is_token = np.zeros(words, dtype=np.bool_)
    is_token[arrays["token_ids"]] = True
    arrays["is_token"] = is_token
    arrays["spell_key"], arrays["spell_length"] = _spelling_keys(strings)
    arrays["text"] = np.frombuffer(b"".join(blob), dtype=np.uint8)
    term_ptr, term_ids = arrays["term_ptr"], arrays["term_ids"]
    levels = {
        "sentence": (term_ptr, term_ids),
        # A paragraph's terms are its sentences' terms, end to end.
        "paragraph": (term_ptr[arrays["paragraph_first_sentence"]], term_ids),
        "title": (arrays["title_ptr"], arrays["title_ids"]),
    }
    for level, (level_ptr, level_ids) in levels.items():
        for name, postings in BM25.arrays(level_ptr, level_ids, words).items():
            arrays[f"{level}_bm25_{name}"] = postings
    return IndexArrays(arrays, strings, list(sections), aliases)


_LETTER_BITS = np.zeros(256, dtype=np.uint64)
for _bit, _char in enumerate("abcdefghijklmnopqrstuvwxyz0123456789"):
    _LETTER_BITS[ord(_char)] = np.uint64(1) << np.uint64(_bit)


def _spelling_key(word: str) -> int:
    """Which letters and digits ``word`` holds, one bit each."""
    key = 0
    for char in set(word):
        if ord(char) < 256:
            key |= int(_LETTER_BITS[ord(char)])
    return key


def _spelling_keys(strings: list[str]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """The letters each word holds (:func:`_spelling_key`) and its length, for every word."""
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    if not strings:
        return np.zeros(0, dtype=np.uint64), lengths
    codes = np.frombuffer("\0".join(strings).encode("latin-1", "replace"), dtype=np.uint8)
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return np.bitwise_or.reduceat(_LETTER_BITS[codes], starts), lengths


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Every position of every range ``[starts[r], starts[r] + lengths[r])``, range by range, in order."""
    at: IntArray = np.arange(int(lengths.sum())) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return at


def _gathered(ids: Int32Array, starts: IntArray, ends: IntArray) -> tuple[IntArray, Int32Array, IntArray]:
    """(range number, id, place in its range) of every id in ``ids[starts[r]:ends[r]]``, range by range."""
    lengths = ends - starts
    at = _ranges(starts, lengths)
    slot = np.repeat(np.arange(len(starts)), lengths)
    return slot, ids[at], at - np.repeat(starts, lengths)


class _Lazy(Sequence[Any]):
    """A read-only sequence whose items are made on first use and the most recent kept."""

    def __init__(self, size: int, make: Any, keep: int) -> None:
        self._size = size
        self._make = make
        self._keep = keep
        self._cache: OrderedDict[int, Any] = OrderedDict()

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._size))]
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(i)
        cache = self._cache
        item = cache.get(i)
        if item is None:
            item = cache[i] = self._make(i)
            if len(cache) > self._keep:
                cache.popitem(last=False)
        else:
            cache.move_to_end(i)
        return item

    def __iter__(self) -> Iterator[Any]:
        # A walk over everything keeps nothing: the cache is for questions' candidates.
        make = self._make
        for i in range(self._size):
            yield self._cache.get(i) or make(i)


class _SurfaceVocabulary:
    """Whether a word occurs as written (not only as a stem) anywhere in the knowledge."""

    def __init__(self, strings: Strings, is_token: npt.NDArray[np.bool_]) -> None:
        self._strings = strings
        self._is_token = is_token

    def __contains__(self, word: object) -> bool:
        i = self._strings.get(word) if isinstance(word, str) else None
        return i is not None and bool(self._is_token[i])


class KnowledgeIndex:
    """Everything the answer path needs about a set of documents, built once per knowledge version."""

    def __init__(self, documents: Sequence[Document], arrays: IndexArrays | None = None) -> None:
        """Analyse and index ``documents``, or serve ``arrays`` already built from them."""
        self.documents: Sequence[Document] = documents if arrays is not None else tuple(documents)
        self.arrays = arrays if arrays is not None else build_arrays(self.documents)
        a = self.arrays.arrays
        self.strings = Strings(self.arrays.strings)
        self.aliases: Aliases = self.arrays.aliases
        # By first word, so a question is checked only against names that could start in it.
        self._aliases_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for spelled, short in self.aliases.items():
            self._aliases_by_first[spelled[0]].append((spelled, short))
        self.sentence_doc: IntArray = a["sentence_doc"]
        self.sentence_paragraph: IntArray = a["sentence_paragraph"]
        self.lead_sentences: IntArray = a["doc_first_sentence"][:-1]
        sizes = {"sentence": len(self.sentence_doc), "paragraph": len(a["paragraph_number"])}
        sizes["title"] = len(a["doc_first_sentence"]) - 1
        self.sentence_bm25, self.paragraph_bm25, self.title_bm25 = (
            BM25(
                sizes[level],
                self.strings,
                a[f"{level}_bm25_ptr"],
                a[f"{level}_bm25_units"],
                a[f"{level}_bm25_weights"],
                a[f"{level}_bm25_idf"],
            )
            for level in ("sentence", "paragraph", "title")
        )
        self.sentences: Sequence[IndexedSentence] = _Lazy(sizes["sentence"], self._sentence, SENTENCE_CACHE)
        term_ptr, term_ids = a["term_ptr"], a["term_ids"]
        first = a["paragraph_first_sentence"]
        self.paragraph_terms: Sequence[frozenset[str]] = _Lazy(
            sizes["paragraph"],
            lambda p: frozenset(self.strings.words(term_ids[term_ptr[first[p]] : term_ptr[first[p + 1]]])),
            SENTENCE_CACHE,
        )
        title_ptr, title_ids = a["title_ptr"], a["title_ids"]
        self.title_terms: Sequence[frozenset[str]] = _Lazy(
            sizes["title"],
            lambda d: frozenset(self.strings.words(title_ids[title_ptr[d] : title_ptr[d + 1]])),
            1024,
        )
        self.surface_vocabulary = _SurfaceVocabulary(self.strings, a["is_token"])
        self._doc_by_id: dict[str, int] | None = None
        self._corrections: dict[str, str | None] = {}
        self._relatives: dict[str, tuple[str, ...]] = {}
        self._scratch = threading.local()
        # idf of a term absent from the knowledge base: rarer than any term it holds.
        self.unseen_idf = math.log(1 + (sizes["sentence"] + 0.5) / 0.5)

    def section_of(self, paragraph: int) -> str | None:
        """The heading the paragraph at ``paragraph`` (a position, as IndexedSentence.paragraph) is under."""
        section = int(self.arrays.arrays["paragraph_section"][paragraph])
        return None if section < 0 else self.arrays.sections[section]

    def scratch(self, name: str, size: int, dtype: type[Any] = np.float64) -> npt.NDArray[Any]:
        """This thread's work array ``name``, kept for every question it answers.

        A fresh array of a score per sentence is fresh memory: the kernel maps and zeroes its pages
        on first touch, which cost more than the arithmetic (three times the retrieval time at
        100,000 sentences). Callers copy out what they keep.
        """
        found: npt.NDArray[Any] | None = getattr(self._scratch, name, None)
        if found is None or len(found) != size:
            found = np.empty(size, dtype=dtype)
            setattr(self._scratch, name, found)
        return found

    def _sentence(self, i: int) -> IndexedSentence:
        # Each numpy scalar read costs about a microsecond: read bounds in pairs, as Python ints.
        a = self.arrays.arrays
        table = self.strings.table
        doc, paragraph = int(a["sentence_doc"][i]), int(a["sentence_paragraph"][i])
        start, end = a["sentence_span"][i].tolist()
        low, high = a["sentence_bytes"][i].tolist()
        text = a["text"][low:high].tobytes().decode()
        sentence = Sentence(text, int(a["paragraph_number"][paragraph]), start, end)
        tokens, terms, defines = (self._words(name, i) for name in ("token", "term", "define"))
        mentions: list[Mention] = []
        first, last = a["mention_ptr"][i : i + 2].tolist()
        if first != last:
            kinds = a["mention_kind"][first:last].tolist()
            bounds = a["mention_word_ptr"][first : last + 1].tolist()
            said = a["mention_word_ids"][bounds[0] : bounds[-1]].tolist()
            base = bounds[0]
            for m, kind in enumerate(kinds):
                words = said[bounds[m] - base : bounds[m + 1] - base]
                mentions.append((_KINDS[kind], frozenset([table[w] for w in words])))
        flags = int(a["sentence_flags"][i])
        return IndexedSentence(
            doc,
            paragraph,
            sentence,
            tokens,
            terms,
            tuple(mentions),
            bool(flags & LEAD_FLAG),
            bool(flags & ANAPHORIC_FLAG),
            frozenset(defines) if defines else _NOTHING,
        )

    def terms_of(self, position: int) -> tuple[str, ...]:
        """The terms of the sentence at ``position``, without making the whole sentence."""
        return self._words("term", position)

    def tokens_of(self, position: int) -> tuple[str, ...]:
        """The tokens of the sentence at ``position``, without making the whole sentence."""
        return self._words("token", position)

    def _words(self, name: str, position: int) -> tuple[str, ...]:
        a = self.arrays.arrays
        first, last = a[f"{name}_ptr"][position : position + 2].tolist()
        return self.strings.words(a[f"{name}_ids"][first:last])

    def held(
        self, positions: IntArray, count: int, code: dict[str, int], *sentence_codes: dict[str, int]
    ) -> Held:
        """What the contexts of the sentences at ``positions`` hold of some words.

        ``contexts[x, row, i]`` says whether context ``x`` (in :data:`CONTEXTS` order) of the sentence
        at ``positions[i]`` holds a word that ``code`` maps to ``row`` (``count`` rows); each of
        ``sentence_codes`` gives such a matrix for the sentences' own terms alone. One pass over the
        candidates' word ids in numpy, instead of a set of words per candidate and context.
        """
        a = self.arrays.arrays
        n = len(positions)
        docs = self.sentence_doc[positions]
        first_of_doc = a["doc_first_sentence"]
        paragraph_first = a["paragraph_first_sentence"]
        paragraphs = self.sentence_paragraph[positions]
        # Sentence ranges of each context, as [low, high): a neighbour outside the document is empty.
        low = np.concatenate(
            (
                positions,
                np.maximum(positions - 1, first_of_doc[docs]),
                positions + 1,
                paragraph_first[paragraphs],
            )
        )
        high = np.concatenate(
            (
                positions + 1,
                positions,
                np.minimum(positions + 2, first_of_doc[docs + 1]),
                paragraph_first[paragraphs + 1],
            )
        )
        term_ptr = a["term_ptr"]
        slots, words, places = _gathered(a["term_ids"], term_ptr[low], term_ptr[high])
        title_ptr = a["title_ptr"]
        title_slots, title_words, _ = _gathered(a["title_ids"], title_ptr[docs], title_ptr[docs + 1])
        slot = np.concatenate((slots, title_slots + CONTEXTS.index("title") * n))
        said = np.concatenate((words, title_words))
        held = np.zeros((count, len(CONTEXTS) * n), dtype=bool)
        rows, hit = self._mark(held, code, said, slot)
        # The sentences' own words come first in what was gathered.
        own = int(np.count_nonzero(slots < n))
        own_hit = hit[:own]
        where = (slot[:own][own_hit], rows[: int(np.count_nonzero(own_hit))], places[:own][own_hit])
        by_sentence: list[npt.NDArray[np.bool_]] = []
        for extra in sentence_codes:
            by_sentence.append(np.zeros((count, n), dtype=bool))
            self._mark(by_sentence[-1], extra, said[:own], slot[:own])
        return Held(held.reshape(count, len(CONTEXTS), n).transpose(1, 0, 2), by_sentence, where)

    def _mark(
        self, held: npt.NDArray[np.bool_], code: dict[str, int], said: Int32Array, slot: IntArray
    ) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Set ``held[row, slot[i]]`` wherever ``said[i]`` is the id of a word ``code`` maps to ``row``;
        (the rows found, where in ``said`` they were found).
        """
        known = sorted((i, row) for word, row in code.items() if (i := self.strings.get(word)) is not None)
        if not known or not len(said):
            return np.zeros(0, dtype=np.int64), np.zeros(len(said), dtype=bool)
        keys = np.array([i for i, _ in known], dtype=said.dtype)
        at = np.minimum(np.searchsorted(keys, said), len(keys) - 1)
        hit = keys[at] == said
        rows = np.array([row for _, row in known], dtype=np.int64)[at[hit]]
        held[rows, slot[hit]] = True
        return rows, hit

    def document_position(self, doc_id: str) -> int | None:
        """Where document ``doc_id`` is in :attr:`documents`, if it is there."""
        if self._doc_by_id is None:
            documents = self.documents
            ids = documents.ids if isinstance(documents, DescribedDocuments) else [d.id for d in documents]
            self._doc_by_id = {doc_id: i for i, doc_id in enumerate(ids)}
        return self._doc_by_id.get(doc_id)

    def position(self, doc_id: str, sentence: Sentence) -> int:
        """Where ``sentence`` of document ``doc_id`` is in :attr:`sentences`."""
        doc = self.document_position(doc_id)
        if doc is None:
            raise KeyError(doc_id)
        a = self.arrays.arrays
        first, last = int(a["doc_first_sentence"][doc]), int(a["doc_first_sentence"][doc + 1])
        at = first + int(np.searchsorted(a["sentence_span"][first:last, 0], sentence.start))
        if at >= last or int(a["sentence_span"][at, 0]) != sentence.start:
            raise KeyError((doc_id, sentence.start))
        return at

    def idf(self, term: str) -> float:
        """Sentence-level idf of ``term``; unseen terms get the highest idf there is."""
        return self.sentence_bm25.idf.get(term, self.unseen_idf)

    def spelled_out(self, terms: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
        """(spelled-out name, short form) for each name the knowledge defines that ``terms`` spell out."""
        found: list[tuple[tuple[str, ...], str]] = []
        for i, term in enumerate(terms):
            for spelled, short in self._aliases_by_first.get(term, ()):
                if tuple(terms[i : i + len(spelled)]) == spelled and (spelled, short) not in found:
                    found.append((spelled, short))
        return found

    def knows(self, term: str) -> bool:
        """Whether ``term`` or a relative of it occurs anywhere in the knowledge base."""
        return term in self.sentence_bm25.idf or bool(self.relatives(term))

    def relatives(self, term: str) -> tuple[str, ...]:
        """Indexed terms derived from the same word as ``term`` ("brazilian" for "brazil").

        Two stems are relatives when one is the other plus an English derivational ending, or
        both are the same stem plus different endings: a shared prefix alone is not enough
        ("interest" is no relative of "internet").
        """
        found = self._relatives.get(term)
        if found is None:
            # Each look-up tries every ending on every key of the word: a few hundred probes.
            if len(self._relatives) >= RELATIVES_CACHE:
                self._relatives.clear()
            found = self._relatives[term] = tuple(self._find_relatives(term))
        return found

    def _find_relatives(self, term: str) -> list[str]:
        if len(term) < MIN_RELATIVE_STEM or term[0].isdigit():
            return []
        idf = self.sentence_bm25.idf
        found: list[str] = []
        for key in derivation_keys(term):
            # The indexed terms whose derivation keys hold ``key``: itself, and itself plus an ending.
            related = [key] if len(key) >= MIN_RELATIVE_STEM else []
            related += [key + ending for ending in DERIVATIONAL_SUFFIXES]
            for other in sorted(related):
                if other != term and other not in found and other in idf and key in derivation_keys(other):
                    found.append(other)
        return found

    def synonyms(self, term: str) -> list[str]:
        """Indexed stems of words sharing a common sense with stem ``term`` ("countri" for "nation")."""
        idf = self.sentence_bm25.idf
        return [s for s in synonyms(term) if s in idf]

    def correct_spelling(self, token: str) -> str | None:
        """The knowledge base's word closest to an unknown ``token``, if it is plainly a typo."""
        # Digits are never typos: "change4" is another mission, not a misspelt "change6".
        if len(token) < 5 or any(ch.isdigit() for ch in token) or token in self.surface_vocabulary:
            return None
        if token in self._corrections:
            return self._corrections[token]
        # OSA distance: a swapped pair of letters ("lanuch") is one slip, as a reader sees it.
        limit = 1 if len(token) < 9 else 2
        # Only words that could be that close are compared: an edit changes a length by one at
        # most, and adds or loses at most two of the letters a word holds. That test runs on
        # arrays of every word's letters and length, not on the words themselves.
        a = self.arrays.arrays
        key = np.uint64(_spelling_key(token))
        near = (np.abs(a["spell_length"] - len(token)) <= limit) & (
            np.bitwise_count(a["spell_key"] ^ key) <= 2 * limit
        )
        is_token = a["is_token"]
        fixed = self._closest(token, np.flatnonzero(near & is_token).tolist(), limit)
        if fixed is None:
            # Against the stems too: "lanuch" is one slip from "launch", which the documents may
            # only write as "launched".
            table, idf = self.strings.table, self.sentence_bm25.idf
            stems = [
                i for i in np.flatnonzero(near & ~is_token).tolist() if table[i].isalpha() and table[i] in idf
            ]
            fixed = self._closest(token, stems, limit)
        if len(self._corrections) >= CORRECTION_CACHE:
            self._corrections.clear()
        self._corrections[token] = fixed
        return fixed

    def _closest(self, token: str, candidates: list[int], limit: int) -> str | None:
        """The candidate word nearest ``token`` within ``limit`` edits; the first in sort order on a tie."""
        # Imported here: rapidfuzz takes 50 ms to load, and most processes never correct a word.
        from rapidfuzz.distance import OSA

        table = self.strings.table
        best: tuple[int, str] | None = None
        for i in candidates:
            word = table[i]
            distance = OSA.distance(token, word, score_cutoff=limit)
            if distance <= limit and (best is None or (distance, word) < best):
                best = distance, word
        return None if best is None else best[1]
