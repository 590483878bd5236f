"""Filling "no type": the rules' near miss, confirmed by a small learned model.

The watchlist's rules decide first. When no type with an ACLED name fires, but the rules
came close to one of the clear violent types (``fill_types``: a battle, an attack, shelling,
an air strike, a bomb; their best type reached ``min_rule_share`` of its threshold), the
article gets that closest type, provided the learned model agrees that the text reports
such an event: the model's probability summed over ``fill_types`` reaches
``min_probability`` (``choose``). So only types the watchlist defines are ever given, the
rules' evidence stays the reason, and ``classify.learned.enabled: false`` restores
rule-only typing. Both settings were chosen by cross-validation (bench/incident_typing_cv.py).

Choosing between the rules' candidates (``rechoose``): when the rules' first type belongs to
a group of types that are easily confused (``classify.learned.chooser.groups``: an attack
on people who cannot fight back or a battle between armed groups; a violent demonstration
or mob violence; ...), the candidates are the group's types the rules fired or came within
``min_share`` of the threshold of. A second model, the *chooser*, trained on the same own
sentences plus a batch written for these pairs, reads the text and, when it prefers another
candidate by at least ``min_margin`` (its probabilities renormalised over the candidates),
that candidate goes first. The rules' evidence of every type stays, and the vote says what
the rules ranked first. ``chooser.enabled: false`` (or ``enabled: false`` for both parts)
keeps the rules' order.

The model is a multinomial logistic regression over stemmed words and word pairs of the
article's opening (the title and first ``READ_SENTENCES`` sentences), fitted by
``bench/train_typing.py`` (``make train``) on the project's own example sentences only
(``bench/data/incident-examples.tsv``); its weights ship as a versioned JSON file beside
this module. Scoring is a sum of weights and a softmax, in plain Python.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.classify.normalize import FoldedText
from monitor.classify.settings import LearnedSettings
from monitor.errors import ConfigError
from monitor.resources import read_model_file
from monitor.types import ChooserVote, LearnedVote

SHIPPED_MODEL = Path(__file__).parent / "model" / "types-v1.json"
CHOOSER_MODEL = Path(__file__).parent / "model" / "chooser-v1.json"
NONE = "none"  # the class of texts that report no ACLED event
READ_SENTENCES = 3  # of the body, after the title: where a report states its event
FORMAT = 1  # of the shipped model files; a file of another format is refused
USER_FORMAT = 2  # of a model `monitor train-typing` fitted (usermodel.py): it decides
NEAR_SHARE = 0.5  # a type the rules brought this close to its threshold is "near"


def stem(word: str) -> str:
    """A crude English stem, so that "shelled", "shelling" and "shells" share a weight; all
    numbers are one word (a toll's size says nothing about its type)."""
    if word.isdigit():
        return "0"
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + keep
    return word


@dataclass(frozen=True, slots=True)
class Feature:
    name: str  # "w:<stem>" or "b:<stem> <stem>"
    start: int  # offsets in the article of its first occurrence
    end: int


def read_span(folded: FoldedText) -> int:
    """Where the model stops reading: the end of the title and ``READ_SENTENCES``
    sentences of the body (the whole text when it is shorter)."""
    body = [end for start, end in folded.sentences if start >= folded.title_end]
    if len(body) <= READ_SENTENCES:
        return len(folded.full)
    return body[READ_SENTENCES - 1]


def features(folded: FoldedText) -> list[Feature]:
    """Each distinct word stem and adjacent pair of stems in the read span, once, in text
    order (a pair does not cross a sentence end)."""
    end = read_span(folded)
    seen: dict[str, Feature] = {}
    previous: tuple[str, int, int] | None = None
    for index, tok in enumerate(folded.tokens):
        if tok.start >= end:
            break
        word = stem(folded.stem(index))
        sentence = folded.sentence_index(tok.start)
        seen.setdefault(f"w:{word}", Feature(f"w:{word}", tok.start, tok.end))
        if previous is not None and previous[2] == sentence:
            name = f"b:{previous[0]} {word}"
            seen.setdefault(name, Feature(name, previous[1], tok.end))
        previous = (word, tok.start, sentence)
    return list(seen.values())


def rule_features(fired: Sequence[str], shares: Mapping[str, float]) -> list[str]:
    """The rules' reading as a user model's features: their first ACLED type (or none), each
    type they fired, each they brought within ``NEAR_SHARE`` of its threshold."""
    out = [f"r:first {fired[0] if fired else NONE}"]
    out += [f"r:fired {n}" for n in fired]
    out += [f"r:near {n}" for n, s in sorted(shares.items()) if s >= NEAR_SHARE and n not in fired]
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What the model read: every class's probability, best first, and the features it
    knew in the text."""

    ranked: tuple[tuple[str, float], ...]
    found: tuple[Feature, ...]

    @property
    def probabilities(self) -> dict[str, float]:
        return dict(self.ranked)

    def among(self, labels: Collection[str]) -> tuple[tuple[str, float], ...]:
        """The probabilities of ``labels`` (those the model knows) renormalised to sum to
        one, best first: what the model prefers when only these are possible."""
        kept = [(c, p) for c, p in self.ranked if c in labels]
        total = sum(p for _, p in kept)
        return tuple((c, p / total) for c, p in kept) if total > 0 else ()

    def probability_of(self, labels: Collection[str]) -> float:
        """The probability that the text reports an event of any of ``labels``."""
        return sum(p for c, p in self.ranked if c in labels)


@dataclass(frozen=True)
class TypeModel:
    """A fitted multinomial logistic regression, as the model file holds it."""

    version: str
    classes: tuple[str, ...]
    bias: tuple[float, ...]
    weights: Mapping[str, tuple[float, ...]]  # feature name -> one weight per class
    sha256: str = ""  # of the file's bytes: which model decided
    source: str = ""  # the file it was read from
    user: bool = False  # fitted by `monitor train-typing`: it reads the rules too, and decides

    @property
    def named(self) -> str:
        """The version and the file, as explain names the model that decided."""
        where = f" ({self.source}, sha256 {self.sha256[:12]})" if self.user else ""
        return f"{self.version}{where}"

    def read(
        self,
        folded: FoldedText,
        fired: Sequence[str] = (),
        shares: Mapping[str, float] | None = None,
    ) -> Decision:
        """The classes' probabilities for this text; a user model also reads what the rules
        fired and came near (``fired``: ACLED names best first; ``shares``: per name)."""
        found = [f for f in features(folded) if f.name in self.weights]
        if self.user:
            rules = (Feature(n, 0, 0) for n in rule_features(fired, shares or {}))
            found += [f for f in rules if f.name in self.weights]
        z = list(self.bias)
        for f in found:
            for n, w in enumerate(self.weights[f.name]):
                z[n] += w
        peak = max(z)
        exp = [math.exp(v - peak) for v in z]
        total = sum(exp)
        ranked = sorted(
            ((c, e / total) for c, e in zip(self.classes, exp, strict=True)),
            key=lambda cp: (-cp[1], cp[0]),
        )
        return Decision(tuple(ranked), tuple(found))

    def pushing(self, decision: Decision, label: str, *, top: int = 3) -> list[tuple[str, float]]:
        """The features of the text with the largest weights toward ``label``."""
        if label not in self.classes:
            return []
        n = self.classes.index(label)
        weighed = [(f, self.weights[f.name][n]) for f in decision.found]
        best = sorted((fw for fw in weighed if fw[1] > 0), key=lambda fw: (-fw[1], fw[0].start))
        return [(f.name[2:], w) for f, w in best[:top]]

    @classmethod
    def load(cls, path: Path | None = None, setting: str = "classify.learned.model") -> TypeModel:
        path = path or SHIPPED_MODEL
        data, sha256 = read_model_file(path, setting)
        return cls.from_dict(data, sha256=sha256, source=str(path), setting=setting)

    @classmethod
    def from_dict(
        cls,
        data: dict[str, Any],
        *,
        sha256: str = "",
        source: str = "",
        setting: str = "classify.learned.model",
    ) -> TypeModel:
        if not isinstance(data, dict) or data.get("format") not in (FORMAT, USER_FORMAT):
            found = data.get("format") if isinstance(data, dict) else None
            raise ConfigError(
                f"{setting}: {source or 'model'} has format {found!r}, this version reads "
                f"format {FORMAT} (shipped) and {USER_FORMAT} (`monitor train-typing`)"
            )
        try:
            classes = tuple(str(c) for c in data["classes"])
            weights = {str(k): tuple(float(w) for w in v) for k, v in data["weights"].items()}
            bias = tuple(float(b) for b in data["bias"])
            version = str(data["version"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{setting}: {source or 'model'} is malformed ({exc!r})") from exc
        bad = [k for k, v in weights.items() if len(v) != len(classes)]
        if NONE not in classes or bad or len(bias) != len(classes):
            raise ConfigError(f"{setting}: {source or 'model'} is malformed")
        return cls(
            version=version,
            classes=classes,
            bias=bias,
            weights=weights,
            sha256=sha256,
            source=source,
            user=data["format"] == USER_FORMAT,
        )


def choose(
    shares: Mapping[str, float],
    decision: Decision | None,
    fill_types: Collection[str],
    *,
    min_rule_share: float,
    min_probability: float,
) -> tuple[str, float, float | None] | None:
    """The type to give an article no rule typed: (ACLED name, its rule share, the model's
    probability of ``fill_types``), or None.

    ``shares``: per ACLED name the watchlist defines, how close its rules came (best score /
    threshold). The closest of ``fill_types`` must reach ``min_rule_share``; with a model
    (``decision``), its probability of ``fill_types`` must reach ``min_probability``."""
    near = [(s, n) for n, s in shares.items() if n in fill_types and s >= min_rule_share]
    if not near:
        return None
    share, name = max(near)
    if decision is None:
        return name, share, None
    probability = decision.probability_of(fill_types)
    return (name, share, probability) if probability >= min_probability else None


@dataclass(frozen=True, slots=True)
class Choice:
    """The chooser's verdict: the type it puts first, instead of the rules' first."""

    name: str  # ACLED name
    rules_first: str
    candidates: tuple[tuple[str, float], ...]  # the model's probabilities among them


def candidates(
    fired: Sequence[str],
    shares: Mapping[str, float],
    groups: Sequence[Collection[str]],
    *,
    min_share: float,
) -> tuple[str, ...]:
    """The types the chooser may pick between: the rules' first type (``fired[0]``, ACLED
    names best first) and the members of its group the rules fired or brought within
    ``min_share`` of their threshold; () when the first type is in no group."""
    if not fired:
        return ()
    group = next((g for g in groups if fired[0] in g), None)
    if group is None:
        return ()
    others = [n for n in group if n != fired[0] and (n in fired or shares.get(n, 0) >= min_share)]
    return (fired[0], *sorted(others)) if others else ()


def rechoose(
    fired: Sequence[str],
    shares: Mapping[str, float],
    decision: Decision,
    groups: Sequence[Collection[str]],
    *,
    min_share: float,
    min_margin: float,
) -> Choice | None:
    """The candidate the model prefers to the rules' first type by at least ``min_margin``
    (in probability among the candidates), or None: the rules' order stands."""
    among = decision.among(candidates(fired, shares, groups, min_share=min_share))
    if not among:
        return None
    best, p_best = among[0]
    p_first = dict(among).get(fired[0], 0.0)
    if best == fired[0] or p_best - p_first < min_margin:
        return None
    return Choice(best, fired[0], among)


