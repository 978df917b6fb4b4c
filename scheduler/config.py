"""Load and validate the TOML config into frozen dataclasses.

Precedence: the defaults below, then the file, then OFSTED_WATCH_* environment variables,
then CLI flags.
Every error names the file and line (or the key path) and, for unknown keys, lists the valid ones.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from alerts.atom import AtomSettings
from alerts.channels import CHANNELS
from alerts.config import DEFAULT_MIN_CONFIDENCE, OUTCOME_EVENTS, ChannelConfig
from alerts.digest import check_digest, check_zone
from alerts.webhooks import FORMATS
from crawler.authorities import AuthorityRegistry
from crawler.errors import ConfigError
from crawler.records import ALERT_EVENT_TYPES
from crawler.sources import SOURCE_KINDS, SourceConfig

DEFAULT_CONFIG_NAME = "ofsted-watch.toml"
DEFAULT_USER_AGENT = "ofsted-watch/0.1 (+https://github.com/ofsted-watch/ofsted-watch)"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class CrawlSettings:
    """How politely and how long to crawl."""

    user_agent: str = DEFAULT_USER_AGENT
    delay: float = 1.0
    timeout: float = 30.0
    max_bytes: int = 20 * 1024 * 1024
    deadline: float = 900.0
    obey_robots: bool = True
    cache_dir: str = ".ofsted-watch/httpcache"


@dataclass(frozen=True)
class AlertSettings:
    """Outbox delivery: how long to keep retrying, and whether to only render."""

    retry_hours: float = 48.0
    dry_run: bool = False
    failing_after: int = 3
    lease_seconds: float = 300.0
    remind_seconds: float = 86400.0


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    path: str
    database_url: str = "sqlite:///ofsted-watch.db"
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    atom: AtomSettings = field(default_factory=AtomSettings)
    sources: tuple[SourceConfig, ...] = ()
    channels: tuple[ChannelConfig, ...] = ()

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    def watched_authorities(self) -> tuple[str, ...]:
        codes = {code for s in self.sources for code in s.authorities}
        return tuple(sorted(codes))


def config_path(cli_value: str | None, environ: Mapping[str, str]) -> Path:
    """--config, then OFSTED_WATCH_CONFIG, then ./ofsted-watch.toml."""
    return Path(cli_value or environ.get("OFSTED_WATCH_CONFIG") or DEFAULT_CONFIG_NAME)


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read, validate and resolve one config file. The only reader of the environment."""
    env = dict(os.environ if environ is None else environ)
    raw = _read(path)
    where = _Where(path, raw)
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not data:
        # An empty file would watch nothing and still report itself healthy.
        raise ConfigError(f"{path}: the config is empty (see examples/ofsted-watch.toml)")
    _check_env_secrets(data, where, env)
    config = _build(data, where, env)
    return _apply_env(config, env)


def _check_env_secrets(data: Mapping[str, Any], where: _Where, env: Mapping[str, str]) -> None:
    """Name every unset env: secret at once, so an operator fixes them in one go, not one a run.
    (One alone is reported where it is read, with its own line.)"""
    missing = [
        f"{name} ({where(table, index, key)})"
        for table, index, key, name in _env_references(data)
        if name not in env
    ]
    if len(missing) > 1:
        raise ConfigError(f"environment variables not set: {'; '.join(missing)}")


def _env_references(data: Mapping[str, Any]) -> Iterator[tuple[str, int | None, str, str]]:
    for table, value in data.items():
        rows = value if isinstance(value, list) else [value]
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                continue
            for key, item in row.items():
                if isinstance(item, str) and item.startswith("env:"):
                    yield table, index if isinstance(value, list) else None, key, item[4:]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (see examples/ofsted-watch.toml)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None


