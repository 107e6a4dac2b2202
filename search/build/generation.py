"""A generation: the segments of the live index and the articles each no longer serves, as the one
folder ``CURRENT`` names.

The folder is a Whoosh index whose table of contents lists the segments with their deleted
documents (``whoosh.index.open_dir`` opens it as a whole), beside the segments' own folders
(``seg-<id>/``), all hard links shared with the generations before and after it. The tables the
query side maps are derived from all segments here, numbered as Whoosh numbers documents across
segments (each segment's paragraphs after the previous segment's, deleted ones included):
which paragraphs are live, each paragraph's article, kind and in-place flag, the articles table
(sources as the seeds have them now), each article's rank by id (ties in ranking are broken by
article id and paragraph number, whatever the build history), the metadata arrays, the live
vocabulary with its pinyin, the completion index (:mod:`search.build.completions`), and the
statistics of the deleted documents that Whoosh's own counts still include (:mod:`search.build.deleted`).
"""

from __future__ import annotations

import copy
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from ..formats.arrays import NpyAppender
from ..formats.articles import ArticleTable, JsonLines, JsonLinesWriter
from ..formats.layout import (
    ARTICLE_INDEX,
    ARTICLE_OFFSETS,
    ARTICLE_ORDER,
    ARTICLE_RANK,
    ARTICLES,
    FORMAT,
    GRAMS,
    IN_PLACE,
    LIVE,
    PARAGRAPH_KINDS,
    SEGMENT_METADATA,
    SEGMENT_METADATA_OFFSETS,
    segment_folder,
    write_meta,
)
from ..formats.metadata import MetadataIndexBuilder
from ..segment.writer import INDEX_NAME
from .analyse import cached_schema
from .completions import write_completions
from .deleted import write_deleted_statistics
from .processes import release_memory
from .vocabulary import write_vocabulary


@dataclass
class Part:
    """One segment of a generation: Whoosh's segment object and the positions (in the segment) of
    its articles that the generation no longer serves, sorted."""

    whoosh: object
    deleted: np.ndarray
    characters: int  # of all its articles' texts, deleted ones included

    @property
    def segid(self) -> str:
        return self.whoosh.segid


def link_segment(source: Path, target: Path, segid: str) -> None:
    """Hard-link a segment's files (Whoosh's and its own folder) from one generation folder into another."""
    for path in source.glob(f"{INDEX_NAME}_{segid}.*"):
        os.link(path, target / path.name)
    shutil.copytree(segment_folder(source, segid), segment_folder(target, segid), copy_function=os.link)


def write_generation(folder: Path, parts: list[Part], *, generation: int, sources: Mapping[str, str],
                     meta: Mapping[str, object], on_problem: Callable, previous: Path | None = None,
                     jobs: int = 1) -> dict:
    """Write the table of contents and the derived tables of the generation whose segments (already
    in ``folder``) are ``parts``, in order; ``sources`` gives an article's source where the seeds
    now hold it elsewhere than its segment says; ``previous``: the generation this one follows;
    ``jobs``: the processes the completion index is worked out by. Returns the meta written."""
    starts = [np.load(segment_folder(folder, part.segid) / GRAMS / "article_starts.npy") for part in parts]
    documents = [part.whoosh.doc_count_all() for part in parts]
    live_articles = [np.ones(len(first), dtype=bool) for first in starts]
    for mask, part in zip(live_articles, parts):
        mask[part.deleted] = False
    live_paragraphs = [np.repeat(mask, np.diff(np.append(first, count)))
                       for mask, first, count in zip(live_articles, starts, documents)]
    _write_contents(folder, parts, live_paragraphs, generation)
    _write_paragraph_tables(folder, parts, live_paragraphs, starts, documents)
    _write_article_tables(folder, parts, live_articles, sources)
    write_vocabulary(folder, [segment_folder(folder, part.segid) / GRAMS for part in parts], live_paragraphs)
    release_memory()  # the completion step's processes fork from this one
    write_completions(folder, live_paragraphs, on_problem, previous, jobs)
    deleted = write_deleted_statistics(folder, parts, live_paragraphs, cached_schema())
    counts = {"articles": int(sum(mask.sum() for mask in live_articles)),
              "paragraphs": int(sum(mask.sum() for mask in live_paragraphs)),
              "characters": sum(part.characters for part in parts) - deleted["characters"]}
    written = {**meta, "format": FORMAT, "generation": generation,
               "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **counts,
               "segments": [{"id": part.segid, "documents": n, "articles": len(first),
                             "deleted_articles": int(len(part.deleted)), "characters": part.characters}
                            for part, n, first in zip(parts, documents, starts)]}
    write_meta(folder, written)
    return written


