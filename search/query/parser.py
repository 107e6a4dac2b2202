"""The query language, parsed into plain data (no Whoosh here).

``a b`` — both; ``a OR b`` — either; ``-a`` / ``NOT a`` — without; ``"a b"`` — a phrase (an exact
contiguous substring after normalisation, spaces ignored); ``title:a`` — in the article's title;
``KEY:VALUE`` — only articles whose metadata KEY equals VALUE (for the keys the index has);
``date:2024``, ``date:2024-03``, ``date:2024-03-05``, ``date:2023-06..2024-05`` (either end open);
``a NEAR/5 b`` — within 5 characters of each other (:mod:`.near`); ``"中?合作"``, ``"把*给"`` —
wildcards in a phrase (:mod:`.patterns`).
Anything that does not parse as an operator is searched for literally: an unbalanced quote, a
lone ``-``, ``OR`` at the end, ``foo:bar`` with an unknown field, ``date:`` with no date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field as dataclass_field, replace
from functools import cached_property

from ..text.normalize import normalize, skeleton
from ..text.synonyms import Synonyms
from .near import Near, check_distance, near_operator
from .patterns import NoLiteral, Pattern, read_pattern

TEXT = "text"
TITLE = "title"
_FIELD_PREFIXES = {"title:": TITLE}


class BadQuery(ValueError):
    """A query we refuse to run (too long, too many terms); the message is for the user."""


@dataclass(frozen=True)
class Unit:
    """One term or phrase: ``key`` is the skeleton that must occur in the field."""

    key: str
    normalized: str  # normalised text with its spaces, for word segmentation
    phrase: bool
    field: str = TEXT
    pattern: Pattern | None = None  # a phrase with wildcards; ``key`` is then the pattern as written

    @property
    def marker(self) -> str | Pattern:
        """What a hit marks: the skeleton ``key``, or the pattern (which finds its own matches)."""
        return self.key if self.pattern is None else self.pattern


@dataclass(frozen=True)
class Filter:
    """``KEY:VALUE``: the article's metadata KEY equals VALUE after normalisation."""

    key: str
    value: str
    negated: bool = False


