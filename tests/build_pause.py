"""``python -m search index`` with one pause point, for tests that act at a given stage of a build
(kill it there, or start a second build while it holds the lock) whatever the machine's speed:

    python tests/build_pause.py STAGE [zhsearch index options]   # a whole build (--full)

At ``STAGE`` the build prints ``paused at STAGE`` on stdout and reads a line from stdin; it goes on
when it gets one (or stdin closes), and otherwise waits there until it is killed. The patches are
made in this process only: nothing in ``search/`` knows about them.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search import cli  # noqa: E402
from search.build import analyse, indexer, segments, store  # noqa: E402

# stage → (owner, attribute): the build pauses when it first calls that function
STAGES = {
    "locked": (indexer, "_dictionaries"),  # the lock held and the new build's folder made; no worker yet
    "analysing": (segments, "collect_now_and_then"),  # a first batch added; the workers stuck on the next
    "finishing": (segments, "_finish_match_index"),  # Whoosh's terms written by a child beside this process
    "swapping": (store.BuildStore, "swap_in"),  # the build complete, not yet the live one
}


def stuck_job(items, number):
    """``analyse_job`` in a worker process that hangs on every batch but the first: nothing but
    the builder's death can end it."""
    if number:
        while True:
            signal.pause()
    return original_job(items, number)


original_job = analyse.analyse_job


def pause_at(stage: str) -> None:
    """Patch the build so that it pauses the first time it reaches ``stage``."""
    owner, name = STAGES[stage]
    original = getattr(owner, name)
    reached = False

    def paused(*args, **kwargs):
        nonlocal reached
        if not reached:
            reached = True
            print(f"paused at {stage}", flush=True)
            sys.stdin.readline()
        return original(*args, **kwargs)

    setattr(owner, name, paused)
    if stage == "analysing":
        analyse.analyse_job = stuck_job  # found by name in the forked workers


if __name__ == "__main__":
    pause_at(sys.argv[1])
    raise SystemExit(cli.main(["index", "--full", *sys.argv[2:]]))
