"""A typing model the user fits on their own labelled examples (`monitor train-typing`).

The project ships its code, never data it may not ship or a model fitted on such data: an
analyst who holds labelled reports under their own licence (ACLED exports, in-house coding)
fits the model here, on their machine, and points ``classify.learned.model`` at the file.

The model is the family of ``learned.py`` (a multinomial logistic regression over stemmed
words and word pairs of the article's opening) with the rules' reading added as features
(``rule_features``): which ACLED types the watchlist's rules fired, which was first, which
came within half of its threshold. So it learns where the user's coders and the rules part
ways, not the whole task from words alone. It *decides* the first type (``Decider``).

The fit is deterministic (full-batch accelerated gradient descent from zero in float64, a
fixed number of steps, a step size from a fixed power iteration, weights rounded): the same
examples and taxonomy give the same bytes. Its L2 penalty is chosen by k-fold
cross-validation inside the examples given (folds from a fixed seed).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.classify.classifier import Classifier, acled_shares
from monitor.classify.learned import NONE, USER_FORMAT, features, rule_features
from monitor.classify.normalize import FoldedText
from monitor.errors import ConfigError

L2_GRID = (0.0001, 0.0003, 0.001, 0.003)  # against the mean log-loss; CV picks one
STEPS = 300
DIGITS = 4
MIN_EXAMPLES = 2  # a feature seen in fewer examples is left out (it would learn one text)
CV_FOLDS = 3
CV_SEED = 13
ACLED_COLUMNS = ("notes", "sub_event_type")  # an ACLED export's text and label
OTHER = "Other"  # ACLED's strategic developments outside the sub-event types: read as none


@dataclass(frozen=True, slots=True)
class Example:
    label: str  # an ACLED name the taxonomy defines, or NONE
    text: str
    line: int  # in the examples file, for messages


@dataclass(frozen=True, slots=True)
class Reading:
    """An example as the model reads it: its feature names (words, pairs, rules)."""

    label: str
    names: frozenset[str]
    rules_first: str  # the rules' first ACLED type, or NONE


def read_examples(path: Path) -> list[tuple[str, str, int]]:
    """(label, text, line) of an examples file: ``text<TAB>label`` lines ('#' comments), or
    a table with a header naming ACLED's ``notes`` and ``sub_event_type`` columns (tab- or
    comma-separated, as ACLED exports it)."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    first = next((x for x in raw.splitlines() if x.strip() and not x.startswith("#")), "")
    delimiter = "\t" if "\t" in first else ","
    header = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter))]
    if all(c in header for c in ACLED_COLUMNS):
        rows = csv.DictReader(io.StringIO(raw), delimiter=delimiter)
        out = []
        for n, row in enumerate(rows, start=2):
            row = {k.strip().lower(): v for k, v in row.items() if k is not None}
            out.append(((row["sub_event_type"] or "").strip(), (row["notes"] or "").strip(), n))
        return out
    out = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        text, sep, label = line.rpartition("\t")
        if not sep or not text.strip() or not label.strip():
            raise ConfigError(f"{path}:{n}: expected 'text<TAB>type' (or an ACLED export)")
        out.append((label.strip(), text.strip(), n))
    return out


def resolve_labels(
    path: Path, rows: Sequence[tuple[str, str, int]], names: Mapping[str, str]
) -> list[Example]:
    """Each row's label as the ACLED name of a type the taxonomy defines: ``names`` maps a
    type's id, label and ACLED name (case-folded) to its ACLED name. ``none`` and ACLED's
    ``Other`` (when the taxonomy has no type of it) read as no type. Rows without text are
    an error, as is any label the taxonomy does not know (all of them listed)."""
    out, unknown, empty = [], Counter[str](), []
    for label, text, line in rows:
        key = label.casefold()
        if not text:
            empty.append(line)
        elif key in names:
            out.append(Example(names[key], text, line))
        elif key in (NONE, OTHER.casefold()):
            out.append(Example(NONE, text, line))
        else:
            unknown[label] += 1
    errors = [f"{path}:{n}: no text" for n in empty[:5]]
    errors += [
        f"{path}: type {label!r} ({count} example{'s' * (count > 1)}) is not in the "
        "taxonomy (use a type's id, label or ACLED name, or 'none')"
        for label, count in sorted(unknown.items())
    ]
    if errors:
        raise ConfigError(f"{path}: {len(errors)} problem(s) in the examples", errors)
    if len({e.label for e in out}) < 2:
        raise ConfigError(f"{path}: the examples need at least two types (or a type and none)")
    return out


