from __future__ import annotations

import pytest

from bot.core.documents import Document, parse_document
from bot.core.errors import KnowledgeError
from bot.core.intents import parse_intent_file, resolve_intents

DOC = parse_document(
    "---\ntitle: Notes\n---\n\nChang’e-6 launched on May 3. It carried a Swedish instrument.\n\n"
    "Kourou station tracked the spacecraft. The samples return around June 25.\n",
    "notes.md",
    doc_id="notes",
)


def intents_from(yaml_text: str, source: str = "intents.yaml") -> list[tuple[object, str]]:
    return [(intent, source) for intent in parse_intent_file(yaml_text, source)]


def resolve_problems(yaml_text: str, documents: list[Document] | None = None) -> str:
    pairs = intents_from(yaml_text)
    with pytest.raises(KnowledgeError) as caught:
        resolve_intents(pairs, documents or [DOC])  # type: ignore[arg-type]
    return str(caught.value)


def parse_problems(yaml_text: str) -> str:
    with pytest.raises(KnowledgeError) as caught:
        parse_intent_file(yaml_text, "intents.yaml")
    return str(caught.value)


def test_quotes_resolve_to_sentences_in_quote_order() -> None:
    [intent] = resolve_intents(
        intents_from(
            'intents:\n  - id: launch\n    document: notes\n    examples: ["When did it launch?"]\n'
            '    quotes: [The samples return, "Chang\'e-6 launched on May 3."]\n'
        ),  # type: ignore[arg-type]
        [DOC],
    )
    assert [s.text for _, s in intent.citations] == [
        "The samples return around June 25.",
        "Chang’e-6 launched on May 3.",  # a straight quote in YAML matches the curly one in the text
    ]
    assert not intent.is_chitchat


def test_a_quote_across_two_sentences_cites_both() -> None:
    [intent] = resolve_intents(
        intents_from('intents:\n  - id: both\n    examples: [what]\n    quotes: ["May 3. It carried"]\n'),  # type: ignore[arg-type]
        [DOC],
    )
    assert [s.text for _, s in intent.citations] == [
        "Chang’e-6 launched on May 3.",
        "It carried a Swedish instrument.",
    ]


def test_quote_not_verbatim_names_file_intent_and_quote() -> None:
    message = resolve_problems(
        'intents:\n  - id: tracking\n    document: notes\n    examples: ["Who tracked it?"]\n'
        "    quotes: [Kourou station tracked the rocket]\n"
    )
    assert "intents.yaml: intent 'tracking': quote 1 is not found verbatim in document 'notes'" in message
    assert "Kourou station tracked the rocket" in message


def test_unknown_document_names_file_intent_and_known_documents() -> None:
    message = resolve_problems(
        'intents:\n  - id: tracking\n    document: nope\n    examples: ["Who?"]\n    quotes: [Kourou]\n'
    )
    assert "intents.yaml: intent 'tracking': document 'nope' does not exist (known: notes)" in message


def test_duplicate_intent_id_names_both_files() -> None:
    text = "intents:\n  - id: hi\n    examples: [hello]\n    reply: Hello!\n"
    pairs = intents_from(text, "a.yaml") + intents_from(text, "b.yaml")
    with pytest.raises(KnowledgeError) as caught:
        resolve_intents(pairs, [DOC])  # type: ignore[arg-type]
    assert "b.yaml: intent 'hi': id is already used in a.yaml" in str(caught.value)


def test_every_resolution_problem_is_reported() -> None:
    message = resolve_problems(
        "intents:\n"
        "  - id: one\n    document: notes\n    examples: [q]\n    quotes: [not here, nor here]\n"
        "  - id: two\n    document: missing\n    examples: [q]\n    quotes: [x]\n"
    )
    assert "the knowledge base has 3 problems" in message
    assert "intent 'one': quote 1" in message
    assert "intent 'one': quote 2" in message
    assert "intent 'two': document 'missing'" in message


def test_quotes_and_reply_together_are_invalid() -> None:
    message = parse_problems(
        "intents:\n  - id: both\n    examples: [hi]\n    quotes: [Kourou]\n    reply: Hello\n"
    )
    assert "intents.yaml: intent 'both'" in message
    assert "needs either 'quotes' (cited answer) or 'reply' (chit-chat), not both" in message


