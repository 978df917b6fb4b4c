"""The one exception tree of ofsted-watch. Only the CLI catches these and prints `Error: ...`.

MonitorError
 ├── ConfigError           a config file, key or value is wrong (exit code 2)
 ├── FetchError            a source could not be fetched
 ├── ParseError            a page or PDF could not be read into outcomes
 ├── StorageError          the database refused or is unusable
 └── AlertDeliveryError    a channel could not deliver an alert
      └── PermanentDeliveryError   retrying will not help (SMTP 5xx, HTTP 4xx)
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error that ofsted-watch raises on purpose."""


class ConfigError(MonitorError):
    """The configuration is unusable; the message names the file, line or key."""


class FetchError(MonitorError):
    """A source could not be fetched."""


class ParseError(MonitorError):
    """A page or report could not be parsed."""


class StorageError(MonitorError):
    """The database could not be opened, migrated or written."""


class AlertDeliveryError(MonitorError):
    """A channel failed to deliver; the alert stays queued for a retry."""

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class PermanentDeliveryError(AlertDeliveryError):
    """A channel refused the alert in a way that a retry cannot fix."""
