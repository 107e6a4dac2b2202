"""Building an index: seeds → paragraphs → a new build beside the live one → atomic swap.

A build folder holds a Whoosh index (jieba's words for whole-word ranking, the stored
paragraphs, and ``gid``, the paragraph's position in the build) and, in ``grams/``, the
substring index of :mod:`search.grams` over the same paragraphs in ``gid`` order.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from whoosh import index as whoosh_index
from whoosh.analysis import Analyzer
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from . import analysis
from .config import Settings
from .grams import write_gram_index
from .normalize import normalize, skeleton
from .paragraphs import Article, InputProblem, read_articles
from .store import IndexLayout, write_meta


class BuildFailed(RuntimeError):
    """The build stopped before the swap; the live index is untouched."""


class _WordAnalyzer(Analyzer):
    def __init__(self):
        self.tokenizer = analysis.WordTokenizer()

    def __call__(self, value, **kwargs):
        return self.tokenizer(value, **kwargs)


def make_schema() -> Schema:
    """One document per paragraph: stored display fields, its ``gid`` and its jieba words."""
    return Schema(
        gid=NUMERIC(numtype=int, bits=32, signed=False, sortable=True),
        article_id=ID(stored=True),
        n=STORED,
        kind=ID(stored=True),
        text=STORED,
        article_title=STORED,
        source=STORED,
        # Frequencies only: positions would cost 5 bytes a character in Whoosh's format, and
        # phrases are matched exactly by the gram index, not here.
        words=TEXT(analyzer=_WordAnalyzer(), phrase=False),
    )


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


class _Grams:
    """Collects each paragraph's skeleton in ``gid`` order for the substring index."""

    def __init__(self):
        self.skeletons: list[str] = []
        self.titles: list[str] = []
        self.article_starts: list[int] = []

    def add_article(self, article: Article):
        """The Whoosh documents (one per paragraph) for an article, recording its skeletons."""
        self.titles.append(skeleton(normalize(article.title)) if article.title else "")
        self.article_starts.append(len(self.skeletons))
        for paragraph in article.paragraphs:
            normalized = normalize(paragraph.text)
            gid = len(self.skeletons)
            self.skeletons.append(skeleton(normalized))
            yield {
                "gid": gid,
                "article_id": article.id,
                "n": paragraph.n,
                "kind": paragraph.kind,
                "text": paragraph.text,
                "article_title": article.title,
                "source": article.source,
                "words": normalized,
            }

    def save(self, folder: Path) -> None:
        write_gram_index(folder, self.skeletons, self.titles, self.article_starts)


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

    with layout.build_lock(), _workers_die_with_builder():
        previous = layout.current()
        layout.remove_stale(keep_previous=previous)
        build = layout.new_build()
        writer = None
        try:
            analysis.warm_up()  # before the writer forks its workers, so they share the dictionary
            ix = whoosh_index.create_in(str(build), make_schema())
            writer = ix.writer(procs=max(1, jobs), limitmb=256, multisegment=jobs > 1)
            grams = _Grams()
            counts = _add_articles(writer, grams, read_articles(Path(settings.seeds_dir), on_problem), progress)
            if counts[0] == 0:
                raise BuildFailed(f"no articles found in {settings.seeds_dir}")
            writer.commit()
            writer = None
            grams.save(build / "grams")
            meta = {
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


def _add_articles(writer, grams: _Grams, articles, progress) -> tuple[int, int, int]:
    n_articles = n_paragraphs = n_chars = 0
    for article in articles:
        size = 0
        for document in grams.add_article(article):
            writer.add_document(**document)
            n_paragraphs += 1
            n_chars += len(document["text"])
            size += len(document["text"].encode("utf-8"))
        n_articles += 1
        if progress is not None:
            progress(size)
    return n_articles, n_paragraphs, n_chars


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
    """Whether a live index exists at ``settings.index_dir``."""
    return IndexLayout(Path(settings.index_dir)).current() is not None


def default_jobs() -> int:
    """One indexing process per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
