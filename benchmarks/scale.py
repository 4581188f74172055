"""Knowledge at scale (issue 11): citebot beside bm25s and tantivy on the same corpus, against floors.

Run from the repository root:  python benchmarks/scale.py [--sizes 100k,1M] [--quick]
(needs ``pip install bm25s tantivy``; see benchmarks/README.md).

The knowledge is written as Markdown files from the benchmark corpus (514,376 unique real
sentences, ``../shared/bench/corpus.jsonl.xz`` or ``CITEBOT_BENCH_CORPUS``); 1M uses the corpus
twice under new titles. Every build and every start-up runs in a fresh process of its own, so a
peak resident set size is that process's ``ru_maxrss`` and a memory figure is the process's RSS
after it built or opened its index and answered, minus its RSS after its imports only. citebot is
driven only through its public entry points: ``python -m bot ...``, ``load_knowledge_dir``,
``QAService`` and ``Citebot``. Exits 1 when a figure misses its floor.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import lzma
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_workers import REPO, TOP_K, WORD  # this folder: the script's own

SCRIPT = Path(__file__).resolve()
# The measured processes: a script of their own, which imports nothing this one needs to run the
# benchmark (its own imports took 40 ms of every start-up measured in a worker).
WORKER_SCRIPT = SCRIPT.with_name("scale_workers.py")
CORPUS = Path(os.environ.get("CITEBOT_BENCH_CORPUS", REPO.parent / "shared" / "bench" / "corpus.jsonl.xz"))
CACHE = Path(tempfile.gettempdir()) / "citebot-scale-cache"
# Bump when the generated knowledge changes shape, so cached folders are made again.
GENERATOR_VERSION = "1"
PARAGRAPHS_PER_FILE = 300  # a knowledge file holds about this many paragraphs
SEED = 11
COLD_QUESTION = "Who tracked Chang'e-6?"

# Floors of issue 11, by the base size they are set for. A base of another size is held to the
# floors of the next size up (a 10k smoke run to those of 100k).
FLOORS: dict[int, dict[str, float]] = {
    100_000: {"build_s": 10.0, "startup_s": 0.5, "memory_mib": 150.0, "p50_ms": 2.0, "p99_ms": 10.0},
    1_000_000: {
        "build_s": 60.0,
        "peak_mib": 2048.0,
        "startup_s": 1.0,
        "memory_mib": 1024.0,
        "p50_ms": 10.0,
        "p99_ms": 40.0,
    },
}
ADD_FLOOR_S = 20.0  # `kb add` of a 20 MB Markdown document
COLD_ASK_FLOOR_S = 0.4

# Asked beside the questions made from the corpus (as in speed.py): nothing in the base answers them.
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
QUESTION_STARTS = ["What about", "Tell me about", "Who", "When did", "Why", "Where is", "How many", "What"]
# Left out of the questions' content words; a short list of our own, so that the questions do not
# change when the engine's tokenizer or stop words do.
STOP_WORDS = frozenset(
    """a about above after again all also an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how if in into is it its itself just may might more most
    must no nor not now of off on once only or other our out over own same shall she should so some
    such than that the their them then there these they this those through to too under until up
    use used uses using very was we were what when where which while who whom why will with would
    you your""".split()
)
# Settings that a caller's environment could set and that would change what is measured.
CITEBOT_ENV = (
    "KNOWLEDGE_DIR",
    "DATABASE_PATH",
    "LOG_QUESTIONS",
    "MINIMUM_CONFIDENCE",
    "MAX_QUESTION_CHARS",
    "CACHE_DIR",
)


# -- the corpus and the generated knowledge ------------------------------------------------------


def corpus_documents() -> Iterator[tuple[str, list[str]]]:
    """(source name, its sentences in order) for every document of the corpus."""
    with lzma.open(CORPUS, "rt", encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            yield doc["doc"], [sentence for paragraph in doc["paragraphs"] for sentence in paragraph]


def base_documents(sentences: int) -> Iterator[tuple[int, str, list[str]]]:
    """(copy, source, sentences) until ``sentences`` in all; past the corpus, it starts again (copy 2)."""
    left = sentences
    copy = 0
    while left > 0:
        copy += 1
        before = left
        for name, text in corpus_documents():
            yield copy, name, text[:left]
            left -= min(left, len(text))
            if left == 0:
                return
        if left == before:
            sys.exit(f"the corpus {CORPUS} holds no sentences")


def _paragraphs(sentences: list[str], rng: random.Random) -> list[str]:
    """A few consecutive sentences of one source per paragraph (2 to 5; fewer at the end)."""
    paragraphs: list[str] = []
    at = 0
    while at < len(sentences):
        size = rng.randint(2, 5)
        paragraphs.append(" ".join(sentences[at : at + size]))
        at += size
    return paragraphs


def _section(name: str) -> str:
    """A Markdown heading naming a corpus source (its paragraphs are never quoted as answers)."""
    return "## " + re.sub(r"#\d+$", "", name)


def _front_matter(title: str, url: str) -> str:
    return f"---\ntitle: {json.dumps(title)}\nurl: {url}\n---\n\n"


def write_knowledge(folder: Path, sentences: int) -> None:
    """Markdown files holding the first ``sentences`` of the corpus, about 300 paragraphs each."""
    rng = random.Random(SEED)
    folder.mkdir(parents=True)
    blocks: list[str] = []
    count = 0
    part = 0
    current_copy = 1

    def flush(copy: int) -> None:
        nonlocal blocks, count, part
        if not blocks:
            return
        part += 1
        title = f"Reference notes {part}" + (f" (copy {copy})" if copy > 1 else "")
        url = f"https://example.org/reference/{copy}/{part}"
        text = _front_matter(title, url) + "\n\n".join(blocks) + "\n"
        (folder / f"copy{copy}-part{part:05d}.md").write_text(text, encoding="utf-8")
        blocks, count = [], 0

    for copy, name, text in base_documents(sentences):
        if copy != current_copy:
            flush(current_copy)
            current_copy, part = copy, 0
        paragraphs = _paragraphs(text, rng)
        blocks.append(_section(name) + "\n\n" + "\n\n".join(paragraphs))
        count += len(paragraphs)
        if count >= PARAGRAPHS_PER_FILE:
            flush(copy)
    flush(current_copy)


def write_big_document(path: Path, size_bytes: int) -> int:
    """One Markdown document of at least ``size_bytes`` bytes from the corpus; returns its sentences."""
    rng = random.Random(SEED + 1)
    parts = [_front_matter("Reference manual", "https://example.org/reference/manual")]
    written = len(parts[0].encode())
    sentences = 0
    for _, name, text in base_documents(10**9):
        block = "\n\n" + _section(name) + "\n\n" + "\n\n".join(_paragraphs(text, rng))
        parts.append(block)
        written += len(block.encode())
        sentences += len(text)
        if written >= size_bytes:
            break
    path.write_text("".join(parts).lstrip("\n") + "\n", encoding="utf-8")
    return sentences


def _corpus_key() -> str:
    stat = CORPUS.stat()
    return hashlib.sha256(f"{GENERATOR_VERSION} {stat.st_size} {stat.st_mtime_ns}".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Base:
    """A generated knowledge base: its Markdown folder and the same sentences one per line."""

    sentences: int
    knowledge: Path
    lines: Path


def prepare_base(cache: Path, sentences: int) -> Base:
    """The knowledge folder for ``sentences`` sentences, from the cache when it was made before."""
    home = cache / f"base-{sentences}-{_corpus_key()}"
    if not (home / "complete").exists():
        progress(f"writing {sentences:,} sentences as Markdown into {home}")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        write_knowledge(home / "knowledge", sentences)
        with (home / "sentences.txt").open("w", encoding="utf-8") as out:
            for _, _, text in base_documents(sentences):
                out.writelines(sentence + "\n" for sentence in text)
        (home / "complete").write_text("", encoding="utf-8")
    return Base(sentences, home / "knowledge", home / "sentences.txt")


def prepare_big_document(cache: Path, size_bytes: int) -> tuple[Path, int]:
    """The Markdown document for ``kb add`` (cached) and the corpus sentences it holds."""
    path = cache / f"manual-{size_bytes}-{_corpus_key()}.md"
    count_file = path.with_suffix(".count")
    if not count_file.exists():
        progress(f"writing a {size_bytes / 1e6:g} MB Markdown document into {path}")
        count_file.write_text(str(write_big_document(path, size_bytes)), encoding="utf-8")
    return path, int(count_file.read_text(encoding="utf-8"))


def make_questions(lines: Path, count: int, unique: int) -> list[str]:
    """``count`` questions from a few content words of random sentences (as speed.py makes them),
    one in ten with a typo (two letters swapped), then the off-topic ones. Fixed seed.
    """
    with lines.open(encoding="utf-8") as source:
        sentences = [line.rstrip("\n") for _, line in zip(range(unique), source, strict=False)]
    rng = random.Random(SEED)
    questions: list[str] = []
    while len(questions) < count:
        words = [w.lower() for w in WORD.findall(rng.choice(sentences)) if w.lower() not in STOP_WORDS]
        if len(words) < 3:
            continue
        size = rng.randint(2, min(6, len(words)))
        at = rng.randint(0, len(words) - size)
        chosen = words[at : at + size]
        long = [i for i, w in enumerate(chosen) if len(w) >= 5]
        if long and rng.random() < 0.1:
            i = rng.choice(long)
            j = rng.randint(1, len(chosen[i]) - 3)
            w = chosen[i]
            chosen[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        questions.append(f"{rng.choice(QUESTION_STARTS)} {' '.join(chosen)}?")
    return questions + OFF_TOPIC_QUESTIONS


# -- measuring -------------------------------------------------------------------------------------


STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def child_env(**settings: str) -> dict[str, str]:
    """The environment of a child process: this checkout first on the path, no stray citebot settings."""
    env = {k: v for k, v in os.environ.items() if k not in CITEBOT_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env["LOG_LEVEL"] = "WARNING"
    env.update(settings)
    return env


class BenchError(RuntimeError):
    """A child process failed."""


def run_process(command: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """(wall seconds, stdout) of a fresh process; raises BenchError when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BenchError(f"{' '.join(command[:6])} exited {done.returncode}: {' | '.join(tail)}")
    return seconds, done.stdout


