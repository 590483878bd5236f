"""Sample reports written for these tests (invented places and groups, our own words)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.types import Article

T0 = datetime(2021, 5, 4, 21, 30, tzinfo=UTC)


def published(article: Article) -> datetime:
    """The date of a sample that has one (an Article's date is optional)."""
    assert article.published is not None, article.key
    return article.published


# Attack 1, first outlet: Saraya al-Fajr fires rockets at Camp Redwood.
ATTACK_FIRST = Article(
    key="ridge-courier-1",
    url="http://127.0.0.1:8101/news/camp-redwood-rockets",
    source="Ridge Courier",
    published=T0,
    title="Rockets strike Camp Redwood, wounding four contractors",
    text=(
        "At least six rockets landed inside Camp Redwood late on Tuesday, wounding four "
        "civilian contractors, base officials said. The salvo was launched from a truck parked "
        "in farmland east of the perimeter, where the launcher was later found burned out.\n"
        "Saraya al-Fajr, an armed faction active in the province, claimed the rocket attack in "
        "a message posted on its channel hours later. Two of the wounded were flown to a "
        "military hospital. Sirens sounded across the base and personnel sheltered in bunkers "
        "for more than an hour. The governor condemned the salvo and promised an inquiry."
    ),
)

# Attack 1, second outlet, the next morning: other words, other spelling of the faction.
ATTACK_SECOND = Article(
    key="delta-wire-7",
    url="http://127.0.0.1:8102/2021/05/05/redwood",
    source="Delta Wire",
    published=T0 + timedelta(hours=11),
    title="Militia claims overnight rocket salvo on Camp Redwood",
    text=(
        "A faction calling itself Sarayat al-Fajer said on Wednesday that it fired the rockets "
        "that hit Camp Redwood overnight. Four contractors were hurt, according to a statement "
        "from the base. Security forces recovered a charred launcher on a truck east of the "
        "perimeter. Residents of nearby villages reported loud blasts before midnight. The "
        "provincial governor called the rocket attack a crime and ordered an investigation."
    ),
)

# A different attack by the same faction on the same base, a week later.
ATTACK_WEEK_LATER = Article(
    key="ridge-courier-9",
    url="http://127.0.0.1:8101/news/redwood-drone",
    source="Ridge Courier",
    published=T0 + timedelta(days=7, hours=3),
    title="Drone attack on Camp Redwood damages fuel depot",
    text=(
        "An explosive-laden drone struck a fuel depot at Camp Redwood on Wednesday, starting a "
        "fire that burned for several hours, officials said. Nobody was hurt. Saraya al-Fajr "
        "claimed the drone attack, the second it has claimed against the base this month. "
        "Firefighters from the nearby town helped contain the blaze at the depot. The governor "
        "said air defences would be reinforced around the base."
    ),
)

# A second rocket salvo on the same base two days later, reported in much the same words.
ATTACK_AGAIN = Article(
    key="ridge-courier-5",
    url="http://127.0.0.1:8101/news/redwood-runway",
    source="Ridge Courier",
    published=T0 + timedelta(days=2),
    title="Camp Redwood hit by rockets again, runway damaged",
    text=(
        "Three rockets struck Camp Redwood on Thursday evening, the second salvo against the "
        "base this week, damaging a section of the runway, base officials said. No one was "
        "hurt. Saraya al-Fajr claimed the attack in a statement, saying it would keep "
        "targeting the base until foreign forces leave. Security forces found the launch site "
        "in an orchard south of the perimeter. Flights were suspended while engineers "
        "inspected the runway."
    ),
)

# Another base hit the same night by the same faction with the same means: another attack.
OTHER_BASE = Article(
    key="delta-wire-8",
    url="http://127.0.0.1:8102/2021/05/04/ashford",
    source="Delta Wire",
    published=T0 + timedelta(hours=1),
    title="Rockets target Camp Ashford airfield in second attack of the night",
    text=(
        "Two rockets fell near the airfield at Camp Ashford late on Tuesday, about an hour "
        "after another base in the province came under fire, a security official said. There "
        "were no casualties. Saraya al-Fajr said its fighters launched the rockets from an "
        "orchard north of the camp. Police closed the road to the airfield while bomb disposal "
        "teams searched the area."
    ),
)

# Unrelated news of the same day.
FLOOD = Article(
    key="valley-post-3",
    url="http://127.0.0.1:8103/floods",
    source="Valley Post",
    published=T0 + timedelta(hours=5),
    title="River floods low-lying districts of Marren after two days of rain",
    text=(
        "The Marren river burst its banks on Wednesday after two days of heavy rain, flooding "
        "homes in three low-lying districts. Emergency crews evacuated hundreds of residents by "
        "boat and opened school buildings as shelters. The weather service expects the water "
        "to recede by the weekend, but warned of more storms next week."
    ),
)

# A wire story and a re-edited re-post of it: new headline, a trimmed sentence, a
# changed word or two and a subscription prompt added by the second site.
WIRE = Article(
    key="wire-original",
    url="http://127.0.0.1:8104/wire/ports-strike",
    source="Agency Wire",
    published=T0 + timedelta(hours=2),
    title="Dock workers walk out at three northern ports",
    text=(
        "Dock workers at three northern ports walked out on Wednesday over a dispute about "
        "night-shift pay, leaving dozens of container ships waiting offshore. The union said "
        "the strike would last at least forty-eight hours unless port operators reopened talks "
        "on the allowance that was cut in January. Operators said contingency crews were "
        "handling perishable cargo and that they remained open to dialogue. Hauliers warned "
        "that queues of lorries were already forming on the approach roads to the terminals, "
        "and retailers said shelves could thin out if the stoppage continued into next week."
    ),
)

WIRE_REPOST = Article(
    key="regional-repost",
    url="http://127.0.0.1:8105/business/port-walkout",
    source="Regional Daily",
    published=T0 + timedelta(hours=4),
    title="Ships stack up offshore as port strike begins",
    text=(
        "Dock workers at three northern ports walked out on Wednesday over a dispute about "
        "night-shift pay, leaving dozens of container ships waiting off the coast. The union "
        "said the strike would last at least forty-eight hours unless port operators reopened "
        "talks on the allowance that was cut in January. Operators said contingency crews were "
        "handling perishable cargo and that they remained open to dialogue. Hauliers warned "
        "that queues of lorries were already forming on the approach roads to the terminals.\n"
        "Subscribe to our newsletter for the latest business news."
    ),
)