class _Where:
    """Turns a key path into `file:line: key` by finding the key in the raw text."""

    def __init__(self, path: Path, raw: str):
        self.path = path
        self.lines = raw.splitlines()

    def __call__(self, table: str, index: int | None, key: str | None) -> str:
        line = self._line(table, index, key)
        label = _key_path(table, index, key)
        return f"{self.path}:{line}: {label}" if line else f"{self.path}: {label}"

    def _line(self, table: str, index: int | None, key: str | None) -> int | None:
        start = self._table_start(table, index)
        if start is None:
            return None
        if key is None:
            return start + 1
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for number in range(start + 1, len(self.lines)):
            if self.lines[number].lstrip().startswith("["):
                break
            if pattern.match(self.lines[number]):
                return number + 1
        return start + 1

    def _table_start(self, table: str, index: int | None) -> int | None:
        header = f"[[{table}]]" if index is not None else f"[{table}]"
        seen = -1
        for number, text in enumerate(self.lines):
            if text.strip().startswith(header):
                seen += 1
                if index is None or seen == index:
                    return number
        return None


def _key_path(table: str, index: int | None, key: str | None) -> str:
    base = f"{table}[{index}]" if index is not None else table
    return f"{base}.{key}" if key else base


_TOP_KEYS = ("database", "crawl", "alerts", "atom", "source", "channel")
_ATOM_KEYS = ("path", "title", "limit", "url")
_DATABASE_KEYS = ("url",)
_CRAWL_KEYS = (
    "user_agent",
    "delay",
    "timeout",
    "max_bytes",
    "deadline",
    "obey_robots",
    "cache_dir",
)
_ALERT_KEYS = ("retry_hours", "dry_run", "failing_after", "lease", "remind_every")


def _check_keys(
    table: Mapping[str, Any], valid: tuple[str, ...], where: _Where, name: str, index: int | None
) -> None:
    for key in table:
        if key not in valid:
            raise ConfigError(
                f"{where(name, index, key)}: unknown key; valid keys: {', '.join(valid)}"
            )


def _build(data: Mapping[str, Any], where: _Where, env: Mapping[str, str]) -> Config:
    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(
                f"{where.path}: {key}: unknown table; valid tables: {', '.join(_TOP_KEYS)}"
            )
    database = _table(data, "database", where)
    _check_keys(database, _DATABASE_KEYS, where, "database", None)
    sources = tuple(_source(t, i, where) for i, t in enumerate(_array(data, "source", where)))
    _unique([s.name for s in sources], "source", where)
    channels = tuple(
        _channel(t, i, where, env) for i, t in enumerate(_array(data, "channel", where))
    )
    _unique([c.name for c in channels], "channel", where)
    return Config(
        path=str(where.path),
        database_url=_database_url(database, where),
        crawl=_crawl(_table(data, "crawl", where), where),
        alerts=_alerts(_table(data, "alerts", where), where),
        atom=_atom(_table(data, "atom", where), where),
        sources=sources,
        channels=channels,
    )


def _table(data: Mapping[str, Any], name: str, where: _Where) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where(name, None, None)}: must be a table ([{name}])")
    return value


def _array(data: Mapping[str, Any], name: str, where: _Where) -> list[Mapping[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where.path}: {name}: must be an array of tables ([[{name}]])")
    return value


def _unique(names: list[str], table: str, where: _Where) -> None:
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ConfigError(f"{where(table, index, 'name')}: duplicate name {name!r}")


def _str(
    t: Mapping[str, Any], key: str, where: _Where, table: str, i: int | None, default: Any = None
) -> Any:
    value = t.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{where(table, i, key)}: must be a string")
    return value


def _required(t: Mapping[str, Any], key: str, where: _Where, table: str, i: int) -> str:
    value = _str(t, key, where, table, i)
    if not value:
        raise ConfigError(f"{where(table, i, None)}: missing required key {key!r}")
    return str(value)


def _choice(value: str, choices: tuple[str, ...] | list[str], label: str) -> str:
    if value not in choices:
        raise ConfigError(f"{label}: {value!r} is not one of: {', '.join(choices)}")
    return value


def _list(t: Mapping[str, Any], key: str, where: _Where, table: str, i: int | None) -> list[str]:
    value = t.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where(table, i, key)}: must be a list of strings")
    return list(value)


def _number(t: Mapping[str, Any], key: str, where: _Where, table: str, default: float) -> float:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where(table, None, key)}: must be a number >= 0")
    return float(value)


def _bool(
    t: Mapping[str, Any], key: str, where: _Where, table: str, i: int | None, d: bool
) -> bool:
    value = t.get(key, d)
    if not isinstance(value, bool):
        raise ConfigError(f"{where(table, i, key)}: must be true or false")
    return value


