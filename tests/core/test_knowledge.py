from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.documents import parse_document
from bot.core.errors import KnowledgeError
from bot.core.knowledge import build_knowledge, load_knowledge_dir, read_knowledge_dir
from bot.core.service import QAService
from tests.core.conftest import KNOWLEDGE_DIR

DOC = "---\ntitle: {title}\n---\n\nKourou station tracked the spacecraft. It launched on May 3.\n"
TRACKING = (
    "intents:\n  - id: tracking\n    document: notes\n"
    '    examples: ["Who tracked it?"]\n    quotes: [Kourou station tracked the spacecraft]\n'
)


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def load_problems(folder: Path) -> str:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge_dir(folder)
    return str(caught.value)


# The real knowledge folder, as shipped.


def test_every_file_in_knowledge_loads_and_every_intent_resolves() -> None:
    files = sorted(p.name for p in KNOWLEDGE_DIR.iterdir() if p.suffix in {".md", ".yaml", ".yml"})
    assert files, "the knowledge folder is empty"
    knowledge = load_knowledge_dir(KNOWLEDGE_DIR)
    written = sum(
        len((yaml.safe_load((KNOWLEDGE_DIR / f).read_text()) or {}).get("intents", []))
        for f in files
        if f.endswith((".yaml", ".yml"))
    )
    assert len(knowledge.intents) == written
    for intent in knowledge.intents:
        if intent.is_chitchat:
            assert intent.reply and not intent.citations, intent.id
        else:
            assert 1 <= len(intent.citations) <= 3, intent.id
            document = knowledge.document(intent.citations[0][0])
            assert document is not None
            for _, sentence in intent.citations:
                assert document.body[sentence.start : sentence.end] == sentence.text


def test_every_curated_example_is_answered_by_its_own_intent() -> None:
    knowledge = load_knowledge_dir(KNOWLEDGE_DIR)
    service = QAService(knowledge)
    wrong = [
        (example, intent.id, service.ask(example).intent)
        for intent in knowledge.intents
        for example in intent.examples
        if service.ask(example).intent != intent.id
    ]
    assert wrong == []


def test_the_tracking_intent_cites_kourou_maspalomas_and_estrack() -> None:
    knowledge = load_knowledge_dir(KNOWLEDGE_DIR)
    tracking = next(i for i in knowledge.intents if i.id == "tracking")
    texts = [s.text for _, s in tracking.citations]
    assert texts[0].startswith("Kourou station in French Guiana tracked the spacecraft")
    assert any("Maspalomas station" in t for t in texts)
    assert any("ESTRACK" in t for t in texts)


def test_chitchat_help_says_how_to_ask() -> None:
    knowledge = load_knowledge_dir(KNOWLEDGE_DIR)
    help_reply = next(i for i in knowledge.intents if i.id == "help").reply or ""
    for words in ("/ask", "mention", "reply", "quoted", "cite"):
        assert words in help_reply


# Folders made for the test.


def test_a_small_folder_loads(tmp_path: Path) -> None:
    write(
        tmp_path, {"notes.md": DOC.format(title="Notes"), "intents.yaml": TRACKING, "README.txt": "ignored"}
    )
    knowledge = load_knowledge_dir(tmp_path)
    assert [d.id for d in knowledge.documents] == ["notes"]
    assert [i.id for i in knowledge.intents] == ["tracking"]
    assert knowledge.sentence_count == 2


def test_the_version_changes_with_the_content_only(tmp_path: Path) -> None:
    write(tmp_path, {"notes.md": DOC.format(title="Notes")})
    first = load_knowledge_dir(tmp_path).version
    assert load_knowledge_dir(tmp_path).version == first
    write(tmp_path, {"notes.md": DOC.format(title="Notes").replace("May 3", "May 4")})
    assert load_knowledge_dir(tmp_path).version != first


def test_a_missing_folder_and_a_file_are_told_apart(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert f"{missing}: does not exist (looked for {missing})" in load_problems(missing)
    write(tmp_path, {"notes.md": DOC.format(title="Notes")})
    assert f"{tmp_path / 'notes.md'}: is not a folder" in load_problems(tmp_path / "notes.md")


def test_non_utf8_file_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"latin1.md": "---\ntitle: Caf\xe9\n---\n\nCaf\xe9 au lait.\n".encode("latin-1")})
    assert f"{tmp_path / 'latin1.md'}: is not UTF-8 text (byte 14)" in load_problems(tmp_path)


def test_duplicate_document_id_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, {"notes.md": DOC.format(title="A"), "more/notes.md": DOC.format(title="B")})
    message = load_problems(tmp_path)
    assert "document id 'notes' is also used by" in message
    assert str(tmp_path / "notes.md") in message
    assert str(tmp_path / "more" / "notes.md") in message


def test_duplicate_document_id_in_build_knowledge() -> None:
    one = parse_document(DOC.format(title="A"), "one.md", doc_id="same")
    two = parse_document(DOC.format(title="B"), "two.md", doc_id="same")
    with pytest.raises(KnowledgeError) as caught:
        build_knowledge([one, two])
    assert "two.md: document id 'same' is also used by one.md" in str(caught.value)


def test_every_file_problem_is_listed_at_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a.md": "---\nurl: https://example.org\n---\n\nNo title.\n",
            "b.md": '---\ntitle: B\nurl: "not a link"\n---\n\nText.\n',
            "c.md": "---\ntitle: C\n---\n\n",
            "d.md": "---\ntitle: never closed\n\nText.\n",
            "e.md": b"\xff\xfe not utf-8",
            "intents.yaml": "intents:\n  - id: x\n    examples: [a\n",
        },
    )
    with pytest.raises(KnowledgeError) as caught:
        read_knowledge_dir(tmp_path)
    sources = sorted(Path(p.source).name for p in caught.value.problems)
    assert sources == ["a.md", "b.md", "c.md", "d.md", "e.md", "intents.yaml"]


def test_intent_problems_name_the_intent_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "notes.md": DOC.format(title="Notes"),
            "intents.yaml": TRACKING.replace("tracked the spacecraft", "tracked the rocket"),
        },
    )
    message = load_problems(tmp_path)
    assert f"{tmp_path / 'intents.yaml'}: intent 'tracking': quote 1 is not found verbatim" in message


def test_hidden_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, {"notes.md": DOC.format(title="Notes"), ".draft.md": "---\nbroken"})
    assert len(load_knowledge_dir(tmp_path).documents) == 1


def test_an_empty_folder_is_valid_and_declines_everything(tmp_path: Path) -> None:
    knowledge = load_knowledge_dir(tmp_path)
    answer = QAService(knowledge).ask("Who tracked Chang'e-6?")
    assert not answer.answered
    assert answer.reason.value == "empty_knowledge"
