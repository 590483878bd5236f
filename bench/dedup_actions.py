"""Same-kind twins and the action a lede reports (issue 13, item 5): a probe, not shipped.

    .venv/bin/python -m bench.dedup_actions [--cache FILE]

The question: does *what was done to whom* in a report's headline and first sentence (the
Sixers *hire* / *fire* Cheeks; Klitschko stops *Thompson* / *Rahman*), with the figures the
lede gives (a magnitude 6.1 / 5.6 quake, the sixth / seventh round), tell a story of the
report's own event from one of its same-kind twin better than the words already do?

The reading is rule-based and light (no tagger, no model): a lede word is an *action* when
it looks like a verb where it stands (a past form in -ed or a common irregular one, a
headline's present in -s between a subject and an object, an -ing after "be" or "by", a
base form after "to" or a modal, or one of a hand list of common news actions after a
subject); its *object* is the last word of the words that follow it up to a
function word or a stop (determiners skipped, five words at most); a passive action ("has
been fired") takes the word before its auxiliary as object. Both are keyed by a crude
lemma (hire / hired / hires / hiring agree). A report's pairs are (action, object); a
story's are those of its reports' ledes.

1. Pair level, the harness of bench.dedup_names: every full-report candidate pair the
   shipped replay judges, labelled by whether the story holds only the article's event or
   only another one; AUC of the text cosine, the sentence meaning and ``share`` (the share
   of the article's pairs that the story holds), and how often each binary signal fires:
   ``apart`` (both give pairs, none in common), ``clash`` (they share an action or an
   object but never the pair: the twins' signature), ``name clash`` (the same over the
   pairs whose object the text capitalises), ``figures`` (lede figures, none in common:
   figures.py) and the clashes ORed with it; over all pairs, the joins the rules allowed,
   and the joins made (twin side: the first joins that mix two events).
2. Replays (the shipped rules with one change; full reports only, so UCI is unchanged):
   when a signal fires, a join is refused below a text cosine bar (as "other means" is
   outweighed at ``conflict_threshold``), or a penalty is taken off the total.
3. Out of fold: each fold of dedup-rules-cv (grouped by SemEval pair and ECB+ topic, seed 13;
   objective: mean of SemEval same-story F1 and ECB+ B-cubed F1 on the training folds'
   articles; ties go to the shipped rules) chooses a point of ``GRID``; the held-out
   articles are scored with it.

A diagnostic: it writes nothing to BENCHMARKS.md, and nothing here is used by the grouper.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from bench import train_dedup
from bench.dedup_names import (
    ProbeClusterer,
    ProbeScorer,
    aucs,
    cross_validate,
    probe_inputs,
    run,
    sides,
)
from monitor.dedup.combiner import Verdict
from monitor.dedup.features import ArticleFeatures
from monitor.dedup.profile import StoryProfile
from monitor.dedup.rules import Score, joins, named_apart
from monitor.dedup.settings import DedupSettings
from monitor.dedup.text import STOPWORDS, clean_title, normalise, sentences
from monitor.types import Article

Pair = tuple[str, str]

_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*|[^\w\s]")
_DETERMINERS = frozenset(
    "a an the its his her their our this that these those some another former ex".split()  # noqa: SIM905
)
_BE = frozenset("is was were are be been being am".split())  # noqa: SIM905
_BASE_BEFORE = frozenset("to will would could can may might should must".split())  # noqa: SIM905
_REPORTING = frozenset("said says say told tells tell reported reports announced".split())  # noqa: SIM905
# Common irregular past forms in news ledes, and their lemma.
_IRREGULAR = {
    "hit": "hit", "shot": "shoot", "won": "win", "lost": "lose", "took": "take",
    "fell": "fall", "left": "leave", "struck": "strike", "beat": "beat", "led": "lead",
    "sent": "send", "held": "hold", "caught": "catch", "broke": "break", "stole": "steal",
    "ran": "run", "began": "begin", "fled": "flee", "threw": "throw", "brought": "bring",
    "bought": "buy", "sold": "sell", "found": "find", "gave": "give", "quit": "quit",
    "sought": "seek", "chose": "choose", "drew": "draw", "rose": "rise", "shook": "shake",
    "swept": "sweep", "spoke": "speak", "went": "go", "came": "come", "cut": "cut",
    "kept": "keep", "met": "meet", "paid": "pay", "killed": "kill", "stabbed": "stab",
    "knocked": "knock", "signed": "sign", "named": "name", "fired": "fire", "hired": "hire",
}  # fmt: skip
# Base forms of actions news ledes report, read as actions after a subject (a headline's
# present: "Sixers hire Cheeks", "76ers Fire Coach"): without a tagger, a base form cannot
# be told from a noun otherwise. A hand list of common news verbs, not fitted to any data.
_ACTIONS = frozenset(
    """hire fire sign name appoint quit resign win lose beat stop defeat retain defend claim
    kill shoot stab hit strike attack bomb arrest capture seize charge convict sentence jail
    free release rescue launch open close buy sell acquire offer reject approve ban block
    reverse overturn lift end start announce unveil host join leave return check enter
    escape flee destroy damage injure wound burn rock shake level sink crash""".split()  # noqa: SIM905
)
_ING_AFTER = frozenset("by after before while".split()) | _BE  # noqa: SIM905
_MAX_OBJECT = 5
_TITLE_CASE_SHARE = 0.6


def lemma(word: str) -> str:
    """A crude lemma: hire / hired / hires / hiring -> "hir"; stops / stopped -> "stop"."""
    w = word.lower().strip("'’-")
    w = re.sub(r"['’]s?$", "", w)
    if w in _IRREGULAR:
        w = _IRREGULAR[w]
    elif len(w) > 4 and w.endswith(("ies", "ied")):
        w = w[:-3] + "y"
    elif len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and (w.endswith("ed") or (w.endswith("es") and w[-3] in "sxzh")):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    w = w[:-1] if len(w) > 3 and w.endswith("e") else w
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]  # stopp -> stop
    return w


def _is_word(token: str) -> bool:
    return token[:1].isalpha()


def _stop(token: str) -> bool:
    low = token.lower()
    return not _is_word(token) or (low in STOPWORDS and low not in _DETERMINERS)


def _verb_like(tokens: Sequence[str], i: int) -> bool:
    """Whether ``tokens[i]`` (lower-cased) reads as a verb where it stands."""
    w = tokens[i]
    if not _is_word(w) or w in STOPWORDS or w in _REPORTING or w in _DETERMINERS or len(w) < 3:
        return False
    before = tokens[i - 1] if i else ""
    if w in _IRREGULAR or (len(w) > 4 and w.endswith("ed")):
        return before not in _DETERMINERS
    if before in _BASE_BEFORE:
        return True
    if len(w) > 5 and w.endswith("ing"):
        return before in _ING_AFTER
    if w in _ACTIONS:
        return bool(before) and not _stop(before) and before not in _DETERMINERS
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        # a headline's present tense: after a subject word, before an object word
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        return (
            bool(before) and not _stop(before) and before not in _DETERMINERS
            and _is_word(after) and not _stop(after)
        )  # fmt: skip
    return False


def _head(tokens: Sequence[str], start: int) -> int | None:
    """Where the last word of the object words from ``start`` is (determiners skipped)."""
    head = None
    size = 0
    for i in range(start, min(start + _MAX_OBJECT + 1, len(tokens))):
        token = tokens[i]
        if token in _DETERMINERS and not size:
            continue
        if _stop(token) or (size and (token in _DETERMINERS or _verb_like(tokens, i))):
            break
        size += 1
        head = i if _is_word(token) else head
        if size == _MAX_OBJECT:
            break
    return head


def _subject(tokens: Sequence[str], aux: int) -> int | None:
    """Where the word before the auxiliaries ending at ``aux`` is (a passive's object)."""
    j = aux
    while j > 0 and tokens[j - 1] in _BE | {"has", "have", "had"}:
        j -= 1
    return j - 1 if j > 0 and _is_word(tokens[j - 1]) and not _stop(tokens[j - 1]) else None


def _title_case(tokens: Sequence[str]) -> bool:
    long = [t for t in tokens[1:] if _is_word(t) and len(t) > 3]
    return bool(long) and sum(t[0].isupper() for t in long) > _TITLE_CASE_SHARE * len(long)


def read(title: str, lines: Sequence[str]) -> frozenset[tuple[str, str, bool]]:
    """(action, object, whether the object is a name) of the headline and first sentence."""
    found: set[tuple[str, str, bool]] = set()
    for n, sentence in enumerate((title, *lines[:1])):
        raw = _TOKEN.findall(normalise(sentence))
        tokens = [t.lower() for t in raw]
        # In a Title Case headline every word is capitalised; elsewhere a capitalised word
        # is a name, never the action (except the sentence's first word).
        free = n == 0 and _title_case(raw)
        for i, token in enumerate(tokens):
            if not free and i and raw[i][:1].isupper():
                continue
            if not _verb_like(tokens, i):
                continue
            at = _head(tokens, i + 1)
            passive = i > 0 and tokens[i - 1] in _BE
            if passive and (at is None or tokens[i + 1 : i + 2] in (["by"], ["as"])):
                at = _subject(tokens, i - 1)
            if at is not None:
                name = not free and at > 0 and raw[at][:1].isupper()
                found.add((lemma(token), lemma(tokens[at]), name))
    return frozenset(found)


def actions(title: str, lines: Sequence[str]) -> frozenset[Pair]:
    """(action, object) pairs of the headline and the first sentence, as lemmas."""
    return frozenset((verb, obj) for verb, obj, _ in read(title, lines))


def actions_on_names(title: str, lines: Sequence[str]) -> frozenset[Pair]:
    """The (action, object) pairs whose object is a name ("stops Thompson", not "a vessel")."""
    return frozenset((verb, obj) for verb, obj, name in read(title, lines) if name)


def share(article: frozenset[Pair], story: Counter[Pair]) -> float | None:
    """Share of the article's pairs the story holds; None when either gives none."""
    if not article or not story:
        return None
    return sum(p in story for p in article) / len(article)


def clash(article: frozenset[Pair], story: Counter[Pair]) -> bool:
    """They share an action or an object, but not one (action, object) pair."""
    if not article or not story or any(p in story for p in article):
        return False
    verbs, objects = {v for v, _ in story}, {o for _, o in story}
    return any(v in verbs or o in objects for v, o in article)


@dataclass(frozen=True, slots=True)
class Sides:
    """What the article and the candidate story give: all their lede pairs, the pairs whose
    object is a name, and their features and profile (for the lede figures)."""

    mine: frozenset[Pair]
    theirs: Counter[Pair]
    mine_named: frozenset[Pair]
    theirs_named: Counter[Pair]
    article: ArticleFeatures
    story: StoryProfile


def _figures_apart(x: Sides) -> bool:
    return named_apart(x.article.figures, x.story.figures)


SIGNALS: dict[str, Callable[[Sides], bool]] = {
    "apart": lambda x: bool(x.mine and x.theirs) and not any(p in x.theirs for p in x.mine),
    "clash": lambda x: clash(x.mine, x.theirs),
    "name clash": lambda x: clash(x.mine_named, x.theirs_named),
    "figures": _figures_apart,
    "clash or figures": lambda x: clash(x.mine, x.theirs) or _figures_apart(x),
    "name clash or figures": lambda x: clash(x.mine_named, x.theirs_named) or _figures_apart(x),
}
# (signal, "bar": refuse a join when it fires and the text cosine is below the value, or
# "penalty": take the value off the total when it fires); (None, None, None): the shipped rules.
Knobs = tuple[str | None, str | None, float | None]
GRID: tuple[Knobs, ...] = (
    (None, None, None),
    *(
        (name, how, value)
        for name in ("clash", "name clash", "clash or figures", "name clash or figures")
        for how, value in (("bar", 0.4), ("bar", 0.5), ("penalty", 0.1), ("penalty", 0.2))
    ),
)


class ActionsScorer(ProbeScorer):
    """The shipped rules, with one signal refusing joins below a text bar or lowering the
    total, and a record of every full-report pair judged (for the pair-level analysis)."""

    def __init__(self, settings: DedupSettings, knobs: Knobs = (None, None, None)) -> None:
        super().__init__(settings)
        self.knobs = knobs
        # the article being assigned: its lede pairs (all, and those on names)
        self.pairs_of: frozenset[Pair] = frozenset()
        self.named_of: frozenset[Pair] = frozenset()
        self.stories: defaultdict[int, Counter[Pair]] = defaultdict(Counter)
        self.named: defaultdict[int, Counter[Pair]] = defaultdict(Counter)

    def read(self, article: Article) -> None:
        super().read(article)
        found = read(clean_title(article.title), sentences(article.text))
        self.pairs_of = frozenset((verb, obj) for verb, obj, _ in found)
        self.named_of = frozenset((verb, obj) for verb, obj, name in found if name)

    def learn(self, story_id: int) -> None:
        self.stories[story_id].update(self.pairs_of)
        self.named[story_id].update(self.named_of)

    def decide(self, article: ArticleFeatures, story: StoryProfile, result: Score) -> Verdict:
        sides = Sides(
            self.pairs_of,
            self.stories[story.id],
            self.named_of,
            self.named[story.id],
            article,
            story,
        )
        fired = {name: test(sides) for name, test in SIGNALS.items()}
        signal, how, value = self.knobs
        reason = result.reason
        if signal and value is not None and fired[signal]:
            reason = f"{reason} other action ({signal})"
            if how == "penalty":
                result = replace(result, total=result.total - value)
        ok = joins(result, self.settings)
        if ok and signal and how == "bar" and value is not None and fired[signal]:
            ok = result.text >= value
        self.record(story, result, ok, share=share(self.pairs_of, self.stories[story.id]) or 0.0,
                    **fired)  # fmt: skip
        return Verdict(result.total, ok, reason)


def replay(
    stream: train_dedup.Stream,
    readings: train_dedup.Readings,
    settings: DedupSettings,
    knobs: Knobs,
) -> tuple[dict[str, Any], ActionsScorer]:
    """Story per article of ``stream`` and the scorer (with its recorded pairs)."""
    scorer = ActionsScorer(settings, knobs)
    stories = run(stream, readings, settings, partial(ProbeClusterer, scorer=scorer))
    return stories, scorer


def pair_level(name: str, judged: Sequence[dict[str, Any]], stories: dict[str, Any]) -> None:
    for label, mine, theirs in sides(name, judged, stories):
        fires = ", ".join(
            f"{s} {sum(p[s] for p in mine)}/{sum(p[s] for p in theirs)}" for s in SIGNALS
        )
        shown = aucs(mine, theirs, ("text", "meaning", "share"))
        print(f"  {label} ({len(mine)} / {len(theirs)}): AUC {shown}; fires own/other {fires}")
        low = ", ".join(
            f"{s} & text<{bar} {sum(p[s] and p['text'] < bar for p in mine)}"
            f"/{sum(p[s] and p['text'] < bar for p in theirs)}"
            for s in SIGNALS
            for bar in (0.4, 0.5)
        )
        print(f"    {low}")


def main(argv: Sequence[str] | None = None) -> None:
    inputs = probe_inputs(argv, __doc__ or "")
    if inputs is None:
        return
    settings, readings, data = inputs  # full reports only: headlines are never judged here
    made: dict[Any, dict[str, dict[str, Any]]] = {}
    for knobs in GRID:
        made[knobs] = {}
        row = []
        for s in data:
            stories, scorer = replay(s, readings, settings, knobs)
            made[knobs][s.name] = stories
            if knobs[0] is None:
                pair_level(s.name, scorer.pairs, stories)
            m = train_dedup.measure(s, stories, set(s.group))
            row.append(f"{s.name} P {m['P']:.3f} R {m['R']:.3f} F1 {m['F1']:.3f}")
        print(f"{knobs} (in-sample): " + " | ".join(row), flush=True)
    cross_validate(data, made, list(GRID), "signal / how / value")


if __name__ == "__main__":
    main()
