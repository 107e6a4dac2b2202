"""Which articles the seeds folder holds, where, and a digest of the bytes each is read from — so that
an update reconstructs only the articles that are new or changed.

:func:`scan_seeds` lists the articles of the folder in read order (the first of each id; later ones
reported as duplicates, as :func:`~search.paragraphs.reading.read_articles` does) without
reconstructing any: a file whose size, modification time and inode are those recorded last time is
not even read, and a JSONL line is only parsed as JSON. :func:`read_entries` then reads the articles
asked for. :func:`read_all` does both in one pass, for a whole build. Both leave the reconstruction
of paragraphs to :meth:`~search.paragraphs.reading.Unsplit.split`, which the build runs in its workers.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..problems import InputProblem
from .entries import Entries, Entry, EntryStore
from .model import ARTICLE_SUFFIXES, JSONL_SUFFIX, SeedsMissing
from .reading import (
    DICTIONARIES,
    Unsplit,
    _decode,
    jsonl_lines,
    jsonl_record,
    jsonl_unsplit,
    seed_files,
    unsplit_document,
)

Report = Callable[[InputProblem], None]


Stamp = tuple[int, int, int]  # a file's size, modification time (ns) and inode


@dataclass
class Scan:
    """What a scan found: the articles (the first of each id, in read order), every valid entry of
    each file with the file's stamp (duplicates included: they take over when the first goes), and
    the files where bad input was reported (their articles that went missing are kept). The
    entries are kept as columns (:mod:`.entries`): a whole build holds one per article."""

    entries: Entries = field(init=False)
    files: dict[str, tuple[Stamp, Entries]] = field(default_factory=dict)
    troubled: set[str] = field(default_factory=set)
    _store: EntryStore = field(default_factory=EntryStore)
    _first: dict[str, int] = field(default_factory=dict)  # an id → the number of its first entry
    _file_start: int = 0

    def __post_init__(self) -> None:
        self.entries = Entries(self._store)

    def add(self, entry: Entry, report: Report) -> bool:
        """Keep ``entry``, the next of the file being scanned, and take it unless its id came
        earlier (reported as a duplicate); whether it was taken."""
        return self._take(self._store.add(entry), report)

    def add_file(self, name: str, stamp: Stamp, entries: Sequence[Entry], report: Report) -> None:
        """All the entries of file ``name``, each taken as :meth:`add` takes it; entries already in
        this scan's store (a file unchanged since the previous scan) are taken where they are."""
        if isinstance(entries, Entries) and entries.store is self._store:
            for number in entries.numbers:
                self._take(number, report)
            self.files[name] = (stamp, entries)
            return
        self.start_file()
        for entry in entries:
            self.add(entry, report)
        self.end_file(name, stamp)

    def _take(self, number: int, report: Report) -> bool:
        article_id = self._store.id_of(number)
        first = self._first.get(article_id)
        if first is not None:
            entry = self._store[number]
            report(InputProblem(entry.file, entry.line,
                                f"duplicate article id {article_id!r} (first in {self._store[first].source})"))
            return False
        self._first[article_id] = number
        self.entries.append(number)
        return True

    def start_file(self) -> None:
        """The entries added next are those of one file."""
        self._file_start = len(self._store)

    def end_file(self, name: str, stamp: Stamp) -> None:
        """The entries added since :meth:`start_file` are all those of file ``name``."""
        self.files[name] = (stamp, Entries(self._store, range(self._file_start, len(self._store))))


def digest(data: bytes) -> str:
    """The digest an article's input bytes are compared by."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stamp_of(path: Path) -> Stamp:
    status = os.stat(path)
    return status.st_size, status.st_mtime_ns, status.st_ino


def article_files(seeds_dir: Path, report: Report) -> Iterator[str]:
    """The seed files that hold articles, in read order; other files are reported as ignored."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        what = "is not a directory" if seeds_dir.exists() else "does not exist"
        raise SeedsMissing(f"seeds directory {str(seeds_dir)!r} {what}")
    for rel in seed_files(seeds_dir):
        name = rel.as_posix()
        if name in DICTIONARIES:
            continue
        suffix = rel.suffix.lower()
        if suffix not in ARTICLE_SUFFIXES and suffix != JSONL_SUFFIX:
            report(InputProblem(name, 1, "ignored: not a .txt, .md or .jsonl file", fatal=False))
            continue
        yield name


def scan_seeds(seeds_dir: Path, report: Report, known: Mapping[str, tuple[Stamp, Entries]],
               store: EntryStore | None = None) -> Scan:
    """The articles of ``seeds_dir`` (see :class:`Scan`); a file whose stamp is the one ``known``
    holds for it is taken from there unread (``store``: the one ``known``'s entries are in, which
    the scan then adds to rather than copying them)."""
    scan = Scan(_store=store if store is not None else EntryStore())
    for name in article_files(seeds_dir, report):
        path = Path(seeds_dir) / name
        try:
            stamp = stamp_of(path)
            previous = known.get(name)
            if previous is not None and tuple(previous[0]) == stamp:
                entries = previous[1]
            else:
                entries = _entries_of(path, name, report, scan, previous[1] if previous else ())
        except OSError as exc:
            report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))
            scan.troubled.add(name)
            continue
        scan.add_file(name, stamp, entries, report)
    return scan


