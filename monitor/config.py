"""`monitor.yaml` -> validated, frozen configuration. Validated once, at start-up.

Lookup order: ``--config``, else ``$MONITOR_CONFIG``, else ``./config/monitor.yaml``,
else the defaults shipped inside the package. Database: ``--db``, else
``$MONITOR_DATABASE_URL``, else ``storage.url``, else a SQLite file.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.alert.settings import AlertsSettings
from monitor.classify.watchlist import Watchlist, load_watchlists
from monitor.dedup.settings import DedupSettings
from monitor.errors import ConfigError
from monitor.extract.settings import ExtractSettings
from monitor.fetch.opml import merge_opml_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.resources import shipped_config_dir
from monitor.storage.db import default_sqlite_url
from monitor.web.settings import WebSettings
from monitor.yamlfile import format_validation_error, line_of, load_yaml_checked


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = None


class MonitorSettings(BaseModel):
    """The schema of monitor.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedConfig] = Field(default_factory=list)
    opml: list[str] = Field(default_factory=list)  # OPML files whose feeds are added
    watchlists: list[str] = Field(default_factory=list)  # files or globs, relative to this file
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    dedup: DedupSettings = DedupSettings()
    alerts: AlertsSettings = AlertsSettings()
    storage: StorageSettings = StorageSettings()
    web: WebSettings = WebSettings()


@dataclass(frozen=True)
class Config:
    """Everything a run needs, validated: settings, compiled watchlists, where they came from."""

    path: Path
    settings: MonitorSettings
    watchlist: Watchlist
    watchlist_files: tuple[Path, ...]

    def database_url(self, override: str | None = None) -> str:
        return (
            override
            or os.environ.get("MONITOR_DATABASE_URL")
            or self.settings.storage.url
            or default_sqlite_url()
        )


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    if env := os.environ.get("MONITOR_CONFIG"):
        return Path(env)
    local = Path("config/monitor.yaml")
    if local.exists():
        return local
    return shipped_config_dir() / "monitor.yaml"


def parse_settings(path: Path, data: Any) -> MonitorSettings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of settings")
    try:
        return MonitorSettings.model_validate(data)
    except ValidationError as exc:
        errors = format_validation_error(path, data, exc, model=MonitorSettings)
        raise ConfigError(f"{path}: {len(errors)} error(s)", errors) from exc


def resolve_watchlist_files(path: Path, patterns: list[str], data: Any = None) -> list[Path]:
    base = path.parent
    files: list[Path] = []
    errors: list[str] = []
    for i, pattern in enumerate(patterns):
        full = pattern if os.path.isabs(pattern) else str(base / pattern)
        matched = sorted(glob.glob(full))
        if not matched:
            line = line_of(data, ["watchlists", i])
            where = f"{path}:{line}" if line else str(path)
            errors.append(f"{where}: watchlists.{i}: {pattern!r} matches no file (in {base})")
        files.extend(Path(m) for m in matched)
    if errors:
        raise ConfigError(f"{path}: watchlist files missing", errors)
    return list(dict.fromkeys(files))


def check_rule_routes(path: Path, settings: MonitorSettings, watchlist: Watchlist) -> list[str]:
    """Rules may only name routes that monitor.yaml defines."""
    known = set(settings.alerts.routes)
    errors = []
    for rule in watchlist.rules:
        for route in rule.routes:
            if route not in known:
                allowed = ", ".join(sorted(known)) or "(no routes defined under alerts.routes)"
                errors.append(
                    f"{rule.source}: rule {rule.id!r}: unknown route {route!r}; "
                    f"defined in {path.name}: {allowed}"
                )
    return errors


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate everything; raise ConfigError listing every problem found."""
    path = find_config(explicit)
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file")
    data, errors = load_yaml_checked(path)
    settings: MonitorSettings | None = None
    try:
        settings = parse_settings(path, data)
        patterns = settings.watchlists
        if settings.opml:
            feeds = merge_opml_feeds(path, settings.feeds, settings.opml)
            settings = settings.model_copy(update={"feeds": feeds})
    except ConfigError as exc:
        errors.extend(exc.errors)
        raw = data.get("watchlists") if isinstance(data, dict) else None
        patterns = [p for p in raw if isinstance(p, str)] if isinstance(raw, list) else []
    # Watchlists are checked even when monitor.yaml has errors, so one run shows everything.
    watchlist: Watchlist | None = None
    files: list[Path] = []
    try:
        files = resolve_watchlist_files(path, patterns, data)
        watchlist = load_watchlists(files)
    except ConfigError as exc:
        errors.extend(exc.errors)
    if settings is not None and watchlist is not None:
        errors.extend(check_rule_routes(path, settings, watchlist))
    if errors or settings is None or watchlist is None:
        raise ConfigError(f"{path}: {len(errors)} error(s)", errors)
    return Config(path=path, settings=settings, watchlist=watchlist, watchlist_files=tuple(files))


def current_watchlist_files(config: Config) -> list[Path]:
    """The watchlist files the config's globs match now (a new file counts)."""
    return resolve_watchlist_files(config.path, config.settings.watchlists)


def reload_watchlist(config: Config) -> Watchlist:
    """The watchlists as they are on disk now, checked exactly as at start-up (including
    that every rule's route exists); raises ConfigError listing every problem."""
    watchlist = load_watchlists(current_watchlist_files(config))
    errors = check_rule_routes(config.path, config.settings, watchlist)
    if errors:
        raise ConfigError(f"{config.path}: {len(errors)} error(s)", errors)
    return watchlist
