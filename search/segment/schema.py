"""The fields of every build's Whoosh index: one document per paragraph (SPEC.md, "The index"), and
the article's metadata as fields of its own (``date`` a sortable ``DATETIME``, any other key a
:class:`METADATA` field indexed by its normalised values).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from whoosh import formats
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import COLUMN, DATETIME, ID, NUMERIC, STORED, TEXT, FieldType, Schema

from ..formats.metadata import members, value_key
from ..paragraphs.metadata import DATE_KEY, parse_date
from ..text import analysis
from .columns import SKELETON_COLUMN, RefNumericColumn
from .words_format import CompactCharacters


class NormalizedValue(Tokenizer):
    """The whole text as one term, normalised as metadata values are compared (for Whoosh's own
    query parser: ``source:总统府新闻`` finds ``總統府新聞``)."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.text = value_key(value)
        token.boost, token.stopped = 1.0, False
        if positions:
            token.pos = start_pos
        if chars:
            token.startchar, token.endchar = start_char, start_char + len(value)
        if token.text:
            yield token


class METADATA(FieldType):
    """A metadata value (or list of values) of an article: stored as written, indexed normalised."""

    def __init__(self):
        self.format = formats.Existence()
        self.analyzer = NormalizedValue()
        self.stored = True
        self.scorable = False
        self.unique = False
        self.column_type = None
        self.vector = None


#: Whoosh fields of the metadata: ``date`` sorts; any other key is a METADATA field of that name
#: (``meta_`` before it when it is a name of the schema's own), through Whoosh's glob field ``*``.
# the date sorts by a column of references to its distinct values: 1–2 bytes a paragraph, not 8
WHOOSH_FIELDS = {DATE_KEY: DATETIME(stored=True, sortable=RefNumericColumn()), "*": METADATA()}


def whoosh_field(key: str, schema_names: Iterable[str]) -> str:
    """The Whoosh field name of metadata ``key``."""
    return f"meta_{key}" if key in schema_names and key != DATE_KEY else key


def whoosh_values(metadata: dict[str, Any], schema_names: frozenset[str]) -> tuple[dict[str, Any], dict[str, list]]:
    """An article's metadata as Whoosh document values and pre-analysed items (see
    :class:`search.segment.documents.DocumentBatch`): the date as a naive UTC datetime, every other
    value stored as written and indexed as its normalised members."""
    values: dict[str, Any] = {}
    items: dict[str, list] = {}
    for key, value in metadata.items():
        if key == DATE_KEY:
            moment = parse_date(value)
            if moment is not None:
                values[DATE_KEY] = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
            continue
        name = whoosh_field(key, schema_names)
        values[name] = value
        terms = dict.fromkeys(value_key(member) for member in members(value))
        items[name] = [(term.encode("utf-8"), 1, 1.0, b"") for term in terms if term]
    return values, items


def make_schema() -> Schema:
    """One Whoosh document per paragraph, in ``gid`` order (SPEC.md, "The index")."""
    words = TEXT(analyzer=analysis.ChineseAnalyzer(), chars=True)  # positions and offsets
    words.format = CompactCharacters()  # the same, in fewer bytes
    schema = Schema(
        words=words,
        title=TEXT(analyzer=analysis.ChineseAnalyzer(), phrase=False),  # the article title's words
        article_id=ID(stored=True),
        # one term per number; sorted by a column of 1-byte references to the numbers there are
        paragraph=NUMERIC(int, bits=32, stored=True, sortable=RefNumericColumn(), shift_step=0),
        kind=ID(stored=True),
        text=STORED,  # stored as a patch against the skeleton (search.segment.text_patch); read back whole
        skeleton=COLUMN(SKELETON_COLUMN),  # the normalised text matched, also the match index's units
    )
    for name, fieldtype in WHOOSH_FIELDS.items():  # the article's metadata (date; any other key)
        schema.add(name, fieldtype, glob="*" in name)
    return schema
