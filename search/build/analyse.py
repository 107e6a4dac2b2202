"""Analysing articles for a build, in worker processes: each article normalised and segmented once,
for both indexes (what the match index needs, and its paragraphs as Whoosh documents with their
``words`` and ``title`` postings already encoded), in batches that keep the input order.
"""

from __future__ import annotations

import collections
import functools
import multiprocessing
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from whoosh.fields import Schema

from ..paragraphs import Article
from ..segment.documents import DocumentBatch
from ..segment.schema import make_schema, whoosh_values
from ..segment.words_format import Item, field_items
from ..text import analysis
from ..text.normalize import folds_in_place, skeleton
from .processes import collect_now_and_then

Document = tuple[dict, dict[str, list[Item]]]  # a Whoosh document: values, items (segment.words_format)
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
    # skeleton, its words (with sub-words) a line each, folds in place: one string is passed back
    # from a worker far faster than a list of them, and words.txt cannot hold a word with a line
    # break anyway
    paragraphs: list[tuple[str, str, bool]]


def analyse(article: Article) -> tuple[Analysed, list[Document]]:
    """Normalise and segment one article once, for both indexes: what the match index needs, and
    its paragraphs as Whoosh documents (the ``words`` and ``title`` postings already encoded)."""
    schema = cached_schema()
    title, title_items = "", []
    if article.title:
        normalized, spans = analysis.original_word_spans(article.title, subwords=True)
        title, title_items = skeleton(normalized), field_items(schema["title"], spans)
    meta_values, meta_items = whoosh_values(dict(article.metadata), own_fields())
    paragraphs, documents = [], []
    for n, paragraph in enumerate(article.paragraphs, start=1):
        normalized, spans = analysis.original_word_spans(paragraph.text, subwords=True)
        skeleton_text = skeleton(normalized)
        words = "\n".join(sorted({word for word, _, _, _ in spans if "\n" not in word}))
        paragraphs.append((skeleton_text, words, folds_in_place(paragraph.text, skeleton_text)))
        documents.append(({"article_id": article.id, "paragraph": n, "kind": paragraph.kind,
                           "text": paragraph.text, "skeleton": skeleton_text,  # the codec stores the text as a patch
                           **meta_values},
                          {"words": field_items(schema["words"], spans), "title": title_items, **meta_items}))
    return Analysed(title, paragraphs), documents


def analyse_batch(articles: list[Article], first: int) -> tuple[list[Analysed], DocumentBatch]:
    """:func:`analyse` each article; their paragraphs become Whoosh documents ``first``, ``first + 1``, …"""
    analyses, documents = [], []
    for article in articles:
        analysed_article, article_documents = analyse(article)
        analyses.append(analysed_article)
        documents.extend(article_documents)
    batch = DocumentBatch.of(cached_schema(), first, documents)
    collect_now_and_then()
    return analyses, batch


Batch = tuple[list[Article], list[Analysed], DocumentBatch]


def analysed(articles: Iterable[Article], jobs: int) -> Iterator[Batch]:
    """Batches of articles with their analysis, in order, computed by ``jobs`` worker processes.

    Articles are read here, in the calling thread, so a bad-input report (or ``--strict``
    stopping the build) happens where the caller can see it.
    """
    articles = iter(articles)
    first = 0  # the next paragraph's gid

    def next_batch() -> tuple[list[Article], int]:
        nonlocal first
        batch = list(islice(articles, _BATCH))
        start, first = first, first + sum(len(article.paragraphs) for article in batch)
        return batch, start

    if jobs <= 1:
        while (job := next_batch())[0]:
            yield job[0], *analyse_batch(*job)
        return
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending: collections.deque = collections.deque()
        while True:
            while len(pending) < 2 * jobs:
                batch, start = next_batch()
                if not batch:
                    break
                pending.append((batch, pool.apply_async(analyse_batch, (batch, start))))
            if not pending:
                return
            batch, result = pending.popleft()
            yield batch, *result.get()
