"""Small knowledge written inside the tests: Markdown documents and their index."""

from __future__ import annotations

from bot.core.documents import Document, parse_document
from bot.core.index import KnowledgeIndex


def document(title: str, body: str, doc_id: str | None = None) -> Document:
    """A document parsed from Markdown with front matter, as a knowledge folder holds it."""
    return parse_document(f"---\ntitle: {title}\n---\n\n{body}\n", f"{doc_id or title}.md", doc_id=doc_id)


def index_of(*documents: Document) -> KnowledgeIndex:
    """The index of ``documents``."""
    return KnowledgeIndex(list(documents))


def position(index: KnowledgeIndex, text: str) -> int:
    """Where the one sentence containing ``text`` is in ``index.sentences``."""
    found = [i for i, s in enumerate(index.sentences) if text in s.sentence.text]
    assert len(found) == 1, f"{text!r} is in {len(found)} sentences"
    return found[0]
