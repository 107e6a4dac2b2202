"""An update's completion index costs what changed: each segment keeps what its paragraphs hold of
the entries (``seg-<id>/tally/``), an entry the previous generation spelled is not spelled again —
and the answers stay those of a whole build (``test_update.py`` compares them)."""

from __future__ import annotations

import random

import numpy as np

from search.build import completions as build_completions, segment_tally
from search.build.indexer import build_index
from search.build.segment_tally import TALLY, SegmentSource
from search.formats.layout import IndexLayout, read_meta
from search.query.searcher import Searcher
from test_update import assert_same_as_full_rebuild, record, starting_seeds, write_seeds


def tally_calls(monkeypatch) -> list[tuple[int, bool]]:
    """Each time a segment's paragraphs are read for the entries: (paragraphs in the segment, whole)."""
    calls: list[tuple[int, bool]] = []
    real = SegmentSource.tally_of

    def recorded(self, keys, gids=None):
        calls.append((len(self.live), gids is None))
        return real(self, keys, gids)

    monkeypatch.setattr(SegmentSource, "tally_of", recorded)
    return calls


def spelled_keys(monkeypatch) -> list[str]:
    spelled: list[str] = []
    real = build_completions.phrase_pinyin.spellings
    monkeypatch.setattr(build_completions.phrase_pinyin, "spellings", lambda key: (spelled.append(key), real(key))[1])
    return spelled


def test_a_second_update_reads_only_the_new_segment_whole_and_spells_only_new_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(segment_tally, "KEEP_FROM_UNITS", 0)  # these segments are small
    settings, records, texts = starting_seeds(tmp_path, articles=80)
    build_index(settings)
    build = IndexLayout(settings.index_dir).current()
    assert not list(build.glob(f"seg-*/{TALLY}")), "a whole build keeps no tally"
    rng = random.Random(5)
    records.append(record(200, rng))
    write_seeds(settings.seeds_dir, records, texts)
    build_index(settings)  # the first update makes every segment's tally
    assert len(list(IndexLayout(settings.index_dir).current().glob(f"seg-*/{TALLY}/counts.npy"))) == 2

    calls, spelled = tally_calls(monkeypatch), spelled_keys(monkeypatch)
    before = Searcher(settings)
    known = {before._current().completer.index.key(entry) for entry in range(len(before._current().completer.index))}
    before.close()
    records.append(record(201, rng) | {"text": "蚂蚁金服旗下的支付宝宣布新规。\n支付宝用户超过十亿。"})
    del records[3]  # a deleted article: what its paragraphs held is taken away
    write_seeds(settings.seeds_dir, records, texts)
    build_index(settings)
    sizes = [size for size, whole in calls if whole]
    live = Searcher(settings)._current()
    assert max(live.grams.count - size for size in sizes) > 0 and len(sizes) == 1, calls  # the new segment alone
    assert any(not whole for _, whole in calls)  # the deleted paragraphs, the new keys' paragraphs
    assert spelled and not set(spelled) & known
    assert "支付宝" in spelled
    assert_same_as_full_rebuild(settings, tmp_path)


def test_a_damaged_tally_or_previous_index_is_worked_out_again(tmp_path, monkeypatch):
    monkeypatch.setattr(segment_tally, "KEEP_FROM_UNITS", 0)
    settings, records, texts = starting_seeds(tmp_path, articles=80)  # the base segment is never merged here
    build_index(settings)
    rng = random.Random(9)
    damages = {"counts.npy": lambda path: np.save(path, np.zeros((2, 3), dtype=np.int64)),  # not the keys' length
               "forms.json": lambda path: path.write_text("[", encoding="utf-8"),  # not JSON
               "sample.json": lambda path: path.write_text('{"step": 1, "pairs": ', encoding="utf-8"),  # cut short
               "spellings.txt": lambda path: path.write_text("broken", encoding="utf-8")}  # the previous index's
    records.append(record(300, rng))
    write_seeds(settings.seeds_dir, records, texts)
    build_index(settings)  # the first update: the segments' tallies
    for number, (name, damage) in enumerate(damages.items()):
        build = IndexLayout(settings.index_dir).current()
        base = build / f"seg-{read_meta(build)['segments'][0]['id']}"
        path = build / "completions" / name if name == "spellings.txt" else base / TALLY / name
        assert path.is_file()
        path.unlink()  # a link another generation may share: replaced, not written through
        damage(path)
        records.append(record(301 + number, rng))
        write_seeds(settings.seeds_dir, records, texts)
        build_index(settings)
        assert_same_as_full_rebuild(settings, tmp_path / name.replace(".", "-"))


def test_a_small_segment_keeps_no_tally_and_is_read_again(tmp_path, monkeypatch):
    settings, records, texts = starting_seeds(tmp_path, articles=30)
    build_index(settings)
    monkeypatch.setattr(segment_tally, "KEEP_FROM_UNITS", 3_000)  # the whole build's segment, not the update's
    rng = random.Random(11)
    records.append(record(400, rng))
    write_seeds(settings.seeds_dir, records, texts)
    build_index(settings)
    build = IndexLayout(settings.index_dir).current()
    kept = [path.parent.parent.name for path in build.glob(f"seg-*/{TALLY}/counts.npy")]
    assert len(kept) == 1 and len(list(build.glob("seg-*"))) == 2
    assert_same_as_full_rebuild(settings, tmp_path)
