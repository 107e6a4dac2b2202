"""Production gunicorn settings, used by ``zhsearch serve`` (``--config python:search.gunicorn_conf``).

About one worker per core; the app (and jieba's dictionary) is loaded once in the master
(``preload_app``) and shared copy-on-write; each worker opens the index right after the fork,
so no user's request pays for it. The workers face the internet themselves: each reads its
connections asynchronously (uvicorn on uvloop, :mod:`search.web.guarded`) with deadlines for a
request to arrive and a response to be read, and runs complete requests one at a time, inline,
turning away those that queued too long (:mod:`search.web.inline_asgi`). A sync worker reads one
request to its end before the next, so a few slow clients would hold every worker.
"""

import gc
import os
import sys


def _cores() -> int:
    """Cores this process may run on (the affinity mask on Linux, else the CPU count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


wsgi_app = "search.wsgi:app"
preload_app = True
worker_class = "search.web.guarded.Worker"
# One per core (at least 2, so one slow query never blocks everyone); a platform's
# WEB_CONCURRENCY (sized to the machine's memory) wins; `zhsearch serve --workers N` overrides both.
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or max(2, _cores())
timeout = 30  # a worker silent this long is killed and replaced (queries are capped far below)
graceful_timeout = 20  # SIGTERM: finish in-flight requests, within a platform's usual 30 s grace
keepalive = 5  # seconds an idle kept-alive connection stays open after its response
max_requests = 5000  # recycle workers now and then, so no slow leak grows without bound
max_requests_jitter = 500  # ... and not all at once
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat off a slow disk
control_socket_disable = True  # no runtime-control socket: one shared $HOME path for every instance
limit_request_line = 8190
limit_request_fields = 100
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "zhsearch"


def on_starting(server):
    """Load jieba's dictionary, pypinyin's readings (did-you-mean), the modules a worker uses and
    the page's templates in the master, so that workers inherit them."""
    from .query import searcher
    from .text import analysis, pinyin
    from .web import guarded, page

    analysis.warm_up()
    pinyin.warm_up()
    searcher.warm_up()
    page.warm_up()
    guarded.warm_up()
    # What the master holds now (the app, jieba's dictionary, pypinyin's readings) lives as long
    # as it does: out of the cyclic collector's reach, so that no worker's collection writes to
    # those objects' pages and copies them (the gc module's advice for forking servers).
    gc.collect()
    gc.freeze()


def _return_large_blocks_to_the_system() -> None:
    """Have glibc serve every allocation over 128 KiB by its own mapping, returned on free.

    A search allocates arrays the size of the index now and then (a scan for one character, the
    candidates of a common bigram); glibc's default threshold rises after the first such array is
    freed, so later ones come from the heap and stay resident: one busy worker kept ~200 MB of
    freed arrays as private memory (bench/memory.py). Fixing the threshold keeps it flat.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def post_worker_init(worker):
    """Open the live index in this worker before it takes requests (no index yet: on first use),
    and open each newly swapped-in build in the background, not in a request."""
    from search.wsgi import searcher

    _return_large_blocks_to_the_system()
    searcher.warm()
    searcher.follow_swaps()


def worker_exit(server, worker):
    """End a worker that leaves cleanly (``max_requests``, a graceful stop) at once, skipping the
    interpreter's teardown.

    That teardown frees every object the worker inherited from the master, writing to each one's
    pages and so copying them: ~125 ms of CPU and ~19,000 page faults a worker on the bench's
    index (bench/worker_lifecycle.py), paid every ``max_requests`` requests. A worker leaving with
    an error keeps Python's ordinary exit, and its exit status, which the master acts on."""
    _, leaving, _ = sys.exc_info()
    if isinstance(leaving, SystemExit) and leaving.code in (0, None):
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
