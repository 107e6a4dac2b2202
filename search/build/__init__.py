"""Building an index: seeds → paragraphs → analysis in worker processes → a new build folder (the
Whoosh segment and the match index, side by side) → the atomic swap of ``CURRENT``.

* :mod:`.indexer` — a whole build, and whether a readable one exists;
* :mod:`.analyse` — each article normalised and segmented once, for both indexes, in workers;
* :mod:`.processes` — forked workers that die with the builder, the child that writes Whoosh's
  terms, the paused cyclic collector;
* :mod:`.store` — a fresh build folder, the swap, removing stale builds, the build lock;
* :mod:`.completions` — the completion index of a finished build: its words and frequent
  phrases, counted (:mod:`.substring_counts`), as the archive writes them (:mod:`.display_forms`)
  and in pinyin.

Imports :mod:`search.paragraphs`, :mod:`search.text`, :mod:`search.formats`,
:mod:`search.segment` and :mod:`search.match`; imported by :mod:`search.cli`.
"""
