"""An article's ``story_reason`` told in words: what decided that it joined its story, or
started one. The reason itself stays what the grouper wrote (clusterer, combiner, rules):
figures a developer reads and bench/dedup_errors.py parses; this reads those figures back
for a reader ("Joined this story: the learned model gives 84% that the two report the
same event ... In common: much of the wording, the names given ..."), shown beside the
figures, not instead of them.

Written next to the code that writes the reason, and tested on reasons that code wrote
(tests/dedup/test_wording.py): a reason in a shape not known here gives "", and the
caller shows the figures alone.
"""

from __future__ import annotations

import re

# The rules' figures (rules.score): always in this order, meaning only with embeddings.
_FIGURES = re.compile(
    r"text (?P<text>[\d.]+) title (?P<title>[\d.]+) entities (?P<entities>[\d.]+) "
    r"types (?P<types>[\d.]+) decay (?P<decay>[\d.]+)(?: meaning (?P<meaning>-?[\d.]+))?"
    r"(?P<rest>[^;)]*)"
)
_MODEL = re.compile(
    r"model p=(?P<p>[\d.]+)(?: \(decay [\d.]+\))? (?:>=|<) (?P<threshold>[\d.]+)"
    r"(?: \((?P<told>[^)]*)\))?"
)
_COPY = re.compile(r"near-copy of (?P<key>\S+) \(Jaccard ~(?P<jaccard>[\d.]+)\)")
_PLACES = re.compile(r"other place \((?P<places>[^)]*)\)")
_MERGED = re.compile(r"story (?P<gone>\d+) merged into story (?P<keep>\d+)")
_OUTWEIGHED = re.compile(r"outweighed by text [\d.]+: (?P<what>[^;)]*)")

# What each of the combiner's features is about (combiner.FEATURES), whichever way it
# pushed: "for: the wording" means the wording made the join likelier.
_ABOUT = {
    "text": "the wording",
    "title": "the headline's words",
    "rules_total": "the rules' overall score",
    "entities": "the names given",
    "types": "the kind of incident",
    "meaning": "the meaning",
    "short": "being a headline only",
    "same_day": "the days named",
    "other_days": "the days named",
    "other_means": "the means of attack",
    "other_target": "the targets named",
    "place_same": "the place",
    "place_related": "the place",
    "place_other": "the place",
    "actors_shared": "the groups involved",
    "actors_other": "the groups involved",
    "title_cover": "the story's headline words in its headline",
    "other_figures": "the figures given",
    "figures_shared": "the figures given",
}
_CONTRADICTIONS = {
    "other means of attack": "they name different means of attack",
    "other days": "they name different days",
    "other target": "they name different targets",
}


def in_words(reason: str | None) -> str:
    """A few sentences saying what decided; "" when the reason is not one the grouper
    writes (the caller then shows the figures alone)."""
    if not reason:
        return ""
    head, merges = _merges(reason)
    if head.startswith("same event: "):
        said = _joined(head.removeprefix("same event: "))
    elif head.startswith("near-copy of ") and (copy := _COPY.match(head)):
        said = [
            f"Joined this story as a near-copy of report {copy['key']}: about "
            f"{float(copy['jaccard']):.0%} of their word sequences are the same."
        ]
    elif head.startswith("new story ("):
        said = _apart(head.removeprefix("new story (").removesuffix(")"))
    else:
        return ""
    return " ".join([*said, *merges])


def _merges(reason: str) -> tuple[str, list[str]]:
    """The reason before any merge notes, and each note in words."""
    head, *notes = re.split(r"; (?=(?:then )?story \d+ merged into story \d+)", reason)
    said = []
    for note in notes:
        if m := _MERGED.match(note.removeprefix("then ")):
            why = " (both headline-only and alike in meaning)" if "headline-only" in note else ""
            said.append(f"Then story {m['gone']} was merged into story {m['keep']}{why}.")
    return head, said


def _joined(verdict: str) -> list[str]:
    said, _ = _scored(verdict, "Joined this story: ", "Joined this story by the hand-tuned rules.")
    if outweighed := _OUTWEIGHED.search(verdict):
        what = [_CONTRADICTIONS.get(c.strip(), c.strip()) for c in outweighed["what"].split(",")]
        said.append(f"Its near-identical wording outweighed that {_listed(what)}.")
    return said


