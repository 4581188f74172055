"""The processes benchmarks/scale.py measures: each runs in a fresh process and prints one JSON line.

``python benchmarks/scale_workers.py NAME PARAMS_JSON``. A script of its own, with only what the
workers need, so that a start-up measured in a worker is the start-up of what it runs, not of the
benchmark around it.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TOP_K = 10  # what the baselines retrieve per question
# A word of a question, as the questions are made and tantivy's query is written.
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


def rss_mib() -> float:
    """This process's resident set size now (Linux: /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_rss_mib() -> float:
    """This process's peak resident set size so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- workers: each runs in a fresh process and prints one JSON line ------------------------------


def _check_checkout() -> None:
    import bot

    if not Path(bot.__file__).resolve().is_relative_to(REPO):
        raise SystemExit(f"bot is imported from {bot.__file__}, not from this checkout {REPO}")


def _timed_answers(ask: Callable[[str], Any], questions: Sequence[str]) -> tuple[list[float], list[Any]]:
    """(seconds per question, what each returned), each asked once after a warm-up round of all."""
    for question in questions:
        ask(question)
    clock = time.perf_counter
    timings: list[float] = []
    results: list[Any] = []
    for question in questions:
        started = clock()
        result = ask(question)
        timings.append(clock() - started)
        results.append(result)
    return timings, results


def worker_citebot_build(params: dict[str, Any]) -> dict[str, Any]:
    from bot.core.knowledge import load_knowledge_dir
    from bot.core.service import QAService

    _check_checkout()
    before = rss_mib()
    started = time.perf_counter()
    knowledge = load_knowledge_dir(Path(params["knowledge"]))
    build = time.perf_counter() - started
    after = rss_mib()
    service = QAService(knowledge)
    timings, answers = _timed_answers(service.ask, params["questions"])
    return {
        "build_s": build,
        "sentences": knowledge.sentence_count,
        "documents": len(knowledge.documents),
        "growth_mib": after - before,
        "peak_mib": peak_rss_mib(),
        "timings": timings,
        "answered": sum(answer.answered for answer in answers),
    }


def worker_citebot_open(params: dict[str, Any]) -> dict[str, Any]:
    """What a bot does at start: open the application from the store, then answer."""
    import asyncio
    import gc

    # The bots start as `python -m bot run`: bot/__main__ imports the command line (the collector
    # paused), bot.cli.main() freezes what those imports made, and only then does `run` import the
    # runtime. Importing it before the freeze would add a full collection over everything.
    import bot.__main__  # noqa: F401

    gc.freeze()
    from bot.config import Settings
    from bot.runtime import Citebot

    _check_checkout()
    before = rss_mib()

    async def main() -> float:
        started = time.perf_counter()
        app = await Citebot.open(
            Settings(knowledge_dir=Path(params["knowledge"]), database_path=Path(params["database"]))
        )
        try:
            await app.ask(params["question"], log=False)
            return time.perf_counter() - started
        finally:
            await app.close()

    opened = asyncio.run(main())
    return {"open_s": opened, "growth_mib": rss_mib() - before}


def _bm25s_tokens(text: str | list[str], stemmer: Any) -> Any:
    import bm25s

    return bm25s.tokenize(text, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


def _bm25s_query(retriever: Any, stemmer: Any, question: str, corpus: Any = None) -> list[str]:
    tokens = _bm25s_tokens(question, stemmer)
    if not tokens[0]:
        return []
    k = min(TOP_K, retriever.scores["num_docs"])
    found = retriever.retrieve(tokens, corpus=corpus, k=k, show_progress=False, n_threads=1)
    return [str(doc) for doc in found.documents[0]]


def worker_bm25s_build(params: dict[str, Any]) -> dict[str, Any]:
    import bm25s
    import Stemmer

    before = rss_mib()
    stemmer = Stemmer.Stemmer("english")  # the Snowball stemmer citebot uses
    sentences = Path(params["lines"]).read_text(encoding="utf-8").splitlines()
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(sentences, stopwords="en", stemmer=stemmer, show_progress=False))
    build = time.perf_counter() - started
    after = rss_mib()
    timings, _ = _timed_answers(lambda q: _bm25s_query(retriever, stemmer, q, sentences), params["questions"])
    started = time.perf_counter()
    retriever.save(params["index"], corpus=sentences, show_progress=False)
    return {
        "build_s": build,
        "save_s": time.perf_counter() - started,
        "growth_mib": after - before,
        "peak_mib": peak_rss_mib(),
        "timings": timings,
    }


def worker_bm25s_open(params: dict[str, Any]) -> dict[str, Any]:
    import bm25s
    import Stemmer

    before = rss_mib()
    started = time.perf_counter()
    retriever = bm25s.BM25.load(params["index"], load_corpus=True)
    _bm25s_query(retriever, Stemmer.Stemmer("english"), params["question"])
    return {"open_s": time.perf_counter() - started, "growth_mib": rss_mib() - before}


def _tantivy_schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=True, tokenizer_name="en_stem")
    return builder.build()


def _tantivy_build(sentences: Sequence[str], path: str | None) -> Any:
    import tantivy

    index = tantivy.Index(_tantivy_schema(), path=path)
    writer = index.writer()
    for sentence in sentences:
        writer.add_document(tantivy.Document(text=sentence))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def _tantivy_query(index: Any, searcher: Any, question: str) -> list[str]:
    words = WORD.findall(question)
    if not words:
        return []
    # The words alone, lower-cased: the query language would read AND, OR, quotes and colons.
    query = index.parse_query(" ".join(w.lower().replace("'", " ") for w in words), ["text"])
    return [searcher.doc(address)["text"][0] for _, address in searcher.search(query, TOP_K).hits]


def worker_tantivy_build(params: dict[str, Any]) -> dict[str, Any]:
    before = rss_mib()
    sentences = Path(params["lines"]).read_text(encoding="utf-8").splitlines()
    Path(params["index"]).mkdir(parents=True)
    started = time.perf_counter()
    index = _tantivy_build(sentences, params["index"])
    build = time.perf_counter() - started
    del sentences
    after = rss_mib()
    searcher = index.searcher()
    timings, _ = _timed_answers(lambda q: _tantivy_query(index, searcher, q), params["questions"])
    return {"build_s": build, "growth_mib": after - before, "peak_mib": peak_rss_mib(), "timings": timings}


def worker_tantivy_open(params: dict[str, Any]) -> dict[str, Any]:
    import tantivy

    before = rss_mib()
    started = time.perf_counter()
    index = tantivy.Index.open(params["index"])
    _tantivy_query(index, index.searcher(), params["question"])
    return {"open_s": time.perf_counter() - started, "growth_mib": rss_mib() - before}


def _article_sentences() -> list[str]:
    """The default knowledge's sentences, split naively (a baseline reads and splits by itself)."""
    sentences: list[str] = []
    for path in sorted((REPO / "knowledge").glob("*.md")):
        body = re.sub(r"\A---\n.*?\n---\n", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
        for paragraph in re.split(r"\n\s*\n", body):
            sentences.extend(s for s in re.split(r"(?<=[.!?])\s+", paragraph.strip()) if s)
    return sentences


def worker_bm25s_article(params: dict[str, Any]) -> dict[str, Any]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    sentences = _article_sentences()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(sentences, stopwords="en", stemmer=stemmer, show_progress=False))
    return {"found": _bm25s_query(retriever, stemmer, params["question"], sentences)[:1]}


def worker_tantivy_article(params: dict[str, Any]) -> dict[str, Any]:
    index = _tantivy_build(_article_sentences(), None)
    return {"found": _tantivy_query(index, index.searcher(), params["question"])[:1]}


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "citebot-build": worker_citebot_build,
    "citebot-open": worker_citebot_open,
    "bm25s-build": worker_bm25s_build,
    "bm25s-open": worker_bm25s_open,
    "tantivy-build": worker_tantivy_build,
    "tantivy-open": worker_tantivy_open,
    "bm25s-article": worker_bm25s_article,
    "tantivy-article": worker_tantivy_article,
}


if __name__ == "__main__":
    name, params = sys.argv[1:3]
    print(json.dumps(WORKERS[name](json.loads(params))))
