"""``kb teach``, ``kb review`` and ``kb export-intents`` as real subprocesses on a SQLite file.

Each command is its own process, so what one teaches and the next one answers has been through
the store: it survives restarts.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.intents import parse_intent_file
from tests.storage.knowledge_fixtures import TEA, TEA_CHANGED, write_knowledge
from tests.test_cli_kb import _dump, _env, _run

DECLINED = "Why is black tea darker?"  # declined; tea:2:1 answers it
OXIDISED = "Black tea is fully oxidised before it is dried."
UNSURE = "What makes the taste strong?"  # answered, with a confidence under 0.6
FLAVOUR = "Its flavour is stronger than that of green tea."


def _ask(store: Path, question: str) -> dict[str, object]:
    done = _run(store, "ask", "--log", "--json", question)
    assert done.returncode == 0, done.stderr
    answer: dict[str, object] = json.loads(done.stdout)
    return answer


def _review(store: Path, keys: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``kb review`` with ``keys`` piped to it, as an admin would type them."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "kb", "review", *args],
        input=keys,
        cwd=store,
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _first_text(answer: dict[str, object]) -> str:
    citations = answer["citations"]
    assert isinstance(citations, list) and citations
    return str(citations[0]["text"])


@pytest.fixture
def store(tmp_path: Path) -> Path:
    write_knowledge(tmp_path / "knowledge")
    assert _ask(tmp_path, DECLINED)["answered"] is False
    return tmp_path


def test_kb_teach_cites_a_sentence_at_once_and_it_survives_restarts_and_reloads(store: Path) -> None:
    before = _run(store, "kb", "list").stdout.splitlines()[0]
    taught = _run(store, "kb", "teach", DECLINED, "--cite", "tea:2:1")
    assert taught.returncode == 0, taught.stderr
    assert "is now an example of a new intent taught-why-is-black-tea-darker" in taught.stdout
    assert _run(store, "kb", "list").stdout.splitlines()[0] != before  # a new knowledge version

    answer = _ask(store, DECLINED)
    assert answer["answered"] is True and answer["intent"] == "taught-why-is-black-tea-darker"
    assert _first_text(answer) == OXIDISED

    # Taught to the sentence a file intent already cites: the question joins that intent.
    joined = _run(store, "kb", "teach", "Which plant gives green tea?", "--cite", "tea:1:1")
    assert "now an example of the intent green-tea-source" in joined.stdout
    assert _ask(store, "Which plant gives green tea?")["intent"] == "green-tea-source"

    reloaded = _run(store, "kb", "reload")
    assert reloaded.returncode == 0 and "taught quote" not in reloaded.stdout
    assert _first_text(_ask(store, DECLINED)) == OXIDISED


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("coffee:1:1", "there is no document 'coffee' (documents: tea)"),
        ("tea:3:1", "document 'tea' has no paragraph 3 (its paragraphs: 1 to 2)"),
        ("tea:2:3", "paragraph 2 of 'tea' has no sentence 3 (it has 2, counted from 1)"),
        ("tea:0:1", "document 'tea' has no paragraph 0"),
        ("tea-2-1", "is not a sentence reference: write DOC:PARAGRAPH:SENTENCE"),
    ],
)
def test_a_wrong_reference_is_a_clear_error_and_changes_nothing(
    store: Path, reference: str, message: str
) -> None:
    before = _dump(store)
    done = _run(store, "kb", "teach", DECLINED, "--cite", reference)
    assert done.returncode == 1
    assert message in done.stderr and "nothing changed" in done.stderr
    assert _dump(store) == before


def test_kb_teach_a_reply_and_the_refusals(store: Path) -> None:
    before = _dump(store)
    assert "The reply is empty" in _run(store, "kb", "teach", "Price?", "--reply", "  ").stderr
    assert "Please ask a question" in _run(store, "kb", "teach", " ", "--cite", "tea:1:1").stderr
    # A question already taught elsewhere is not taught twice.
    assert _dump(store) == before
    assert _run(store, "kb", "teach", "Where does green tea come from?", "--cite", "tea:2:1").returncode == 1
    assert _dump(store) == before

    done = _run(
        store, "kb", "teach", "How much does the tea cost?", "--reply", "We don't cover pricing here."
    )
    assert done.returncode == 0, done.stderr
    assert _ask(store, "How much does the tea cost?")["reply"] == "We don't cover pricing here."


def test_kb_review_walks_the_queue_from_piped_keys(store: Path) -> None:
    assert _ask(store, UNSURE)["answered"] is True
    _ask(store, "What is the capital of Peru?")
    _ask(store, "What is the capital of Peru?")  # asked twice: first in the queue
    _ask(store, "How much does the tea cost?")
    # Peru: not in the sources; the reply for the price; skip the unsure answer; the sentence for
    # the declined question; then the end of the input quits.
    done = _review(store, "n\nr\nWe don't cover pricing here.\ns\n1\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Question 1 of 4 left (asked 2 times" in out and "What is the capital of Peru?" in out
    assert "Marked as not in the sources" in out
    assert "a new intent taught-reply-how-much-does-the-tea-cost" in out
    assert "I answered (confidence 0.5" in out and FLAVOUR in out  # the unsure answer, shown
    assert "1. tea:2:1 Tea notes, paragraph 2, sentence 1" in out
    assert "a new intent taught-why-is-black-tea-darker" in out
    assert out.rstrip().endswith("End of the queue: 1 question left, skipped for now.")

    assert _first_text(_ask(store, DECLINED)) == OXIDISED
    assert _ask(store, "How much does the tea cost?")["reply"] == "We don't cover pricing here."
    again = _review(store, "q\n")
    assert "Question 1 of 1 left" in again.stdout and UNSURE in again.stdout  # only the skipped one
    # A threshold that takes in no answered question leaves nothing to review.
    assert "Nothing to review" in _review(store, "q\n", "--below", "0.1").stdout
    assert "must be from 0 to 1" in _review(store, "", "--below", "2").stderr


def test_export_intents_writes_the_taught_intents_as_a_knowledge_file(store: Path) -> None:
    _run(store, "kb", "teach", DECLINED, "--cite", "tea:2:1")
    _run(store, "kb", "teach", "Which plant gives green tea?", "--cite", "tea:1:1")
    _run(store, "kb", "teach", "Price?", "--reply", "See #billing.")
    target = store / "knowledge" / "taught.yaml"
    done = _run(store, "kb", "export-intents", str(target))
    assert done.returncode == 0 and "wrote 3 taught intents" in done.stdout
    text = target.read_text(encoding="utf-8")
    written = {i.id: i for i in parse_intent_file(text, str(target))}
    # The question taught to the file intent gets an id of its own, or the folder would clash.
    assert sorted(written) == [
        "green-tea-source-taught",
        "taught-reply-price",
        "taught-why-is-black-tea-darker",
    ]
    darker = written["taught-why-is-black-tea-darker"]
    assert (darker.document, darker.examples, darker.quotes) == ("tea", [DECLINED], [OXIDISED])
    assert written["green-tea-source-taught"].examples == ["Which plant gives green tea?"]
    assert (written["taught-reply-price"].examples, written["taught-reply-price"].reply) == (
        ["Price?"],
        "See #billing.",
    )

    reloaded = _run(store, "kb", "reload")
    assert reloaded.returncode == 0, reloaded.stdout + reloaded.stderr
    assert _first_text(_ask(store, DECLINED)) == OXIDISED
    assert _ask(store, "Price?")["reply"] == "See #billing."
    assert _run(store, "kb", "export-intents", str(target)).returncode == 0
    assert target.read_text(encoding="utf-8") == text  # exporting again gives the same file
    assert _run(store, "kb", "export-intents", str(store / "out.txt")).returncode == 1


def test_a_taught_quote_gone_after_a_reload_is_reported_and_kept(store: Path) -> None:
    assert _run(store, "kb", "teach", UNSURE, "--cite", "tea:2:2").returncode == 0
    write_knowledge(store / "knowledge", tea=TEA_CHANGED)
    reloaded = _run(store, "kb", "reload")
    assert reloaded.returncode == 0
    assert (
        "! taught quote no longer in the documents (kept, not served): taught-what-makes" in reloaded.stdout
    )
    raw = sqlite3.connect(store / "data" / "citebot.sqlite3")
    assert raw.execute("SELECT id FROM taught_intents").fetchall() == [
        ("taught-what-makes-the-taste-strong",)
    ]
    raw.close()
    assert _ask(store, UNSURE).get("intent") != "taught-what-makes-the-taste-strong"

    write_knowledge(store / "knowledge", tea=TEA)  # the sentence is back: so is the intent
    assert "taught quote" not in _run(store, "kb", "reload").stdout
    assert _first_text(_ask(store, UNSURE)) == FLAVOUR


def test_export_leaves_out_intents_citing_an_added_document_so_the_folder_loads_alone(store: Path) -> None:
    (store / "matcha.txt").write_text("Matcha is powdered green tea. It is whisked with hot water.\n")
    assert _run(store, "kb", "add", "matcha.txt", "--title", "Matcha").returncode == 0
    assert _run(store, "kb", "teach", "How is matcha prepared?", "--cite", "matcha:1:2").returncode == 0
    assert _run(store, "kb", "teach", DECLINED, "--cite", "tea:2:1").returncode == 0
    target = store / "knowledge" / "taught.yaml"
    done = _run(store, "kb", "export-intents", str(target))
    assert done.returncode == 0 and "wrote 1 taught intent to" in done.stdout
    assert "left out 1 taught intent, as the knowledge folder would not load with them" in done.stderr
    assert "taught-how-is-matcha-prepared: it cites 'matcha', a document added with kb add" in done.stderr
    text = target.read_text(encoding="utf-8")
    assert "#   taught-how-is-matcha-prepared: it cites 'matcha'" in text
    assert [i.id for i in parse_intent_file(text, str(target))] == ["taught-why-is-black-tea-darker"]

    # The README's recipe: reload, then the folder loads on its own as well as from the store.
    assert _run(store, "kb", "reload").returncode == 0
    checked = _run(store, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _first_text(json.loads(_run(store, "ask", "--json", DECLINED).stdout)) == OXIDISED  # no store
    shutil.copytree(store / "knowledge", store / "fresh" / "knowledge")  # a first start from it
    fresh = _run(store / "fresh", "kb", "list")
    assert fresh.returncode == 0 and "tea  [file" in fresh.stdout, fresh.stderr
    # The intent left out is still taught, and served from the store.
    matcha = _ask(store, "How is matcha prepared?")
    assert matcha["intent"] == "taught-how-is-matcha-prepared"

    # Written by hand, such an intent makes the reload refuse the folder, naming why.
    (store / "knowledge" / "by-hand.yaml").write_text(
        "intents:\n  - id: matcha-water\n    document: matcha\n"
        '    examples: ["What is matcha whisked with?"]\n    quotes: ["It is whisked with hot water."]\n',
        encoding="utf-8",
    )
    before = _dump(store)
    refused = _run(store, "kb", "reload")
    assert refused.returncode == 1
    assert "intent 'matcha-water': it quotes 'matcha', added with kb add" in refused.stderr
    assert _dump(store) == before


def test_case_punctuation_and_blanks_do_not_get_a_question_past_the_duplicate_check(store: Path) -> None:
    before = _dump(store)
    # "Where does green tea come from?" and "hello" are examples of the file's intents.
    for question, answer in [
        ("where does green tea come from", ("--cite", "tea:2:1")),
        ("  WHERE does green tea come from ?! ", ("--cite", "tea:2:1")),
        ("Hello!", ("--reply", "Hi")),
    ]:
        done = _run(store, "kb", "teach", question, *answer)
        assert done.returncode == 1, done.stdout
        assert "is already an example of the intent" in done.stderr
        assert done.stderr.count("nothing changed") == 1  # said once
    assert _dump(store) == before

    # Taught without its "?", the logged question (with it) leaves the review queue.
    _ask(store, "Why is black tea darker ?")  # the same question, worded a little differently
    assert "asked 2 times" in _review(store, "q\n").stdout
    assert _run(store, "kb", "teach", "why is black tea darker", "--cite", "tea:2:1").returncode == 0
    assert "Nothing to review" in _review(store, "q\n").stdout

    # Teaching it again says so, and changes nothing.
    before = _dump(store)
    again = _run(store, "kb", "teach", DECLINED, "--cite", "tea:2:1")
    assert again.returncode == 0
    assert again.stdout.strip() == (
        "'Why is black tea darker?' was already an example of the intent "
        "taught-why-is-black-tea-darker; nothing changed."
    )
    assert _dump(store) == before


def test_the_cli_says_when_a_running_bot_serves_what_it_taught(store: Path) -> None:
    done = _run(store, "kb", "teach", DECLINED, "--cite", "tea:2:1")
    assert "served from now on" not in done.stdout
    assert "a bot already running serves it from its next reload (/kb reload, /reload)." in done.stdout
    wrong = _run(store, "kb", "teach", DECLINED, "--cite", "tea21")
    assert "(kb list shows them)" in wrong.stderr and "as in tea:1:1" in wrong.stderr


def test_kb_review_offers_only_the_keys_there_are(store: Path) -> None:
    _ask(store, "What is the capital of Peru?")  # no sentence shares a word with it
    # Peru first (the newest), with no number key: "1" and "p" are refused, each saying why;
    # then the tea question, with fewer than five candidate sentences (the tea notes have four).
    done = _review(store, "1\np\ns\n5\nq\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "[n not in the sources · r reply with… · s skip · p previous · q quit] > " in out
    assert "'1' is not one of the keys: n not in the sources" in out
    assert "This is the first question: there is no previous one." in out
    shown = len(set(re.findall(r"^\d\. tea:.*$", out, flags=re.MULTILINE)))  # the item is shown twice
    assert 1 < shown < 5
    assert f"[1-{shown} this one answers it · n not in the sources" in out
    assert f"'5' is not one of the keys: 1-{shown} this one answers it" in out
    assert "1-5" not in out
