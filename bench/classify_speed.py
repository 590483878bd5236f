"""Classification time per article with 10 vs 10,000 entity aliases (fuzzy matching on).

Aliases are realistic: unit, militia, base and person names built from words that also
occur in the articles ("Iraqi", "Brigade", "Baghdad", "base"), so matching cannot skip them.
Run: .venv/bin/python -m bench.classify_speed
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

from bench._report import SHARED, load_note, sample, sized, update_section
from monitor.classify.classifier import Classifier
from monitor.classify.learned import learned_typing
from monitor.classify.settings import LearnedSettings
from monitor.classify.watchlist import Alias, Entity, Watchlist, load_watchlists
from monitor.resources import shipped_config_dir
from monitor.units import counted

PLACES = ["Baghdad", "Basra", "Kirkuk", "Mosul", "Anbar", "Taji", "Erbil", "Diyala", "Najaf",
          "Karbala", "Deir ez-Zor", "Raqqa", "Hasakah", "Aleppo", "Homs", "Idlib", "Tikrit",
          "Samarra"]  # fmt: skip
UNITS = ["Brigade", "Battalion", "Division", "Regiment", "Police Battalion", "Air Base", "Camp",
         "Militia", "Hezbollah Brigades", "Forces", "Guards", "Command"]  # fmt: skip
FIRST = ["Abu", "Qassem", "Hadi", "Ali", "Hassan", "Mahdi", "Jamal", "Kadhim", "Faleh", "Hamid"]
LAST = ["al-Amiri", "al-Khazali", "al-Muhandis", "al-Fayyadh", "al-Kaabi", "al-Sadr", "Jaafar",
        "al-Maliki", "al-Hakim", "al-Sudani"]  # fmt: skip
ORDINALS = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th", "11th",
            "12th", "14th", "15th", "16th", "17th", "18th", "20th", "21st", "22nd", "30th", "35th",
            "40th"]  # fmt: skip


def aliases(n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    pool = [f"{o} {u} of {p}" for o, u, p in itertools.product(ORDINALS, UNITS, PLACES)]
    pool += [f"{p} {u}" for p, u in itertools.product(PLACES, UNITS)]
    pool += [f"{f} {m} {last}" for f, m, last in itertools.product(FIRST, FIRST, LAST)]
    rng.shuffle(pool)
    return pool[:n]


def watchlist(n: int) -> Watchlist:
    base = load_watchlists([shipped_config_dir() / "taxonomy.yaml"])
    entities = tuple(
        Entity(f"e{i}", "armed_group", a, (Alias(a, False),), None, True, "bench")
        for i, a in enumerate(aliases(n))
    )
    return Watchlist(incident_types=base.incident_types, entities=entities, scoring=base.scoring)


def articles() -> list[tuple[str, str]]:
    seeds = SHARED / "seeds"
    out = []
    for path in sorted(Path(seeds).glob("*.txt")) if seeds.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        out.append((text.splitlines()[0][:160], text))
    if not out:  # a clone without ../shared: our own synthetic article
        body = " ".join(
            f"Rockets hit the {a} near Baghdad, officials said." for a in aliases(40, 9)
        )
        out.append(("Rocket attack near Baghdad", body))
    return out


def per_article(classifier: Classifier, docs: list[tuple[str, str]], rounds: int = 30) -> float:
    for title, text in docs:  # warm caches
        classifier.classify(title=title, text=text)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            for title, text in docs:
                classifier.classify(title=title, text=text)
        best = min(best, (time.perf_counter() - start) / (rounds * len(docs)))
    return best


BIG = sized(10_000, 300)  # aliases in the big watchlist
ROUNDS = sized(30, 1)


def main() -> None:
    docs = list(sample(articles(), 2))
    rows, times = [], {}
    # as the service runs it: the learned parts (no-type fill, chooser) on, shipped settings;
    # their models are read once, not part of a watchlist's compile time
    learned = learned_typing(LearnedSettings())
    for n in (10, BIG):
        t0 = time.perf_counter()
        classifier = Classifier(watchlist(n), fuzzy=True, learned=learned)
        compile_s = time.perf_counter() - t0
        times[n] = per_article(classifier, docs, ROUNDS)
        rows.append(f"| {n:,} | {times[n] * 1000:.2f} ms | {compile_s:.2f} s |")
    ratio = times[BIG] / times[10]
    chars = sum(len(t) + len(x) for t, x in docs) // len(docs)
    markdown = (
        "## Classification speed vs watchlist size\n\n"
        f"Shipped taxonomy + N entity aliases (unit, base and person names sharing words with "
        f"the text), fuzzy matching on, the learned parts on (the no-type fill and the chooser "
        f"between confusable types, shipped settings); {counted(len(docs), 'article')} of "
        f"~{chars:,} characters; "
        "best of 5 runs.\n\n"
        "| aliases | time per article | compile |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"**Ratio 10,000 / 10 aliases: {ratio:.2f}** (target < 2). {load_note()}"
    )
    update_section("classify-speed", markdown, command="python -m bench.classify_speed")


if __name__ == "__main__":
    main()
