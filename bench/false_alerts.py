"""How often general news alerts: the share of texts a shipped rule fires on, and which rule.

The 1,431 general texts of ../shared/data/story-dedup (322 SemEval articles, 1,109 UCI
headlines) and the 181 extraction pages are ordinary news: business, sport, politics, a
little conflict. With the shipped watchlists every rule that fires on them is, with few
exceptions, a false alert. "Now": rules read the article's main event (background
discounted); "before": rules read every match in the text, as until this change.
Run: .venv/bin/python -m bench.false_alerts
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from bench import _dedup
from bench._report import SHARED, sample, update_section
from monitor.classify.casualties import extract_casualties
from monitor.classify.classifier import Classifier
from monitor.classify.rules import Facts, evaluate
from monitor.config import load_config
from monitor.extract.html import extract_html
from monitor.resources import shipped_config_dir
from monitor.types import RuleHit

COMMAND = ".venv/bin/python -m bench.false_alerts"
PUBLISHED = datetime(2020, 1, 1, 12, tzinfo=UTC)  # the sets' texts carry no usable time


def corpora() -> dict[str, list[tuple[str, str]]]:
    """{name: [(title, text)]} of the general-news sets that are present."""
    sets: dict[str, list[tuple[str, str]]] = {}
    if _dedup.SEMEVAL.exists():
        sets["SemEval articles"] = [(x["title"], x["text"]) for x in _dedup.semeval_inputs()[0]]
    if _dedup.UCI.exists():
        sets["UCI headlines"] = [(x["title"], x.get("text", "")) for x in _dedup.uci_inputs()[0]]
    pages = SHARED / "data" / "extraction"
    if pages.exists():
        from bench.extract_quality import NOW, load_pages

        found = [extract_html(p.html, url=None, now=NOW) for p in sample(load_pages())]
        sets["extraction pages"] = [(f.title or "", f.text) for f in found if f is not None]
    return sets


def fired(classifier: Classifier, texts: Iterable[tuple[str, str]]) -> tuple[Counter[str], ...]:
    """(rules fired now, rules fired before), each counted once per text."""
    now: Counter[str] = Counter()
    before: Counter[str] = Counter()
    for title, text in texts:
        c = classifier.classify(title=title, text=text, published=PUBLISHED)
        now.update({r.rule_id for r in c.rules} or {"(none)"})
        facts = Facts(c.incident_types, c.entities, extract_casualties(f"{title}\n{text}"))
        old = [
            h for r in classifier.watchlist.rules if isinstance(h := evaluate(r, facts), RuleHit)
        ]
        before.update({h.rule_id for h in old} or {"(none)"})
    return now, before


def main() -> None:
    sets = corpora()
    if not sets:
        print("skipped: ../shared is not present")
        return
    classifier = Classifier(load_config(shipped_config_dir() / "monitor.yaml").watchlist)
    rows, rules = [], []
    for name, texts in sets.items():
        texts = list(sample(texts, 20))  # a smoke run counts the texts it classified
        now, before = fired(classifier, texts)
        n = len(texts)
        share_now, share_before = 1 - now["(none)"] / n, 1 - before["(none)"] / n
        rows.append(
            f"| {name} | {n} | **{share_now:.1%}** ({n - now['(none)']}) "
            f"| {share_before:.1%} ({n - before['(none)']}) |"
        )
        for rule in sorted(set(now) | set(before) - {"(none)"}):
            if rule != "(none)":
                rules.append(f"| {name} | `{rule}` | {now[rule]} | {before[rule]} |")
    md = (
        "## false-alerts: how often general news alerts (shipped watchlists)\n\n"
        "Share of texts on which at least one shipped rule fires (an alert), on general "
        "news sets; nearly every such alert is false. *Now*: rules read the main event "
        "(`classify/event.py`); *before*: rules read every match in the text. Nothing was "
        "tuned on these sets.\n\n"
        "| set | texts | alerting now | alerting before |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n| set | rule | texts now | texts before |\n|---|---|---|---|\n"
        + "\n".join(rules)
    )
    update_section("false-alerts", md, command=COMMAND)
    print(md)


if __name__ == "__main__":
    main()
