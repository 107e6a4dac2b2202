"""Toneless pinyin of whole words as they are read: a polyphone as its word reads it (pypinyin's
phrase dictionary: 银行 ``yinhang``, 重庆 ``chongqing``, 行长 ``hangzhang``), any other character of
a word in its most common reading, a lone character in every reading it has.

For the build's completion index only: the phrase dictionary costs about 0.3 s and 45 MB in the
process that loads it, so a server never does (it reads the spellings the build wrote).
"""

from __future__ import annotations

import functools
import json
import unicodedata
from importlib import resources
from itertools import islice, product

from .pinyin import _pinyin, readings

MAX_SPELLINGS = 8  # spellings of one word at most (a phrase of the dictionary may read two ways)


@functools.lru_cache(maxsize=1)
def _phrases() -> tuple[dict[str, list[list[str]]], frozenset[str]]:
    """pypinyin's phrase dictionary as it ships it (phrase → each character's readings, with tone
    marks), read from its JSON file without pypinyin loading it into its own tables
    (search.text.pinyin imports pypinyin without them), and every beginning of a phrase."""
    _pinyin()  # pypinyin imported as every process here imports it: without its phrases
    with resources.files("pypinyin").joinpath("phrases_dict.json").open(encoding="utf-8") as file:
        phrases = json.load(file)
    return phrases, frozenset(phrase[:n] for phrase in phrases for n in range(2, len(phrase) + 1))


_TONE_MARKS = dict.fromkeys(map(ord, "\u0304\u0301\u030c\u0300"))  # combining macron, acute, caron, grave


def toneless(reading: str) -> str:
    """A reading with tone marks (``lǜ``) as :func:`readings` writes it: ``lv`` (``ü`` as ``v``; ``ê``
    kept). pypinyin's own converter does the same, ten times slower."""
    bare = unicodedata.normalize("NFD", reading).replace("u\u0308", "v").translate(_TONE_MARKS)
    return unicodedata.normalize("NFC", bare)


@functools.lru_cache(maxsize=1 << 14)
def _toneless(phrase: str) -> tuple[tuple[str, ...], ...]:
    """A dictionary phrase's readings per character, toneless."""
    return tuple(tuple(dict.fromkeys(map(toneless, each))) for each in _phrases()[0][phrase])


def load() -> None:
    """Read the phrase dictionary now."""
    _phrases()


def unload() -> None:
    """Let the phrase dictionary go (a build's process keeps working after it has spelled)."""
    _phrases.cache_clear()
    _toneless.cache_clear()


def syllables(word: str) -> list[tuple[str, ...]]:
    """Per character of ``word``, the readings it is spelled with here: a lone character's every
    reading; in a longer word, a character inside a dictionary phrase (the longest one starting
    where the last ended, as pypinyin cuts) read as the phrase reads it, any other Chinese character
    in its most common reading, and anything else as itself."""
    if len(word) == 1:
        return [readings(word)[0] or (word,)]
    phrases, beginnings = _phrases()
    if word in phrases:
        return list(_toneless(word))
    out: list[tuple[str, ...]] = []
    i, n = 0, len(word)
    while i < n:
        phrase_end, j = 0, i + 2  # the longest phrase starting at i ends at phrase_end
        while j <= n and word[i:j] in beginnings:
            if word[i:j] in phrases:
                phrase_end = j
            j += 1
        if phrase_end:
            out.extend(_toneless(word[i:phrase_end]))
            i = phrase_end
        else:
            found = readings(word[i])[0]
            out.append(found[:1] or (word[i],))
            i += 1
    return out


def spellings(word: str) -> list[tuple[str, ...]]:
    """The toneless spellings of ``word``, a syllable per character (:func:`syllables`), the most
    usual first, at most :data:`MAX_SPELLINGS`."""
    return list(islice(product(*syllables(word)), MAX_SPELLINGS))