def _write_article_tables(folder: Path, parts: list[Part], live_articles: list[np.ndarray],
                          sources: Mapping[str, str]) -> None:
    """The generation's articles table and metadata index. What they are worked out from (the
    segments' tables, mapped and read through, and every metadata value) goes with this call,
    before the completion step forks its processes: each would hold a copy."""
    tables = [ArticleTable(segment_folder(folder, part.segid)) for part in parts]
    ranks = _write_articles(folder, tables, live_articles, sources)
    metadata = MetadataIndexBuilder(folder)
    for part, mask, rank in zip(parts, live_articles, ranks):
        seg = segment_folder(folder, part.segid)
        lines = JsonLines(seg / SEGMENT_METADATA, seg / SEGMENT_METADATA_OFFSETS)
        for position in range(len(lines)):
            metadata.add_article(lines[position] if mask[position] else {}, int(rank[position]))
    metadata.finish()


def _write_contents(folder: Path, parts: list[Part], live_paragraphs: list[np.ndarray], generation: int) -> None:
    """Whoosh's table of contents: the segments in order, each with its deleted documents."""
    segments = []
    for part, live in zip(parts, live_paragraphs):
        segment = copy.copy(part.whoosh)
        deleted = np.flatnonzero(~live).tolist()
        segment._deleted = set(deleted) if deleted else None
        segments.append(segment)
    TOC(cached_schema(), segments, generation).write(FileStorage(str(folder)), INDEX_NAME)


def _write_paragraph_tables(folder: Path, parts: list[Part], live_paragraphs: list[np.ndarray],
                            starts: list[np.ndarray], documents: list[int]) -> None:
    """Per paragraph of the generation: live or not, its article, kind and in-place flag."""
    live = NpyAppender(folder / LIVE, np.uint8)
    articles = NpyAppender(folder / ARTICLE_INDEX, np.int32)
    kinds = NpyAppender(folder / PARAGRAPH_KINDS, np.uint8)
    in_place = NpyAppender(folder / IN_PLACE, np.uint8)
    base = 0
    for part, mask, first, count in zip(parts, live_paragraphs, starts, documents):
        seg = segment_folder(folder, part.segid)
        live.append(mask)
        articles.append(base + np.repeat(np.arange(len(first), dtype=np.int32), np.diff(np.append(first, count))))
        kinds.append(np.load(seg / PARAGRAPH_KINDS))
        in_place.append(np.load(seg / IN_PLACE))
        base += len(first)
    for appender in (live, articles, kinds, in_place):
        appender.close()


def _write_articles(folder: Path, tables: list[ArticleTable], live_articles: list[np.ndarray],
                    sources: Mapping[str, str]) -> list[np.ndarray]:
    """The generation's articles table (each article's id, title and source where the seeds hold it
    now), its id order (live articles only: an id is found only where it is served) and each
    article's rank by id (the deleted ones after every live one). Returns the ranks per segment."""
    rows = JsonLinesWriter(folder / ARTICLES, folder / ARTICLE_OFFSETS)
    live_ids: list[tuple[str, int]] = []
    position = 0
    for table, mask in zip(tables, live_articles):
        for local in range(len(table)):
            article_id, title, source = table[local]
            if mask[local]:
                live_ids.append((article_id, position))
                source = sources.get(article_id, source)
            rows.add([article_id, title, source])
            position += 1
    rows.close()
    live_ids.sort()
    order = np.array([p for _, p in live_ids], dtype=np.int64)
    np.save(folder / ARTICLE_ORDER, order)
    rank = np.full(position, len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    np.save(folder / ARTICLE_RANK, rank)
    bases = np.cumsum([0] + [len(table) for table in tables])
    return [rank[a:b] for a, b in zip(bases[:-1], bases[1:])]
