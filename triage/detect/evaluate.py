"""Column-level evaluation of detection against a truth file.

A truth file (``PATH.truth.json``, written by ``triage synth``) maps every header
to a category id or null. Each column is one decision: a detected category that
equals the truth is a true positive for it; a wrong or spurious category is a
false positive for the detected one (and a false negative for the true one); a
missed column is a false negative. Macro F1 averages the per-category F1 over
every category present in the truth or in the detections; a file with no
sensitive column and no detection scores 1.0.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.detect.dump import detect_dump
from triage.errors import TriageError


@dataclass
class CategoryScore:
    category: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    categories: dict[str, CategoryScore]
    #: (column, truth, detected) for every column where they differ.
    errors: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    columns: int = 0

    @property
    def macro_f1(self) -> float:
        if not self.categories:
            return 1.0
        return sum(s.f1 for s in self.categories.values()) / len(self.categories)

    @property
    def flagged(self) -> int:
        return sum(s.tp + s.fp for s in self.categories.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "macro_f1": round(self.macro_f1, 4),
            "categories": {c: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                               "f1": round(s.f1, 4), "tp": s.tp, "fp": s.fp, "fn": s.fn}
                           for c, s in sorted(self.categories.items())},
            "errors": [{"column": c, "truth": t, "detected": d} for c, t, d in self.errors],
        }


def score(truth: dict[str, str | None], detected: dict[str, str | None]) -> Evaluation:
    """Compare per-column categories; columns missing from ``detected`` count as none."""
    counts: dict[str, Counter[str]] = {}

    def bump(category: str, kind: str) -> None:
        counts.setdefault(category, Counter())[kind] += 1

    errors = []
    for column, expected in truth.items():
        got = detected.get(column)
        if expected is not None and got == expected:
            bump(expected, "tp")
            continue
        if got is not None:
            bump(got, "fp")
        if expected is not None:
            bump(expected, "fn")
        if got != expected:
            errors.append((column, expected, got))
    categories = {c: CategoryScore(c, k["tp"], k["fp"], k["fn"]) for c, k in counts.items()}
    return Evaluation(categories, errors, len(truth))


def load_truth(path: str | Path) -> dict[str, str | None]:
    """The ``columns`` map of a truth file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        columns = document["columns"]
    except (OSError, ValueError, KeyError, TypeError):
        raise TriageError("not a readable truth file (needs a \"columns\" map)",
                          path=str(path)) from None
    if not isinstance(columns, dict):
        raise TriageError("\"columns\" must map headers to categories", path=str(path))
    return columns


def evaluate(dump: str | Path, truth_path: str | Path) -> Evaluation:
    """Detect over ``dump`` and score it against ``truth_path``."""
    truth = load_truth(truth_path)
    detected = {f.name: f.category for table in detect_dump(dump) for f in table.findings}
    return score(truth, detected)
