"""Small watchlists written for the tests, in our own words."""
# ruff: noqa: E501  (exact error messages and YAML fixtures read best unwrapped)

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.classify.classifier import Classifier
from monitor.classify.watchlist import load_watchlists

BASE = """
incident_types:
  - id: shelling
    label: Shelling
    acled: Shelling/artillery/missile attack
    keywords: {shelling|artillery: 3, rocket|rockets: 2}
    patterns:
      - near: ["rocket*", "attack*|fired|struck"]
        within: 5
        weight: 3
    exclude: [rocket scien*]
  - id: rocket-attack
    label: Rocket attack
    parent: shelling
    keywords: {rocket attack*: 4}
    threshold: 4
  - id: air-strike
    label: Air strike
    acled: Air/drone strike
    keywords: {air strike*|air raid*: 4, strike|strikes: 1}
    exclude: [{term: hunger strike, scope: sentence}, {term: bowling, scope: article}]
entities:
  - {id: iraq, kind: country, name: Iraq}
  - {id: syria, kind: country, name: Syria}
  - {id: camp-taji, kind: military_base, name: Camp Taji, parent: iraq, aliases: [Taji base]}
  - {id: kataib-hezbollah, kind: armed_group, name: Kataib Hezbollah, aliases: ["Kata'ib Hezbollah", KH]}
  - {id: hezbollah, kind: armed_group, name: Hezbollah}
  - {id: pmf, kind: armed_group, name: Popular Mobilization Forces, aliases: [PMF]}
  - {id: hamas, kind: armed_group, name: Hamas}
rules:
  - id: attack-in-iraq
    incident_types: {any: [shelling, air-strike]}
    entities: {any: [iraq]}
    severity: medium
    escalate: [{killed: 1, severity: high}, {wounded: 20, severity: critical}]
    routes: [default]
  - id: militia-not-air
    incident_types: {any: [shelling], none: [air-strike]}
    entity_kinds: {any: [armed_group]}
    min_score: 6
    severity: low
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def _write(text: str, name: str = "w.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def classifier(write: Callable[..., Path]) -> Classifier:
    return Classifier(load_watchlists([write(BASE, "base.yaml")]))
