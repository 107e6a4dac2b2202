"""Which segments an update merges, and their live articles read back as articles to write again.

Each update writes segments of the articles added or changed, together with the live articles of
the newest segments it merges. Segments are closed at a size (``Settings.segment_characters``), so
that writing one takes bounded memory; a segment of about that size is full, and is merged again
only once a third of its articles are deleted. Behind the full ones, the policy keeps segment
sizes falling geometrically from the oldest to the newest (each at least :data:`FACTOR` times the
live size of the next), so the archive's tail has about log(N) / log(FACTOR) segments, search does
not slow down as updates pile up, and a small update rewrites little: the newest segments are
merged while the new one would be within a factor of them, and a segment is merged away once a
third of its articles are deleted.
Merged articles are read back from the segments as they are stored (texts, kinds, titles,
metadata) — not from the seeds — and analysed again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Mapping

import numpy as np
from whoosh.codec.whoosh3 import W3Codec

from ..formats.articles import ArticleTable, JsonLines
from ..formats.layout import GRAMS, PARAGRAPH_KINDS, SEGMENT_METADATA, SEGMENT_METADATA_OFFSETS, segment_folder
from ..paragraphs import KINDS, Article, Paragraph
from ..segment.codec import SKELETON_FIELD, text_reader
from ..segment.columns import skeleton_arrays
from ..segment.mapped import open_index

FACTOR = 10  # each segment at least this many times the live size of the next one
MAX_SEGMENTS = 8  # beyond this many, the newest are merged whatever their sizes
MAX_DELETED_SHARE = 1 / 3  # a segment with more of its articles deleted is merged away


def merged_segments(live: list[int], deleted: list[int], incoming: int, full: list[bool] | None = None) -> int:
    """How many of the newest segments (``live`` and ``deleted`` articles of each, oldest first)
    the update writing ``incoming`` articles merges into its new segments. A ``full`` segment
    (about the size a build closes a segment at) is merged only once it is wasted."""
    full = full or [False] * len(live)
    size, merged = incoming, 0
    for n in range(len(live) - 1, -1, -1):
        total = live[n] + deleted[n]
        wasted = total and deleted[n] / total > MAX_DELETED_SHARE
        if full[n] and not wasted:
            break
        growing = sum(not f for f in full[:n + 1]) + (1 if incoming else 0)  # full segments never crowd
        if size * FACTOR >= live[n] or wasted or growing > MAX_SEGMENTS:
            size += live[n]
            merged += 1
        else:
            break
    # a segment further back whose articles are mostly deleted goes too, with all after it
    for n in range(len(live) - merged - 1, -1, -1):
        total = live[n] + deleted[n]
        if total and deleted[n] / total > MAX_DELETED_SHARE:
            merged = len(live) - n
    return merged


def stored_articles(folder: Path, segments: list, live: list[np.ndarray], sources: Mapping[str, str]
                    ) -> Iterator[Article]:
    """The live articles of ``segments`` of the generation in ``folder``, in order, as they are
    stored (``sources``: where the seeds now hold an article, when that changed)."""
    index = open_index(folder)
    reader = index.reader()
    readers = {r.segment().segid: r for r in (reader.readers if hasattr(reader, "readers") else [reader])}
    try:
        for segment, mask in zip(segments, live):
            yield from _segment_articles(folder, segment, readers[segment.segid], mask, sources)
    finally:
        reader.close()


def _segment_articles(folder: Path, segment, reader, live: np.ndarray, sources: Mapping[str, str]
                      ) -> Iterator[Article]:
    own = segment_folder(folder, segment.segid)
    table = ArticleTable(own)
    metadata = JsonLines(own / SEGMENT_METADATA, own / SEGMENT_METADATA_OFFSETS)
    kinds = np.load(own / PARAGRAPH_KINDS)
    starts = np.load(own / GRAMS / "article_starts.npy").tolist() + [segment.doc_count_all()]
    units, bounds = skeleton_arrays(Path(folder) / W3Codec.column_filename(segment, SKELETON_FIELD))
    text = text_reader(reader, folder, units, bounds)
    for position in np.flatnonzero(live).tolist():
        article_id, title, source = table[position]
        paragraphs = tuple(Paragraph(n, KINDS[kinds[gid]], text(gid))
                           for n, gid in enumerate(range(starts[position], starts[position + 1]), start=1))
        yield Article(article_id, title, sources.get(article_id, source), paragraphs, metadata[position])