def parse_duration(text: str) -> float:
    """Seconds in '90s', '30m', '1h', '2h30m', '1d'; a bare number is seconds."""
    cleaned = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return float(cleaned)
    parts = _DURATION.findall(cleaned)
    if not parts or _DURATION.sub("", cleaned).strip():
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2h30m")
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts)


def _fraction(t: Mapping[str, Any], key: str, where: _Where, i: int, default: float) -> float:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"{where('channel', i, key)}: must be a number from 0 to 1")
    return float(value)


def _duration(
    t: Mapping[str, Any], key: str, where: _Where, table: str, i: int | None, default: float
) -> float:
    value = t.get(key)
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise ConfigError(f"{where(table, i, key)}: {exc}") from None


def _crawl(t: Mapping[str, Any], where: _Where) -> CrawlSettings:
    _check_keys(t, _CRAWL_KEYS, where, "crawl", None)
    d = CrawlSettings()
    max_bytes = t.get("max_bytes", d.max_bytes)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ConfigError(f"{where('crawl', None, 'max_bytes')}: must be a whole number > 0")
    return CrawlSettings(
        user_agent=_str(t, "user_agent", where, "crawl", None, d.user_agent),
        delay=_duration(t, "delay", where, "crawl", None, d.delay),
        timeout=_duration(t, "timeout", where, "crawl", None, d.timeout),
        max_bytes=max_bytes,
        deadline=_duration(t, "deadline", where, "crawl", None, d.deadline),
        obey_robots=_bool(t, "obey_robots", where, "crawl", None, d.obey_robots),
        cache_dir=_str(t, "cache_dir", where, "crawl", None, d.cache_dir),
    )


def _alerts(t: Mapping[str, Any], where: _Where) -> AlertSettings:
    _check_keys(t, _ALERT_KEYS, where, "alerts", None)
    d = AlertSettings()
    return AlertSettings(
        retry_hours=_number(t, "retry_hours", where, "alerts", d.retry_hours),
        dry_run=_bool(t, "dry_run", where, "alerts", None, d.dry_run),
        failing_after=int(_number(t, "failing_after", where, "alerts", d.failing_after)),
        lease_seconds=_duration(t, "lease", where, "alerts", None, d.lease_seconds),
        remind_seconds=_duration(t, "remind_every", where, "alerts", None, d.remind_seconds),
    )


def _atom(t: Mapping[str, Any], where: _Where) -> AtomSettings:
    _check_keys(t, _ATOM_KEYS, where, "atom", None)
    d = AtomSettings()
    return AtomSettings(
        path=_str(t, "path", where, "atom", None, d.path),
        title=_str(t, "title", where, "atom", None, d.title),
        limit=int(_number(t, "limit", where, "atom", d.limit)),
        url=_str(t, "url", where, "atom", None, d.url),
    )


def _database_url(t: Mapping[str, Any], where: _Where) -> str:
    from db.engine import url_problem

    url = _str(t, "url", where, "database", None, Config.database_url) or Config.database_url
    problem = url_problem(url)
    if problem:
        raise ConfigError(f"{where('database', None, 'url')}: {problem}")
    return url


def resolve_authorities(names: list[str], label: str) -> tuple[str, ...]:
    """Council names or aliases to ONS codes; ["*"] means all 153 current councils."""
    registry = AuthorityRegistry.load()
    if names == ["*"]:
        return tuple(a.ons_code for a in registry.current())
    codes = []
    for name in names:
        authority = registry.resolve(name)
        if authority is None:
            raise ConfigError(
                f"{label}: {name!r} is not a known council (or names more than one)"
                + _did_you_mean(name, registry)
            )
        codes.append(authority.ons_code)
    return tuple(dict.fromkeys(codes))


def _did_you_mean(name: str, registry: AuthorityRegistry) -> str:
    known = {n.lower(): a.short_name for a in registry.current() for n in a.all_names()}
    close = difflib.get_close_matches(name.lower(), list(known), n=3, cutoff=0.75)
    guesses = list(dict.fromkeys(known[n] for n in close))
    return f"; did you mean {' or '.join(map(repr, guesses))}?" if guesses else ""


