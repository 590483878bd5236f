"""The part one mention of an actor gives it in its sentence: attacker, target, accused.

News names most actors while reporting what someone *said*: "the Houthis blamed the
coalition for the strike", "the attack was claimed by Islamic State", "Kataib Hezbollah
denied any role", "according to the PMF, coalition jets bombed a checkpoint". Who speaks
is neither attacker nor target, so speech and attribution are read before the words of
violence around a name, and a name's verb must be its own ("the Houthis said coalition
jets struck" gives "struck" to the jets):

    speaker     the subject of a verb of speech, blame, denial or threat, "according to
                X", "a spokesman for X": named only ("involved")
    claim       "X claimed (responsibility for) the attack", "X said it fired": attacker
    denial      "X denied any involvement": involved, and never the attacker on others' word
    accused     "Y blamed X", "X blamed the attack on Y", "X was accused", "allegedly",
                "X vowed revenge against Y": Y is the alleged attacker, with who blames it
    passive     "X was hit", "X fighters killed in a strike", "came under fire": target
    by          "hit by X", "an attack by X": attacker, unless the "by" tells who holds,
                backs, reports, blames or intercepts ("drones shot down by X")
    object      "strikes on/against/targeting X", "in retaliation against X": target
    subject     "X fired", "X's drones struck": attacker

Pure functions over one sentence; offsets are the sentence's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from monitor.types import ActorRole


class Named(NamedTuple):
    """A name in the sentence that may speak or blame: an actor, a country, a capital."""

    start: int
    end: int
    name: str
    actor: bool  # an armed group or force: preferred as the subject of a blame


class Part(NamedTuple):
    role: ActorRole
    by: tuple[str, ...] = ()  # who blames it, when accused and the text names them
    claim: bool = False  # its own claim: "X claimed the attack"
    denies: bool = False  # "X denied any role"


_I = re.IGNORECASE
_SPEECH = (
    r"said|says|say|saying|told|tells|stated|states|added|adds|announced|announces|announce"
    r"|reported|reports|confirmed|confirms|condemned|condemns|condemn|denounced|denounces"
    r"|warned|warns|warn|vowed|vows|vow|threatened|threatens|threaten|pledged|pledges"
    r"|promised|promises|insisted|insists|alleged|alleges|allege|claimed|claims|claim"
    r"|denied|denies|deny|rejected|rejects|reject|called|calls|urged|urges|demanded|demands"
    r"|described|describes|wrote|writes|posted|tweeted|published|issued|released"
    r"|acknowledged|acknowledges|admitted|admits|mourned|mourns|praised|praises|hailed|hails"
    r"|welcomed|welcomes|swore|swears|blamed|blames|blame|accused|accuses|accuse|held|holds"
    r"|hold|pointed|points|attributed|attributes|suspects|suspected"
)
_ATTACK = (
    r"fired|fires|fire|launched|launches|launch|attacked|attacks|attack|struck|strikes|strike"
    r"|stormed|storms|storm|shelled|shells|shell|bombed|bombs|bomb|ambushed|ambushes|ambush"
    r"|killed|kills|kill|seized|seizes|seize|captured|captures|capture|carried out|carries out"
    r"|carry out|opened fire|open fire|opens fire|detonated|detonates|raided|raids|raid|hit|hits"
    r"|overran|overruns|abducted|abducts|kidnapped|kidnaps|targeted|downed|shot down"
    r"|pounded|pounds|blew up|blows up|assassinated|executed|massacred|torched"
)
# Words that end a name's own noun phrase: its verb is not one of them, nor after them
_STOP = (
    rf"(?:that|which|who|whom|whose|and|or|but|nor|not|never|no|was|were|is|are|be|been|being"
    rf"|by|for|against|at|of|to|from|with|in|on|near|inside|into|during|over|under|through"
    rf"|outside|around|across|after|before|when|while|as|if|because|than|did|does"
    rf"|do|{_SPEECH}|{_ATTACK})\b"
)
# What may stand between a name and its verb: "'s", ", an Iran-backed militia,", and up to
# four words of its noun phrase ("spokesman Yahya Saree", "fighters on Sunday")
_LEAD = rf"^(?:['’]s?)?\s*(?:,[^,;]{{1,80}},\s*)?(?:(?!{_STOP})[\w'’.-]+\s+){{0,4}}?"
_AUX = (
    r"(?:(?:has|have|had|also|later|then|again|quickly|swiftly|overnight|(?:late |early )?on \w+"
    r"|(?:late|early) \w+day|(?:on )?\w+day (?:night|morning|evening))\s+){0,2}"
)

_RELATIVE = re.compile(r"^\s*,\s*(?:which|who|whom)\b([^;]*)", _I)
# "X, which Washington blames for ...": who blames is named inside the clause
_RELATIVE_BLAME = re.compile(
    r"^\s+(?:[\w'’.-]+\s+){0,4}?(?:has\s+|have\s+|had\s+)?(?:blamed|blames|blame|accused"
    r"|accuses|accuse|holds|held|suspects|suspected)\b",
    _I,
)
_BLAMED_BY = re.compile(r"\b(?:blamed|accused|suspected|held responsible)\s+by\s+(?:the\s+)?", _I)
_CLAIM = re.compile(
    _LEAD + _AUX + r"(?:claimed|claims|claim|took|takes|accepted|accepts|admitted|admits)\s+"
    r"(?:responsibility|credit|it\b|to have|(?:[\w'’-]+\s+){0,3}?(?:attacks?|strikes?|bombings?"
    r"|blast|explosion|ambush|raid|assault|killings?|assassination|operation|shooting|barrage))"
    rf"|{_LEAD}{_AUX}(?:said|says|announced|announces|confirmed|confirms|stated)\s+"
    r"(?:(?!(?:that|it|they)\b)[\w'’-]+\s+){0,6}?(?:that\s+)?"
    rf"(?:it|they|its \w+|their \w+)\s+(?:had\s+|has\s+|have\s+)?(?:{_ATTACK}|was behind"
    r"|were behind|is behind|are behind)\b",
    _I,
)
_DENIAL = re.compile(
    _LEAD + _AUX + r"(?:strongly\s+|flatly\s+)?(?:denied|denies|deny|denying|rejected|rejects"
    r"|disowned|disavowed)\b"
    rf"|{_LEAD}{_AUX}(?:said|says|insisted|insists)\s+(?:that\s+)?(?:it|they)\s+"
    r"(?:had|has|have|was|were|is|are)\s+(?:no|not|nothing)\b",
    _I,
)
_BE = r"(?:is|was|were|are|has been|had been|have been|being|be)\s+(?:\w+ly\s+|also\s+|long\s+)?"
_ACCUSED_AFTER = re.compile(
    _LEAD + _BE + r"(?:blamed|accused|suspected|believed|thought|alleged|said to|held responsible"
    r"|seen as responsible|responsible)\b"
    + rf"|{_LEAD}(?:allegedly|purportedly|supposedly)\s+(?:{_ATTACK})\b",
    _I,
)
_SPEAKER_AFTER = re.compile(_LEAD + _AUX + rf"(?:{_SPEECH})\b", _I)
# "X positions near Y were hit"
_WHERE = r"(?:(?:near|in|outside|around|at)\s+(?:[\w'’-]+\s+){1,3}?)?"
_PASSIVE = re.compile(
    _LEAD + _WHERE + _BE + r"(?:again\s+|reportedly\s+)?(?:hit|struck|attacked|targeted|bombed"
    r"|shelled|ambushed|killed|wounded|injured|hurt|raided|stormed|overrun|destroyed|damaged|besieged"
    r"|pounded|bombarded|shot|assassinated|executed)\b"
    rf"|{_LEAD}came under (?:\w+ )?(?:fire|attack)"
    rf"|{_LEAD}(?:killed|wounded|injured|hurt|dead)\s+(?:in|by|during|as|when|after|near)\b"
    rf"|{_LEAD}(?:hit|struck|targeted|bombed|shelled|attacked|ambushed|raided)\s+(?:by|in)\b",
    _I,
)
_ACTIVE = re.compile(_LEAD + _AUX + rf"(?:reportedly\s+)?(?:{_ATTACK})\b(?P<what>.{{0,30}})", _I)
# "Islamic State has carried out similar attacks": what it did before, not this
_HISTORY = re.compile(
    r"^\s*(?:\w+\s+)?(?:similar|previous|past|such|earlier|other|many|numerous|dozens|hundreds"
    r"|repeated|frequent|several)\b",
    _I,
)

_THE = r"(?:the\s+|an?\s+)?"
_SPEAKER_BEFORE = re.compile(
    r"\b(?:according to|statement (?:from|by|issued by|released by)|spokes(?:man|woman|person)"
    r" (?:for|of)|officials? (?:from|of)|sources? (?:close to|in|within)|quoted by|cited by"
    r"|told|media (?:run by|affiliated with|close to|loyal to)|affiliated with|close to"
    r"|loyal to|aligned with|allied with|linked to|tied to)\s+" + _THE + "$",
    _I,
)
_NOUN = r"(?!(?:for|of|over|in|with|that|and|after|by)\b)[\w'’-]+\s+"  # "blamed [the] X"
_BLAMED_WHAT = r"(?!(?:for|of|over|with|that|after)\b)[\w'’-]+\s+"  # "blamed the attack on X"
_ACCUSED_BEFORE = re.compile(
    r"\b(?P<verb>blamed|blames|blame|blaming|accused|accuses|accuse|accusing|held|holds|hold"
    r"|holding|suspects|suspect|suspecting)\s+" + _THE + rf"(?:{_NOUN}){{0,2}}$"
    rf"|\b(?P<on>blamed|blames|blame|blaming|pinned|pins|pin)\s+(?:{_BLAMED_WHAT}){{0,5}}?on\s+"
    + _THE
    + r"$|\b(?P<to>attributed|attributes|attributing)\s+(?:[\w'’-]+\s+){0,4}?to\s+"
    + _THE
    + r"$|\b(?P<finger>pointed|points|pointing)\s+(?:the\s+|a\s+)?finger at\s+"
    + _THE
    + r"$|\b(?:suspected|alleged|presumed)\s+$",
    _I,
)
_THREAT_BEFORE = re.compile(
    r"\b(?P<verb>vowed|vows|vow|threatened|threatens|threaten|pledged|pledges|promised|promises"
    r"|swore|swears)\s+(?:(?:swift|harsh|severe|a|an|to|of|its|their)\s+){0,3}(?:revenge"
    r"|retaliation|retaliate|reprisals?|vengeance|respond|response|punish|punishment)"
    r"(?:\s+(?:against|on|upon))?\s+" + _THE + "$",
    _I,
)
# "by X", "by members of X"
_BY_TAIL = (
    r"by\s+" + _THE + r"(?:(?:members|fighters|militants|gunmen|supporters|units?|elements|forces"
    r"|troops|commanders?|leaders?|men)\s+of\s+" + _THE + ")?$"
)
_BY = re.compile(r"\b" + _BY_TAIL, _I)
# A "by" that says who holds, backs, tells, blames or stops something, not who attacked
_NOT_ATTACK_BY = re.compile(
    r"\b(?:occupied|used|held|controlled|run|operated|manned|hosted|housed|garrisoned|guarded"
    r"|staffed|owned|shared|backed|supported|funded|financed|armed|trained|led|founded|formed"
    r"|created|designated|listed|blamed|accused|condemned|denounced|denied|reported|confirmed"
    r"|announced|published|issued|released|cited|quoted|described|criticised|criticized"
    r"|welcomed|rejected|disputed|investigated|documented|verified|seen|obtained|intercepted"
    r"|shot down|downed|repelled|repulsed|foiled|thwarted|defused|arrested|detained|questioned"
    r"|statement|video|footage|report|communiqu[eé]|message|post|interview|images|photos"
    r"|claim|denial|accusation|mediation|talks|cordoned|sealed|secured|evacuated|treated"
    r"|rescued|visited|attended|escorted|mourned|buried|recovered|inspected|searched)"
    r"\s+(?:\w+\s+)?" + _BY_TAIL,
    _I,
)
_NOT_OBJECT = re.compile(
    r"\b(?:call(?:s|ed|ing)?|sanctions?|pressure|rel(?:y|ies|ied|ying)|depend(?:s|ed|ing)?"
    r"|report(?:s|ed|ing)?|comment(?:s|ed|ing)?|briefed|briefing|information|ban|bans|banned)"
    r"\s+(?:\w+\s+)?(?:on|upon|at)\s+" + _THE + "$",
    _I,
)
_OBJECT = re.compile(r"\b(?:on|upon|against|targeting|at)\s+" + _THE + "$", _I)
_TARGET_BEFORE = re.compile(
    r"\b(?:on|against|targeting|targeted|targets?|at|struck|strikes?|striking|hits?|hitting"
    r"|bomb(?:s|ed|ing)?|raid(?:s|ed|ing)?|ambush(?:es|ed|ing)?|attack(?:s|ed|ing)?"
    r"|kill(?:s|ed|ing)?|wound(?:s|ed|ing)?|shell(?:s|ed|ing)?|pound(?:s|ed|ing)?"
    r"|bombard(?:s|ed|ing)?|hammer(?:s|ed|ing)?|storm(?:s|ed|ing)?)"
    r"\s+(?:(?!(?:said|says|that|which|who)\b)[^\s,;:]+\s+){0,4}$",
    _I,
)
# "a commander of X", "positions of X": a target when violence is told just before
# ("killed a senior commander of ..."), not in "Leaders of the PMF met"
_OWNED_BEFORE = re.compile(
    r"\b(?:sites?|positions?|depots?|belonging|commanders?|members?|fighters|leaders?"
    r"|checkpoints?|convoys?|headquarters|bases?|posts?|hideouts?|strongholds?|camps?"
    r"|vehicles?)\s+(?:of|to)\s+(?:(?!(?:said|says|that|which|who)\b)[^\s,;:]+\s+){0,3}$",
    _I,
)
_VIOLENCE = re.compile(
    r"\b(?:strik|struck|hit|kill|attack|bomb|raid|shell|target|ambush|pound|bombard|hammer"
    r"|storm|fire|shot|shoot|wound|assassinat|blew|blast|explo)\w*[^.;]{0,60}$",
    _I,
)
# What an accusation is for, when that is not the news: "for the earlier rocket fire"
_PAST = (
    r"(?:earlier|previous|prior|past|similar|other|older|former|repeated|dozens|scores|hundreds"
    r"|series|spate|wave|string|campaign|years|decades|months|(?:19|20)\d\d"
    r"|last (?:week|month|year|summer|winter|spring|autumn))\b"
)
_ELSEWHERE = re.compile(
    r"^(?:\s*,\s*(?:which|who|whom)\b)?[^;,]{0,50}?\b(?:for|of|over)\s+(?:[\w'’-]+\s+){0,4}?"
    + _PAST,
    _I,
)
# "have previously blamed similar strikes on X": an accusation of other events
_PAST_ADVERB = re.compile(
    r"\b(?:previously|repeatedly|often|long|frequently|in the past|had)\s+$", _I
)
_PAST_OBJECT = re.compile(r"\b" + _PAST, _I)
_BY_NAME = re.compile(r"\bby\s+" + _THE + "$", _I)
_ADJACENT = re.compile(r"^(?:['’]s?)?\s+(?:[\w'’-]+\s+){0,3}$")
# "troops recaptured the village from Islamic State": who loses ground is the target
_TAKEN_FROM = re.compile(
    r"\b(?:recaptur|retak|retook|seiz|captur|liberat|wrest|drove|driven|expell|oust|clear"
    r"|freed|regain|reclaim)\w*\b[^.;]{0,80}?\bfrom\s+" + _THE + "$",
    _I,
)
_LOCATIVE = re.compile(r"\b(?:in|at|near|from|outside|on|of|into|across|to)\s+" + _THE + "$", _I)


def part_in(sentence: str, mention: Named, named: Sequence[Named]) -> Part:
    """The part ``mention`` has in ``sentence``; ``named`` are the sentence's names that
    may be who blames it (``mention`` among them or not)."""
    at, before = _clause_before(sentence, mention.start)
    after = _clause_after(sentence, mention.end)
    said = _by_what_it_says(after, sentence, mention, named)
    relative = _RELATIVE.match(after) is not None
    if said is not None and not relative:
        return _of_this_event(said, after)
    heard = _by_what_others_say(sentence, at, before, mention, named)
    if heard is not None:
        heard = _of_this_event(heard, after)
    else:
        heard = _by_what_it_suffers_or_does(before, after)
    if said is None:
        return heard
    # "X, which Y blames": the relative clause tells its part, unless the main clause does
    # ("Y blamed X, which denied it"; "jets struck X, which claimed ..."): then a denial
    # or a claim in the clause still counts
    if heard.role == "involved":
        return _of_this_event(said, after)
    return heard._replace(denies=said.denies, claim=said.claim and heard.role == "attacker")


def _by_what_others_say(
    sentence: str, at: int, before: str, mention: Named, named: Sequence[Named]
) -> Part | None:
    """Its part in someone else's words: "according to X" (named only), "Y blamed X",
    "Y vowed revenge against X" (accused, by Y); None when the words before say neither."""
    if _SPEAKER_BEFORE.search(before):
        return Part("involved")
    if (blame := _ACCUSED_BEFORE.search(before)) or (blame := _THREAT_BEFORE.search(before)):
        verb = _verb_start(blame)  # "suspected militants": an accusation no one is said to make
        if verb is not None and _blames_the_past(before, blame, verb):
            return Part("involved")
        by = _subject(sentence, at + verb, named, mention) if verb is not None else ()
        return Part("accused", by)
    return None


def _of_this_event(part: Part, after: str) -> Part:
    """An accusation of something else ("blamed X for previous attacks") is none here."""
    return Part("involved") if part.role == "accused" and _ELSEWHERE.search(after) else part


def _by_what_it_suffers_or_does(before: str, after: str) -> Part:
    """Its part as the object or subject of violence: "hit by X", "X was struck", "X fired"."""
    if _BY.search(before):
        return Part("involved" if _NOT_ATTACK_BY.search(before) else "attacker")
    aimed_at = not _NOT_OBJECT.search(before)  # "called on the PMF to ...": no target
    if _PASSIVE.search(after) or (aimed_at and _OBJECT.search(before)):
        return Part("target")
    if active := _ACTIVE.search(after):
        return Part("involved" if _HISTORY.match(active.group("what")) else "attacker")
    if aimed_at and _TARGET_BEFORE.search(before):
        return Part("target")
    if (owned := _OWNED_BEFORE.search(before)) and _VIOLENCE.search(before, 0, owned.start()):
        return Part("target")
    if _TAKEN_FROM.search(before):
        return Part("target")
    return Part("involved")


def _blames_the_past(before: str, blame: re.Match[str], verb: int) -> bool:
    """ "X has previously blamed Y", "blamed similar strikes on Y": other events' blame."""
    return bool(_PAST_ADVERB.search(before, 0, verb) or _PAST_OBJECT.search(blame.group(0)))


