"""Same-kind twins, written for these tests: incidents of three kinds (an earthquake, a
car bombing, a shooting), each told by two outlets in different words; every incident of a
kind is told in the same template words, with its own village, town and toll. Places are
invented. Deterministic: no randomness, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.types import Article

START = datetime(2026, 4, 7, 6, 0, tzinfo=UTC)
VILLAGES = (
    "Tell Hamra", "Khirbet Sawda", "Bir Zarqa", "Jisr Bayda", "Kafr Mansur", "Umm Rashid",
    "Qasr Nasir", "Ain Jamil", "Tell Salim", "Khirbet Hamra", "Bir Sawda", "Jisr Zarqa",
)  # fmt: skip
TOWNS = ("Dunmore", "Haldane", "Pelham")

# (first outlet, second outlet): the second names the village in other words.
KINDS = (
    (
        "Earthquake flattens homes in {village}, killing {killed}",
        "A strong earthquake struck {village}, a hill village {km} km north of {town}, "
        "shortly after dawn, killing {killed} people and injuring {wounded}, the district "
        "governor said. Rescue teams from {town} searched the rubble of collapsed houses with "
        "dogs and lifting gear until nightfall. Tents and blankets were handed out at the "
        "school, the only building left standing near the square. Aftershocks shook the "
        "valley through the morning and families slept outside in the orchards.",
        "{village} buries its dead after the quake",
        "Residents of {village} buried {killed} victims of the morning quake on Tuesday as "
        "aftershocks kept shaking the hills; {wounded} injured people were taken to the "
        "hospital in {town}. Many families said they would not return to cracked houses. "
        "Volunteers brought bread, water and medicine, and engineers began checking the "
        "walls of the mosque and the school for damage before any repairs.",
    ),
    (
        "Car bomb kills {killed} at the bus station of {village}",
        "A car packed with explosives blew up at the bus station of {village}, {km} km from "
        "{town}, during the morning rush, killing {killed} passengers and wounding {wounded}, "
        "police said. The blast tore the roofs off the ticket booths and set minibuses on "
        "fire. No group claimed the bombing. Police sealed the roads into the village and "
        "questioned the drivers who park their cars near the station every day.",
        "{village} mourns {killed} killed in station bombing",
        "Shops stayed shut in {village} a day after the car bombing at its bus station, in "
        "which {killed} people died; {wounded} wounded remain in hospital in {town}. Mourners "
        "gathered outside the mosque for the funerals. The bus company said its routes to "
        "the village were suspended until the police finish their search of the area.",
    ),
    (
        "Gunmen kill {killed} at a wedding in {village}",
        "Gunmen on motorbikes opened fire on a wedding party in {village}, {km} km west of "
        "{town}, late in the evening, killing {killed} guests and wounding {wounded}, a "
        "police officer said. The attackers fled towards the hills before the police "
        "arrived. Relatives said the families had no known enemies and the wedding had been "
        "announced at the market for weeks. The provincial governor promised an inquiry.",
        "{village} shooting: relatives describe wedding attack",
        "Guests at the wedding in {village} where gunmen killed {killed} people described "
        "men on motorbikes firing into the courtyard as the music played; {wounded} wounded "
        "were treated in {town}. The police said they were searching the hills for the "
        "attackers. The bride's uncle said the families had never received threats.",
    ),
)


@dataclass(frozen=True, slots=True)
class Incident:
    number: int
    reports: tuple[Article, Article]


def incidents(count: int = 12) -> list[Incident]:
    """``count`` incidents, kinds in turn, each reported by two outlets within the hour;
    the incidents of one kind fall within hours of each other."""
    out = []
    for i in range(count):
        first_title, first_text, later_title, later_text = KINDS[i % len(KINDS)]
        facts = {
            "village": VILLAGES[i % len(VILLAGES)],
            "town": TOWNS[i % len(TOWNS)],
            "km": 5 + 7 * i % 40,
            "killed": 2 + 3 * i % 9,
            "wounded": 4 + 5 * i % 17,
        }
        at = START + timedelta(minutes=25 * i)
        reports = (
            _article(f"first-{i}", first_title, first_text, facts, at),
            _article(f"later-{i}", later_title, later_text, facts, at + timedelta(minutes=40)),
        )
        out.append(Incident(i, reports))
    return out


def _article(key: str, title: str, text: str, facts: dict[str, object], at: datetime) -> Article:
    return Article(
        key=key,
        url=f"http://127.0.0.1/outlet-{key}/{key}",
        source=f"Outlet {key}",
        published=at,
        title=title.format(**facts),
        text=text.format(**facts),
    )


def stream(count: int = 12) -> list[Article]:
    """Every report of ``incidents(count)``, in publication order."""
    reports = [r for incident in incidents(count) for r in incident.reports]
    return sorted(reports, key=lambda a: (a.published, a.key))
