"""Did-you-mean: what to search for instead when a query, or a term of it, finds nothing.

Most Chinese typos come from pinyin input: a homophone picked from the input method's list
(``联和国`` for ``联合国``; toneless: ``答型`` for ``大型``) or two characters swapped. A failing
term is corrected as a noisy channel: it is cut into pieces, each kept or replaced by a word of
the index's vocabulary that sounds the same (perhaps after swapping two of its characters); a
candidate scores the log-probability of its words (their paragraph frequency) minus a penalty per
changed character. A term without Chinese characters goes through Whoosh's edit-distance
corrector instead. The caller checks that each suggestion, a whole query, finds something.

The pinyin of the vocabulary is worked out when the index is built (:class:`~search.formats.pinyin_index.PinyinIndex`, two
arrays beside the match index's words) and mapped by each worker with the build, so the workers
share it; the corrector over it is made on the first query that finds nothing (:class:`Suggester`
is lazy): the normal search path never pays for it.
"""

from __future__ import annotations

import dataclasses
import functools
import heapq
import math
import threading
from array import array
from itertools import combinations, islice, product
from typing import Callable, Iterable, Sequence

import numpy as np
from whoosh.spelling import Corrector, ListCorrector
from whoosh.support.levenshtein import distance

from ..formats.pinyin_index import MAX_SPAN, PinyinIndex
from ..text.pinyin import readings, spellings
from .parser import ParsedQuery, Unit, term_spans

__all__ = ["PinyinCorrector", "Suggester", "Vocabulary", "WordList", "correct_term"]

EDIT_PENALTY = 6.0  # log-odds against one changed character, or one swap
TONE_PENALTY = 1.0  # more when the changed character's tone differs too (toneless input)
PIECE_PENALTY = 3.0  # log-odds against a term being more than one word, per extra word
MAX_TERM_CHARS = 16  # longer terms are not corrected
MAX_SPELLINGS = 32  # pinyin spellings tried per piece (heteronyms multiply)
BEAM = 12  # partial corrections kept per position of a term
OPTIONS = 12  # replacements kept per piece
PER_TERM = 4  # corrections of each failing term combined into queries
MAX_FAILING = 3  # a query with more terms that find nothing gets no suggestion
MAX_CHECKS = 24  # whole queries checked with the searcher, at most, per zero-hit query
MAX_SUGGESTIONS = 5


def _sounds_alike(a: str, b: str) -> bool:
    return bool(set(readings(a)[0]) & set(readings(b)[0]))


class _AfterBlank(Sequence):
    """A sorted word list with ``""`` in front: Whoosh's ``ListCorrector`` looks from one past its
    last position, so it never reaches the first word of the list it is given."""

    def __init__(self, words: Sequence[str]):
        self.words = words

    def __len__(self) -> int:
        return len(self.words) + 1

    def __getitem__(self, i: int) -> str:
        return self.words[i - 1] if i else ""


class WordList(Sequence):
    """Sorted words kept as one string and where each ends: a few bytes a word, where a list of
    100 k Python strings takes several megabytes in every worker."""

    def __init__(self, words: Iterable[str]):
        pieces, ends, at = [], array("i"), 0
        for word in words:
            pieces.append(word)
            at += len(word)
            ends.append(at)
        self._text = "".join(pieces)
        self._ends = np.frombuffer(ends, dtype=np.int32) if ends else np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return self._text[int(self._ends[i - 1]) if i else 0 : int(self._ends[i])]

    def __iter__(self):
        start = 0
        for end in self._ends.tolist():
            yield self._text[start:end]
            start = end


class Vocabulary:
    """The words a correction may draw on (sorted), how many paragraphs hold each, and Whoosh's
    edit-distance corrector over them."""

    def __init__(self, words: Sequence[str], frequency: Callable[[str], int], documents: int,
                 edit_corrector: Corrector | None = None):
        self.words = words
        self.frequency = frequency  # word → paragraphs where it is a word (0 for none)
        self.documents = documents
        self.edit_corrector = edit_corrector or ListCorrector(_AfterBlank(words))

    @classmethod
    def from_whoosh(cls, reader, fieldname: str = "words", lexicon: Sequence[str] | None = None) -> "Vocabulary":
        """The lexicon of a Whoosh field; frequencies are looked up in the reader when asked for,
        and the reader's own corrector gives edit-distance neighbours. ``lexicon``: that field's
        terms, decoded and sorted, when the caller has them at hand already (a build's match index
        maps the same list); otherwise they are read once and kept compact."""
        if lexicon is None:
            lexicon = WordList(term.decode("utf-8") for term in reader.lexicon(fieldname))
        return cls(lexicon, functools.partial(reader.doc_frequency, fieldname), reader.doc_count(),
                   reader.corrector(fieldname))

    @classmethod
    def from_counts(cls, counts: dict[str, int], documents: int) -> "Vocabulary":
        """A vocabulary from ``{word: paragraphs}`` (tests, benchmarks)."""
        return cls(sorted(counts), lambda word: counts.get(word, 0), documents)

    def log_probability(self, frequency: float) -> float:
        """A word's log-probability from its paragraph frequency (never -inf)."""
        return math.log(max(frequency, 0.5) / max(self.documents, 1))