def run_worker(name: str, cwd: Path, env: dict[str, str], **params: Any) -> tuple[float, dict[str, Any]]:
    """(wall seconds, JSON result) of one worker of scale_workers.py in a fresh process."""
    command = [sys.executable, str(WORKER_SCRIPT), name, json.dumps(params)]
    seconds, out = run_process(command, cwd=cwd, env=env)
    return seconds, json.loads(out.strip().splitlines()[-1])


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """(wall seconds, stdout) of ``python -m bot ARGS`` in a fresh process."""
    return run_process([sys.executable, "-m", "bot", *args], cwd=cwd, env=env)


# -- the table -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One measure: citebot's figure, the baselines' figures, and the floor citebot must meet."""

    measure: str
    unit: str  # "s", "ms" or "MiB"
    citebot: float | None
    bm25s: float | None = None
    tantivy: float | None = None
    floor: float | None = None
    note: str = ""  # shown instead of a figure (an error, a count)
    failed: bool = False

    @property
    def ok(self) -> bool | None:
        if self.failed:
            return False
        if self.floor is None or self.citebot is None:
            return None
        return self.citebot <= self.floor

    def cells(self) -> list[str]:
        ok = self.ok
        return [
            self.measure,
            self.note if self.citebot is None else _figure(self.citebot, self.unit),
            _figure(self.bm25s, self.unit),
            _figure(self.tantivy, self.unit),
            " / ".join(_ratio(self.citebot, b) for b in (self.bm25s, self.tantivy) if b is not None),
            "" if self.floor is None else f"<= {_figure(self.floor, self.unit)}",
            "" if ok is None else ("ok" if ok else "MISSED"),
        ]


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "MiB":
        return f"{value / 1024:.2f} GiB" if value >= 1024 else f"{value:.0f} MiB"
    return f"{value:g} {unit}"


