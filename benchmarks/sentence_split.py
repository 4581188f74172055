"""Sentence splitting: speed and agreement with pysbd of citebot's splitter and its alternatives.

Run from the repository root:  python benchmarks/sentence_split.py  (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import lzma
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pysbd

from bot.core.documents import parse_document, spans_in
from bot.core.sentences import segment

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(os.environ.get("CITEBOT_EVAL_DIR", REPO.parent / "shared" / "eval"))
CORPUS = Path(os.environ.get("CITEBOT_BENCH_CORPUS", REPO.parent / "shared" / "bench" / "corpus.jsonl.xz"))

Spans = tuple[tuple[int, int], ...]


def trimmed(text: str, spans: Sequence[tuple[int, int]]) -> Spans:
    out = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return tuple(out)


def corpus_paragraphs(sentences: int, per: int) -> list[str]:
    """The corpus' first ``sentences`` sentences, ``per`` consecutive ones of a document a paragraph."""
    out: list[str] = []
    count = 0
    with lzma.open(CORPUS, "rt") as lines:
        for line in lines:
            document = [s for p in json.loads(line)["paragraphs"] for s in p][: sentences - count]
            out.extend(" ".join(document[i : i + per]) for i in range(0, len(document), per))
            count += len(document)
            if count >= sentences:
                break
    return out


def document_paragraphs(paths: Sequence[Path]) -> list[str]:
    return [p.text for path in paths for p in parse_document(path.read_text(), path.name).paragraphs]


def candidates(alternatives: bool) -> dict[str, Callable[[str], Spans]]:
    plain = pysbd.Segmenter(language="en", clean=False)
    found: dict[str, Callable[[str], Spans]] = {
        "pysbd 0.3.4 (before)": lambda t: spans_in(plain.segment(t), t),
        "citebot segment (after)": lambda t: spans_in(segment(t), t),
    }
    if not alternatives:
        return found

    def larger_cache(text: str) -> Spans:
        saved, re._MAXCACHE = re._MAXCACHE, 100_000  # type: ignore[attr-defined]
        try:
            return spans_in(plain.segment(text), text)
        finally:
            re._MAXCACHE = saved  # type: ignore[attr-defined]

    found["pysbd, re._MAXCACHE=100000"] = larger_cache
    try:
        import blingfire

        found["blingfire"] = lambda t: trimmed(t, blingfire.text_to_sentences_and_offsets(t)[1])
    except ImportError:
        pass
    try:
        import sentencex

        found["sentencex"] = lambda t: spans_in(list(sentencex.segment("en", t)), t)
    except ImportError:
        pass
    try:
        import syntok.segmenter

        found["syntok"] = lambda t: trimmed(
            t,
            [
                (s[0].offset, s[-1].offset + len(s[-1].value))
                for paragraph in syntok.segmenter.analyze(t)
                for s in paragraph
            ],
        )
    except ImportError:
        pass
    try:
        import nupunkt

        found["nupunkt"] = lambda t: trimmed(t, nupunkt.sent_spans(t))
    except ImportError:
        pass
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=100_000, help="corpus sentences (default 100,000)")
    parser.add_argument("--per", type=int, default=4, help="corpus sentences per paragraph (default 4)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per set; the median is shown")
    parser.add_argument(
        "--alternatives", action="store_true", help="also pysbd with a larger re cache and other splitters"
    )
    args = parser.parse_args()
    sets = {
        f"corpus {args.sentences:,}": corpus_paragraphs(args.sentences, args.per),
        "article": document_paragraphs(sorted((REPO / "knowledge").glob("*.md"))),
        "squad-dev": document_paragraphs(sorted(EVAL_DIR.glob("squad-dev/*/*.md"))),
        "wikiqa-dev": document_paragraphs(sorted(EVAL_DIR.glob("wikiqa-dev/knowledge/*.md"))),
    }
    splitters = candidates(args.alternatives)
    reference: dict[str, list[Spans]] = {}
    print("sentences/s and share of paragraphs split exactly as pysbd splits them")
    for name, split in splitters.items():
        for text in sets["article"]:
            split(text)  # warm up
        cells = []
        for set_name, paragraphs in sets.items():
            times = []
            for _ in range(args.repeat):
                gc.collect()
                started = time.perf_counter()
                out = [split(p) for p in paragraphs]
                times.append(time.perf_counter() - started)
            reference.setdefault(set_name, out)
            ref = reference[set_name]
            count = sum(len(s) for s in ref)
            same = sum(a == b for a, b in zip(out, ref, strict=True)) / len(paragraphs)
            cells.append(f"{set_name}: {count / statistics.median(times):>9,.0f}/s {same:7.2%}")
        print(f"{name:28} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