def _verb_start(blame: re.Match[str]) -> int | None:
    """Where the verb of blame or threat starts (its subject is who blames), if any."""
    for group in ("verb", "on", "to", "finger"):
        if group in blame.re.groupindex and blame.group(group):
            return blame.start(group)
    return None


def _by_what_it_says(
    after: str, sentence: str, mention: Named, named: Sequence[Named]
) -> Part | None:
    """Its part when the words after it say something: a claim, a denial, an accusation it
    is the object of, or plain speech (named only); None when they do not."""
    if relative := _RELATIVE.match(after):
        return _by_relative(relative, sentence, mention, named)
    if part := _stated(after, sentence, mention, named, anchored=False):
        return part
    if _SPEAKER_AFTER.search(after):
        return Part("involved")
    return None


def _stated(
    words: str, sentence: str, mention: Named, named: Sequence[Named], *, anchored: bool
) -> Part | None:
    """A claim, a denial or an accusation in ``words`` (at their start when ``anchored``:
    a relative clause says it of the name right before it)."""
    found = (lambda rx: rx.match(words)) if anchored else (lambda rx: rx.search(words))
    if found(_CLAIM):
        return Part("attacker", claim=True)
    if found(_DENIAL):
        return Part("involved", denies=True)
    if found(_ACCUSED_AFTER):
        return Part("accused", _after_by(sentence, mention.end, named, mention))
    return None


