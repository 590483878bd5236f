"""`--help` of every command, through the real CLI runner: a flag reads as a flag."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from monitor.cli import app


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command's words; Typer builds on its own copy of click, so groups are told by
    their ``commands``."""
    paths = [path]
    for name, sub in getattr(command, "commands", {}).items():
        paths += _command_paths(sub, (*path, name))
    return paths


PATHS = _command_paths(typer.main.get_command(app))


def test_every_command_is_walked() -> None:
    assert ("stories",) in PATHS and ("articles", "list") in PATHS and ("explain",) in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "monitor")
def test_help_shows_flags_without_a_value(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    # "--help" is a flag everywhere: alone on its line, then its words.
    assert re.search(r"^\s+--help\s+Show this message and exit\.", result.output, re.M)


def test_a_flag_reads_as_a_flag_and_an_option_names_its_value() -> None:
    out = CliRunner().invoke(app, ["stories", "--help"]).output
    assert re.search(r"^\s+--json\s+One JSON object per story\.", out, re.M)
    assert re.search(r"^\s+--days <float>\s+Stories seen", out, re.M)
