"""The small tables of a build folder: written by :mod:`search.build`, read by :mod:`search.query`.

* :mod:`.layout` — an index folder: ``CURRENT``, the build folders, their file names, ``meta.json``;
* :mod:`.arrays` — one-dimensional ``.npy`` files appended to and mapped;
* :mod:`.articles` — each article's id, title and source, by position, and the position of an id;
* :mod:`.metadata` — per-article metadata arrays: filters, dates, facets;
* :mod:`.pinyin_index` — which vocabulary words sound how (did-you-mean);
* :mod:`.sorted_lines` — sorted lines of a mapped text file, found by bisection (vocabulary, titles,
  phrases, spellings);
* :mod:`.completions` — the completion index: words and frequent phrases, their counts, forms
  and pinyin.

Imports :mod:`search.text` and :mod:`search.paragraphs` (the date rules); imported by
:mod:`search.segment`, :mod:`search.match`, :mod:`search.build` and :mod:`search.query`.
"""
