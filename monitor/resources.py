"""Where the shipped config/ and alembic/ folders are, installed or in a source checkout.

A wheel installs them inside the package (monitor/defaults, monitor/migrations; see
pyproject.toml). An editable install runs from the checkout, where they sit beside monitor/.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent


def _find(installed: str, checkout: str) -> Path:
    packaged = _PACKAGE / installed
    return packaged if packaged.is_dir() else _PACKAGE.parent / checkout


def shipped_config_dir() -> Path:
    return _find("defaults", "config")


def migrations_dir() -> Path:
    return _find("migrations", "alembic")


def read_model_file(path: Path, setting: str) -> tuple[Any, str]:
    """A fitted model's JSON and the sha256 of its bytes (explain and logs name the exact
    file); ConfigError naming ``setting`` when it cannot be read."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {exc}") from exc
    return data, hashlib.sha256(raw).hexdigest()
