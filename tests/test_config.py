"""Configuration: precise errors (file, line, key, allowed values), interpolation, lookup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from monitor.cli import app
from monitor.config import load_config
from monitor.dedup import meaning
from monitor.errors import ConfigError
from monitor.runtime import open_runtime
from monitor.storage.db import redact


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.errors


def test_unknown_key_names_file_line_and_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds: []\nfetch:\n  concurency: 5\n")
    [error] = errors_of(path)
    assert error.startswith(
        f"{path}:3: fetch.concurency: unknown key; did you mean 'concurrency'? Allowed here: "
    )
    assert "allow_private_addresses" in error


def test_an_unknown_key_like_no_other_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds: []\nfetch:\n  zebra: 5\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3: fetch.zebra: unknown key; allowed here: ")
    assert "did you mean" not in error


def test_a_misspelt_required_key_is_one_error_not_also_a_missing_one(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - ulr: http://127.0.0.1:8001/feed\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:2: feeds.0.ulr: unknown key; did you mean 'url'?")


def test_a_required_key_left_out_is_named_as_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - name: Wire\n")
    assert errors_of(path) == [f"{path}:2: feeds.0.url: required key missing"]


def test_wrong_types_say_what_to_write_in_yaml_terms_and_come_in_file_order(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "feeds: []\nwatchlists: lists/*.yaml\nfetch:\n  adaptive: maybe\n"
        "  concurrency: lots\n  interval: often\n",
    )
    assert errors_of(path) == [
        f"{path}:2: watchlists: must be a list: [a, b] or one '- item' per line, "
        "got 'lists/*.yaml'",
        f"{path}:4: fetch.adaptive: must be true or false, got 'maybe'",
        f"{path}:5: fetch.concurrency: must be a whole number, got 'lots'",
        f"{path}:6: fetch.interval: 'often' is not a duration; use e.g. 90s, 15m, 2h, 3d "
        "or seconds",
    ]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "feeds:\n  - url: http://127.0.0.1:8001/feed\n    paused: perhaps\n"
        "alerts:\n  routes:\n    ops:\n      type: pager\n",
    )
    errors = errors_of(path)
    assert len(errors) == 2
    assert errors[0].startswith(f"{path}:3: feeds.0.paused: ")
    assert errors[1] == (
        f"{path}:7: alerts.routes.ops.type: must be one of "
        "'slack', 'slack_webhook', 'webhook' or 'console', got 'pager'"
    )


def test_route_missing_required_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "alerts:\n  routes:\n    ops:\n      type: slack\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3: alerts.routes.ops: ")
    assert "a slack route needs channel, token" in error


@pytest.mark.parametrize(
    ("route", "said"),
    [
        ("type: slack_webhook\n      url: http://127.0.0.1:8401/x\n      channel: '#ops'",
         "a slack_webhook route does not use channel (an incoming webhook posts to the channel"),
        ("type: console\n      token: xoxb-1", "a console route does not use token"),
        ("type: webhook\n      url: http://127.0.0.1:8402/in\n      api_url: http://127.0.0.1:8403/",
         "a webhook route does not use api_url"),
    ],
)  # fmt: skip
def test_a_key_the_route_type_ignores_is_an_error(tmp_path: Path, route: str, said: str) -> None:
    path = write(tmp_path, f"alerts:\n  routes:\n    ops:\n      {route}\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3: alerts.routes.ops: ") and said in error


def test_env_interpolation_and_missing_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "storage:\n  url: ${TEST_DB_URL}\nweb:\n  listen: ${LISTEN:-0.0.0.0:9}\n  console: false\n",
    )
    monkeypatch.delenv("TEST_DB_URL", raising=False)
    [error] = errors_of(path)
    assert "environment variable TEST_DB_URL is not set" in error
    monkeypatch.setenv("TEST_DB_URL", "sqlite:///x.db")
    cfg = load_config(path)
    assert cfg.settings.storage.url == "sqlite:///x.db"
    assert cfg.settings.web.listen == "0.0.0.0:9"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds:\n  - url: [unclosed\nfetch: {}\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:")
    assert "invalid YAML" in error


def test_durations_and_sizes_parse(tmp_path: Path) -> None:
    path = write(
        tmp_path, "fetch:\n  deadline: 90s\n  max_body_size: 2MiB\nalerts:\n  max_age: 3d\n"
    )
    cfg = load_config(path)
    assert cfg.settings.fetch.deadline.total_seconds() == 90
    assert cfg.settings.fetch.max_body_size == 2 * 2**20
    assert cfg.settings.alerts.max_age.days == 3
    path = write(tmp_path, "fetch:\n  deadline: soon\n")
    [error] = errors_of(path)
    assert "fetch.deadline" in error and "not a duration" in error


def test_database_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(write(tmp_path, "storage:\n  url: sqlite:///from-file.db\n"))
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    assert cfg.database_url() == "sqlite:///from-file.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "sqlite:///from-env.db")
    assert cfg.database_url() == "sqlite:///from-env.db"
    assert cfg.database_url("sqlite:///flag.db") == "sqlite:///flag.db"


@pytest.mark.parametrize(
    ("listen", "problem"),
    [
        ("127.0.0.1:99999", "port 99999 in '127.0.0.1:99999' is out of range (0-65535)"),
        ("127.0.0.1", "'127.0.0.1' is not host:port"),
        ("127.0.0.1:http", "port 'http' in '127.0.0.1:http' is not a number"),
        ("::1:8080", "write an IPv6 address in brackets"),
        ("[::g]:8080", "'::g' in '[::g]:8080' is not an IPv6 address"),
        ("bad host:8080", "host 'bad host' in 'bad host:8080' is not a host name or address"),
    ],
)
def test_listen_address_is_checked_with_file_line_and_key(
    tmp_path: Path, listen: str, problem: str
) -> None:
    path = write(tmp_path, f"feeds: []\nweb:\n  listen: {listen!r}\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3: web.listen: ")
    assert problem in error


def test_a_proxy_the_fetcher_cannot_use_is_refused_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "feeds: []\nfetch:\n  proxy: ftp://127.0.0.1:21\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:3: fetch.proxy: ")
    assert "not an http(s):// or socks5:// proxy URL" in error
    good = write(tmp_path, "feeds: []\nfetch:\n  proxy: http://user:pw@127.0.0.1:3128\n")
    assert load_config(good).settings.fetch.proxy == "http://user:pw@127.0.0.1:3128"


@pytest.mark.parametrize(
    "listen", ["127.0.0.1:8080", ":8080", "[::1]:0", "monitor.localhost:65535"]
)
def test_good_listen_addresses_pass(tmp_path: Path, listen: str) -> None:
    path = write(tmp_path, f"web:\n  listen: {listen!r}\n  console: false\n")
    assert load_config(path).settings.web.listen == listen


# A listen address, validated only, never resolved or bound: a LAN name is beyond loopback.
@pytest.mark.parametrize("listen", [":8080", "0.0.0.0:8080", "monitor.local:80"])
def test_an_open_console_beyond_loopback_without_logins_is_refused(
    tmp_path: Path, listen: str
) -> None:
    [error] = errors_of(write(tmp_path, f"web:\n  listen: {listen!r}\n"))
    assert "no web.users or web.api_tokens are configured" in error
    assert "monitor web hash-password" in error


def test_a_console_beyond_loopback_with_a_user_is_accepted(tmp_path: Path) -> None:
    from monitor.web.auth import hash_secret

    users = f"  users: [{{username: ana, password_hash: '{hash_secret('pw')}'}}]\n"
    cfg = load_config(write(tmp_path, f"web:\n  listen: '0.0.0.0:8080'\n{users}"))
    assert cfg.settings.web.login_required


def test_a_plain_password_in_place_of_its_hash_is_refused(tmp_path: Path) -> None:
    users = "  users: [{username: ana, password_hash: hunter2}]\n"
    [error] = errors_of(write(tmp_path, f"web:\n{users}"))
    assert "monitor web hash-password" in error and "hunter2" not in error


def test_config_lookup_uses_env_then_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "web:\n  listen: 127.0.0.1:1234\n")
    monkeypatch.setenv("MONITOR_CONFIG", str(path))
    assert load_config().settings.web.listen == "127.0.0.1:1234"


def test_check_config_exits_2_and_prints_every_error(tmp_path: Path) -> None:
    path = write(tmp_path, "fetch:\n  concurency: 5\nweb:\n  listen: nowhere\n")
    result = CliRunner().invoke(app, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2: fetch.concurency: unknown key" in result.output
    assert f"{path}:4: web.listen: " in result.output


def check_config(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check-config", "--config", str(path)])
    return result.exit_code, result.output


@pytest.fixture
def fresh_encoder() -> Iterator[None]:
    """load_encoder keeps what it loaded for the process: these tests load anew."""
    meaning.load_encoder.cache_clear()
    yield
    meaning.load_encoder.cache_clear()


def junk_model(folder: Path) -> Path:
    """A directory with the model's file names but not a model in them."""
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"not a graph")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_a_bad_default_model_is_named_as_the_default_with_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, fresh_encoder: None
) -> None:
    default = tmp_path / "default-model"
    if kind == "corrupt":
        junk_model(default)
    monkeypatch.setattr(meaning, "MODEL_DIR", default)
    path = write(tmp_path, "feeds: []\n")
    code, output = check_config(path)
    assert code == 2
    problem = (
        f"the sentence-embedding model is not installed ({default})"
        if kind == "missing"
        else f"cannot load {default}: "
    )
    default_used = "dedup.semantic.model is not set, so the default sentence model is used"
    assert f"{path}: {default_used}: {problem}" in output
    assert "build it with `make model`" in output and "dedup.semantic.enabled: false" in output


