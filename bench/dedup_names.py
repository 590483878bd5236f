"""Same-kind twins and the proper names reports give (issue 13, item 5): a probe, not shipped.

    .venv/bin/python -m bench.dedup_names [--cache FILE]

The question: do a report's participants and places, read as the capitalised names of its
text (not the watchlist's entities, which ECB+ rarely names), tell a story of its own event
from one of its same-kind twin (the other celebrity, the other town) better than the
words already do? A name is a capitalised word that is not a stop word, a day or a month,
nor a sentence's first word unless the text capitalises it elsewhere too or a capitalised
word follows it (a Title Case headline counts only for words its body capitalises), keyed
by ``places.name_key`` so spelling variants agree. Each name is weighed by its idf over the
stream so far (names every report of a topic gives weigh little) and by how early it
appears (1 / (1 + sentence index), the headline 0). Agreement of an article with a story:
the cosine of the article's weighed names and the story's (name counts over its reports,
each weighed by idf).

1. Pair level: the candidate pairs the shipped replay judges (full reports), labelled by
   whether the story holds only the article's event or only another one (ECB+: its twin;
   SemEval: another article); AUC of each signal over all pairs, over the joins the rules
   allowed, and over the joins made (the story the article went to: into a story of the
   other event only, the join that mixes two events).
2. Replays (the shipped scorer with one change; full reports only, headline-only items go
   the shipped way, so UCI is unchanged): ``veto`` refuses a join when names agree below
   it; ``outweigh`` lets names agreeing at or above it outweigh "other days" as a text
   cosine of ``days_conflict_threshold`` does.
3. Out of fold: each fold of dedup-rules-cv (grouped by SemEval pair and ECB+ topic, seed 13;
   objective: mean of SemEval same-story F1 and ECB+ B-cubed F1 on the training folds' articles;
   ties go to the shipped rules) chooses a (veto, outweigh) point; held-out articles are
   scored with it.

A diagnostic: it writes nothing to BENCHMARKS.md, and nothing here is used by the grouper.
"""

from __future__ import annotations

import argparse
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from bench import _dedup, dedup_rules_cv, train_dedup
from bench._report import missing
from bench.dedup_errors import ToldClusterer, ToldScorer
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.combiner import Verdict
from monitor.dedup.features import ArticleFeatures
from monitor.dedup.places import name_key
from monitor.dedup.profile import StoryProfile, Weighed
from monitor.dedup.rules import OTHER_DAYS, Score, joins, score
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import STOPWORDS, clean_title, sentences
from monitor.types import Article, StoryAssignment

_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
_POSSESSIVE = re.compile(r"['’]s?$")
_NOT_NAMES = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december""".split()  # noqa: SIM905
)
_TITLE_CASE_SHARE = 0.6
LATEST = 9  # sentence index from which a name counts as "late" (weight 1/10)
VETOES: tuple[float | None, ...] = (None, 0.1)
OUTWEIGHS: tuple[float | None, ...] = (None, 0.3, 0.4, 0.5)
SIGNALS = ("text", "meaning", "names")


def _words(sentence: str) -> list[str]:
    return [_POSSESSIVE.sub("", w).strip(".-'’") for w in _WORD.findall(sentence)]


def _title_case(words: Sequence[str]) -> bool:
    long = [w for w in words[1:] if len(w) > 3]
    return bool(long) and sum(w[0].isupper() for w in long) > _TITLE_CASE_SHARE * len(long)


def names_of(title: str, lines: Sequence[str]) -> dict[str, int]:
    """Name key -> index of the first sentence naming it (0: the headline)."""
    said = [_words(s) for s in (title, *lines)]
    title_case = _title_case(said[0])
    inside = {  # words the text capitalises where a capital means a name
        w.lower()
        for i, words in enumerate(said)
        if not (i == 0 and title_case)
        for w in words[1:]
        if w[:1].isupper()
    }
    found: dict[str, int] = {}
    for i, words in enumerate(said):
        for j, w in enumerate(words):
            low = w.lower()
            if len(w) < 2 or not w[0].isupper() or low in STOPWORDS or low in _NOT_NAMES:
                continue
            after = words[j + 1] if j + 1 < len(words) else ""
            first = j == 0 or (i == 0 and title_case)
            leads_a_name = j == 0 and not (i == 0 and title_case) and after[:1].isupper()
            if first and low not in inside and not leads_a_name:
                continue
            key = name_key(w)
            if key:
                found.setdefault(key, min(i, LATEST))
    return found


def agreement(
    article: dict[str, int], story: Counter[str], size: int, documents: int, df: Counter[str]
) -> float | None:
    """Cosine of the article's and the story's weighed names; None when either has none."""

    def idf(key: str) -> float:
        return math.log((documents + 1) / (df[key] + 1)) + 1e-3

    mine = {k: idf(k) / (1 + first) for k, first in article.items()}
    theirs = {k: n / max(size, 1) * idf(k) for k, n in story.items()}
    norms = math.sqrt(sum(w * w for w in mine.values())) * math.sqrt(
        sum(w * w for w in theirs.values())
    )
    if not norms:
        return None
    return sum(w * theirs.get(k, 0.0) for k, w in mine.items()) / norms


class ProbeScorer(ToldScorer):
    """A probe's scorer: reads each article before it is assigned (``read``), learns which
    story it went to (``learn``), and records every full-report pair it judges (``record``)."""

    def __init__(self, settings: DedupSettings) -> None:
        super().__init__(settings)
        self.key = ""  # the article being assigned
        self.pairs: list[dict[str, Any]] = []

    def read(self, article: Article) -> None:
        self.key = article.key

    def learn(self, story_id: int) -> None:
        """The article just read went to ``story_id``."""

    def judge(
        self, article: ArticleFeatures, story: StoryProfile, vectors: tuple[Weighed, Weighed]
    ) -> Verdict:
        if article.short:  # headline-only items go the shipped way
            return super().judge(article, story, vectors)
        return self.decide(article, story, score(article, story, vectors, self.settings))

    def decide(self, article: ArticleFeatures, story: StoryProfile, result: Score) -> Verdict:
        """The probe's verdict on a full report the rules read as ``result``."""
        ok = joins(result, self.settings)
        self.record(story, result, ok)
        return Verdict(result.total, ok, result.reason)

    def record(self, story: StoryProfile, result: Score, ok: bool, **signals: Any) -> None:
        self.pairs.append(
            {
                "key": self.key,
                "story": story.id,
                "event": self.current,
                "story_events": set(self.events[story.id]),
                "text": result.text,
                "meaning": result.meaning or 0.0,
                **signals,
                "joins": ok,
            }
        )