def _by_relative(
    relative: re.Match[str], sentence: str, mention: Named, named: Sequence[Named]
) -> Part | None:
    """ "X, which claimed the attack", "X, which denied it", "X, which Washington blames"."""
    rest = relative.group(1)
    if part := _stated(rest, sentence, mention, named, anchored=True):
        return part
    if blame := _RELATIVE_BLAME.match(rest):
        start = mention.end + relative.start(1)
        inside = [n for n in named if start <= n.start < start + blame.end()]
        return Part("accused", _names(inside))
    return None  # "X, which is backed by Iran, fired": read on


def _clause_before(sentence: str, offset: int) -> tuple[int, str]:
    """The words before ``offset`` in its clause, with where they start."""
    start = max(0, offset - 120, sentence.rfind(";", 0, offset) + 1)
    return start, sentence[start:offset]


def _clause_after(sentence: str, offset: int) -> str:
    text = sentence[offset : offset + 160]
    return text.split(";", 1)[0]


def _subject(sentence: str, verb: int, named: Sequence[Named], mention: Named) -> tuple[str, ...]:
    """Who blames: "blamed by X on ..." when the words say so; else the name before
    ``verb`` in its clause, an actor rather than a place, and not a place the clause is
    only set in ("in Sanaa, the Houthis blamed ...")."""
    by = [
        n
        for n in named
        if verb < n.start < mention.start and _BY_NAME.search(sentence, verb, n.start)
    ]
    if by:
        return _names(by[:1])
    clause = sentence.rfind(";", 0, verb) + 1
    before = [n for n in named if clause <= n.start and n.end <= verb and n.name != mention.name]
    actors = [n for n in before if n.actor]
    # a country or capital blames only as the verb's own subject: "Baghdad blamed ..."
    speakers = [
        n
        for n in before
        if _ADJACENT.match(sentence[n.end : verb])
        and not _LOCATIVE.search(sentence[max(0, n.start - 30) : n.start])
    ]
    return _names((actors or speakers)[-1:])


def _after_by(
    sentence: str, offset: int, named: Sequence[Named], mention: Named
) -> tuple[str, ...]:
    """Who blames, in a passive: "X was blamed by Y", "X, blamed by Y"."""
    found = _BLAMED_BY.search(sentence, offset, offset + 160)
    if found is None:
        return ()
    return _names([n for n in named if n.start == found.end() and n.name != mention.name])


def _names(named: Sequence[Named]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.name for n in named))
