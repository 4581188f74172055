"""Answer speed, index build time and memory of citebot's core, against fixed floors.

Run from the repository root:  python benchmarks/speed.py  (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.documents import Document, parse_document
from bot.core.knowledge import KnowledgeBase, build_knowledge, load_knowledge_dir
from bot.core.service import QAService
from bot.core.text import STOP_WORDS, tokenize

REPO = Path(__file__).resolve().parents[1]
DEFAULT_KNOWLEDGE = REPO / "knowledge"
# The development data sits in ../shared/eval next to a checkout (CITEBOT_EVAL_DIR elsewhere).
EVAL_DIR = Path(os.environ.get("CITEBOT_EVAL_DIR", REPO.parent / "shared" / "eval"))
# Only the knowledge documents of the SQuAD sample are read, never its question files.
SQUAD_DOCUMENTS = EVAL_DIR / "squad-dev"
TARGET_SENTENCES = 100_000

ARTICLE_FLOOR_P99_MS = 2.0
LARGE_FLOOR_P99_MS = 20.0
COLD_ASK_FLOOR_S = 1.0
LONG_LIST_FLOOR_MS = 100.0

# The longest question MAX_QUESTION_CHARS allows, a list of numbers sharing one name: every
# number of it is named in one scan of the text, not one scan per number.
LONG_LIST_CHARS = 4000
LONG_LIST_QUESTION = "Which of Chang'e-" + ", ".join(str(n % 1000) for n in range(1, 1000))
LONG_LIST_QUESTION = LONG_LIST_QUESTION[:LONG_LIST_CHARS]

ARTICLE_QUESTIONS = [
    "Who tracked Chang'e-6?",
    "Which station will track Chang’e-6 when it comes back?",
    "who trackd change6",
    "What did ESA provide for the mission?",
    "When did Chang'e-6 launch?",
    "What is the aim of the Chang'e-6 mission?",
    "Where did the lander touch down?",
    "Which crater did Chang'e-6 sample?",
    "What does NILS stand for?",
    "What did the NILS instrument detect?",
    "Who built the instrument on the lander?",
    "What is China planning for the lunar south pole?",
    "When will Chang'e-7 launch?",
    "Is ESA going to work on Chang'e-8?",
    "Will ESA join the ILRS?",
    "Why won't ESA cooperate on ILRS?",
    "Will European astronauts visit Tiangong?",
    "Where was the ILRS roadmap presented?",
    "When will the moon base be built?",
    "Will the base host crewed missions?",
    "How did the invasion of Ukraine change things?",
    "Where will the ILRS be headquartered?",
    "What is DSEL?",
    "How many countries have joined the ILRS?",
    "Has Turkey applied to join?",
    "What did Putin sign on June 12?",
    "How many nations signed the Artemis Accords?",
    "Which Accords signatory works with Egypt?",
    "What are Bahrain and Egypt developing for Chang'e-7?",
    "Which commercial space stations did ESA sign agreements on?",
    "When will the samples return to Earth?",
    "Where are the samples now?",
    "Who wrote the article?",
    "Is cooperation with China over?",
    "What did ESA say about plasma on the moon?",
    "hello",
    "thanks!",
    "what can you do?",
]
OFF_TOPIC_QUESTIONS = [
    "What is the capital of France?",
    "Who won the 2022 World Cup?",
    "How do I bake sourdough bread?",
    "qwertyuiop",
    "When did Chang'e-5 launch?",
    "What is the boiling point of mercury?",
    "Which programming language is fastest?",
    "How tall is Mount Everest?",
    "Tell me a joke about penguins",
    "🚀🌕?",
]


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    metric: str
    value: float
    unit: str
    floor: float | None = None  # the value must stay at or below it

    def cells(self) -> tuple[str, str, str, str]:
        """The row's printed cells."""
        value = f"{self.value:,.3f} {self.unit}" if self.value < 100 else f"{self.value:,.0f} {self.unit}"
        if self.floor is None:
            return self.metric, value, "", ""
        return (
            self.metric,
            value,
            f"<= {self.floor:g} {self.unit}",
            "ok" if self.value <= self.floor else "SLOW",
        )


def time_questions(service: QAService, questions: Sequence[str], repeat: int) -> list[float]:
    """Seconds per ``service.ask`` call, every question ``repeat`` times after one warm-up round."""
    for question in questions:
        service.ask(question)
    timings: list[float] = []
    clock = time.perf_counter
    for _ in range(repeat):
        for question in questions:
            started = clock()
            service.ask(question)
            timings.append(clock() - started)
    return timings


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def speed_rows(label: str, timings: Sequence[float], floor_ms: float) -> list[Row]:
    """Median, p99 and throughput rows for one knowledge base."""
    return [
        Row(f"{label}: median answer", 1000 * statistics.median(timings), "ms"),
        Row(f"{label}: p99 answer", 1000 * percentile(timings, 0.99), "ms", floor_ms),
        Row(f"{label}: questions/s", len(timings) / sum(timings), "q/s"),
    ]


