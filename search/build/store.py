"""Writing into an index folder: a fresh build folder, the atomic swap of ``CURRENT``, removing
builds nothing names, and the lock that lets one build run at a time (the layout:
:mod:`search.formats.layout`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from ..formats.layout import BUILD_PREFIX, LOCK, POINTER, IndexLayout

RETIRED = ".retired"  # in a build folder that was live: when it stopped being
RETIRED_GRACE = 60.0  # seconds a retired build is kept for the workers still reading it


class BuildLocked(RuntimeError):
    """Another build holds the lock."""


class BuildStore(IndexLayout):
    """An :class:`~search.formats.layout.IndexLayout` with the operations that change it."""

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

    def retire(self, build: Path) -> None:
        """Note that ``build`` stopped being live now (see :meth:`remove_stale`)."""
        (build / RETIRED).touch()

    def remove_stale(self, keep_previous: Path | None = None, grace: float | None = None) -> list[Path]:
        """Delete build folders that are neither live nor ``keep_previous``, nor retired less than
        ``grace`` seconds ago: a worker may still be reading one it opened before the swap (it
        follows ``CURRENT`` within half a second), and files it has not opened yet must still be
        there. A folder that was never live (a failed build) goes at once. Call under the lock."""
        live = self.current()
        removed = []
        now = time.time()
        grace = RETIRED_GRACE if grace is None else grace
        for folder in self.root.glob(f"{BUILD_PREFIX}*"):
            if not folder.is_dir() or folder in (live, keep_previous):
                continue
            try:
                retired = (folder / RETIRED).stat().st_mtime
            except FileNotFoundError:
                retired = None
            if retired is not None and now - retired < grace:
                continue
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


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
