from __future__ import annotations

import dataclasses
import pickle

import pytest

from bot.core.documents import Sentence, parse_document, slugify
from bot.core.errors import KnowledgeError

ARTICLE = """---
title: "Chang'e-6 notes"
url: https://example.org/change6
published: 2024-06-12
---

## Launch

Chang’e-6 launched on May 3. It carried a Swedish instrument.

## Return
The samples return around June 25.
"""


def problem_text(text: str, source: str = "notes.md") -> str:
    with pytest.raises(KnowledgeError) as caught:
        parse_document(text, source)
    assert all(p.source == source for p in caught.value.problems)
    return str(caught.value)


def test_sentences_are_verbatim_slices_of_the_body() -> None:
    document = parse_document(ARTICLE.replace("## Launch\n\n", ""), "notes.md")
    texts = [s.text for s in document.sentences]
    assert texts == [
        "Chang’e-6 launched on May 3.",
        "It carried a Swedish instrument.",
        "The samples return around June 25.",
    ]
    for sentence in document.sentences:
        assert document.body[sentence.start : sentence.end] == sentence.text


def test_headings_label_paragraphs_and_are_never_sentences() -> None:
    document = parse_document(
        "---\ntitle: T\n---\nIntro.\n\n## Launch\n\nIt flew.\n\n## Return\nIt came back.\n", "n.md"
    )
    assert [(p.number, p.section) for p in document.paragraphs] == [(1, None), (2, "Launch"), (3, "Return")]
    assert [s.text for s in document.sentences] == ["Intro.", "It flew.", "It came back."]


def test_a_heading_first_in_the_body_is_not_a_sentence() -> None:
    document = parse_document(ARTICLE, "notes.md")
    assert [(p.number, p.section) for p in document.paragraphs] == [(1, "Launch"), (2, "Return")]
    assert not any("#" in s.text for s in document.sentences)


def test_front_matter_fields_and_id() -> None:
    document = parse_document(ARTICLE, "notes.md")
    assert document.id == "change-6-notes"
    assert document.title == "Chang'e-6 notes"
    assert document.meta.url == "https://example.org/change6"
    assert document.meta.published is not None and document.meta.published.isoformat() == "2024-06-12"


def test_plain_text_with_a_title_from_the_caller() -> None:
    document = parse_document(
        "Just one line.\r\n\r\nAnd another.", "plain.txt", title="Plain", doc_id="plain"
    )
    assert document.id == "plain"
    assert [s.text for s in document.sentences] == ["Just one line.", "And another."]


def test_slugify() -> None:
    assert slugify("Chang'e-6 news") == "change-6-news"
    assert slugify("   ") == "document"


def test_missing_title_names_the_file_and_field() -> None:
    message = problem_text("---\nurl: https://example.org\n---\n\nSome text.\n")
    assert "notes.md: front matter field 'title': is required" in message


def test_plain_text_without_any_title_is_invalid() -> None:
    assert "field 'title'" in problem_text("Some text without front matter.\n")


def test_blank_title_is_invalid() -> None:
    assert "front matter field 'title': must not be empty" in problem_text('---\ntitle: "  "\n---\n\nText.\n')


def test_bad_yaml_front_matter_names_the_line() -> None:
    message = problem_text("---\ntitle: ok\nurl: [unclosed\n---\n\nText.\n")
    assert "notes.md: front matter line" in message
    assert "invalid YAML" in message


def test_front_matter_that_is_not_a_mapping() -> None:
    assert "front matter must be a mapping" in problem_text("---\n- a\n- b\n---\n\nText.\n")


def test_unclosed_front_matter_names_line_1() -> None:
    message = problem_text("---\ntitle: Never closed\n\nSome text.\n")
    assert "notes.md: line 1: front matter opened with '---' is never closed" in message


@pytest.mark.parametrize("body", ["", "\n\n   \n", "## Only a heading\n"])
def test_empty_body_is_invalid(body: str) -> None:
    assert "notes.md: body: has no paragraphs of text" in problem_text(f"---\ntitle: Empty\n---\n{body}")


@pytest.mark.parametrize("url", ["not a link", "ftp://example.org/file", "javascript:alert(1)"])
def test_bad_url_names_the_field(url: str) -> None:
    message = problem_text(f'---\ntitle: T\nurl: "{url}"\n---\n\nText.\n')
    assert "notes.md: front matter field 'url': must be an http(s) link" in message


def test_bad_date_names_the_field() -> None:
    assert "front matter field 'published'" in problem_text(
        "---\ntitle: T\npublished: someday\n---\n\nText.\n"
    )


def test_every_front_matter_problem_is_reported_at_once() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_document('---\nurl: "nope"\npublished: someday\n---\n\nText.\n', "notes.md")
    wheres = sorted(p.where for p in caught.value.problems)
    assert wheres == [
        "front matter field 'published'",
        "front matter field 'title'",
        "front matter field 'url'",
    ]


def test_a_parsed_document_comes_back_from_pickling_whole() -> None:
    # Worker processes send parsed documents back pickled, as offsets into the body.
    text = "---\ntitle: Moon\n---\n# Landing\n\nIt landed. It – the probe – woke.\n\nSamples came in 2024."
    document = parse_document(text, "moon.md")
    back = pickle.loads(pickle.dumps(document))
    assert back == document
    texts = [s.text for s in back.sentences]
    assert texts == ["It landed.", "It – the probe – woke.", "Samples came in 2024."]
    assert back.paragraphs[0].section == "Landing"


def test_a_document_built_by_hand_comes_back_as_it_was() -> None:
    # A sentence that is not the slice of the body it points at is kept as it is, not re-sliced.
    document = parse_document("---\ntitle: Moon\n---\nIt landed. It woke.", "moon.md")
    paragraph = document.paragraphs[0]
    sentences = (Sentence("Something else.", 1, 0, 10), *paragraph.sentences[1:])
    odd = dataclasses.replace(paragraph, sentences=sentences)
    hand_made = dataclasses.replace(document, paragraphs=(odd,))
    back = pickle.loads(pickle.dumps(hand_made))
    assert back == hand_made
    assert back.sentences[0].text == "Something else."