def squad_copies(target_sentences: int) -> list[Document]:
    """The SQuAD knowledge documents repeated under new titles and ids until ``target_sentences``."""
    paths = sorted(SQUAD_DOCUMENTS.glob("*/*.md"))
    if not paths:
        sys.exit(f"no knowledge documents found under {SQUAD_DOCUMENTS} (set CITEBOT_EVAL_DIR)")
    originals = [parse_document(path.read_text(encoding="utf-8"), str(path)) for path in paths]
    # Without its title line, each copy takes the title given to parse_document.
    untitled = [re.sub(r"(?m)^title:.*\n", "", path.read_text(encoding="utf-8"), count=1) for path in paths]
    documents: list[Document] = []
    sentences = 0
    copy = 0
    while sentences < target_sentences:
        copy += 1
        for path, original, text in zip(paths, originals, untitled, strict=True):
            document = parse_document(
                text,
                f"{path}#copy{copy}",
                doc_id=f"{original.id}-{copy}",
                title=f"{original.title} (copy {copy})",
            )
            documents.append(document)
            sentences += len(document.sentences)
    return documents


def fragment_questions(knowledge: KnowledgeBase, count: int, seed: int = 6) -> list[str]:
    """Questions made of a few content words of random sentences, asked the way people do."""
    rng = random.Random(seed)
    starts = ["What about", "Tell me about", "Who", "When did", "Why", "Where is", "How many", "What"]
    questions: list[str] = []
    while len(questions) < count:
        sentence = rng.choice(knowledge.index.sentences).sentence.text
        words = [w for w in tokenize(sentence) if w not in STOP_WORDS and not w.isdigit()]
        if len(words) < 3:
            continue
        size = rng.randint(2, min(6, len(words)))
        at = rng.randint(0, len(words) - size)
        questions.append(f"{rng.choice(starts)} {' '.join(words[at : at + size])}?")
    return questions


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def timed(action: Callable[[], object]) -> tuple[object, float]:
    """``action()`` and the seconds it took."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def cold_ask_seconds(runs: int) -> list[float]:
    """Wall time of ``python -m bot ask`` in a fresh interpreter, ``runs`` times."""
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "Who tracked Chang'e-6?"],
            cwd=REPO,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return times


def print_table(rows: Sequence[Row]) -> None:
    """Print ``rows`` as an aligned text table."""
    header = ("metric", "value", "floor", "")
    cells = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(4)]
    for number, line in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and print the table; exit 1 if a figure misses its floor."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=20, help="rounds over the article questions (default 20)"
    )
    parser.add_argument(
        "--large-questions", type=int, default=300, help="questions on the large base (default 300)"
    )
    parser.add_argument("--sentences", type=int, default=TARGET_SENTENCES, help="size of the large base")
    parser.add_argument("--cold-runs", type=int, default=5, help="cold `python -m bot ask` runs (default 5)")
    args = parser.parse_args(argv)
    if not SQUAD_DOCUMENTS.is_dir():  # before a minute of measuring, not after
        sys.exit(f"no development data in {SQUAD_DOCUMENTS}: set CITEBOT_EVAL_DIR to the eval folder")
    rows: list[Row] = []

    article, seconds = timed(lambda: load_knowledge_dir(DEFAULT_KNOWLEDGE))
    assert isinstance(article, KnowledgeBase)
    rows.append(Row(f"article: load + index ({article.sentence_count} sentences)", 1000 * seconds, "ms"))
    questions = ARTICLE_QUESTIONS + OFF_TOPIC_QUESTIONS
    rows += speed_rows(
        "article", time_questions(QAService(article), questions, args.repeat), ARTICLE_FLOOR_P99_MS
    )

    long_list = QAService(article, max_question_chars=LONG_LIST_CHARS)
    rows.append(
        Row(
            f"article: a {len(LONG_LIST_QUESTION):,}-character number list (median of 5)",
            1000 * statistics.median(time_questions(long_list, [LONG_LIST_QUESTION], 5)),
            "ms",
            LONG_LIST_FLOOR_MS,
        )
    )

    rss_before = peak_rss_mib()
    documents, parse_seconds = timed(lambda: squad_copies(args.sentences))
    assert isinstance(documents, list)
    large, build_seconds = timed(lambda: build_knowledge(documents))
    assert isinstance(large, KnowledgeBase)
    label = f"{large.sentence_count:,} sentences"
    rows.append(Row(f"{label}: parse {len(documents)} documents", parse_seconds, "s"))
    rows.append(Row(f"{label}: index build", build_seconds, "s"))
    rows.append(Row(f"{label}: peak memory (RSS; {rss_before:.0f} MiB before)", peak_rss_mib(), "MiB"))
    large_questions = fragment_questions(large, args.large_questions) + OFF_TOPIC_QUESTIONS
    rows += speed_rows(label, time_questions(QAService(large), large_questions, 1), LARGE_FLOOR_P99_MS)

    cold = cold_ask_seconds(args.cold_runs)
    rows.append(
        Row(
            f"cold `python -m bot ask` (median of {len(cold)})",
            statistics.median(cold),
            "s",
            COLD_ASK_FLOOR_S,
        )
    )

    print_table(rows)
    return 1 if any(row.floor is not None and row.value > row.floor for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