class ProbeClusterer(ToldClusterer):
    """Lets its ``ProbeScorer`` read each article before assigning it, and learn after."""

    def __init__(self, settings: DedupSettings, *, encoder: Any, scorer: ProbeScorer, gold: Any):
        super().__init__(settings, encoder=encoder, scorer=scorer, gold=gold)
        self.probe = scorer

    def assign(self, **kwargs: Any) -> StoryAssignment:
        self.probe.read(kwargs["article"])
        assigned = super().assign(**kwargs)
        self.probe.learn(assigned.story_id)
        return assigned


class NamesScorer(ProbeScorer):
    """The shipped rules, with the names' agreement as a veto and/or days outweigher, and a
    record of every full-report pair judged (for the pair-level analysis)."""

    def __init__(
        self, settings: DedupSettings, veto: float | None = None, outweigh: float | None = None
    ) -> None:
        super().__init__(settings)
        self.veto, self.outweigh = veto, outweigh
        self.names: dict[str, int] = {}  # the article being assigned
        self.stories: defaultdict[int, Counter[str]] = defaultdict(Counter)
        self.documents, self.df = 0, Counter[str]()

    def read(self, article: Article) -> None:
        super().read(article)
        self.names = names_of(clean_title(article.title), sentences(article.text))

    def learn(self, story_id: int) -> None:
        self.documents += 1
        self.df.update(self.names.keys())
        self.stories[story_id].update(self.names.keys())

    def decide(self, article: ArticleFeatures, story: StoryProfile, result: Score) -> Verdict:
        agreed = agreement(self.names, self.stories[story.id], story.size, self.documents, self.df)
        if self.outweigh is not None and agreed is not None and agreed >= self.outweigh:
            kept = tuple(c for c in result.contradictions if c != OTHER_DAYS)
            result = replace(result, contradictions=kept)
        ok = joins(result, self.settings)
        if ok and self.veto is not None and agreed is not None and agreed < self.veto:
            ok = False
        self.record(story, result, ok, names=agreed or 0.0)
        said = f" names {agreed:.2f}" if agreed is not None else ""
        return Verdict(result.total, ok, result.reason + said)


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Chance that a positive scores above a negative (ties: half)."""
    if not positive or not negative:
        return math.nan
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def run(
    stream: train_dedup.Stream,
    readings: train_dedup.Readings,
    settings: DedupSettings,
    clusterer_of: Callable[..., StoryClusterer],
) -> dict[str, Any]:
    """Story per article of ``stream``, replayed by ``clusterer_of(settings, encoder=, gold=)``
    (a probe's clusterer, told the gold events) with the readings `monitor replay` makes."""
    gold = {k: v for k, v in stream.gold.items() if v is not None}
    encoder = train_dedup.RecordingEncoder(known=readings.embeddings)
    clusterer = clusterer_of(settings, encoder=encoder, gold=gold)
    out = _dedup.run_direct(
        stream.lines, clusterer=clusterer, classification_of=readings.classifications.__getitem__
    )
    return {k: o["story_id"] for k, o in out.items()}


def replay(
    stream: train_dedup.Stream,
    readings: train_dedup.Readings,
    settings: DedupSettings,
    veto: float | None,
    outweigh: float | None,
) -> tuple[dict[str, Any], NamesScorer]:
    """Story per article of ``stream`` and the scorer (with its recorded pairs)."""
    scorer = NamesScorer(settings, veto, outweigh)
    stories = run(stream, readings, settings, partial(ProbeClusterer, scorer=scorer))
    return stories, scorer


Side = list[dict[str, Any]]


def sides(
    name: str, pairs: Sequence[dict[str, Any]], stories: dict[str, Any]
) -> list[tuple[str, Side, Side]]:
    """(label, pairs into a story of the article's event only, pairs into one of another
    event only) over all pairs judged, the joins the rules allowed and the joins made."""
    own = [p for p in pairs if p["story_events"] == {p["event"]}]
    other = [p for p in pairs if p["story_events"] and p["event"] not in p["story_events"]]
    print(f"{name}: {len(own)} pairs into a story of the article's event only, {len(other)} other")
    allowed = [p for p in own if p["joins"]], [p for p in other if p["joins"]]
    made = [[p for p in side if stories[p["key"]] == p["story"]] for side in allowed]
    return [
        ("all pairs", own, other),
        ("joins the rules allowed", allowed[0], allowed[1]),
        ("joins made", made[0], made[1]),
    ]


def aucs(mine: Side, theirs: Side, signals: Sequence[str]) -> str:
    return ", ".join(
        f"{signal} {auc([p[signal] for p in mine], [p[signal] for p in theirs]):.3f}"
        for signal in signals
    )


def pair_level(name: str, pairs: Sequence[dict[str, Any]], stories: dict[str, Any]) -> None:
    split = sides(name, pairs, stories)
    for label, mine, theirs in split:
        print(f"  {label} ({len(mine)} / {len(theirs)}): AUC {aucs(mine, theirs, SIGNALS)}")
    own, other = split[0][1:]
    for bar in (0.1, 0.15, 0.2):
        refused = [sum(p["joins"] and p["names"] < bar for p in side) for side in (own, other)]
        print(f"  names < {bar} would refuse {refused[0]} own-event and {refused[1]} other joins")


def probe_inputs(
    argv: Sequence[str] | None, doc: str
) -> tuple[DedupSettings, train_dedup.Readings, list[train_dedup.Stream]] | None:
    """A probe's command line read, and its inputs: the replay settings, every article's
    readings, and the streams of full reports (SemEval, ECB+); None when data are missing."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="classifications and embeddings kept here")
    args = parser.parse_args(argv)
    if missing(_dedup.SEMEVAL, _dedup.ECBPLUS, _dedup.UCI):
        return None
    settings = train_dedup.replay_settings()
    everything = train_dedup.streams()
    readings = train_dedup.read_articles(everything, settings, args.cache)
    return settings, readings, [s for s in everything if s.name != "uci"]  # headlines: not here


def main(argv: Sequence[str] | None = None) -> None:
    inputs = probe_inputs(argv, __doc__ or "")
    if inputs is None:
        return
    settings, readings, data = inputs
    grid = [(v, o) for o in OUTWEIGHS for v in VETOES]
    made: dict[tuple[float | None, float | None], dict[str, dict[str, Any]]] = {}
    for veto, outweigh in grid:
        made[veto, outweigh] = {}
        row = []
        for s in data:
            stories, scorer = replay(s, readings, settings, veto, outweigh)
            made[veto, outweigh][s.name] = stories
            if veto is None and outweigh is None:
                pair_level(s.name, scorer.pairs, stories)
            m = train_dedup.measure(s, stories, set(s.group))
            row.append(f"{s.name} P {m['P']:.3f} R {m['R']:.3f} F1 {m['F1']:.3f}")
        print(f"veto {veto} outweigh {outweigh} (in-sample): " + " | ".join(row), flush=True)
    cross_validate(data, made, grid)


def cross_validate(
    data: Sequence[train_dedup.Stream],
    made: dict[Any, dict[str, dict[str, Any]]],
    grid: Sequence[Any],
    what: str = "names knobs",
) -> None:
    """Out-of-fold figures, each fold's knobs (a point of ``grid``) chosen on the other folds."""
    fold = {g: f for s in data for g, f in train_dedup.folds_of(s.group.values()).items()}
    chosen = {}
    for k in range(train_dedup.FOLDS):
        ranked = []
        for n, knobs in enumerate(grid):  # the shipped rules first: ties go to them
            training = [
                train_dedup.measure(s, made[knobs][s.name], ids)
                for s in data
                if (ids := {i for i, g in s.group.items() if fold[g] != k})
            ]  # (a smoke run's data can leave a fold's training side empty)
            ranked.append((-dedup_rules_cv.objective(training) if training else 0.0, n))
        best, n = min(ranked)
        chosen[k] = grid[n]
        print(f"fold {k + 1} chose {what} {grid[n]} (training objective {-best:.3f})")
    for s in data:
        pooled, per_fold = {}, []
        for k, knobs in chosen.items():
            held = {i for i, g in s.group.items() if fold[g] == k}
            pooled.update({i: (k, made[knobs][s.name][i]) for i in held})
            if held:
                per_fold.append(train_dedup.measure(s, made[knobs][s.name], held))
        figures = train_dedup.Figures(train_dedup.measure(s, pooled, set(s.group)), per_fold)
        print(train_dedup.table_row(s.name, f"{what} chosen per fold, out-of-fold", figures))


if __name__ == "__main__":
    main()
