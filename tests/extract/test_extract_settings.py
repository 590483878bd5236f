"""extract.sites: host overrides, matched like people write hosts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.extract.settings import ExtractSettings


def test_site_matches_host_subdomains_and_ignores_www_and_case() -> None:
    settings = ExtractSettings.model_validate(
        {
            "sites": {
                "WWW.Example.org": {"favor": "precision"},
                "a.example.org": {"fetch_page": False},
            }
        }
    )
    assert settings.site("example.org") is not None
    assert settings.site("news.example.org").favor == "precision"  # type: ignore[union-attr]
    assert settings.site("x.a.example.org").fetch_page is False  # type: ignore[union-attr]
    assert settings.site("example.com") is None and settings.site(None) is None
    assert settings.site("badexample.org") is None


def test_bad_override_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="favor"):
        ExtractSettings.model_validate({"sites": {"example.org": {"favor": "fast"}}})