def _scored(verdict: str, model_lead: str, by_rules: str) -> tuple[list[str], re.Match[str] | None]:
    """Who scored the story (the learned model, with what weighed most, or the rules) and
    what the two had in common; the figures' match, for what else they say."""
    model = _MODEL.search(verdict)
    said = [f"{model_lead}{_model_words(model)}" if model else by_rules]
    if model and (weighed := _weighed(model)):
        said.append(weighed)
    if figures := _FIGURES.search(verdict):
        said.append(_in_common(figures))
    return said, figures


def _apart(inner: str) -> list[str]:
    said = []
    if "near-copy of" in inner and (places := _PLACES.search(inner)):
        said.append(
            f"It nearly copies another report, but the two place the event apart "
            f"({places['places']})."
        )
    if (kept := re.search(r"kept apart from story (\d+)", inner)) and (
        places := _PLACES.search(inner, kept.end())
    ):
        said.append(f"Story {kept[1]} places its event elsewhere ({places['places']}).")
    if inner.endswith("no candidate"):
        said.append("No recent story shares its distinctive words or names.")
    elif inner.endswith("no other candidate"):
        said.append("No other recent story shares its distinctive words or names.")
    elif closest := re.search(r"closest scored [\d.]+: (.*)$", inner):
        said += _closest(closest[1])
    return ["Started a new story.", *said] if said else []


def _closest(verdict: str) -> list[str]:
    """Why the closest story did not take it."""
    said, figures = _scored(
        verdict,
        "For the closest story, ",
        "The closest story scored too little by the hand-tuned rules.",
    )
    if figures:
        contradictions = [w for c, w in _CONTRADICTIONS.items() if c in figures["rest"]]
        if contradictions:
            said.append(_listed(contradictions).capitalize() + ".")
    return said


def _model_words(model: re.Match[str]) -> str:
    p, threshold = float(model["p"]), float(model["threshold"])
    return (
        f"the learned model gives {p:.0%} that the two report the same event "
        f"(it joins from {threshold:.0%})."
    )


def _weighed(model: re.Match[str]) -> str:
    """What moved the model most, for and against: "Weighed most for: the wording"."""
    pushes: dict[str, list[str]] = {"for": [], "against": []}
    for item in (model["told"] or "").split(", "):
        name, _, value = item.rpartition(" ")
        about = _ABOUT.get(name.removesuffix("_short"))
        side = pushes["for" if value.startswith("+") else "against"]
        if about and about not in side:
            side.append(about)
    weighed = [f"{k}: {', '.join(v)}" for k, v in pushes.items() if v]
    return ("Weighed most " + "; ".join(weighed) + ".") if weighed else ""


def _in_common(figures: re.Match[str]) -> str:
    """What the article and the story share, by the rules' figures."""
    text, title = float(figures["text"]), float(figures["title"])
    names, kinds = float(figures["entities"]), float(figures["types"])
    shared = [f"{_much(text)} of the wording"] if text > 0 else []
    if title > 0:
        shared.append(f"{_much(title)} of the headline words")
    if names > 0:
        shared.append("the names given" if names >= 1 else "some of the names given")
    if kinds > 0:
        shared.append("the kind of incident")
    parts = ["in common: " + _listed(shared) if shared else "no wording or names in common"]
    if figures["meaning"] is not None:
        parts.append(_meaning(float(figures["meaning"])))
    decay = float(figures["decay"])
    if decay < 0.995:
        parts.append(f"counted at {decay:.0%} for the time between them")
    said = "; ".join(parts)
    return said[:1].upper() + said[1:] + "."


def _much(share: float) -> str:
    return "much" if share >= 0.5 else "some" if share >= 0.2 else "a little"


def _meaning(cosine: float) -> str:
    # The sentence model's cosine: the rules confirm a join from 0.77 and refuse one below
    # 0.5 (dedup.semantic.confirm and floor, as shipped).
    if cosine >= 0.77:
        return "close in meaning"
    return "related in meaning" if cosine >= 0.5 else "apart in meaning"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
