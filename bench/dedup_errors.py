"""Error analysis of story grouping: which reports were split from their event's story,
which joined another event's story, and what decided (the grouper's ``story_reason``).

    .venv/bin/python -m bench.dedup_errors                 # ECB+ topics 1-22, shipped settings
    .venv/bin/python -m bench.dedup_errors uci --cache /tmp/readings.pkl
    .venv/bin/python -m bench.dedup_errors ecbplus --model path/to/combiner.json
    .venv/bin/python -m bench.dedup_errors ecbplus --plain 0.25,0.3,0.35
    .venv/bin/python -m bench.dedup_errors ecbplus --ceiling
    .venv/bin/python -m bench.dedup_errors ecbplus --figures-conflict 0.4,0.5
    .venv/bin/python -m bench.dedup_errors ecbplus --decompose
    .venv/bin/python -m bench.dedup_errors --days-bar 0.4

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

--ceiling: what the grouper would reach if one cause of error were removed, the rest as
shipped: (a) *twin stop*, an oracle told the gold events that refuses any join into a story
holding none of the article's event (perfect same-kind twin separation at first contact);
(b) *no days veto*, the rules without the "other days" contradiction (on ECB+ relative day
words are read against the replay's synthetic publication times); (c) both. Ceilings, not
results: (a) reads the gold labels.

--figures-conflict X: a probe of one twin lever, the lede figures (figures.py) as a rules
contradiction for full reports: a story whose ledes give figures, none of them the
article's, is joined only when the texts' cosine is at least X (other contradictions: 0.6).
With --cv, each fold of dedup-rules-cv (grouped by SemEval pair and ECB+ topic, seed 13)
chooses X or off on its training articles (the mean of SemEval same-story F1 and ECB+
B-cubed F1; ties go to off), and the held-out articles are scored with its choice.

--decompose: where the gap to the plain centroid comes from: the grouper replayed on ECB+
and SemEval with the "other days" veto on or off, `title_weight` as shipped or 0 (the
headline cosine added to the text cosine), at several join thresholds. Every row is
in-sample (a diagnosis, not a choice: dedup-rules-cv chooses out of fold).

--days-bar X: ECB+, UCI and SemEval through `monitor replay` (as bench.dedup_ecbplus,
bench.dedup_uci and bench.dedup_semeval run them) with `dedup.days_conflict_threshold: X`
(the text cosine that outweighs "other days"); prints their figures, writes nothing.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import _dedup, dedup_rules_cv, train_dedup
from bench._report import missing
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.combiner import StoryScorer, Verdict, scorer_for
from monitor.dedup.features import ArticleFeatures
from monitor.dedup.index import DocumentFrequencies
from monitor.dedup.profile import StoryProfile, Weighed
from monitor.dedup.rules import OTHER_DAYS, joins, named_apart, score
from monitor.dedup.settings import CombinerSettings, DedupSettings
from monitor.dedup.text import clean_title, sentences, term_frequencies
from monitor.types import StoryAssignment

OTHER_FIGURES = "other figures"


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


def by_topic(
    judged: Sequence[tuple[str, str, dict[str, Any]]], gold: dict[str, Any], out: dict[str, Any]
) -> list[tuple[str, int, int, int, int]]:
    """(topic, reports, stories made, joins that mixed two events first, splits) per topic,
    the topic being the gold label's part before its first "-" (ECB+: "5-ecbplus")."""
    rows: dict[str, list[Any]] = {}
    for kind, detail, line in judged:
        topic = str(gold[line["id"]]).split("-")[0]
        row = rows.setdefault(topic, [0, set(), 0, 0])
        row[0] += 1
        row[1].add(out[line["id"]]["story_id"])
        row[2] += kind == "cross" and detail.startswith("first")
        row[3] += kind == "split"
    order = sorted(rows, key=lambda t: (len(t), t))  # "2" before "10"
    return [(t, rows[t][0], len(rows[t][1]), rows[t][2], rows[t][3]) for t in order]


