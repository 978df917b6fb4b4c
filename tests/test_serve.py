"""`serve` runs the same pass on a schedule and stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from db.engine import Database
from db.models import InspectionEventRow, RunRow, SourceStateRow
from scheduler.demo import content
from scheduler.demo.reportgen import ReportSpec, make_report_pdf
from scheduler.demo.sites import SiteServer

SPEC = ReportSpec(
    authority="Thurrock Council",
    kind="ilacs",
    start=date(2019, 9, 2),
    end=date(2019, 9, 6),
    lead_inspector="Test Inspector",
    judgements={
        "leaders": "good",
        "help_and_protection": "good",
        "children_in_care_and_care_leavers": "good",
    },
    overall="good",
)


def wait_until(check: object, timeout: float) -> bool:
    """Poll a condition that lives in another process's database, up to a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_serve_runs_passes_reloads_on_sighup_and_stops_on_sigterm(tmp_path: Path) -> None:
    with SiteServer() as site:
        pub = content.Publication("80571", 7, "Children's services inspection", date(2019, 10, 10))
        site.put("/provider/44/80571", content.provider_page("Thurrock", "80571", [pub], site.url))
        site.put("/v1/file/7", make_report_pdf(SPEC), content_type="application/pdf")
        url = f"sqlite:///{tmp_path / 'serve.db'}"
        config = tmp_path / "c.toml"
        source = (
            '[[source]]\nname = "{name}"\nkind = "ofsted"\nurl = "' + site.url + '"\n'
            'authorities = ["Thurrock"]\nevery = "1h"\n'
        )
        head = (
            f'[database]\nurl = "{url}"\n[crawl]\ndelay = 0\ncache_dir = "{tmp_path / "cache"}"\n'
        )
        config.write_text(head + source.format(name="ofsted"))
        script = Path(sys.executable).parent / "ofsted-watch"
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen(
            [str(script), "--config", str(config), "serve", "--tick", "1"], stderr=log
        )
        database = Database.open(url)

        def count(row: type) -> int:
            with database.transaction() as session:
                return session.scalar(select(func.count()).select_from(row)) or 0

        try:
            assert wait_until(lambda: count(InspectionEventRow) and count(RunRow), 60)
            time.sleep(3.5)  # three more ticks, with nothing due
            assert count(RunRow) == 1, "an idle tick wrote a run row"
            config.write_text(head + source.format(name="ofsted") + "bogus = 1\n")
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.5)
            assert proc.poll() is None, "SIGHUP stopped serve"
            config.write_text(head + source.format(name="ofsted") + source.format(name="again"))
            proc.send_signal(signal.SIGHUP)
            assert wait_until(lambda: count(SourceStateRow) == 2 and count(RunRow) == 2, 60)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        said = (tmp_path / "serve.log").read_text()
        assert "reload refused, keeping the running config" in said and "bogus" in said
        assert "config reloaded sources=2" in said
        assert "serve started sources=1" in said and "source enabled name=ofsted" in said
        database.close()
