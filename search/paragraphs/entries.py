"""The entries a scan of the seeds finds (:class:`Entry`: an article's id, file, line and digest),
kept as columns rather than one object each.

A scan holds one entry per article for a whole build, and a build's worker processes are forked
from the process that holds them, so what an entry costs is paid once per process. As an object
with a hex digest, an entry and what a scan keeps of it took ~215 bytes besides its id, in four
objects of the Python heap interleaved with the build's short-lived ones (the heap could not
shrink behind them); as columns, ~100 (the line in an array, the digest as 16 raw bytes, the file
as the number of a name kept once, and the scan's slot for finding duplicates).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from .model import source_of

DIGEST_BYTES = 16


class Entry(NamedTuple):
    """An article of the seeds: its id, the file and line it is read from, a digest of those bytes
    (a tuple: read back from the columns by the hundred thousand, it is made at C speed)."""

    id: str
    file: str  # relative to the seeds folder, with forward slashes
    line: int
    digest: str  # hex, DIGEST_BYTES bytes

    @property
    def source(self) -> str:
        """Where the article is read, as :attr:`Article.source` says it."""
        return source_of(self.file, self.line)


class EntryStore:
    """Entries appended in order, each read back by its number as an :class:`Entry`."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._names: list[str] = []  # each file's name once
        self._numbers: dict[str, int] = {}  # a file's name → its number
        self._files = array("i")
        self._lines = array("q")
        self._digests = bytearray()
        self._odd: dict[int, str] = {}  # digests that are not DIGEST_BYTES bytes of hex, as given

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, entry: Entry) -> int:
        """Keep ``entry``; its number."""
        return self.add_row(entry.id, entry.file, entry.line, entry.digest)

    def add_row(self, article_id: str, file_name: str, line: int, digest: str) -> int:
        """Keep the entry of these fields; its number."""
        number = len(self._ids)
        file = self._numbers.get(file_name)
        if file is None:
            file = self._numbers[file_name] = len(self._names)
            self._names.append(file_name)
        try:
            raw = bytes.fromhex(digest)
        except (TypeError, ValueError):
            raw = b""
        # 2 × DIGEST_BYTES characters read as DIGEST_BYTES bytes hold no space; lowercase, they are what hex() writes
        if len(raw) != DIGEST_BYTES or len(digest) != 2 * DIGEST_BYTES or not digest.islower() and not digest.isdigit():
            self._odd[number] = digest
            raw = bytes(DIGEST_BYTES)
        self._ids.append(article_id)
        self._files.append(file)
        self._lines.append(line)
        self._digests += raw
        return number

    def __getitem__(self, number: int) -> Entry:
        if number < 0:
            raise IndexError(number)
        digest = self._odd.get(number) if self._odd else None
        if digest is None:
            start = number * DIGEST_BYTES
            digest = self._digests[start: start + DIGEST_BYTES].hex()
        return Entry(self._ids[number], self._names[self._files[number]], self._lines[number], digest)

    def id_of(self, number: int) -> str:
        return self._ids[number]


class Entries(Sequence[Entry]):
    """Some of a store's entries, in order: those numbered ``numbers`` (an array, or a range)."""

    def __init__(self, store: EntryStore, numbers: array | range | None = None):
        self.store = store
        self.numbers = array("q") if numbers is None else numbers

    def append(self, number: int) -> None:
        """Add the store's entry ``number`` (the numbers are an array)."""
        self.numbers.append(number)

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i: int) -> Entry:
        return self.store[self.numbers[i]]

    def __iter__(self) -> Iterator[Entry]:
        store = self.store
        return (store[number] for number in self.numbers)

    def __repr__(self) -> str:
        return f"Entries({list(self)!r})"
