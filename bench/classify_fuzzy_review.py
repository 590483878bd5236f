"""Fuzzy-only entity matches over every text of data/story-dedup/, listed for review.

A fuzzy-only match is an entity found only through an unlisted spelling.
Run: .venv/bin/python -m bench.classify_fuzzy_review
"""

from __future__ import annotations

import json
from collections import Counter

from bench._report import SHARED, missing, sample, update_section
from monitor.classify.classifier import Classifier
from monitor.classify.watchlist import load_watchlists
from monitor.resources import shipped_config_dir
from monitor.units import counted

DATA = SHARED / "data" / "story-dedup"


def texts() -> list[str]:
    out = []
    for line in (DATA / "semeval2022-task8-train-en-pairs.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        out += [v for k, v in row.items() if k.startswith("text") and isinstance(v, str)]
    for line in (DATA / "uci-news-aggregator-2014-03-10.jsonl").open(encoding="utf-8"):
        out.append(json.loads(line)["title"])
    return out


def main() -> None:
    if missing(DATA / "semeval2022-task8-train-en-pairs.jsonl",
               DATA / "uci-news-aggregator-2014-03-10.jsonl"):  # fmt: skip
        return
    classifier = Classifier(
        load_watchlists([shipped_config_dir() / "watchlists" / "iraq-syria.yaml"])
    )
    found: Counter[tuple[str, str]] = Counter()
    all_texts = list(sample(texts(), 40))
    for text in all_texts:
        for entity in classifier.classify(title="", text=text).entities:
            if all(m.fuzzy for m in entity.mentions):
                for m in entity.mentions:
                    found[(m.text, entity.name)] += 1
    rows = "\n".join(f"| {t} | {name} | {n} |" for (t, name), n in found.most_common())
    markdown = (
        "## Fuzzy-only entity matches (review)\n\n"
        f"Shipped `iraq-syria.yaml` over {len(all_texts):,} texts of `data/story-dedup/`: "
        f"**{counted(sum(found.values()), 'fuzzy-only mention')}, {len(found)} distinct**.\n\n"
        "| text | matched entity | mentions |\n|---|---|---|\n" + (rows or "| - | - | 0 |")
    )
    update_section("classify-fuzzy", markdown, command="python -m bench.classify_fuzzy_review")


if __name__ == "__main__":
    main()
