"""Fixtures for the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Knowledge folders that `ask` prepares (CACHE_DIR) go to a temporary folder, not the home of
    # whoever runs the tests; commands run as subprocesses inherit it.
    before = os.environ.get("CACHE_DIR")
    os.environ["CACHE_DIR"] = str(tmp_path_factory.mktemp("citebot-cache"))
    yield
    if before is None:
        os.environ.pop("CACHE_DIR", None)
    else:
        os.environ["CACHE_DIR"] = before