def twin_stopped(story_events: set[Any], event: Any) -> bool:
    """The oracle's refusal: the story holds reports, none of them of ``event``."""
    return bool(story_events) and event not in story_events


class ToldScorer(StoryScorer):
    """The shipped scorer with one cause of error taken away (a diagnostic, never shipped):
    ``twin_stop`` refuses joins into a story holding none of the article's gold event;
    ``days=False`` lets the rules ignore the "other days" contradiction; ``figures_bar``
    adds lede figures apart as a rules contradiction, outweighed at that text cosine."""

    def __init__(
        self,
        settings: DedupSettings,
        *,
        twin_stop: bool = False,
        days: bool = True,
        figures_bar: float | None = None,
    ) -> None:
        super().__init__(settings, scorer_for(settings).model)
        self.twin_stop, self.days, self.figures_bar = twin_stop, days, figures_bar
        self.current: Any = None  # the gold event of the article being assigned
        self.events: defaultdict[int, set[Any]] = defaultdict(set)  # story -> gold events

    def judge(
        self, article: ArticleFeatures, story: StoryProfile, vectors: tuple[Weighed, Weighed]
    ) -> Verdict:
        verdict = self._rules(article, story, vectors)
        if verdict is None:
            verdict = super().judge(article, story, vectors)
        if self.twin_stop and verdict.joins and twin_stopped(self.events[story.id], self.current):
            return replace(verdict, joins=False, reason=verdict.reason + " twin-stopped")
        return verdict

    def _rules(
        self, article: ArticleFeatures, story: StoryProfile, vectors: tuple[Weighed, Weighed]
    ) -> Verdict | None:
        """The rules' verdict as changed by ``days`` and ``figures_bar``; None: unchanged."""
        if article.short or (self.days and self.figures_bar is None):
            return None
        result = score(article, story, vectors, self.settings)
        kept = tuple(c for c in result.contradictions if self.days or c != OTHER_DAYS)
        result = replace(result, contradictions=kept)
        apart = self.figures_bar is not None and named_apart(article.figures, story.figures)
        if apart and self.figures_bar is not None and result.text < self.figures_bar:
            return Verdict(result.total, False, f"{result.reason} {OTHER_FIGURES}")
        return Verdict(result.total, joins(result, self.settings), result.reason)


class ToldClusterer(StoryClusterer):
    """Tells its ``ToldScorer`` each article's gold event and where the article went."""

    def __init__(self, settings: DedupSettings, *, encoder: Any, scorer: ToldScorer, gold: Any):
        super().__init__(settings, encoder=encoder)
        self.scorer: ToldScorer = scorer
        self.gold = gold

    def assign(self, **kwargs: Any) -> StoryAssignment:
        self.scorer.current = self.gold.get(kwargs["article"].key)
        assigned = super().assign(**kwargs)
        self.scorer.events[assigned.story_id].add(self.scorer.current)
        return assigned


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
    parser.add_argument("--ceiling", action="store_true", help="B-cubed with a cause removed")
    parser.add_argument("--figures-conflict", help="text cosines that outweigh lede figures apart")
    parser.add_argument("--cv", action="store_true", help="--figures-conflict chosen per fold")
    parser.add_argument("--decompose", action="store_true", help="days veto x title weight")
    parser.add_argument("--days-bar", type=float, help="replay the three sets with this days bar")
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
    if args.days_bar is not None:
        replay_with_days_bar(args.days_bar)
        return
    settings = train_dedup.replay_settings()
    if args.model:
        # the model judges every item here (the shipped default: headline-only items alone)
        combiner = CombinerSettings(enabled=True, model=str(args.model), scope="all")
        settings = settings.model_copy(update={"combiner": combiner})
    data = train_dedup.streams()
    readings = train_dedup.read_articles(data, settings, args.cache)
    stream = next(s for s in data if s.name == args.data)
    if args.decompose:
        decompose([s for s in data if s.name != "uci"], readings, settings)
        return
    if args.figures_conflict and args.cv:
        bars = [None, *map(float, args.figures_conflict.split(","))]
        cross_validate_bars([s for s in data if s.name != "uci"], readings, settings, bars)
        return
    if args.ceiling or args.figures_conflict:
        variants = (
            [(f"lede figures apart unless text >= {x}", ToldScorer(settings, figures_bar=float(x)))
             for x in args.figures_conflict.split(",")]
            if args.figures_conflict
            else [
                ("as shipped", ToldScorer(settings)),
                ("twin stop (oracle)", ToldScorer(settings, twin_stop=True)),
                ("no days veto", ToldScorer(settings, days=False)),
                ("twin stop + no days veto", ToldScorer(settings, twin_stop=True, days=False)),
            ]
        )  # fmt: skip
        for name, scorer in variants:
            _report(name, *_replay(stream, readings, settings, scorer), verbose=False)
        return
    _report("as set", *_replay(stream, readings, settings, None), verbose=True)


