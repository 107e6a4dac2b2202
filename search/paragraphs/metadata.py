"""An article's metadata: JSONL keys beside id/title/text, or a .md file's YAML front matter.

Values are kept as written: strings, numbers, booleans and lists of strings. ``date`` must be
an ISO 8601 date or date-time (``2024-03-05``, ``2024-03-05T08:30:00+08:00``); it is kept as the
ISO string. Anything else is reported as ``path:line: reason`` and left out; the article is still
indexed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from ..problems import InputProblem

DATE_KEY = "date"
#: Keys that are the article itself, never metadata.
RESERVED = frozenset({"id", "title", "text"})
# A metadata key usable as a KEY:VALUE filter: a letter or underscore, then letters, digits, _ or -.
_KEY = re.compile(r"[^\W\d][\w-]{0,63}")
# YAML front matter: a first line of ---, the block, a line of --- (or ...).
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)


class _StringDates(yaml.SafeLoader):
    """Safe YAML whose dates stay strings as written (``parse_date`` checks them, and reports them)."""


_StringDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_date(value: Any) -> dt.datetime | None:
    """The moment an ISO 8601 date or date-time stands for (a date is its midnight; naive is UTC), or None."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?)?", value.strip()):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def clean(raw: dict[str, Any], path: str, line: int, report: Callable[[InputProblem], None]) -> dict[str, Any]:
    """The usable metadata of ``raw`` (reserved keys dropped); what cannot be used is reported."""
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        if key in RESERVED or value is None:  # null: no value, nothing to report
            continue
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            report(InputProblem(path, line, f"bad metadata key {key!r}: a name of letters, digits, _ or - is expected"))
            continue
        if key == DATE_KEY:
            moment = parse_date(value)
            if moment is None:
                report(InputProblem(path, line, f"bad date {value!r}: an ISO 8601 date such as 2024-03-05 is expected; "
                                                "indexed without it"))
                continue
            metadata[key] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value.strip()
        elif _is_value(value):
            metadata[key] = value
        else:
            report(InputProblem(path, line, f"metadata {key!r} left out: a string, number, boolean or list of "
                                            f"strings is expected, not {type(value).__name__}"))
    return metadata


def _is_value(value: Any) -> bool:
    if isinstance(value, bool | str):
        return True
    if isinstance(value, int | float):
        return not (isinstance(value, float) and not math.isfinite(value))
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def split_front_matter(text: str, path: str, report: Callable[[InputProblem], None]) -> tuple[dict[str, Any], str]:
    """(front matter as parsed, the text after it) of a Markdown document; a block that is no YAML
    mapping is reported and kept out of the text, and the article has no metadata."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.load(match.group(1), Loader=_StringDates)  # noqa: S506 — a SafeLoader
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = 2 + mark.line if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        report(InputProblem(path, where, f"bad front matter: {reason}; indexed without metadata"))
        return {}, text[match.end():]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        report(InputProblem(path, 1, "bad front matter: a YAML mapping (key: value lines) is expected; "
                                     "indexed without metadata"))
        data = {}
    return data, text[match.end():]
