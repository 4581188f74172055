"""The searchable form of a knowledge base: BM25 over sentences, paragraphs and titles.

Sentences are the unit of an answer; paragraphs and titles are their context. A sentence that
says "It was launched in May" is found through the paragraph and the title that name "it".
Postings are numpy arrays, so scoring a question costs a few vector additions whatever the size
of the knowledge. Everything a question later needs of a sentence (its terms, the kinds of
answer it can give) is computed here, once per knowledge version.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.documents import Document, Sentence
from bot.core.english import ALIAS_CUE, DERIVATIONAL_SUFFIXES, NAME_JOINERS, PRONOUNS
from bot.core.lexicon import synonyms
from bot.core.mentions import Mention, answer_mentions
from bot.core.text import content_terms, tokenize

__all__ = [
    "BM25",
    "Aliases",
    "IndexedSentence",
    "KnowledgeIndex",
    "bracketed",
    "defined_terms",
    "derivation_keys",
    "find_aliases",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Okapi BM25 parameters; b is low because short sentences are not more relevant for being short.
BM25_K1 = 1.2
BM25_B = 0.5
# A stem this short has too many unrelated extensions to count relatives ("art"/"artist").
MIN_RELATIVE_STEM = 4
# Unknown words whose spelling correction is remembered, per index.
CORRECTION_CACHE = 4096


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


@dataclass
class BM25:
    """BM25 scores of a bag of terms over a fixed collection of term lists."""

    size: int
    postings: dict[str, tuple[IntArray, FloatArray]] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, collection: Sequence[Sequence[str]]) -> BM25:
        """Index ``collection`` (one list of terms per unit)."""
        size = len(collection)
        lengths = np.array([len(terms) for terms in collection], dtype=np.float64)
        average = float(lengths.mean()) if size and lengths.sum() else 1.0
        norms = BM25_K1 * (1 - BM25_B + BM25_B * lengths / average)
        ids: dict[str, list[int]] = defaultdict(list)
        tfs: dict[str, list[float]] = defaultdict(list)
        for unit, terms in enumerate(collection):
            for term, count in Counter(terms).items():
                ids[term].append(unit)
                tfs[term].append(count)
        index = cls(size)
        for term, units in ids.items():
            unit_array = np.array(units, dtype=np.int64)
            tf = np.array(tfs[term], dtype=np.float64)
            df = len(units)
            # The +1 inside the log keeps idf positive for terms in more than half the units.
            idf = math.log(1 + (size - df + 0.5) / (df + 0.5))
            index.idf[term] = idf
            weights = idf * tf * (BM25_K1 + 1) / (tf + norms[unit_array])
            index.postings[term] = (unit_array, weights)
        return index

    def scores(self, terms: dict[str, float]) -> FloatArray:
        """BM25 score of every unit for ``terms`` (term -> query weight)."""
        total = np.zeros(self.size, dtype=np.float64)
        for term, weight in terms.items():
            posting = self.postings.get(term)
            if posting is not None:
                units, weights = posting
                total[units] += weight * weights
        return total


# Capitalised words, possibly joined by a few small words: "Negative Ions at the Lunar Surface".
_JOINERS = "|".join(sorted(NAME_JOINERS))
_NAME_RUN = re.compile(rf"[A-Z][\w'’-]*(?:\s+(?:(?:{_JOINERS})\s+)*[A-Z][\w'’-]*)+")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
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


def find_aliases(texts: Iterable[str]) -> Aliases:
    """Names the texts also write as one short form: ("european", "space", "agenc") -> "esa".

    Only pairs the texts themselves attest count: an acronym used in the texts whose letters are
    the initials of a run of capitalised words, or a short form in brackets after the words it
    abbreviates ("an antibody (Ab)"). No outside list of abbreviations is needed.
    """
    texts = list(texts)
    found: Aliases = {}

    def add(phrase: str, short: str) -> None:
        key = tuple(content_terms(tokenize(phrase)))
        term = content_terms(tokenize(short))
        if key and term and key != (term[0],):
            found.setdefault(key, term[0])

    acronyms = {m.group().rstrip("s") for text in texts for m in _ACRONYM.finditer(text)}
    for text in texts:
        for words, short in bracketed(text):
            for size in range(1, len(words) + 1):
                if _initials_match(short, words[-size:]):
                    add(" ".join(words[-size:]), short)
                    break
        if not acronyms:
            continue
        for run in _NAME_RUN.finditer(text):
            words = run.group().split()
            capitals = [i for i, w in enumerate(words) if w[0].isupper()]
            for a, first in enumerate(capitals):
                for b in range(a + 1, min(len(capitals), a + 7)):
                    initials = "".join(words[i][0] for i in capitals[a : b + 1])
                    if initials in acronyms:
                        add(" ".join(words[first : capitals[b] + 1]), initials)
    return found


# Words either side of "also known as" that name the two names of one thing.
ALIAS_REACH = 6
_NOTHING: frozenset[str] = frozenset()


def defined_terms(text: str, aliases: Aliases) -> frozenset[str]:
    """The terms ``text`` defines: a short form with what it abbreviates, or two names of one thing."""
    found: set[str] = set()
    for before, bracket in bracketed(text):
        words = content_terms(tokenize(" ".join(before)))
        short = content_terms(tokenize(bracket))
        for size in range(1, len(words) + 1):
            if short and aliases.get(tuple(words[-size:])) == short[0]:
                found.update(words[-size:])
                found.add(short[0])
    for cue in ALIAS_CUE.finditer(text):
        before = content_terms(tokenize(text[: cue.start()]))[-ALIAS_REACH:]
        after = content_terms(tokenize(text[cue.end() :]))[:ALIAS_REACH]
        found.update(before + after)
    return frozenset(found) if found else _NOTHING


@lru_cache(maxsize=65536)
def derivation_keys(term: str) -> tuple[str, ...]:
    """The stems ``term`` could be a derivation of: itself and itself minus each known suffix."""
    keys = [term]
    for size in range(1, 6):
        if len(term) - size >= MIN_RELATIVE_STEM and term[-size:] in DERIVATIONAL_SUFFIXES:
            keys.append(term[:-size])
    return tuple(keys)


class KnowledgeIndex:
    """Everything the answer path needs about a set of documents, built once per knowledge version."""

    def __init__(self, documents: Sequence[Document]) -> None:
        """Analyse and index ``documents``."""
        self.documents: tuple[Document, ...] = tuple(documents)
        self.sentences: list[IndexedSentence] = []
        self.paragraph_keys: list[tuple[int, int]] = []  # (doc position, paragraph number)
        self.paragraph_sentences: list[range] = []
        paragraph_terms: list[list[str]] = []
        self.aliases = find_aliases(
            [d.title for d in self.documents] + [s.text for d in self.documents for s in d.sentences]
        )
        # By first word, so a question is checked only against names that could start in it.
        self._aliases_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for spelled, short in self.aliases.items():
            self._aliases_by_first[spelled[0]].append((spelled, short))
        self.title_terms: list[frozenset[str]] = []
        # The texts name things the same way throughout: "ESA (European Space Agency)" once is enough.
        for doc_pos, document in enumerate(self.documents):
            self.title_terms.append(frozenset(content_terms(tokenize(document.title))))
            for paragraph in document.paragraphs:
                para_pos = len(self.paragraph_keys)
                self.paragraph_keys.append((doc_pos, paragraph.number))
                first = len(self.sentences)
                terms_here: list[str] = []
                for sentence in paragraph.sentences:
                    tokens = tokenize(sentence.text)
                    terms = content_terms(tokens)
                    terms_here.extend(terms)
                    self.sentences.append(
                        IndexedSentence(
                            doc_pos,
                            para_pos,
                            sentence,
                            tuple(tokens),
                            tuple(terms),
                            answer_mentions(sentence.text),
                            sentence.start == document.paragraphs[0].sentences[0].start,
                            bool(tokens) and tokens[0] in PRONOUNS,
                            defined_terms(sentence.text, self.aliases),
                        )
                    )
                self.paragraph_sentences.append(range(first, len(self.sentences)))
                paragraph_terms.append(terms_here)
        self.paragraph_terms: list[frozenset[str]] = [frozenset(terms) for terms in paragraph_terms]
        self.sentence_bm25 = BM25.build([s.terms for s in self.sentences])
        self.paragraph_bm25 = BM25.build(paragraph_terms)
        self.title_bm25 = BM25.build([sorted(t) for t in self.title_terms])
        self.sentence_paragraph: IntArray = np.array([s.paragraph for s in self.sentences], dtype=np.int64)
        self.sentence_doc: IntArray = np.array([s.doc for s in self.sentences], dtype=np.int64)
        self.lead_sentences: list[int] = []  # position of each document's first sentence
        self._positions: dict[tuple[str, int], int] = {}
        for position, indexed in enumerate(self.sentences):
            if indexed.lead:
                self.lead_sentences.append(position)
            self._positions[self.documents[indexed.doc].id, indexed.sentence.start] = position
        self.vocabulary: list[str] = sorted(self.sentence_bm25.idf)
        self.surface_vocabulary: frozenset[str] = frozenset(t for s in self.sentences for t in s.tokens)
        self._surface_list = sorted(self.surface_vocabulary)
        self._stem_list = [t for t in self.vocabulary if t.isalpha() and t not in self.surface_vocabulary]
        self._corrections: dict[str, str | None] = {}
        self._by_relative_key: dict[str, list[str]] = defaultdict(list)
        for term in self.vocabulary:
            if not term[0].isdigit():
                for key in derivation_keys(term):
                    self._by_relative_key[key].append(term)
        # idf of a term absent from the knowledge base: rarer than any term it holds.
        self.unseen_idf = math.log(1 + (len(self.sentences) + 0.5) / 0.5)

    def position(self, doc_id: str, sentence: Sentence) -> int:
        """Where ``sentence`` of document ``doc_id`` is in :attr:`sentences`."""
        return self._positions[doc_id, sentence.start]

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

    def relatives(self, term: str) -> list[str]:
        """Indexed terms derived from the same word as ``term`` ("brazilian" for "brazil").

        Two stems are relatives when one is the other plus an English derivational ending, or
        both are the same stem plus different endings: a shared prefix alone is not enough
        ("interest" is no relative of "internet").
        """
        if len(term) < MIN_RELATIVE_STEM or term[0].isdigit():
            return []
        found: list[str] = []
        for key in derivation_keys(term):
            for other in self._by_relative_key.get(key, ()):
                if other != term and other not in found:
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
        found = process.extractOne(token, self._surface_list, scorer=OSA.distance, score_cutoff=limit)
        if found is None:
            # Against the stems too: "lanuch" is one slip from "launch", which the documents may
            # only write as "launched".
            found = process.extractOne(token, self._stem_list, scorer=OSA.distance, score_cutoff=limit)
        fixed = None if found is None else str(found[0])
        # A scan of the whole vocabulary per unknown word: remember the answer, in bounded space.
        if len(self._corrections) >= CORRECTION_CACHE:
            self._corrections.clear()
        self._corrections[token] = fixed
        return fixed
