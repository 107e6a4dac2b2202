"""zhsearch: full-text search for Chinese articles (jieba + Whoosh + Falcon).

The package is laid out by pipeline stage, data flowing one way
(``seeds/ → paragraphs → text → build → segment + match → query → web · cli``); each stage imports
only the stages listed before it here:

* :mod:`search.problems`, :mod:`search.config` — the shared input-problem type; settings;
* :mod:`search.text` — normalisation, jieba, pinyin, the user dictionary and synonyms;
* :mod:`search.paragraphs` — seed files into articles of classified paragraphs;
* :mod:`search.formats` — the small tables of a build folder, written by the build, read by queries;
* :mod:`search.segment` — the Whoosh segment format: schema, codec, writer;
* :mod:`search.match` — the substring accelerator: skeletons and bigram/word posting lists;
* :mod:`search.build` — analysing articles and writing a build; the atomic swap and the lock;
* :mod:`search.query` — the query language, matching, ranking, highlights, did-you-mean, related;
* :mod:`search.web` — the Falcon app, its pages and ``/openapi.json``;
* :mod:`search.cli`, :mod:`search.wsgi`, :mod:`search.gunicorn_conf` — what ties them together.
"""

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

# Whoosh pickles the classes of a build's schema and codec into its table of contents by module
# path. Builds made before the package was grouped by stage name these modules; they resolve to
# the modules that now hold the same classes, so those builds still open.
_MOVED = {
    "search.analysis": "search.text.analysis",  # ChineseAnalyzer
    "search.metadata_index": "search.segment.schema",  # METADATA, NormalizedValue
    "search.whoosh_codec": "search.segment.codec",  # ZhCodec
    "search.whoosh_columns": "search.segment.columns",  # RefNumericColumn, SkeletonColumn
    "search.whoosh_writer": "search.segment.words_format",  # CompactCharacters
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a module's old path as a module whose names are those of the module that holds
    them now (the same objects: a class unpickled through either path is the one class)."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in _MOVED else None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module):
        holder = importlib.import_module(_MOVED[module.__name__])
        module.__getattr__ = lambda name: getattr(holder, name)


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())
