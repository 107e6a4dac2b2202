"""Opening a build's Whoosh index so that every worker shares its files through the page cache.

Whoosh 2.7.4 maps a compound segment file, but then wraps each file inside it in a ``BytesIO``
over a ``memoryview`` — a private copy of the whole sub-file (all the stored paragraph texts) in
every process that reads it. :func:`open_index` opens the same index through a storage whose files
are read-only mappings read in place: what a worker reads stays shared, and opening copies nothing.
Anyone can still open a build with ``whoosh.index.open_dir``; this only changes how it is read.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from whoosh.filedb.compound import SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile


class _MappedFile(BufferFile):
    """A ``BufferFile`` over bytes ``offset:offset + length`` of a mapping, without its copy:
    random reads slice the mapping, sequential reads go through a ``SubFile`` of it."""

    def __init__(self, source: mmap.mmap, offset: int, length: int, name: str | None = None):
        StructFile.__init__(self, SubFile(source, offset, length, name=name), name=name)
        self._source, self._offset = source, offset
        self._buf = memoryview(source)[offset : offset + length]

    def subset(self, position: int, length: int, name: str | None = None) -> "_MappedFile":
        return _MappedFile(self._source, self._offset + position, length, name=name or self._name)


class MappedStorage(FileStorage):
    """A read-only ``FileStorage`` whose files are mapped and read in place. It tells Whoosh it
    does not map (``supports_mmap=False``), so a compound segment is read through
    :meth:`_MappedFile.subset`, which shares the mapping, instead of being copied."""

    def __init__(self, path: Path):
        super().__init__(str(path), supports_mmap=False, readonly=True)

    def open_file(self, name: str, **kwargs) -> StructFile:
        with open(self._fpath(name), "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if not size:  # an empty file cannot be mapped
                return BufferFile(b"", name=name, **kwargs)
            source = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        mapped = _MappedFile(source, 0, size, name=name)
        mapped.onclose = kwargs.get("onclose")
        return mapped


def open_index(build: Path):
    """The Whoosh index in ``build``, read through :class:`MappedStorage`."""
    return MappedStorage(build).open_index()
