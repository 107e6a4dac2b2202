"""What keeps a build's memory from growing with the archive: freed heap handed back to the system
between segments, and a segment's mapped files let go once a step is done with them."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from search.build.processes import release_memory
from search.formats.arrays import mapped, release_pages

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")


def resident(kind: str) -> int:
    """This process's resident memory of ``kind`` (``Anon``: allocated; ``File``: mapped files), MiB."""
    for line in open("/proc/self/status"):
        if line.startswith(f"Rss{kind}:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no Rss{kind} in /proc/self/status")


def test_freed_heap_goes_back_to_the_system():
    was = gc.isenabled()
    gc.disable()  # as in a build
    try:
        objects = [bytes(1000) + str(n).encode() for n in range(150_000)]  # ~150 MiB of malloc'd blocks
        kept = objects[::50]  # one block in fifty stays: the heap cannot shrink from its top
        del objects
        before = resident("Anon")
        release_memory()
        assert resident("Anon") < before - 100
        assert len(kept) == 3000
    finally:
        if was:
            gc.enable()


def test_released_pages_leave_the_process_and_read_back_the_same(tmp_path):
    values = np.arange(24 * 2**20, dtype=np.uint32)  # 96 MiB
    np.save(tmp_path / "big.npy", values)
    array = mapped(tmp_path / "big.npy")
    total = int(array.sum(dtype=np.uint64))  # every page touched
    before = resident("File")
    release_pages(array)
    assert resident("File") < before - 64
    assert int(array.sum(dtype=np.uint64)) == total == int(values.sum(dtype=np.uint64))


def test_arrays_not_mapped_from_a_file_are_left_alone():
    plain = np.arange(1000)
    view = np.frombuffer(bytearray(64), dtype=np.uint8)
    release_pages(plain, view, plain[::2])
    assert plain.sum() == 499500 and not view.any()