def iter_examples(path: Path) -> Iterator[tuple[str, str]]:
    """(label, text) of an examples file: tab-separated, '#' comments, a header line."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip() or line.startswith("#") or line.startswith("label\t"):
            continue
        label, sep, text = line.partition("\t")
        if not sep or not text.strip():
            raise ValueError(f"{path}:{n + 1}: expected 'label<TAB>text'")
        yield label, text.strip()


@dataclass(frozen=True)
class Chooser:
    """The chooser between confusable candidates as classify.learned.chooser sets it up."""

    model: TypeModel
    groups: tuple[tuple[str, ...], ...]
    min_share: float
    min_margin: float

    def read(
        self, folded: FoldedText, fired: Sequence[str], shares: Mapping[str, float]
    ) -> tuple[ChooserVote | None, str | None]:
        """(why another type goes first, None) when the chooser puts ``vote.chosen`` before
        the rules' first; (None, what it read) when the rules' first stands; (None, None)
        when there was nothing to choose from (then the model is not read: most articles
        cost nothing)."""
        among = candidates(fired, shares, self.groups, min_share=self.min_share)
        if not among:
            return None, None
        decision = self.model.read(folded)
        choice = rechoose(
            fired,
            shares,
            decision,
            self.groups,
            min_share=self.min_share,
            min_margin=self.min_margin,
        )
        if choice is None:
            read = ", ".join(f"{n} p={p:.2f}" for n, p in decision.among(among))
            return None, (
                f"chooser ({self.model.version}) kept the rules' first type, {fired[0]}: it "
                f"read {read} (another goes first when preferred by {self.min_margin:g})"
            )
        told = self.model.pushing(decision, choice.name)
        vote = ChooserVote(
            chosen=choice.name,
            rules_first=choice.rules_first,
            candidates=tuple((n, round(p, 3)) for n, p in choice.candidates),
            min_margin=self.min_margin,
            model=self.model.version,
            features=tuple(f"{f} {w:+.2f}" for f, w in told),
        )
        return vote, None


@dataclass(frozen=True)
class Decider:
    """A user's model (`monitor train-typing`) that decides the first type: its most likely
    class among the types the rules did not veto goes first, with their evidence; when it is
    "none", the rules' types stand as they are (the model adds and reorders, never removes)."""

    model: TypeModel

    def read(
        self, folded: FoldedText, fired: Sequence[str], shares: Mapping[str, float]
    ) -> tuple[ChooserVote | None, str]:
        """(the vote, "") when the model's pick goes before the rules' first; (None, what it
        read) when the rules' first stands."""
        decision = self.model.read(folded, fired, shares)
        allowed = [(c, p) for c, p in decision.ranked if c == NONE or c in shares]
        best = allowed[0][0]
        rules_first = fired[0] if fired else NONE
        read = ", ".join(f"{n} p={p:.2f}" for n, p in allowed[:3])
        if best in (NONE, rules_first):
            return None, (
                f"decided by the user model {self.model.named}: it read {read}; the rules' "
                f"first type ({rules_first}) stands"
            )
        told = self.model.pushing(decision, best)
        return ChooserVote(
            chosen=best,
            rules_first=rules_first,
            candidates=tuple((n, round(p, 3)) for n, p in allowed[:3]),
            min_margin=0.0,
            model=self.model.named,
            features=tuple(f"{f} {w:+.2f}" for f, w in told),
            decided=True,
        ), ""


