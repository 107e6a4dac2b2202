"""Word segmentation: the only importer of jieba (and of rjieba, its faster twin).

Words are cut from *normalised* text (see :mod:`search.text.normalize`). They decide ranking, not
recall: a term that is one of a paragraph's words (or a dictionary sub-word of one, such as
``联合国`` in ``联合国宪章``) ranks above a term that is only part of a word; every substring is
found by :mod:`search.match.grams` either way.

rjieba (jieba-rs) gives jieba's tokens about ten times faster. It is used where it is known to
agree: it keeps Latin or digit runs joined by ``-``, ``.`` and the like (``s-300``) where jieba
splits them, so such text goes to jieba. ``tests/test_analysis.py`` holds the proof.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

from whoosh.analysis import Token, Tokenizer

from . import normalize

_SUBWORD_SIZES = (2, 3)
# Where rjieba and jieba disagree: a Latin letter or digit touching one of these joiners.
_JIEBA_ONLY = re.compile(r"[0-9a-z][-.+#&_%]|[-.+#&_%][0-9a-z]")
# The runs jieba 0.42.1 cuts one at a time (jieba.re_han_default): the text between them is never
# joined to them.
_JIEBA_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")


def _writable_cache_dir() -> str | None:
    """A folder where jieba may keep its dictionary cache, or None when nothing is writable."""
    for base in (Path.home() / ".cache", Path(tempfile.gettempdir())):
        folder = base / "zhsearch-jieba"
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


@functools.lru_cache(maxsize=1)
def _fast_cut():
    """rjieba's cut, or None when it is not installed."""
    try:
        import rjieba
    except ImportError:
        return None
    rjieba.cut("预热")  # loads its dictionary now, not on the first paragraph
    return rjieba.cut


def add_user_words(entries) -> None:
    """Add words of a user dictionary (``(normalised word, freq or None, tag or None)``, see
    :mod:`search.text.userdict`) to jieba and rjieba alike: both get the same frequency (jieba's
    suggestion when none is given), so they keep cutting the same. A word stays for the life of
    the process. No entries: nothing is loaded (a one-off ``zhsearch query`` on a build without a
    user dictionary need not load jieba's own dictionary, half a second, when rjieba cuts the query)."""
    entries = list(entries)
    if not entries:
        return
    tokenizer = segmenter()
    fast = _fast_cut()
    for word, freq, tag in entries:
        if freq is None:
            freq = max(1, tokenizer.suggest_freq(word, tune=False))
        if tokenizer.FREQ.get(word) == freq:  # already there (the same build opened again)
            continue
        tokenizer.add_word(word, freq, tag)
        if fast is not None:
            import rjieba

            rjieba.add_word(word, freq, tag)


def warm_up() -> None:
    """Load the dictionaries and tables now rather than on the first request."""
    segmenter()
    _fast_cut()
    normalize.warm_up()


def jieba_cut(piece: str) -> list[str]:
    """jieba's own cut (HMM on) of a text."""
    return list(segmenter().cut(piece, HMM=True))


def tokens(normalized: str, slow_cut: Callable[[str], list[str]] = jieba_cut) -> list[str]:
    """jieba's cut (HMM on) of a normalised text, punctuation and spaces included. ``slow_cut``
    cuts the pieces rjieba may cut otherwise (a build passes one that remembers its cuts)."""
    fast = _fast_cut()
    if fast is None:
        return slow_cut(normalized)
    if not _JIEBA_ONLY.search(normalized):
        return fast(normalized)
    # jieba cuts each run of _JIEBA_BLOCK on its own (jieba.cut splits there first), so only the
    # runs where rjieba may disagree need jieba: a paragraph with one "6.8%" is otherwise rjieba's
    out: list[str] = []
    for i, piece in enumerate(_JIEBA_BLOCK.split(normalized)):
        if not piece:
            continue
        if i % 2 and not _JIEBA_ONLY.search(piece):  # odd pieces are the runs (the pattern's group)
            out += fast(piece)
        else:
            out += slow_cut(piece)
    return out


def _is_word(token: str) -> bool:
    return token.isalnum() or any(c.isalnum() for c in token)


def cut(normalized: str) -> list[str]:
    """The words of a normalised text, punctuation and spaces dropped (the query side)."""
    return [w for w in tokens(normalized) if _is_word(w)]


def word_spans(normalized: str, *, subwords: bool) -> list[tuple[str, int, int, int]]:
    """(word, ordinal, start, end) for each word of a normalised text, ``[start, end)`` in it.

    Ordinals count words (0, 1, 2, …; punctuation and spaces are not words). With ``subwords``,
    each dictionary sub-word of a longer word follows it, at the word's ordinal and its own span.
    """
    freq = segmenter().FREQ if subwords else None
    spans = []
    at = ordinal = 0
    for token in tokens(normalized):
        start = at if normalized.startswith(token, at) else normalized.find(token, at)
        at = start + len(token)
        if not (token.isalnum() or _is_word(token)):
            continue
        spans.append((token, ordinal, start, at))
        if freq is not None and len(token) > 2:
            for size in _SUBWORD_SIZES:
                if size < len(token):
                    for i in range(len(token) - size + 1):
                        gram = token[i : i + size]
                        if freq.get(gram):
                            spans.append((gram, ordinal, start + i, start + i + size))
        ordinal += 1
    return spans


def index_words(normalized: str) -> set[str]:
    """The words of a paragraph and the dictionary sub-words of its longer words."""
    return {word for word, _, _, _ in word_spans(normalized, subwords=True)}


def original_word_spans(text: str, *, subwords: bool) -> tuple[str, list[tuple[str, int, int, int]]]:
    """``normalize(text)`` and its :func:`word_spans`, each span mapped back onto ``text``."""
    normalized, starts, ends = normalize.normalize_with_spans(text)
    spans = word_spans(normalized, subwords=subwords)
    if isinstance(starts, range) and starts.start == 0 and starts.step == 1:  # one character each: no mapping
        return normalized, spans
    return normalized, [(word, ordinal, starts[start], ends[end - 1]) for word, ordinal, start, end in spans]


class ChineseAnalyzer(Tokenizer):
    """A Whoosh analyzer: jieba's words of the normalised text (``TEXT(analyzer=ChineseAnalyzer())``).

    Positions are word ordinals (from ``start_pos``); ``startchar``/``endchar`` are offsets in the
    original value (from ``start_char``). In ``mode="index"`` each dictionary sub-word of a longer
    word is a token too, at that word's position; a query (any other mode) gets the plain words.
    """

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:  # the whole value is one token (Whoosh asks this for e.g. exact terms)
            spans = [(normalize.normalize(value), 0, 0, len(value))]
        else:
            _, spans = original_word_spans(value, subwords=mode == "index")
        for word, ordinal, start, end in spans:
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + ordinal
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token
