"""What a generation's deleted documents add to Whoosh's own statistics.

Whoosh keeps a deleted document's postings until its segment is merged away, and counts them in
its term and field statistics. The query side asks Whoosh for more-like-this and did-you-mean
(:mod:`search.query.whoosh_live`) and must see the statistics a whole build of the live articles
would have, so the generation records, for the ``words`` field, how many deleted documents hold
each term, how often, and their total length: the deleted paragraphs analysed again, as the build
analysed them.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from ..formats.layout import DELETED_STATISTICS
from ..segment.mapped import open_index
from ..segment.words_format import field_items
from ..text import analysis

FIELD = "words"


def write_deleted_statistics(folder: Path, parts: list, live: list[np.ndarray], schema) -> dict:
    """Write (and return) the statistics of the deleted documents of the generation in ``folder``."""
    documents, length, characters = 0, 0, 0
    frequencies: Counter = Counter()
    doc_frequencies: Counter = Counter()
    if not all(mask.all() for mask in live):
        index = open_index(folder)
        reader = index.reader()
        readers = reader.readers if hasattr(reader, "readers") else [reader]
        try:
            for segment_reader, mask in zip(readers, live):
                for docnum in np.flatnonzero(~mask).tolist():
                    text = segment_reader.stored_fields(docnum)["text"]
                    _, spans = analysis.original_word_spans(text, subwords=True)
                    items = field_items(schema[FIELD], spans)
                    documents += 1
                    characters += len(text)
                    for term, frequency, weight, _ in items:
                        doc_frequencies[term.decode("utf-8")] += 1
                        frequencies[term.decode("utf-8")] += weight
                        length += frequency
        finally:
            reader.close()
    found = {"documents": documents, "characters": characters, FIELD: {"length": length, "terms": {
        term: [doc_frequencies[term], frequencies[term]] for term in sorted(doc_frequencies)}}}
    (folder / DELETED_STATISTICS).write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
    return found
