"""The mapped articles table: every article by position, every id found by bisection."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings, strategies as st

from search.formats.articles import ArticleTable, ArticleTableWriter

IDS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=100)
@given(st.lists(st.tuples(IDS, st.text(max_size=20), st.text(max_size=20)), max_size=40, unique_by=lambda row: row[0]),
       IDS)
def test_property_positions_and_ids_round_trip(rows: list[tuple[str, str, str]], other: str) -> None:
    with TemporaryDirectory() as folder:
        writer = ArticleTableWriter(Path(folder))
        for row in rows:
            writer.add(*row)
        writer.close()
        table = ArticleTable(Path(folder))
        assert len(table) == len(rows)
        assert [table[i] for i in range(len(rows))] == rows
        for position, (article_id, _, _) in enumerate(rows):
            assert table.position_of(article_id) == position
        if other not in {row[0] for row in rows}:
            assert table.position_of(other) is None


def test_an_empty_table(tmp_path: Path) -> None:
    writer = ArticleTableWriter(tmp_path)
    writer.close()
    table = ArticleTable(tmp_path)
    assert len(table) == 0 and table.position_of("a") is None
