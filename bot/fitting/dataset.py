"""Training data for the fit: every development question's candidates, features and labels.

Each question is run through the engine's own answer path up to the fitted models
(:func:`bot.core.service.gather`), so the fit sees exactly the features the engine computes.
A candidate is labelled right by the same rule the evaluation uses (:mod:`bot.core.evaluation`).

Questions are grouped for cross-validation: one SQuAD article, one slice of the WikiQA queries,
or one question file about the default article (the hand-written one is asked with and without
the curated intents), so that a group is always judged by models fitted without it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.core.answers import Answer
from bot.core.evaluation import EvalCase, EvalSet, find_eval_sets
from bot.core.knowledge import KnowledgeBase, load_knowledge_dir
from bot.core.service import gather

__all__ = ["Question", "load_development_data"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_KNOWLEDGE = REPOSITORY / "knowledge"
ARTICLE_QUESTIONS = REPOSITORY / "tests" / "data" / "article-questions.jsonl"
# Questions we wrote ourselves, blind to the development sets (tests/data/written/README.md).
WRITTEN = REPOSITORY / "tests" / "data" / "written"
CURATED_INTENTS = "intents.yaml"
WIKIQA_SLICES = 5


@dataclass(frozen=True)
class Question:
    """One development question as the fit sees it."""

    set_name: str  # the question file it comes from
    group: str  # its cross-validation group
    text: str
    answerable: bool
    candidates: FloatArray  # one row of candidate features per candidate
    right: BoolArray  # whether each candidate answers the question
    paragraphs: IntArray  # each candidate's paragraph
    question_values: FloatArray  # the question's own answerability features
    final: Answer | None  # set when no model is involved (small talk, categorical declines)
    intent_score: float = 0.0  # of the best-matching curated intent, if any
    intent_row: int = -1  # the candidate row of its answer; -1 without an intent
    intent_right: bool = False  # whether its answer is right


def _questions(
    set_name: str, group: str, knowledge: KnowledgeBase, cases: list[EvalCase]
) -> Iterator[Question]:
    index = knowledge.index
    for case in cases:
        gathered = gather(knowledge, case.question)
        if isinstance(gathered, Answer):
            empty = np.zeros(0)
            yield Question(
                set_name,
                group,
                case.question,
                case.answerable,
                empty.reshape(0, 0),
                empty.astype(bool),
                empty.astype(np.int64),
                empty,
                gathered,
            )
            continue
        positions = gathered.retrieval.sentences.tolist()
        right = np.array(
            [case.answerable and case.is_right(index.sentences[p].sentence.text) for p in positions],
            dtype=bool,
        )
        intent, row = gathered.intent, gathered.intent_row
        yield Question(
            set_name,
            group,
            case.question,
            case.answerable,
            gathered.features.values,
            right,
            gathered.retrieval.paragraphs,
            gathered.question_values,
            None,
            intent.score if intent is not None else 0.0,
            row if row is not None else -1,
            bool(row is not None and right[row]),
        )


def _run(eval_set: EvalSet, knowledge_dir: Path, set_name: str, group: str) -> list[Question]:
    knowledge = load_knowledge_dir(knowledge_dir)
    return list(_questions(set_name, group, knowledge, eval_set.cases()))


def load_development_data(eval_dir: Path) -> list[Question]:
    """Every development question: SQuAD articles, WikiQA queries and the default article's questions."""
    questions: list[Question] = []
    for eval_set in find_eval_sets(eval_dir / "squad-dev"):
        assert eval_set.knowledge is not None
        questions += _run(eval_set, eval_set.knowledge, "squad-dev", f"squad-dev/{eval_set.name}")
    wikiqa = find_eval_sets(eval_dir / "wikiqa-dev")[0]
    assert wikiqa.knowledge is not None
    knowledge = load_knowledge_dir(wikiqa.knowledge)
    cases = wikiqa.cases()
    # Contiguous slices of the file: its queries are ordered by the page they were asked of, so
    # a page's queries stay together.
    size = -(-len(cases) // WIKIQA_SLICES)
    for start in range(0, len(cases), size):
        group = f"wikiqa-dev/{start // size + 1}"
        questions += _questions("wikiqa-dev", group, knowledge, cases[start : start + size])
    article = load_knowledge_dir(DEFAULT_KNOWLEDGE)
    change6 = EvalSet("change6-dev", None, eval_dir / "change6-dev.jsonl")
    blind = EvalSet("article-questions", None, ARTICLE_QUESTIONS)
    # The article's two question files are two groups: held-out questions about it will be new
    # questions about the same article and intents, as one file is to the other.
    questions += _questions("change6-dev", "change6-dev", article, change6.cases())
    questions += _questions("article-questions", "article-questions", article, blind.cases())
    # The same questions without the curated intents: the article as a community that wrote none
    # would serve it.
    with tempfile.TemporaryDirectory() as folder:
        for path in DEFAULT_KNOWLEDGE.iterdir():
            if path.is_file() and path.name != CURATED_INTENTS:
                shutil.copy(path, folder)
        uncurated = load_knowledge_dir(Path(folder))
    questions += _questions("article-questions-uncurated", "article-questions", uncurated, blind.cases())
    questions += _written(article, uncurated)
    return questions


def _written(article: KnowledgeBase, uncurated: KnowledgeBase) -> list[Question]:
    """Our own questions: about the article (asked with and without its intents), 24 Wikipedia
    pages, and two SQuAD articles (in the group of the SQuAD article they are about).
    """
    cases = EvalSet("article", None, WRITTEN / "article" / "questions.jsonl").cases()
    found = list(_questions("written/article", "written/article", article, cases))
    found += _questions("written/article-uncurated", "written/article", uncurated, cases)
    for eval_set in find_eval_sets(WRITTEN):
        if eval_set.knowledge is None:
            continue  # the article's, asked above
        squad = eval_set.name.removeprefix("squad-")
        group = f"squad-dev/{squad}" if squad != eval_set.name else f"written/{eval_set.name}"
        found += _run(eval_set, eval_set.knowledge, f"written/{eval_set.name}", group)
    return found