def test_without_the_semantic_check_no_model_is_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_encoder: None
) -> None:
    monkeypatch.setattr(meaning, "MODEL_DIR", tmp_path / "not-built")
    off = write(tmp_path, "dedup:\n  semantic:\n    enabled: false\n")
    code, output = check_config(off)
    assert code == 0 and output.endswith(
        f"{off}: OK — 0 feeds, 0 rules, 0 routes, 0 watchlist files\n"
    )


@pytest.mark.parametrize("kind", ["missing", "corrupt"])
def test_a_bad_model_setting_names_its_file_and_line(
    tmp_path: Path, kind: str, fresh_encoder: None
) -> None:
    model = tmp_path / "model" if kind == "missing" else junk_model(tmp_path / "model")
    path = write(tmp_path, f"feeds: []\ndedup:\n  semantic:\n    model: {model}\n")
    code, output = check_config(path)
    assert code == 2
    problem = f"{model} does not exist" if kind == "missing" else f"cannot load {model}: "
    assert f"{path}:4: dedup.semantic.model: {problem}" in output
    assert "default" not in output


def test_start_up_stops_on_a_corrupt_model_naming_the_setting(
    tmp_path: Path, sqlite_engine: Engine, fresh_encoder: None
) -> None:
    model = junk_model(tmp_path / "model")
    path = write(tmp_path, f"dedup:\n  semantic:\n    model: {model}\n")
    with pytest.raises(ConfigError) as info:
        open_runtime(load_config(path), str(sqlite_engine.url))
    [error] = info.value.errors
    assert error.startswith(f"{path}:3: dedup.semantic.model: cannot load {model}: ")


