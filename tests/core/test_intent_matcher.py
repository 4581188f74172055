from __future__ import annotations

import pytest

from bot.core.documents import parse_document
from bot.core.index import KnowledgeIndex
from bot.core.intent_matcher import CHITCHAT_SCORE, IntentMatch, IntentMatcher, chitchat_match
from bot.core.intents import parse_intent_file, resolve_intents
from bot.core.knowledge import build_knowledge
from bot.core.pipeline.analysis import analyse_question
from bot.core.pipeline.retrieval import query_terms
from bot.core.service import QAService

DOC = parse_document(
    "---\ntitle: Notes\n---\n\n"
    "Chang’e-6 launched on May 3. It carried a Swedish instrument.\n\n"
    "Kourou station tracked the spacecraft. The samples return around June 25.\n\n"
    "ESA will not be involved in the ILRS. Turkey has also applied to join ILRS.\n\n"
    "Chang’e-7 will fly around 2026.\n",
    "notes.md",
    doc_id="notes",
)
INTENTS = """
intents:
  - id: launch
    document: notes
    examples: ["When did Chang'e-6 launch?", "What date did Chang'e-6 lift off?"]
    quotes: [launched on May 3]
  - id: tracking
    document: notes
    examples: ["Who tracked Chang'e-6?", "Which station followed the spacecraft?"]
    quotes: [Kourou station tracked the spacecraft]
  - id: esa-ilrs
    document: notes
    examples: ["Will ESA join the ILRS?", "Is ESA part of the ILRS?"]
    quotes: [ESA will not be involved in the ILRS.]
  - id: turkey
    document: notes
    examples: ["Has Turkey applied to join the ILRS?"]
    quotes: [Turkey has also applied to join ILRS.]
  - id: hello
    examples: [hello, hi there]
    reply: Hello!
"""


@pytest.fixture(scope="module")
def index() -> KnowledgeIndex:
    return KnowledgeIndex([DOC])


@pytest.fixture(scope="module")
def matcher(index: KnowledgeIndex) -> IntentMatcher:
    pairs = [(intent, "intents.yaml") for intent in parse_intent_file(INTENTS, "intents.yaml")]
    return IntentMatcher(resolve_intents(pairs, [DOC]), index)


def ranked(matcher: IntentMatcher, index: KnowledgeIndex, question: str) -> list[IntentMatch]:
    analysed = analyse_question(question)
    return matcher.ranked(analysed, query_terms(index, analysed))


def scores(matcher: IntentMatcher, index: KnowledgeIndex, question: str) -> dict[str, float]:
    return {m.intent.id: m.score for m in ranked(matcher, index, question)}


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("When did Chang'e-6 launch?", "launch"),
        ("when did change 6 launch", "launch"),
        ("WHEN DID CHANG’E-6 LAUNCH", "launch"),
        ("Who tracked Chang’e 6?", "tracking"),
        # Rewordings: other word forms and word order, not just a near-copy of an example.
        ("Is ESA joining the ILRS?", "esa-ilrs"),
        ("ILRS: will ESA join it?", "esa-ilrs"),
        ("Is Turkey joining the ILRS?", "turkey"),
    ],
)
def test_the_intent_a_question_rewords_ranks_first(
    matcher: IntentMatcher, index: KnowledgeIndex, question: str, intent: str
) -> None:
    matches = ranked(matcher, index, question)
    assert matches[0].intent.id == intent
    assert chitchat_match(matches) is None


@pytest.mark.parametrize(
    "question",
    [
        "When did Chang'e-5 launch?",  # another mission is another question
        "When didn't Chang'e-6 launch?",  # negation flips the question
        "Where did Chang'e-6 launch?",  # a place is asked, the intent gives a date
        "completely unrelated words here",
    ],
)
def test_guards_rule_out_what_word_overlap_gets_wrong(
    matcher: IntentMatcher, index: KnowledgeIndex, question: str
) -> None:
    assert "launch" not in scores(matcher, index, question)
    assert all(m.intent.is_chitchat for m in ranked(matcher, index, question))