@dataclass(frozen=True)
class LearnedTyping:
    """The no-type fill as classify.learned sets it up (model None: the rules' near miss
    alone, as the benchmark compares)."""

    model: TypeModel | None
    fill_types: frozenset[str]
    min_rule_share: float
    min_probability: float
    chooser: Chooser | None = None  # None: the rules' order stands
    decider: Decider | None = None  # a user's model: it decides, the fill and chooser stand by

    def vote(
        self, decision: Decision | None, name: str, share: float, probability: float | None
    ) -> LearnedVote:
        version = self.model.version if self.model is not None else ""
        told = () if self.model is None or decision is None else self.model.pushing(decision, name)
        return LearnedVote(
            rule_share=round(share, 3),
            min_rule_share=self.min_rule_share,
            probability=None if probability is None else round(probability, 3),
            min_probability=self.min_probability,
            model=version,
            features=tuple(f"{f} {w:+.2f}" for f, w in told),
        )


def learned_typing(
    settings: LearnedSettings, acled_names: Collection[str] | None = None
) -> LearnedTyping | None:
    """What the settings ask for: None when switched off, else the model (the shipped one
    unless another file is named) with its settings. A model `monitor train-typing` wrote
    decides instead; each of its types must be an ACLED name of ``acled_names`` (the
    taxonomy's), when given."""
    if not settings.enabled:
        return None
    model = TypeModel.load(Path(settings.model) if settings.model else None)
    if model.user:
        unknown = sorted(set(model.classes) - {NONE} - set(acled_names or model.classes))
        if unknown:
            raise ConfigError(
                f"classify.learned.model: {settings.model} was trained on types the "
                f"taxonomy does not define: {', '.join(unknown)} (retrain it with "
                "`monitor train-typing` on this taxonomy)"
            )
        return LearnedTyping(
            model, frozenset(settings.fill_types), settings.min_rule_share,
            settings.min_probability, decider=Decider(model),
        )  # fmt: skip
    picking = settings.chooser
    chooser = None
    if picking.enabled:
        chooser = Chooser(
            TypeModel.load(
                Path(picking.model) if picking.model else CHOOSER_MODEL,
                "classify.learned.chooser.model",
            ),
            picking.groups,
            picking.min_share,
            picking.min_margin,
        )
    return LearnedTyping(
        model,
        frozenset(settings.fill_types),
        settings.min_rule_share,
        settings.min_probability,
        chooser,
    )
