"""PNG checks for the tests of charts: the signature and the size in the IHDR chunk, no imaging library."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG whose header chunk is intact; None for anything else."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < 33:
        return None
    length, kind = struct.unpack(">I4s", data[8:16])
    body, crc = data[16 : 16 + length], data[16 + length : 20 + length]
    if kind != b"IHDR" or length != 13 or struct.pack(">I", zlib.crc32(kind + body)) != crc:
        return None
    width, height = struct.unpack(">II", body[:8])
    return width, height
