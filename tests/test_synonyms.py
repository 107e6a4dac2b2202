"""Synonym groups: the file, and a bare term widened to its group (a phrase stays itself)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from search.query.parser import parse
from search.text.synonyms import Synonyms, read_synonyms


def read(tmp_path: Path, text: str | bytes):
    path = tmp_path / "synonyms.txt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    problems = []
    return read_synonyms(path, problems.append), problems


def test_groups_are_read_and_normalised(tmp_path: Path) -> None:
    synonyms, problems = read(tmp_path, "# 组织\n北约,北大西洋公约组织,NATO\n\n联合国，聯合國大會\n")
    assert problems == []
    assert synonyms.expand("北约") == ("北约", "北大西洋公约组织", "nato")  # Latin folded
    assert synonyms.expand("nato") == ("nato", "北约", "北大西洋公约组织")
    assert synonyms.expand("联合国") == ("联合国", "联合国大会")  # Traditional folded too
    assert synonyms.expand("欧盟") == ("欧盟",)


def test_bad_lines_are_reported_with_their_number(tmp_path: Path) -> None:
    synonyms, problems = read(tmp_path, "北约\n美国,美利坚\n,,\n".encode() + b"\xff,\xfe\n")
    assert [(p.path, p.line) for p in problems] == [("synonyms.txt", 1), ("synonyms.txt", 3), ("synonyms.txt", 4)]
    assert len(synonyms) == 1 and synonyms.expand("美国") == ("美国", "美利坚")


def test_a_missing_file_means_no_synonyms(tmp_path: Path) -> None:
    synonyms = read_synonyms(tmp_path / "nope.txt", lambda problem: None)
    assert not synonyms and synonyms.expand("北约") == ("北约",)


def test_a_member_of_two_groups_joins_them() -> None:
    synonyms = Synonyms([["甲", "乙"], ["丙", "丁"], ["乙", "丙"]])
    assert sorted(synonyms.expand("甲")) == ["丁", "丙", "乙", "甲"] and len(synonyms) == 1


def test_a_bare_term_is_its_group_and_a_phrase_only_itself() -> None:
    synonyms = Synonyms([["北约", "北大西洋公约组织", "NATO"]])
    parsed = parse("北约 扩张", synonyms=synonyms)
    assert [[u.key for u in g] for g in parsed.groups] == [["北约", "北大西洋公约组织", "nato"], ["扩张"]]
    assert set(parsed.highlight_keys()) == {"北约", "北大西洋公约组织", "nato", "扩张"}
    assert [[u.key for u in g] for g in parse('"北约"', synonyms=synonyms).groups] == [["北约"]]
    assert [u.key for u in parse("经济 -NATO", synonyms=synonyms).excluded] == ["nato", "北约", "北大西洋公约组织"]


def test_synonyms_do_not_count_against_the_term_limit() -> None:
    synonyms = Synonyms([[f"词{i}" for i in range(30)]])
    assert len(parse("词1", synonyms=synonyms, max_terms=2).groups[0]) == 30


@settings(max_examples=200)
@given(st.lists(st.lists(st.text(max_size=6), max_size=4), max_size=4), st.text(max_size=12))
def test_property_groups_are_symmetric(groups: list[list[str]], key: str) -> None:
    synonyms = Synonyms(groups)
    members = synonyms.expand(key)
    assert members[0] == key
    for member in members[1:]:
        assert set(synonyms.expand(member)) == set(members)
