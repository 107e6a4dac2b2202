"""Building an index: seeds → paragraphs → a new build beside the live one → atomic swap.

A build folder holds a complete Whoosh index, one document per paragraph (document number = the
paragraph's ``gid``, its position in the build; fields: :func:`search.segment.schema.make_schema`),
``articles.jsonl`` (each article's id, title and source), ``kinds.npy`` (each paragraph's kind),
and in ``grams/`` the match index of :mod:`search.match`, the accelerator search runs on. Both come
from one analysis of each article (:mod:`search.build.analyse`: normalising, segmenting, and the
Whoosh postings encoded and grouped by term), which runs in worker processes; the main process
keeps the order and writes, streaming (:mod:`search.segment.writer` spills sorted runs): its memory
does not grow with the corpus. The two are swapped in together.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..config import Settings
from ..formats.arrays import NpyAppender
from ..formats.articles import ArticleTableWriter
from ..formats.layout import (
    FORMAT,
    GRAMS,
    IN_PLACE,
    PARAGRAPH_KINDS,
    IndexLayout,
    is_current_format,
    read_meta,
    write_meta,
)
from ..formats.metadata import MetadataIndexBuilder
from ..formats.pinyin_index import PinyinIndex
from ..match.builder import GramIndexBuilder
from ..match.skeletons import mapped_words
from ..paragraphs import KINDS, InputProblem, read_articles
from ..segment.writer import SortedSegmentWriter
from ..text import analysis
from ..text.synonyms import FILE_NAME as SYNONYMS, read_synonyms
from ..text.userdict import FILE_NAME as USERDICT, read_user_dictionary
from .analyse import Batch, analysed, cached_schema
from .completions import CompletionsBuilder
from .processes import BuildFailed, beside, collect_now_and_then, cyclic_collector_paused, workers_die_with_builder
from .store import BuildStore

__all__ = ["BuildFailed", "BuildSummary", "build_index", "default_jobs", "has_index"]


@dataclass(frozen=True)
class BuildSummary:
    """What a finished build holds and how long it took."""

    articles: int
    paragraphs: int
    characters: int
    seconds: float
    problems: int
    build: Path

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        return (f"indexed {self.articles:,} articles, {self.paragraphs:,} paragraphs, "
                f"{self.characters:,} characters in {self.seconds:.1f} s"
                + (f" ({self.problems} input problems skipped)" if self.problems else ""))


def build_index(
    settings: Settings,
    *,
    jobs: int = 1,
    strict: bool = False,
    report: Callable[[InputProblem], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BuildSummary:
    """Build a complete index from ``settings.seeds_dir`` and swap it in atomically.

    Bad input is passed to ``report`` and skipped; with ``strict`` the first fatal problem stops
    the build. ``progress`` receives the number of UTF-8 bytes of text indexed since the last call.
    Raises :class:`BuildFailed` (live index untouched) or ``store.BuildLocked``.
    """
    layout = BuildStore(Path(settings.index_dir))
    started = time.perf_counter()
    problems: list[InputProblem] = []

    def on_problem(problem: InputProblem) -> None:
        if report is not None:
            report(problem)
        if problem.fatal:
            problems.append(problem)
            if strict:
                where = f"{problem.path}:{problem.line}"
                raise BuildFailed(f"--strict: stopped at the bad input reported above ({where})")

    with layout.build_lock(), workers_die_with_builder(), cyclic_collector_paused():
        previous = layout.current()
        layout.remove_stale(keep_previous=previous)
        build = layout.new_build()
        writer = None
        try:
            analysis.warm_up()  # before the workers fork, so they share the dictionaries
            _dictionaries(Path(settings.seeds_dir), build, on_problem)
            writer = SortedSegmentWriter(build, cached_schema())
            # the units: Whoosh's skeleton column; the builder's copy serves the completion index
            # before that column is written, and is removed then
            grams = GramIndexBuilder(build / GRAMS, write_units=True)
            metadata = MetadataIndexBuilder(build)
            articles = read_articles(Path(settings.seeds_dir), on_problem)
            counts = _add_articles(writer, grams, metadata, analysed(articles, jobs), progress, build)
            if counts[0] == 0:
                raise BuildFailed(f"no articles found in {settings.seeds_dir}")
            metadata.finish()
            # the two indexes' last steps, side by side: Whoosh's terms in a child process
            completions = CompletionsBuilder(build, on_problem)
            beside(writer.commit, lambda: (_finish_match_index(grams, build / GRAMS, on_problem), completions.count()))
            writer = None
            completions.write()
            meta = {
                "format": FORMAT,
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "articles": counts[0],
                "paragraphs": counts[1],
                "characters": counts[2],
                "seeds": str(settings.seeds_dir),
            }
            write_meta(build, meta)
            layout.swap_in(build)
        except BaseException:
            _discard(writer, build, layout)
            raise
        layout.remove_stale(keep_previous=previous)
    return BuildSummary(*counts, seconds=time.perf_counter() - started, problems=len(problems), build=build)


def _add_articles(writer: SortedSegmentWriter, grams: GramIndexBuilder, metadata: MetadataIndexBuilder,
                  batches: Iterable[Batch], progress, build: Path) -> tuple[int, int, int]:
    n_articles = n_paragraphs = n_chars = 0
    kinds = NpyAppender(build / PARAGRAPH_KINDS, np.uint8)
    in_place = NpyAppender(build / IN_PLACE, np.uint8)
    table = ArticleTableWriter(build)
    for articles, analyses, documents in batches:
        for article, analysed_article in zip(articles, analyses):
            grams.start_article(analysed_article.title)
            metadata.add_article(dict(article.metadata))
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
    table.close()
    kinds.close()
    in_place.close()
    return n_articles, n_paragraphs, n_chars


def _finish_match_index(grams: GramIndexBuilder, folder: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """Merge the match index, then work out the pinyin of its words for did-you-mean (the words of
    Whoosh's ``words`` lexicon, in the same order); a word that fails is reported at its line of
    ``words.txt`` and left out."""
    grams.finish()

    def failed(number: int, word: str, exc: Exception) -> None:
        on_problem(InputProblem(str(folder / "words.txt"), number + 1, f"no pinyin for {word!r} "
                                f"({type(exc).__name__}: {exc}); it is searched but not suggested", fatal=False))

    PinyinIndex.of_words(mapped_words(folder), failed).save(folder)


def _dictionaries(seeds: Path, build: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """The seeds' user dictionary and synonyms: checked (bad lines reported), the words added to
    jieba before the workers fork, and both copied into the build, which the searcher reads."""
    for name, read in ((USERDICT, read_user_dictionary), (SYNONYMS, read_synonyms)):
        source = seeds / name
        if source.is_file():
            found = read(source, on_problem)
            if name == USERDICT:
                analysis.add_user_words(found)
            shutil.copyfile(source, build / name)


def _discard(writer, build: Path, layout: BuildStore) -> None:
    if writer is not None:
        try:
            writer.cancel()
        except Exception:  # the writer may already be closed or half torn down
            pass
    if layout.current() != build:
        shutil.rmtree(build, ignore_errors=True)


def has_index(settings: Settings) -> bool:
    """Whether a live index this version can read exists at ``settings.index_dir``."""
    build = IndexLayout(Path(settings.index_dir)).current()
    return build is not None and is_current_format(read_meta(build))


def default_jobs() -> int:
    """One indexing process per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