def _entries_of(path: Path, name: str, report: Report, scan: Scan, before: Iterable[Entry] = ()) -> list[Entry]:
    """The valid entries of one file, read but not reconstructed; bad input reported. A JSONL line
    whose bytes are those of an entry the file held ``before`` is not parsed again."""
    with open(path, "rb") as file:
        if not name.lower().endswith(JSONL_SUFFIX):
            data = file.read()
            text = _decode(name, data, report)
            if text is None or not text.strip():
                if text is not None:
                    report(InputProblem(name, 1, "empty file"))
                scan.troubled.add(name)
                return []
            return [Entry(path.stem, name, 1, digest(data))]
        known = {entry.digest: entry.id for entry in before}
        entries = []
        for number, raw in jsonl_lines(file):
            found = digest(raw)
            article_id = known.get(found)
            if article_id is None:
                record = jsonl_record(name, number, raw, report)
                if record is None:
                    scan.troubled.add(name)
                    continue
                article_id = record["id"]
            entries.append(Entry(article_id, name, number, found))
        if not entries and name not in scan.troubled:
            report(InputProblem(name, 1, "empty file"))
            scan.troubled.add(name)
        return entries


def read_entries(seeds_dir: Path, wanted: Iterable[Entry], report: Report) -> Iterator[tuple[Entry, Unsplit | None]]:
    """Each wanted entry (in the order given, grouped by file) with its article, read but not yet
    reconstructed (:meth:`~search.paragraphs.reading.Unsplit.split`), or None when its bytes are no
    longer those scanned (the file changed meanwhile) or it fails now."""
    by_file: dict[str, list[Entry]] = {}
    for entry in wanted:
        by_file.setdefault(entry.file, []).append(entry)
    for name, entries in by_file.items():
        path = Path(seeds_dir) / name
        try:
            with open(path, "rb") as file:
                if name.lower().endswith(JSONL_SUFFIX):
                    yield from _jsonl_articles(name, file, entries, report)
                else:
                    data = file.read()
                    found = unsplit_document(name, path.stem, data, report, markdown=name.lower().endswith(".md"))
                    article = found[0][0] if found and digest(data) == entries[0].digest else None
                    yield entries[0], article
        except OSError as exc:
            report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))
            for entry in entries:
                yield entry, None


def _jsonl_articles(name: str, lines: Iterable[bytes], entries: list[Entry], report: Report
                    ) -> Iterator[tuple[Entry, Unsplit | None]]:
    wanted = {entry.line: entry for entry in entries}
    done = set()
    for number, raw in jsonl_lines(lines):
        entry = wanted.get(number)
        if entry is None:
            continue
        done.add(number)
        record = jsonl_record(name, number, raw, report) if digest(raw) == entry.digest else None
        yield entry, (jsonl_unsplit(name, number, record, report) if record is not None else None)
    for number, entry in wanted.items():
        if number not in done:
            yield entry, None


def read_all(seeds_dir: Path, report: Report, scan: Scan) -> Iterator[Unsplit]:
    """Every article of ``seeds_dir`` in read order, in one pass, while ``scan`` is filled as
    :func:`scan_seeds` fills it (for a whole build: nothing is known). Their paragraphs are
    reconstructed by :meth:`~search.paragraphs.reading.Unsplit.split`, in the build's workers."""
    for name in article_files(seeds_dir, report):
        path = Path(seeds_dir) / name
        try:
            stamp = stamp_of(path)
            with open(path, "rb") as file:
                if name.lower().endswith(JSONL_SUFFIX):
                    found = _all_jsonl(name, file, report, scan)
                else:
                    data = file.read()
                    articles = unsplit_document(name, path.stem, data, report, markdown=name.lower().endswith(".md"))
                    if not articles:
                        scan.troubled.add(name)
                    found = [(Entry(path.stem, name, 1, digest(data)), article) for article, _ in articles]
                scan.start_file()
                for entry, article in found:
                    if scan.add(entry, report):
                        yield article
        except OSError as exc:
            report(InputProblem(name, 1, f"cannot read file: {exc.strerror or exc}"))
            scan.troubled.add(name)
            continue
        scan.end_file(name, stamp)


def _all_jsonl(name: str, lines: Iterable[bytes], report: Report, scan: Scan) -> Iterator[tuple[Entry, Unsplit]]:
    empty = True
    for number, raw in jsonl_lines(lines):
        empty = False
        record = jsonl_record(name, number, raw, report)
        if record is None:
            scan.troubled.add(name)
            continue
        yield Entry(record["id"], name, number, digest(raw)), jsonl_unsplit(name, number, record, report)
    if empty:
        report(InputProblem(name, 1, "empty file"))
        scan.troubled.add(name)