def _url(value: str, label: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    if not re.match(rf"^({'|'.join(schemes)})://[^\s/]+", value):
        raise ConfigError(f"{label}: must start with {' or '.join(s + '://' for s in schemes)}")
    return value.rstrip("/") if value.count("/") == 2 else value


def _source(t: Mapping[str, Any], i: int, where: _Where) -> SourceConfig:
    kind = _choice(
        _required(t, "kind", where, "source", i), list(SOURCE_KINDS), where("source", i, "kind")
    )
    _check_keys(t, SOURCE_KINDS[kind].all_keys, where, "source", i)
    names = _list(t, "authorities", where, "source", i)
    if kind == "ofsted" and not names:
        raise ConfigError(f"{where('source', i, None)}: an ofsted source needs 'authorities'")
    if "every" in t and "cron" in t:
        raise ConfigError(f"{where('source', i, 'cron')}: give either 'every' or 'cron', not both")
    return SourceConfig(
        name=_required(t, "name", where, "source", i),
        kind=kind,
        url=_url(_required(t, "url", where, "source", i), where("source", i, "url")),
        authorities=resolve_authorities(names, where("source", i, "authorities")),
        every_seconds=None if "cron" in t else int(_duration(t, "every", where, "source", i, 3600)),
        cron=_cron(t, where, i),
        max_articles=_whole(t, "max_articles", where, "source", i, 50),
        recheck_days=_whole(t, "recheck_days", where, "source", i, 3),
        enabled=_bool(t, "enabled", where, "source", i, True),
        discover=_bool(t, "discover", where, "source", i, False),
        silence_days=_silence_days(t, kind, where, i),
        content_selector=_selector(t, "content_selector", where, i),
        link_selector=_selector(t, "link_selector", where, i),
        allowed_hosts=tuple(
            h.strip().lower() for h in _list(t, "allowed_hosts", where, "source", i)
        ),
    )


def _selector(t: Mapping[str, Any], key: str, where: _Where, i: int) -> str | None:
    """A CSS selector, compiled now so that a typo is a config error, not a silent miss."""
    value = _str(t, key, where, "source", i)
    if value is None:
        return None
    from lxml.cssselect import CSSSelector, SelectorError

    try:
        CSSSelector(value)
    except SelectorError as exc:
        raise ConfigError(f"{where('source', i, key)}: not a CSS selector: {exc}") from None
    return str(value)


def _whole(t: Mapping[str, Any], key: str, where: _Where, table: str, i: int, default: int) -> int:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{where(table, i, key)}: must be a whole number of at least 1")
    return value


def _silence_days(t: Mapping[str, Any], kind: str, where: _Where, i: int) -> int | None:
    """Newsrooms and feeds publish weekly at least; Ofsted may be silent for years."""
    value = t.get("silence_days", None if kind == "ofsted" else 30)
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where('source', i, 'silence_days')}: must be a whole number of days")
    return value


def _cron(t: Mapping[str, Any], where: _Where, i: int) -> str | None:
    expr = _str(t, "cron", where, "source", i)
    if expr is None:
        return None
    problem = cron_problem(str(expr))
    if problem:
        raise ConfigError(f"{where('source', i, 'cron')}: {problem}")
    return str(expr)


_CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


