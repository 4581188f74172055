"""Teaching benchmark: what teaching does, measured rather than assumed.

Run from the repository root: ``python benchmarks/teaching.py`` (about a minute). It asks every
WikiQA query of the development data (against their whole knowledge folder), takes the answerable
ones answered wrongly or declined, and teaches every other one of them (a deterministic half, in
file order) through the same path as ``kb teach``: the question cites the first sentence of the
knowledge that the scorer counts as its answer. Then it asks every question again and reports:

- the taught questions answered right (floor: all of them);
- precision, coverage and unanswerable declined on every other WikiQA query, and on the SQuAD
  articles (each the only document, as the development data loads them), before and after
  (floor: none drops).

``--teach-squad`` also teaches half of each SQuAD article's wrong answers, a harder test: SQuAD
2.0's unanswerable questions are near-paraphrases of answerable ones about the same paragraphs.

Exits with status 1 when a figure misses its floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from table import Row, print_rows  # this folder: the script's own

from bot.config import Settings
from bot.core.evaluation import EvalCase, EvalReport, evaluate, find_eval_sets, merge
from bot.runtime import Citebot, TeachingError

REPO = Path(__file__).resolve().parents[1]

EVAL_DIR = Path(os.environ.get("CITEBOT_EVAL_DIR", REPO.parent / "shared" / "eval"))


@dataclass
class Outcome:
    """One set's figures before and after teaching."""

    taught: int
    taught_right: int
    unteachable: int  # wrong questions whose answer no single sentence holds
    others_before: EvalReport
    others_after: EvalReport
    teach_ms: list[float]


def _reference(citebot: Citebot, case: EvalCase) -> str | None:
    """DOC:PARAGRAPH:SENTENCE of the first sentence the scorer counts as the answer to ``case``."""
    for document in citebot.service.knowledge.documents:
        for paragraph in document.paragraphs:
            for number, sentence in enumerate(paragraph.sentences, 1):
                if case.is_right(sentence.text):
                    return f"{document.id}:{paragraph.number}:{number}"
    return None


async def _run_set(knowledge: Path, cases: list[EvalCase], folder: Path, *, teach: bool) -> Outcome:
    settings = Settings(  # type: ignore[call-arg]
        knowledge_dir=knowledge, database_path=folder / "citebot.sqlite3", user_id_key="benchmark"
    )
    citebot = await Citebot.open(settings)
    try:
        service = citebot.service
        threshold = service.minimum_confidence
        before = evaluate(cases, service.ask, threshold)
        wrong = [
            index
            for index, (case, judged) in enumerate(zip(cases, before.judged, strict=True))
            if case.answerable and not (judged.answered and judged.confidence >= threshold and judged.right)
        ]
        chosen = wrong[::2] if teach else []
        taught: list[int] = []
        unteachable = 0
        timings: list[float] = []
        for index in chosen:
            reference = _reference(citebot, cases[index])
            if reference is None:
                unteachable += 1
                continue
            started = time.perf_counter()
            try:
                await citebot.teach_citation(cases[index].question, reference, taught_by="benchmark")
            except TeachingError:  # the same wording twice in the set: taught already
                unteachable += 1
                continue
            timings.append(1000 * (time.perf_counter() - started))
            taught.append(index)
        after = evaluate(cases, service.ask, threshold)
        right = sum(
            after.judged[i].answered and after.judged[i].confidence >= threshold and after.judged[i].right
            for i in taught
        )
        keep = [i for i in range(len(cases)) if i not in set(taught)]
        others_before = EvalReport(tuple(before.judged[i] for i in keep), threshold)
        others_after = EvalReport(tuple(after.judged[i] for i in keep), threshold)
        return Outcome(len(taught), right, unteachable, others_before, others_after, timings)
    finally:
        await citebot.close()


def _figures(name: str, outcomes: list[Outcome]) -> list[Row]:
    taught = sum(o.taught for o in outcomes)
    right = sum(o.taught_right for o in outcomes)
    unteachable = sum(o.unteachable for o in outcomes)
    before = merge([o.others_before for o in outcomes])
    after = merge([o.others_after for o in outcomes])
    timings = sorted(t for o in outcomes for t in o.teach_ms)
    median = timings[len(timings) // 2] if timings else float("nan")
    rows = [
        Row(name, "taught questions answered right", f"{right} / {taught}", "all", right == taught),
        Row(name, "wrong ones not teachable (no one sentence)", str(unteachable), "-", True),
        Row(name, "teaching one question, median", f"{median:.0f} ms", "-", True),
    ]
    for label, measure in (
        ("precision", EvalReport.precision),
        ("coverage", EvalReport.coverage),
        ("unanswerable declined", EvalReport.declined),
    ):
        old, new = measure(before), measure(after)
        rows.append(
            Row(
                name,
                f"other questions: {label}",
                f"{100 * old:.1f} % -> {100 * new:.1f} %",
                f">= {100 * old:.1f} %",
                new >= old - 1e-9,
            )
        )
    rows.append(
        Row(name, "other questions", f"{before.answerable} answerable, {before.unanswerable} not", "-", True)
    )
    return rows


async def main(eval_dir: Path, *, teach_squad: bool) -> int:
    """Run both sets and print the table; 1 when a floor is missed."""
    wikiqa = eval_dir / "wikiqa-dev"
    squad = eval_dir / "squad-dev"
    if not wikiqa.is_dir() or not squad.is_dir():
        print(f"no development data in {eval_dir}: set CITEBOT_EVAL_DIR to the eval folder", file=sys.stderr)
        return 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        runs = (
            ("wikiqa-dev", find_eval_sets(wikiqa), True),
            ("squad-dev", find_eval_sets(squad), teach_squad),
        )
        for name, sets, teach in runs:
            outcomes = []
            for number, found in enumerate(sets):
                assert found.knowledge is not None
                folder = Path(scratch) / f"{name}-{number}"
                folder.mkdir()
                outcomes.append(await _run_set(found.knowledge, found.cases(), folder, teach=teach))
            rows += _figures(name, outcomes)
    print_rows(rows)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--eval-dir", type=Path, default=EVAL_DIR, help="the development data (../shared/eval)"
    )
    parser.add_argument("--teach-squad", action="store_true", help="also teach half of SQuAD's wrong answers")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.eval_dir, teach_squad=args.teach_squad)))
