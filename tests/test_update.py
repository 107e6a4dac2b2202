"""``zhsearch index`` brings the live index up to date with the seeds: only what changed is analysed,
and the new generation answers every query as a whole build of the same seeds would."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from search.build import analyse as analyse_stage
from search.build.indexer import WouldShrink, build_index
from search.build.merging import FACTOR, merged_segments
from search.build.store import BuildStore
from search.cli import main
from search.config import Settings
from search.formats.layout import IndexLayout, read_meta
from search.query.searcher import Searcher

REPO = Path(__file__).resolve().parent.parent
SEED = (REPO / "seeds" / "000_507e94cc0a3b8151.txt").read_text(encoding="utf-8")
SENTENCES = [s + "。" for s in SEED.replace("\n", "").split("。") if len(s) > 8]
TRADITIONAL = ["聯合國祕書長古特雷斯呼籲各國加強合作。", "臺灣總統府發表聲明，歡迎聯合國大會的決議。",
               "會議討論了經濟發展與國際合作。", "北京大學與臺灣大學的學生交流。"]
PREFIXES = ["联", "聯", "lianh", "lhg", "lian", "联h", "北j", "beij", "hui", "会", "台", "tai", "jingji", "x", "guoji"]
QUERIES = ["联合国", "普京", "的", "会议", "联和国", "秘书长 OR 普京", "联合国 -普京", '"安理会"', "title:联合国",
           "source:新闻联播", "date:2024", "date:2023-06..2024-05", "聯合國", "乌克兰 独立", "xyzzy", "图书馆",
           "tags:外交", "-source:本报", "联合国 NEAR/3 秘书长", '"普京*联合国"', '"联?国"']


def record(n: int, rng: random.Random) -> dict:
    """A JSONL article made of sentences of the seed article, with metadata."""
    picked = rng.sample(SENTENCES, rng.randint(2, 6))
    return {"id": f"j{n:03d}", "title": picked[0][:18], "text": "\n".join(picked[1:]) or picked[0],
            "date": f"202{rng.randint(2, 5)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "source": rng.choice(["新闻联播", "本报", "總統府新聞"]), "tags": rng.sample(["外交", "经济", "会议"], 2)}


def write_seeds(seeds: Path, records: list[dict], texts: dict[str, str]) -> None:
    seeds.mkdir(parents=True, exist_ok=True)
    (seeds / "feed.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    for name, text in texts.items():
        (seeds / name).write_text(text, encoding="utf-8")


def starting_seeds(root: Path, articles: int = 40) -> tuple[Settings, list[dict], dict[str, str]]:
    rng = random.Random(7)
    records = [record(n, rng) for n in range(articles)]
    texts = {"a1.txt": "联合国安理会召开会议\n" + "".join(rng.sample(SENTENCES, 5)),
             "a2.txt": "图书馆延长开放时间\n市图书馆宣布延长开放时间，读者可以在晚上借阅图书。",
             "m1.md": "---\ntitle: 普京会见古特雷斯\ndate: 2024-04-26\nsource: 本报\n---\n" + "\n".join(rng.sample(SENTENCES, 4))}
    write_seeds(root / "seeds", records, texts)
    return Settings(seeds_dir=root / "seeds", index_dir=root / "index", refresh_interval=0), records, texts


def answers(searcher: Searcher) -> dict:
    """Everything a user sees for the test queries, and every article's page and related articles."""
    found = {}
    for q in QUERIES:
        for options in ({}, {"sort": "newest"}, {"group": "article"}, {"facets": ("source", "year", "tags")},
                        {"explain": True, "size": 30}):
            result = searcher.search(q, **{"size": 100, **options})
            result.pop("took_ms")
            found[q, json.dumps(options)] = result
    for q in ("联合国", '"联合?"', '"会议*合作"', "联合国 NEAR/5 秘书长", "title:联合国", 'title:"联?国"', "的 date:2024"):
        for interval in ("year", "month", "week", "day"):
            found["timeline", q, interval] = searcher.timeline([q, "会议"], interval)
        for sort in ("relevance", "left", "right", "newest"):
            found["concordance", q, sort] = searcher.concordance(q, sort=sort, size=200)
        found["export", q] = b"".join(searcher.export(q, sort="newest").chunks("csv"))
    live = searcher._current()
    for position in live.articles.by_id():
        article_id = live.articles[position][0]
        found["article", article_id] = searcher.article(article_id, q="联合国")
        found["related", article_id] = searcher.related(article_id, size=5)
    found["health"] = {k: v for k, v in searcher.health().items() if k != "index_built_at"}
    for q in PREFIXES:
        found["complete", q] = searcher.complete(q, 20)
    index = live.completer.index
    found["completions"] = [(index.key(entry), index.count(entry), index.text(entry)) for entry in range(len(index))]
    return found


