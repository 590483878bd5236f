"""A typing model the user fits on their own labelled examples (`monitor train-typing`,
monitor/classify/usermodel.py), and that nothing fitted on others' data ships. Sentences are
ours, places invented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.train_typing import MODELS
from monitor.classify.classifier import Classifier
from monitor.classify.explain import explain_text
from monitor.classify.learned import FORMAT, TypeModel, learned_typing
from monitor.classify.usermodel import read_examples, resolve_labels
from monitor.cli import app
from monitor.config import load_config
from monitor.errors import ConfigError

TAXONOMY = """
incident_types:
  - {id: protest, label: Protest, acled: Peaceful protest, keywords: {protest*|rally|marched: 3}}
  - {id: riot, label: Riot, acled: Violent demonstration, keywords: {riot*: 3}}
  - {id: clash, label: Clash, acled: Armed clash, keywords: {clash*|firefight: 3}}
"""
# the user's coders call a protest where stones fly or cars burn a violent demonstration,
# which the rules above do not know
EXAMPLES = """\
# our own sentences
Protesters marched to the town hall of Veldon and threw stones at the guards.\tViolent demonstration
Students at a rally in Orsk hurled stones at passing cars.\triot
A protest in Mirel turned angry as youths torched two cars.\tRiot
Demonstrators threw stones and burned tyres on the main road of Kessa.\triot
A rally of traders in Dunmore burned a police car and threw stones.\tViolent demonstration
Hundreds marched peacefully through Veldon to demand clean water.\tProtest
Teachers held a protest outside the ministry in Orsk over unpaid wages.\tPeaceful protest
A quiet rally in Mirel called for the release of a journalist.\tprotest
Farmers marched in Kessa against the new land tax, singing songs.\tProtest
Nurses held a protest in Dunmore over long shifts.\tPeaceful protest
Militia fighters and soldiers exchanged fire near Orsk in a long firefight.\tArmed clash
Two armed groups clashed outside Veldon for hours.\tclash
The football club of Mirel won the cup after a tense final.\tnone
The central bank of Kessa held its interest rate steady.\tnone
"""
STONES = "Protesters marched through Bellin and threw stones at the town hall."


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "taxonomy.yaml").write_text(TAXONOMY, encoding="utf-8")
    path = tmp_path / "monitor.yaml"
    path.write_text("feeds: []\nwatchlists: [taxonomy.yaml]\n", encoding="utf-8")
    return path


def _train(config: Path, examples: Path, out: Path, *extra: str) -> str:
    args = ["train-typing", "--examples", str(examples), "--out", str(out), "-c", str(config)]
    result = CliRunner().invoke(app, [*args, *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _use(config: Path, model: str) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text + f"classify:\n  learned:\n    model: {model}\n", encoding="utf-8")


def test_training_is_reproducible_bit_for_bit(config: Path, tmp_path: Path) -> None:
    examples = tmp_path / "mine.tsv"
    examples.write_text(EXAMPLES, encoding="utf-8")
    said = _train(config, examples, tmp_path / "a.json")
    _train(config, examples, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert "14 examples of 4 types" in said and "3-fold CV" in said
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["format"] == 2 and data["kind"] == "user"
    assert data["version"].startswith("user-")
    assert data["trained_on"].startswith("mine.tsv sha256 ")
    # a type's id, label or ACLED name, any case, all read as its ACLED name
    assert data["classes"] == [
        "Armed clash",
        "Peaceful protest",
        "Violent demonstration",
        "none",
    ]
    # other examples, another model
    examples.write_text(EXAMPLES.replace("threw stones", "threw bottles"), encoding="utf-8")
    _train(config, examples, tmp_path / "c.json")
    assert (tmp_path / "c.json").read_bytes() != (tmp_path / "a.json").read_bytes()


def test_the_user_model_decides_and_explain_names_its_file(config: Path, tmp_path: Path) -> None:
    examples = tmp_path / "mine.tsv"
    examples.write_text(EXAMPLES, encoding="utf-8")
    _train(config, examples, tmp_path / "models" / "typing.json")
    rules = Classifier(load_config(config).watchlist)
    assert rules.classify(title="", text=STONES).acled_sub_event_types == ["Peaceful protest"]
    _use(config, "models/typing.json")  # relative to the config's folder
    cfg = load_config(config)
    learned = learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)
    assert learned is not None and learned.decider is not None
    result = Classifier(cfg.watchlist, learned=learned).classify(title="", text=STONES)
    # the model's pick first, the rules' type kept after it with its evidence
    assert result.acled_sub_event_types == ["Violent demonstration", "Peaceful protest"]
    vote = result.incident_types[0].chosen
    assert vote is not None and vote.decided and vote.rules_first == "Peaceful protest"
    text = explain_text("", STONES, result, color=False)
    model_file = str(tmp_path / "models" / "typing.json")
    assert f"put first by the user-trained model {learned.decider.model.version} " in text
    assert model_file in text and "the rules ranked Peaceful protest first" in text
    assert "+4.5  'protest*|rally|marched' matched 'marched'" in text  # the rules' evidence
    # the explain command says the same
    page = tmp_path / "article.txt"
    page.write_text("\n" + STONES, encoding="utf-8")
    shown = CliRunner().invoke(app, ["explain", str(page), "-c", str(config)])
    assert shown.exit_code == 0, shown.output
    assert model_file in shown.output
    # where the model agrees with the rules, their order stands and it says what it read
    calm = "Teachers held a protest in Bellin over pay."
    kept = Classifier(cfg.watchlist, learned=learned).classify(title="", text=calm)
    assert kept.acled_sub_event_types == ["Peaceful protest"]
    assert kept.chooser_note is not None and model_file in kept.chooser_note


def test_an_acled_export_is_read_by_its_columns(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        'event_id_cnty,sub_event_type,notes\nX1,Peaceful protest,"Teachers marched, singing."\n'
        "X2,Other,A new party was registered.\n",
        encoding="utf-8",
    )
    rows = read_examples(export)
    assert rows == [
        ("Peaceful protest", "Teachers marched, singing.", 2),
        ("Other", "A new party was registered.", 3),
    ]
    names = {"peaceful protest": "Peaceful protest"}
    labelled = resolve_labels(export, rows, names)
    assert [e.label for e in labelled] == ["Peaceful protest", "none"]


def test_labels_outside_the_taxonomy_are_refused_all_at_once(config: Path, tmp_path: Path) -> None:
    examples = tmp_path / "mine.tsv"
    examples.write_text(EXAMPLES + "A gang robbed a bank.\tBank robbery\nA b c.\tHeist\n")
    result = CliRunner().invoke(
        app, ["train-typing", "--examples", str(examples), "--out", str(tmp_path / "m.json"),
              "-c", str(config)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "type 'Bank robbery' (1 example) is not in the taxonomy" in result.output
    assert "type 'Heist'" in result.output
    assert not (tmp_path / "m.json").exists()


def test_the_model_setting_is_checked_at_load(config: Path, tmp_path: Path) -> None:
    examples = tmp_path / "mine.tsv"
    examples.write_text(EXAMPLES, encoding="utf-8")
    _train(config, examples, tmp_path / "typing.json")
    # a missing file
    missing = config.read_text(encoding="utf-8")
    _use(config, "nowhere.json")
    cfg = load_config(config)
    with pytest.raises(ConfigError, match=r"classify\.learned\.model: cannot read .*nowhere"):
        learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)
    checked = CliRunner().invoke(app, ["check-config", "-c", str(config)])
    assert checked.exit_code == 2 and "nowhere.json" in checked.output
    # a format this version does not read
    data = json.loads((tmp_path / "typing.json").read_text())
    (tmp_path / "future.json").write_text(json.dumps({**data, "format": 9}))
    config.write_text(missing, encoding="utf-8")
    _use(config, "future.json")
    cfg = load_config(config)
    with pytest.raises(ConfigError, match=r"future\.json has format 9"):
        learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)
    # a taxonomy without a type the model was trained on
    (tmp_path / "taxonomy.yaml").write_text(TAXONOMY.replace("acled: Armed clash", "acled: Attack"))
    config.write_text(missing, encoding="utf-8")
    _use(config, "typing.json")
    cfg = load_config(config)
    with pytest.raises(ConfigError, match="taxonomy does not define: Armed clash"):
        learned_typing(cfg.settings.classify.learned, cfg.watchlist.acled_names)


def test_the_shipped_models_are_the_ones_make_train_fits_on_our_sentences() -> None:
    """No model fitted on ACLED, CASE or any user's data is in the repository: the model
    folder holds exactly the files `make train` writes, each of the shipped format, each
    fitted on the project's own example files only (test_learned_chooser checks that a
    fresh fit gives the same bytes)."""
    folder = next(iter(MODELS)).parent
    assert sorted(folder.glob("*")) == sorted(MODELS)
    ours = Path(__file__).resolve().parents[2] / "bench" / "data"
    for path, (version, sources) in MODELS.items():
        model = TypeModel.load(path)
        assert model.version == version and not model.user
        assert json.loads(path.read_text())["format"] == FORMAT
        assert all(p.parent.resolve() == ours for p in sources)
        trained_on = json.loads(path.read_text())["trained_on"]
        assert [part.split(" sha256 ")[0] for part in trained_on.split(" + ")] == [
            p.name for p in sources
        ]
    # nor a user's model anywhere the package or its config could pick one up
    root = Path(__file__).resolve().parents[2]
    for path in [*(root / "monitor").rglob("*.json"), *(root / "config").rglob("*.json")]:
        assert b'"kind":"user"' not in path.read_bytes(), path


def test_the_sparse_products_equal_the_dense_ones() -> None:
    import numpy as np

    from monitor.classify.usermodel import _Sparse

    rows = [np.array([0, 2]), np.array([], dtype=np.int64), np.array([1, 2, 3]), np.array([3])]
    dense = np.zeros((4, 5))
    for r, row in enumerate(rows):
        dense[r, row] = 1.0
    x = _Sparse(rows, 5)
    w = np.arange(10, dtype=float).reshape(5, 2) - 4.5
    g = np.arange(8, dtype=float).reshape(4, 2) / 3
    assert np.array_equal(x.dot(w), dense @ w)
    assert np.allclose(x.tdot(g), dense.T @ g)
    assert abs(x.top_eigenvalue(200) - max(np.linalg.eigvalsh(dense.T @ dense / 4))) < 1e-6