def cron_problem(expr: str) -> str | None:
    """What is wrong with a five-field crontab line, naming the field, or None."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != len(_CRON_FIELDS):
        return f"needs 5 fields ({' '.join(_CRON_FIELDS)}), got {len(fields)}"
    for name, value in zip(_CRON_FIELDS, fields, strict=True):
        try:
            CronTrigger(**{name: value})
        except ValueError as exc:
            return f"{name} field {value!r}: {exc}"
    return None


def read_secret(value: str | None, label: str, env: Mapping[str, str]) -> str | None:
    """Resolve env:NAME or file:PATH. Inline secrets are refused so they never sit in a config."""
    if value is None:
        return None
    if value.startswith("env:"):
        name = value[4:]
        if name not in env:
            raise ConfigError(f"{label}: environment variable {name} is not set")
        return env[name]
    if value.startswith("file:"):
        try:
            return Path(value[5:]).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{label}: cannot read secret file: {exc.strerror}") from None
    raise ConfigError(f"{label}: secrets must be given as env:NAME or file:PATH, never inline")


def _channel(t: Mapping[str, Any], i: int, where: _Where, env: Mapping[str, str]) -> ChannelConfig:
    kind = _choice(
        _required(t, "kind", where, "channel", i), list(CHANNELS), where("channel", i, "kind")
    )
    _check_keys(t, CHANNELS[kind].all_keys(), where, "channel", i)
    events = _list(t, "events", where, "channel", i) or list(OUTCOME_EVENTS)
    for event in events:
        _choice(event, ALERT_EVENT_TYPES, where("channel", i, "events"))
    base = ChannelConfig(
        name=_required(t, "name", where, "channel", i),
        kind=kind,
        events=tuple(events),
        authorities=resolve_authorities(
            _list(t, "authorities", where, "channel", i), where("channel", i, "authorities")
        ),
        regions=tuple(_list(t, "regions", where, "channel", i)),
        min_confidence=_fraction(t, "min_confidence", where, i, DEFAULT_MIN_CONFIDENCE),
        timeout_seconds=_duration(t, "timeout", where, "channel", i, 30.0),
        digest=_digest(t, i, where),
        timezone=_str(t, "timezone", where, "channel", i, "Europe/London"),
    )
    builder = _email_fields if kind == "email" else _webhook_fields
    return builder(base, t, i, where, env)


def _digest(t: Mapping[str, Any], i: int, where: _Where) -> str | None:
    spec = _str(t, "digest", where, "channel", i)
    if spec is not None:
        check_digest(spec, where("channel", i, "digest"))
    zone = _str(t, "timezone", where, "channel", i)
    if zone is not None:
        check_zone(zone, where("channel", i, "timezone"))
    return spec if spec is None else str(spec).strip().lower()


def _email_fields(
    base: ChannelConfig, t: Mapping[str, Any], i: int, where: _Where, env: Mapping[str, str]
) -> ChannelConfig:
    smtp = _url(
        _required(t, "smtp", where, "channel", i), where("channel", i, "smtp"), ("smtp", "smtps")
    )
    to = _list(t, "to", where, "channel", i)
    if not to:
        raise ConfigError(f"{where('channel', i, None)}: an email channel needs 'to'")
    username = _str(t, "username", where, "channel", i)
    if username and (username.startswith("env:") or username.startswith("file:")):
        username = read_secret(username, where("channel", i, "username"), env)
    return replace(
        base,
        smtp_url=smtp,
        username=username,
        password=read_secret(
            _str(t, "password", where, "channel", i), where("channel", i, "password"), env
        ),
        sender=_str(t, "from", where, "channel", i, "ofsted-watch@localhost"),
        to=tuple(to),
    )


def _webhook_fields(
    base: ChannelConfig, t: Mapping[str, Any], i: int, where: _Where, env: Mapping[str, str]
) -> ChannelConfig:
    fmt = _choice(str(t.get("format", "standard")), list(FORMATS), where("channel", i, "format"))
    headers = t.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{where('channel', i, 'headers')}: must be a table of strings")
    return replace(
        base,
        url=_url(_required(t, "url", where, "channel", i), where("channel", i, "url")),
        format=fmt,
        secret=read_secret(
            _str(t, "secret", where, "channel", i), where("channel", i, "secret"), env
        ),
        headers=tuple(sorted(headers.items())),
    )


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    url = env.get("OFSTED_WATCH_DATABASE_URL")
    if url:
        from db.engine import url_problem

        problem = url_problem(url)
        if problem:
            raise ConfigError(f"OFSTED_WATCH_DATABASE_URL: {problem}")
        config = replace(config, database_url=url)
    if _env_flag(env, "OFSTED_WATCH_DRY_RUN"):
        config = replace(config, alerts=replace(config.alerts, dry_run=True))
    return config


_TRUE_WORDS, _FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _env_flag(env: Mapping[str, str], name: str) -> bool:
    """A yes/no variable; anything else is an error, since a typo must not send real alerts."""
    value = env.get(name, "").strip().lower()
    if value in _TRUE_WORDS:
        return True
    if value in _FALSE_WORDS:
        return False
    raise ConfigError(f"{name}: expected 1/true/yes or 0/false/no, got {env[name]!r}")
