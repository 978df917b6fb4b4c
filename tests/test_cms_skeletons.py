"""Newsrooms as the common council CMSs and local papers lay them out, read through a whole `run`.

Each folder of tests/fixtures/cms holds a hand-written skeleton of one platform's listing and
article templates (skip links, breadcrumbs, views rows, pagers, related and most-read blocks,
cookie banners) and what a careful reader finds there (expected.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler.authorities import AuthorityRegistry
from crawler.parsers.listing import article_links
from db.engine import Database
from scheduler.config import load_config
from scheduler.demo.receivers import WebhookReceiver
from scheduler.demo.sites import SiteServer
from scheduler.run import run_pass
from tests.conftest import WEBHOOK_SECRET

CMS = Path(__file__).parent / "fixtures" / "cms"
PLATFORMS = sorted(p.name for p in CMS.glob("*") if (p / "expected.json").is_file())


def _expected(platform: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CMS / platform / "expected.json").read_text("utf-8"))
    return loaded


def _serve(site: SiteServer, platform: str, expected: dict[str, Any], with_outcome: bool) -> None:
    folder = CMS / platform
    site.put("/news", (folder / "listing.html").read_bytes())
    for number, path in enumerate(expected["story_paths"], 1):
        body = (folder / f"story{number}.html").read_bytes()
        if path == expected["outcome_story"] and not with_outcome:
            site.put(path, b"<html><body><p>Not found</p></body></html>", status=404)
        else:
            site.put(path, body)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_listing_gives_exactly_the_stories(platform: str) -> None:
    expected = _expected(platform)
    base = "http://127.0.0.1:8000/news"
    links = article_links((CMS / platform / "listing.html").read_bytes(), base)
    assert [link.removeprefix("http://127.0.0.1:8000") for link in links] == expected["story_paths"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_whole_run_alerts_the_newsrooms_outcome_once(
    platform: str, tmp_path: Path, site: SiteServer, webhook_receiver: WebhookReceiver
) -> None:
    expected = _expected(platform)
    council = AuthorityRegistry.load().require(expected["council"])
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "w.db"}"\n[crawl]\ndelay = 0\n'
        f'cache_dir = "{tmp_path / "cache"}"\n'
        f'[[source]]\nname = "newsroom"\nkind = "news"\nurl = "{site.url}/news"\n'
        f'authorities = ["{expected["council"]}"]\n'
        f'[[channel]]\nname = "hook"\nkind = "webhook"\nurl = "{webhook_receiver.url}/in"\n'
        'min_confidence = 0\nsecret = "env:SECRET"\n',
        encoding="utf-8",
    )
    config = load_config(path, {"SECRET": WEBHOOK_SECRET})
    with Database.open(config.database_url) as database:
        _serve(site, platform, expected, with_outcome=False)
        run_pass(config, all_sources=True, database=database)  # the baseline: nothing to alert
        _serve(site, platform, expected, with_outcome=True)
        report = run_pass(config, all_sources=True, database=database)
        assert run_pass(config, all_sources=True, database=database).deliveries == ()
    assert report.sources[0].problems == ()
    (alert,) = webhook_receiver.requests
    assert alert.verified and report.deliveries[0].result.ok
    outcome = alert.json["data"]["outcome"]
    assert outcome["ons_code"] == council.ons_code
    assert outcome["overall"] == expected["overall"]
    for area, grade in expected["judgements"].items():
        assert outcome["judgements"].get(area) == grade, area
