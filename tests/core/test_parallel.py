"""Building in worker processes gives exactly what building in one process gives.

Worker processes are forked when the builder runs no other thread, and forked from a fork server
when it does (the bots, and every command on the store, run threads). Small thresholds make the
tiny knowledge below take the worker path.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.core import documents as documents_module
from bot.core import index as index_module
from bot.core.documents import Document, parse_document
from bot.core.index import IndexArrays, build_arrays
from bot.core.parallel import collection_paused

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def _documents() -> list[Document]:
    article = next(KNOWLEDGE.glob("*.md"))
    text = article.read_text(encoding="utf-8")
    # The article three times under other titles: enough sentences for several runs of work.
    return [
        parse_document(text.replace("title:", f"title: Copy {n} of", 1), f"copy-{n}.md", doc_id=f"copy-{n}")
        for n in range(3)
    ]


def _same(a: IndexArrays, b: IndexArrays) -> None:
    assert sorted(a.arrays) == sorted(b.arrays)
    for name, values in a.arrays.items():
        assert values.dtype == b.arrays[name].dtype, name
        assert np.array_equal(values, b.arrays[name]), name
    assert a.strings == b.strings
    assert a.sections == b.sections
    assert list(a.aliases.items()) == list(b.aliases.items())


@pytest.fixture
def in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(index_module, "CHUNK_SENTENCES", 25)
    monkeypatch.setattr(documents_module, "PARALLEL_BYTES", 1)


@pytest.fixture
def another_thread() -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_a_build_in_forked_workers_is_the_build_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = build_arrays(_documents())
    monkeypatch.setattr(index_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(index_module, "CHUNK_SENTENCES", 25)
    assert threading.active_count() == 1
    _same(build_arrays(_documents()), alone)


def test_a_build_beside_other_threads_uses_the_fork_server_and_is_the_same(
    in_workers: None, another_thread: None
) -> None:
    assert threading.active_count() > 1
    parsed = _documents()  # split in workers too (PARALLEL_BYTES)
    index_module.PARALLEL_FROM = 10**9
    alone = build_arrays(parsed)
    index_module.PARALLEL_FROM = 1
    _same(build_arrays(parsed), alone)
    # ...and the documents split in workers are the documents split here.
    documents_module.PARALLEL_BYTES = 10**12
    assert _documents() == parsed


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_it_was_after_a_build_even_a_failed_one(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        build_arrays(_documents())
        assert gc.isenabled() is enabled
        with pytest.raises(AttributeError), collection_paused():
            assert not gc.isenabled()  # a build runs with it paused
            raise AttributeError("a build that fails half-way")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
