"""Where the shipped config/ and alembic/ folders are, installed or in a source checkout.

A wheel installs them inside the package (monitor/defaults, monitor/migrations; see
pyproject.toml). An editable install runs from the checkout, where they sit beside monitor/.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(installed: str, checkout: str) -> Path:
    packaged = _PACKAGE / installed
    return packaged if packaged.is_dir() else _PACKAGE.parent / checkout


def shipped_config_dir() -> Path:
    return _find("defaults", "config")


def migrations_dir() -> Path:
    return _find("migrations", "alembic")
