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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Settings from ``ZHSEARCH_SEEDS`` and ``ZHSEARCH_INDEX`` (defaults ``./seeds``, ``./index``)."""
        env = os.environ if environ is None else environ
        return cls(
            seeds_dir=Path(env.get("ZHSEARCH_SEEDS") or "seeds"),
            index_dir=Path(env.get("ZHSEARCH_INDEX") or "index"),
        )
