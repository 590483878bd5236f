"""`monitor.yaml` -> validated, frozen configuration. Validated once, at start-up.

Lookup order: ``--config``, else ``$MONITOR_CONFIG``, else ``./config/monitor.yaml``,
else the defaults shipped inside the package. Database: ``--db``, else
``$MONITOR_DATABASE_URL``, else ``storage.url``, else a SQLite file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.alert.settings import AlertsSettings
from monitor.classify.settings import ClassifySettings
from monitor.classify.watchlist import Watchlist, load_watchlists
from monitor.crosscheck import (
    channels_by_name,
    duplicate_feeds,
    idle_routes,
    refused_feeds,
    unknown_routes,
    where,
)
from monitor.dedup.settings import DedupSettings
from monitor.errors import ConfigError
from monitor.extract.settings import ExtractSettings
from monitor.fetch.opml import merge_opml_feeds
from monitor.fetch.settings import FeedConfig, FetchSettings
from monitor.logs import LogSettings
from monitor.resources import shipped_config_dir
from monitor.storage.db import default_sqlite_url
from monitor.storage.settings import StorageSettings
from monitor.units import counted
from monitor.web.settings import WebSettings
from monitor.yamlfile import UnsetVariable, format_validation_error, line_of, load_yaml_env

if TYPE_CHECKING:  # the model's module loads numpy: only the commands that embed do
    from monitor.dedup.meaning import Encoder


class MonitorSettings(BaseModel):
    """The schema of monitor.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedConfig] = Field(default_factory=list)
    opml: list[str] = Field(default_factory=list)  # OPML files whose feeds are added
    watchlists: list[str] = Field(default_factory=list)  # files or globs, relative to this file
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    classify: ClassifySettings = ClassifySettings()
    dedup: DedupSettings = DedupSettings()
    alerts: AlertsSettings = AlertsSettings()
    storage: StorageSettings = StorageSettings()
    web: WebSettings = WebSettings()
    log: LogSettings = LogSettings()


@dataclass(frozen=True)
class Config:
    """Everything a run needs, validated: settings, compiled watchlists, where they came from."""

    path: Path
    settings: MonitorSettings
    watchlist: Watchlist
    watchlist_files: tuple[Path, ...]
    # Routes left out of `settings` because a variable they need (a token, a webhook URL) is
    # not set: name -> one error line per unset variable. Reading stories, feeds or alerts
    # needs no secret; commands that send call require_secrets().
    unavailable_routes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # settings that would silently do nothing
    # The file as read, with the line of every key: a check made after loading (the model
    # files a setting names) points at the line. Not in repr: it holds the secrets too.
    data: Any = field(default=None, repr=False, compare=False)

    def where(self, *loc: str | int) -> str:
        """``file:line: key`` of a setting in the file (``file: key`` when it is not there)."""
        return where(self.path, self.data, loc)

    def database_url(self, override: str | None = None) -> str:
        return (
            override
            or os.environ.get("MONITOR_DATABASE_URL")
            or self.settings.storage.url
            or default_sqlite_url()
        )

    def require_secrets(self, routes: Iterable[str] | None = None) -> None:
        """ConfigError naming each unset variable that ``routes`` (default: all) need."""
        names = self.unavailable_routes if routes is None else routes
        errors = [e for name in names for e in self.unavailable_routes.get(name, ())]
        if errors:
            raise ConfigError(f"{self.path}: {counted(len(errors), 'error')}", errors)