def assert_same_as_full_rebuild(settings: Settings, tmp: Path) -> None:
    fresh = Settings(seeds_dir=settings.seeds_dir, index_dir=tmp / "fresh", refresh_interval=0)
    build_index(fresh, full=True)
    updated, rebuilt = Searcher(settings), Searcher(fresh)
    try:
        a, b = answers(updated), answers(rebuilt)
        assert a.keys() == b.keys()
        for key in a:
            assert a[key] == b[key], key
    finally:
        updated.close()
        rebuilt.close()


@pytest.fixture()
def analysed_ids(monkeypatch) -> list[str]:
    """The ids of the articles analysed (normalised and cut by jieba) from now on, in this process."""
    seen: list[str] = []
    real = analyse_stage.analyse
    monkeypatch.setattr(analyse_stage, "analyse", lambda article: (seen.append(article.id), real(article))[1])
    return seen


def test_adds_edits_and_deletions_answer_as_a_full_rebuild_and_only_they_are_analysed(tmp_path, analysed_ids):
    settings, records, texts = starting_seeds(tmp_path, articles=80)  # more than FACTOR times the update
    build_index(settings)
    analysed_ids.clear()
    rng = random.Random(3)
    records[4]["text"] += "\n联合国秘书长补充了一段话。"  # changed
    records[9]["source"] = "本报"  # changed metadata only
    del records[1]  # removed: every line below it moves up one
    records.append(record(99, rng))  # added
    texts["a2.txt"] = texts["a2.txt"].replace("晚上", "周末")  # changed
    texts["m2.md"] = "---\ndate: 2025-01-02\n---\n新的会议纪要\n联合国大会今天开幕。"  # added
    texts["t1.txt"] = "臺灣新聞\n" + "".join(TRADITIONAL)  # added, in Traditional characters
    write_seeds(settings.seeds_dir, records, texts)
    (settings.seeds_dir / "m1.md").unlink()  # removed
    summary = build_index(settings)
    assert (summary.full, summary.added, summary.changed, summary.removed) == (False, 3, 3, 2)
    assert sorted(analysed_ids) == sorted(["j004", "j009", "j099", "a2", "m2", "t1"])
    assert len(read_meta(IndexLayout(settings.index_dir).current())["segments"]) == 2
    assert_same_as_full_rebuild(settings, tmp_path)
    live = Searcher(settings)
    assert live.article("j005")["source"] == "feed.jsonl:5"  # it was on line 6
    live.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["add", "edit", "delete", "move", "synonyms", "traditional"]), st.integers(0, 10**6)),
                min_size=1, max_size=5))
