"""The config loader: contract keys, defaults, secrets, and one-line errors naming file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.errors import ConfigError
from scheduler.config import config_path, cron_problem, load_config, parse_duration

REPO = Path(__file__).resolve().parents[1]

CONTRACT_EXAMPLE = """
[database]
url = "sqlite:///ofsted-watch.db"

[[source]]
name = "ofsted"
kind = "ofsted"
url = "https://reports.ofsted.gov.uk"
authorities = ["Essex", "Southend-on-Sea"]
every = "1h"

[[source]]
name = "essex-news"
kind = "news"
url = "https://www.essex.gov.uk/news"
every = "30m"

[[source]]
name = "echo"
kind = "feed"
url = "https://www.example-news.co.uk/news/rss"

[[channel]]
name = "comms"
kind = "email"
smtp = "smtp://127.0.0.1:25"
username = "env:SMTP_USER"
password = "env:SMTP_PASSWORD"
from = "ofsted-watch@example.org"
to = ["comms@example.org"]
authorities = ["Essex"]
events = ["outcome.new", "outcome.changed", "outcome.confirmed", "coverage.mismatch"]

[[channel]]
name = "ops"
kind = "webhook"
url = "https://hooks.example.org/ofsted"
format = "standard"
secret = "env:OW_WEBHOOK_SECRET"
events = ["source.failing", "source.recovered"]
"""

ENV = {"SMTP_USER": "u", "SMTP_PASSWORD": "p", "OW_WEBHOOK_SECRET": "whsec_c2VjcmV0"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ofsted-watch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_example_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, CONTRACT_EXAMPLE), ENV)
    ofsted, news, feed = config.sources
    assert ofsted.authorities == ("E10000012", "E06000033")
    assert ofsted.every_seconds == 3600 and news.every_seconds == 1800
    assert feed.kind == "feed" and feed.every_seconds == 3600
    comms, ops = config.channels
    assert comms.password == "p" and comms.username == "u" and comms.authorities == ("E10000012",)
    assert ops.secret == "whsec_c2VjcmV0" and ops.events == ("source.failing", "source.recovered")


def test_shipped_example_config_is_valid(tmp_path: Path) -> None:
    env = {"SMTP_USER": "a", "SMTP_PASSWORD": "b", "OW_WEBHOOK_SECRET": "whsec_eA=="}
    config = load_config(REPO / "examples" / "ofsted-watch.toml", env)
    assert {s.kind for s in config.sources} == {"ofsted", "news", "feed"}
    assert config.source("ofsted") is not None
    assert config.source("ofsted").cron == "0 7-19 * * 1-5"  # type: ignore[union-attr]


def test_unknown_key_names_file_line_and_valid_keys(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace('every = "30m"', 'every = "30m"\nschedule = "daily"')
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, ENV)
    line = text.splitlines().index('schedule = "daily"') + 1
    assert str(err.value).startswith(f"{path}:{line}: source[1].schedule: unknown key; valid keys:")
    assert "every" in str(err.value)


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, CONTRACT_EXAMPLE.replace('format = "standard"', 'format = "xml"'))
    with pytest.raises(
        ConfigError, match=r"ofsted-watch.toml:\d+: channel\[1\].format: 'xml' is not"
    ):
        load_config(path, ENV)


def test_inline_secret_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, CONTRACT_EXAMPLE.replace('"env:SMTP_PASSWORD"', '"hunter2"'))
    with pytest.raises(ConfigError, match=r"channel\[0\].password: secrets must be given as env:"):
        load_config(path, ENV)


def test_missing_env_secret_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment variable OW_WEBHOOK_SECRET is not set"):
        load_config(write(tmp_path, CONTRACT_EXAMPLE), {"SMTP_USER": "u", "SMTP_PASSWORD": "p"})


def test_every_missing_env_secret_is_named_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, CONTRACT_EXAMPLE), {"SMTP_USER": "u"})
    message = str(raised.value)
    assert message.startswith("environment variables not set: SMTP_PASSWORD (")
    assert re.search(r"SMTP_PASSWORD \(\S+ofsted-watch.toml:\d+: channel\[0\].password\)", message)
    assert re.search(r"; OW_WEBHOOK_SECRET \(\S+:\d+: channel\[1\].secret\)", message)
    assert "\n" not in message


def test_file_secret_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("whsec_ZmlsZQ==\n")
    text = CONTRACT_EXAMPLE.replace('"env:OW_WEBHOOK_SECRET"', f'"file:{secret}"')
    config = load_config(write(tmp_path, text), ENV)
    assert config.channels[1].secret == "whsec_ZmlsZQ=="


def test_syntax_error_gives_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\nurl = \n")
    with pytest.raises(ConfigError, match=r"ofsted-watch.toml: .*line 2"):
        load_config(path, {})


def test_unknown_council_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, CONTRACT_EXAMPLE.replace('"Southend-on-Sea"]', '"Atlantis"]'))
    with pytest.raises(ConfigError, match=r"source\[0\].authorities: 'Atlantis' is not a known"):
        load_config(path, ENV)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Southend-on-See", "Southend-on-Sea"),
        ("Hertfordshir", "Hertfordshire"),
        ("Thurock", "Thurrock"),
    ],
)
def test_a_misspelt_council_gets_a_suggestion(tmp_path: Path, typed: str, meant: str) -> None:
    path = write(tmp_path, CONTRACT_EXAMPLE.replace('"Southend-on-Sea"]', f'"{typed}"]'))
    with pytest.raises(ConfigError, match=f"did you mean '{meant}'"):
        load_config(path, ENV)
    atlantis = write(tmp_path, CONTRACT_EXAMPLE.replace('"Southend-on-Sea"]', '"Atlantis"]'))
    with pytest.raises(ConfigError) as raised:
        load_config(atlantis, ENV)
    assert "did you mean" not in str(raised.value)


def test_star_means_all_current_councils(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace('["Essex", "Southend-on-Sea"]', '["*"]')
    assert len(load_config(write(tmp_path, text), ENV).sources[0].authorities) == 153


def test_bad_cron_is_reported(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace('every = "30m"', 'cron = "99 * * * *"')
    with pytest.raises(ConfigError, match=r"source\[1\].cron: minute field '99'"):
        load_config(write(tmp_path, text), ENV)


@pytest.mark.parametrize(
    ("expr", "named"),
    [
        ("0 25 * * *", "hour field '25'"),
        ("0 7 * * mon-fry", "day_of_week field 'mon-fry'"),
        ("0 7 32 * *", "day field '32'"),
        ("0 7 *", "needs 5 fields"),
    ],
)
def test_cron_errors_name_the_field(expr: str, named: str) -> None:
    assert named in (cron_problem(expr) or "")
    assert cron_problem("30 7 * * mon-fri") is None


def test_environment_overrides_database(tmp_path: Path) -> None:
    env = {**ENV, "OFSTED_WATCH_DATABASE_URL": "sqlite:///other.db"}
    assert load_config(write(tmp_path, CONTRACT_EXAMPLE), env).database_url == "sqlite:///other.db"


@pytest.mark.parametrize("url", ["sqlit:///x.db", "postgres+psycopgg://u@h/d", "not a url"])
def test_a_database_url_that_cannot_work_is_caught_at_load(tmp_path: Path, url: str) -> None:
    text = CONTRACT_EXAMPLE.replace('url = "sqlite:///ofsted-watch.db"', f'url = "{url}"')
    with pytest.raises(ConfigError, match=r":\d+: database.url: "):
        load_config(write(tmp_path, text), ENV)
    with pytest.raises(ConfigError, match="OFSTED_WATCH_DATABASE_URL: "):
        load_config(write(tmp_path, CONTRACT_EXAMPLE), {**ENV, "OFSTED_WATCH_DATABASE_URL": url})


def test_config_path_precedence() -> None:
    assert str(config_path("a.toml", {"OFSTED_WATCH_CONFIG": "b.toml"})) == "a.toml"
    assert str(config_path(None, {"OFSTED_WATCH_CONFIG": "b.toml"})) == "b.toml"
    assert str(config_path(None, {})) == "ofsted-watch.toml"


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml", {})


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("2h30m", 9000), ("1d", 86400)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration() -> None:
    with pytest.raises(ValueError):
        parse_duration("soon")


# --- each kind declares its own keys -------------------------------------------------------------


def test_a_kinds_own_key_is_refused_on_another_kind(tmp_path: Path) -> None:
    text = CONTRACT_EXAMPLE.replace('every = "30m"', 'every = "30m"\ndiscover = true')
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), ENV)
    message = str(err.value)
    assert "source[1].discover: unknown key; valid keys:" in message
    assert "discover" not in message.split("valid keys:")[1]
    channel = CONTRACT_EXAMPLE.replace('format = "standard"', 'format = "standard"\nto = ["a@b"]')
    with pytest.raises(ConfigError, match=r"channel\[1\]\.to: unknown key"):
        load_config(write(tmp_path, channel), ENV)


@pytest.mark.parametrize("value", ['"lots"', "0", "true", "2.5"])
def test_whole_numbers_are_checked_with_the_key(tmp_path: Path, value: str) -> None:
    text = CONTRACT_EXAMPLE.replace('every = "30m"', f'every = "30m"\nmax_articles = {value}')
    with pytest.raises(ConfigError, match=r"source\[1\]\.max_articles: must be a whole number"):
        load_config(write(tmp_path, text), ENV)


def test_every_declared_key_is_documented_and_every_kind_can_be_crawled() -> None:
    from alerts.channels import CHANNELS
    from alerts.webhooks import FORMATS
    from crawler.child import reader_classes
    from crawler.sources import SOURCE_KINDS

    readme = (REPO / "README.md").read_text("utf-8")
    keys = {k for spec in SOURCE_KINDS.values() for k in spec.all_keys}
    keys |= {k for cls in CHANNELS.values() for k in cls.all_keys()}
    assert not {k for k in keys if f"`{k}`" not in readme}
    assert all(f"`{kind}`" in readme for kind in [*SOURCE_KINDS, *CHANNELS, *FORMATS])
    assert set(reader_classes()) == set(SOURCE_KINDS)


def test_css_overrides_are_checked_at_load_and_belong_to_newsrooms(tmp_path: Path) -> None:
    ok = CONTRACT_EXAMPLE.replace(
        'every = "30m"', 'every = "30m"\ncontent_selector = "div.story"\nlink_selector = "h3 > a"'
    )
    news = load_config(write(tmp_path, ok), ENV).sources[1]
    assert (news.content_selector, news.link_selector) == ("div.story", "h3 > a")
    bad = ok.replace('"div.story"', '"div[["')
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, bad), ENV)
    line = bad.splitlines().index('content_selector = "div[["') + 1
    assert str(err.value).startswith(
        f"{tmp_path / 'ofsted-watch.toml'}:{line}: source[1].content_selector: not a CSS selector"
    )
    on_feed = CONTRACT_EXAMPLE.replace('/news/rss"', '/news/rss"\nlink_selector = "a"')
    with pytest.raises(ConfigError, match=r"source\[2\]\.link_selector: unknown key"):
        load_config(write(tmp_path, on_feed), ENV)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_config_is_an_error_not_a_healthy_watcher_of_nothing(
    tmp_path: Path, text: str
) -> None:
    with pytest.raises(ConfigError, match="the config is empty"):
        load_config(write(tmp_path, text), ENV)


@pytest.mark.parametrize(
    ("value", "dry"), [("1", True), ("Yes", True), ("off", False), ("", False)]
)
def test_dry_run_variable_takes_yes_or_no(tmp_path: Path, value: str, dry: bool) -> None:
    env = {**ENV, "OFSTED_WATCH_DRY_RUN": value}
    assert load_config(write(tmp_path, CONTRACT_EXAMPLE), env).alerts.dry_run is dry


def test_a_dry_run_variable_that_is_neither_yes_nor_no_is_an_error(tmp_path: Path) -> None:
    env = {**ENV, "OFSTED_WATCH_DRY_RUN": "maybe"}
    with pytest.raises(ConfigError, match=r"OFSTED_WATCH_DRY_RUN: .*'maybe'"):
        load_config(write(tmp_path, CONTRACT_EXAMPLE), env)


def test_a_wrong_time_zone_is_reported_against_its_own_key_and_line(tmp_path: Path) -> None:
    digest = 'to = ["comms@example.org"]\ndigest = "daily 08:00"\ntimezone = "Europe/Londn"\n'
    text = CONTRACT_EXAMPLE.replace('to = ["comms@example.org"]\n', digest)
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text), ENV)
    line = text.splitlines().index('timezone = "Europe/Londn"') + 1
    assert f":{line}: channel[0].timezone: unknown time zone 'Europe/Londn'" in str(raised.value)
    bad_spec = digest.replace("daily 08:00", "daily 8pm").replace("Europe/Londn", "Europe/London")
    with pytest.raises(ConfigError, match=r"channel\[0\].digest: 'daily 8pm'"):
        load_config(
            write(tmp_path, CONTRACT_EXAMPLE.replace('to = ["comms@example.org"]\n', bad_spec)), ENV
        )
