"""``zhsearch index``: bring the live index up to date with the seeds, as a new generation swapped in
atomically.

A whole build (the first, ``--full``, a changed user dictionary, a build of another format) writes
segments of every article, each closed at ``Settings.segment_characters`` so that the build's memory
does not grow with the archive (:mod:`search.build.segments`). An update scans the seeds for what
changed since the live generation (:mod:`search.paragraphs.scan`: files whose stamp is unchanged
are not read, unchanged articles not reconstructed nor analysed), writes segments of the
articles added or changed — merged with the newest segments when the policy says so
(:mod:`search.build.merging`) — and a generation that keeps every other segment, marking the
articles it no longer serves (:mod:`search.build.generation`). Either way the new generation
answers every query as a whole build of the same seeds would. A failed or interrupted run leaves
the live index untouched; one run at a time holds the lock.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable

import numpy as np

from ..config import Settings
from ..formats.layout import IndexLayout, is_current_format, read_meta
from ..paragraphs.scan import Scan, read_all, read_entries, scan_seeds
from ..problems import InputProblem
from ..text import analysis
from ..text.synonyms import FILE_NAME as SYNONYMS, read_synonyms
from ..text.userdict import FILE_NAME as USERDICT, read_user_dictionary
from .generation import Part, link_segment, write_generation
from .merging import merged_segments, stored_articles
from .previous import Previous, updatable, write_seeds_state
from .processes import BuildFailed, cyclic_collector_paused, workers_die_with_builder
from .segments import write_segments
from .store import BuildStore

__all__ = ["BuildFailed", "BuildSummary", "WouldShrink", "build_index", "default_jobs", "has_index"]

UNREAD = (-1, -1, -1)  # the stamp recorded for a file with bad input: it is read again next time
PARALLEL_FROM = 512  # articles to analyse from which an update starts worker processes


class WouldShrink(BuildFailed):
    """An update would remove more than half of the live articles (a wrong or unmounted seeds folder)."""


@dataclass(frozen=True)
class BuildSummary:
    """What a run did: the live index's counts after it, and what changed."""

    articles: int
    paragraphs: int
    characters: int
    seconds: float
    problems: int
    build: Path
    full: bool = True
    added: int = 0
    changed: int = 0
    removed: int = 0
    written: int = 0  # paragraphs analysed and written (merged ones included)

    @property
    def unchanged(self) -> bool:
        return not self.full and self.build is None

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        skipped = f" ({self.problems} input problems skipped)" if self.problems else ""
        if self.full:
            return (f"indexed {self.articles:,} articles, {self.paragraphs:,} paragraphs, "
                    f"{self.characters:,} characters in {self.seconds:.1f} s{skipped}")
        if self.unchanged:
            return f"up to date: {self.articles:,} articles, nothing changed ({self.seconds:.1f} s){skipped}"
        return (f"added {self.added:,}, changed {self.changed:,}, removed {self.removed:,} articles "
                f"({self.written:,} paragraphs written) in {self.seconds:.1f} s; "
                f"{self.articles:,} articles, {self.paragraphs:,} paragraphs live{skipped}")


def build_index(settings: Settings, *, jobs: int = 1, strict: bool = False, full: bool = False,
                report: Callable[[InputProblem], None] | None = None,
                progress: Callable[[int], None] | None = None) -> BuildSummary:
    """Bring the index at ``settings.index_dir`` up to date with ``settings.seeds_dir`` (with
    ``full``, or when the live index cannot be updated, rebuild it whole) and swap it in.

    Bad input is passed to ``report`` and skipped (an article already indexed keeps its version);
    with ``strict`` the first fatal problem stops the run. ``progress`` receives the number of
    UTF-8 bytes of text indexed since the last call. Raises :class:`BuildFailed` (live index
    untouched), :class:`WouldShrink` or ``store.BuildLocked``.
    """
    layout = BuildStore(Path(settings.index_dir))
    seeds = Path(settings.seeds_dir)
    started = time.perf_counter()
    problems: list[InputProblem] = []

    def on_problem(problem: InputProblem) -> None:
        if report is not None:
            report(problem)
        if problem.fatal:
            problems.append(problem)
            if strict:
                where = f"{problem.path}:{problem.line}"
                raise BuildFailed(f"--strict: stopped at the bad input reported above ({where})")

    with layout.build_lock(), workers_die_with_builder(), cyclic_collector_paused():
        live = layout.current()
        userdict = _digest_of(seeds / USERDICT)
        previous = None if full or not updatable(live, userdict) else Previous.read(live)
        layout.remove_stale(keep_previous=live)
        folder = layout.new_build()
        try:
            _dictionaries(seeds, folder, on_problem)
            meta = {"seeds": str(seeds), "userdict": userdict}
            most = settings.segment_characters
            if previous is None:
                done = _rebuild(folder, seeds, meta, jobs, most, on_problem, progress)
            else:
                done = _update(folder, seeds, previous, meta, jobs, most, on_problem, progress)
            if done is None:  # nothing to apply
                shutil.rmtree(folder, ignore_errors=True)
                return BuildSummary(previous.meta["articles"], previous.meta["paragraphs"],
                                    previous.meta["characters"], time.perf_counter() - started, len(problems),
                                    None, full=False)
            layout.swap_in(folder)
            if live is not None:
                layout.retire(live)
        except BaseException:
            if layout.current() != folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        layout.remove_stale(keep_previous=live)
    written, counts = done
    return BuildSummary(written["articles"], written["paragraphs"], written["characters"],
                        time.perf_counter() - started, len(problems), folder, full=previous is None, **counts)


