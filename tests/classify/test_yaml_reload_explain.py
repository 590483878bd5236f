"""YAML errors with exact messages, hot reload, explain output."""
# ruff: noqa: E501  (exact error messages and YAML fixtures read best unwrapped)

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.classify.explain import explain_json, explain_text
from monitor.classify.reload import ReloadableClassifier
from monitor.classify.watchlist import load_watchlists
from monitor.errors import ConfigError

from .conftest import BASE


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_watchlists([path])
    return info.value.errors


def test_every_problem_is_listed_with_file_line_and_key(write: Callable[..., Path]) -> None:
    path = write(
        """entities:
  - id: iraq
    kind: country
    name: Iraq
    colour: red
  - id: Bad Id
    kind: planet
    name: X
rules:
  - id: r1
    entities: {any: [irak]}
    severity: huge
""")  # fmt: skip
    assert errors_of(path) == [
        f"{path}:5: entities.0.colour: unknown key; allowed here: id, kind, name, aliases, parent, fuzzy, demonyms, plural, coordinates",
        f"{path}:6: entities.1.id: ids use lowercase letters, digits, '-' and '_' (e.g. kataib-hezbollah)",
        f"{path}:7: entities.1.kind: must be one of 'armed_group', 'state_force', 'military_base', 'facility', 'location', 'country', 'person', 'organization' or 'weapon', got 'planet'",
        f"{path}:12: rules.0.severity: must be one of 'info', 'low', 'medium', 'high' or 'critical', got 'huge'",
    ]  # fmt: skip


def test_cross_file_duplicates_unknown_refs_and_cycles(write: Callable[..., Path]) -> None:
    a = write("entities:\n  - {id: iraq, kind: country, name: Iraq, parent: iraqq}\n", "a.yaml")
    b = write(
        "include: [a.yaml]\n"
        "entities:\n  - {id: iraq, kind: country, name: Iraq}\n"
        "incident_types:\n  - {id: x, label: X, parent: y}\n  - {id: y, label: Y, parent: x}\n"
        "rules:\n  - id: r\n    entities: {any: [iraqi]}\n",
        "b.yaml",
    )
    assert errors_of(b) == [
        f"{b}:3: entities.0.id: duplicate id 'iraq' (first defined at {a}:2)",
        f"{a}:2: entities.0.parent: unknown id 'iraqq'; did you mean 'iraq'?",
        f"{b}:5: incident_types.0.parent: 'x' is its own ancestor (parent cycle)",
        f"{b}:6: incident_types.1.parent: 'y' is its own ancestor (parent cycle)",
        f"{b}:9: rules.0.entities.any.0: unknown id 'iraqi'; did you mean 'iraq'?",
    ]


def test_syntax_error_and_bad_term(write: Callable[..., Path]) -> None:
    bad = write("entities: [\n", "s.yaml")
    assert errors_of(bad)[0].startswith(f"{bad}:2: invalid YAML")
    term = write(
        "incident_types:\n  - id: t\n    label: T\n    keywords: {'rock*et': 2}\n", "t.yaml"
    )
    [msg] = errors_of(term)
    assert msg.startswith(f"{term}:4: incident_types.0.keywords.rock*et")
    assert "'*' only at the end of a word" in msg


def test_reload_keeps_previous_watchlists_on_error(write: Callable[..., Path]) -> None:
    path = write(BASE, "live.yaml")
    live = ReloadableClassifier(lambda: load_watchlists([path]))
    first = live.current
    assert live.reload_if_changed([path]) == []  # first look only records
    path.write_text(BASE + "\n  - {id: broken}\n", encoding="utf-8")
    errors = live.reload_if_changed([path])
    assert errors and "rules.2" in errors[0]
    assert live.current is first
    path.write_text(
        BASE.replace("name: Hamas", "name: Hamas, aliases: [Harakat]"), encoding="utf-8"
    )
    assert live.reload() == []
    assert live.current is not first
    hit = live.current.classify(title="x", text="Harakat said so.")
    assert [e.id for e in hit.entities] == ["hamas"]
    assert live.reload_if_changed([path]) == []  # unchanged since the last look


def test_explain_shows_evidence_rules_and_why_not(write: Callable[..., Path]) -> None:
    from monitor.classify.classifier import Classifier

    c = Classifier(load_watchlists([write(BASE)]))
    title, text = "Rocket attack on Camp Taji", "It killed two soldiers, officials said."
    result = c.classify(title=title, text=text)
    out = explain_text(title, text, result, color=False)
    assert "»Rocket attack« on Camp Taji" in out
    assert "attack-in-iraq -> high" in out
    assert "mention(s)" not in out and re.search(r"\] \(in [^)]*\): 1 mention$", out, re.M)
    assert "militia-not-air: no entity kind among armed_group" in out
    data = explain_json(title, text, result)
    assert data["casualties"]["killed"] == 2
    assert data["rules_fired"][0]["rule_id"] == "attack-in-iraq"
    assert "\033[" in explain_text(title, text, result, color=True)
