"""The query language, parsed into plain data (no Whoosh here).

``a b`` — both; ``a OR b`` — either; ``-a`` / ``NOT a`` — without; ``"a b"`` — a phrase (an exact
contiguous substring after normalisation, spaces ignored); ``title:a`` — in the article's title.
Anything that does not parse as an operator is searched for literally: an unbalanced quote, a
lone ``-``, ``OR`` at the end, ``foo:bar`` with an unknown field.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from .normalize import normalize, skeleton

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


@dataclass(frozen=True)
class ParsedQuery:
    """An AND of OR-groups of units, minus the excluded units."""

    groups: tuple[tuple[Unit, ...], ...]
    excluded: tuple[Unit, ...]

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded

    def highlight_keys(self) -> tuple[str, ...]:
        """The skeletons to mark in a hit: every positive term and phrase."""
        keys = dict.fromkeys(unit.key for group in self.groups for unit in group)
        return tuple(keys)


@dataclass(frozen=True)
class _Raw:
    text: str
    phrase: bool
    negated: bool = False
    field: str = TEXT

    @property
    def op(self) -> str | None:
        """``OR``/``AND``/``NOT`` when this bare word could be an operator."""
        plain = not self.phrase and not self.negated and self.field == TEXT
        word = unicodedata.normalize("NFKC", self.text)
        return word if plain and word in ("OR", "AND", "NOT") else None


def parse(query: str, *, max_chars: int = 256, max_terms: int = 16) -> ParsedQuery:
    """Parse a user's query; raises :class:`BadQuery` only for the limits."""
    if len(query) > max_chars:
        raise BadQuery(f"query is {len(query)} characters long; the limit is {max_chars}")
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in query)
    raws = _lex(cleaned)
    groups: list[list[Unit]] = []
    excluded: list[Unit] = []
    pending_or = False
    after_positive = False
    i = 0
    while i < len(raws):
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
    )
    count = sum(len(g) for g in parsed.groups) + len(parsed.excluded)
    if count > max_terms:
        raise BadQuery(f"query has {count} terms; the limit is {max_terms}")
    return parsed


def _unit(raw: _Raw) -> Unit | None:
    normalized = normalize(raw.text)
    key = skeleton(normalized)
    if not key:
        return None
    return Unit(key=key, normalized=normalized, phrase=raw.phrase, field=raw.field)


def _lex(query: str) -> list[_Raw]:
    """Split into raw tokens: words, quoted phrases, each with its ``-`` and ``field:`` prefixes.

    Only the ASCII ``-`` and ``"`` are syntax: their full-width forms (common in Chinese text,
    e.g. ``ＡＢＣ－１２３``) are searched for like any other character.
    """
    tokens: list[_Raw] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
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
        if query[i] == '"':
            close = query.find('"', i + 1)
            if close != -1:
                tokens.append(_Raw(query[i + 1 : close], True, negated, field))
                i = close + 1
                continue
        end = i
        while end < n and not query[end].isspace():
            end += 1
        word = query[i:end]
        tokens.append(_Raw(word, False, negated, field))
        i = end
    return tokens
