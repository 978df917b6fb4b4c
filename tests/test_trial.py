"""`try SOURCE`: one source fetched live from a local site, nothing stored, health as the exit."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scheduler.cli import cli
from scheduler.demo import content
from scheduler.demo.sites import SiteServer

STORIES = [content.ESSEX_NEW]


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "c.toml"
    db = tmp_path / "never.db"
    path.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[crawl]\ndelay = 0\n'
        f'[[source]]\nname = "essex-news"\nkind = "news"\nurl = "{url}"\n'
        'authorities = ["Essex"]\n',
        encoding="utf-8",
    )
    return path


def test_try_prints_each_page_and_its_outcome_and_stores_nothing(
    tmp_path: Path, site: SiteServer
) -> None:
    site.put("/news", content.council_listing(STORIES))
    for story in STORIES:
        site.put(story.path, content.council_article(story))
    config = _config(tmp_path, site.url + "/news")
    result = CliRunner().invoke(cli, ["--config", str(config), "try", "essex-news", "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert f"listing {site.url}/news: 1 item(s) listed" in result.output
    assert "outcome: Essex inspection overall=outstanding" in result.output
    assert "healthy: nothing to report" in result.output
    assert not (tmp_path / "never.db").exists()


def test_try_exits_1_when_the_source_would_be_failing(tmp_path: Path, site: SiteServer) -> None:
    site.put("/news", "<html><body><main><p>We are moving our news.</p></main></body></html>")
    config = _config(tmp_path, site.url + "/news")
    result = CliRunner().invoke(cli, ["--config", str(config), "try", "essex-news"])
    assert result.exit_code == 1
    assert "would be reported failing:" in result.output and "lists no items" in result.output


def test_try_names_the_configured_sources_when_one_is_unknown(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9/news")
    result = CliRunner().invoke(cli, ["--config", str(config), "try", "nope"])
    assert result.exit_code == 2
    assert "no source named 'nope'; configured: essex-news" in result.output


def test_try_reports_an_article_that_needs_javascript(tmp_path: Path, site: SiteServer) -> None:
    site.put("/news", content.council_listing(STORIES))
    site.put(
        STORIES[0].path,
        "<html><body><div id='app'></div><script src='/app.js'></script>"
        "<noscript>You need to enable JavaScript to run this app.</noscript></body></html>",
    )
    config = _config(tmp_path, site.url + "/news")
    result = CliRunner().invoke(cli, ["--config", str(config), "try", "essex-news"])
    assert result.exit_code == 1
    assert "unreadable: needs JavaScript to show its text" in result.output
