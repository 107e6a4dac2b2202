"""What a gunicorn worker's start and exit cost, beyond its requests, side by side for snapshots.

    python bench/worker_lifecycle.py --srcs /tmp/before /tmp/after     # two `git archive` snapshots
    python bench/worker_lifecycle.py --srcs /tmp/a /tmp/b --max-requests 500 --rounds 3

gunicorn replaces a worker after ``max_requests`` requests (the project's config: 5,000 ± 500):
the master forks a new one, which opens the index and loads whatever the master did not, and the
old one exits. For each snapshot, on its own index of ``seeds/`` plus ``--stories`` xwlb stories
(the pool of queries of ``http_throughput.py``), in alternating rounds:

  a worker's life   real gunicorn with the snapshot's config and one worker, driven by wrk for
                    ``--duration`` s, once with ``--max-requests N`` (jitter 0) and once with
                    recycling off. From the master's totals of its exited children: the CPU and
                    minor page faults of one worker's life of N requests. The CPU per request
                    without recycling is the steady cost; a life's CPU minus N times that is
                    what one start and exit cost.
  first requests    one process preloads the app as gunicorn's master does (the snapshot's
                    ``on_starting``), then forks a worker that runs ``post_worker_init`` and
                    answers a fixed set of typical requests (searches, one that finds nothing,
                    the page, an article's related articles): its CPU, the private memory it
                    dirtied, its page faults, and the modules it imported.

Needs ``wrk`` (``apt-get install -y wrk``). Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from http_throughput import Gunicorn, run_wrk, write_pool  # noqa: E402
from search_instructions import add_comparison_arguments, build_with, comparison_seeds  # noqa: E402

FIRST_REQUESTS = r"""
import io, os, re, resource, sys, time, urllib.parse
sys.path.insert(0, sys.argv[1])
from search import gunicorn_conf
gunicorn_conf.on_starting(None)
from search.wsgi import app  # gunicorn's preload_app

def private_dirty_kib():
    return int(re.search(r"Private_Dirty:\s+(\d+)", open("/proc/self/smaps_rollup").read())[1])

def get(path, query=""):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "x",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "x", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    b"".join(app(environ, lambda status, headers, exc_info=None: None))

article = sys.argv[2]
reader, writer = os.pipe()
if os.fork() == 0:
    before, dirty, cpu = set(sys.modules), private_dirty_kib(), time.process_time()
    gunicorn_conf.post_worker_init(None)
    for q in ["联合国", "中国 发展", '"国际合作"', "联和国", "title:中国", "经济 -股市"]:
        get("/api/search", urllib.parse.urlencode({"q": q}))
    get("/", "q=%E4%B8%AD%E5%9B%BD")
    get(f"/api/articles/{article}/related")
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    os.write(writer, (f"{1e3 * (time.process_time() - cpu):.1f} {(private_dirty_kib() - dirty) / 1024:.2f} {faults} "
                      + ",".join(sorted(set(sys.modules) - before))).encode())
    os._exit(0)
os.wait()
print(os.read(reader, 1 << 16).decode())
"""


def master_children(pid: int) -> tuple[float, int]:
    """CPU seconds and minor page faults of the exited (waited-for) children of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # from the 3rd field on
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK"), int(fields[8])


def worker_life(src: Path, index: Path, seeds: Path, pool_file: Path, max_requests: int, duration: float,
                workdir: Path) -> dict:
    """One worker served by ``src``'s gunicorn config under wrk: requests, and the exited workers'
    CPU seconds, page faults and count (all 0 without recycling: then the live worker's CPU)."""
    import psutil

    extra = ("--max-requests", str(max_requests), "--max-requests-jitter", "0")
    log = workdir / f"gunicorn-life-{max_requests}.log"
    with Gunicorn("search.wsgi:app", index, seeds, 1, log, src=src, extra=extra) as server:
        run_wrk(server.base, pool_file, 8, 2, 1, workdir)  # past the first worker's start
        boots = log.read_text().count("Booting worker")
        cpu, faults = master_children(server.proc.pid)
        live = sum(sum(p.cpu_times()[:2]) for p in psutil.Process(server.proc.pid).children())
        load = run_wrk(server.base, pool_file, 8, duration, 1, workdir)
        time.sleep(0.5)  # the last recycled worker waited for
        cpu2, faults2 = master_children(server.proc.pid)
        live2 = sum(sum(p.cpu_times()[:2]) for p in psutil.Process(server.proc.pid).children())
        exited = log.read_text().count("Booting worker") - boots
    return {"requests": load["requests"], "exited": exited, "exited_cpu": cpu2 - cpu, "exited_faults": faults2 - faults,
            "live_cpu": live2 - live, "non2xx": load["non2xx"] + load["socket_errors"]}


