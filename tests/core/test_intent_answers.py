"""Which curated intent answers a question: the matcher ranks the intents, the fitted intent model
decides whether an intent's answer is given (small knowledge written here, not knowledge/)."""

from __future__ import annotations

import pytest

from bot.core.documents import parse_document
from bot.core.intents import parse_intent_file
from bot.core.knowledge import build_knowledge
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
