"""Dense text costs linear work: the match-pair checks against brute force, and counted work.

The fast versions of the proximity search (``near_hits``), the outermost-hit filter and
the overlap filter are compared with the obvious all-pairs versions on random inputs;
then a dense article's classification is shown to do O(n) Python work by counting the
lines executed (not by timing) at two sizes.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from monitor.classify import casualties
from monitor.classify.casualties import count_mentions
from monitor.classify.classifier import Classifier, within_limit
from monitor.classify.entities import AliasHit, longest_first
from monitor.classify.incidents import _outermost, near_hits
from monitor.classify.normalize import MAX_QUOTE, FoldedText
from monitor.classify.terms import Hit
from monitor.dedup.text import sentences

SEEDS = range(300)


# --- brute-force references: every pair compared, as the code did before ---------------


def near_reference(
    text: FoldedText, found: list[list[Hit]], within: int, ordered: bool
) -> list[Hit]:
    if not all(found):
        return []
    out = []
    for anchor in found[0]:
        sentence = text.sentence_index(text.tokens[anchor.first].start)
        span = [anchor.first, anchor.last]
        for hits in found[1:]:
            best, best_gap = None, within + 1
            for h in hits:
                if h.first > anchor.last:
                    gap = h.first - anchor.last
                elif not ordered and h.last < anchor.first:
                    gap = anchor.first - h.last
                else:
                    continue
                same = text.sentence_index(text.tokens[h.first].start) == sentence
                if same and gap < best_gap:
                    best, best_gap = h, gap
            if best is None:
                break
            span = [min(span[0], best.first), max(span[1], best.last)]
        else:
            out.append(Hit(span[0], span[1]))
    return out


def outermost_reference(hits: list[tuple[str, float, Hit]]) -> list[tuple[str, float, Hit]]:
    ordered = sorted(hits, key=lambda h: (h[2].first - h[2].last, -h[1], h[2].first))
    kept: list[tuple[str, float, Hit]] = []
    for hit in ordered:
        h = hit[2]
        if not any(k[2].first <= h.first and h.last <= k[2].last for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda k: k[2].first)


def longest_first_reference(hits: list[AliasHit]) -> list[AliasHit]:
    def preference(hit: AliasHit) -> tuple[int, bool, int, bool, bool]:
        return (hit.first - hit.last, hit.fuzzy, hit.first, hit.demonym, not hit.possessive)

    kept: list[AliasHit] = []
    for hit in sorted(hits, key=preference):
        clash = [k for k in kept if k.first <= hit.last and hit.first <= k.last]
        same_span = all(k.first == hit.first and k.last == hit.last for k in clash)
        if same_span and not any(k.entity == hit.entity for k in clash):
            kept.append(hit)
    return sorted(kept, key=lambda h: h.first)


# --- random inputs ------------------------------------------------------------------------


def random_text(rng: random.Random, words: int) -> FoldedText:
    """Words, some ending a sentence ("w3." then a capital), some a paragraph."""
    parts = []
    for i in range(words):
        end = rng.random() < 0.15
        parts.append(f"W{i}." if end else f"w{i}")
        if rng.random() < 0.03:
            parts.append("\n")
    return FoldedText(" ".join(parts))


def random_spans(rng: random.Random, tokens: int, count: int, longest: int) -> list[Hit]:
    """Non-overlapping spans in text order, as CompiledTerm.find returns them."""
    out: list[Hit] = []
    at = rng.randrange(3)
    while len(out) < count and at < tokens:
        last = min(tokens - 1, at + rng.randrange(longest))
        out.append(Hit(at, last))
        at = last + 1 + rng.randrange(6)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_proximity_search_finds_what_comparing_every_pair_finds(seed: int) -> None:
    rng = random.Random(seed)
    text = random_text(rng, rng.randrange(1, 120))
    n = len(text.tokens)
    groups = rng.randrange(1, 4)
    found = [random_spans(rng, n, rng.randrange(0, 25), 3) for _ in range(groups)]
    within, ordered = rng.randrange(0, 12), rng.random() < 0.5
    assert near_hits(text, found, within, ordered) == near_reference(text, found, within, ordered)


@pytest.mark.parametrize("seed", SEEDS)
def test_outermost_keeps_what_comparing_every_pair_keeps(seed: int) -> None:
    rng = random.Random(seed)
    hits = []
    for _ in range(rng.randrange(0, 40)):
        first = rng.randrange(30)
        hit = Hit(first, first + rng.randrange(4))
        hits.append((rng.choice("abcd"), rng.choice((1.0, 2.0, -1.0)), hit))
    assert _outermost(hits) == outermost_reference(hits)


@pytest.mark.parametrize("seed", SEEDS)
def test_overlap_filter_keeps_what_comparing_every_pair_keeps(seed: int) -> None:
    rng = random.Random(seed)
    hits = []
    for _ in range(rng.randrange(0, 40)):
        first = rng.randrange(30)
        hits.append(
            AliasHit(
                rng.randrange(4),
                first,
                first + rng.randrange(4),
                fuzzy=rng.random() < 0.3,
                demonym=rng.random() < 0.2,
                possessive=rng.random() < 0.2,
            )
        )
    assert longest_first(hits) == longest_first_reference(hits)


# --- counted work --------------------------------------------------------------------------

DENSE = (
    "Rockets hit Baghdad. Kataib Hezbollah fired rockets at Camp Taji, killing 2 soldiers. "
    "An air strike near Basra wounded 3 people. Kitaeb Hezbollah denied it. "
)


def lines_executed(run: Callable[[], Any]) -> int:
    """Python lines of monitor/ executed by ``run()``: work, counted, not timed."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if "/monitor/" in frame.f_code.co_filename else None

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def test_a_dense_article_costs_linear_work(classifier: Classifier) -> None:
    def work(repeats: int) -> int:
        text = DENSE * repeats
        return lines_executed(lambda: classifier.classify(title="Rockets hit Baghdad", text=text))

    classifier.classify(title="warm", text=DENSE)  # caches (fold, skeleton) filled once
    small, large = work(50), work(200)
    # Four times the text: about four times the work (all-pairs matching made it ~16x).
    assert large < 4.4 * small, (small, large)


