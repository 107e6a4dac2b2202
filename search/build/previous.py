"""The live generation as an update sees it: its segments, which of their articles are live, where
each live article came from and the digest of the bytes it was read from, and what each seed file
held when it was last scanned."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

from ..formats.articles import ArticleTable
from ..formats.layout import GRAMS, LIVE, SEEDS_STATE, is_current_format, read_meta, segment_folder
from ..paragraphs.entries import Entries, EntryStore
from ..segment.writer import INDEX_NAME


@dataclass
class Indexed:
    """A live article: where it is in the generation, and what it was read from."""

    segment: int  # its segment's position in the generation
    position: int  # its position in that segment
    digest: str
    file: str
    source: str


@dataclass
class Previous:
    """The live generation of an index folder (see the module's docstring)."""

    folder: Path
    meta: dict
    segments: list  # Whoosh's segment objects, in order
    live_articles: list[np.ndarray]  # per segment: which of its articles are live
    articles: dict[str, Indexed] = field(default_factory=dict)
    files: dict[str, tuple[tuple[int, int, int], Entries]] = field(default_factory=dict)
    entry_store: EntryStore = field(default_factory=EntryStore)  # where the entries of ``files`` are

    @classmethod
    def read(cls, folder: Path) -> "Previous":
        meta = read_meta(folder)
        segments = TOC.read(FileStorage(str(folder)), INDEX_NAME).segments
        live = np.load(folder / LIVE).astype(bool)
        state = json.loads((folder / SEEDS_STATE).read_text(encoding="utf-8"))
        found = cls(folder, meta, segments, [])
        base = position = 0
        table = ArticleTable(folder)
        for number, segment in enumerate(segments):
            starts = np.load(segment_folder(folder, segment.segid) / GRAMS / "article_starts.npy")
            mask = live[base + starts] if len(starts) else np.zeros(0, dtype=bool)
            found.live_articles.append(mask)
            for local in np.flatnonzero(mask).tolist():
                article_id, _, source = table[position + local]
                digest, file = state["articles"][article_id]
                found.articles[article_id] = Indexed(number, local, digest, file, source)
            base += segment.doc_count_all()
            position += len(starts)
        for name, (stamp, entries) in state["files"].items():  # columns: every seed file's entries
            first = len(found.entry_store)
            for entry in entries:
                found.entry_store.add_row(*entry)
            found.files[name] = (tuple(stamp), Entries(found.entry_store, range(first, len(found.entry_store))))
        return found


def updatable(folder: Path | None, userdict_digest: str) -> bool:
    """Whether the generation in ``folder`` can be brought up to date rather than rebuilt: written in
    this version's format, with the same user dictionary (it changes how every text is cut)."""
    if folder is None:
        return False
    meta = read_meta(folder)
    return (is_current_format(meta) and meta.get("userdict") == userdict_digest
            and (folder / SEEDS_STATE).is_file())


def write_seeds_state(folder: Path, files: dict, articles: dict[str, tuple[str, str]]) -> None:
    """Record what each seed file held (its stamp and entries) and each live article's digest and
    file, for the next update."""
    state = {"files": {name: [list(stamp), [[e.id, e.file, e.line, e.digest] for e in entries]]
                       for name, (stamp, entries) in files.items()},
             "articles": articles}
    (folder / SEEDS_STATE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
