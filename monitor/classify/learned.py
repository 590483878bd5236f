"""Filling "no type": the rules' near miss, confirmed by a small learned model.

The watchlist's rules decide first. When no type with an ACLED name fires, but the rules
came close to one of the clear violent types (``fill_types``: a battle, an attack, shelling,
an air strike, a bomb; their best type reached ``min_rule_share`` of its threshold), the
article gets that closest type, provided the learned model agrees that the text reports
such an event: the model's probability summed over ``fill_types`` reaches
``min_probability`` (``choose``). So only types the watchlist defines are ever given, the
rules' evidence stays the reason, and ``classify.learned.enabled: false`` restores
rule-only typing. Both settings were chosen by cross-validation (bench/incident_typing_cv.py).

The model is a multinomial logistic regression over stemmed words and word pairs of the
article's opening (the title and first ``READ_SENTENCES`` sentences), fitted by
``bench/train_typing.py`` (``make train``) on the project's own example sentences only
(``bench/data/incident-examples.tsv``); its weights ship as a versioned JSON file beside
this module. Scoring is a sum of weights and a softmax, in plain Python.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.classify.normalize import FoldedText
from monitor.classify.settings import LearnedSettings
from monitor.errors import ConfigError
from monitor.resources import read_model_file
from monitor.types import LearnedVote

SHIPPED_MODEL = Path(__file__).parent / "model" / "types-v1.json"
NONE = "none"  # the class of texts that report no ACLED event
READ_SENTENCES = 3  # of the body, after the title: where a report states its event
FORMAT = 1  # of the model file; a file of another format is refused


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


@dataclass(frozen=True, slots=True)
class Decision:
    """What the model read: every class's probability, best first, and the features it
    knew in the text."""

    ranked: tuple[tuple[str, float], ...]
    found: tuple[Feature, ...]

    @property
    def probabilities(self) -> dict[str, float]:
        return dict(self.ranked)

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

    def read(self, folded: FoldedText) -> Decision:
        found = [f for f in features(folded) if f.name in self.weights]
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
    def load(cls, path: Path | None = None) -> TypeModel:
        path = path or SHIPPED_MODEL
        data, sha256 = read_model_file(path, "classify.learned.model")
        return cls.from_dict(data, sha256=sha256, source=str(path))

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, sha256: str = "", source: str = "") -> TypeModel:
        if data.get("format") != FORMAT:
            raise ConfigError(
                f"classify.learned.model: {source or 'model'} has format "
                f"{data.get('format')!r}, this version reads format {FORMAT}"
            )
        classes = tuple(str(c) for c in data["classes"])
        weights = {str(k): tuple(float(w) for w in v) for k, v in data["weights"].items()}
        bad = [k for k, v in weights.items() if len(v) != len(classes)]
        if NONE not in classes or bad or len(data["bias"]) != len(classes):
            raise ConfigError(f"classify.learned.model: {source or 'model'} is malformed")
        return cls(
            version=str(data["version"]),
            classes=classes,
            bias=tuple(float(b) for b in data["bias"]),
            weights=weights,
            sha256=sha256,
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
class LearnedTyping:
    """The no-type fill as classify.learned sets it up (model None: the rules' near miss
    alone, as the benchmark compares)."""

    model: TypeModel | None
    fill_types: frozenset[str]
    min_rule_share: float
    min_probability: float

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


def learned_typing(settings: LearnedSettings) -> LearnedTyping | None:
    """What the settings ask for: None when switched off, else the model (the shipped one
    unless another file is named) with its settings."""
    if not settings.enabled:
        return None
    return LearnedTyping(
        TypeModel.load(Path(settings.model) if settings.model else None),
        frozenset(settings.fill_types),
        settings.min_rule_share,
        settings.min_probability,
    )
