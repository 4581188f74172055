"""The health check the container runs: fresh status file or not, and what it prints."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.health import MAX_AGE_SECONDS, main, write_health


def test_a_fresh_status_is_healthy_and_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "health"
    write_health(path, ["degraded", "database: the database file was deleted"])
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == "healthy (degraded)\n  database: the database file was deleted\n"


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: None, "no health file at"),
        (lambda p: p.mkdir(), "is not a file"),
        (lambda p: p.write_text(""), "the health file is empty"),
        (lambda p: (p.write_text("ok\n"), os.utime(p, (0, time.time() - MAX_AGE_SECONDS - 5))), "s old"),
        (lambda p: (p.write_text("ok\n"), os.utime(p, (0, time.time() + 600))), "in the future"),
    ],
)
def test_anything_but_a_fresh_status_is_unhealthy_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, said: str
) -> None:
    path = tmp_path / "health"
    make(path)  # type: ignore[operator]
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("unhealthy: ") and said in out