class PinyinCorrector(Corrector):
    """Vocabulary words that sound like a text: the same toneless pinyin, one syllable per
    character, perhaps after swapping two of its characters. A Whoosh
    :class:`~whoosh.spelling.Corrector` (``suggest(text)``); :meth:`options` gives the scores.

    ``index``: the vocabulary's :class:`PinyinIndex` (a build's, mapped); without it, one is built
    in memory (about a second for 100 k words)."""

    def __init__(self, vocabulary: Vocabulary, index: PinyinIndex | None = None):
        self.vocabulary = vocabulary
        self.index = PinyinIndex.of_words(vocabulary.words) if index is None else index

    def sounding_like(self, text: str) -> list[str]:
        """Vocabulary words as long as ``text`` whose every character shares a toneless reading
        with ``text``'s character at its place (``text`` itself included when it is a word)."""
        found = list(islice(spellings(text), MAX_SPELLINGS))
        if not found:
            return []
        words = (self.vocabulary.words[i] for i in self.index.spelled(found))
        return [w for w in words if len(w) == len(text) and all(map(_sounds_alike, w, text))]

    def _change_cost(self, typed: str, word: str) -> float:
        """The penalty for ``word`` (sounding like ``typed``) where ``typed`` was typed."""
        cost = 0.0
        for a, b in zip(typed, word):
            if a != b:
                cost += EDIT_PENALTY + (0.0 if readings(a)[1] & readings(b)[1] else TONE_PENALTY)
        return cost

    def options(self, text: str) -> list[tuple[float, str, int]]:
        """``(score, word, changes)`` for each word ``text`` may have been meant as, best first:
        the log-probability of the word minus the penalty for the changes (``text`` itself, when
        it is a word, with no change)."""
        vocabulary = self.vocabulary
        best: dict[str, tuple[float, int]] = {}

        def consider(word: str, cost: float, changes: int) -> None:
            if word not in best or best[word][0] > cost:
                best[word] = (cost, changes)

        for word in self.sounding_like(text):
            consider(word, self._change_cost(text, word), sum(a != b for a, b in zip(text, word)))
        pairs = combinations(range(len(text)), 2) if len(text) <= 4 else ((i, i + 1) for i in range(len(text) - 1))
        for i, j in pairs:
            if text[i] == text[j]:
                continue
            swapped = text[:i] + text[j] + text[i + 1 : j] + text[i] + text[j + 1 :]
            for word in self.sounding_like(swapped):
                if word != text:
                    consider(word, EDIT_PENALTY + self._change_cost(swapped, word),
                             1 + sum(a != b for a, b in zip(swapped, word)))
        scored = [(vocabulary.log_probability(vocabulary.frequency(w)) - cost, w, changes)
                  for w, (cost, changes) in best.items()]
        return heapq.nlargest(OPTIONS, scored)

    def _suggestions(self, text, maxdist, prefix):
        for score, word, changes in self.options(text):
            if word != text and changes <= maxdist and word[:prefix] == text[:prefix]:
                yield score, word


def _is_han(char: str) -> bool:
    return bool(readings(char)[0])


def _edit_options(text: str, vocabulary: Vocabulary) -> list[tuple[float, str, int]]:
    """Vocabulary words within one or two edits of a term without Chinese characters (a Whoosh
    corrector: Levenshtein automata over the lexicon), scored like :meth:`PinyinCorrector.options`."""
    maxdist = 1 if len(text) <= 4 else 2
    scored = []
    candidates = vocabulary.edit_corrector.suggest(text, limit=4 * OPTIONS, maxdist=maxdist, prefix=1)
    for word in candidates:
        changes = distance(text, word)
        if 0 < changes <= maxdist:
            scored.append((vocabulary.log_probability(vocabulary.frequency(word)) - EDIT_PENALTY * changes,
                           word, changes))
    return heapq.nlargest(OPTIONS, scored)