@dataclass(frozen=True)
class DateRange:
    """``date:…``: the article's date (as the number YYYYMMDD) within [first, last]; None is open."""

    first: int | None
    last: int | None
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """An AND of OR-groups of units (or NEARs), minus the excluded units, within the filters."""

    groups: tuple[tuple[Unit | Near, ...], ...]
    excluded: tuple[Unit | Near, ...]
    filters: tuple[Filter | DateRange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded and not self.filters

    def highlight_keys(self) -> tuple[str | Pattern | Near, ...]:
        """What to mark in a hit: every positive term and phrase (its skeleton), pattern and NEAR."""
        keys = dict.fromkeys(unit.marker for group in self.groups for unit in group)
        return tuple(keys)


@dataclass(frozen=True)
class _Raw:
    text: str
    phrase: bool
    negated: bool = False
    field: str = TEXT
    filter_key: str | None = None  # a metadata key: this token is a filter, text its value
    span: tuple[int, int] = dataclass_field(default=(0, 0), compare=False)  # where the token is in the query

    @cached_property
    def op(self) -> str | None:
        """``OR``/``AND``/``NOT`` when this bare word could be an operator."""
        plain = not self.phrase and not self.negated and self.field == TEXT
        word = unicodedata.normalize("NFKC", self.text)
        return word if plain and (word in ("OR", "AND", "NOT") or near_operator(word) is not None) else None


def parse(query: str, *, max_chars: int = 256, max_terms: int = 16,
          filter_keys: frozenset[str] = frozenset(), synonyms: Synonyms | None = None) -> ParsedQuery:
    """Parse a user's query; raises :class:`BadQuery` only for the limits.

    ``filter_keys`` are the metadata keys of the index (``date`` among them when articles are
    dated): ``KEY:VALUE`` for one of them is a filter, for any other word it is text. With
    ``synonyms``, a bare term (not a phrase) stands for every member of its group.
    """
    if len(query) > max_chars:
        raise BadQuery(f"query is {len(query)} characters long; the limit is {max_chars}")
    raws = _lex(query, filter_keys)
    groups: list[list[Unit]] = []
    excluded: list[Unit] = []
    filters: list[Filter | DateRange] = []
    for raw in [r for r in raws if r.filter_key is not None]:
        filters.append(_filter(raw))
    raws = [r for r in raws if r.filter_key is None]
    pending_or = False
    after_positive = False
    chained = False  # raws[i] was the right side of a NEAR: it goes on only as the left of another
    i = 0
    while i < len(raws):
        near = _near(raws, i)
        if chained:  # ``a NEAR b NEAR c`` is ``(a NEAR b) (b NEAR c)``
            chained = False
            if near is not None:
                groups.append([near])
                i, chained = i + 2, True
            else:
                i += 1
            continue
        if near is not None:
            after_positive = not raws[i].negated
            if raws[i].negated:
                excluded.append(near)
            elif pending_or and groups:
                groups[-1].append(near)
            else:
                groups.append([near])
            pending_or = False
            i, chained = i + 2, True
            continue
        raw = raws[i]
        nxt = raws[i + 1] if i + 1 < len(raws) else None
        operand_follows = nxt is not None and nxt.op is None
        if raw.op == "NOT" and operand_follows:
            raws[i + 1] = replace(nxt, negated=True)
            i += 1
            continue
        if raw.op in ("OR", "AND") and after_positive and operand_follows and not nxt.negated:
            pending_or = raw.op == "OR"
            i += 1
            continue
        unit = _unit(raw)  # an operator with nothing to act on is an ordinary word
        after_positive = unit is not None and not raw.negated
        if unit is not None and raw.negated:
            excluded.append(unit)
        elif unit is not None and pending_or and groups:
            groups[-1].append(unit)
        elif unit is not None:
            groups.append([unit])
        pending_or = False
        i += 1
    parsed = ParsedQuery(
        groups=tuple(tuple(dict.fromkeys(g)) for g in groups),
        excluded=tuple(dict.fromkeys(excluded)),
        filters=tuple(dict.fromkeys(filters)),
    )
    count = sum(_terms(u) for g in parsed.groups for u in g) + sum(map(_terms, parsed.excluded)) + len(parsed.filters)
    if count > max_terms:
        raise BadQuery(f"query has {count} terms; the limit is {max_terms}")
    return _with_synonyms(parsed, synonyms) if synonyms else parsed


def filters_with_spans(query: str, filter_keys: frozenset[str]) -> list[tuple[Filter | DateRange, int, int]]:
    """The filters :func:`parse` finds in ``query``, each with where its token (``-`` included)
    starts and ends in ``query``."""
    return [(_filter(raw), *raw.span) for raw in _lex(query, filter_keys) if raw.filter_key is not None]


def term_spans(query: str) -> list[tuple[Unit, int, int]]:
    """The terms and phrases :func:`parse` reads in ``query`` (operators among them, as words;
    ``KEY:VALUE`` too, no filter keys being given), each with where its text is in ``query``:
    inside a phrase's quotes, after a term's ``-`` and ``title:``."""
    found = []
    for raw in _lex(query):
        unit = _unit(raw)
        if unit is not None:
            end = raw.span[1] - 1 if raw.phrase else raw.span[1]
            found.append((unit, end - len(raw.text), end))
    return found


def _terms(unit: Unit | Near) -> int:
    return 2 if isinstance(unit, Near) else 1


def _near(raws: list[_Raw], i: int) -> Near | None:
    """``raws[i] NEAR/N raws[i + 2]`` as a :class:`Near` when both sides are terms or phrases of
    the text (the left may be negated: the whole NEAR is excluded), else None."""
    if i + 2 >= len(raws) or raws[i + 1].op is None or (distance := near_operator(raws[i + 1].text)) is None:
        return None
    left, right = raws[i], raws[i + 2]
    if left.op is not None or right.op is not None or right.negated or TITLE in (left.field, right.field):
        return None
    left_unit, right_unit = _unit(left), _unit(right)
    if left_unit is None or right_unit is None:
        return None
    if (problem := check_distance(distance)) is not None:
        raise BadQuery(problem)
    return Near((left_unit,), (right_unit,), distance)


def _cleaned(query: str) -> str:
    """``query`` with its control and format characters as spaces (a printable query has none);
    as long as ``query``, so a token's place in it is its place in ``query``."""
    if query.isprintable():
        return query
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in query)


def _with_synonyms(parsed: ParsedQuery, synonyms: Synonyms) -> ParsedQuery:
    """Each bare term widened to its synonym group: an OR of every member (excluded: all of them)."""

    def widened(unit: Unit | Near) -> tuple[Unit | Near, ...]:
        if isinstance(unit, Near):
            return (unit.sides(widened),)
        if unit.phrase:
            return (unit,)
        return (unit, *(Unit(key=member, normalized=synonyms.normalized.get(member, member), phrase=False,
                             field=unit.field) for member in synonyms.expand(unit.key)[1:]))

    return replace(
        parsed,
        groups=tuple(tuple(dict.fromkeys(u for unit in group for u in widened(unit))) for group in parsed.groups),
        excluded=tuple(dict.fromkeys(u for unit in parsed.excluded for u in widened(unit))),
    )


