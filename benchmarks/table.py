"""The table the load benchmarks print: one row per figure, beside its floor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Row", "print_rows"]


@dataclass
class Row:
    """One line of the table."""

    scenario: str
    figure: str
    value: str
    floor: str
    ok: bool


def print_rows(rows: Sequence[Row]) -> None:
    """The rows in aligned columns, the scenario once per group; a missed floor says MISSED."""
    fields = ("scenario", "figure", "value", "floor")
    widths = [max(len(f), *(len(getattr(r, f)) for r in rows)) for f in fields]
    print("  ".join(h.ljust(w) for h, w in zip(fields, widths, strict=True)))
    last = ""
    for r in rows:
        scenario = r.scenario if r.scenario != last else ""
        last = r.scenario
        cells = (scenario, r.figure, r.value, r.floor)
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))
        print(line + ("" if r.ok else "  MISSED"))