def test_shipped_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    root = Path(__file__).resolve().parents[1]
    cfg = load_config(root / "config" / "monitor.yaml")
    assert cfg.settings.feeds and cfg.watchlist_files


def test_redact_hides_passwords() -> None:
    assert (
        redact("postgresql://mon:s3cret@127.0.0.1:5432/m")
        == "postgresql://mon:***@127.0.0.1:5432/m"
    )
    assert "s3cret" not in redact("postgresql://mon:s3cret@127.0.0.1/m")


def test_settings_and_watchlist_errors_come_together(tmp_path: Path) -> None:
    path = write(tmp_path, "watchlists:\n  - missing.yaml\nweb:\n  enabled: maybe\n")
    errors = errors_of(path)
    assert errors[0].startswith(f"{path}:4: web.enabled: ")
    assert errors[1] == f"{path}:2: watchlists.0: 'missing.yaml' matches no file (in {tmp_path})"


def test_unset_variable_and_schema_errors_are_reported_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    path = write(
        tmp_path,
        "feeds:\n  - url: not-a-url\nalerts:\n  routes:\n    ops:\n      type: slack\n"
        "      channel: C1\n      token: ${NO_SUCH_TOKEN}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, sends=True)
    errors = info.value.errors
    assert any("environment variable NO_SUCH_TOKEN is not set" in e for e in errors)
    assert any(
        e.startswith(f"{path}:2: feeds.0.url: ") and "not an http(s) URL" in e for e in errors
    )


def test_a_repeated_key_is_an_error_not_a_silent_override(tmp_path: Path) -> None:
    path = write(
        tmp_path, "fetch:\n  concurrency: 5\nweb:\n  enabled: true\nfetch:\n  per_host: 2\n"
    )
    [error] = errors_of(path)
    assert error.startswith(f"{path}:5: invalid YAML: duplicate key 'fetch' (first on line 1)")


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_bytes(b"feeds: []\n# \xff\xfe\n")
    [error] = errors_of(path)
    assert error == f"{path}: not UTF-8 text (byte 13)"


# Settings that used to pass check-config and then fail at run time.


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("fetch:\n  deadline: 0s\n", 2, "fetch.deadline"),
        ("fetch:\n  read_timeout: -1\n", 2, "fetch.read_timeout"),
        ("feeds:\n  - url: http://127.0.0.1:8001/feed\n    interval: 0m\n", 3, "feeds.0.interval"),
        ("extract:\n  timeout: 0s\n", 2, "extract.timeout"),
        ("alerts:\n  dispatch:\n    request_timeout: 0s\n", 3, "alerts.dispatch.request_timeout"),
    ],
)
def test_durations_that_must_be_positive(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = write(tmp_path, text)
    [error] = errors_of(path)
    assert error.startswith(f"{path}:{line}: {key}: ")
    assert "must be more than 0s" in error or "negative" in error


def test_a_feed_listed_twice_is_an_error(tmp_path: Path) -> None:
    # Loopback names (RFC 6761), since the duplicate differs in the case of its host.
    path = write(
        tmp_path,
        "feeds:\n  - url: https://a.localhost/feed\n  - url: https://b.localhost/feed\n"
        "  - url: https://A.localhost:443/feed\n    name: again\n",
    )
    [error] = errors_of(path)
    assert error == (
        f"{path}:4: feeds.2.url: 'https://A.localhost:443/feed' is already listed as feeds.0 "
        "(line 2); list each feed once"
    )


@pytest.mark.parametrize(
    "url", ["mysql://user@127.0.0.1/monitor", "mongodb://127.0.0.1", "monitor.db"]
)
def test_unsupported_database_urls_say_what_is_supported(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, f"storage:\n  url: {url}\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:2: storage.url: ")
    assert "sqlite" in error and "postgresql" in error


def test_supported_database_urls_pass(tmp_path: Path) -> None:
    for url in (
        "sqlite:///m.db",
        "postgresql://u@127.0.0.1/db",
        "postgresql+psycopg://u@127.0.0.1/db",
    ):
        assert load_config(write(tmp_path, f"storage:\n  url: {url}\n")).settings.storage.url


@pytest.mark.parametrize("text", ["", "\n\n", "# feeds: []\n"])
def test_an_empty_file_is_an_error_that_says_so(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, ["check-config", "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}:1: the file is empty (or only comments)" in result.output
    assert "Traceback" not in result.output


def watchlist_config(tmp_path: Path, rules: str, routes: str) -> Path:
    (tmp_path / "rules.yaml").write_text(
        f"entities:\n  - {{id: x, kind: armed_group, name: Xgroup}}\nrules:\n{rules}",
        encoding="utf-8",
    )
    return write(
        tmp_path,
        f"watchlists: [rules.yaml]\nalerts:\n  routes:\n{routes}"
        "dedup: {semantic: {enabled: false}}\n",
    )


def test_a_route_no_rule_names_is_a_warning(tmp_path: Path) -> None:
    path = watchlist_config(
        tmp_path,
        "  - id: r1\n    entities: {any: [x]}\n",  # no routes: alerts to `default`
        "    default: {type: console}\n    spare: {type: console}\n",
    )
    config = load_config(path)
    assert config.warnings == (
        f"{path}:5: alerts.routes.spare: no rule names this route, so nothing is sent there "
        "(a rule without `routes:` alerts to 'default')",
    )
    result = CliRunner().invoke(app, ["check-config", "--config", str(path)])
    assert result.exit_code == 0
    assert f"warning: {config.warnings[0]}" in result.output


def test_a_rule_without_routes_and_no_default_route_is_an_error(tmp_path: Path) -> None:
    path = watchlist_config(
        tmp_path,
        "  - id: r1\n    entities: {any: [x]}\n"
        "  - id: r2\n    entities: {any: [x]}\n    routes: [ops, nowhere]\n",
        "    ops: {type: console}\n",
    )
    rules = tmp_path / "rules.yaml"
    assert errors_of(path) == [
        f"{rules}:4: rules.0: rule 'r1' names no routes, so it alerts to 'default', an unknown "
        "route; alerts.routes in monitor.yaml defines: ops (add a 'default' route or give the "
        "rule `routes:`)",
        f"{rules}:8: rules.1.routes.1: rule 'r2': unknown route 'nowhere'; alerts.routes in "
        "monitor.yaml defines: ops",
    ]


def test_the_text_cap_is_validated(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "classify:\n  max_text_chars: 20000\n")).settings.classify
    path = write(tmp_path, "classify:\n  max_text_chars: 10\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:2: classify.max_text_chars:") and "1000" in error


def test_retention_settings_parse(tmp_path: Path) -> None:
    path = write(tmp_path, "storage:\n  retention:\n    article_text: 90d\n    raw_html: 14d\n")
    retention = load_config(path).settings.storage.retention
    assert (retention.article_text, retention.raw_html) == (timedelta(days=90), timedelta(days=14))
    default = load_config(write(tmp_path, "feeds: []\n")).settings.storage.retention
    assert default.article_text is None and default.raw_html == timedelta(days=7)


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        ("    article_text: 0s\n", 3, "storage.retention.article_text", "more than 0s"),
        ("    raw_html: ninety days\n", 3, "storage.retention.raw_html", "not a duration"),
        ("    text: 90d\n", 3, "storage.retention.text", "unknown key"),
        ("    article_text: 7d\n    raw_html: 14d\n", 2, "storage.retention",
         "raw_html (2w) is kept longer than article_text (1w)"),
        ("    article_text: 7d\n    raw_html: null\n", 2, "storage.retention",
         "raw_html (for ever) is kept longer than article_text"),
    ],
)  # fmt: skip
def test_retention_mistakes_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, says: str
) -> None:
    path = write(tmp_path, "storage:\n  retention:\n" + text)
    [error] = errors_of(path)
    assert error.startswith(f"{path}:{line}: {key}: ")
    assert says in error