def test_a_word_nobody_uses_lowers_the_score(matcher: IntentMatcher, index: KnowledgeIndex) -> None:
    plain = scores(matcher, index, "Who tracked Chang'e-6?")["tracking"]
    odd = scores(matcher, index, "Who tracked Chang'e-6 quarterbacks?")["tracking"]
    assert plain == pytest.approx(1.0)
    assert odd < 0.75 * plain


def test_a_question_naming_another_subject_scores_lower(
    matcher: IntentMatcher, index: KnowledgeIndex
) -> None:
    esa = scores(matcher, index, "Is ESA joining the ILRS?")
    assert esa["esa-ilrs"] > esa.get("turkey", 0.0) + 0.2
    turkey = scores(matcher, index, "Is Turkey joining the ILRS?")
    assert turkey["turkey"] > turkey.get("esa-ilrs", 0.0) + 0.2


def test_matches_are_best_first(matcher: IntentMatcher, index: KnowledgeIndex) -> None:
    values = [m.score for m in ranked(matcher, index, "Is ESA joining the ILRS?")]
    assert len(values) >= 2
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(("question", "intent"), [("hello", "hello"), ("Hi there!", "hello")])
def test_small_talk_gets_its_reply(
    matcher: IntentMatcher, index: KnowledgeIndex, question: str, intent: str
) -> None:
    match = chitchat_match(ranked(matcher, index, question))
    assert match is not None
    assert match.intent.id == intent
    assert match.score >= CHITCHAT_SCORE


def test_small_talk_needs_a_close_match(matcher: IntentMatcher, index: KnowledgeIndex) -> None:
    matches = ranked(matcher, index, "hell")
    assert matches[0].intent.id == "hello"  # close, but not close enough for a fixed reply
    assert chitchat_match(matches) is None


def test_a_greeting_with_a_question_is_a_question(matcher: IntentMatcher, index: KnowledgeIndex) -> None:
    matches = ranked(matcher, index, "hello, who tracked Chang'e-6?")
    assert matches[0].intent.id == "tracking"
    assert chitchat_match(matches) is None


def test_suggestions_are_examples_of_cited_intents(matcher: IntentMatcher) -> None:
    suggestions = matcher.suggestions("When did Chang'e-5 launch?")
    assert suggestions[0] == "When did Chang'e-6 launch?"
    assert len(suggestions) == 3
    assert len(set(suggestions)) == 3
    assert "hello" not in matcher.suggestions("hello there")


def test_an_empty_matcher_matches_nothing(index: KnowledgeIndex) -> None:
    empty = IntentMatcher([], index)
    analysed = analyse_question("hello")
    assert empty.ranked(analysed, query_terms(index, analysed)) == []
    assert empty.suggestions("hello") == []


@pytest.fixture(scope="module")
def service() -> QAService:
    pairs = [(intent, "intents.yaml") for intent in parse_intent_file(INTENTS, "intents.yaml")]
    return QAService(build_knowledge([DOC], pairs))


def answering_intent(service: QAService, question: str) -> str | None:
    """The intent whose answer the engine gives: the matcher ranks, the fitted intent model decides."""
    return service.ask(question).intent


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("When did Chang'e-6 launch?", "launch"),
        ("when did change 6 launch", "launch"),
        ("WHEN DID CHANG’E-6 LAUNCH", "launch"),
        ("Who tracked Chang’e 6?", "tracking"),
        ("hello", "hello"),
        ("Hi there!", "hello"),
        # Rewordings: other word forms and word order, not just a near-copy of an example.
        ("Is ESA joining the ILRS?", "esa-ilrs"),
        ("ILRS: will ESA join it?", "esa-ilrs"),
        ("Is Turkey joining the ILRS?", "turkey"),
        # Guards against what word overlap gets wrong.
        ("When did Chang'e-5 launch?", None),  # another mission is another question
        ("When didn't Chang'e-6 launch?", None),  # negation flips the question
        ("Where did Chang'e-6 launch?", None),  # a place is asked, the intent gives a date
        ("Who tracked Chang'e-6 quarterbacks?", None),  # a word the knowledge has never seen
        ("hell", None),  # chit-chat needs a closer match than cited intents
        ("completely unrelated words here", None),
    ],
)
def test_the_intent_answering_or_none(service: QAService, question: str, intent: str | None) -> None:
    assert answering_intent(service, question) == intent
