"""Knowledge folders read without a store (``ask``, ``chat``, ``check``), prepared once per content.

Plain ``ask`` reads ``KNOWLEDGE_DIR`` afresh every time, and reading the files takes
milliseconds; parsing them, indexing the documents and preparing the intents' examples is what
costs (a fifth of a second for the article, seconds for a large folder). So the first process to
read a folder's content saves what it prepared under ``CACHE_DIR`` (by default
``$XDG_CACHE_HOME/citebot`` or ``~/.cache/citebot``): the index as a snapshot
(:mod:`bot.storage.snapshot`, memory-mapped when opened) and the resolved intents with the
matcher's prepared examples. A later process whose files, engine and model are the same opens
that instead.

The key covers every file's path and exact text, the engine version, the fitted model and the
code of the classes kept, so a changed file, model or citebot prepares again. It is a cache:
anything wrong with it (unreadable, damaged, not writable) costs time, never an answer, and
the folder is read the ordinary way.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import re
import shutil
from pathlib import Path

from bot.core import intent_matcher, intents
from bot.core.errors import KnowledgeError
from bot.core.index import KnowledgeIndex
from bot.core.intent_matcher import IntentMatcher
from bot.core.knowledge import (
    ENGINE_VERSION,
    KnowledgeBase,
    KnowledgeText,
    build_knowledge,
    parse_knowledge_texts,
    read_knowledge_texts,
)
from bot.core.model import model_digest
from bot.storage.snapshot import open_snapshot, save_snapshot

__all__ = ["CACHE_FORMAT", "KEEP_FOLDERS", "default_cache_dir", "load_folder"]

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
# Folder contents kept; the least recently used go first. A knowledge folder being edited makes a
# new one at each change, and each holds an index snapshot (half a kilobyte a sentence).
KEEP_FOLDERS = 8
_PREPARED = "prepared.pickle"
# The entries live in a folder of their own inside CACHE_DIR, named by their key: pruning never
# touches anything else, even when CACHE_DIR is a folder other programs use too.
_ENTRIES = "knowledge-folders"
_KEY = re.compile(r"[0-9a-f]{24}")


def default_cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/citebot``, else ``~/.cache/citebot``; None for a user without a home."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # an arbitrary container user with no home: nothing is cached
            return None
    return Path(base) / "citebot"


def load_folder(directory: Path, max_bytes: int, cache: Path | None) -> KnowledgeBase:
    """The knowledge in ``directory`` (no file over ``max_bytes``), prepared once per content under ``cache``.

    Raises :class:`KnowledgeError` as :func:`~bot.core.knowledge.load_knowledge_dir` does, naming
    every problem.
    """
    texts, problems = read_knowledge_texts(directory, max_bytes)
    if problems or cache is None:
        files = parse_knowledge_texts(texts, problems)
        return build_knowledge(files.documents, files.intents)
    entries = cache / _ENTRIES
    where = entries / _key(texts)
    found = _open(where) if where.is_dir() else None
    if found is not None:
        return found
    files = parse_knowledge_texts(texts)
    knowledge = build_knowledge(files.documents, files.intents)
    try:
        _save(entries, where, knowledge)
    except (OSError, pickle.PicklingError, KnowledgeError) as exc:
        log.warning(
            "cannot keep the prepared knowledge in CACHE_DIR %s (%s): every run prepares it again; "
            "set CACHE_DIR to a folder you can write",
            cache,
            exc,
        )
    return knowledge


def _key(texts: list[KnowledgeText]) -> str:
    digest = hashlib.sha256(f"citebot folder {CACHE_FORMAT} engine {ENGINE_VERSION}\n".encode())
    digest.update(f"model {model_digest()}\n".encode())
    # The classes kept with pickle: a changed field must not load as an old one.
    for module in (intents, intent_matcher):
        digest.update(Path(module.__file__ or "").read_bytes())
    for item in texts:
        digest.update(f"\0{item.source}\0{item.doc_id}\0".encode())
        digest.update(item.text.encode())
    return digest.hexdigest()[:24]


def _open(where: Path) -> KnowledgeBase | None:
    try:
        prepared = pickle.loads((where / _PREPARED).read_bytes())  # our own cache, written below
        snapshot = open_snapshot(where, prepared["documents_key"])
        if snapshot is None:
            return None
        index = KnowledgeIndex(snapshot.documents, snapshot.arrays)
        matcher = IntentMatcher.restore(prepared["matcher"], index)
        knowledge = KnowledgeBase(
            snapshot.documents,
            prepared["intents"],
            index,
            matcher,
            prepared["version"],
            prepared["documents_key"],
        )
    except FileNotFoundError:
        return None
    except Exception as exc:  # whatever is wrong with a cache, the folder is read again
        log.warning("the knowledge cache %s is unreadable (%s); reading the folder again", where, exc)
        shutil.rmtree(where, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(where)  # recently used: pruned last
    return knowledge


def _save(entries: Path, where: Path, knowledge: KnowledgeBase) -> None:
    prepared = {
        "documents_key": knowledge.documents_key,
        "version": knowledge.version,
        "intents": knowledge.intents,
        "matcher": knowledge.matcher.prepared(),
    }
    save_snapshot(where, knowledge.documents_key, knowledge.index)
    temporary = where / f".{_PREPARED}.{os.getpid()}.tmp"
    temporary.write_bytes(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    temporary.replace(where / _PREPARED)  # last: an entry without it is not used
    _prune(entries, keep=where)


def _prune(entries: Path, keep: Path) -> None:
    """Remove all but the :data:`KEEP_FOLDERS` most recently used entries (only entries: named by a key)."""
    found = []
    for entry in entries.iterdir():
        if entry != keep and _KEY.fullmatch(entry.name) and entry.is_dir():
            with contextlib.suppress(OSError):
                found.append((entry.stat().st_mtime, entry))
    found.sort(reverse=True)
    for _, entry in found[KEEP_FOLDERS - 1 :]:
        shutil.rmtree(entry, ignore_errors=True)