def _rebuild(folder: Path, seeds: Path, meta: dict, jobs: int, most: int, on_problem, progress
             ) -> tuple[dict, dict]:
    """Segments of at most about ``most`` characters of every article of the seeds."""
    analysis.warm_up()  # before the workers fork, so they share the dictionaries
    scan = Scan()
    segments = write_segments(folder, read_all(seeds, on_problem, scan), most_characters=most, jobs=jobs,
                              on_problem=on_problem, progress=progress)
    if not segments:
        raise BuildFailed(f"no articles found in {seeds}")
    parts = [Part(segment.whoosh, np.zeros(0, dtype=np.int64), segment.characters) for segment in segments]
    written = write_generation(folder, parts, generation=1, sources={}, meta=meta, on_problem=on_problem, jobs=jobs)
    write_seeds_state(folder, _files(scan), {entry.id: [entry.digest, entry.file] for entry in scan.entries})
    return written, {"added": written["articles"], "written": sum(segment.documents for segment in segments)}


def _update(folder: Path, seeds: Path, previous: Previous, meta: dict, jobs: int, most: int, on_problem,
            progress) -> tuple[dict, dict] | None:
    """Segments (of at most about ``most`` characters) of the articles added or changed, with the
    newest segments they merge, and a generation of them and every other segment; None when
    nothing changed."""
    scan = scan_seeds(seeds, on_problem, previous.files, previous.entry_store)
    indexed = previous.articles
    current = {entry.id: entry for entry in scan.entries}  # the entries read back once (they are columns)
    fresh = [entry for entry in current.values() if entry.id not in indexed or entry.digest != indexed[entry.id].digest]
    removed = [i for i, article in indexed.items() if i not in current and article.file not in scan.troubled]
    if 2 * len(removed) > len(indexed):
        raise WouldShrink(f"the seeds in {seeds} hold {len(current):,} of the {len(indexed):,} articles indexed: "
                          f"applying them would remove {len(removed):,}; if that is meant, run with --full")
    # where each live article is now (an unchanged one may have moved: a line above it went)
    now = {i: entry.source for i, entry in current.items()}
    sources = {i: article.source for i, article in indexed.items()} | now
    moved = any(indexed[i].source != source for i, source in now.items() if i in indexed)
    if not (fresh or removed or moved or _synonyms_changed(previous.folder, folder)):
        return None
    read = [(entry, article) for entry, article in read_entries(seeds, fresh, on_problem) if article is not None]
    changed = [entry.id for entry, _ in read if entry.id in indexed]
    deleted = [np.flatnonzero(~mask).tolist() for mask in previous.live_articles]
    for article_id in chain(changed, removed):
        deleted[indexed[article_id].segment].append(indexed[article_id].position)
    live = [np.ones(len(mask), dtype=bool) for mask in previous.live_articles]
    for mask, positions in zip(live, deleted):
        mask[positions] = False
    full = [part["characters"] >= most // 2 for part in previous.meta["segments"]]
    merging = merged_segments([int(mask.sum()) for mask in live], [len(positions) for positions in deleted],
                              len(read), full)
    keep = len(previous.segments) - merging
    if len(read) + sum(int(mask.sum()) for mask in live[keep:]) >= PARALLEL_FROM and jobs > 1:
        analysis.warm_up()  # before the workers fork, so they share the dictionaries
    else:
        jobs = 1  # a few articles: no worker processes to start, the dictionaries loaded as needed
    parts = []
    for number, segment in enumerate(previous.segments[:keep]):
        link_segment(previous.folder, folder, segment.segid)
        parts.append(Part(segment, np.array(sorted(deleted[number]), dtype=np.int64),
                          previous.meta["segments"][number]["characters"]))
    kept_back = stored_articles(previous.folder, previous.segments[keep:], live[keep:], sources)
    segments = write_segments(folder, chain(kept_back, (article for _, article in read)), most_characters=most,
                              jobs=jobs, on_problem=on_problem, progress=progress)
    parts.extend(Part(segment.whoosh, np.zeros(0, dtype=np.int64), segment.characters) for segment in segments)
    generation = previous.meta.get("generation", 1) + 1
    written = write_generation(folder, parts, generation=generation, sources=sources, meta=meta, on_problem=on_problem,
                               previous=previous.folder, jobs=jobs)
    state = {i: [article.digest, article.file] for i, article in indexed.items() if i not in removed}
    state.update({entry.id: [entry.digest, entry.file] for entry, _ in read})
    write_seeds_state(folder, _files(scan), state)
    return written, {"added": len(read) - len(changed), "changed": len(changed), "removed": len(removed),
                     "written": sum(segment.documents for segment in segments)}


def _files(scan: Scan) -> dict:
    """The files' stamps and entries to record; a file with bad input is read again next time."""
    return {name: (UNREAD if name in scan.troubled else stamp, entries) for name, (stamp, entries) in scan.files.items()}


def _digest_of(path: Path) -> str | None:
    try:
        return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _synonyms_changed(live: Path, new: Path) -> bool:
    return _digest_of(live / SYNONYMS) != _digest_of(new / SYNONYMS)


def _dictionaries(seeds: Path, build: Path, on_problem: Callable[[InputProblem], None]) -> None:
    """The seeds' user dictionary and synonyms: checked (bad lines reported), the words added to
    jieba before the workers fork, and both copied into the build, which the searcher reads."""
    for name, read in ((USERDICT, read_user_dictionary), (SYNONYMS, read_synonyms)):
        source = seeds / name
        if source.is_file():
            found = read(source, on_problem)
            if name == USERDICT:
                analysis.add_user_words(found)
            shutil.copyfile(source, build / name)


def has_index(settings: Settings) -> bool:
    """Whether a live index this version can read exists at ``settings.index_dir``."""
    build = IndexLayout(Path(settings.index_dir)).current()
    return build is not None and is_current_format(read_meta(build))


def default_jobs() -> int:
    """One indexing process per core."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