def correct_term(text: str, corrector: PinyinCorrector, limit: int = PER_TERM) -> list[tuple[float, str]]:
    """The best ``(score, corrected text)`` for a term's skeleton, best first, each different
    from ``text``.

    Chinese text is cut into pieces (a beam search over positions): each piece is kept as it is
    or replaced by one of :meth:`PinyinCorrector.options`; a kept character that is no word is
    scored as a word seen in half a paragraph; each piece after the first costs
    :data:`PIECE_PENALTY`. Text without Chinese characters is corrected whole,
    by edit distance."""
    vocabulary = corrector.vocabulary
    if not text or len(text) > MAX_TERM_CHARS:
        return []
    if not any(_is_han(c) for c in text):
        return [(score, word) for score, word, _ in _edit_options(text, vocabulary)[:limit]]
    n = len(text)
    beams: list[dict[str, tuple[float, int]]] = [{"": (0.0, 0)}] + [{} for _ in range(n)]
    for i in range(n):
        kept = heapq.nlargest(BEAM, beams[i].items(), key=lambda item: item[1][0])
        for j in range(i + 1, min(n, i + MAX_SPAN) + 1):
            piece = text[i:j]
            options = corrector.options(piece) if any(map(_is_han, piece)) else []
            if not any(w == piece for _, w, _ in options):
                frequency = vocabulary.frequency(piece)
                if frequency or j == i + 1:  # a word, or a character kept as it is
                    options.append((vocabulary.log_probability(frequency), piece, 0))
            for prefix, (score, changes) in kept:
                for piece_score, word, piece_changes in options:
                    candidate = prefix + word
                    total = score + piece_score - (PIECE_PENALTY if prefix else 0.0)
                    if candidate not in beams[j] or beams[j][candidate][0] < total:
                        beams[j][candidate] = (total, changes + piece_changes)
    finished = [(score, candidate) for candidate, (score, changes) in beams[n].items()
                if changes and candidate != text]
    return heapq.nlargest(limit, finished)


# -- whole queries ---------------------------------------------------------------------------------

def _replace_term(q: str, unit: Unit, replacement: str) -> str | None:
    """``q`` with the text of each of its terms that is ``unit`` replaced by ``replacement`` (None
    when no term is); the terms as the search's parser finds them."""
    pieces, at = [], 0
    for term, start, end in term_spans(q):
        if (term.key, term.phrase, term.field) == (unit.key, unit.phrase, unit.field):
            pieces.append(q[at:start] + replacement)
            at = end
    return "".join(pieces) + q[at:] if pieces else None


class Suggester:
    """Suggestions for one build's zero-hit queries; its corrector is made on first use.

    ``corrector`` is called once, then, for the corrector to draw corrections from. ``spelled``:
    the entries of the build's completion index that a Latin text spells in pinyin, as
    ``(text, normalised text, paragraphs)`` (:meth:`search.query.completions.Completer.spelled`)."""

    def __init__(self, corrector: Callable[[], PinyinCorrector],
                 spelled: Callable[[str], list[tuple[str, str, int]]] | None = None):
        self._make_corrector = corrector
        self._corrector: PinyinCorrector | None = None
        self._lock = threading.Lock()
        self._spelled = spelled

    @property
    def corrector(self) -> PinyinCorrector:
        with self._lock:
            if self._corrector is None:
                self._corrector = self._make_corrector()
            return self._corrector

    def suggest(self, q: str, parsed: ParsedQuery, *, unit_finds: Callable[[Unit], bool],
                query_finds: Callable[[str], bool], limit: int = MAX_SUGGESTIONS) -> list[str]:
        """Whole queries, best first, like ``q`` with each term that finds nothing corrected; each
        one of them finds something (``query_finds``). Empty when nothing helps, or when more than
        :data:`MAX_FAILING` terms find nothing (the combinations would be too many to try)."""
        failing = list(dict.fromkeys(unit for group in parsed.groups for unit in group if not unit_finds(unit)))
        if not failing or len(failing) > MAX_FAILING:
            return []
        per_term = []
        for unit in failing:
            options = [(score, fixed, fixed) for score, fixed in correct_term(unit.key, self.corrector, PER_TERM)]
            options = heapq.nlargest(PER_TERM, options + self._pinyin_options(unit.key))
            corrections = [(score, shown) for score, fixed, shown in options  # (several terms: spelled words)
                           if all(unit_finds(dataclasses.replace(unit, key=part, normalized=part))
                                  for part in fixed.split(" "))]
            if not corrections:
                return []
            per_term.append((unit, corrections))
        combos = heapq.nlargest(MAX_CHECKS, product(*(corrections for _, corrections in per_term)),
                                key=lambda combo: sum(score for score, _ in combo))
        suggestions: list[str] = []
        for combo in combos:
            suggestion = q
            for (unit, _), (_, fixed) in zip(per_term, combo):
                suggestion = _replace_term(suggestion, unit, fixed) if suggestion is not None else None
            if suggestion is not None and suggestion not in suggestions and query_finds(suggestion):
                suggestions.append(suggestion)
                if len(suggestions) == limit:
                    break
        return suggestions

    def _pinyin_options(self, term: str) -> list[tuple[float, str, str]]:
        """``(score, normalised text, text)`` of the index's words and phrases that a term of Latin
        letters spells in pinyin (``xijinping`` → 习近平; several, one after the other, as terms
        separated by spaces), scored as a correction is, with nothing changed: they outrank the
        Latin words a letter or two away."""
        if self._spelled is None or not term.isascii() or not term.isalpha():
            return []
        vocabulary = self.corrector.vocabulary
        return [(vocabulary.log_probability(count), key, text) for text, key, count in self._spelled(term)[:PER_TERM]]
