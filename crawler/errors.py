"""The one exception tree of ofsted-watch. Only the CLI catches these and prints `Error: ...`.

MonitorError
 ├── ConfigError           a config file, key or value is wrong (exit code 2)
 ├── FetchError            a source could not be fetched
 ├── ParseError            a page or PDF could not be read into outcomes
 └── StorageError          the database refused or is unusable

A channel that cannot deliver does not raise: it returns a DeliveryResult with the error, its
code and whether a retry can help (crawler/records.py), and the outbox decides.
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
