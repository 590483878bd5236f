"""Article-body scoring as the article-extraction-benchmark defines it (our implementation).

Definition: texts are split into ``\\w+`` tokens; a document's shingles are its 4-token
windows counted as a multiset (a text shorter than 4 tokens is one shorter shingle). Per page,
tp/fp/fn are the multiset overlap and differences, normalised to sum to 1 so long pages do not
weigh more. Precision is averaged over pages with tp+fp > 0, recall over pages with
tp+fn > 0, and F1 is the harmonic mean of those
two averages.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)

Counts = tuple[float, float, float]


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _WORD.findall(text or "")
    if len(tokens) <= n:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_counts(expected: str | None, predicted: str | None, n: int = 4) -> Counts:
    """Normalised (tp, fp, fn) of one page."""
    want, got = shingles(expected, n), shingles(predicted, n)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def score(pages: Iterable[Counts]) -> dict[str, float]:
    """F1, precision and recall over pages, each page weighing the same."""
    pages = list(pages)
    precisions = [_precision(*c) for c in pages if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in pages if c[0] + c[2] > 0]
    p = statistics.mean(precisions) if precisions else 0.0
    r = statistics.mean(recalls) if recalls else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": f1, "precision": p, "recall": r}
