"""Building an index: seeds → paragraphs → a new build beside the live one → atomic swap.

A build folder holds a complete Whoosh index, one document per paragraph (document number = the
paragraph's ``gid``, its position in the build; fields: :func:`make_schema`), ``articles.jsonl``
(each article's id, title and source), ``kinds.npy`` (each paragraph's kind), and in ``grams/``
the match index of :mod:`search.grams`, the accelerator search runs on. Both come from one
analysis of each article (:func:`analyse`: normalising, segmenting, and the Whoosh postings
encoded and grouped by term), which runs in worker processes; the main process keeps the order
and writes, streaming (:mod:`search.whoosh_writer` spills sorted runs): its memory does not grow
with the corpus. The two are swapped in together.
"""

from __future__ import annotations

import collections
import functools
import gc
import itertools
import multiprocessing
import os
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from whoosh.fields import COLUMN, ID, NUMERIC, STORED, TEXT, Schema

from . import analysis
from .articles import ArticleTableWriter
from .config import Settings
from .grams import GramIndexBuilder, mapped_words
from .metadata_index import WHOOSH_FIELDS, MetadataIndexBuilder, whoosh_values
from .synonyms import FILE_NAME as SYNONYMS, read_synonyms
from .userdict import FILE_NAME as USERDICT, read_user_dictionary
from .normalize import folds_in_place, skeleton
from .paragraphs import KINDS, Article, InputProblem, read_articles
from .postings import NpyAppender
from .store import FORMAT, GRAMS, IN_PLACE, PARAGRAPH_KINDS, IndexLayout, is_current_format, read_meta, write_meta
from .suggest import PinyinIndex
from .whoosh_columns import SKELETON_COLUMN, RefNumericColumn
from .whoosh_writer import CompactCharacters, DocumentBatch, Item, SortedSegmentWriter, field_items

Document = tuple[dict, dict[str, list[Item]]]  # a Whoosh document: values, items (whoosh_writer)

_BATCH = 256  # articles per job sent to a worker process (fewer, larger batches: fewer terms to pass on)
_COLLECT_EVERY = 32  # batches a process handles between two collections while the collector is paused
_batches_handled = itertools.count(1)  # in this process


class BuildFailed(RuntimeError):
    """The build stopped before the swap; the live index is untouched."""


def make_schema() -> Schema:
    """One Whoosh document per paragraph, in ``gid`` order (SPEC.md, "The index")."""
    words = TEXT(analyzer=analysis.ChineseAnalyzer(), chars=True)  # positions and offsets
    words.format = CompactCharacters()  # the same, in fewer bytes
    schema = Schema(
        words=words,
        title=TEXT(analyzer=analysis.ChineseAnalyzer(), phrase=False),  # the article title's words
        article_id=ID(stored=True),
        # one term per number; sorted by a column of 1-byte references to the numbers there are
        paragraph=NUMERIC(int, bits=32, stored=True, sortable=RefNumericColumn(), shift_step=0),
        kind=ID(stored=True),
        text=STORED,  # stored as a patch against the skeleton (search.text_patch); read back whole
        skeleton=COLUMN(SKELETON_COLUMN),  # the normalised text matched, also the match index's units
    )
    for name, fieldtype in WHOOSH_FIELDS.items():  # the article's metadata (date; any other key)
        schema.add(name, fieldtype, glob="*" in name)
    return schema


@functools.lru_cache(maxsize=1)
def _schema() -> Schema:
    return make_schema()


@functools.lru_cache(maxsize=1)
def _own_fields() -> frozenset[str]:
    """The schema's own field names, which a metadata key may not take."""
    return frozenset(_schema().names())


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
    schema = _schema()
    title, title_items = "", []
    if article.title:
        normalized, spans = analysis.original_word_spans(article.title, subwords=True)
        title, title_items = skeleton(normalized), field_items(schema["title"], spans)
    meta_values, meta_items = whoosh_values(dict(article.metadata), _own_fields())
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
    batch = DocumentBatch.of(_schema(), first, documents)
    _collect_now_and_then()
    return analyses, batch


@contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a build, in this process and in the processes it
    forks, which inherit the pause; restore it after.

    A build allocates millions of short-lived tuples and lists (postings, tokens) and makes no
    reference cycles that grow with the corpus (a test checks): the collector's passes over those
    objects found nothing and cost ~11 % of the build's CPU (xwlb: 57 → 51 s). Each process still
    collects every ``_COLLECT_EVERY`` batches, so that a cycle some input might make cannot pile up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collect_now_and_then() -> None:
    """While the collector is paused, collect in this process every ``_COLLECT_EVERY`` batches."""
    if next(_batches_handled) % _COLLECT_EVERY == 0 and not gc.isenabled():
        gc.collect()


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
    layout = IndexLayout(Path(settings.index_dir))
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

    with layout.build_lock(), _workers_die_with_builder(), _cyclic_collector_paused():
        previous = layout.current()
        layout.remove_stale(keep_previous=previous)
        build = layout.new_build()
        writer = None
        try:
            analysis.warm_up()  # before the workers fork, so they share the dictionaries
            _dictionaries(Path(settings.seeds_dir), build, on_problem)
            writer = SortedSegmentWriter(build, _schema())
            grams = GramIndexBuilder(build / GRAMS, write_units=False)  # the units: Whoosh's skeleton column
            metadata = MetadataIndexBuilder(build)
            articles = read_articles(Path(settings.seeds_dir), on_problem)
            counts = _add_articles(writer, grams, metadata, analysed(articles, jobs), progress, build)
            if counts[0] == 0:
                raise BuildFailed(f"no articles found in {settings.seeds_dir}")
            metadata.finish()
            # the two indexes' last steps, side by side: Whoosh's terms in a child process
            _beside(writer.commit, lambda: _finish_match_index(grams, build / GRAMS, on_problem))
            writer = None
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
        _collect_now_and_then()
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


def _beside(task: Callable[[], None], here: Callable[[], None]) -> None:
    """Run ``task`` in a forked child process while ``here`` runs in this one; raise
    :class:`BuildFailed` when the child fails (its traceback goes to stderr)."""
    child = multiprocessing.get_context("fork").Process(target=task, name="zhsearch-whoosh-writer")
    child.start()
    try:
        here()
    finally:
        child.join()
    if child.exitcode != 0:
        raise BuildFailed(f"writing the Whoosh index failed (exit code {child.exitcode})")


def _discard(writer, build: Path, layout: IndexLayout) -> None:
    if writer is not None:
        try:
            writer.cancel()
        except Exception:  # the writer may already be closed or half torn down
            pass
    if layout.current() != build:
        shutil.rmtree(build, ignore_errors=True)


_builder_pid: int | None = None  # set while this process builds (see _die_with_builder)
_fork_hook_registered = False


@contextmanager
def _workers_die_with_builder():
    """While building, processes this one forks (Whoosh's writer workers) die when it dies."""
    global _builder_pid, _fork_hook_registered
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_die_with_builder)
        _fork_hook_registered = True
    _builder_pid = os.getpid()
    try:
        yield
    finally:
        _builder_pid = None


def _die_with_builder() -> None:
    """In a process forked during a build: ask the kernel to SIGKILL it when the builder dies.

    A builder killed with SIGKILL cannot stop its workers: they would wait on their job queue
    forever, holding the inherited build lock, and every later build would fail with "another
    build is running".
    """
    global _builder_pid
    builder, _builder_pid = _builder_pid, None
    if builder is None:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: nothing to ask
        pass
    if os.getppid() != builder:  # the builder died before the request took effect
        os._exit(1)


def has_index(settings: Settings) -> bool:
    """Whether a live index this version can read exists at ``settings.index_dir``."""
    build = IndexLayout(Path(settings.index_dir)).current()
    return build is not None and is_current_format(read_meta(build))


def default_jobs() -> int:
    """One indexing process per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
