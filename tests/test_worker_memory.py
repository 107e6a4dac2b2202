"""A gunicorn worker gives freed index-sized arrays back to the system, and shares the master's
pinyin readings (search/gunicorn_conf.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
import numpy as np
from search import gunicorn_conf

def anonymous_mib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) // 1024

if sys.argv[1] == "tuned":
    gunicorn_conf._return_large_blocks_to_the_system()
start = anonymous_mib()
for size in (40, 30, 20):  # arrays a search makes and drops: a scan, a common bigram's candidates
    scan = np.ones(size * 2**20 // 8)
    del scan
    lists = [np.ones(3 * 2**20 // 8) for _ in range(5)]
    del lists
print(anonymous_mib() - start)
"""


def run_probe(probe: str, mode: str) -> int:
    """The number a probe script prints, run in a fresh interpreter with ``mode`` as its argument."""
    done = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def retained_mib(mode: str) -> int:
    return run_probe(PROBE, mode)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc/self/status only")
def test_freed_large_arrays_do_not_stay_resident_in_a_worker() -> None:
    untuned = retained_mib("default")
    if untuned < 10:
        pytest.skip(f"this allocator returns freed arrays by itself ({untuned} MiB kept)")
    assert retained_mib("tuned") < 5, untuned


FORKED = """
import os, re, sys
from search import gunicorn_conf
from search.text import pinyin as suggest

def private_dirty_kib():
    return int(re.search(r"Private_Dirty:\\s+(\\d+)", open("/proc/self/smaps_rollup").read())[1])

if sys.argv[1] == "master":
    gunicorn_conf.on_starting(None)
reader, writer = os.pipe()
if os.fork() == 0:  # a worker: its first query that finds nothing looks up readings
    start = private_dirty_kib()
    suggest.readings("国")
    os.write(writer, str((private_dirty_kib() - start) // 1024).encode())
    os._exit(0)
os.wait()
print(os.read(reader, 64).decode())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc/self/smaps_rollup only")
def test_a_worker_shares_the_pinyin_readings_the_master_loaded() -> None:
    alone = run_probe(FORKED, "alone")
    assert alone >= 4  # pypinyin's tables, copied into the worker that loads them
    assert run_probe(FORKED, "master") <= alone / 4