def test_the_old_raw_html_retention_key_says_where_it_went(tmp_path: Path) -> None:
    path = write(tmp_path, "extract:\n  raw_html_retention: 7d\n")
    [error] = errors_of(path)
    assert error.startswith(f"{path}:1: extract: ")
    assert "storage.retention.raw_html" in error


def test_a_slack_channel_given_by_name_is_a_warning_and_an_id_is_not(tmp_path: Path) -> None:
    path = watchlist_config(
        tmp_path,
        "  - id: r1\n    entities: {any: [x]}\n    routes: [named, by_id]\n",
        "    named: {type: slack, token: xoxb-t, channel: '#alerts'}\n"
        "    by_id: {type: slack, token: xoxb-t, channel: C0123ABCD}\n",
    )
    config = load_config(path)
    [warning] = config.warnings
    assert warning.startswith(f"{path}:4: alerts.routes.named.channel: '#alerts' is a name")
    for words in ("channels:read", "groups:read", "twice", "C0123"):
        assert words in warning
    result = CliRunner().invoke(app, ["check-config", "--config", str(path)])
    assert result.exit_code == 0
    assert f"warning: {warning}" in result.output


def test_relative_model_paths_are_read_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As watchlist paths are: `monitor run` started from / or a unit file's directory must
    find the models the user put beside monitor.yaml."""
    folder = tmp_path / "etc"
    folder.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    absolute = tmp_path / "abs" / "combiner.json"
    path = folder / "monitor.yaml"
    path.write_text(
        "feeds: []\n"
        "classify:\n  learned:\n    model: models/fill.json\n"
        "    chooser:\n      model: models/chooser.json\n"
        f"dedup:\n  semantic:\n    model: models/minilm\n  combiner:\n    model: {absolute}\n",
        encoding="utf-8",
    )
    settings = load_config(path).settings
    assert settings.dedup.semantic.model == str(folder / "models" / "minilm")
    assert settings.classify.learned.model == str(folder / "models" / "fill.json")
    assert settings.classify.learned.chooser.model == str(folder / "models" / "chooser.json")
    assert settings.dedup.combiner.model == str(absolute)  # absolute paths stay as given
    code, output = check_config(path)
    assert code == 2  # the semantic model is not there: said with the path it looked at
    assert (
        f"{path}:9: dedup.semantic.model: {folder / 'models' / 'minilm'} does not exist" in output
    )


def test_a_feed_on_a_private_address_the_fetcher_will_refuse_is_a_warning(
    tmp_path: Path,
) -> None:
    feeds = (
        "feeds:\n  - url: http://127.0.0.1:8765/rss.xml\n  - url: http://wire.localhost/feed\n"
        "  - url: http://localhost:8001/feed\n"
    )
    path = write(tmp_path, feeds)
    said = [w for w in load_config(path).warnings if "not a public address" in w]
    assert [w.split(": ", 2)[:2] for w in said] == [
        [f"{path}:2", "feeds.0.url"],
        [f"{path}:3", "feeds.1.url"],
        [f"{path}:4", "feeds.2.url"],
    ]
    assert all("set fetch.allow_private_addresses: true" in w for w in said)
    allowed = write(tmp_path, feeds + "fetch: {allow_private_addresses: true}\n")
    assert not [w for w in load_config(allowed).warnings if "not a public address" in w]
