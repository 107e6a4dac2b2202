"""Analysing articles for a build, in worker processes: each article normalised and segmented once,
for both indexes (what the match index needs, and its paragraphs as Whoosh documents with their
``words`` and ``title`` postings already encoded), in batches that keep the input order.
"""

from __future__ import annotations

import collections
import functools
import itertools
import multiprocessing
from dataclasses import dataclass
from itertools import islice
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh.fields import Schema

from ..match.builder import WordLists
from ..paragraphs import Article
from ..paragraphs.reading import Unsplit
from ..problems import InputProblem
from ..segment.documents import DocumentBatch, PostingsCollector, StoredRows
from ..segment.schema import make_schema, whoosh_values
from ..segment.words_format import compact_values, field_items
from ..text import analysis
from ..text.normalize import normalize_with_spans, skeleton
from .processes import collect_now_and_then
from .spans import WordSpans, forget_tokens, word_spans

_BATCH = 256  # articles per job sent to a worker process (fewer, larger batches: fewer terms to pass on)


@functools.lru_cache(maxsize=1)
def cached_schema() -> Schema:
    return make_schema()


@functools.lru_cache(maxsize=1)
def own_fields() -> frozenset[str]:
    """The schema's own field names, which a metadata key may not take."""
    return frozenset(cached_schema().names())


@dataclass(frozen=True)
class Analysed:
    """What the match index needs of one article (computed in a worker process)."""

    title: str  # the title's skeleton
    # skeleton, its words a line each (empty when ``words`` holds them), folds in place
    paragraphs: list[tuple[str, str, bool]]
    words: WordLists | None = None  # the distinct words of each paragraph (with sub-words)


@dataclass
class _Article:
    """One article normalised, before its batch's words are cut: the fields that hold for each of
    its paragraphs, and each paragraph's normalised text and the fields of its own."""

    title: str
    fields: tuple[dict, dict]  # values and items of the article's own fields
    texts: list[tuple[str, object, object]]  # each paragraph's normalize_with_spans
    paragraphs: list[tuple[str, str, bool]]  # skeleton, "" (words), folds in place
    values: list[dict]  # each paragraph's own values


def analyse(article: Article) -> _Article:
    """Normalise one article; the words of its paragraphs are cut with its batch's
    (:func:`analyse_batch`)."""
    schema = cached_schema()
    title, title_items = "", []
    if article.title:
        normalized, spans = analysis.original_word_spans(article.title, subwords=True)
        title, title_items = skeleton(normalized), field_items(schema["title"], spans)
    meta_values, meta_items = whoosh_values(dict(article.metadata), own_fields())
    texts, paragraphs, values = [], [], []
    for n, paragraph in enumerate(article.paragraphs, start=1):
        normalized, starts, ends = normalize_with_spans(paragraph.text)
        skeleton_text = skeleton(normalized)
        texts.append((normalized, starts, ends))
        paragraphs.append((skeleton_text, "", _folds_in_place(paragraph.text, skeleton_text, starts)))
        values.append({"paragraph": n, "kind": paragraph.kind, "text": paragraph.text,
                       "skeleton": skeleton_text})  # the codec stores the text as a patch
    return _Article(title, ({"article_id": article.id, **meta_values}, {"title": title_items, **meta_items}),
                    texts, paragraphs, values)


def _folds_in_place(text: str, skeleton_text: str, starts) -> bool:
    """:func:`~search.text.normalize.folds_in_place`, from what normalising ``text`` gave: its
    characters folded one for one, composed as they were (NFC) and none widened, exactly when
    ``normalize_with_spans`` maps them with ``range(len(text))``."""
    return len(skeleton_text) == len(text) and isinstance(starts, range) and starts == range(len(text))