def _unit(raw: _Raw) -> Unit | None:
    normalized = normalize(raw.text)
    pattern = None
    if raw.phrase:
        try:
            pattern, normalized = read_pattern(normalized)
        except NoLiteral as problem:
            raise BadQuery(str(problem)) from None
    key = pattern.display if pattern is not None else skeleton(normalized)
    if not key:
        return None
    return Unit(key=key, normalized=normalized, phrase=raw.phrase, field=raw.field, pattern=pattern)


def _filter(raw: _Raw) -> Filter | DateRange:
    if raw.filter_key == DATE_KEY:
        first, last = date_bounds(raw.text)  # _lex checked that it reads
        return DateRange(first, last, raw.negated)
    return Filter(raw.filter_key, raw.text, raw.negated)


DATE_KEY = "date"
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_KEY = re.compile(r"([^\W\d][\w-]{0,63})[:：]")


def _date_number(text: str, end: bool) -> int | None:
    """YYYYMMDD of a year, month or day (its first day, or with ``end`` a number past its last), or None."""
    m = _DATE.fullmatch(text)
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        dt.date(year, month, day)
    except ValueError:
        return None
    if m[3]:
        return year * 10000 + month * 100 + day
    if m[2]:
        return year * 10000 + month * 100 + (99 if end else 0)
    return year * 10000 + (9999 if end else 0)


def date_bounds(text: str) -> tuple[int | None, int | None]:
    """(first, last) YYYYMMDD bounds of ``2024``, ``2024-03``, ``2024-03-05``, ``A..B``, ``A..``,
    ``..B``; raises ValueError when the text is no such date or range."""
    text = unicodedata.normalize("NFKC", text).strip()
    if ".." in text:
        low, _, high = text.partition("..")
        first = _date_number(low, end=False) if low else None
        last = _date_number(high, end=True) if high else None
        if (low and first is None) or (high and last is None) or (not low and not high):
            raise ValueError(f"not a date range: {text!r}")
        return first, last
    first, last = _date_number(text, end=False), _date_number(text, end=True)
    if first is None:
        raise ValueError(f"not a date: {text!r}")
    return first, last


def _lex(query: str, filter_keys: frozenset[str] = frozenset()) -> list[_Raw]:
    """Split into raw tokens: words, quoted phrases, each with its ``-`` and ``field:`` prefixes;
    ``KEY:VALUE`` with KEY one of ``filter_keys`` (in any case) is a filter token. Control and
    format characters separate tokens as spaces do; each token's ``span`` is its place in ``query``.

    Only the ASCII ``-`` and ``"`` are syntax: their full-width forms (common in Chinese text,
    e.g. ``ＡＢＣ－１２３``) are searched for like any other character.
    """
    keys = {key.casefold(): key for key in filter_keys}  # casefolded → as in the index
    query = _cleaned(query)
    tokens: list[_Raw] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        begin = i
        negated = False
        field = TEXT
        if query[i] == "-" and i + 1 < n and not query[i + 1].isspace():
            negated = True
            i += 1
        for prefix, name in _FIELD_PREFIXES.items():
            rest = unicodedata.normalize("NFKC", query[i : i + len(prefix)])
            after = query[i + len(prefix) : i + len(prefix) + 1]
            if rest.lower() == prefix and after and not after.isspace():
                field = name
                i += len(prefix)
                break
        key = _KEY.match(query, i, i + 66) if keys and field == TEXT else None
        if key and key[1].casefold() in keys:
            token = _filter_token(query, i + len(key[0]), negated, keys[key[1].casefold()])
            if token is not None:
                i = token[1]
                tokens.append(replace(token[0], span=(begin, i)))
                continue
        if query[i] == '"':
            close = query.find('"', i + 1)
            if close != -1:
                tokens.append(_Raw(query[i + 1 : close], True, negated, field, span=(begin, close + 1)))
                i = close + 1
                continue
        end = i
        while end < n and not query[end].isspace():
            end += 1
        word = query[i:end]
        tokens.append(_Raw(word, False, negated, field, span=(begin, end)))
        i = end
    return tokens


def _filter_token(query: str, start: int, negated: bool, key: str) -> tuple[_Raw, int] | None:
    """The filter token whose value starts at ``start`` (quoted or up to a space) and where it ends,
    or None when there is no value or a ``date:`` value is no date."""
    if start >= len(query) or query[start].isspace():
        return None
    if query[start] == '"' and (close := query.find('"', start + 1)) > start + 1:
        value, end = query[start + 1 : close], close + 1
    else:
        end = start
        while end < len(query) and not query[end].isspace():
            end += 1
        value = query[start:end]
    if key == DATE_KEY:
        try:
            date_bounds(value)
        except ValueError:
            return None
    return _Raw(value, False, negated, TEXT, filter_key=key), end
