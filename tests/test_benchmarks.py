"""The benchmarks find the development data from any checkout, not from one machine's path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEED = REPO / "benchmarks" / "speed.py"


def _python(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "CITEBOT_EVAL_DIR"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_speed_looks_for_the_development_data_next_to_the_checkout() -> None:
    script = f"import runpy; print(runpy.run_path({str(SPEED)!r})['SQUAD_DOCUMENTS'])"
    result = _python("-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(REPO.parent / "shared" / "eval" / "squad-dev")


def test_speed_reads_the_development_data_from_citebot_eval_dir(tmp_path: Path) -> None:
    result = _python(str(SPEED), CITEBOT_EVAL_DIR=str(tmp_path))
    assert result.returncode == 1
    assert f"no development data in {tmp_path / 'squad-dev'}: set CITEBOT_EVAL_DIR" in result.stderr
