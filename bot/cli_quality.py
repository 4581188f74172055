"""Answer-quality commands: ``eval`` (measure on questions with known answers) and ``fit``.

``eval`` answers every question at confidence 0, so that one run shows precision and coverage at
every threshold: an admin picks ``MINIMUM_CONFIDENCE`` from the table for their own knowledge.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.core.errors import KnowledgeError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.evaluation import EvalReport, EvalSet

__all__ = ["register"]

EXIT_OK, EXIT_INVALID = 0, 1
# Where the development data lives next to a checkout of the repository.
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def _run_set(eval_set: EvalSet, knowledge_dir: Path, settings: Settings) -> EvalReport:
    from bot.core.evaluation import evaluate
    from bot.core.knowledge import load_knowledge_dir
    from bot.core.service import QAService

    knowledge = load_knowledge_dir(knowledge_dir)
    # Confidence 0: every question gets its would-be answer, and the report applies thresholds.
    service = QAService(knowledge, minimum_confidence=0.0, max_question_chars=settings.max_question_chars)
    return evaluate(eval_set.cases(), service.ask, settings.minimum_confidence)


def print_report(name: str, report: EvalReport, out: TextIO, *, verbose: bool = False) -> None:
    """Headline figures, the precision-coverage table and the calibration of one report."""
    t = report.threshold
    print(f"== {name}: {report.answerable} answerable, {report.unanswerable} unanswerable", file=out)
    print(f"at MINIMUM_CONFIDENCE {t:.2f}:", file=out)
    print(f"  precision   {100 * report.precision():5.1f} %  (right answers / answers given)", file=out)
    print(f"  coverage    {100 * report.coverage():5.1f} %  (right answers / answerable questions)", file=out)
    print(f"  declined    {100 * report.declined():5.1f} %  (of the unanswerable questions)", file=out)
    print("precision and coverage by threshold:", file=out)
    print("  threshold  precision  coverage  answers", file=out)
    for threshold, precision, coverage, given in report.curve():
        mark = "  <- now" if abs(threshold - t) < 0.025 else ""
        print(
            f"  {threshold:9.2f}  {100 * precision:8.1f}%  {100 * coverage:7.1f}%  {given:7d}{mark}", file=out
        )
    print(f"calibration (expected calibration error {report.calibration_error:.3f}):", file=out)
    print("  confidence  answers  mean confidence  share right", file=out)
    for low, mean, right, count in report.calibration():
        print(f"  {low:4.1f}-{low + 0.1:3.1f}  {count:8d}  {mean:15.2f}  {right:11.2f}", file=out)
    if verbose:
        for question, why in report.misses:
            print(f"  miss: {question}  ->  {why}", file=out)


def plot_report(reports: dict[str, EvalReport], path: Path) -> None:
    """The precision-coverage curve and the reliability diagram of each report, in one PNG."""
    from bot.charts import new_figure

    figure = new_figure("--plot", figsize=(11, 4.5))
    curve, reliability = figure.subplots(1, 2)
    for name, report in reports.items():
        points = report.curve([i / 100 for i in range(100)])
        curve.plot([100 * c for _, _, c, _ in points], [100 * p for _, p, _, _ in points], label=name)
        t = report.threshold
        curve.scatter([100 * report.coverage(t)], [100 * report.precision(t)], marker="o")
        bins = report.calibration()
        reliability.plot([m for _, m, _, _ in bins], [r for _, _, r, _ in bins], marker="o", label=name)
    curve.set(
        xlabel="coverage (%)", ylabel="precision (%)", title="Precision against coverage", xlim=(0, 100)
    )
    curve.set_ylim(0, 100)
    reliability.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    reliability.set(
        xlabel="confidence", ylabel="share of answers right", title="Reliability", xlim=(0, 1), ylim=(0, 1)
    )
    for axes in (curve, reliability):
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, like every command's own modules, so that `ask` does not pay for them.
    from bot.core.evaluation import find_eval_sets, merge, report_json

    try:
        sets = find_eval_sets(args.path)
        reports = {}
        for eval_set in sets:
            knowledge = args.knowledge or eval_set.knowledge or settings.knowledge_dir
            reports[eval_set.name] = _run_set(eval_set, knowledge, settings)
    except KnowledgeError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"citebot: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_INVALID
    if len(reports) > 1:
        reports = {f"{args.path.name} (all {len(reports)} sets)": merge(list(reports.values())), **reports}
    shown = dict(list(reports.items())[:1]) if len(reports) > 1 and not args.each else reports
    if args.json:
        print(json.dumps({name: report_json(r) for name, r in shown.items()}, indent=1))
    else:
        for name, report in shown.items():
            print_report(name, report, sys.stdout, verbose=args.verbose)
    if args.plot is not None:
        plot_report(shown, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return EXIT_OK


def _cmd_fit(args: argparse.Namespace, settings: Settings) -> int:
    eval_dir: Path = args.eval_dir
    if not (eval_dir / "squad-dev").is_dir() or not (eval_dir / "wikiqa-dev").is_dir():
        print(
            f"citebot: {eval_dir} does not hold the development data (squad-dev/, wikiqa-dev/, "
            "change6-dev.jsonl); pass --eval-dir or set CITEBOT_EVAL_DIR",
            file=sys.stderr,
        )
        return EXIT_INVALID
    try:
        from bot.fitting.fit import run_fit  # scipy: only for this command
    except ImportError as exc:
        print(f"citebot: fit needs {exc.name}: pip install 'citebot[fit]'", file=sys.stderr)
        return EXIT_INVALID
    return run_fit(eval_dir, check=args.check)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``eval`` and ``fit`` commands."""
    ev = commands.add_parser(
        "eval",
        help="precision, coverage, threshold table and calibration on questions with known answers",
        description="FILE: a question file asked of KNOWLEDGE_DIR (or --knowledge). DIR: a folder with "
        "questions.jsonl and knowledge/, or a folder of folders each holding questions.jsonl beside "
        "their documents (each its own knowledge base).",
    )
    ev.add_argument("path", type=Path, metavar="FILE|DIR")
    ev.add_argument("--knowledge", type=Path, metavar="DIR", help="knowledge folder for a question FILE")
    ev.add_argument("--each", action="store_true", help="a report for each question set, not only the total")
    ev.add_argument("--json", action="store_true", help="headline figures as JSON")
    ev.add_argument(
        "--plot", type=Path, metavar="PNG", help="draw the curve and reliability diagram (matplotlib)"
    )
    ev.add_argument("-v", "--verbose", action="store_true", help="list the questions handled wrongly")
    ev.set_defaults(handler=_cmd_eval)

    fit = commands.add_parser("fit", help="fit the ranking and answerability models on the development data")
    fit.add_argument(
        "--eval-dir",
        type=Path,
        default=Path(os.environ.get("CITEBOT_EVAL_DIR", DEFAULT_EVAL_DIR)),
        help="the development data (default: CITEBOT_EVAL_DIR or ../shared/eval next to the checkout)",
    )
    fit.add_argument(
        "--check",
        action="store_true",
        help="fit, then compare with the committed model; exit 1 if it differs",
    )
    fit.set_defaults(handler=_cmd_fit)
