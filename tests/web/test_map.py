"""The map: entity coordinates in watchlists (validated), stories located by their place or
its nearest ancestor, drawn as inline SVG over the shipped Natural Earth outlines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from webkit import T0, add

from monitor.classify.watchlist import load_watchlists
from monitor.errors import ConfigError
from monitor.resources import shipped_config_dir
from monitor.web.app import create_app
from monitor.web.deps import Console
from monitor.web.mapping import outlines
from monitor.web.settings import WebSettings

WATCHLIST = """entities:
  - {id: iraq, kind: country, name: Iraq, coordinates: [33.2, 43.7]}
  - {id: camp-taji, kind: military_base, name: Camp Taji, parent: iraq, coordinates: [33.53, 44.26]}
  - {id: balad, kind: military_base, name: Balad Air Base, parent: iraq}
  - {id: atlantis, kind: location, name: Atlantis}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("coordinates", "problem"),
    [("[91, 10]", "less than or equal to 90"), ("[10, -181]", "greater than or equal to -180"),
     ("[10]", "coordinates"), ("[1, 2, 3]", "coordinates"), ("here", "coordinates")],
)  # fmt: skip
def test_coordinates_are_checked(tmp_path: Path, coordinates: str, problem: str) -> None:
    text = f"entities:\n  - {{id: x, kind: location, name: X, coordinates: {coordinates}}}\n"
    with pytest.raises(ConfigError, match=problem):
        load_watchlists([write(tmp_path, text)])


def test_the_shipped_outlines_hold_the_shipped_places() -> None:
    countries = dict(outlines())
    assert {"Iraq", "Syria", "Iran"} <= set(countries)
    shipped = load_watchlists(sorted((shipped_config_dir() / "watchlists").glob("*.yaml")))
    where = {e.id: e.coordinates for e in shipped.entities if e.coordinates}
    for place, country in (("baghdad", "Iraq"), ("deir-ez-zor", "Syria"), ("basra", "Iraq")):
        lat, lon = where[place]
        assert any(_inside(lon, lat, ring) for ring in countries[country]), place


def _inside(x: float, y: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: does the ring (lon, lat) contain the point?"""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_recent_stories_are_drawn_at_their_place_or_its_parent(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    watchlist = load_watchlists([write(tmp_path, WATCHLIST)])
    with sessions.begin() as s:
        taji = add(s, 1, event={"place": {"id": "camp-taji", "name": "Camp Taji"}}).id
        balad = add(s, 2, event={"place": {"id": "balad", "name": "Balad Air Base"}}).id
        add(s, 3, event={"place": {"id": "atlantis", "name": "Atlantis"}})  # no coordinates
        add(s, 4)  # no place
        old = add(s, 5, event={"place": {"id": "camp-taji", "name": "Camp Taji"}})
        old.last_seen = T0 - timedelta(days=90)
    now = T0 + timedelta(days=1)
    console = Console(WebSettings(), sessions, clock=lambda: now, watchlist=lambda: watchlist)
    web = TestClient(create_app(console), base_url="http://127.0.0.1")
    places = {p["id"]: p for p in web.get("/api/v1/map").json()}
    assert set(places) == {"camp-taji", "balad"}
    assert (places["camp-taji"]["lat"], places["camp-taji"]["stories"]) == (33.53, [taji])
    assert (places["balad"]["lat"], places["balad"]["lon"]) == (33.2, 43.7)  # Iraq's
    assert places["balad"]["stories"] == [balad]
    assert len(web.get("/api/v1/map?days=365").json()[0]["stories"]) in (1, 2)
    page = web.get("/map").text
    assert page.count('class="country"') == len(outlines())
    assert 'data-place="camp-taji"' in page and 'href="/?place=camp-taji"' in page
    assert 'data-place="atlantis"' not in page
    assert 'href="http' not in page and 'src="http' not in page  # nothing from elsewhere