def _ratio(citebot: float | None, baseline: float) -> str:
    if citebot is None or baseline <= 0:
        return "-"
    ratio = citebot / baseline
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"


def print_table(rows: Sequence[Row]) -> None:
    header = ["measure", "citebot", "bm25s", "tantivy", "ratio (/bm25s / /tantivy)", "floor", "ok"]
    cells = [header, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    for number, line in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if number == 0:
            print("  ".join("-" * width for width in widths))


# -- the measures ----------------------------------------------------------------------------------


def size_label(sentences: int) -> str:
    if sentences % 1_000_000 == 0:
        return f"{sentences // 1_000_000}M"
    if sentences % 1000 == 0:
        return f"{sentences // 1000}k"
    return f"{sentences:,}"


def floors_for(sentences: int) -> tuple[int, dict[str, float]]:
    """The floors that hold for a base of ``sentences``: those of the next size up that has floors."""
    for size in sorted(FLOORS):
        if sentences <= size:
            return size, FLOORS[size]
    return max(FLOORS), FLOORS[max(FLOORS)]


@dataclass
class RunConfig:
    """What one run measures."""

    sizes: list[int]
    questions: int
    startup_runs: int
    cold_runs: int
    add_bytes: int
    cache: Path
    work: Path
    corpus_sentences: int = 0
    notes: list[str] = field(default_factory=list)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def measure_size(run: RunConfig, sentences: int) -> list[Row]:
    """Every row of one base size."""
    label = size_label(sentences)
    floor_size, floors = floors_for(sentences)
    prefix = label if floor_size == sentences else f"{label} (floors of {size_label(floor_size)})"
    copies = -(-sentences // run.corpus_sentences)
    if copies > 1:
        run.notes.append(
            f"{label}: the corpus's {run.corpus_sentences:,} unique sentences used {copies} times, "
            "each copy under new document titles"
        )
    base = prepare_base(run.cache, sentences)
    work = run.work / label
    work.mkdir()
    questions = make_questions(base.lines, run.questions, min(sentences, run.corpus_sentences))
    rows: list[Row] = []
    env = child_env()

    progress(f"{label}: citebot builds from the Markdown files and answers {len(questions)} questions")
    _, cb = run_worker(
        "citebot-build",
        work,
        env,
        knowledge=str(base.knowledge),
        questions=questions,
    )
    progress(f"{label}: bm25s builds from memory")
    _, bm = run_worker(
        "bm25s-build", work, env, lines=str(base.lines), index=str(work / "bm25s"), questions=questions
    )
    progress(f"{label}: tantivy builds from memory")
    _, tv = run_worker(
        "tantivy-build", work, env, lines=str(base.lines), index=str(work / "tantivy"), questions=questions
    )
    files = len(list(base.knowledge.glob("*.md")))
    rows.append(
        Row(
            f"{prefix}: build ({cb['sentences']:,} sentences in {files} files; baselines from memory)",
            "s",
            cb["build_s"],
            bm["build_s"],
            tv["build_s"],
            floors["build_s"],
        )
    )
    rows.append(
        Row(
            f"{label}: peak RSS of the build process",
            "MiB",
            cb["peak_mib"],
            bm["peak_mib"],
            tv["peak_mib"],
            floors.get("peak_mib"),
        )
    )
    rows.append(
        Row(
            f"{label}: RSS growth after the build",
            "MiB",
            cb["growth_mib"],
            bm["growth_mib"],
            tv["growth_mib"],
        )
    )

    # Start-up from the store: the first start imports the folder into a new database.
    database = work / "citebot.sqlite3"
    store_env = child_env(KNOWLEDGE_DIR=str(base.knowledge), DATABASE_PATH=str(database))
    progress(f"{label}: first `kb list` imports the files into a new store")
    first, _ = run_cli(["kb", "list"], work, store_env)
    rows.append(Row(f"{label}: first start, files imported into the store (`kb list`)", "s", first))
    question = questions[0]
    cli_runs: dict[str, list[float]] = {"kb list": [], "ask --log": []}
    opens: list[tuple[float, dict[str, Any]]] = []
    baseline_opens: dict[str, list[tuple[float, dict[str, Any]]]] = {"bm25s": [], "tantivy": []}
    for number in range(run.startup_runs):
        progress(f"{label}: start-up from the store, round {number + 1} of {run.startup_runs}")
        cli_runs["kb list"].append(run_cli(["kb", "list"], work, store_env)[0])
        cli_runs["ask --log"].append(run_cli(["ask", "--log", question], work, store_env)[0])
        opens.append(
            run_worker(
                "citebot-open",
                work,
                env,
                knowledge=str(base.knowledge),
                database=str(database),
                question=question,
            )
        )
        for name in baseline_opens:
            baseline_opens[name].append(
                run_worker(f"{name}-open", work, env, index=str(work / name), question=question)
            )
    bm_open = _median([s for s, _ in baseline_opens["bm25s"]])
    tv_open = _median([s for s, _ in baseline_opens["tantivy"]])
    runs = f"median of {run.startup_runs}"
    rows.append(
        Row(
            f"{label}: start-up `kb list` ({runs})",
            "s",
            _median(cli_runs["kb list"]),
            floor=floors["startup_s"],
        )
    )
    rows.append(
        Row(
            f"{label}: start-up `ask --log` ({runs}; baselines: load the saved index, answer)",
            "s",
            _median(cli_runs["ask --log"]),
            bm_open,
            tv_open,
            floors["startup_s"],
        )
    )
    rows.append(
        Row(
            f"{label}: start-up the bots (Citebot.open + one answer; {runs})",
            "s",
            _median([s for s, _ in opens]),
            bm_open,
            tv_open,
            floors["startup_s"],
        )
    )
    rows.append(
        Row(
            f"{label}: memory while serving (RSS growth over the imports)",
            "MiB",
            _median([r["growth_mib"] for _, r in opens]),
            _median([r["growth_mib"] for _, r in baseline_opens["bm25s"]]),
            _median([r["growth_mib"] for _, r in baseline_opens["tantivy"]]),
            floors["memory_mib"],
        )
    )

    for share, key in ((0.5, "p50_ms"), (0.99, "p99_ms")):
        rows.append(
            Row(
                f"{label}: {key[:3]} per question ({len(questions)} questions; baselines top-{TOP_K})",
                "ms",
                1000 * percentile(cb["timings"], share),
                1000 * percentile(bm["timings"], share),
                1000 * percentile(tv["timings"], share),
                floors[key],
            )
        )
    rows.append(
        Row(
            f"{label}: questions citebot answered (the rest declined)",
            "",
            None,
            note=f"{cb['answered']} of {len(questions)}",
        )
    )
    return rows


def measure_add(run: RunConfig) -> Row:
    """``kb add`` of a big Markdown document to a store holding the default knowledge."""
    path, sentences = prepare_big_document(run.cache, run.add_bytes)
    work = run.work / "add"
    work.mkdir()
    env = child_env(KNOWLEDGE_DIR=str(REPO / "knowledge"), DATABASE_PATH=str(work / "citebot.sqlite3"))
    run_cli(["kb", "list"], work, env)  # creates the store with the default knowledge
    progress(f"`kb add` of a {path.stat().st_size / 1e6:.1f} MB document ({sentences:,} corpus sentences)")
    seconds, _ = run_cli(["kb", "add", str(path)], work, env)
    megabytes = path.stat().st_size / 1e6
    floor_note = "" if run.add_bytes == 20_000_000 else "; the floor is set for 20 MB"
    return Row(
        f"`kb add` of a {megabytes:.1f} MB Markdown document ({sentences:,} sentences{floor_note})",
        "s",
        seconds,
        floor=ADD_FLOOR_S,
    )


# What every citebot process imports before it does anything of its own: the settings
# (pydantic-settings, which imports pydantic and asyncio) and numpy (the index).
IMPORTS_ALONE = "import pydantic_settings, numpy"


def measure_cold(run: RunConfig) -> list[Row]:
    """Fresh ``python -m bot ask`` on the default article, beside baselines that read, index, answer.

    The first run on a new CACHE_DIR prepares the folder (its own row, no floor); the timed runs
    open what it prepared, as every later `ask` does until a file changes. A last row, with no
    floor, says how much of it is the start of Python and the libraries every citebot command
    imports.
    """
    cache = run.work / "ask-cache"
    env = child_env(CACHE_DIR=str(cache))
    progress(f"cold `python -m bot ask`, 1 + {run.cold_runs} runs")
    first, _ = run_cli(["ask", COLD_QUESTION], REPO, env)
    cold = [run_cli(["ask", COLD_QUESTION], REPO, env)[0] for _ in range(run.cold_runs)]
    imports = [
        run_process([sys.executable, "-c", IMPORTS_ALONE], cwd=REPO, env=env)[0] for _ in range(run.cold_runs)
    ]
    baselines = [
        _median(
            [
                run_worker(f"{name}-article", REPO, env, question=COLD_QUESTION)[0]
                for _ in range(run.cold_runs)
            ]
        )
        for name in ("bm25s", "tantivy")
    ]
    return [
        Row("first `python -m bot ask` on the article, which prepares it (CACHE_DIR)", "s", first),
        Row(
            f"cold `python -m bot ask`, the article (median of {run.cold_runs}; "
            "baselines: read, index, answer)",
            "s",
            _median(cold),
            baselines[0],
            baselines[1],
            COLD_ASK_FLOOR_S,
        ),
        Row(
            f"  of which: a fresh `python -c '{IMPORTS_ALONE}'` (median of {run.cold_runs})",
            "s",
            _median(imports),
        ),
    ]


def compile_bytecode() -> None:
    """Compile the checkout's modules to bytecode, as installing citebot does.

    Otherwise, with PYTHONDONTWRITEBYTECODE set (as in the container and on CI machines), every
    fresh process compiles each module edited since the last compile from source again: 0.1 s of
    every start-up that no installed citebot pays.
    """
    compileall.compile_dir(REPO / "bot", quiet=1)


def _guarded(label: str, action: Callable[[], list[Row]]) -> list[Row]:
    """The rows of ``action``, or one failed row saying why it could not be measured."""
    try:
        return action()
    except BenchError as exc:
        progress(f"{label}: {exc}")
        return [Row(f"{label}: not measured", "", None, note=f"error: {str(exc)[:200]}", failed=True)]


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 10k, 100k or 1M")
    scale = {"": 1, "k": 1000, "m": 1_000_000}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def parse_sizes(text: str) -> list[int]:
    return [parse_size(part) for part in text.split(",") if part.strip()]


def count_corpus_sentences(cache: Path) -> int:
    """How many sentences the corpus holds (counted once, then cached)."""
    counted = cache / f"corpus-{_corpus_key()}.count"
    if not counted.exists():
        counted.write_text(str(sum(len(text) for _, text in corpus_documents())), encoding="utf-8")
    return int(counted.read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measure and print the table; 1 if a floor is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[100_000, 1_000_000],
        help="knowledge sizes in sentences, comma-separated (default 100k,1M)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 10k sentences, 100 questions, 1 start-up round, 2 cold runs, a 2 MB `kb add`",
    )
    parser.add_argument(
        "--questions", type=int, default=300, help="questions made from the corpus (default 300)"
    )
    parser.add_argument(
        "--startup-runs", type=int, default=3, help="fresh processes per start-up figure (default 3)"
    )
    parser.add_argument("--cold-runs", type=int, default=5, help="cold `python -m bot ask` runs (default 5)")
    parser.add_argument(
        "--add-mb", type=float, default=20.0, help="size of the `kb add` document in MB (default 20)"
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help=f"where generated knowledge is kept between runs ({CACHE})"
    )
    args = parser.parse_args(argv)

    if args.quick:
        args.sizes, args.questions, args.startup_runs, args.cold_runs = [10_000], 100, 1, 2
        if args.add_mb == 20.0:
            args.add_mb = 2.0
    if not CORPUS.exists():
        sys.exit(f"no corpus at {CORPUS}: set CITEBOT_BENCH_CORPUS to corpus.jsonl.xz")
    for module in ("bm25s", "tantivy", "Stemmer"):
        try:
            __import__(module)
        except ImportError:
            sys.exit(f"the baselines need {module}: pip install -e '.[bench]'")
    args.cache.mkdir(parents=True, exist_ok=True)
    compile_bytecode()

    with tempfile.TemporaryDirectory(prefix="citebot-scale-") as tmp:
        run = RunConfig(
            sizes=args.sizes,
            questions=args.questions,
            startup_runs=args.startup_runs,
            cold_runs=args.cold_runs,
            add_bytes=round(args.add_mb * 1e6),
            cache=args.cache,
            work=Path(tmp),
        )
        run.corpus_sentences = count_corpus_sentences(args.cache)
        rows: list[Row] = []
        for sentences in run.sizes:
            rows += _guarded(size_label(sentences), lambda sentences=sentences: measure_size(run, sentences))
        rows += _guarded("kb add", lambda: [measure_add(run)])
        rows += _guarded("cold ask", lambda: measure_cold(run))

    print()
    print_table(rows)
    print()
    notes = [
        f"corpus: {CORPUS} ({run.corpus_sentences:,} unique sentences); knowledge written as Markdown files "
        f"of about {PARAGRAPHS_PER_FILE} paragraphs (2-5 consecutive sentences of one source each, "
        "under a heading naming the source)",
        *run.notes,
        "citebot builds from the files (load_knowledge_dir, fresh process); bm25s (its tokenizer, English "
        "stop words, the same PyStemmer Snowball stemmer) and tantivy (one document per sentence, stored, "
        "en_stem) build from the same sentences in memory, tantivy to an index folder",
        "every fresh process runs the checkout's bytecode, compiled first (compileall), as an install has it",
        "memory while serving: RSS after opening and one answer minus RSS after the imports, in a fresh "
        "process (citebot: Citebot.open on the store; baselines: their saved index)",
        "questions: content words of random corpus sentences (fixed seed, 1 in 10 with two letters "
        f"swapped) plus {len(OFF_TOPIC_QUESTIONS)} off-topic; citebot: QAService.ask, the baselines: "
        f"tokenize + top-{TOP_K} with texts; each once after a warm-up round",
        f"ratio: citebot's figure divided by the baseline's; run time {time.perf_counter() - STARTED:.0f} s",
    ]
    for note in notes:
        print(f"- {note}")
    missed = [row.measure for row in rows if row.ok is False]
    if missed:
        print(f"{len(missed)} floor(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