def test_a_dense_article_with_the_shipped_watchlists_costs_linear_work() -> None:
    from monitor.config import load_config
    from monitor.resources import shipped_config_dir

    shipped = Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)
    shipped.classify(title="warm", text=DENSE)
    small, large = (
        lines_executed(lambda r=r: shipped.classify(title="Rockets", text=DENSE * r))  # type: ignore[misc]
        for r in (40, 160)
    )
    assert large < 4.4 * small, (small, large)


def test_actors_parts_in_a_run_on_sentence_cost_linear_work(classifier: Classifier) -> None:
    """Each mention's part is read from the words near it, with the names near it: a
    sentence of thousands of names (no full stop) costs no more per mention."""

    def work(repeats: int) -> int:
        text = "Hamas blamed Kataib Hezbollah, which the PMF said fired rockets, and " * repeats
        return lines_executed(lambda: classifier.classify(title="Rockets", text=text))

    classifier.classify(title="warm", text=DENSE)
    small, large = work(60), work(240)
    assert large < 4.4 * small, (small, large)


# --- hostile shapes keep their meaning ------------------------------------------------------


def test_a_run_on_sentence_is_quoted_around_each_mention(classifier: Classifier) -> None:
    # No full stop in 60,000 characters: each mention quotes its neighbourhood, not a copy
    # of the whole text (which made memory grow with mentions x length).
    text = "rockets hit the Kataib Hezbollah base and " * 1500
    result = classifier.classify(title="Attack", text=text)
    mentions = [m for e in result.entities for m in e.mentions]
    assert len(mentions) > 1000
    assert all(len(m.sentence) <= MAX_QUOTE and m.text in m.sentence for m in mentions)
    assert all(len(e.sentence) <= MAX_QUOTE for t in result.incident_types for e in t.evidence)


def test_a_sentence_of_normal_length_is_quoted_whole() -> None:
    sentence = "Rockets hit Camp Taji on Wednesday, " + "officials said, " * 40 + "again."
    folded = FoldedText(f"Title\n{sentence} Next sentence.")
    assert folded.sentence(len("Title\n") + 3) == sentence


