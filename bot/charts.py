"""Charts of the question log, drawn with matplotlib (the optional ``plot`` extra) as PNG bytes.

matplotlib is imported only when a chart is drawn, so ``python -m bot ask`` and the bots' start-up
never load it. Figures are built with the object-oriented API on the Agg canvas, never pyplot:
pyplot keeps global state, and the fronts draw in a worker thread while the event loop answers.

The fronts call :func:`admin_chart`, which never fails: the chart accompanies the text summary,
and without matplotlib (or on any drawing error) the admin still gets the text.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.core.errors import CitebotError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from bot.runtime import Citebot, DayActivity

__all__ = [
    "CHART_FILENAME",
    "INSTALL_HINT",
    "ChartUnavailableError",
    "activity_chart",
    "admin_chart",
    "new_figure",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install -e '.[plot]' in a checkout (or pip install matplotlib)"
CHART_FILENAME = "citebot-stats.png"
ANSWERED_COLOR, DECLINED_COLOR, SHARE_COLOR = "#4c72b0", "#c9ccd1", "#dd8452"
HELPFUL_COLOR, NOT_HELPFUL_COLOR = "#55a868", "#c44e52"
# Beyond this many days a daily share zigzags too much to read: a rolling share shows the trend.
ROLLING_AFTER_DAYS, ROLLING_DAYS = 45, 7
# Up to this many days each day is a bar; beyond, one filled outline per series is drawn.
BARS_UP_TO_DAYS = 92
# Up to this many days every day gets a tick; beyond, matplotlib picks weeks or months.
DAILY_TICKS_UP_TO = 10


class ChartUnavailableError(CitebotError):
    """matplotlib is not installed, so no chart can be drawn; the message says what to install."""


def new_figure(purpose: str, **options: Any) -> Figure:
    """A matplotlib figure on the Agg canvas; without matplotlib, says that ``purpose`` needs it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartUnavailableError(f"{purpose} needs matplotlib: {INSTALL_HINT}") from exc
    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure


def activity_chart(
    activity: Sequence[DayActivity], *, title: str, purpose: str = "the chart"
) -> bytes | None:
    """A PNG of questions per day (answered and declined), the share answered and the day's votes.

    None when no question was asked in the period: a chart of zeros says nothing that the text
    summary ("0 questions") does not, and would only be a large empty picture in a chat.
    """
    if not any(day.asked for day in activity):
        return None
    figure = new_figure(purpose, figsize=(9, 6), dpi=100)
    # Fixed margins (room for 5-digit counts): matplotlib's automatic layouts would double the time.
    figure.subplots_adjust(left=0.09, right=0.91, top=0.94, bottom=0.15, hspace=0.08)
    import matplotlib.dates as mdates  # registers the converters that put dates on an axis
    from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

    # Days as matplotlib's date numbers (days since its epoch): bars and stairs are placed by number.
    days = mdates.date2num([day.day for day in activity])  # type: ignore[no-untyped-call]
    columns = _bars if len(activity) <= BARS_UP_TO_DAYS else _stairs
    questions, votes = figure.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    questions.set_title(title)
    answered = [day.answered for day in activity]
    declined = [day.asked - day.answered for day in activity]
    columns(questions, days, answered, [0] * len(days), ANSWERED_COLOR, "answered")
    columns(questions, days, declined, answered, DECLINED_COLOR, "declined")
    questions.set_ylabel("questions")
    questions.set_ylim(0, 1.08 * max(day.asked for day in activity))
    questions.yaxis.set_major_locator(MaxNLocator(integer=True))
    share = questions.twinx()
    long = len(activity) > ROLLING_AFTER_DAYS
    share.plot(
        days,
        _shares(activity, ROLLING_DAYS if long else 1),
        color=SHARE_COLOR,
        marker="" if long else "o",
        markersize=3,
        label=f"share answered ({ROLLING_DAYS}-day)" if long else "share answered",
    )
    share.set_ylim(0, 105)
    share.yaxis.set_major_formatter(PercentFormatter())
    share.set_ylabel("answered", color=SHARE_COLOR)

    # Helpful votes go up, not helpful ones down, so the two never hide each other.
    zeros = [0] * len(days)
    columns(votes, days, [day.helpful for day in activity], zeros, HELPFUL_COLOR, "helpful")
    columns(votes, days, [-day.not_helpful for day in activity], zeros, NOT_HELPFUL_COLOR, "not helpful")
    votes.axhline(0, color="black", linewidth=0.6)
    votes.set_ylabel("votes")
    votes.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    votes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{abs(value):g}"))
    top = max([1, *(day.helpful for day in activity), *(day.not_helpful for day in activity)])
    votes.set_ylim(-1.15 * top, 1.15 * top)

    # Whole days only: an hourly axis under a day or two of bars would suggest times of day.
    # (matplotlib.dates has no annotations yet, hence the ignores.)
    daily = len(activity) <= DAILY_TICKS_UP_TO
    locator = mdates.DayLocator() if daily else mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    votes.xaxis.set_major_locator(locator)
    votes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    votes.set_xlim(days[0] - 0.6, days[-1] + 0.6)
    for axes in (questions, votes):
        axes.grid(axis="y", alpha=0.3)
    handles = [h for axes in (questions, share, votes) for h in axes.get_legend_handles_labels()[0]]
    figure.legend(handles=handles, loc="lower center", ncols=len(handles), fontsize="small", frameon=False)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _bars(
    axes: Axes, days: Sequence[float], heights: Sequence[int], bottoms: Sequence[int], color: str, label: str
) -> None:
    axes.bar(days, heights, width=0.8, bottom=bottoms, color=color, label=label)


def _stairs(
    axes: Axes, days: Sequence[float], heights: Sequence[int], bottoms: Sequence[int], color: str, label: str
) -> None:
    # One filled outline instead of a rectangle per day: a year of bars takes seconds to draw,
    # ten years half a minute, and the bars would be thinner than a pixel anyway.
    edges = [*(day - 0.5 for day in days), days[-1] + 0.5]
    tops = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
    # fill_between rather than stairs: its limits are computed from points, not path by path (10x).
    axes.fill_between(
        edges, [*bottoms, bottoms[-1]], [*tops, tops[-1]], step="post", color=color, label=label, linewidth=0
    )


def _shares(activity: Sequence[DayActivity], window: int) -> list[float]:
    """Percent of questions answered over each day's last ``window`` days; NaN (a gap) when none."""
    shares = []
    for end in range(1, len(activity) + 1):
        span = activity[max(0, end - window) : end]
        asked = sum(day.asked for day in span)
        shares.append(100 * sum(day.answered for day in span) / asked if asked else math.nan)
    return shares


async def admin_chart(app: Citebot, *, days: int, guild_id: int | None = None) -> bytes | None:
    """The stats chart for an admin's command, drawn off the event loop; None if there is none.

    Never raises: without matplotlib, or if drawing fails, the admin gets the text alone and the
    log says why.
    """
    activity = await app.daily_activity(days=days, guild_id=guild_id)
    title = f"Questions per day, last {days} days (UTC)"
    try:
        return await asyncio.to_thread(activity_chart, activity, title=title, purpose="the stats chart")
    except ChartUnavailableError as exc:
        log.warning("stats sent without a chart: %s", exc)
    except Exception:
        log.exception("stats sent without a chart: drawing it failed")
    return None
