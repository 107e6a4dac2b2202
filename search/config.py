"""Settings, read once at the edge. The only module that looks at ``os.environ``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Settings:
    """Where the seeds and the index live, and the limits that keep a query cheap."""

    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    max_query_chars: int = 256
    max_query_terms: int = 16
    max_page_size: int = 100
    max_page: int = 1000
    refresh_interval: float = 0.5  # seconds between checks for a newly swapped-in index
    # a build writes segments of about this many characters at most: its memory is bounded by the
    # size of a segment, not of the archive (an article is never split between segments)
    segment_characters: int = 16_000_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from ``ZHSEARCH_SEEDS`` and ``ZHSEARCH_INDEX`` (defaults ``./seeds``, ``./index``),
        and ``ZHSEARCH_SEGMENT_CHARACTERS`` (a positive whole number). Raises ValueError naming
        the variable when its value is not one."""
        env = os.environ if environ is None else environ
        return cls(
            seeds_dir=Path(env.get("ZHSEARCH_SEEDS") or "seeds"),
            index_dir=Path(env.get("ZHSEARCH_INDEX") or "index"),
            segment_characters=_positive(env, "ZHSEARCH_SEGMENT_CHARACTERS", cls.segment_characters),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if not value:
        return default
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        number = 0
    if number <= 0:
        raise ValueError(f"{name} must be a positive whole number of characters, not {value!r}")
    return number
