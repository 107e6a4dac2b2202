"""The processes a build runs: its forked workers die with it, Whoosh's terms are written in a child
beside the match index, and Python's cyclic collector is paused while it allocates.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import itertools
import multiprocessing
import os
import signal
from contextlib import contextmanager
from typing import Callable, Iterator


class BuildFailed(RuntimeError):
    """The build stopped before the swap; the live index is untouched."""

_COLLECT_EVERY = 32  # batches a process handles between two collections while the collector is paused
_batches_handled = itertools.count(1)  # in this process


@contextmanager
def cyclic_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a build, in this process and in the processes it
    forks, which inherit the pause; restore it after.

    A build allocates millions of short-lived tuples and lists (postings, tokens) and makes no
    reference cycles that grow with the corpus (a test checks): the collector's passes over those
    objects found nothing and cost ~11 % of the build's CPU (xwlb: 57 → 51 s). Each process still
    collects every ``_COLLECT_EVERY`` batches, so that a cycle some input might make cannot pile up."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_now_and_then() -> None:
    """While the collector is paused, collect in this process every ``_COLLECT_EVERY`` batches."""
    if next(_batches_handled) % _COLLECT_EVERY == 0 and not gc.isenabled():
        gc.collect()


def release_memory() -> None:
    """Collect what the paused collector left, then hand the heap's free pages back to the system:
    glibc keeps them, so that after each segment's peak the builder stayed larger, segment after
    segment (at 5× the archive, ~20 MiB a segment)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc's; other C libraries have none
    except (OSError, AttributeError):
        return None


def beside(task: Callable[[], None], here: Callable[[], None]) -> None:
    """Run ``task`` in a forked child process while ``here`` runs in this one; raise
    :class:`BuildFailed` when the child fails (its traceback goes to stderr)."""
    child = multiprocessing.get_context("fork").Process(target=task, name="zhsearch-whoosh-writer")
    child.start()
    try:
        here()
    finally:
        child.join()
    if child.exitcode != 0:
        raise BuildFailed(f"writing the Whoosh index failed (exit code {child.exitcode})")


_builder_pid: int | None = None  # set while this process builds (see _die_with_builder)
_fork_hook_registered = False


@contextmanager
def workers_die_with_builder():
    """While building, processes this one forks (Whoosh's writer workers) die when it dies."""
    global _builder_pid, _fork_hook_registered
    if not _fork_hook_registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_die_with_builder)
        _fork_hook_registered = True
    _builder_pid = os.getpid()
    try:
        yield
    finally:
        _builder_pid = None


def _die_with_builder() -> None:
    """In a process forked during a build: ask the kernel to SIGKILL it when the builder dies.

    A builder killed with SIGKILL cannot stop its workers: they would wait on their job queue
    forever, holding the inherited build lock, and every later build would fail with "another
    build is running".
    """
    global _builder_pid
    builder, _builder_pid = _builder_pid, None
    if builder is None:
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):  # not Linux: nothing to ask
        pass
    if os.getppid() != builder:  # the builder died before the request took effect
        os._exit(1)
