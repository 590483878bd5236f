"""YAML loading with ${VAR} interpolation and error messages that name file, line and key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from monitor.errors import ConfigError
from monitor.units import counted

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


# libyaml's parser when PyYAML was built with it: the watchlists parse ~8x faster (a tenth of
# `monitor replay`'s start-up), into the same data with the same lines.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):
    """Keeps the line of every mapping key and sequence item for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    # A repeated key would silently drop the first block (a second `rules:` list, say).
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        key = str(loader.construct_object(key_node))
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key]}); the first would be ignored",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    lines = {}
    for key_node, _ in node.value:
        lines[str(loader.construct_object(key_node))] = key_node.start_mark.line + 1
    return _LinedDict(mapping, lines, node.start_mark.line + 1)


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    items = yaml.SafeLoader.construct_sequence(loader, node, deep=True)
    return _LinedList(items, [n.start_mark.line + 1 for n in node.value], node.start_mark.line + 1)


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG,
    _construct_sequence,
)


class _LinedDict(dict[str, Any]):
    def __init__(self, data: dict[str, Any], lines: dict[str, int], line: int) -> None:
        super().__init__(data)
        self.key_lines = lines
        self.line = line


class _LinedList(list[Any]):
    def __init__(self, data: list[Any], lines: list[int], line: int) -> None:
        super().__init__(data)
        self.item_lines = lines
        self.line = line


@dataclass(frozen=True)
class UnsetVariable:
    """A ``${NAME}`` without a default whose variable is not set, and where it was used."""

    name: str
    loc: tuple[str | int, ...]  # the key path, e.g. ("alerts", "routes", "ops", "token")

    def message(self, path: Path, data: Any) -> str:
        line = line_of(data, self.loc)
        where = f"{path}:{line}" if line else str(path)
        key = ".".join(str(p) for p in self.loc) or "(top level)"
        return (
            f"{where}: {key}: environment variable {self.name} is not set "
            f"(use ${{{self.name}:-default}} for an optional value)"
        )


def interpolate(
    value: Any,
    *,
    env: Mapping[str, str],
    missing: list[UnsetVariable],
    loc: tuple[str | int, ...] = (),
) -> Any:
    """Replace ${VAR} and ${VAR:-default} in every string; unset variables go to ``missing``
    (and become empty strings, so the rest of the file can still be checked)."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            missing.append(UnsetVariable(name, loc))
            return ""

        return _VAR.sub(sub, value)
    if isinstance(value, _LinedDict):
        items = {
            k: interpolate(v, env=env, missing=missing, loc=(*loc, k)) for k, v in value.items()
        }
        return _LinedDict(items, value.key_lines, value.line)
    if isinstance(value, _LinedList):
        seq = [interpolate(v, env=env, missing=missing, loc=(*loc, i)) for i, v in enumerate(value)]
        return _LinedList(seq, value.item_lines, value.line)
    return value


def load_yaml_env(path: Path) -> tuple[Any, list[UnsetVariable]]:
    """Parse ``path`` and interpolate the environment: (data, the variables that are unset).
    Syntax errors raise ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from exc
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(
            f"{path}: invalid YAML", [f"{where}: invalid YAML: {exc.problem or exc}"]
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    missing: list[UnsetVariable] = []
    data = interpolate(data, env=os.environ, missing=missing)
    return data, missing


def load_yaml_checked(path: Path) -> tuple[Any, list[str]]:
    """Parse ``path`` and interpolate the environment: (data, errors about unset variables,
    each with file, line and key)."""
    data, missing = load_yaml_env(path)
    return data, [m.message(path, data) for m in missing]


def load_yaml(path: Path) -> Any:
    """Parse ``path``; any problem becomes a ConfigError naming file and line."""
    data, errors = load_yaml_checked(path)
    if errors:
        raise ConfigError(f"{path}: {counted(len(errors), 'error')}", errors)
    return data


def item_at_line(seq: Any, line: int) -> int | None:
    """The index of the item of a loaded YAML list that starts on ``line``."""
    lines = getattr(seq, "item_lines", [])
    return lines.index(line) if line in lines else None


def line_of(data: Any, loc: Sequence[str | int]) -> int | None:
    """Best line number for a pydantic error location inside loaded YAML."""
    line = getattr(data, "line", None)
    node = data
    for part in loc:
        if isinstance(node, _LinedDict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, _LinedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def format_validation_error(
    path: Path, data: Any, exc: ValidationError, *, model: type[BaseModel] | None = None
) -> list[str]:
    """One precise line per problem: ``file:line: key.path: message``."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = line_of(data, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
            allowed = _allowed_keys(model, loc[:-1])
            if allowed:
                msg += f"; allowed here: {allowed}"
        elif err["type"] == "literal_error" and "expected" in (err.get("ctx") or {}):
            msg = f"must be one of {err['ctx']['expected']}, got {err.get('input')!r}"
        where = f"{path}:{line}" if line else str(path)
        lines.append(f"{where}: {key}: {msg}")
    return lines


def _allowed_keys(model: type[BaseModel] | None, loc: Sequence[str | int]) -> str:
    """The keys the model accepts at ``loc``, walking nested models, lists and dicts."""
    current: Any = model
    for part in loc:
        if current is None:
            return ""
        current = _step(current, part)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return ", ".join(current.model_fields)
    return ""


def _step(tp: Any, part: str | int) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(str(part))
        return _unwrap(field.annotation) if field else None
    args = [a for a in get_args(tp) if a is not type(None)]
    origin = get_origin(tp)
    if origin in (list, tuple) and args:
        return _unwrap(args[0])
    if origin is dict and len(args) == 2:
        return _unwrap(args[1])
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated so the walk sees the model underneath."""
    while True:
        args = [a for a in get_args(tp) if a is not type(None)]
        origin = get_origin(tp)
        if origin in (list, tuple, dict):
            return tp
        if args and (origin is Annotated or len(args) == 1):
            tp = args[0]
            continue
        return tp
