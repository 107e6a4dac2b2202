"""A scan's entries kept as columns (search/paragraphs/entries.py): every entry reads back as it
was added, whatever its text, and a whole build's scan holds far less than an object per entry."""

from __future__ import annotations

import hashlib
import tracemalloc

from hypothesis import given, strategies as st

from search.paragraphs.entries import Entries, Entry, EntryStore
from search.paragraphs.scan import Scan

hex_digests = st.binary(min_size=16, max_size=16).map(bytes.hex)
entries = st.builds(Entry, id=st.text(), file=st.text(), line=st.integers(min_value=0, max_value=2**62),
                    digest=st.one_of(hex_digests, st.text(), hex_digests.map(str.upper)))


@given(st.lists(entries, max_size=30))
def test_every_entry_reads_back_as_added(added):
    store = EntryStore()
    numbers = [store.add(entry) for entry in added]
    assert numbers == list(range(len(added)))
    assert [store[number] for number in numbers] == added
    assert list(Entries(store, range(len(store)))) == added
    view = Entries(store)
    for number in reversed(numbers):
        view.append(number)
    assert list(view) == added[::-1] and len(view) == len(added)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "文章"]), st.integers(1, 5)), max_size=20))
def test_a_scan_takes_the_first_of_each_id_and_reports_the_others(rows):
    scan, reported = Scan(), []
    scan.start_file()
    taken = [scan.add(Entry(article_id, "x.jsonl", line, "0" * 32), reported.append) for article_id, line in rows]
    scan.end_file("x.jsonl", (1, 2, 3))
    first_ids = list(dict.fromkeys(article_id for article_id, _ in rows))
    assert [entry.id for entry in scan.entries] == first_ids
    assert sum(taken) == len(first_ids) and len(reported) == len(rows) - len(first_ids)
    assert all("duplicate article id" in problem.reason for problem in reported)
    assert list(scan.files["x.jsonl"][1]) == [Entry(article_id, "x.jsonl", line, "0" * 32) for article_id, line in rows]


def test_a_scan_holds_little_more_than_its_ids():
    """What a build's scan holds an article, its id strings aside: the build's processes are forked
    from the process that holds it. As objects (an Entry, a hex digest, a line number, slots in
    three containers) it was ~215 bytes."""
    count = 20_000
    ids = [f"xwlb-2019-{n:06d}#3" for n in range(count)]  # held either way
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        scan = Scan()
        scan.start_file()
        for n, article_id in enumerate(ids):  # the digest of each article's bytes, worked out as a scan does
            digest = hashlib.blake2b(article_id.encode(), digest_size=16).hexdigest()
            scan.add(Entry(article_id, "corpus.jsonl", n + 1000, digest), lambda problem: None)
        scan.end_file("corpus.jsonl", (1, 2, 3))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(scan.entries) == count
    assert scan.entries[-1].digest == hashlib.blake2b(ids[-1].encode(), digest_size=16).hexdigest()
    assert held / count < 130, f"{held / count:.0f} bytes an entry"
