"""A build pauses Python's cyclic garbage collector (search/build/processes.py): it is paused while the
articles are analysed and written, restored after, and a build makes no reference cycles that grow
with the corpus, which is what makes the pause safe."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from search.build import analyse as analysis_stage
from search.build.indexer import build_index
from search.config import Settings

SEED = (Path(__file__).resolve().parent.parent / "seeds" / "000_507e94cc0a3b8151.txt").read_text(encoding="utf-8")


def seeds_of(root: Path, count: int) -> Settings:
    """``count`` articles (the seed article's paragraphs, each article numbered) under ``root``."""
    seeds = root / "seeds"
    seeds.mkdir(parents=True)
    for n in range(count):
        (seeds / f"a{n:03d}.txt").write_text(f"第{n}篇\n{SEED}", encoding="utf-8")
    return Settings(seeds_dir=seeds, index_dir=root / "index")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_analysing_and_restored_after(tmp_path, monkeypatch, enabled) -> None:
    seen = []
    analyse = analysis_stage.analyse
    monkeypatch.setattr(analysis_stage, "analyse", lambda article: (seen.append(gc.isenabled()), analyse(article))[1])
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        build_index(seeds_of(tmp_path, 3), jobs=1)
        assert seen == [False] * 3
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_build_makes_no_cycles_that_grow_with_the_corpus(tmp_path) -> None:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        found = []
        for n, count in enumerate((4, 4, 40)):  # the first build also leaves what first use makes
            build_index(seeds_of(tmp_path / str(n), count), jobs=1)
            found.append(gc.collect())  # the garbage cycles the build left
    finally:
        if was:
            gc.enable()
    # the same few objects whatever the corpus (the writer's own), none per article
    assert found[2] - found[1] < 10, found
