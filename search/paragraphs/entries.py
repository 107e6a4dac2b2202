"""The entries a scan of the seeds finds (:class:`Entry`: an article's id, file, line and digest),
kept as columns rather than one object each.

A scan holds one entry per article for a whole build, and a build's worker processes are forked
from the process that holds them, so what an entry costs is paid once per process. As an object
with a hex digest an entry took ~290 bytes and four objects of the Python heap, interleaved with
the build's short-lived ones, so that the heap could not shrink behind them; as columns it takes
its id string and ~30 bytes (the line in an array, the digest as 16 raw bytes, the file as the
number of a name kept once).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .model import source_of

DIGEST_BYTES = 16


@dataclass(frozen=True, slots=True)
class Entry:
    """An article of the seeds: its id, the file and line it is read from, a digest of those bytes."""

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
        number = len(self._ids)
        file = self._numbers.get(entry.file)
        if file is None:
            file = self._numbers[entry.file] = len(self._names)
            self._names.append(entry.file)
        try:
            raw = bytes.fromhex(entry.digest)
        except (TypeError, ValueError):
            raw = b""
        if len(raw) != DIGEST_BYTES or raw.hex() != entry.digest:  # kept as given, not rewritten
            self._odd[number] = entry.digest
            raw = bytes(DIGEST_BYTES)
        self._ids.append(entry.id)
        self._files.append(file)
        self._lines.append(entry.line)
        self._digests += raw
        return number

    def __getitem__(self, number: int) -> Entry:
        if not 0 <= number < len(self._ids):
            raise IndexError(number)
        digest = self._odd.get(number)
        if digest is None:
            digest = self._digests[number * DIGEST_BYTES: (number + 1) * DIGEST_BYTES].hex()
        return Entry(self._ids[number], self._names[self._files[number]], self._lines[number], digest)

    def id_of(self, number: int) -> str:
        return self._ids[number]


class Entries(Sequence[Entry]):
    """Some of a store's entries, in order: those numbered ``numbers`` (an array, or a range)."""

    def __init__(self, store: EntryStore, numbers: array | range | None = None):
        self._store = store
        self._numbers = array("q") if numbers is None else numbers

    def append(self, number: int) -> None:
        """Add the store's entry ``number`` (the numbers are an array)."""
        self._numbers.append(number)

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._store[number] for number in self._numbers[i]]
        return self._store[self._numbers[i]]

    def __iter__(self) -> Iterator[Entry]:
        store = self._store
        return (store[number] for number in self._numbers)

    def __repr__(self) -> str:
        return f"Entries({list(self)!r})"
