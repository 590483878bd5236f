"""extract.sites: host overrides, matched like people write hosts."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from monitor.extract.settings import ExtractSettings


def test_site_matches_host_subdomains_and_ignores_www_and_case() -> None:
    settings = ExtractSettings.model_validate(
        {
            "sites": {
                "WWW.Wire.localhost": {"favor": "precision"},
                "a.wire.localhost": {"fetch_page": False},
            }
        }
    )
    assert settings.site("wire.localhost") is not None
    assert settings.site("news.wire.localhost").favor == "precision"  # type: ignore[union-attr]
    assert settings.site("x.a.wire.localhost").fetch_page is False  # type: ignore[union-attr]
    assert settings.site("other.localhost") is None and settings.site(None) is None
    assert settings.site("badwire.localhost") is None


def test_bad_override_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="favor"):
        ExtractSettings.model_validate({"sites": {"wire.localhost": {"favor": "fast"}}})
