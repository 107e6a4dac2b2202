"""Tokenisation: the only importer of jieba.

Whoosh's ``words`` field holds jieba's words of the *normalised* text (see
:mod:`search.normalize`) with ordinal positions and true character offsets; it is what whole-word
ranking asks. At index time the dictionary sub-words of a long word share its position
(``联合国宪章`` also yields ``联合国`` and ``宪章``); at query time only the plain cut is used, so
a phrase query stays a phrase. Recall does not depend on it: substrings are matched by
:mod:`search.grams`.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from pathlib import Path

from whoosh.analysis import Token, Tokenizer

_SUBWORD_SIZES = (2, 3)


def _writable_cache_dir() -> str | None:
    """A folder where jieba may keep its dictionary cache, or None when nothing is writable."""
    candidates = [os.environ.get("XDG_CACHE_HOME"), str(Path.home() / ".cache"), tempfile.gettempdir()]
    for base in filter(None, candidates):
        folder = Path(base) / "zhsearch-jieba"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            return str(folder)
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=1)
def segmenter():
    """jieba's tokenizer, initialised once per process (call it in the gunicorn master)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    cache_dir = _writable_cache_dir()
    if cache_dir is None:
        # Nothing writable (a read-only container): jieba builds the dictionary in memory and
        # would log a traceback for the cache it cannot write.
        jieba.setLogLevel(logging.CRITICAL)
    tokenizer.tmp_dir = cache_dir
    tokenizer.initialize()
    return tokenizer


def warm_up() -> None:
    """Load the dictionary now rather than on the first request."""
    segmenter()


def _is_word(token: str) -> bool:
    return any(c.isalnum() for c in token)


def cut(normalized: str) -> list[str]:
    """jieba's words of a normalised text, punctuation and spaces dropped (query side)."""
    return [w for w in segmenter().cut(normalized, HMM=True) if _is_word(w)]


def index_words(normalized: str) -> list[tuple[int, str, int, int]]:
    """(position, word, startchar, endchar) for the words and dictionary sub-words of a text."""
    tk = segmenter()
    freq = tk.FREQ
    out = []
    pos = 0
    start = 0
    for word in tk.cut(normalized, HMM=True):
        end = start + len(word)
        if _is_word(word):
            out.append((pos, word, start, end))
            if len(word) > 2:
                for size in _SUBWORD_SIZES:
                    for i in range(len(word) - size + 1):
                        gram = word[i : i + size]
                        if gram != word and freq.get(gram):
                            out.append((pos, gram, start + i, start + i + size))
            pos += 1
        start = end
    return out


class WordTokenizer(Tokenizer):
    """A Whoosh tokenizer: jieba words of normalised text, sub-words sharing their word's position."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text, startchar, endchar in index_words(value):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + startchar
                token.endchar = start_char + endchar
            yield token
