"""The Whoosh segment every build is: Whoosh is the index of record, written here without its
per-document pool and read by Whoosh itself (``whoosh.index.open_dir``).

* :mod:`.schema` — the fields of a build (one document per paragraph, the article's metadata);
* :mod:`.words_format`, :mod:`.documents` — a field's postings items, and documents analysed in a
  worker and grouped by term;
* :mod:`.posting_table` — postings of many terms as numpy columns: batches, sorted runs on disk,
  merged with one sort;
* :mod:`.writer`, :mod:`.term_writer`, :mod:`.long_lists`, :mod:`.block_batches` — one segment
  from postings sorted in bounded memory, each term's postings encoded a block at a time, the
  blocks of many terms worked out together;
* :mod:`.codec`, :mod:`.stored`, :mod:`.blocks`, :mod:`.terms`, :mod:`.columns`,
  :mod:`.text_patch`, :mod:`.varints` — the codec (Whoosh 3's format with stored texts as patches
  against the skeletons, stored fields compressed in blocks, postings in columns, a compact term
  table) and the formats it writes;
* :mod:`.mapped` — opening a build so that every worker shares its files through the page cache.

Imports :mod:`search.text`, :mod:`search.paragraphs` (the date rules) and :mod:`search.formats`;
imported by :mod:`search.build` and
:mod:`search.query`.
"""
