"""HTTP throughput of ``/api/search`` against a bare Falcon route, both under the same gunicorn.

    python bench/http_throughput.py                    # seeds/ + 300 xwlb stories, 16 connections, 10 s
    python bench/http_throughput.py --stories 500 --duration 20 --connections 16
    python bench/http_throughput.py --variant fastwords      # a search-side prototype (see _prototypes.py)
    python bench/http_throughput.py --compare /tmp/before    # and the code of a snapshot, in the same run
    python bench/http_throughput.py --pin --workers 1        # servers on one core, wrk on the other

Builds an index of the repo's ``seeds/`` plus the first ``--stories`` stories of the corpus (under
``--workdir``), starts real gunicorn with the project's config (``python:search.gunicorn_conf``,
``--workers`` = cores) for ``search.wsgi:app`` and then, with the same config, for the bare app
below; drives each with ``wrk`` over a pool of thousands of distinct queries (random 2–6
character substrings of the corpus, one picked at random per request by a Lua script). Falls back
to a threaded Python client when ``wrk`` is not installed (``apt-get install -y wrk``).
With ``--compare DIR`` a third gunicorn serves the ``search`` package in DIR (say a ``git archive``
of the code before a change) on an index that code builds, and a fourth the bare route under that
code's server settings, in the same alternating rounds; the worker CPU per request and the req/s of
the two codes are compared round by round, and each code's ratio to its own bare route. Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from search_instructions import build_with  # noqa: E402

# -- the bare app (what gunicorn runs for the baseline) ---------------------------------------------


def _make_bare_app():
    import falcon

    class Bare:
        def on_get(self, req, resp):
            resp.media = {"query": req.get_param("q", default=""), "total": 0, "hits": []}

    app = falcon.App()
    app.add_route("/api/search", Bare())
    return app


bare_app = _make_bare_app()


def _variant_app():
    """``search.wsgi:app`` with the search-side prototypes in ``ZHSEARCH_BENCH_VARIANT`` applied."""
    import _prototypes as P

    P.apply_search(P.parse(os.environ.get("ZHSEARCH_BENCH_VARIANT", "")))
    from search.config import Settings

    return C.import_moved("search.web.app").create_app(Settings.from_env())


variant_app = None
if os.environ.get("ZHSEARCH_BENCH_VARIANT"):
    variant_app = _variant_app()


# -- load generation --------------------------------------------------------------------------------

LUA = r"""
local paths = {}
for line in io.lines("%(pool)s") do paths[#paths + 1] = line end
math.randomseed(%(seed)d)
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("id", counter) end
init = function(args) math.randomseed(%(seed)d + id * 7919) end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, "p50": %%d, "p90": %%d, "p99": %%d, "max": %%d, "mean": %%f}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def run_wrk(base: str, pool_file: Path, connections: int, duration: float, threads: int, workdir: Path,
            pin: tuple[str, ...] = ()) -> dict:
    script = workdir / "pool.lua"
    script.write_text(LUA % {"pool": str(pool_file), "seed": 5}, encoding="utf-8")
    cmd = [*pin, "wrk", f"-t{threads}", f"-c{connections}", f"-d{int(duration)}s", "--timeout", "10s",
           "-s", str(script), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    r = json.loads(line[len("WRKJSON "):])
    seconds = r["duration_us"] / 1e6
    return {"client": "wrk", "requests": r["requests"], "seconds": seconds, "rps": r["requests"] / seconds,
            "non2xx": r["non2xx"], "socket_errors": r["connect"] + r["read"] + r["write"] + r["timeout"],
            "p50_ms": r["p50"] / 1000, "p90_ms": r["p90"] / 1000, "p99_ms": r["p99"] / 1000,
            "max_ms": r["max"] / 1000}


def run_python_client(base: str, paths: list[str], connections: int, duration: float) -> dict:
    """A threaded keep-alive client (the fallback when wrk is missing): fewer requests/s than wrk."""
    import http.client

    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    latencies: list[float] = []
    non2xx = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine = []
        bad = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", paths[rng.randrange(len(paths))])
            resp = conn.getresponse()
            resp.read()
            mine.append((time.perf_counter() - t0) * 1000)
            bad += not 200 <= resp.status < 300
        with lock:
            latencies.extend(mine)
            non2xx[0] += bad

    started = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    seconds = time.perf_counter() - started
    p = C.percentiles(latencies)
    return {"client": "python", "requests": p["n"], "seconds": seconds, "rps": p["n"] / seconds,
            "non2xx": non2xx[0], "socket_errors": 0, "p50_ms": p["p50"], "p90_ms": p["p90"],
            "p99_ms": p["p99"], "max_ms": p["max"]}


# -- gunicorn ---------------------------------------------------------------------------------------


class Gunicorn:
    """Real gunicorn with the project's config, on 127.0.0.1:<free port> (``extra``: more of its options)."""

    def __init__(self, app: str, index_dir: Path, seeds_dir: Path, workers: int, log: Path, variant: str = "",
                 src: Path | None = None, pin: tuple[str, ...] = (), extra: tuple[str, ...] = ()):
        self.port = C.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.src = Path(src or C.SRC)  # the folder whose `search` package this server runs
        env = dict(os.environ, ZHSEARCH_INDEX=str(index_dir), ZHSEARCH_SEEDS=str(seeds_dir),
                   PYTHONPATH=os.pathsep.join([str(self.src), str(C.REPO / "bench")]))
        if variant:
            env["ZHSEARCH_BENCH_VARIANT"] = variant
        self.cmd = [*pin, sys.executable, "-m", "gunicorn", "--config", "python:search.gunicorn_conf",
                    "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), *extra, app]
        self.env = env
        self.log = log
        self.proc = None

    def __enter__(self):
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(self.cmd, cwd=self.src, env=self.env, stdout=self._log, stderr=self._log,
                                     start_new_session=True)
        try:
            C.wait_http(self.base + "/api/search?q=%E4%B8%AD", timeout=120)
        except Exception:
            self.__exit__()
            raise
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the gunicorn workers, including recycled ones."""
        import psutil

        master = psutil.Process(self.proc.pid)
        t = master.cpu_times()
        total = t.children_user + t.children_system  # workers that exited (max_requests, restarts)
        for child in master.children(recursive=True):
            try:
                t = child.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the gunicorn master we started stops its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return False


# -- driver -----------------------------------------------------------------------------------------


def build(seeds: Path, index_dir: Path, jobs: int) -> None:
    from search.config import Settings

    indexer = C.import_moved("search.build.indexer")
    build_index, has_index = indexer.build_index, indexer.has_index
    settings = Settings(seeds_dir=seeds, index_dir=index_dir)
    stamp = index_dir / ".bench-source"
    source = (seeds / ".source").read_text() if (seeds / ".source").exists() else str(seeds)
    if has_index(settings) and stamp.exists() and stamp.read_text() == source:
        return
    shutil.rmtree(index_dir, ignore_errors=True)
    t0 = time.perf_counter()
    summary = build_index(settings, jobs=jobs)
    print(f"built: {summary.line()} (wall {time.perf_counter() - t0:.1f} s)")
    stamp.write_text(source)


def write_pool(seeds: Path, path: Path, count: int) -> list[str]:
    texts = [t for *_, t in C.read_paragraph_texts(seeds)]
    pool = C.substring_pool(texts, count)
    paths = ["/api/search?" + urllib.parse.urlencode({"q": q}) for q in pool]
    path.write_text("\n".join(paths) + "\n", encoding="utf-8")
    return paths


def verify(base: str, paths: list[str], sample: int = 200) -> tuple[int, int, int]:
    """(checked, non-200, zero-hit) over a sample of the pool, before the load."""
    import urllib.request

    rng = random.Random(1)
    bad = zero = 0
    chosen = rng.sample(paths, min(sample, len(paths)))
    for p in chosen:
        try:
            with urllib.request.urlopen(base + p, timeout=10) as r:
                body = json.load(r)
                zero += body.get("total", 0) == 0
        except Exception:
            bad += 1
    return len(chosen), bad, zero


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--stories", type=int, default=300, help="corpus stories added to the repo's seeds/")
    ap.add_argument("--pool", type=int, default=5000, help="distinct queries in the pool")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per side per round")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (app, bare, app, bare, …)")
    ap.add_argument("--workers", type=int, default=C.cores())
    ap.add_argument("--wrk-threads", type=int, default=min(2, C.cores()))
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--variant", default="", help="search-side prototypes for the zhsearch app (see _prototypes.py)")
    ap.add_argument("--pin", action="store_true", help="servers on the first core, wrk on the last (taskset): "
                    "the client no longer shares the workers' core and cache, as a remote client would not")
    ap.add_argument("--compare", type=Path, help="another `search` package (e.g. a snapshot of the code before a "
                    "change) served in the same run, on its own index: worker CPU per request side by side")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)

    C.begin(args)
    seeds = C.prepare_seeds(args.corpus, args.workdir / f"seeds-http-{args.stories}", args.stories,
                            extra_seeds=C.SRC / "seeds")
    index_dir = args.workdir / f"ix-http-{args.stories}"
    build(seeds, index_dir, C.cores())
    pool_file = args.workdir / "http-pool.txt"
    paths = write_pool(seeds, pool_file, args.pool)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    server_pin: tuple[str, ...] = ()
    client_pin: tuple[str, ...] = ()
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2 or not shutil.which("taskset") or client != "wrk":
            ap.error("--pin needs two cores, taskset and wrk")
        server_pin, client_pin = ("taskset", "-c", str(cpus[0])), ("taskset", "-c", str(cpus[-1]))
    print(f"pool: {len(paths):,} distinct queries · client {client} · {args.connections} connections · "
          f"{args.duration:.0f} s each · gunicorn --workers {args.workers}"
          + (f" · servers on core {server_pin[-1]}, wrk on core {client_pin[-1]}" if args.pin else ""))

    apps = [("zhsearch /api/search", "http_throughput:variant_app" if args.variant else "search.wsgi:app"),
            ("bare Falcon route", "http_throughput:bare_app")]
    compare_name = f"/api/search of {args.compare.name}" if args.compare else None
    compare_bare = f"bare route under {args.compare.name}'s server" if args.compare else None
    rounds: list[dict] = []
    # The servers run at once; the load alternates between them round by round, so a neighbour's
    # burst on this shared machine hits every side alike. The median round is reported.
    with contextlib.ExitStack() as stack:
        app_server = stack.enter_context(Gunicorn(apps[0][1], index_dir, seeds, args.workers,
                                                  args.workdir / "gunicorn-app.log", variant=args.variant,
                                                  pin=server_pin))
        servers = {apps[0][0]: app_server}
        if args.compare:
            compare_index = args.workdir / f"ix-http-{args.stories}-compare"
            build_with(args.compare.resolve(), seeds, compare_index)  # its own code builds its own format
            servers[compare_name] = stack.enter_context(Gunicorn("search.wsgi:app", compare_index, seeds, args.workers,
                                                                 args.workdir / "gunicorn-compare.log",
                                                                 src=args.compare.resolve(), pin=server_pin))
            # the bare route under the compared code's server settings, for its own ratio in the same run
            servers[compare_bare] = stack.enter_context(Gunicorn(apps[1][1], compare_index, seeds, args.workers,
                                                                 args.workdir / "gunicorn-compare-bare.log",
                                                                 src=args.compare.resolve(), pin=server_pin))
        servers[apps[1][0]] = stack.enter_context(Gunicorn(apps[1][1], index_dir, seeds, args.workers,
                                                           args.workdir / "gunicorn-bare.log", pin=server_pin))
        checked = verify(app_server.base, paths)
        for server in servers.values():  # warm every worker
            if client == "wrk":
                run_wrk(server.base, pool_file, args.connections, 2, args.wrk_threads, args.workdir, client_pin)
            else:
                run_python_client(server.base, paths, args.connections, 2)
        for i in range(args.rounds):
            this = {}
            for name, server in servers.items():
                cpu0 = server.cpu_seconds()
                if client == "wrk":
                    r = run_wrk(server.base, pool_file, args.connections, args.duration, args.wrk_threads,
                                args.workdir, client_pin)
                else:
                    r = run_python_client(server.base, paths, args.connections, args.duration)
                r["worker_cpu_s"] = server.cpu_seconds() - cpu0
                r["req_per_cpu_s"] = r["requests"] / r["worker_cpu_s"] if r["worker_cpu_s"] else float("nan")
                this[name] = r
            rounds.append(this)

    app_name, bare_name = apps[0][0], apps[1][0]
    rows = []
    for i, this in enumerate(rounds, 1):
        for name, r in this.items():
            rows.append([i, name + (f" [{args.variant}]" if args.variant and name == app_name else ""),
                         f"{r['requests']:,}", f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p90_ms']:.2f}",
                         f"{r['p99_ms']:.2f}", f"{r['max_ms']:.1f}", r["non2xx"], r["socket_errors"],
                         f"{r['worker_cpu_s']:.1f}", f"{r['req_per_cpu_s']:,.0f}"])
    print()
    print(C.table(rows, ["round", "app", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx",
                         "socket errors", "worker CPU s", "req/CPU-s"]))
    ratios = sorted(this[app_name]["rps"] / this[bare_name]["rps"] for this in rounds)
    cpu_ratios = sorted(this[app_name]["req_per_cpu_s"] / this[bare_name]["req_per_cpu_s"] for this in rounds)
    med = statistics.median

    def m(name, key):
        return med([this[name][key] for this in rounds])

    non2xx = sum(this[app_name]["non2xx"] + this[app_name]["socket_errors"] for this in rounds)
    n, bad, zero = checked
    print(f"\nmedian over {len(rounds)} rounds: /api/search {m(app_name, 'rps'):,.0f} req/s "
          f"(p50 {m(app_name, 'p50_ms'):.1f} ms, p99 {m(app_name, 'p99_ms'):.1f} ms), bare route "
          f"{m(bare_name, 'rps'):,.0f} req/s (p50 {m(bare_name, 'p50_ms'):.1f} ms, p99 {m(bare_name, 'p99_ms'):.1f} ms)")
    print(f"/api/search vs bare route throughput: {med(ratios):.2f}× (median of per-round ratios; "
          f"range {ratios[0]:.2f}–{ratios[-1]:.2f}×); /api/search non-2xx + socket errors: {non2xx}")
    print(f"requests per worker CPU-second: /api/search {m(app_name, 'req_per_cpu_s'):,.0f}, bare route "
          f"{m(bare_name, 'req_per_cpu_s'):,.0f}: {med(cpu_ratios):.2f}× (the same ratio, freer of the neighbours' load)")
    if compare_name:
        # worker CPU per request of this code against the compared code's, round by round
        cpu_vs = sorted(this[compare_name]["req_per_cpu_s"] / this[app_name]["req_per_cpu_s"] for this in rounds)
        print(f"{compare_name}: {m(compare_name, 'rps'):,.0f} req/s (p99 {m(compare_name, 'p99_ms'):.1f} ms), "
              f"{med(sorted(this[compare_name]['rps'] / this[bare_name]['rps'] for this in rounds)):.2f}× the bare "
              f"route; worker CPU per /api/search request, this code against {args.compare.name}: "
              f"{med(cpu_vs):.2f}× (median of per-round ratios; range {cpu_vs[0]:.2f}–{cpu_vs[-1]:.2f}×)")
        own = sorted(this[compare_name]["rps"] / this[compare_bare]["rps"] for this in rounds)
        print(f"under {args.compare.name}'s own server settings: its /api/search {med(own):.2f}× its bare route "
              f"(range {own[0]:.2f}–{own[-1]:.2f}×); the bare route there {m(compare_bare, 'rps'):,.0f} req/s, "
              f"{m(compare_bare, 'req_per_cpu_s'):,.0f} per worker CPU-second")
        rps_vs = sorted(this[app_name]["rps"] / this[compare_name]["rps"] for this in rounds)
        print(f"/api/search req/s, this code against {args.compare.name}: {med(rps_vs):.2f}× (median of per-round "
              f"ratios; range {rps_vs[0]:.2f}–{rps_vs[-1]:.2f}×)")
    print(f"pre-check of {n} pool queries: {bad} failed, {zero} with zero hits")
    results = {"rounds": rounds, "checked": checked}
    with open(args.workdir / "http_throughput.jsonl", "a", encoding="utf-8") as logf:
        logf.write(json.dumps({"at": time.time(), "args": vars(args) | {"corpus": str(args.corpus),
                                                                        "workdir": str(args.workdir)},
                               "results": results}, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