# One wording for every command's --config: the last fallback surprised users who ran a
# command outside their config's directory and got the shipped example (two public feeds).
CONFIG_HELP = (
    "monitor.yaml (default: $MONITOR_CONFIG, else ./config/monitor.yaml, else the example "
    "shipped in the package)"
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


def parse_settings(
    path: Path, data: Any, *, leave_out_routes: Collection[str] = ()
) -> MonitorSettings:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of settings")
    try:
        return MonitorSettings.model_validate(_without_routes(data, leave_out_routes))
    except ValidationError as exc:
        # Lines are looked up in the data as written, where every route still is.
        errors = format_validation_error(path, data, exc, model=MonitorSettings)
        raise ConfigError(f"{path}: {counted(len(errors), 'error')}", errors) from exc


def _without_routes(data: dict[str, Any], names: Collection[str]) -> dict[str, Any]:
    alerts = data.get("alerts")
    routes = alerts.get("routes") if isinstance(alerts, dict) else None
    if not names or not isinstance(routes, dict):
        return data
    kept = {name: route for name, route in routes.items() if name not in names}
    return {**data, "alerts": {**alerts, "routes": kept}}  # type: ignore[dict-item]


def split_unset(
    path: Path, data: Any, unset: list[UnsetVariable]
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """(routes that need an unset variable -> error lines, errors for every other one).

    Only an alert route's variables may be missing, and only until something is sent: a
    token must not be needed to list stories. Any other unset variable is an error now.
    """
    routes: dict[str, list[str]] = {}
    errors = []
    for var in unset:
        if len(var.loc) > 2 and var.loc[:2] == ("alerts", "routes"):
            name = str(var.loc[2])
            message = var.message(path, data) + f"; route {name!r} cannot send without it"
            routes.setdefault(name, []).append(message)
        else:
            errors.append(var.message(path, data))
    return {name: tuple(lines) for name, lines in routes.items()}, errors


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


def load_config(explicit: str | os.PathLike[str] | None = None, *, sends: bool = False) -> Config:
    """Load and validate everything; raise ConfigError listing every problem found.

    Alert routes whose secrets are unset are left out and listed in
    ``Config.unavailable_routes``, unless the caller ``sends`` alerts: then they are errors.
    """
    path = find_config(explicit)
    data, unset = _read(path)
    unavailable, errors = split_unset(path, data, unset)
    if sends:
        errors.extend(line for lines in unavailable.values() for line in lines)
    settings, patterns = _settings(path, data, unavailable, errors)
    # Watchlists are checked even when monitor.yaml has errors, so one run shows everything.
    watchlist: Watchlist | None = None
    files: list[Path] = []
    try:
        files = resolve_watchlist_files(path, patterns, data)
        watchlist = load_watchlists(files)
    except ConfigError as exc:
        errors.extend(exc.errors)
    if settings is not None and watchlist is not None:
        routes = settings.alerts.routes
        errors.extend(unknown_routes(path, routes, watchlist, unavailable=unavailable))
    if errors or settings is None or watchlist is None:
        raise ConfigError(f"{path}: {counted(len(errors), 'error')}", errors)
    return Config(
        path=path,
        settings=settings,
        watchlist=watchlist,
        watchlist_files=tuple(files),
        unavailable_routes=unavailable,
        warnings=(
            *idle_routes(path, data, [*routes, *unavailable], watchlist),
            *channels_by_name(path, data, routes),
            *refused_feeds(path, data, settings.feeds, settings.fetch.allow_private_addresses),
        ),
        data=data,
    )


def _read(path: Path) -> tuple[Any, list[UnsetVariable]]:
    if not path.exists():
        raise ConfigError(f"{path}: no such configuration file")
    data, unset = load_yaml_env(path)
    if data is None:  # not an empty mapping: a file with nothing in it is a mistake
        example = shipped_config_dir() / "monitor.yaml"
        raise ConfigError(
            f"{path}: empty",
            [f"{path}:1: the file is empty (or only comments): no feeds, no watchlists; "
             f"start from the example {example}"],
        )  # fmt: skip
    return data, unset


def _settings(
    path: Path, data: Any, unavailable: Collection[str], errors: list[str]
) -> tuple[MonitorSettings | None, list[str]]:
    """(settings or None, watchlist patterns); problems are appended to ``errors``."""
    try:
        settings = parse_settings(path, data, leave_out_routes=unavailable)
        errors.extend(duplicate_feeds(path, data, settings.feeds))
        if settings.opml:
            feeds = merge_opml_feeds(path, settings.feeds, settings.opml)
            settings = settings.model_copy(update={"feeds": feeds})
        return _models_beside(settings, path.parent), settings.watchlists
    except ConfigError as exc:
        errors.extend(exc.errors)
        raw = data.get("watchlists") if isinstance(data, dict) else None
        return None, [p for p in raw if isinstance(p, str)] if isinstance(raw, list) else []


def _models_beside(settings: MonitorSettings, base: Path) -> MonitorSettings:
    """``settings`` with each relative model path read from ``base`` (the config file's
    folder), as watchlist paths are: the service's working directory is not the user's."""

    def anchored(section: Any) -> Any:
        model = section.model
        if model is None or os.path.isabs(os.path.expanduser(model)):
            return section
        return section.model_copy(update={"model": str(base / model)})

    learned = settings.classify.learned
    learned = anchored(learned).model_copy(update={"chooser": anchored(learned.chooser)})
    dedup = settings.dedup.model_copy(
        update={"semantic": anchored(settings.dedup.semantic),
                "combiner": anchored(settings.dedup.combiner)}
    )  # fmt: skip
    classify = settings.classify.model_copy(update={"learned": learned})
    return settings.model_copy(update={"classify": classify, "dedup": dedup})


def current_watchlist_files(config: Config) -> list[Path]:
    """The watchlist files the config's globs match now (a new file counts)."""
    return resolve_watchlist_files(config.path, config.settings.watchlists)


def reload_watchlist(config: Config) -> Watchlist:
    """The watchlists as they are on disk now, checked exactly as at start-up (including
    that every rule's route exists); raises ConfigError listing every problem."""
    watchlist = load_watchlists(current_watchlist_files(config))
    routes = config.settings.alerts.routes
    errors = unknown_routes(config.path, routes, watchlist, unavailable=config.unavailable_routes)
    if errors:
        raise ConfigError(f"{config.path}: {counted(len(errors), 'error')}", errors)
    return watchlist


def load_sentence_model(config: Config, *, threads: int | None = None) -> Encoder | None:
    """The sentence-embedding model dedup reads with, loaded as `run` loads it; None when
    ``dedup.semantic.enabled`` is false. A missing or broken model is a ConfigError at the
    line of ``dedup.semantic.model``, or, when that is not set, one that says the default
    model is meant and how to build it."""
    semantic = config.settings.dedup.semantic
    if not semantic.enabled:
        return None
    from monitor.dedup.meaning import INSTALL_HINT, load_encoder, locate_model

    try:
        locate_model(semantic.model)  # load_encoder is cached: see that the files are still there
        return load_encoder(semantic.model, semantic.threads or threads)
    except ConfigError as exc:
        problem = "; ".join(exc.errors)
        if semantic.model:
            line = f"{config.where('dedup', 'semantic', 'model')}: {problem}"
        else:
            line = (
                f"{config.path}: dedup.semantic.model is not set, so the default sentence "
                f"model is used: {problem}; build it with {INSTALL_HINT}, name a directory "
                "that script wrote in dedup.semantic.model, or set dedup.semantic.enabled: "
                "false (word-based scores only, lower precision)"
            )
        raise ConfigError(f"{config.path}: the sentence model cannot be loaded", [line]) from exc