def cross_validate_bars(
    data: Sequence[train_dedup.Stream],
    readings: train_dedup.Readings,
    settings: DedupSettings,
    bars: Sequence[float | None],
) -> None:
    """Out-of-fold figures of the figures probe, its bar (None: off) chosen per fold."""
    made = {
        bar: {s.name: _stories(*_replay(s, readings, settings, _figures(settings, bar)))
              for s in data}
        for bar in bars
    }  # fmt: skip
    fold = {g: f for s in data for g, f in train_dedup.folds_of(s.group.values()).items()}
    chosen = {}
    for k in range(train_dedup.FOLDS):
        ranked = []
        for n, bar in enumerate(bars):
            training = [
                train_dedup.measure(s, made[bar][s.name], {i for i, g in s.group.items()
                                                           if fold[g] != k})
                for s in data
            ]  # fmt: skip
            ranked.append((-dedup_rules_cv.objective(training), n))
        score, n = min(ranked)
        chosen[k] = bars[n]
        print(f"fold {k + 1} chose {bars[n] or 'off'} (training objective {-score:.3f})")
    for s in data:
        pooled, per_fold = {}, []
        for k, bar in chosen.items():
            held = {i for i, g in s.group.items() if fold[g] == k}
            pooled.update({i: (k, made[bar][s.name][i]) for i in held})
            if held:
                per_fold.append(train_dedup.measure(s, made[bar][s.name], held))
        figures = train_dedup.Figures(train_dedup.measure(s, pooled, set(s.group)), per_fold)
        print(train_dedup.table_row(s.name, "figures bar chosen per fold, out-of-fold", figures))


def replay_with_days_bar(bar: float) -> None:
    """The three development sets through `monitor replay` with ``bar`` as the days bar."""
    from bench.dedup_semeval import count  # the bench's own scoring of SemEval pairs

    changed = {"days_conflict_threshold": bar}
    for name, inputs in (("ecbplus", _dedup.ecbplus_inputs), ("uci", _dedup.uci_inputs)):
        lines, gold = inputs()
        out = _dedup.run_replay(lines, dedup=changed)
        made = {i: out[i]["story_id"] for i in gold}
        pw, b3 = _dedup.pairwise(gold, made), _dedup.bcubed(gold, made)
        print(
            f"{name} (days bar {bar}): {len(set(made.values()))} stories, "
            f"pairwise P {pw[0]:.3f} / R {pw[1]:.3f} / F1 {pw[2]:.3f}, "
            f"B-cubed P {b3[0]:.3f} / R {b3[1]:.3f} / F1 {b3[2]:.3f}",
            flush=True,
        )
    lines, pairs = _dedup.semeval_inputs()
    tp, fp, fn, tn = count(_dedup.run_replay(lines, dedup=changed), pairs)
    print(f"semeval (days bar {bar}): TP {tp} / FP {fp} / FN {fn} / TN {tn}")