def test_any_sequence_of_small_changes_answers_as_a_full_rebuild(tmp_path_factory, changes):
    root = tmp_path_factory.mktemp("changes")
    settings, records, texts = starting_seeds(root, articles=24)
    build_index(settings)
    for kind, number in changes:
        rng = random.Random(number)
        if kind == "add":
            records.insert(rng.randrange(len(records) + 1), record(100 + number % 900, rng))
        elif kind == "edit" and records:
            records[number % len(records)]["text"] += "\n" + rng.choice(SENTENCES)
        elif kind == "delete" and len(records) > 20:
            del records[number % len(records)]
        elif kind == "move" and records:
            records.append(records.pop(number % len(records)))
        elif kind == "traditional":  # written otherwise than the rest: how completions show it is voted on
            texts[f"t{number % 3}.txt"] = "臺灣新聞\n" + "".join(rng.sample(TRADITIONAL, 3))
        elif kind == "synonyms":
            (settings.seeds_dir / "synonyms.txt").write_text(rng.choice(["联合国,聯合國組織,UN\n", "普京,总统\n", ""]),
                                                              encoding="utf-8")
        # the ids stay unique: a later duplicate would be reported and skipped by either way of building
        unique = {r["id"]: r for r in reversed(records)}
        records[:] = [r for r in records if unique[r["id"]] is r]
        write_seeds(settings.seeds_dir, records, texts)
        build_index(settings)
    assert_same_as_full_rebuild(settings, root)


def test_nothing_changed_leaves_the_generation_as_it_is(tmp_path):
    settings, _, _ = starting_seeds(tmp_path, articles=5)
    build_index(settings)
    live = IndexLayout(settings.index_dir).current()
    summary = build_index(settings)
    assert summary.unchanged and summary.build is None and IndexLayout(settings.index_dir).current() == live
    assert summary.line().startswith("up to date")


def test_a_changed_user_dictionary_rebuilds_everything_and_synonyms_need_no_analysis(tmp_path, analysed_ids):
    settings, _, _ = starting_seeds(tmp_path, articles=5)
    build_index(settings)
    analysed_ids.clear()
    (settings.seeds_dir / "synonyms.txt").write_text("联合国,图书馆\n", encoding="utf-8")
    summary = build_index(settings)
    assert not summary.full and analysed_ids == []
    searcher = Searcher(settings)
    assert searcher.search("图书馆")["total"] > searcher.search('"图书馆"')["total"]
    searcher.close()
    (settings.seeds_dir / "userdict.txt").write_text("延长开放 10 n\n", encoding="utf-8")
    assert build_index(settings).full and len(analysed_ids) == 8


def test_an_update_that_would_remove_most_articles_stops_unless_full(tmp_path):
    settings, records, texts = starting_seeds(tmp_path, articles=10)
    build_index(settings)
    live = IndexLayout(settings.index_dir).current()
    write_seeds(settings.seeds_dir, records[:2], {})
    for name in texts:
        (settings.seeds_dir / name).unlink()
    with pytest.raises(WouldShrink, match="--full"):
        build_index(settings)
    assert IndexLayout(settings.index_dir).current() == live
    code = main(["index", "--seeds", str(settings.seeds_dir), "--index", str(settings.index_dir)])
    assert code == 1 and IndexLayout(settings.index_dir).current() == live
    assert build_index(settings, full=True).articles == 2


