"""The fitted weights of the paragraph model: data written by ``bench/fit_paragraph_model.py``.

They live in ``weights.json`` beside this file and are read once, on first use. The fit script
installs the weights it is trying with :func:`use` (and writes the file when it is done).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHTS_FILE = Path(__file__).with_name("weights.json")


@dataclass(frozen=True)
class Weights:
    """Everything the gap model and its decoder were fitted to (the glued-headline scorer is not
    fitted: its prior is set by hand, ``runon.GLUED_PRIOR``)."""

    gap: dict[str, float]  # feature -> weight of a paragraph break (log-odds)
    chars_prior: tuple[tuple[float, float], ...]  # (upper length bound, prior) per length bin
    sentences_prior: tuple[float, ...]  # prior by a paragraph's number of sentences (last: and more)
    threshold_bins: tuple[int, ...]  # body-run lengths binning the cut thresholds
    cut_thresholds: tuple[float, ...]  # break log-odds a cut must exceed, per bin
    extra: dict[str, Any]  # provenance: what the fit was run on

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Weights":
        known = {"gap", "chars_prior", "sentences_prior", "threshold_bins", "cut_thresholds"}
        return cls(
            gap={k: float(v) for k, v in data["gap"].items()},
            chars_prior=tuple((float("inf") if b is None else float(b), float(v)) for b, v in data["chars_prior"]),
            sentences_prior=tuple(float(v) for v in data["sentences_prior"]),
            threshold_bins=tuple(int(v) for v in data["threshold_bins"]),
            cut_thresholds=tuple(float(v) for v in data["cut_thresholds"]),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.extra,
            "gap": dict(sorted(self.gap.items())),
            "chars_prior": [[None if b == float("inf") else int(b), v] for b, v in self.chars_prior],
            "sentences_prior": list(self.sentences_prior),
            "threshold_bins": list(self.threshold_bins),
            "cut_thresholds": list(self.cut_thresholds),
        }


_active: Weights | None = None


def fitted() -> Weights:
    """The weights in use: ``weights.json``, read on first call."""
    global _active
    if _active is None:
        _active = Weights.from_json(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))
    return _active


def use(weights: Weights | None) -> None:
    """Use these weights from now on (None: back to ``weights.json``). For fitting and tests."""
    global _active
    _active = weights


def save(weights: Weights, path: Path = WEIGHTS_FILE) -> None:
    """Write weights as the data file the package reads."""
    path.write_text(json.dumps(weights.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
