"""The on-disk layout of an index folder, shared by the indexer (writer) and the searcher (reader).

::

    index/
      CURRENT            name of the live build, replaced atomically (os.replace)
      build-<stamp>/     one complete build: Whoosh files, meta.json, articles.json, kinds.npy,
                         in_place.npy, grams/
      .lock              held (flock) by the one build allowed at a time

A build is written into a fresh ``build-*`` folder and becomes live only when ``CURRENT`` names
it; readers follow ``CURRENT``. A crashed build leaves a folder no pointer names, removed by the
next build.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

POINTER = "CURRENT"
LOCK = ".lock"
META = "meta.json"
BUILD_PREFIX = "build-"
# Inside a build folder, beside Whoosh's files:
ARTICLES = "articles.jsonl"  # [id, title, source] per article, a JSON line each (search.articles)
ARTICLE_OFFSETS = "article_offsets.npy"  # where each article's line starts
ARTICLE_ORDER = "article_order.npy"  # the article positions sorted by id
PARAGRAPH_KINDS = "kinds.npy"  # per paragraph id: its kind, as a position in paragraphs.KINDS
IN_PLACE = "in_place.npy"  # per paragraph id: 1 when its text folds in place (normalize.folds_in_place)
GRAMS = "grams"  # the match index (search.grams)
# What a build folder holds changes now and then; meta.json records the version it was built
# with, and a build of another version is rebuilt rather than misread.
FORMAT = 14  # 14: the pinyin of the words for did-you-mean (search.suggest.PinyinIndex); 13: stored fields compressed 32 documents at a time; 12: column types in search.whoosh_columns; 11: texts as patches; 9: words postings in column blocks


class BuildLocked(RuntimeError):
    """Another build holds the lock."""


@dataclass(frozen=True)
class IndexLayout:
    """Paths and pointer operations for one index root folder."""

    root: Path

    @property
    def pointer(self) -> Path:
        return self.root / POINTER

    def current(self) -> Path | None:
        """The live build folder, or None when no index has been built."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        build = self.root / name
        if not name.startswith(BUILD_PREFIX) or "/" in name or not build.is_dir():
            return None
        return build

    def version(self) -> tuple[int, int] | None:
        """A cheap token that changes whenever a new build is swapped in."""
        try:
            stat = self.pointer.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return stat.st_ino, stat.st_mtime_ns

    def new_build(self) -> Path:
        """A fresh, empty folder for the next build."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        folder = self.root / f"{BUILD_PREFIX}{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        folder.mkdir()
        return folder

    def swap_in(self, build: Path) -> None:
        """Make ``build`` the live index in one atomic rename."""
        tmp = self.root / f".{POINTER}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(build.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.pointer)
        _fsync_dir(self.root)

    def remove_stale(self, keep_previous: Path | None = None) -> list[Path]:
        """Delete build folders that are neither live nor ``keep_previous`` (call under the lock)."""
        live = self.current()
        removed = []
        for folder in self.root.glob(f"{BUILD_PREFIX}*"):
            if folder.is_dir() and folder not in (live, keep_previous):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        for tmp in self.root.glob(f".{POINTER}.*.tmp"):
            tmp.unlink(missing_ok=True)
        return removed

    @contextmanager
    def build_lock(self):
        """Hold the build lock; raises :class:`BuildLocked` at once when another build has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a+", encoding="utf-8") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise BuildLocked(f"another build is running ({holder}); lock: {self.root / LOCK}") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}\n")
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_meta(build: Path, meta: dict) -> None:
    """Record what a build holds (counts, time) beside its Whoosh files."""
    (build / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")


def is_current_format(meta: dict) -> bool:
    """Whether a build whose :func:`read_meta` is ``meta`` was written in the layout this version reads."""
    return meta.get("format") == FORMAT


def read_meta(build: Path) -> dict:
    """The meta a build recorded, or an empty dict."""
    try:
        return json.loads((build / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
