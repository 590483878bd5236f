"""YAML loading with ${VAR} interpolation and error messages that name file, line and key."""

from __future__ import annotations

import difflib
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
    """One precise line per problem, in file order: ``file:line: key.path: message``."""
    errors = [
        e
        for e in exc.errors(include_url=False)
        if e["type"] != "missing" or not _typo_explains(e["loc"], exc, model)
    ]
    found = []
    for err in errors:
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        line = line_of(data, loc)
        key = ".".join(str(p) for p in loc) or "(top level)"
        where = f"{path}:{line}" if line else str(path)
        found.append((line or 0, f"{where}: {key}: {_message(err, model, loc)}"))
    # Stable: problems on one line keep pydantic's order.
    return [text for _, text in sorted(found, key=lambda item: item[0])]


# pydantic's wording ("Input should be a valid integer, unable to parse string as an
# integer") speaks of Python types; a YAML author needs what to write instead.
_PLAIN = {
    "missing": "required key missing",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list: [a, b] or one '- item' per line",
    "dict_type": "must be a mapping: indented 'key: value' lines",
    "model_type": "must be a mapping: indented 'key: value' lines",
}


def _message(err: Any, model: type[BaseModel] | None, loc: Sequence[str | int]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        msg = "unknown key"
        known = _allowed_key_names(model, loc[:-1])
        if known:
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            allowed = ", ".join(known)
            msg += f"; did you mean {close[0]!r}? Allowed here: {allowed}" if close else ""
            msg += "" if close else f"; allowed here: {allowed}"
        return msg
    if kind == "literal_error" and "expected" in ctx:
        return f"must be one of {ctx['expected']}, got {err.get('input')!r}"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind in _PLAIN:
        got = err.get("input")
        scalar = isinstance(got, str | int | float | bool) or got is None
        return _PLAIN[kind] + (f", got {got!r}" if kind != "missing" and scalar else "")
    return str(err["msg"])


def _typo_explains(
    loc: Sequence[str | int], exc: ValidationError, model: type[BaseModel] | None
) -> bool:
    """A required key is reported missing because it was misspelt: the unknown-key error
    beside it already says "did you mean" it, so a second error would only mislead."""
    known = _allowed_key_names(model, loc[:-1])
    return any(
        other["type"] == "extra_forbidden"
        and tuple(other["loc"][:-1]) == tuple(loc[:-1])
        and difflib.get_close_matches(str(other["loc"][-1]), known, n=1) == [loc[-1]]
        for other in exc.errors(include_url=False)
    )


def _allowed_key_names(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    """The keys the model accepts at ``loc``, walking nested models, lists and dicts."""
    current: Any = model
    for part in loc:
        if current is None:
            return []
        current = _step(current, part)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


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
