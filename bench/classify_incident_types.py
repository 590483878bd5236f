"""Weighted F1 of the shipped taxonomy on CASE 2021 task 2 dev snippets (ACLED sub-event types).

Scored as data/incident-types/README.md says: each snippet is an article with an empty title;
its predicted label is the first ACLED type of the classification, or "none".
Run: .venv/bin/python -m bench.classify_incident_types
"""

from __future__ import annotations

import csv
from collections import Counter

from bench._report import SHARED, update_section
from monitor.classify.classifier import Classifier
from monitor.classify.watchlist import load_watchlists
from monitor.resources import shipped_config_dir

DATA = SHARED / "data" / "incident-types"
NONE_LABELS = {"ORG_CRIME", "NATURAL_DISASTER", "MAN_MADE_DISASTER", "DIPLO", "ATTRIB"}


def label_map() -> dict[str, str]:
    """CASE label -> ACLED name, read from the data set's README table."""
    out = {}
    for line in (DATA / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].isupper() and not cells[1].startswith("none"):
            out[cells[0]] = cells[1]
    return out


def weighted_f1(gold: list[str], pred: list[str]) -> tuple[float, dict[str, float]]:
    support = Counter(gold)
    per_label = {}
    for label in support:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == p == label)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if p == label and g != label)
        fn = support[label] - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per_label[label] = 2 * precision * recall / (precision + recall) if tp else 0.0
    total = sum(support.values())
    return sum(per_label[lab] * n / total for lab, n in support.items()), per_label


def evaluate() -> tuple[float, dict[str, float], int, list[tuple[str, str, str]]]:
    names = label_map()
    watchlist = load_watchlists([shipped_config_dir() / "taxonomy.yaml"])
    classifier = Classifier(watchlist)
    gold, pred, misses = [], [], []
    with (DATA / "case2021-task2-dev.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            truth = "none" if row["SubType"] in NONE_LABELS else names[row["SubType"]]
            acled = classifier.classify(title="", text=row["EventSnippet"]).acled_sub_event_types
            guess = acled[0] if acled else "none"
            gold.append(truth)
            pred.append(guess)
            if guess != truth:
                misses.append((truth, guess, row["EventSnippet"][:90]))
    f1, per_label = weighted_f1(gold, pred)
    return f1, per_label, len(gold), misses


def main() -> None:
    f1, per_label, n, misses = evaluate()
    rows = "\n".join(f"| {lab} | {score:.2f} |" for lab, score in sorted(per_label.items()))
    markdown = (
        "## Incident types (CASE 2021 task 2 dev, ACLED sub-event types)\n\n"
        f"Shipped `config/taxonomy.yaml`, {n} snippets, each an article with an empty title; "
        'prediction = first ACLED type, else "none" (5 CASE labels map to none).\n'
        "Run through `Classifier` directly (`monitor replay` needs the dedup stage).\n\n"
        f"**Weighted F1: {f1:.3f}** (accuracy {1 - len(misses) / n:.3f}). "
        "Best published system on the test set: about 0.84 (a trained model).\n\n"
        "| label | F1 |\n|---|---|\n" + rows
    )
    update_section("incident-types", markdown, command="python -m bench.classify_incident_types")


if __name__ == "__main__":
    main()
