from __future__ import annotations

import pytest

from bot.core.index import KnowledgeIndex, find_aliases
from bot.core.lexicon import synonyms
from bot.core.text import content_terms, stem, tokenize
from tests.core.tiny import document, index_of, position

SPACE = document(
    "Space notes",
    "The European Space Agency (ESA) tracked the probe. ESA is based in Paris. "
    "The Brazilian team joined late. Brazil signed too.\n\n"
    "Europe waited. The European parliament voted. Internet access and interviews were rare. "
    "Interest was high.",
    "space",
)
BIOLOGY = document(
    "Immunology",
    "An antibody (Ab) is a protein. It binds to antigens. He said so in 1901.\n\n"
    "Twelve countries agreed. The lab, also known as the Pasteur Institute, is in Paris.",
    "biology",
)


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return index_of(SPACE, BIOLOGY)


def terms(text: str) -> tuple[str, ...]:
    return tuple(content_terms(tokenize(text)))


@pytest.mark.parametrize(
    ("word", "relative"),
    [
        ("brazil", "brazilian"),
        ("brazilian", "brazil"),
        ("europe", "european"),
        ("european", "europe"),
    ],
)
def test_words_derived_from_one_another_are_relatives(
    index: KnowledgeIndex, word: str, relative: str
) -> None:
    assert stem(relative) in index.relatives(stem(word))


@pytest.mark.parametrize(
    ("word", "stranger"),
    [
        ("interest", "internet"),
        ("interest", "interview"),
        ("internet", "interview"),
    ],
)
def test_a_shared_prefix_alone_makes_no_relative(index: KnowledgeIndex, word: str, stranger: str) -> None:
    assert stem(stranger) not in index.relatives(stem(word))
    assert stem(word) not in index.relatives(stem(stranger))


def test_a_term_is_not_its_own_relative_and_numbers_have_none(index: KnowledgeIndex) -> None:
    assert stem("brazil") not in index.relatives(stem("brazil"))
    assert index.relatives("1901") == ()


def test_aliases_from_an_acronym_in_brackets_after_its_spelling(index: KnowledgeIndex) -> None:
    assert index.aliases[terms("European Space Agency")] == "esa"


def test_aliases_from_a_short_form_in_brackets_after_a_single_word(index: KnowledgeIndex) -> None:
    assert index.aliases[terms("antibody")] == "ab"


def test_aliases_from_an_acronym_used_elsewhere_in_the_texts() -> None:
    found = find_aliases(["The Negative Ions at the Lunar Surface instrument flew.", "NILS worked well."])
    assert found == {terms("Negative Ions at the Lunar Surface"): "nil"}


def test_a_name_is_never_read_across_two_texts() -> None:
    # The texts are searched joined together: a name must still end where its text ends.
    assert find_aliases(["It was European", "Space Agency work, said ESA."]) == {}
    assert find_aliases(["It was (European", "Space Agency) work, said ESA."]) == {}
    found = find_aliases(["Work of the European Space Agency", "ESA"])
    assert found == {terms("European Space Agency"): "esa"}


@pytest.mark.parametrize(
    "text",
    [
        "The team (Paris) agreed.",  # the bracket does not abbreviate what comes before it
        "The probe flew in 2024 (twice).",
        "The European Space Agency agreed.",  # no short form anywhere
    ],
)
def test_no_alias_without_a_short_form_that_abbreviates(text: str) -> None:
    assert find_aliases([text]) == {}


def test_spelled_out_names_the_short_form_for_a_run_of_question_terms(index: KnowledgeIndex) -> None:
    asked = list(terms("What did the European Space Agency say about antibodies?"))
    assert index.spelled_out(asked) == [
        (terms("European Space Agency"), "esa"),
        (terms("antibody"), "ab"),
    ]
    # The words must be the whole name, in order.
    assert index.spelled_out(list(terms("Space Agency of Europe"))) == []


def test_synonyms_are_only_words_the_knowledge_uses(index: KnowledgeIndex) -> None:
    everything = synonyms(stem("nations"))
    assert stem("countries") in everything
    assert len(everything) > 1  # WordNet knows other words for it...
    assert index.synonyms(stem("nations")) == [stem("countries")]  # ...the knowledge only this one
    assert index.synonyms(stem("zebra")) == []


def test_the_first_sentence_of_each_document_is_its_lead(index: KnowledgeIndex) -> None:
    leads = [index.sentences[p].sentence.text for p in index.lead_sentences]
    assert leads == ["The European Space Agency (ESA) tracked the probe.", "An antibody (Ab) is a protein."]
    assert not index.sentences[position(index, "Europe waited.")].lead  # first of a later paragraph