def reading(label: str, text: str, fired: Sequence[str], shares: Mapping[str, float]) -> Reading:
    """What the model reads of one text: its n-grams and the rules' reading of it (the text
    read as an article body without a title, as a note or snippet is)."""
    folded = FoldedText("\n" + text, title_end=0)
    names = {f.name for f in features(folded)} | set(rule_features(fired, shares))
    return Reading(label, frozenset(names), fired[0] if fired else NONE)


# ---- the fit ----


@dataclass(frozen=True)
class Design:
    """Examples x features as index arrays (the matrix is sparse and binary)."""

    names: tuple[str, ...]
    rows: tuple[np.ndarray, ...]  # per example, the indices of its features

    @classmethod
    def of(cls, readings: Sequence[Reading], names: Sequence[str] | None = None) -> Design:
        if names is None:
            counts = Counter(n for r in readings for n in r.names)
            names = sorted(n for n, c in counts.items() if c >= MIN_EXAMPLES)
        index = {n: i for i, n in enumerate(names)}
        rows = tuple(
            np.array(sorted(index[n] for n in r.names if n in index), dtype=np.int64)
            for r in readings
        )
        return cls(tuple(names), rows)


class _Sparse:
    """x @ w and x.T @ g of a binary sparse matrix by sorted index arrays and reduceat:
    no randomness and a fixed order of additions, so the same bytes every run."""

    def __init__(self, rows: Sequence[np.ndarray], n_features: int) -> None:
        self.n, self.m = len(rows), n_features
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        self.flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        self.owner = np.repeat(np.arange(self.n), lengths)
        self.row_has = np.flatnonzero(lengths)
        self.row_starts = (np.cumsum(lengths) - lengths)[self.row_has]
        order = np.argsort(self.flat, kind="stable")
        self.by_feature_owner = self.owner[order]
        feats = self.flat[order]
        self.feat_has, self.feat_starts = np.unique(feats, return_index=True)

    def dot(self, w: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, w.shape[1]))
        if len(self.flat):
            out[self.row_has] = np.add.reduceat(w[self.flat], self.row_starts, axis=0)
        return out

    def tdot(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros((self.m, g.shape[1]))
        if len(self.flat):
            out[self.feat_has] = np.add.reduceat(g[self.by_feature_owner], self.feat_starts, axis=0)
        return out

    def top_eigenvalue(self, iterations: int = 30) -> float:
        """Of x.T @ x / n, by power iteration from a fixed start (the step size's bound)."""
        v = np.ones((self.m, 1)) / max(1.0, np.sqrt(self.m))
        value = 1.0
        for _ in range(iterations):
            u = self.tdot(self.dot(v)) / max(1, self.n)
            value = float(np.sqrt((u * u).sum()))  # no BLAS: the same sum everywhere
            if value == 0:
                return 1.0
            v = u / value
        return value


def softmax_fit(
    design: Design, labels: Sequence[str], classes: Sequence[str], *, l2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (L2 on the weights, not the bias) by ``STEPS`` steps
    of Nesterov-accelerated gradient descent from zero."""
    x = _Sparse(design.rows, len(design.names))
    n, k = len(labels), len(classes)
    y = np.zeros((n, k))
    y[np.arange(n), [classes.index(label) for label in labels]] = 1.0
    # the softmax loss's curvature is at most half the features' (+1 for the bias)
    rate = 1.0 / (0.5 * (x.top_eigenvalue() + 1.0) + l2)
    w, b = np.zeros((x.m, k)), np.zeros(k)
    w_prev, b_prev = w, b
    for step in range(1, STEPS + 1):
        momentum = (step - 1) / (step + 2)
        wv, bv = w + momentum * (w - w_prev), b + momentum * (b - b_prev)
        z = x.dot(wv) + bv
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / n
        w_prev, b_prev = w, b
        w = wv - rate * (x.tdot(g) + l2 * wv)
        b = bv - rate * g.sum(axis=0)
    return w, b


@dataclass(frozen=True)
class Fitted:
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    l2: float

    def probabilities(self, names: frozenset[str]) -> dict[str, float]:
        z = list(self.bias)
        for name in names:
            for n, w in enumerate(self.weights.get(name, ())):
                z[n] += w
        peak = max(z)
        exp = [float(np.exp(v - peak)) for v in z]
        total = sum(exp)
        return {c: e / total for c, e in zip(self.classes, exp, strict=True)}


def fit(readings: Sequence[Reading], *, l2: float) -> Fitted:
    """The model for these readings at this penalty, weights rounded (zeros left out)."""
    classes = sorted({r.label for r in readings} | {NONE})
    design = Design.of(readings)
    w, b = softmax_fit(design, [r.label for r in readings], classes, l2=l2)
    weights = {
        name: tuple(round(float(v), DIGITS) + 0.0 for v in w[i])
        for i, name in enumerate(design.names)
        if np.abs(w[i]).max() >= 0.5 * 10**-DIGITS
    }
    return Fitted(tuple(classes), tuple(round(float(v), DIGITS) + 0.0 for v in b), weights, l2)


def decide(fitted: Fitted, r: Reading, allowed: Callable[[str], bool] = lambda _: True) -> str:
    """The first type the decider gives: the model's most likely class among those allowed;
    when that is "none", the rules' first type stands (the model never takes one away)."""
    p = fitted.probabilities(r.names)
    best = max((c for c in fitted.classes if c == NONE or allowed(c)), key=lambda c: (p[c], c))
    return r.rules_first if best == NONE else best


def folds(n: int, k: int = CV_FOLDS, seed: int = CV_SEED) -> list[list[int]]:
    """k near-equal parts of range(n), shuffled by a fixed seed."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return [sorted(order[i::k]) for i in range(k)]


def weighted_f1(gold: Sequence[str], guess: Sequence[str]) -> float:
    """F1 per gold label, weighted by its support."""
    out = 0.0
    for label, support in Counter(gold).items():
        tp = sum(g == label and p == label for g, p in zip(gold, guess, strict=True))
        predicted = sum(p == label for p in guess)
        if tp:
            out += support * 2 * tp / (support + predicted)
    return out / len(gold)


def cv_guesses(readings: Sequence[Reading], l2: float, part: int) -> list[str]:
    """The decider's first type for the examples of CV part ``part`` (of ``folds``), by
    the model fitted on the other parts at ``l2``."""
    held = folds(len(readings))[part]
    skip = set(held)
    model = fit([r for i, r in enumerate(readings) if i not in skip], l2=l2)
    return [decide(model, readings[i]) for i in held]


def best_l2(
    readings: Sequence[Reading], guesses: Mapping[tuple[float, int], Sequence[str]]
) -> tuple[float, dict[float, float]]:
    """The penalty whose CV guesses (per (l2, part)) score the best weighted F1 (ties go to
    the stronger penalty), and each penalty's F1."""
    parts = folds(len(readings))
    best, best_f1, scores = -1.0, -1.0, {}
    for l2 in sorted({k[0] for k in guesses}, reverse=True):
        gold = [readings[i].label for part in parts for i in part]
        guess = [g for n in range(len(parts)) for g in guesses[(l2, n)]]
        f1 = scores[l2] = weighted_f1(gold, guess)
        if f1 > best_f1:
            best, best_f1 = l2, f1
    return best, scores


def choose_l2(
    readings: Sequence[Reading], grid: Sequence[float] = L2_GRID
) -> tuple[float, dict[float, float]]:
    """The penalty with the best cross-validated weighted F1 of the decider's first type
    (ties go to the stronger penalty), and each candidate's F1; a single candidate is taken
    as it is (no CV)."""
    if len(grid) == 1 or len(readings) < 2 * CV_FOLDS:
        return max(grid), {}
    guesses = {(l2, n): cv_guesses(readings, l2, n) for l2 in grid for n in range(CV_FOLDS)}
    return best_l2(readings, guesses)


def read_with_rules(classifier: Classifier, label: str, text: str) -> Reading:
    """One example as the model reads it, with the rules of ``classifier`` (no learned
    part: the rules alone) read as at run time."""
    folded = classifier.fold("", text)
    fired = classifier.classify(title="", text=text).acled_sub_event_types
    return reading(label, text, fired, acled_shares(classifier.scores(folded)))


def model_bytes(
    fitted: Fitted, *, trained_on: str, taxonomy: Sequence[str], cv: Mapping[str, object]
) -> bytes:
    """The model file: JSON, one feature a line; its version names the content's hash."""
    head: dict[str, object] = {
        "format": USER_FORMAT,
        "kind": "user",
        "trained_on": trained_on,
        "taxonomy": sorted(taxonomy),
        "l2": fitted.l2,
        "steps": STEPS,
        "cv": dict(cv),
        "classes": list(fitted.classes),
        "bias": list(fitted.bias),
    }
    lines = [
        f"{json.dumps(k)}:{json.dumps(list(v), separators=(',', ':'))}"
        for k, v in sorted(fitted.weights.items())
    ]
    body = ",\n".join(lines)
    digest = hashlib.sha256((json.dumps(head, sort_keys=True) + body).encode()).hexdigest()
    head["version"] = f"user-{digest[:12]}"
    text = json.dumps(head, sort_keys=True, separators=(",", ":"))
    return (text[:-1] + ',"weights":{\n' + body + "\n}}\n").encode()
