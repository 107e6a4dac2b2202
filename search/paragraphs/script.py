"""A Simplified-character view of text with the same length, so that every cue, written in
Simplified characters, reads Traditional text too, and every position found in the view is a
position of the original."""

from __future__ import annotations

import functools


@functools.cache
def _converter():
    import opencc  # imported lazily: no work at import time

    return opencc.OpenCC("t2s")


def simplified_view(text: str) -> str:
    """text in Simplified characters, character for character (same length, same positions)."""
    if text.isascii():
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase converted to another length (rare): convert character by character instead.
    return "".join(c if len(c := _converter().convert(ch)) == 1 else ch for ch in text)