@pytest.mark.parametrize(
    ("text", "anaphoric"),
    [
        ("It binds to antigens.", True),
        ("He said so in 1901.", True),
        ("An antibody (Ab) is a protein.", False),
        ("ESA is based in Paris.", False),
    ],
)
def test_a_sentence_opening_with_a_pronoun_is_anaphoric(
    index: KnowledgeIndex, text: str, anaphoric: bool
) -> None:
    assert index.sentences[position(index, text)].anaphoric is anaphoric


def test_a_sentence_defining_a_short_form_defines_both_names(index: KnowledgeIndex) -> None:
    defining = index.sentences[position(index, "An antibody (Ab) is a protein.")]
    assert {"ab", stem("antibody")} <= defining.defines
    acronym = index.sentences[position(index, "The European Space Agency (ESA)")]
    assert {"esa", *terms("European Space Agency")} <= acronym.defines
    assert index.sentences[position(index, "ESA is based in Paris.")].defines == frozenset()


def test_a_sentence_naming_one_thing_twice_defines_both_names(index: KnowledgeIndex) -> None:
    defining = index.sentences[position(index, "also known as")]
    assert {"lab", "pasteur", "institut"} <= defining.defines


def test_a_rarer_term_weighs_more_and_an_unseen_one_most(index: KnowledgeIndex) -> None:
    assert index.idf("pari") < index.idf("brazil") < index.idf("quarterback")
    assert index.idf("quarterback") == index.unseen_idf


def test_typos_are_corrected_to_a_close_word_of_the_knowledge(index: KnowledgeIndex) -> None:
    assert index.correct_spelling("trackd") == "tracked"
    assert index.correct_spelling("antibdoy") == "antibody"  # a swapped pair is one slip
    assert index.correct_spelling("tracked") is None  # a known word is no typo
    assert index.correct_spelling("zebra") is None  # nothing close


def test_a_number_is_never_a_typo() -> None:
    index = index_of(document("Moon", "Chang'e-6 landed on the Moon."))
    assert index.correct_spelling("change4") is None


def test_knows_a_word_or_its_relatives(index: KnowledgeIndex) -> None:
    assert index.knows(stem("brazilians"))
    # Only "signed" is written: "signer" is known as its relative.
    assert stem("signer") not in index.sentence_bm25.idf
    assert index.knows(stem("signer"))
    assert not index.knows(stem("quarterbacks"))


def test_an_empty_knowledge_base_indexes_nothing() -> None:
    empty = KnowledgeIndex([])
    assert len(empty.sentences) == 0
    assert list(empty.sentences) == []
    assert len(empty.lead_sentences) == 0
    assert not empty.knows("esa")


def test_a_sentence_met_again_is_indexed_as_where_it_was_first() -> None:
    # A sentence repeated in another document is analysed there as where it first stood.
    copy = document("Space notes again", SPACE.body + "\n\nThe probe landed. ESA is based in Paris.", "copy")
    alone = list(index_of(copy).sentences)
    together = index_of(SPACE, BIOLOGY, copy)
    copies = [s for s in together.sentences if s.doc == 2]
    assert len(copies) == len(alone) and len({s.sentence.text for s in copies}) < len(copies)
    for indexed, first in zip(copies, alone, strict=True):
        assert (indexed.tokens, indexed.terms, indexed.mentions, indexed.anaphoric, indexed.defines) == (
            first.tokens,
            first.terms,
            first.mentions,
            first.anaphoric,
            first.defines,
        )
    assert together.sentences[position(together, "An antibody")].defines  # after the repeats


@pytest.mark.parametrize(
    "sentence",
    [
        "The lab, ALSO KNOWN AS the Pasteur Institute, is in Paris.",
        "The lab, commonly referred to as the Pasteur Institute, is in Paris.",
        "The lab is known as the Pasteur Institute.",
        "PI is ſhort for the Pasteur Institute.",  # a long s: re.IGNORECASE reads it as an s
        "PI stands for the Pasteur Institute.",
        "The Pasteur Institute, abbreviated PI, is in Paris.",
        "The Pasteur Institute, or simply the Institute, is in Paris.",
        "The lab, i.e. the Pasteur Institute, is in Paris.",
    ],
)
def test_every_alias_cue_defines_both_names(sentence: str) -> None:
    index = index_of(document("Labs", sentence))
    assert {"pasteur", "institut"} <= index.sentences[0].defines
