"""Slow, idle and non-reading clients against each way of serving zhsearch, side by side.

    python bench/slow_clients.py                              # every option, seeds/ + 300 xwlb stories
    python bench/slow_clients.py --options sync,guarded --attack 20

For each option, real gunicorn with the project's config (``python:search.gunicorn_conf``) and
the option's worker class and app, on one index of the repo's ``seeds/`` plus ``--stories``
stories (that of ``http_throughput.py``):

  throughput  wrk over the pool of ``http_throughput.py`` against ``/api/search`` and, under the
              same server settings, the bare Falcon route: req/s, their ratio, requests per
              worker CPU-second (``--duration`` s each, after a warm-up);
  attack      a normal client searching one query after another on new connections: ``--searches``
              searches alone, then the same while 64 slow-header, 64 idle and 16 non-reading
              connections (``tests/hostile_clients.py``) are held open for at least ``--attack``
              s (each search's timeout 10 s), then a burst of 16 concurrent clients on top;
              ``/healthz`` asked every 0.25 s throughout. Reported: the normal searches' p99 alone
              and under attack and their ratio, failed searches, the burst's statuses, /healthz
              failures, how long the server let slow and idle connections live.

Everything listens on 127.0.0.1 only; every server started is stopped. A line is appended to
``bench/results/slow_clients.jsonl``: each option's figures, its name first (``guarded_search_rps``),
the whole results under ``details``.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import _common as C  # noqa: E402
import hostile_clients as H  # noqa: E402
from http_throughput import Gunicorn, build, run_wrk, write_pool  # noqa: E402
from results import record  # noqa: E402

WSGI = ("search.wsgi:app", "http_throughput:bare_app")
ASGI = ("slow_clients:asgi_app", "slow_clients:bare_asgi_app")  # for servers that take only ASGI apps
OPTIONS = {  # name: (gunicorn arguments, (app, bare app))
    "sync": (("-k", "sync"), WSGI),
    "gthread": (("-k", "gthread", "--threads", "4"), WSGI),
    "gunicorn-asgi": (("-k", "asgi"), ASGI),
    "uvicorn": (("-k", "uvicorn_worker.UvicornWorker"), ASGI),
    "guarded": (("-k", "search.web.guarded.Worker"), WSGI),  # the project's: serves the WSGI app inline
}


def __getattr__(name: str):
    """``asgi_app`` and ``bare_asgi_app``: the apps over ASGI as the project's worker serves them, made when
    a gunicorn master asks (so that importing this module does no work)."""
    if name in ("asgi_app", "bare_asgi_app"):
        from search.web.inline_asgi import InlineASGI

        if name == "bare_asgi_app":
            from http_throughput import bare_app as app
        else:
            from search.wsgi import app
        return InlineASGI(app)
    raise AttributeError(name)


def throughput(server: Gunicorn, pool_file: Path, args) -> dict:
    run_wrk(server.base, pool_file, args.connections, 2, 2, args.workdir)  # warm every worker
    cpu0 = server.cpu_seconds()
    r = run_wrk(server.base, pool_file, args.connections, args.duration, 2, args.workdir)
    r["req_per_cpu_s"] = r["requests"] / max(1e-9, server.cpu_seconds() - cpu0)
    return r


def attack(server: Gunicorn, paths: list[str], big_paths: tuple[str, ...], args) -> dict:
    port = server.port
    alone = H.normal_searches(port, paths, rounds=args.rounds, within=120, timeout=10)
    with H.HealthWatch(port) as health, H.AttackProcess(port, big_paths) as attackers:
        started = time.monotonic()
        attacked = H.normal_searches(port, paths, rounds=args.rounds, within=60, timeout=10)
        time.sleep(max(0.0, args.attack - (time.monotonic() - started)))
        burst = H.burst(port, paths, clients=16, each=4)
    after = H.normal_searches(port, paths, rounds=args.rounds, within=120, timeout=10)
    ok = {name: [s for status, s in answers if status == 200]
          for name, answers in (("alone", alone), ("attacked", attacked), ("after", after))}
    lifetimes = attackers.stats.get("lifetimes", {})
    med = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    return {
        "searches": len(alone), "p99_alone_ms": 1e3 * H.p99(ok["alone"] + ok["after"]) if ok["alone"] else None,
        "attacked_searches": len(attacked), "attacked_failed": len(attacked) - len(ok["attacked"]),
        "p99_attacked_ms": 1e3 * H.p99(ok["attacked"]) if ok["attacked"] else None,
        "burst": dict(Counter(a.status for a in burst)),
        "burst_503_with_retry_after_and_json": sum(1 for a in burst if a.status == 503 and a.retry_after
                                                   and a.error and {"title", "description"} <= set(a.error)),
        "healthz": len(health.answers), "healthz_failed": sum(1 for status, _ in health.answers if status != 200),
        "healthz_max_ms": 1e3 * max((s for _, s in health.answers), default=0),
        "held_at_end": attackers.stats.get("held"), "opened": attackers.stats.get("opened"),
        "slow_lifetime_s": med(lifetimes.get("slow")), "idle_lifetime_s": med(lifetimes.get("idle")),
        "nonreading_closed": len(lifetimes.get("nonreading", [])),
    }


def big_article(seeds: Path, dest: Path, kib: int) -> Path:
    """``seeds`` (linked) plus one long article of about ``kib`` KiB, whose page is larger than a socket's buffers."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in seeds.iterdir():
        if not (dest / f.name).exists() and f.is_file() and not f.name.startswith("."):
            (dest / f.name).symlink_to(f.resolve())
    paragraph = "港口的货物吞吐量在今年前十个月达到新高，城市的夜读活动也吸引了许多市民参加。"
    lines = ["长文"] + [f"{i}. {paragraph}" for i in range(kib * 1024 // (3 * len(paragraph)))]
    (dest / "zz_long_article.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (dest / ".source").write_text(f"{seeds}|long {kib}")
    return dest


def figures(results: dict) -> dict:
    """A run's flat figures: for each option (its name first), throughput against the bare route, the
    normal client's p99 alone and under attack, the burst's answers, /healthz, connections' lifetimes."""
    values = {}
    for name, row in results.items():
        a = row["attack"]
        option = {}
        if "app" in row:
            app, bare = row["app"], row["bare"]
            option |= {"search_rps": app["rps"], "bare_rps": bare["rps"], "search_vs_bare": row["ratio"],
                       "search_p99_ms": app["p99_ms"], "search_req_per_worker_cpu_s": app["req_per_cpu_s"],
                       "bare_req_per_worker_cpu_s": bare["req_per_cpu_s"],
                       "search_errors": app["non2xx"] + app["socket_errors"],
                       "bare_errors": bare["non2xx"] + bare["socket_errors"]}
        option |= {
            "normal_p99_ms": a["p99_alone_ms"], "normal_p99_under_attack_ms": a["p99_attacked_ms"],
            "normal_p99_ratio_under_attack": (a["p99_attacked_ms"] / a["p99_alone_ms"]
                                              if a["p99_attacked_ms"] and a["p99_alone_ms"] else None),
            "normal_searches_under_attack": a["attacked_searches"], "normal_failed_under_attack": a["attacked_failed"],
            **{("burst_failed" if status == "0" else f"burst_answered_{status}"): count
               for status, count in sorted(a["burst"].items())},
            "burst_503_with_retry_after_and_json": a["burst_503_with_retry_after_and_json"],
            "healthz_asked": a["healthz"], "healthz_failed": a["healthz_failed"], "healthz_max_ms": a["healthz_max_ms"],
            "slow_lifetime_s": a["slow_lifetime_s"], "idle_lifetime_s": a["idle_lifetime_s"],
            "nonreading_closed": a["nonreading_closed"]}
        values |= {f"{name.replace('-', '_')}_{key}": value for key, value in option.items()}
    return C.figures_of(values)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=C.DEFAULT_CORPUS)
    ap.add_argument("--stories", type=int, default=300)
    ap.add_argument("--options", default=",".join(OPTIONS), help="comma-separated: " + ", ".join(OPTIONS))
    ap.add_argument("--workers", type=int, default=C.cores())
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=float, default=8.0, help="wrk seconds per side")
    ap.add_argument("--searches", type=int, default=200, help="normal searches alone and under attack")
    ap.add_argument("--attack", type=float, default=20.0, help="seconds the attack lasts at least")
    ap.add_argument("--rounds", type=int, default=2, help="times the normal client runs its searches per phase")
    ap.add_argument("--long-kib", type=int, default=256, help="size of the long article non-readers ask for")
    ap.add_argument("--skip-throughput", action="store_true")
    C.add_location_arguments(ap)
    args = ap.parse_args(argv)
    C.begin(args)
    commit, commit_note = C.code_to_record()
    machine = C.machine_line(stamp=False)
    if not shutil.which("wrk") and not args.skip_throughput:
        ap.error("needs wrk (apt-get install -y wrk), or --skip-throughput")
    seeds = C.prepare_seeds(args.corpus, args.workdir / f"seeds-http-{args.stories}", args.stories,
                            extra_seeds=C.SRC / "seeds")
    seeds = big_article(seeds, args.workdir / f"seeds-slow-{args.stories}", args.long_kib)
    index_dir = args.workdir / f"ix-slow-{args.stories}"
    build(seeds, index_dir, C.cores())
    big_paths = ("/api/articles/zz_long_article", "/api/search?q=%E7%9A%84&size=100")
    pool_file = args.workdir / "http-pool.txt"
    pool = write_pool(seeds, pool_file, 5000)
    paths = random.Random(3).sample(pool, args.searches)
    results = {}
    for name in args.options.split(","):
        extra, (app, bare) = OPTIONS[name]
        row = {}
        with Gunicorn(app, index_dir, seeds, args.workers, args.workdir / f"slow-{name}.log", extra=extra) as server:
            if not args.skip_throughput:
                row["app"] = throughput(server, pool_file, args)
            row["attack"] = attack(server, paths, big_paths, args)
        if not args.skip_throughput:
            with Gunicorn(bare, index_dir, seeds, args.workers, args.workdir / f"slow-{name}-bare.log",
                          extra=extra) as server:
                row["bare"] = throughput(server, pool_file, args)
            row["ratio"] = row["app"]["rps"] / row["bare"]["rps"]
        results[name] = row
        print(f"\n== {name}: " + json.dumps(row, default=str))
    rows = []
    for name, row in results.items():
        a = row["attack"]
        tp = [f"{row['app']['rps']:,.0f}", f"{row['bare']['rps']:,.0f}", f"{row['ratio']:.2f}",
              f"{row['app']['req_per_cpu_s']:,.0f}"] if "app" in row else ["-"] * 4
        ratio = (f"{a['p99_attacked_ms'] / a['p99_alone_ms']:.1f}×"
                 if a["p99_attacked_ms"] and a["p99_alone_ms"] else "-")
        rows.append([name, *tp, f"{a['p99_alone_ms'] or 0:.1f}", f"{a['p99_attacked_ms'] or 0:.1f}", ratio,
                     f"{a['attacked_failed']}/{a['attacked_searches']}", json.dumps(a["burst"]),
                     f"{a['healthz_failed']}/{a['healthz']}",
                     f"{a['slow_lifetime_s'] or 0:.1f}", f"{a['idle_lifetime_s'] or 0:.1f}"])
    print()
    print(C.table(rows, ["option", "search req/s", "bare req/s", "ratio", "search req/CPU-s", "p99 alone ms",
                         "p99 attacked ms", "×", "failed", "burst", "healthz failed", "slow lives s",
                         "idle lives s"]))
    path = record("slow_clients", figures(results), commit=commit, machine=machine,
                  corpus=f"seeds/ + {args.stories} stories of {args.corpus.name} + one {args.long_kib} KiB article",
                  note="; ".join(filter(None, [commit_note, f"{args.workers} workers; options {args.options}"])),
                  details={"args": {k: str(v) for k, v in vars(args).items()}, "results": results})
    print(f"appended to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
