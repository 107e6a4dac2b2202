"""``zhsearch index --watch``: apply the seeds' changes every few seconds until interrupted.

Each round looks at the seeds folder's files (their size, modification time and inode): once a
change has held still for a whole round — a file still being written keeps changing, and is not
indexed half written — the update is applied as ``zhsearch index`` applies it, as one new
generation. An update that would remove more than half of the articles is reported and never
applied; another build holding the lock is waited for. Ctrl+C stops between generations: an update
interrupted midway leaves the live generation as it was.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

from ..config import Settings
from ..paragraphs import SeedsMissing
from ..problems import InputProblem
from .indexer import BuildFailed, WouldShrink, build_index
from .store import BuildLocked

Snapshot = dict[str, tuple[int, int, int]]


def snapshot(seeds: Path) -> Snapshot:
    """Every file under ``seeds`` (hidden ones aside) with its size, modification time and inode."""
    found: Snapshot = {}
    for root, dirs, files in os.walk(seeds):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = os.path.join(root, name)
            try:
                status = os.stat(path)
            except OSError:  # gone meanwhile: the next round sees it gone
                continue
            found[os.path.relpath(path, seeds)] = (status.st_size, status.st_mtime_ns, status.st_ino)
    return found


class Watcher:
    """Applies the seeds' changes a round at a time (see the module's docstring)."""

    def __init__(self, settings: Settings, *, jobs: int = 1, report: Callable[[InputProblem], None] | None = None,
                 say: Callable[[str], None] | None = None):
        self.settings, self.jobs, self.report = settings, jobs, report
        self.say = say or (lambda line: print(line, flush=True))
        self._seen: Snapshot | None = None
        self._applied: Snapshot | None = None

    def round(self) -> bool:
        """Look at the seeds once; apply them when they have not changed since the last look and
        were not applied as they are. Whether an update ran."""
        seeds = Path(self.settings.seeds_dir)
        now = snapshot(seeds) if seeds.is_dir() else {}
        ran = now == self._seen and now != self._applied
        if ran:
            self._applied = self._apply(now)
        self._seen = now
        return ran

    def _apply(self, now: Snapshot) -> Snapshot | None:
        """Apply the seeds as they are now; what counts as applied (None: try again next round)."""
        try:
            summary = build_index(self.settings, jobs=self.jobs, report=self.report)
        except BuildLocked as error:
            self.say(f"waiting: {error}")
            return None
        except WouldShrink as error:
            print(f"zhsearch index --watch: {error}; not applied", file=sys.stderr, flush=True)
            return now  # not again until the seeds change
        except (BuildFailed, SeedsMissing) as error:
            print(f"zhsearch index --watch: {error}; the live index is unchanged", file=sys.stderr, flush=True)
            return now
        self.say(summary.line())
        return now


def watch(settings: Settings, *, seconds: float = 2.0, jobs: int = 1,
          report: Callable[[InputProblem], None] | None = None) -> int:
    """Apply the seeds' changes every ``seconds`` until Ctrl+C; returns the exit code."""
    watcher = Watcher(settings, jobs=jobs, report=report)
    watcher.say(f"watching {settings.seeds_dir} every {seconds:g} s (Ctrl+C to stop)")
    try:
        while True:
            watcher.round()
            time.sleep(seconds)
    except KeyboardInterrupt:
        watcher.say("stopped; the live index is the last generation applied")
    return 0
