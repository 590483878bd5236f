"""Write monitor/web/geo/countries.geojson: low-resolution outlines of the countries the
shipped watchlists and the demo are about, for the console's map.

Source: Natural Earth's 1:110m Admin 0 countries (public domain), as the TopoJSON of the
`world-atlas` npm package (`npm pack world-atlas@2.0.2`, then
`python scripts/build-country-outlines.py package/countries-110m.json`). The arcs are
decoded and each ring simplified here (Douglas-Peucker, 0.05 degrees), coordinates rounded
to 0.01 degrees: about 10 KB for the region.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

# ISO 3166-1 numeric codes (the TopoJSON's ids): Iraq and its neighbours.
COUNTRIES = {
    "368": "Iraq", "760": "Syria", "364": "Iran", "792": "Turkey", "400": "Jordan",
    "682": "Saudi Arabia", "414": "Kuwait", "422": "Lebanon", "376": "Israel",
    "275": "Palestine",
}  # fmt: skip
TOLERANCE = 0.05
OUT = Path(__file__).parents[1] / "monitor" / "web" / "geo" / "countries.geojson"

Point = tuple[float, float]


def decode_arcs(topology: dict) -> list[list[Point]]:
    """Quantized, delta-encoded arcs -> lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(indices: list[int], arcs: list[list[Point]]) -> list[Point]:
    points: list[Point] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])  # arcs share their end points
    return points


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas-Peucker: keep the point farthest from the chord while it is off by more than
    ``tolerance``, recursively (iteratively here, so long rings cannot overflow the stack)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        far, index = 0.0, -1
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > far:
                far, index = d, i
        if index >= 0 and far > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _distance(p: Point, a: Point, b: Point) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:
        return math.hypot(x - x1, y - y1)
    return abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length


def polygons(geometry: dict, arcs: list[list[Point]]) -> list[list[list[list[float]]]]:
    shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
    out = []
    for shape in shapes:
        rings = []
        for indices in shape:
            points = simplify(ring(indices, arcs), TOLERANCE)
            if len(points) >= 4:  # a closed ring of at least a triangle
                rings.append([[round(x, 2), round(y, 2)] for x, y in points])
        if rings:
            out.append(rings)
    return out


def main(source: str) -> None:
    topology = json.loads(Path(source).read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = COUNTRIES.get(str(geometry.get("id")))
        if name is None:
            continue
        features.append({
            "type": "Feature",
            "properties": {"name": name},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons(geometry, arcs)},
        })  # fmt: skip
    features.sort(key=lambda f: f["properties"]["name"])
    document = {
        "type": "FeatureCollection",
        "source": "Natural Earth 1:110m Admin 0 countries (public domain), simplified",
        "features": features,
    }
    OUT.write_text(json.dumps(document, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(features)} countries)")


if __name__ == "__main__":
    main(sys.argv[1])
