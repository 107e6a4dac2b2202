"""The on-disk layout of an index folder, shared by the build (writer) and the query side (reader).

::

    index/
      CURRENT            name of the live generation, replaced atomically (os.replace)
      build-<stamp>/     one generation: a Whoosh index whose table of contents lists its segments
                         (MAIN_<segment>.* files) with their deleted documents; each segment's match
                         index and tables in seg-<segment>/; the tables derived from them all
                         (live.npy, article_index.npy, kinds.npy, in_place.npy, the articles table,
                         article_rank.npy, metadata/, vocabulary/, completions/,
                         deleted.json); seeds.json (what
                         each seed file held, for the next update); meta.json
      .lock              held (flock) by the one build allowed at a time

Generations share their segments' files through hard links: an update writes a folder holding
the segments it keeps (links), the one it adds, and the derived tables.

A build is written into a fresh ``build-*`` folder and becomes live only when ``CURRENT`` names
it (:mod:`search.build.store` does the writing); readers follow ``CURRENT``. A crashed build
leaves a folder no pointer names, removed by the next build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

POINTER = "CURRENT"
LOCK = ".lock"
META = "meta.json"
BUILD_PREFIX = "build-"
# Inside a build folder, beside Whoosh's files:
ARTICLES = "articles.jsonl"  # [id, title, source] per article, a JSON line each (search.formats.articles)
ARTICLE_OFFSETS = "article_offsets.npy"  # where each article's line starts
ARTICLE_ORDER = "article_order.npy"  # the article positions sorted by id
PARAGRAPH_KINDS = "kinds.npy"  # per paragraph id: its kind, as a position in paragraphs.KINDS
IN_PLACE = "in_place.npy"  # per paragraph id: 1 when its text folds in place (text.normalize.folds_in_place)
GRAMS = "grams"  # the match index (search.match)
SEGMENT_PREFIX = "seg-"  # a segment's own folder: its match index, kinds, in-place flags, articles, metadata
SEGMENT_METADATA = "metadata.jsonl"  # in a segment's folder: each article's metadata, a JSON line each
SEGMENT_METADATA_OFFSETS = "metadata_offsets.npy"
LIVE = "live.npy"  # per paragraph of the generation: 1 when it is served
ARTICLE_INDEX = "article_index.npy"  # per paragraph of the generation: its article's position
ARTICLE_RANK = "article_rank.npy"  # per article of the generation: its id's rank among the live ones
VOCABULARY = "vocabulary"  # the live words, sorted, and their pinyin (did-you-mean)
DELETED_STATISTICS = "deleted.json"  # what the deleted documents add to Whoosh's statistics
SEEDS_STATE = "seeds.json"  # per seed file: its stamp and the articles it held
# What a build folder holds changes now and then; meta.json records the version it was built
# with, and a build of another version is rebuilt rather than misread.
FORMAT = 19  # 19: the least and most tf per block of a posting stream (match.blockmax); 18: the frequent longer words' posting lists (match.frequent_words); 17: the completion index (formats.completions); 16: unigram posting lists and BM25 bounds per block in the match index; 15: generations of segments; 14: the pinyin of the words for did-you-mean (formats.pinyin_index); 13: stored fields compressed 32 documents at a time; 12: column types in segment.columns; 11: texts as patches; 9: words postings in column blocks


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


def segment_folder(build: Path, segid: str) -> Path:
    """Where segment ``segid``'s own files are in a generation folder."""
    return Path(build) / f"{SEGMENT_PREFIX}{segid}"


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