# Words that make counts, cues, clause breaks and words a cue hides in ("skill", "deadline").
COUNT_WORDS = [
    "killed", "wounded", "injured", "hurt", "dead", "died", "slain", "toll", "death", "claimed",
    "lives", "deaths", "no", "one", "was", "were", "at", "least", "more", "than", "two",
    "hundred", "and", "a", "dozen", "14", "1,200", "people", "U.S.", "soldiers", "police",
    "said", "after", "weeks", "the", "earlier", "attack", "skill", "deadline", "in", "Kabul",
    ",", ".", ";", "(", "\n", "\t",
]  # fmt: skip


def mentions_scanning_everything(text: str) -> list[tuple[str, int, int, int]]:
    """count_mentions as it was: every pattern searched from the text's first character."""
    found = []
    for kind, patterns in casualties._PATTERNS.items():
        for pattern in patterns:
            for m in pattern.finditer(text):
                if casualties._refers_to_earlier_event(text, m.start()):
                    continue
                n = casualties._count(next(g for g in m.groups()[::-1] if g is not None))
                if n is not None:
                    found.append((kind, n, m.start(), m.end()))
    return sorted(found, key=lambda c: (c[2], c[0]))


@pytest.mark.parametrize("seed", SEEDS)
def test_counts_searched_from_the_first_cue_are_those_of_a_full_scan(seed: int) -> None:
    rng = random.Random(seed)
    words = [rng.choice(COUNT_WORDS) for _ in range(rng.randrange(1, 80))]
    text = "".join(w + rng.choice(("", " ", " ", " ", "  ")) for w in words)
    got = [(c.kind, c.value, c.start, c.end) for c in count_mentions(text)]
    assert got == mentions_scanning_everything(text)


def test_numbers_with_thousands_separators_still_count() -> None:
    [mention] = count_mentions("The quake killed 1,204,000 people.")
    assert mention.value == 1_204_000
    # A run of 5,000 groups is read once from its start, and is no count (it crashed int()).
    assert count_mentions("killed " + "1" + ",000" * 5000 + " people") == []
    assert count_mentions("killed " + "7" * 5000 + " people") == []


def test_contact_lines_are_still_dropped_and_long_words_kept() -> None:
    text = "Rockets hit the base.\nWrite to press.office@army.localhost for details.\n" + "x" * 5000
    assert sentences(text) == ["Rockets hit the base.", "x" * 5000]


# --- the cap ----------------------------------------------------------------------------------


def test_within_limit_cuts_between_words() -> None:
    title, text, cut = within_limit("Title", "Rockets hit Baghdad today " * 100, 1000)
    assert cut and len(title) + 1 + len(text) <= 1000
    assert text.endswith("Baghdad today") or text.split()[-1] in ("Rockets", "hit", "Baghdad")
    assert within_limit("T", "short", 1000) == ("T", "short", False)


def test_a_huge_article_is_classified_on_its_first_part(classifier: Classifier) -> None:
    capped = Classifier(classifier.watchlist, max_text_chars=5_000)
    text = "Rockets hit Camp Taji. " * 20_000  # 460,000 characters
    result = capped.classify(title="Rocket attack on Camp Taji", text=text)
    assert result.truncated and result.analysed_chars is not None
    assert result.analysed_chars <= 5_000
    assert result.incident_types  # the part read still says what happened
    assert all(m.end <= 5_000 for e in result.entities for m in e.mentions)
    whole = capped.classify(title="Rocket attack", text="Rockets hit Camp Taji.")
    assert not whole.truncated and whole.analysed_chars is None


def test_explain_says_the_text_was_truncated(classifier: Classifier) -> None:
    from monitor.classify.explain import explain_json, explain_text

    capped = Classifier(classifier.watchlist, max_text_chars=1_000)
    text = "Rockets hit Camp Taji. " * 100
    result = capped.classify(title="Attack", text=text)
    shown = explain_text("Attack", text, result, color=False)
    assert f"first {result.analysed_chars:,} of {len(text):,} characters" in shown
    assert explain_json("Attack", text, result)["truncated"] is True