def first_requests(src: Path, index: Path, seeds: Path) -> dict:
    article = sorted(p.stem for p in (src / "seeds").glob("*.txt"))[0]
    env = dict(os.environ, ZHSEARCH_INDEX=str(index), ZHSEARCH_SEEDS=str(seeds))
    done = subprocess.run([sys.executable, "-c", FIRST_REQUESTS, str(src), article], capture_output=True, text=True,
                          env=env, cwd=src, timeout=600)
    if done.returncode:
        raise SystemExit(f"first requests with {src} failed:\n{done.stderr[-2000:]}")
    cpu, dirty, faults, modules = (done.stdout.strip().split(" ", 3) + [""])[:4]
    return {"cpu_ms": float(cpu), "dirty_mib": float(dirty), "faults": int(faults),
            "modules": [m for m in modules.split(",") if m]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_comparison_arguments(ap)
    ap.add_argument("--max-requests", type=int, default=1000, help="a worker's life, in requests")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of load per server per round")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (a, b, a, b, …)")
    args = ap.parse_args(argv)
    if not args.srcs:
        ap.error("--srcs is required")
    if not shutil.which("wrk"):
        ap.error("needs wrk (apt-get install -y wrk)")
    seeds = comparison_seeds(args)
    pool_file = args.workdir / "life-pool.txt"
    write_pool(seeds, pool_file, 5000)
    indexes = []
    for n, src in enumerate(args.srcs):
        indexes.append(args.workdir / f"ix-life-{n}")
        build_with(src, seeds, indexes[-1])
    lives: dict[Path, list[dict]] = {src: [] for src in args.srcs}
    steady: dict[Path, list[float]] = {src: [] for src in args.srcs}
    firsts: dict[Path, list[dict]] = {src: [] for src in args.srcs}
    for round_ in range(1, args.rounds + 1):
        for src, index in zip(args.srcs, indexes):
            life = worker_life(src, index, seeds, pool_file, args.max_requests, args.duration, args.workdir)
            flat = worker_life(src, index, seeds, pool_file, 0, args.duration, args.workdir)
            first = first_requests(src, index, seeds)
            lives[src].append(life)
            steady[src].append(flat["live_cpu"] / flat["requests"])
            firsts[src].append(first)
            print(f"round {round_} {src}: {life['exited']} lives of {args.max_requests} requests, "
                  f"{1e3 * life['exited_cpu'] / max(life['exited'], 1):.0f} ms CPU and "
                  f"{life['exited_faults'] / max(life['exited'], 1):,.0f} page faults each; steady "
                  f"{1e6 * steady[src][-1]:.0f} µs a request; first requests {first['cpu_ms']:.0f} ms, "
                  f"+{first['dirty_mib']:.1f} MiB; errors {life['non2xx'] + flat['non2xx']}", flush=True)
    rows = []
    base = None
    for src in args.srcs:
        life_ms = statistics.median(1e3 * r["exited_cpu"] / max(r["exited"], 1) for r in lives[src])
        faults = statistics.median(r["exited_faults"] / max(r["exited"], 1) for r in lives[src])
        steady_us = statistics.median(steady[src]) * 1e6
        overhead = life_ms - steady_us * args.max_requests / 1e3
        first_ms = statistics.median(f["cpu_ms"] for f in firsts[src])
        dirty = statistics.median(f["dirty_mib"] for f in firsts[src])
        modules = len(firsts[src][-1]["modules"])
        base = base or (overhead, first_ms, dirty)
        rows.append([src.name, f"{life_ms:.0f}", f"{faults:,.0f}", f"{steady_us:.0f}", f"{overhead:.0f}",
                     f"{overhead / base[0]:.2f}×" if base[0] > 0 else "–", f"{1e3 * life_ms / args.max_requests:.0f}",
                     f"{first_ms:.0f}", f"{dirty:.1f}", str(modules)])
    print()
    print(C.table(rows, ["code", f"a life of {args.max_requests}: CPU ms", "page faults", "steady µs a request",
                         "start + exit ms", "vs first", f"µs a request, recycling every {args.max_requests}",
                         "first requests: CPU ms", "private dirty MiB", "modules imported"]))
    for src in args.srcs:
        if firsts[src][-1]["modules"]:
            print(f"{src.name} worker imported: {' '.join(firsts[src][-1]['modules'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
