"""Error analysis of story grouping: which reports were split from their event's story,
which joined another event's story, and what decided (the grouper's ``story_reason``).

    .venv/bin/python -m bench.dedup_errors                 # ECB+ topics 1-22, shipped settings
    .venv/bin/python -m bench.dedup_errors uci --cache /tmp/readings.pkl
    .venv/bin/python -m bench.dedup_errors ecbplus --model path/to/combiner.json
    .venv/bin/python -m bench.dedup_errors ecbplus --plain 0.25,0.3,0.35

The stream is replayed by the dedup stage with the classifications and embeddings
`monitor replay` would read (bench/train_dedup.py). Each report is judged by what existed
when it arrived: the first of its event, a join of its event's largest story, a join of
a fragment of it, a *split* (a new story although its event had one), or a *cross* (a
story most of whose reports are of another event; *first* when that story held none of
its event yet: the join that mixes two events). A diagnostic, not a benchmark: it writes
nothing to BENCHMARKS.md. Run on a model fitted on all the data it is in-sample.

--plain: instead, the data README's baseline, an online TF-IDF centroid clusterer (our
term vectors and document frequencies, cosine to each story's centroid, nothing else) at
each given threshold. Choosing the threshold by its result is in-sample.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import _dedup, train_dedup
from bench._report import missing
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.index import DocumentFrequencies
from monitor.dedup.settings import CombinerSettings
from monitor.dedup.text import clean_title, sentences, term_frequencies


def why_split(reason: str) -> str:
    """What kept a report out of its event's story, read from its story_reason."""
    if "no candidate" in reason:
        return "no candidate found"
    if "kept apart" in reason or "vetoed" in reason:
        return "place veto"
    if any(c in reason for c in ("other days", "other means", "other target")):
        return "contradiction (text < conflict_threshold)"
    return "scored below the join rule"


def why_joined(reason: str) -> str:
    return "near-copy" if reason.startswith("near-copy") else "score/model"


def judge(
    lines: Sequence[dict[str, Any]], gold: dict[str, Any], out: dict[str, dict[str, Any]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, detail, line) per scored report, in stream order."""
    members: dict[Any, list[str]] = defaultdict(list)  # story -> reports so far
    of_event: dict[Any, Counter[Any]] = defaultdict(Counter)  # event -> stories so far
    judged = []
    for line in lines:
        key = line["id"]
        if gold.get(key) is None:
            continue
        event, story, reason = gold[key], out[key]["story_id"], out[key].get("story_reason", "")
        before = Counter(gold[m] for m in members[story])
        if not before:
            kind = "split" if of_event[event] else "first of its event"
            detail = why_split(reason) if kind == "split" else ""
        elif before.most_common(1)[0][0] != event:
            kind = "cross"
            detail = ("first, " if not before[event] else "") + why_joined(reason)
        else:
            largest = of_event[event].most_common(1)[0][0]
            kind = "joined its story" if largest == story else "joined a fragment"
            detail = ""
        judged.append((kind, detail, line))
        members[story].append(key)
        of_event[event][story] += 1
    return judged


def plain_centroids(lines: Sequence[dict[str, Any]], threshold: float) -> dict[str, int]:
    """Story number per report: the closest centroid at or above ``threshold``, else new."""
    df = DocumentFrequencies()
    centroids: list[dict[str, float]] = []  # sums of the members' unit tf-idf vectors
    made = {}
    for line in lines:
        terms = term_frequencies(clean_title(line["title"]), " ".join(sentences(line["text"])))
        df.learn(terms)
        mine = _unit(df.weigh(terms))
        scores = [sum(w * c.get(t, 0.0) for t, w in mine.items()) for c in map(_unit, centroids)]
        best = max(range(len(scores)), key=scores.__getitem__, default=None)
        if best is None or scores[best] < threshold:
            best = len(centroids)
            centroids.append({})
        for t, w in mine.items():
            centroids[best][t] = centroids[best].get(t, 0.0) + w
        made[line["id"]] = best
    return made


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = sum(w * w for w in vector.values()) ** 0.5 or 1.0
    return {t: w / norm for t, w in vector.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", default="ecbplus", choices=("ecbplus", "uci", "semeval"))
    parser.add_argument("--model", type=Path, help="a combiner model file (default: the rules)")
    parser.add_argument("--cache", type=Path, help="classifications and embeddings kept here")
    parser.add_argument("--plain", help="thresholds of the plain TF-IDF centroid baseline")
    args = parser.parse_args(argv)
    if missing(_dedup.SEMEVAL, _dedup.UCI, _dedup.ECBPLUS):
        return
    if args.plain:
        stream = next(s for s in train_dedup.streams() if s.name == args.data)
        gold = {k: str(v) for k, v in stream.gold.items() if v is not None}
        for threshold in map(float, args.plain.split(",")):
            made = plain_centroids(stream.lines, threshold)
            p, r, f1 = _dedup.bcubed(gold, made)
            print(f"plain centroid at {threshold}: B-cubed P {p:.3f} R {r:.3f} F1 {f1:.3f}")
        return
    settings = train_dedup.replay_settings()
    if args.model:
        # the model judges every item here (the shipped default: headline-only items alone)
        combiner = CombinerSettings(enabled=True, model=str(args.model), scope="all")
        settings = settings.model_copy(update={"combiner": combiner})
    data = train_dedup.streams()
    readings = train_dedup.read_articles(data, settings, args.cache)
    stream = next(s for s in data if s.name == args.data)
    clusterer = StoryClusterer(
        settings, encoder=train_dedup.RecordingEncoder(known=readings.embeddings)
    )
    out = _dedup.run_direct(
        stream.lines, clusterer=clusterer, classification_of=readings.classifications.__getitem__
    )
    gold = {k: v for k, v in stream.gold.items() if v is not None}
    judged = judge(stream.lines, gold, out)
    for kind, detail, line in judged:
        if kind in ("split", "cross"):
            story = out[line["id"]]["story_id"]
            print(f"{kind} ({detail}): {line['id']} event {gold[line['id']]} -> story {story}")
            print(f"    {line['title'][:100]!r}\n    {out[line['id']].get('story_reason', '')}")
    made = {k: out[k]["story_id"] for k in gold}
    p, r, f1 = _dedup.bcubed({k: str(v) for k, v in gold.items()}, made)
    print(f"\n{len(gold)} reports, {len(set(made.values()))} stories")
    print(f"B-cubed P {p:.3f} R {r:.3f} F1 {f1:.3f}")
    for (kind, detail), n in sorted(Counter((k, d) for k, d, _ in judged).items()):
        print(f"  {n:5d}  {kind}{f' ({detail})' if detail else ''}")


if __name__ == "__main__":
    main()
