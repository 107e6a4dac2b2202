"""How Chinese characters sound: toneless pinyin readings (pypinyin), spellings of a text, and a
stable key for a spelling (did-you-mean's homophones, written with each build).
"""

from __future__ import annotations

import functools
import hashlib
import os
from itertools import product
from typing import Iterable


@functools.lru_cache(maxsize=1)
def _pinyin():
    """pypinyin's ``pinyin`` and ``Style``, imported without its phrase dictionary when nothing
    imported it before: readings are looked up one character at a time here, and the phrases
    cost 1.2 s and 45 MB in each process that loads them (pypinyin reads these two switches from
    the environment when it is first imported; they change nothing else)."""
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    from pypinyin import Style, pinyin

    return pinyin, Style


def warm_up() -> None:
    """Load pypinyin's readings now (gunicorn's master does, so its workers share them instead of
    each loading a copy on its first query that finds nothing)."""
    readings("中")


@functools.lru_cache(maxsize=1 << 16)
def readings(char: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """A Chinese character's readings, toneless (most common first) and with tone numbers; both
    empty for anything else."""
    pinyin, Style = _pinyin()
    found = pinyin(char, style=Style.TONE3, heteronym=True, errors="ignore")
    toned = found[0] if found else []
    return tuple(dict.fromkeys(r.rstrip("012345") for r in toned)), frozenset(toned)


def spellings(text: str) -> Iterable[tuple[str, ...]]:
    """Toneless pinyin spellings of ``text``, one syllable per character (none if a character has
    no reading)."""
    return product(*(readings(c)[0] for c in text))


def spelling_key(spelling: tuple[str, ...]) -> int:
    """A 64-bit key for a toneless spelling, the same in every process (Python's own ``hash`` of a
    string is salted per process, and the keys are written with the index)."""
    digest = hashlib.blake2b(" ".join(spelling).encode("utf-8"), digest_size=8).digest()  # 欸 reads ê
    return int.from_bytes(digest, "little", signed=True)
