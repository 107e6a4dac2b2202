"""Opening a build maps it: what a worker allocates to open an index does not grow with the index
(issue #14). Measured with tracemalloc, which sees Python objects and numpy buffers but not
file mappings (shared between workers through the page cache)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from conftest import traced
from search.build.indexer import build_index
from search.config import Settings
from search.formats.layout import IndexLayout
from search.match.builder import GramIndexBuilder
from search.match.grams import GramIndex
from search.query.live import LiveBuild
from search.query.searcher import Searcher

ALPHABET = [chr(0x4E00 + i) for i in range(600)] + list("ab12，。")


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _match_index(folder: Path, paragraphs: int) -> Path:
    rng = random.Random(3)
    builder = GramIndexBuilder(folder)
    for gid in range(paragraphs):
        if gid % 8 == 0:
            builder.start_article("".join(rng.choices(ALPHABET, k=10)))
        builder.add_paragraph("".join(rng.choices(ALPHABET, k=120)),
                              {"".join(rng.choices(ALPHABET, k=2)) for _ in range(20)})
    builder.finish()
    return folder


def test_opening_the_match_index_allocates_nothing_that_grows_with_it(tmp_path):
    small = _match_index(tmp_path / "small", 500)
    large = _match_index(tmp_path / "large", 5_000)
    assert _folder_size(large) > 6 * _folder_size(small)

    def opened(folder):
        def action():
            index = GramIndex(folder)
            index.find("一丁")  # reading a posting list decodes that list only
            return index
        return action

    opened(small)()  # first use imports and caches what any index would
    small_peak, large_peak = traced(opened(small))[0], traced(opened(large))[0]
    assert large_peak < 1.5 * small_peak + 64 * 1024, (small_peak, large_peak)
    assert large_peak < _folder_size(large) / 20, (large_peak, _folder_size(large))


def _built(root: Path, articles: int) -> Path:
    """A real build (Whoosh and the match index) of ``articles`` generated articles."""
    rng = random.Random(5)
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    with open(seeds / "generated.jsonl", "w", encoding="utf-8") as out:
        for i in range(articles):
            text = "\n".join("".join(rng.choices(ALPHABET, k=150)) + "。" for _ in range(6))
            out.write(json.dumps({"id": f"a{i}", "title": "".join(rng.choices(ALPHABET, k=8)), "text": text},
                                 ensure_ascii=False) + "\n")
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    build_index(settings, jobs=1)
    return IndexLayout(settings.index_dir).current()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return _built(tmp_path_factory.mktemp("small"), 40), _built(tmp_path_factory.mktemp("large"), 400)


def test_a_worker_opening_a_build_allocates_far_less_than_the_build_holds(builds):
    """A worker opens the live build and serves a paragraph (Whoosh reads its stored text on first
    use): the allocation it makes for the 10× larger build grows by a small fraction of the
    growth of the build on disk (the articles table is per article, a few dozen bytes each)."""
    small, large = builds

    def served(build):
        def action():
            live = LiveBuild.open(build)
            assert live.paragraph(live.grams.count - 1)["text"]
            return live
        return action

    served(small)().close()  # first use imports and caches what any build would
    small_peak, large_peak = traced(served(small))[0], traced(served(large))[0]
    growth = _folder_size(large) - _folder_size(small)
    assert large_peak - small_peak < growth / 20, (small_peak, large_peak, growth)


def test_the_mapped_whoosh_index_reads_what_whoosh_wrote(builds):
    from whoosh import index as whoosh_index

    from search.segment.mapped import open_index

    build = builds[0]
    with whoosh_index.open_dir(str(build)).searcher() as plain, open_index(build).searcher() as mapped:
        assert mapped.doc_count_all() == plain.doc_count_all() > 0
        for gid in (0, plain.doc_count_all() // 2, plain.doc_count_all() - 1):
            assert mapped.stored_fields(gid) == plain.stored_fields(gid)


def test_searches_on_a_mapped_build_match_a_brute_force_scan(builds):
    small = builds[0]
    settings = Settings(seeds_dir=small.parent.parent / "seeds", index_dir=small.parent)
    searcher = Searcher(settings)
    try:
        live = LiveBuild.open(small)
        skeletons = list(live.grams.skeletons)
        for key in (skeletons[3][10:13], skeletons[-1][:2], skeletons[0][5:9]):
            expected = [gid for gid, text in enumerate(skeletons) if key in text]
            assert searcher.search(f'"{key}"', size=100)["total"] == len(expected) > 0
            assert live.grams.find(key).gids.tolist() == expected
            assert np.all(live.grams.find(key).tf > 0)
        live.close()
    finally:
        searcher.close()


@pytest.mark.parametrize("full", [True, False], ids=["rebuilt", "updated"])
def test_a_swapped_out_build_is_unmapped_at_once(tmp_path, full):
    """After a swap the worker maps only the new build (rebuilt whole, or a new generation of an
    update, which links the old one's segment): the old one's files are released as soon as the
    searcher lets go of it, not when a garbage collection happens to run."""
    import gc

    maps = Path("/proc/self/maps")
    if not maps.exists():
        pytest.skip("needs /proc/self/maps (Linux)")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("城市夜读活动在河边举行。\n河道清理工作持续进行。", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", refresh_interval=0)
    build_index(settings, jobs=1)
    old = IndexLayout(settings.index_dir).current()
    searcher = Searcher(settings)
    gc.disable()
    try:
        assert searcher.search("河道")["total"] == 1
        assert str(old) in maps.read_text()
        (seeds / "b.txt").write_text("新的文章\n图书馆延长开放时间。", encoding="utf-8")
        build_index(settings, jobs=1, full=full)
        assert IndexLayout(settings.index_dir).current() != old
        assert searcher.search("河道")["total"] == 1  # reopens on the new build
        assert str(old) not in maps.read_text()
    finally:
        gc.enable()
        searcher.close()


def test_a_swapped_in_build_is_opened_before_any_request(tmp_path):
    """With ``follow_swaps`` (each gunicorn worker starts it), a new build is opened in the
    background: the first request after a swap finds it open already."""
    import time

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("河道清理工作持续进行。", encoding="utf-8")
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index", refresh_interval=0.05)
    build_index(settings, jobs=1)
    searcher = Searcher(settings)
    try:
        assert searcher.warm()
        thread = searcher.follow_swaps()
        first = searcher._live
        (seeds / "b.txt").write_text("城市夜读活动在河边举行。", encoding="utf-8")
        build_index(settings, jobs=1)
        deadline = time.monotonic() + 30
        while searcher._live is first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert searcher._live is not first  # opened without a request
        assert searcher.search("夜读")["total"] == 1
    finally:
        searcher.close()
    thread.join(timeout=5)
    assert not thread.is_alive()  # close() stops it
