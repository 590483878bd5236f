"""The one exception tree of monitor.

    MonitorError
     +-- ConfigError        configuration or watchlist file is invalid (exit code 2)
     +-- FetchError         a feed or page could not be fetched
     |    +-- UnsafeAddressError   URL resolves to a private/loopback/metadata address
     |    +-- ResponseTooLarge     body exceeded the decoded size cap
     |    +-- NotAFeedError        the body is HTML, empty or an error page, not a feed
     +-- ExtractError       article text could not be extracted
     +-- ClassifyError      a watchlist could not be compiled or applied
     +-- DedupError         story assignment failed
     +-- NotifyError        an alert could not be delivered
     |    +-- PermanentNotifyError  retrying will not help (invalid_auth, channel_not_found, ...)
     +-- StorageError       the database is unreachable or its schema is out of date
     +-- ListenError        the health server cannot listen on `web.listen` (port in use, ...)
     +-- FeedListError      a run-time feed change was refused (bad URL, listed already, YAML's)

Library errors are translated at the boundary with ``raise X(...) from exc`` so callers
only ever need to catch ``MonitorError`` subclasses.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of every error monitor raises on purpose."""


class ConfigError(MonitorError):
    """Invalid configuration. ``errors`` holds every problem found, one line each."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        self.errors = errors or [message]
        super().__init__(message if errors is None else message + "\n" + "\n".join(errors))


class FetchError(MonitorError):
    """A feed or page could not be fetched."""


class UnsafeAddressError(FetchError):
    """The URL resolves to an address monitor refuses to contact."""


class ResponseTooLarge(FetchError):
    """The decoded response body exceeded the configured cap."""


class NotAFeedError(FetchError):
    """The response is not a feed (HTML page, empty body, error page)."""


class ExtractError(MonitorError):
    """Article text could not be extracted."""


class ClassifyError(MonitorError):
    """A watchlist could not be compiled or applied."""


class DedupError(MonitorError):
    """Story assignment failed."""


class NotifyError(MonitorError):
    """An alert could not be delivered (may be retried)."""


class PermanentNotifyError(NotifyError):
    """Delivery failed in a way retrying cannot fix."""


class StorageError(MonitorError):
    """The database is unreachable or its schema is not up to date."""


class ListenError(MonitorError):
    """The health server cannot listen on its configured address."""


class FeedListError(MonitorError):
    """A feed could not be added, paused, resumed or removed at run time."""
