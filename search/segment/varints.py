"""Unsigned LEB128 varints (7 bits a byte, low bits first) and zigzag for signed numbers: the
compact integers of the term table (:mod:`search.segment.terms`) and of text patches
(:mod:`search.segment.text_patch`)."""

from __future__ import annotations


def write(n: int, out: bytearray) -> None:
    """Append ``n`` (≥ 0) to ``out``."""
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def read(data, at: int) -> tuple[int, int]:
    """The varint at ``data[at]``, and where the next one starts."""
    n = shift = 0
    while True:
        byte = data[at]
        at += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, at
        shift += 7


def zigzag(n: int) -> int:
    """``n`` of either sign as a number ≥ 0 (0, -1, 1, -2, … → 0, 1, 2, 3, …)."""
    return n << 1 if n >= 0 else (-n << 1) - 1


def unzigzag(n: int) -> int:
    """The number :func:`zigzag` turned into ``n``."""
    return n >> 1 if not n & 1 else -((n + 1) >> 1)