def test_neither_quotes_nor_reply_is_invalid() -> None:
    assert "needs either 'quotes'" in parse_problems("intents:\n  - id: none\n    examples: [hi]\n")


def test_missing_examples_names_the_field() -> None:
    message = parse_problems("intents:\n  - id: noexamples\n    reply: Hello\n")
    assert "intents.yaml: intent 'noexamples' field 'examples': is required" in message


def test_intent_without_an_id_is_named_by_position() -> None:
    message = parse_problems(
        "intents:\n  - id: ok\n    examples: [a]\n    reply: b\n  - examples: [a]\n    reply: b\n"
    )
    assert "intents.yaml: intent #2 field 'id': is required" in message


@pytest.mark.parametrize("bad_id", ["Has Capitals", "", "-leading-dash", "x" * 65])
def test_bad_ids_are_rejected(bad_id: str) -> None:
    assert "field 'id'" in parse_problems(f'intents:\n  - id: "{bad_id}"\n    examples: [a]\n    reply: b\n')


def test_unknown_keys_are_rejected() -> None:
    message = parse_problems("intents:\n  - id: typo\n    examples: [a]\n    replly: b\n")
    assert "intent 'typo' field 'replly'" in message


def test_bad_yaml_names_the_line() -> None:
    message = parse_problems("intents:\n  - id: x\n    examples: [a, b\n    reply: c\n")
    assert "intents.yaml: line" in message
    assert "invalid YAML" in message


def test_top_level_must_be_a_mapping() -> None:
    assert "intents.yaml: top level: must be a mapping" in parse_problems("- just\n- a list\n")


def test_empty_file_has_no_intents() -> None:
    assert parse_intent_file("", "empty.yaml") == []
    assert parse_intent_file("# only a comment\n", "empty.yaml") == []


def test_taught_intents_merge_with_the_file_ones() -> None:
    from bot.core.intents import TAUGHT_SOURCE, Intent, merge_taught

    files = [
        (intent, "intents.yaml")
        for intent in parse_intent_file(
            'intents:\n  - id: tracking\n    examples: ["Who tracked it?"]\n'
            '    quotes: ["Kourou station tracked the spacecraft."]\n',
            "intents.yaml",
        )
    ]
    taught = [
        # Joins the file intent of the same id; its copy of a file example adds nothing.
        Intent(id="tracking", examples=["who  TRACKED it?", "Which station tracked it?"], quotes=["x"]),
        Intent(id="taught-launch", examples=["When was the launch?"], quotes=["launched on May 3"]),
        Intent(id="taught-gone", examples=["What did it carry?"], quotes=["a French instrument"]),
    ]
    merged, missing = merge_taught(files, taught, [DOC])
    assert [(i.id, i.examples, source) for i, source in merged] == [
        ("tracking", ["Who tracked it?", "Which station tracked it?"], "intents.yaml"),
        ("taught-launch", ["When was the launch?"], TAUGHT_SOURCE),
    ]
    assert missing == ["taught-gone: quote 1 is not found verbatim in any document: 'a French instrument'"]


def test_a_taught_example_differing_only_in_case_punctuation_or_blanks_adds_nothing() -> None:
    from bot.core.intents import Intent, fold_example, merge_taught

    files = [
        (intent, "intents.yaml")
        for intent in parse_intent_file(
            'intents:\n  - id: tracking\n    examples: ["Who tracked it?", "Hello"]\n'
            '    quotes: ["Kourou station tracked the spacecraft."]\n',
            "intents.yaml",
        )
    ]
    taught = [
        Intent(id="taught-who", examples=["who tracked it", " WHO tracked  it ?! "], quotes=["May 3"]),
        Intent(id="taught-hello", examples=["hello!"], reply="Hi"),
    ]
    merged, missing = merge_taught(files, taught, [DOC])
    assert [i.id for i, _ in merged] == ["tracking"] and missing == []
    # Inner punctuation is part of the question.
    assert fold_example("Who launched Chang'e-6?") == "who launched chang'e-6"
    assert fold_example("What is 50%?") == "what is 50%"
