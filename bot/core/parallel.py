"""Knowledge building spread over the machine's cores, for knowledge of a million sentences.

Splitting sentences and analysing them is pure Python under the GIL, so threads do not help and
worker processes do. Starting them costs time (a forked worker little, a spawned one an import of
the engine), so callers say whether the work is worth it; small knowledge is built in-process.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["chunks", "collection_paused", "in_processes"]

T = TypeVar("T")
R = TypeVar("R")

# Set in worker processes: a worker runs its share in-process, never a pool of its own.
_in_worker = False
# What the fork server imports before it forks workers: the modules whose functions they run.
_PRELOAD = ("bot.core.documents", "bot.core.index")


def _mark_worker() -> None:
    global _in_worker
    _in_worker = True


@contextmanager
def collection_paused() -> Iterator[None]:
    """Python's cycle collector paused for the block, as it was before after it.

    Parsing and indexing a million sentences makes tens of millions of objects and no reference
    cycles: each full collection meanwhile would only walk them all again (5 s of a 1M build).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def chunks(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` in at most ``parts`` consecutive runs of nearly equal length."""
    size = max(1, -(-len(items) // max(1, parts)))
    return [items[at : at + size] for at in range(0, len(items), size)]


def in_processes(function: Callable[[T], R], items: Sequence[T], *, worth_it: bool) -> Iterator[R]:
    """``function(item)`` for each of ``items`` in order, from worker processes when ``worth_it``.

    Each result is yielded as soon as it and those before it are ready, so the caller can take
    it in while the workers go on. ``function`` and the items must pickle (a module-level function;
    plain data).
    """
    workers = min(len(items), os.cpu_count() or 1)
    if not worth_it or workers < 2 or _in_worker:
        yield from map(function, items)
        return
    # Imported here: most processes (every start from a snapshot) never build anything.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Forking is fastest (nothing to import again), but forking a process that runs threads (the
    # bots do, and every command on the store: aiosqlite's) can deadlock the child on a lock some
    # thread held. Then workers fork from a fork server, a single-threaded process started once,
    # which has imported the engine: a build's two pools (splitting, analysing) and every later
    # one start in milliseconds rather than each worker importing the engine again.
    if os.name != "posix":
        method = "spawn"
    elif threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver"
        multiprocessing.set_forkserver_preload(list(_PRELOAD))
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_mark_worker) as pool:
        yield from pool.map(function, items)