DECOMPOSE_JOINS = (0.26, 0.30, 0.34)


def decompose(
    data: Sequence[train_dedup.Stream], readings: train_dedup.Readings, settings: DedupSettings
) -> None:
    """In-sample figures with the days veto on/off and the headline weight as set / 0."""
    print("join  days veto  title weight  " + "  ".join(f"{s.name} P / R / F1" for s in data))
    for join in DECOMPOSE_JOINS:
        for days in (True, False):
            for title in (settings.title_weight, 0.0):
                tuned = settings.model_copy(update={"join_threshold": join, "title_weight": title})
                row = []
                for s in data:
                    made = _stories(*_replay(s, readings, tuned, ToldScorer(tuned, days=days)))
                    m = train_dedup.measure(s, made, set(s.group))
                    row.append(f"{m['P']:.3f} / {m['R']:.3f} / {m['F1']:.3f}")
                said = "on" if days else "off"
                print(f"{join:.2f}  {said:9s}  {title:12.2f}  " + "  ".join(row), flush=True)


def _figures(settings: DedupSettings, bar: float | None) -> ToldScorer:
    return ToldScorer(settings, figures_bar=bar)


def _stories(
    _stream: train_dedup.Stream, _gold: dict[str, Any], out: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {k: o["story_id"] for k, o in out.items()}


def _replay(
    stream: train_dedup.Stream,
    readings: train_dedup.Readings,
    settings: DedupSettings,
    scorer: ToldScorer | None,
) -> tuple[train_dedup.Stream, dict[str, Any], dict[str, dict[str, Any]]]:
    encoder = train_dedup.RecordingEncoder(known=readings.embeddings)
    gold = {k: v for k, v in stream.gold.items() if v is not None}
    clusterer = (
        StoryClusterer(settings, encoder=encoder)
        if scorer is None
        else ToldClusterer(settings, encoder=encoder, scorer=scorer, gold=gold)
    )
    out = _dedup.run_direct(
        stream.lines, clusterer=clusterer, classification_of=readings.classifications.__getitem__
    )
    return stream, gold, out


def _report(
    name: str,
    stream: train_dedup.Stream,
    gold: dict[str, Any],
    out: dict[str, dict[str, Any]],
    *,
    verbose: bool,
) -> None:
    judged = judge(stream.lines, gold, out)
    if verbose:
        for kind, detail, line in judged:
            if kind in ("split", "cross"):
                story = out[line["id"]]["story_id"]
                print(f"{kind} ({detail}): {line['id']} event {gold[line['id']]} -> story {story}")
                print(f"    {line['title'][:100]!r}\n    {out[line['id']].get('story_reason', '')}")
    made = {k: out[k]["story_id"] for k in gold}
    p, r, f1 = _dedup.bcubed({k: str(v) for k, v in gold.items()}, made)
    print(f"\n{name}: {len(gold)} reports, {len(set(made.values()))} stories")
    print(f"B-cubed P {p:.3f} R {r:.3f} F1 {f1:.3f}")
    if stream.name == "semeval":  # its own measure: precision and recall of "same story"
        pairs = train_dedup.measure(stream, {k: o["story_id"] for k, o in out.items()}, set(gold))
        print(f"same-story pairs P {pairs['P']:.3f} R {pairs['R']:.3f} F1 {pairs['F1']:.3f}")
    for (kind, detail), n in sorted(Counter((k, d) for k, d, _ in judged).items()):
        print(f"  {n:5d}  {kind}{f' ({detail})' if detail else ''}")
    if verbose and stream.name == "ecbplus":
        print("\ntopic  reports  stories  first mixing joins  splits")
        for topic, reports, stories, mixing, splits in by_topic(judged, gold, out):
            print(f"{topic:>5}  {reports:7d}  {stories:7d}  {mixing:18d}  {splits:6d}")


if __name__ == "__main__":
    main()
