"""The stored layout of a parsed document: its paragraphs and sentence offsets, as JSON.

Start-up rebuilds documents from this layout instead of splitting sentences again. A layout is
trusted only when this engine and format wrote it and the rebuilt document hashes to the stored
content hash; anything else means "parse the text again".
"""

from __future__ import annotations

import json

from bot.core.documents import Document, DocumentMeta, sliced_paragraphs
from bot.core.knowledge import ENGINE_VERSION
from bot.storage.store import StoredDocument

__all__ = ["STRUCTURE_FORMAT", "decode_layout", "encode_layout"]

# Layout of the stored document structure; bump when encode_layout changes shape.
STRUCTURE_FORMAT = 1


def encode_layout(document: Document) -> str:
    """The parsed layout of ``document`` as JSON: paragraphs and sentence offsets into its body."""
    paragraphs = [
        [p.number, p.start, p.end, p.section, [[s.start, s.end] for s in p.sentences]]
        for p in document.paragraphs
    ]
    layout = {
        "format": STRUCTURE_FORMAT,
        "engine": ENGINE_VERSION,
        "body": document.body,
        "paragraphs": paragraphs,
    }
    return json.dumps(layout, ensure_ascii=False)


def decode_layout(row: StoredDocument) -> Document | None:
    """The document rebuilt from its stored layout without splitting sentences; None if that is unsafe."""
    if row.structure is None:
        return None
    try:
        layout = json.loads(row.structure)
        if layout.get("format") != STRUCTURE_FORMAT or layout.get("engine") != ENGINE_VERSION:
            return None
        body: str = layout["body"]
        paragraphs = sliced_paragraphs(
            body,
            (
                (number, start, end, section, [s for s, _ in spans], [e for _, e in spans])
                for number, start, end, section, spans in layout["paragraphs"]
            ),
        )
        meta = DocumentMeta.model_validate(
            {"title": row.title, "url": row.url, "author": row.author, "published": row.published}
        )
    except (ValueError, KeyError, TypeError, AttributeError):  # pydantic's ValidationError is a ValueError
        return None
    document = Document(row.id, meta, body, paragraphs, row.source)
    if document.content_hash != row.content_hash or not _layout_fits(document):
        return None
    return document


def _layout_fits(document: Document) -> bool:
    """Whether paragraphs and sentences are ordered, non-empty, trimmed slices inside one another."""
    cursor = 0
    for paragraph in document.paragraphs:
        if not cursor <= paragraph.start < paragraph.end <= len(document.body):
            return False
        if paragraph.text != paragraph.text.strip() or not paragraph.sentences:
            return False
        inner = paragraph.start
        for sentence in paragraph.sentences:
            if (
                not inner <= sentence.start < sentence.end <= paragraph.end
                or sentence.text != sentence.text.strip()
            ):
                return False
            inner = sentence.end
        cursor = paragraph.end
    return bool(document.paragraphs)