def test_bad_input_in_an_update_keeps_the_version_already_indexed(tmp_path):
    settings, records, texts = starting_seeds(tmp_path, articles=6)
    build_index(settings)
    problems = []
    (settings.seeds_dir / "a2.txt").write_bytes("图书馆周末开放。\n".encode("utf-8") + b"\xff\xfe broken")
    lines = (settings.seeds_dir / "feed.jsonl").read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id": "j002", "text": '  # an edit cut short
    (settings.seeds_dir / "feed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = build_index(settings, report=problems.append)
    assert {(p.path, p.line) for p in problems if p.fatal} == {("a2.txt", 2), ("feed.jsonl", 3)}
    assert summary.removed == 0
    searcher = Searcher(settings)
    assert searcher.article("a2")["paragraphs"][1]["text"].startswith("市图书馆宣布延长开放时间")
    assert searcher.article("j002")["paragraphs"]
    searcher.close()
    # and it stays so while the file is still bad, then takes the fix
    assert build_index(settings, report=problems.append).removed == 0
    (settings.seeds_dir / "a2.txt").write_text("图书馆周末开放\n读者周末也能借书。", encoding="utf-8")
    build_index(settings)
    searcher = Searcher(settings)
    assert searcher.article("a2")["paragraphs"][1]["text"] == "读者周末也能借书。"
    searcher.close()


def test_unchanged_segments_are_shared_and_retired_generations_removed(tmp_path, monkeypatch):
    settings, records, texts = starting_seeds(tmp_path, articles=100)
    build_index(settings)
    first = IndexLayout(settings.index_dir).current()
    base = next(first.glob("MAIN_*.pst"))
    for n in range(4):
        records.append(record(200 + n, random.Random(n)))
        write_seeds(settings.seeds_dir, records, texts)
        build_index(settings)
    live = IndexLayout(settings.index_dir).current()
    assert (live / base.name).stat().st_ino == base.stat().st_ino  # the same file, linked
    BuildStore(settings.index_dir).remove_stale(keep_previous=None, grace=0)
    assert [p.name for p in Path(settings.index_dir).glob("build-*")] == [live.name]


@pytest.mark.parametrize(("live", "deleted", "incoming", "merged"), [
    ([1000], [0], 5, 0),  # a small update beside a large segment: a segment of its own
    ([1000, 5], [0, 0], 5, 1),  # two small ones are merged
    ([1000, 50], [0, 0], 10, 1),  # the newest is within a factor of the update
    ([1000, 101], [0, 0], 10, 0),
    ([1000, 99], [0, 0], 10, 2),  # ... and then so is the next
    ([1000, 100], [0, 0], 1000, 2),  # a large update merges everything it is within a factor of
    ([1000, 50], [600, 0], 5, 2),  # a segment with more than a third deleted goes, with all after it
    ([100] * 9, [0] * 9, 0, 9),
])
def test_the_merge_policy(live, deleted, incoming, merged):
    assert merged_segments(live, deleted, incoming) == merged


@pytest.mark.parametrize(("live", "deleted", "full", "incoming", "merged"), [
    ([100, 100, 5], [0, 0, 0], [True, True, False], 5, 1),  # the tail merges, the full ones stay
    ([100, 100], [0, 0], [True, True], 1000, 0),  # however large the update
    ([100, 100], [0, 60], [True, True], 5, 1),  # ... until a third of one is deleted
    ([100] * 12 + [5], [0] * 13, [True] * 12 + [False], 5, 1),  # full segments do not count as crowding
    ([100] * 12, [0] * 12, [False] * 12, 0, 12),  # segments that are not full do (and then all are within a factor)
])
def test_the_merge_policy_leaves_full_segments(live, deleted, full, incoming, merged):
    assert merged_segments(live, deleted, incoming, full) == merged


def test_a_build_closes_segments_at_their_size_and_answers_as_one_segment_would(tmp_path):
    settings, records, texts = starting_seeds(tmp_path, articles=40)
    for n in range(3):  # segments of Traditional articles beside the Simplified ones: completions vote across them
        texts[f"t{n}.txt"] = "臺灣新聞\n" + "".join(TRADITIONAL * 6)
    write_seeds(settings.seeds_dir, records, texts)
    capped = dataclasses.replace(settings, segment_characters=1500)
    build_index(capped)
    segments = read_meta(IndexLayout(settings.index_dir).current())["segments"]
    longest = max(len(r["title"]) + len(r["text"]) for r in records) + max(map(len, texts.values()))
    assert len(segments) >= 3
    assert all(segment["characters"] <= 1500 + longest for segment in segments)
    assert sum(segment["articles"] for segment in segments) == len(records) + len(texts)
    assert_same_as_full_rebuild(settings, tmp_path)
    # an update larger than a segment writes several, and leaves the full segments as they are
    full = [segment["id"] for segment in segments if segment["characters"] >= 750]
    records.extend(record(300 + n, random.Random(n)) for n in range(30))
    write_seeds(settings.seeds_dir, records, texts)
    summary = build_index(capped)
    assert not summary.full and summary.added == 30
    after = read_meta(IndexLayout(settings.index_dir).current())["segments"]
    assert [segment["id"] for segment in after[:len(full)]] == full
    assert len(after) - len(full) >= 2
    assert_same_as_full_rebuild(settings, tmp_path / "again")


def test_segment_sizes_fall_geometrically_after_many_small_updates():
    live: list[int] = [20000]
    for _ in range(300):
        merged = merged_segments(live, [0] * len(live), 5)
        live = live[: len(live) - merged] + [sum(live[len(live) - merged:]) + 5]
        assert all(a > FACTOR * b for a, b in zip(live, live[1:])), live
    assert len(live) <= 4


KILLED = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from search.build import indexer
    real = indexer.write_generation
    def stalled(*args, **kwargs):
        Path(sys.argv[3]).write_text("writing")
        time.sleep(600)
    indexer.write_generation = stalled
    from search.cli import main
    main(["index", "--seeds", sys.argv[1], "--index", sys.argv[2], "--jobs", "1"])
""")


def test_an_update_killed_midway_leaves_the_live_index_answering_as_before(tmp_path):
    settings, records, texts = starting_seeds(tmp_path, articles=10)
    build_index(settings)
    live = IndexLayout(settings.index_dir).current()
    before = answers(Searcher(settings))
    records.append(record(300, random.Random(1)))
    write_seeds(settings.seeds_dir, records, texts)
    signal_file = tmp_path / "writing"
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(settings.seeds_dir), str(settings.index_dir),
                              str(signal_file)], cwd=REPO)
    try:
        for _ in range(1200):  # until it is writing the generation (a bound, not a timing)
            if signal_file.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert signal_file.exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert IndexLayout(settings.index_dir).current() == live
    assert answers(Searcher(settings)) == before
    assert build_index(settings).added == 1  # the lock went with the process; the update applies
    assert len(list(Path(settings.index_dir).glob("build-*"))) == 2  # the half-written one is gone


def test_watch_picks_up_a_new_file_and_stops_on_ctrl_c(tmp_path):
    settings, _, _ = starting_seeds(tmp_path, articles=4)
    build_index(settings)
    watcher = subprocess.Popen([sys.executable, "-m", "search", "index", "--seeds", str(settings.seeds_dir),
                                "--index", str(settings.index_dir), "--jobs", "1", "--watch", "0.2"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        lines.append(watcher.stdout.readline())  # watching …
        (settings.seeds_dir / "late.txt").write_text("迟到的新闻\n联合国观察员今天抵达。", encoding="utf-8")
        while not lines[-1].startswith("added") and lines[-1]:  # each round that applies says so
            lines.append(watcher.stdout.readline())
        searcher = Searcher(settings)
        assert searcher.search("观察员")["total"] == 1
        searcher.close()
    finally:
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert lines[-1].startswith("added 1, changed 0, removed 0 articles"), lines
    assert "stopped" in out and "Traceback" not in err


def test_a_file_being_written_is_applied_once_it_holds_still(tmp_path):
    from search.build.watch import Watcher

    settings, _, _ = starting_seeds(tmp_path, articles=4)
    build_index(settings)
    said: list[str] = []
    watcher = Watcher(settings, say=said.append)
    assert not watcher.round()  # the first look
    assert watcher.round() and said[0].startswith("up to date: 7 articles, nothing changed")
    growing = settings.seeds_dir / "growing.jsonl"
    lines = [json.dumps(record(500 + n, random.Random(n)), ensure_ascii=False) for n in range(2)]
    growing.write_text(lines[0] + "\n", encoding="utf-8")
    assert not watcher.round()  # a round that sees a change applies nothing ...
    with open(growing, "a", encoding="utf-8") as out:
        out.write(lines[1] + "\n")
        os.fsync(out.fileno())
    os.utime(growing, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert not watcher.round()  # ... nor while it goes on changing ...
    assert watcher.round()  # ... until a round finds it as the last one left it
    assert said[-1].startswith("added 2, changed 0, removed 0 articles")
    assert not watcher.round()