def analyse_batch(articles: list[Article], first: int) -> tuple[list[Analysed], DocumentBatch]:
    """Normalise and segment each article once, for both indexes: what the match index needs, and
    its paragraphs as Whoosh documents ``first``, ``first + 1``, … (the ``words`` and ``title``
    postings already grouped by term). The words of all the batch's paragraphs are cut together
    (:func:`search.build.spans.word_spans`) and encoded in the ``words`` field's format,
    :class:`~search.segment.words_format.CompactCharacters` (:func:`~search.segment.schema.make_schema`):
    no Python object per posting."""
    schema = cached_schema()
    normalised = [analyse(article) for article in articles]
    texts = [text for article in normalised for text in article.texts]
    spans = word_spans(texts)
    lengths = spans.lengths()
    collector = PostingsCollector()
    words_field = schema["words"]
    boost = words_field.format.field_boost
    term, paragraph, counts, order = spans.postings()
    sizes, values = compact_values(counts, spans.ordinal[order], spans.start[order], spans.end[order])
    collector.add_columns("words", [word.encode("utf-8") for word in spans.terms], term, paragraph + first,
                          counts * boost, lengths[paragraph] if words_field.scorable else np.zeros(len(counts)),
                          sizes, values)
    lists = _word_lists(spans, term, paragraph)
    indexed: dict = {}  # field.index(value) of values that recur
    rows = StoredRows(schema)
    paragraph_fields = {}  # per field of a paragraph's own: the field, when it is indexed
    by_value: dict[tuple[str, object], tuple[list, int, list[int]]] = {}  # its items, length and documents
    stored, analyses = [], []
    docnum = 0
    for article in normalised:
        own_values, own_items = article.fields
        count = len(article.texts)
        own = collector.add_fields(schema, own_values, own_items, range(first + docnum, first + docnum + count),
                                   indexed)
        analysed_names = ("words", *own_items)
        for values in article.values:
            row_lengths = dict(own, words=int(lengths[docnum]) if words_field.scorable else 0)
            for name, value in values.items():  # (paragraph, kind): the documents of each value together
                if name not in paragraph_fields:
                    paragraph_fields[name] = schema[name] if schema[name].indexed else None
                if paragraph_fields[name] is None:
                    continue
                found = by_value.get((name, value))
                if found is None:
                    found = by_value[name, value] = _indexed(paragraph_fields[name], value)
                found[2].append(first + docnum)
                row_lengths[name] = found[1]
            stored.append(rows({**own_values, **values}, analysed_names, row_lengths))
            docnum += 1
        analyses.append(Analysed(article.title, article.paragraphs, lists(docnum - count, docnum)))
    for (name, _), (items, length, documents) in by_value.items():
        collector.add_items(name, items, documents, length)
    batch = DocumentBatch(first, stored, collector.table())
    collect_now_and_then()
    return analyses, batch


def _indexed(fieldobj, value) -> tuple[list, int, list[int]]:
    """A value's items as ``fieldobj`` indexes it, its length in the field, and no documents yet."""
    items = list(fieldobj.index(value)) if value is not None else []
    return items, sum(freq for _, freq, _, _ in items) if fieldobj.scorable else 0, []


def _word_lists(spans: WordSpans, term: np.ndarray, paragraph: np.ndarray):
    """``lists(a, b)``: the :class:`WordLists` of the batch's paragraphs ``a:b`` (words with a
    line break left out: the match index lists its words a line each)."""
    kept = np.array(["\n" not in word for word in spans.terms], dtype=bool)
    keep = kept[term] if len(term) else np.zeros(0, dtype=bool)
    order = np.argsort(paragraph[keep], kind="stable")  # by paragraph; words stay ascending
    words = term[keep][order].astype(np.uint32)
    counts = np.bincount(paragraph[keep], minlength=spans.paragraphs).astype(np.uint32)
    return lambda a, b: WordLists(spans.terms, counts, words, a, b)  # the batch's arrays, shared


Batch = tuple[list[Article], list[Analysed], DocumentBatch]


def analyse_job(items: list[Article | Unsplit],
                number: int) -> tuple[list[Article], list[InputProblem], list[Analysed], DocumentBatch]:
    """A worker's job, the ``number``-th batch: its articles' paragraphs reconstructed where they are
    not yet (the problems met, to be reported by the builder), then analysed, their documents
    numbered from 0 (the builder numbers them once it knows how many paragraphs came before)."""
    problems: list[InputProblem] = []
    articles = [item.split(problems.append) if isinstance(item, Unsplit) else item for item in items]
    return articles, problems, *analyse_batch(articles, 0)


def analysed(items: Iterable[Article | Unsplit], jobs: int,
             report: Callable[[InputProblem], None]) -> Iterator[Batch]:
    """Batches of articles with their analysis, in order, computed by ``jobs`` worker processes,
    which also reconstruct the paragraphs of articles not yet split (the costliest step of reading).

    Articles are read here, in the calling thread, and every problem is reported here — those of
    reading as they are met, those of a batch's reconstruction as the batch comes back — so a
    bad-input report (or ``--strict`` stopping the build) happens where the caller can see it.
    """
    items = iter(items)
    first = 0  # the next paragraph's gid
    forget_tokens()  # jieba's dictionary may have changed since the last build

    def numbered(articles, problems, analyses, batch: DocumentBatch) -> Batch:
        nonlocal first
        for problem in problems:
            report(problem)
        batch.renumber(first)
        first += len(batch.stored)
        return articles, analyses, batch

    batches = (list(islice(items, _BATCH)) for _ in itertools.count())
    if jobs <= 1:
        try:
            for number, batch in enumerate(itertools.takewhile(bool, batches)):
                yield numbered(*analyse_job(batch, number))
        finally:
            forget_tokens()  # what this process kept of the build's tokens
        return
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: collections.deque = collections.deque()
        sent = 0
        while True:
            while len(pending) < 2 * jobs:
                batch = next(batches)
                if not batch:
                    break
                pending.append(pool.apply_async(analyse_job, (batch, sent)))
                sent += 1
            if not pending:
                return
            yield numbered(*pending.popleft().get())
