"""The words of many paragraphs at once, as numpy columns: what :func:`search.text.analysis.original_word_spans`
gives a paragraph at a time (each word and dictionary sub-word with its ordinal and its span in
the original text), without a Python object per span.

jieba's tokens of each paragraph are the only per-token Python objects. Everything that depends
on a token's text alone (is it a word, which dictionary sub-words it holds) is worked out once per
distinct token of the batch; each span's ordinal, start and end come from the tokens' lengths by
cumulative sums. :class:`WordSpans` then gives the ``words`` field's postings
(:meth:`WordSpans.postings`) and each paragraph's distinct words for the match index.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..text import analysis

_SUBWORD_SIZES = (2, 3)  # as analysis.word_spans: the sizes of a long word's dictionary sub-words
_KNOWN_AT_MOST = 1 << 18  # tokens whose nature is kept from batch to batch (then forgotten, to bound memory)
# token → (is it a word, its dictionary sub-words as (sub-word, offset, size)): what a token's text
# alone decides, kept from batch to batch of one build (jieba's dictionary does not change during it)
_known: dict[str, tuple[bool, tuple[tuple[str, int, int], ...]]] = {}
_jieba_cuts: dict[str, list[str]] = {}  # a piece of text → jieba's tokens of it, during a build


def forget_tokens() -> None:
    """Forget what tokens were found to be: call before a build (its user words may have changed
    jieba's dictionary) and before its worker processes are forked."""
    _known.clear()
    _jieba_cuts.clear()


def cut_tokens(normalized: str) -> list[str]:
    """:func:`search.text.analysis.tokens`, the same tokens, with jieba's cut of each piece
    remembered during a build: the pieces that go to jieba rather than rjieba (the text around
    and between runs of letters and digits, and runs such as ``6.8%``) recur in paragraph after
    paragraph, and jieba, pure Python, cut them at a twentieth of rjieba's speed."""
    return analysis.tokens(normalized, _remembered_cut)


def _remembered_cut(piece: str) -> list[str]:
    cut = _jieba_cuts.get(piece)
    if cut is None:
        if len(_jieba_cuts) > _KNOWN_AT_MOST:
            _jieba_cuts.clear()
        cut = _jieba_cuts[piece] = analysis.jieba_cut(piece)
    return cut


def _nature(token: str, freq: dict) -> tuple[bool, tuple[tuple[str, int, int], ...]]:
    """Whether ``token`` is a word (holds a letter or digit) and its dictionary sub-words, in the
    order ``analysis.word_spans`` lists them."""
    word = any(c.isalnum() for c in token)
    subwords = ()
    if word and len(token) > 2:
        subwords = tuple((gram, offset, size) for size in _SUBWORD_SIZES if size < len(token)
                         for offset in range(len(token) - size + 1) if freq.get(gram := token[offset : offset + size]))
    return word, subwords


@dataclass
class WordSpans:
    """Every span of a batch of paragraphs, in each paragraph's own order (the order of
    ``original_word_spans``); ``terms`` sorted, spans naming them by index."""

    paragraphs: int
    terms: list[str]
    term: np.ndarray  # per span, the index of its word in ``terms``
    paragraph: np.ndarray  # per span, its paragraph's index in the batch
    ordinal: np.ndarray
    start: np.ndarray  # in the original text
    end: np.ndarray

    def lengths(self) -> np.ndarray:
        """Each paragraph's number of spans (its ``words`` field length)."""
        return np.bincount(self.paragraph, minlength=self.paragraphs)

    def postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One posting per (word, paragraph), sorted by word then paragraph: each one's word,
        paragraph and number of occurrences, and the order that sorts the spans so (each
        posting's occurrences one after another, in span order)."""
        order = np.argsort(self.term * max(self.paragraphs, 1) + self.paragraph, kind="stable")
        term, paragraph = self.term[order], self.paragraph[order]
        if not len(order):
            return term, paragraph, np.empty(0, np.int64), order
        firsts = np.flatnonzero(np.diff(term, prepend=-1) | np.diff(paragraph, prepend=-1))
        counts = np.diff(firsts, append=len(order))
        return term[firsts], paragraph[firsts], counts, order


def word_spans(texts: Sequence[tuple[str, Sequence[int], Sequence[int]]]) -> WordSpans:
    """The spans of each paragraph's ``(normalized, starts, ends)`` (see
    :func:`search.text.normalize.normalize_with_spans`), as ``original_word_spans(text,
    subwords=True)`` gives them."""
    freq = analysis.segmenter().FREQ
    ids: dict[str, int] = {}
    counter = itertools.count()
    tokens: list[str] = []
    token_counts = []
    fast = []  # paragraphs whose tokens are their text cut into pieces
    spelled: list[tuple[int, list]] = []  # the others: their spans, spelled out by the analysis
    for p, (normalized, _, _) in enumerate(texts):
        cut = cut_tokens(normalized)
        if "".join(cut) == normalized:
            tokens += cut
            token_counts.append(len(cut))
            fast.append(p)
        else:
            spelled.append((p, analysis.word_spans(normalized, subwords=True)))
    token_id = np.fromiter(map(ids.setdefault, tokens, counter), np.int64, len(tokens))
    # what each distinct token is: a word or not, and its dictionary sub-words
    if len(_known) > _KNOWN_AT_MOST:
        _known.clear()
    is_word = {}
    subwords: dict[int, list[tuple[int, int, int]]] = {}  # token id → (sub-word id, offset, size)
    for token, i in list(ids.items()):
        nature = _known.get(token)
        if nature is None:
            nature = _known[token] = _nature(token, freq)
        is_word[i], found = nature
        if found:
            subwords[i] = [(ids.setdefault(gram, next(counter)), offset, size) for gram, offset, size in found]
    space = next(counter)
    word_flag = np.zeros(space, dtype=bool)
    word_flag[list(is_word)] = list(is_word.values())
    sub_count = np.zeros(space, dtype=np.int64)
    sub_first = np.zeros(space, dtype=np.int64)
    flat = [entry for found in subwords.values() for entry in found]
    sub_id, sub_offset, sub_size = (np.array(column, dtype=np.int64)
                                    for column in (zip(*flat) if flat else ((), (), ())))
    if subwords:
        owners = np.fromiter(subwords, np.int64, len(subwords))
        sub_count[owners] = [len(found) for found in subwords.values()]
        sub_first[owners] = np.cumsum(sub_count[owners]) - sub_count[owners]

    token_counts = np.array(token_counts, dtype=np.int64)
    token_paragraph = np.repeat(np.array(fast, dtype=np.int64), token_counts)
    first_token = np.cumsum(token_counts) - token_counts
    length = np.fromiter(map(len, tokens), np.int64, len(tokens))
    start = np.cumsum(length) - length
    words = word_flag[token_id]
    before = np.cumsum(words) - words  # words before each token in the batch
    nonempty = token_counts > 0
    start -= np.repeat(start[first_token[nonempty]], token_counts[nonempty])
    ordinal = before - np.repeat(before[first_token[nonempty]], token_counts[nonempty])

    # each word token, then its sub-words
    word_tokens = np.flatnonzero(words)
    repeats = 1 + sub_count[token_id[word_tokens]]
    owner = np.repeat(word_tokens, repeats)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    sub = k > 0
    at = sub_first[token_id[owner[sub]]] + k[sub] - 1
    span_id = token_id[owner]
    span_id[sub] = sub_id[at]
    span_start = start[owner]
    span_start[sub] += sub_offset[at]
    span_size = length[owner]
    span_size[sub] = sub_size[at]
    span_paragraph = token_paragraph[owner]
    span_ordinal = ordinal[owner]
    span_end = span_start + span_size
    _to_original(texts, fast, span_paragraph, span_start, span_end)

    if spelled:  # (rare) paragraphs whose tokens do not spell their text
        extra = [(ids.setdefault(word, next(counter)), p, o, s, e) for p, spans in spelled for word, o, s, e in spans]
        extra_id, extra_paragraph, extra_ordinal, extra_start, extra_end = (
            np.array(column, dtype=np.int64) for column in (zip(*extra) if extra else ((),) * 5))
        _to_original(texts, [p for p, _ in spelled], extra_paragraph, extra_start, extra_end)
        span_id, span_paragraph, span_ordinal, span_start, span_end = (
            np.concatenate(pair) for pair in ((span_id, extra_id), (span_paragraph, extra_paragraph),
                                              (span_ordinal, extra_ordinal), (span_start, extra_start),
                                              (span_end, extra_end)))
    used = np.unique(span_id)
    word_of = {i: word for word, i in ids.items()}
    names = [word_of[i] for i in used.tolist()]
    order = sorted(range(len(names)), key=names.__getitem__)  # code point order: UTF-8 byte order
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return WordSpans(len(texts), [names[i] for i in order], rank[np.searchsorted(used, span_id)], span_paragraph,
                     span_ordinal, span_start, span_end)


def _to_original(texts, paragraphs: Sequence[int], span_paragraph: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> None:
    """Map the spans of ``paragraphs`` (offsets in their normalised text; ``span_paragraph`` is
    sorted) onto their original text, in place, where normalising did not keep every character
    where it was."""
    for p in paragraphs:
        _, starts, ends = texts[p]
        if isinstance(starts, range) and starts.start == 0 and starts.step == 1:
            continue
        low, high = np.searchsorted(span_paragraph, [p, p + 1])
        if high > low:
            start_map, end_map = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
            start[low:high], end[low:high] = start_map[start[low:high]], end_map[end[low:high] - 1]
