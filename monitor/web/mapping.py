"""The map of recent stories: each story's place, located by the watchlist's
``coordinates`` (the place's own, else its nearest ancestor's), drawn as inline SVG over the
country outlines shipped in geo/countries.geojson (Natural Earth, public domain). No tile
server, no script: the page is complete as served."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.classify.watchlist import Watchlist
from monitor.storage.models import Story

OUTLINES = Path(__file__).parent / "geo" / "countries.geojson"
WIDTH = 800
MAX_STORIES = 500


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    lat: float
    lon: float
    stories: tuple[int, ...]  # newest first
    headlines: tuple[str, ...]


def located_places(
    *, session: Session, watchlist: Watchlist | None, now: datetime, days: int
) -> list[Place]:
    """The places of stories seen in the last ``days`` that the watchlist can locate."""
    where = _locator(watchlist)
    query = (
        select(Story.id, Story.headline, Story.event)
        .where(Story.merged_into_id.is_(None), Story.last_seen >= now - timedelta(days=days))
        .order_by(Story.last_seen.desc(), Story.id.desc())
        .limit(MAX_STORIES)
    )
    found: dict[str, tuple[str, tuple[float, float], list[int], list[str]]] = {}
    for story_id, headline, event in session.execute(query):
        place = (event or {}).get("place") or {}
        point = where.get(str(place.get("id")))
        if point is None:
            continue
        entry = found.setdefault(place["id"], (place.get("name") or place["id"], point, [], []))
        entry[2].append(story_id)
        entry[3].append(headline)
    return [
        Place(pid, name, lat, lon, tuple(ids), tuple(heads))
        for pid, (name, (lat, lon), ids, heads) in sorted(found.items())
    ]


def _locator(watchlist: Watchlist | None) -> dict[str, tuple[float, float]]:
    """Entity id -> its coordinates, or its nearest ancestor's (a base without its own
    coordinates is drawn at its city's)."""
    if watchlist is None:
        return {}
    own = {e.id: e.coordinates for e in watchlist.entities if e.coordinates is not None}
    located = {}
    for entity in watchlist.entities:
        for eid in (entity.id, *watchlist.entity_ancestors(entity.id)):
            if eid in own:
                located[entity.id] = own[eid]
                break
    return located


@cache
def outlines() -> tuple[tuple[str, tuple[tuple[tuple[float, float], ...], ...]], ...]:
    """(country name, its rings of (lon, lat)) from the shipped GeoJSON."""
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    countries = []
    for feature in data["features"]:
        rings = tuple(
            tuple((float(x), float(y)) for x, y in ring)
            for polygon in feature["geometry"]["coordinates"]
            for ring in polygon
        )
        countries.append((str(feature["properties"]["name"]), rings))
    return tuple(countries)


def svg_map(places: Sequence[Place]) -> dict[str, Any]:
    """What the template draws: a viewBox, one path per country, one circle per place.

    Equirectangular, with longitudes shrunk by the cosine of the middle latitude so shapes
    look right at these latitudes; the frame holds the shipped countries and every place.
    """
    countries = outlines()
    lons = [x for _, rings in countries for ring in rings for x, _ in ring]
    lats = [y for _, rings in countries for ring in rings for _, y in ring]
    lons += [p.lon for p in places]
    lats += [p.lat for p in places]
    west, east, south, north = min(lons) - 1, max(lons) + 1, min(lats) - 1, max(lats) + 1
    shrink = math.cos(math.radians((north + south) / 2))
    scale = WIDTH / ((east - west) * shrink)
    height = round((north - south) * scale)

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - west) * shrink * scale, 1), round((north - lat) * scale, 1)

    paths = [
        {"name": name, "d": " ".join(_ring_path(ring, xy) for ring in rings)}
        for name, rings in countries
    ]
    dots = []
    for place in places:
        x, y = xy(place.lon, place.lat)
        dots.append(
            {"place": place, "x": x, "y": y, "r": round(4 + 2 * math.sqrt(len(place.stories)), 1)}
        )
    return {"width": WIDTH, "height": height, "countries": paths, "dots": dots}


def _ring_path(ring: Sequence[tuple[float, float]], xy: Any) -> str:
    points = [xy(lon, lat) for lon, lat in ring]
    return "M" + " L".join(f"{x},{y}" for x, y in points) + " Z"


def place_json(place: Place) -> Mapping[str, Any]:
    return {
        "id": place.id, "name": place.name, "lat": place.lat, "lon": place.lon,
        "stories": list(place.stories),
    }  # fmt: skip
