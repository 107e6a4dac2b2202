"""Building an index: seeds → paragraphs → analysis in worker processes → segments (a Whoosh
segment and its match index, side by side) → a generation of segments → the atomic swap of
``CURRENT``.

* :mod:`.indexer` — a whole build or an update, and whether a readable index exists;
* :mod:`.previous` — what the live generation holds, and which articles changed since;
* :mod:`.analyse` — each article normalised and segmented once, for both indexes, in workers;
* :mod:`.spans` — the words of a batch of paragraphs at once, as numpy columns;
* :mod:`.segments` — one segment of the articles given; :mod:`.merging` — which segments to merge;
* :mod:`.generation` — a generation's table of contents and the tables derived from all its
  segments: :mod:`.vocabulary` (the live words and their pinyin), :mod:`.deleted` (the deleted
  documents' statistics), :mod:`.completions` (the completion index: words and frequent phrases,
  counted by :mod:`.substring_counts` segment by segment, each segment's share kept by
  :mod:`.segment_tally`, as the archive writes them — :mod:`.display_forms` — and
  in pinyin);
* :mod:`.processes` — forked workers that die with the builder, the child that writes Whoosh's
  terms, the paused cyclic collector;
* :mod:`.store` — a fresh build folder, the swap, retiring old generations, the build lock;
* :mod:`.watch` — ``zhsearch index --watch``.

Imports :mod:`search.paragraphs`, :mod:`search.text`, :mod:`search.formats`,
:mod:`search.segment` and :mod:`search.match`; imported by :mod:`search.cli`.
"""
