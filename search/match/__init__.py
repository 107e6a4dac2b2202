"""The match index, Whoosh's accelerator: every substring found with exact totals, the whole-word
test and BM25, from numpy arrays memory-mapped and shared by the workers.

* :mod:`.grams` — lookups: a key's paragraphs and frequencies, titles, whole words, BM25;
* :mod:`.skeletons` — the paragraphs' normalised texts as mapped UTF-16 units; sorted word lines;
* :mod:`.postings` — posting lists of paragraph ids on disk, built in bounded memory;
* :mod:`.blockmax` — the BM25 upper bound of each block of a posting stream;
* :mod:`.builder` — writing the index block by block;
* :mod:`.frequent_words` — in a build, the lists of the frequent words of three code units or more.

Imports :mod:`search.formats`; imported by :mod:`search.build` and :mod:`search.query`.
"""
