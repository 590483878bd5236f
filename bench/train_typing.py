"""Fit the learned part of incident typing on the project's own example sentences.

    .venv/bin/python -m bench.train_typing          # writes monitor/classify/model/*.json
    .venv/bin/python -m bench.train_typing --check  # exit 1 unless it rewrites the same bytes

Two models: ``types-v1`` (the no-type fill) on ``bench/data/incident-examples.tsv``, and
``chooser-v1`` (the chooser between confusable candidates) on that file plus
``bench/data/incident-examples-confusable.tsv``: sentences the project wrote from ACLED's
public codebook definitions in its own words. ACLED and CASE data are never read here:
they measure the models (``bench/incident_typing_cv.py``), they do not train them.

The fit: a multinomial logistic regression over the binary n-gram features of
``monitor.classify.learned.features``, L2-penalised, by full-batch gradient descent from
zero in float64 for a fixed number of steps: no randomness, no time stamp, weights rounded
to ``DIGITS`` decimals, so `make train` rewrites the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from monitor.classify.learned import (
    CHOOSER_MODEL,
    NONE,
    SHIPPED_MODEL,
    features,
    iter_examples,
)
from monitor.classify.normalize import FoldedText

EXAMPLES = Path(__file__).parent / "data" / "incident-examples.tsv"
CONFUSABLE = Path(__file__).parent / "data" / "incident-examples-confusable.tsv"
VERSION = "types-v1"
# each shipped model: its version and the example files it is fitted on
MODELS: dict[Path, tuple[str, tuple[Path, ...]]] = {
    SHIPPED_MODEL: (VERSION, (EXAMPLES,)),
    CHOOSER_MODEL: ("chooser-v1", (EXAMPLES, CONFUSABLE)),
}
L2 = 0.003  # against the mean log-loss; the CV bench compares others (--l2)
STEPS = 400
RATE = 2.0
DIGITS = 3
MIN_EXAMPLES = 2


def softmax_fit(
    x: np.ndarray,
    labels: Sequence[str],
    classes: Sequence[str],
    *,
    l2: float,
    steps: int,
    rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression from zero by ``steps`` full-batch gradient steps
    (no randomness: the same inputs give the same bytes)."""
    y = np.zeros((len(labels), len(classes)))
    y[np.arange(len(labels)), [classes.index(label) for label in labels]] = 1.0
    w = np.zeros((x.shape[1], len(classes)))
    b = np.zeros(len(classes))
    n = len(labels)
    for _ in range(steps):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - y) / n
        w -= rate * (x.T @ g + l2 * w)
        b -= rate * g.sum(axis=0)
    return w, b


def design(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The feature names (sorted) and the binary example x feature matrix; a feature seen
    in fewer than ``MIN_EXAMPLES`` examples is left out (it would learn one sentence)."""
    rows = [{f.name for f in features(FoldedText("\n" + t, title_end=0))} for t in texts]
    counts = Counter(name for row in rows for name in row)
    names = sorted(name for name, n in counts.items() if n >= MIN_EXAMPLES)
    index = {n: i for i, n in enumerate(names)}
    x = np.zeros((len(texts), len(names)))
    for r, row in enumerate(rows):
        x[r, [index[n] for n in row if n in index]] = 1.0
    return names, x


def fit(
    examples: Sequence[tuple[str, str]],
    *,
    l2: float = L2,
    version: str = VERSION,
    paths: Sequence[Path] = (EXAMPLES,),
) -> dict[str, object]:
    """The model file's content for these (label, text) examples (read from ``paths``)."""
    labels = [label for label, _ in examples]
    classes = sorted(set(labels))
    if NONE not in classes:
        raise ValueError(f"the examples need a {NONE!r} class")
    names, x = design([text for _, text in examples])
    w, b = softmax_fit(x, labels, classes, l2=l2, steps=STEPS, rate=RATE)
    weights = {
        name: [round(float(v), DIGITS) + 0.0 for v in w[i]]
        for i, name in enumerate(names)
        if np.abs(w[i]).max() >= 0.5 * 10**-DIGITS
    }
    return {
        "format": 1,
        "version": version,
        "trained_on": " + ".join(f"{p.name} sha256 {_sha256(p)}" for p in paths)
        + f" ({len(examples)} examples)",
        "l2": l2,
        "steps": STEPS,
        "classes": classes,
        "bias": [round(float(v), DIGITS) + 0.0 for v in b],
        "weights": weights,
    }


def model_bytes(
    l2: float = L2, paths: Sequence[Path] = (EXAMPLES,), version: str = VERSION
) -> bytes:
    examples = [e for path in paths for e in iter_examples(path)]
    data = fit(examples, l2=l2, version=version, paths=paths)
    # one feature a line: a refit shows as a readable diff
    weights = data.pop("weights")
    assert isinstance(weights, dict)
    head = json.dumps(data, sort_keys=True, separators=(",", ":"))
    lines = [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in weights.items()]
    return (head[:-1] + ',"weights":{\n' + ",\n".join(lines) + "\n}}\n").encode()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    differs = 0
    for out, (version, paths) in MODELS.items():
        raw = model_bytes(paths=paths, version=version)
        if args.check:
            same = out.exists() and out.read_bytes() == raw
            differs += not same
            print(f"{out}: {'reproduced' if same else 'DIFFERS from a fresh fit'}")
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(raw)
        print(f"wrote {out} ({len(raw):,} bytes)")
    sys.exit(1 if differs else 0)


if __name__ == "__main__":
    main()
