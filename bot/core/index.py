"""A BM25 index over every sentence and every paragraph of the knowledge base.

Sentences are the unit of an answer, paragraphs their context: a sentence that says "It was
launched in May" is found through the paragraph that names "it". Postings are numpy arrays so
that scoring a question costs a few vector additions, whatever the size of the knowledge base.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.documents import Document, Sentence
from bot.core.questions import Mention, answer_mentions
from bot.core.text import content_terms, tokenize

__all__ = ["BM25", "Acronyms", "IndexedSentence", "KnowledgeIndex", "find_acronyms"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Okapi BM25 parameters; b is low because short sentences are not more relevant for being short.
BM25_K1 = 1.2
BM25_B = 0.5
# Terms sharing this many leading letters are treated as likely relatives ("brazil"/"brazilian").
PREFIX_CHARS = 5


@dataclass(frozen=True, slots=True)
class IndexedSentence:
    """A sentence with where it lives and its analysed terms."""

    doc: int  # position in KnowledgeIndex.documents
    paragraph: int  # global paragraph position in KnowledgeIndex.paragraph_keys
    sentence: Sentence
    tokens: tuple[str, ...]  # folded surface tokens
    terms: tuple[str, ...]  # stemmed content terms, in order
    mentions: tuple[Mention, ...]  # dates, numbers, names...: what kinds of answer it can give


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
_NAME_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|and|for|the|at|on|de|du|la|le)\s+)*[A-Z][\w'’-]*)+")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
Acronyms = dict[tuple[str, ...], str]


def find_acronyms(texts: Iterable[str]) -> Acronyms:
    """Spelled-out names whose acronym the texts also use: ("european", "space", "agenc") -> "esa".

    Only pairs the texts themselves attest count, so no outside list of abbreviations is needed.
    """
    texts = list(texts)
    acronyms = {m.group().rstrip("s") for text in texts for m in _ACRONYM.finditer(text)}
    found: Acronyms = {}
    if not acronyms:
        return found
    for text in texts:
        for run in _NAME_RUN.finditer(text):
            words = run.group().split()
            capitals = [i for i, w in enumerate(words) if w[0].isupper()]
            for a, first in enumerate(capitals):
                for b in range(a + 1, min(len(capitals), a + 7)):
                    initials = "".join(words[i][0] for i in capitals[a : b + 1])
                    if initials in acronyms:
                        phrase = " ".join(words[first : capitals[b] + 1])
                        key = tuple(content_terms(tokenize(phrase)))
                        term = content_terms(tokenize(initials))
                        if len(key) >= 2 and term:
                            found.setdefault(key, term[0])
    return found


class KnowledgeIndex:
    """Everything the matcher needs about a set of documents, built once per knowledge version."""

    def __init__(self, documents: Sequence[Document]) -> None:
        """Analyse and index ``documents``."""
        self.documents: tuple[Document, ...] = tuple(documents)
        self.sentences: list[IndexedSentence] = []
        self.paragraph_keys: list[tuple[int, int]] = []  # (doc position, paragraph number)
        self.paragraph_sentences: list[range] = []
        paragraph_terms: list[list[str]] = []
        self.acronyms = find_acronyms(s.text for d in self.documents for s in d.sentences)
        # By first word, so a question is checked only against names that could start in it.
        self._acronyms_by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for spelled, acronym in self.acronyms.items():
            self._acronyms_by_first[spelled[0]].append((spelled, acronym))
        for doc_pos, document in enumerate(self.documents):
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
                        )
                    )
                self.paragraph_sentences.append(range(first, len(self.sentences)))
                paragraph_terms.append(terms_here)
        self.paragraph_terms: list[frozenset[str]] = [frozenset(terms) for terms in paragraph_terms]
        self.sentence_bm25 = BM25.build([s.terms for s in self.sentences])
        self.paragraph_bm25 = BM25.build(paragraph_terms)
        self.sentence_paragraph: IntArray = np.array([s.paragraph for s in self.sentences], dtype=np.int64)
        self.vocabulary: list[str] = sorted(self.sentence_bm25.idf)
        self.surface_vocabulary: frozenset[str] = frozenset(t for s in self.sentences for t in s.tokens)
        self._surface_list = sorted(self.surface_vocabulary)
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        for term in self.vocabulary:
            if len(term) >= PREFIX_CHARS and not term[0].isdigit():
                self._by_prefix[term[:PREFIX_CHARS]].append(term)
        # idf of a term absent from the knowledge base: rarer than any term it holds.
        self.unseen_idf = math.log(1 + (len(self.sentences) + 0.5) / 0.5)

    def idf(self, term: str) -> float:
        """Sentence-level idf of ``term``; unseen terms get the highest idf there is."""
        return self.sentence_bm25.idf.get(term, self.unseen_idf)

    def spelled_out(self, terms: Sequence[str]) -> list[tuple[tuple[str, ...], str]]:
        """(spelled-out name, acronym) for each name the knowledge defines that ``terms`` spell out."""
        found: list[tuple[tuple[str, ...], str]] = []
        for i, term in enumerate(terms):
            for spelled, acronym in self._acronyms_by_first.get(term, ()):
                if tuple(terms[i : i + len(spelled)]) == spelled and (spelled, acronym) not in found:
                    found.append((spelled, acronym))
        return found

    def knows(self, term: str) -> bool:
        """Whether ``term`` or a relative of it occurs anywhere in the knowledge base."""
        return term in self.sentence_bm25.idf or bool(self.relatives(term))

    def relatives(self, term: str) -> list[str]:
        """Indexed terms that share ``term``'s first letters: variants the stemmer did not merge."""
        if len(term) < PREFIX_CHARS or term[0].isdigit():
            return []
        return [t for t in self._by_prefix.get(term[:PREFIX_CHARS], ()) if t != term]

    def correct_spelling(self, token: str) -> str | None:
        """The knowledge base's word closest to an unknown ``token``, if it is plainly a typo."""
        # Digits are never typos: "change4" is another mission, not a misspelt "change6".
        if len(token) < 5 or any(ch.isdigit() for ch in token) or token in self.surface_vocabulary:
            return None
        # OSA distance: a swapped pair of letters ("lanuch") is one slip, as a reader sees it.
        limit = 1 if len(token) < 9 else 2
        found = process.extractOne(token, self._surface_list, scorer=OSA.distance, score_cutoff=limit)
        if found is None:
            return None
        return str(found[0])
