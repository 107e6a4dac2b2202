"""Writing one segment of a generation: the articles given, analysed once in worker processes, as a
Whoosh segment (``MAIN_<id>.*``) and, in ``seg-<id>/``, its match index and per-segment tables.

A whole build writes segments of every article, each of a bounded number of characters; an update
writes those of the articles added or changed, and a merge those of the live articles of the
segments it replaces. The generation (:mod:`search.build.generation`) then lists the segments and
the articles each no longer serves.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from ..formats.arrays import NpyAppender
from ..formats.articles import ArticleTableWriter, JsonLinesWriter
from ..formats.layout import (
    GRAMS,
    IN_PLACE,
    PARAGRAPH_KINDS,
    SEGMENT_METADATA,
    SEGMENT_METADATA_OFFSETS,
    segment_folder,
)
from ..formats.pinyin_index import PinyinIndex
from ..match.builder import GramIndexBuilder
from ..match.frequent_words import write_frequent_lists
from ..match.grams import GramIndex
from ..match.skeletons import mapped_words
from ..paragraphs import KINDS, Article
from ..paragraphs.reading import Unsplit
from ..problems import InputProblem
from ..segment.codec import SKELETON_FIELD
from ..segment.columns import skeleton_arrays
from ..segment.writer import INDEX_NAME, SortedSegmentWriter
from .analyse import Batch, analysed, cached_schema
from .processes import BuildFailed, beside, collect_now_and_then, release_memory


@dataclass(frozen=True)
class WrittenSegment:
    """A segment just written: Whoosh's segment object (for the table of contents) and its counts."""

    whoosh: object
    documents: int  # paragraphs
    articles: int
    characters: int

    @property
    def segid(self) -> str:
        return self.whoosh.segid


def write_segments(folder: Path, articles: Iterable[Article | Unsplit], *, most_characters: int, jobs: int,
                   on_problem: Callable[[InputProblem], None],
                   progress: Callable[[int], None] | None = None) -> list[WrittenSegment]:
    """Write ``articles``, in order, as new segments of the generation folder ``folder``, each
    closed once its articles hold ``most_characters`` characters (an article is never split): the
    memory a segment takes to write is bounded by that size, not by the archive's."""
    stretches = _Stretches(articles, most_characters)
    written = []
    while not stretches.done:
        segment = write_segment(folder, stretches.next(), jobs=jobs, on_problem=on_problem, progress=progress)
        if segment is not None:
            written.append(segment)
        release_memory()  # what a segment left goes before the next is written
    return written


class _Stretches:
    """Consecutive stretches of an iterable of articles, each ending with the article that brings
    its characters to ``most``."""

    def __init__(self, articles: Iterable[Article | Unsplit], most: int):
        self._articles, self._most = iter(articles), most
        self.done = False

    def next(self) -> Iterable[Article | Unsplit]:
        size = 0
        while size < self._most:
            article = next(self._articles, None)
            if article is None:
                self.done = True
                return
            size += len(article.text) if isinstance(article, Unsplit) else sum(len(p.text) for p in article.paragraphs)
            yield article


def write_segment(folder: Path, articles: Iterable[Article | Unsplit], *, jobs: int,
                  on_problem: Callable[[InputProblem], None],
                  progress: Callable[[int], None] | None = None) -> WrittenSegment | None:
    """Write ``articles`` as a new segment into the generation folder ``folder``; None when there
    are none. Raises :class:`~search.build.processes.BuildFailed` when writing fails (the caller
    discards the folder)."""
    writer = SortedSegmentWriter(folder, cached_schema())
    try:
        data = segment_folder(folder, writer.segment.segid)
        data.mkdir()
        grams = GramIndexBuilder(data / GRAMS, write_units=False)  # the units: Whoosh's skeleton column
        counts = _add_articles(writer, grams, data, analysed(articles, jobs, on_problem), progress)
        if counts[0] == 0:
            writer.cancel()
            shutil.rmtree(data, ignore_errors=True)
            return None
        release_memory()  # what the analysis left goes before the child forks
        # the two indexes' last steps, side by side: Whoosh's terms in a child process
        beside(writer.commit, lambda: _finish_match_index(grams, data / GRAMS, on_problem))
        # then, the skeletons complete in Whoosh's column, the frequent longer words' lists
        skeletons = skeleton_arrays(Path(folder) / W3Codec.column_filename(writer.segment, SKELETON_FIELD))
        write_frequent_lists(data / GRAMS, GramIndex(data / GRAMS, *skeletons))
    except BaseException:
        writer.cancel()
        raise
    storage = FileStorage(str(folder))
    segment = TOC.read(storage, INDEX_NAME, 0).segments[0]
    storage.delete_file(TOC._filename(INDEX_NAME, 0))  # the generation writes the table of contents
    articles, paragraphs, characters = counts
    return WrittenSegment(segment, paragraphs, articles, characters)


def _add_articles(writer: SortedSegmentWriter, grams: GramIndexBuilder, data: Path, batches: Iterable[Batch],
                  progress) -> tuple[int, int, int]:
    n_articles = n_paragraphs = n_chars = 0
    kinds = NpyAppender(data / PARAGRAPH_KINDS, np.uint8)
    in_place = NpyAppender(data / IN_PLACE, np.uint8)
    table = ArticleTableWriter(data)
    metadata = JsonLinesWriter(data / SEGMENT_METADATA, data / SEGMENT_METADATA_OFFSETS)
    for articles, analyses, documents in batches:
        for article, analysed_article in zip(articles, analyses):
            grams.start_article(analysed_article.title, analysed_article.words)
            metadata.add(dict(article.metadata))
            table.add(article.id, article.title, article.source)
            n_articles += 1
            size = 0
            paragraphs = analysed_article.paragraphs
            for n, (paragraph, (skeleton_text, words, _)) in enumerate(zip(article.paragraphs, paragraphs), start=1):
                if paragraph.n != n:  # the searcher numbers paragraphs by their position
                    raise BuildFailed(f"{article.source}: paragraph {paragraph.n} is in position {n}")
                grams.add_paragraph(skeleton_text, words.split("\n") if words else ())
                n_paragraphs += 1
                n_chars += len(paragraph.text)
                size += len(paragraph.text.encode("utf-8"))
            kinds.append([KINDS.index(paragraph.kind) for paragraph in article.paragraphs])
            in_place.append([plain for _, _, plain in paragraphs])
            if progress is not None:
                progress(size)
        writer.add_batch(documents)
        collect_now_and_then()
    for closing in (table, kinds, in_place, metadata):
        closing.close()
    return n_articles, n_paragraphs, n_chars


def _finish_match_index(grams: GramIndexBuilder, folder: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """Merge the match index, then work out the pinyin of its words for did-you-mean (the words of
    the segment's Whoosh ``words`` lexicon, in the same order); a word that fails is reported at its
    line of ``words.txt`` and left out."""
    grams.finish()

    def failed(number: int, word: str, exc: Exception) -> None:
        on_problem(InputProblem(str(folder / "words.txt"), number + 1, f"no pinyin for {word!r} "
                                f"({type(exc).__name__}: {exc}); it is searched but not suggested", fatal=False))

    PinyinIndex.of_words(mapped_words(folder), failed).save(folder)
