"""An Atom feed of outcome alerts, rewritten after each pass, for comms teams to subscribe to."""

from __future__ import annotations

import logging
import os
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alerts.config import OUTCOME_EVENTS
from alerts.render import grade_evidence
from crawler.records import InspectionOutcome
from db.engine import Database
from db.queries import DecidedChange, recent_changes

logger = logging.getLogger(__name__)
ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class AtomSettings:
    """Where to write the Atom feed of outcome alerts after each pass (none by default)."""

    path: str | None = None
    title: str = "Ofsted children's services outcomes"
    limit: int = 100
    url: str | None = None
    mode: int = 0o644


def atom_document(
    changes: list[DecidedChange], title: str, now: datetime, url: str | None = None
) -> bytes:
    """Newest first; each entry's id is the alert's stable key, so readers never show it twice."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    if url:
        ET.SubElement(feed, f"{{{ATOM}}}link", href=url, rel="self")
    _text(feed, "id", "urn:ofsted-watch:feed")
    _text(feed, "updated", _stamp(changes[0].created_at if changes else now))
    _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", "ofsted-watch")
    for change in changes:
        feed.append(_entry(change))
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def _entry(change: DecidedChange) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    _text(entry, "title", change.subject)
    _text(entry, "id", f"urn:ofsted-watch:{change.key}")
    _text(entry, "updated", _stamp(change.created_at))
    ET.SubElement(entry, f"{{{ATOM}}}category", term=change.type)
    sources = [s for s in change.payload.get("sources", []) if _clickable(s["url"])]
    # Feed readers open the alternate link, so it is the best evidence: Ofsted's report if any.
    ranked = sorted(sources, key=lambda source: source.get("kind") != "ofsted")
    for number, url in enumerate(s["url"] for s in ranked):
        ET.SubElement(entry, f"{{{ATOM}}}link", href=url, rel="related" if number else "alternate")
    outcome = change.payload.get("outcome")
    evidence = grade_evidence(InspectionOutcome.from_json(outcome)) if outcome else []
    _text(entry, "summary", " ".join(evidence[:3]) or change.subject)
    return entry


def _clickable(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{tag}").text = value


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def write_feed(database: Database, settings: AtomSettings, now: datetime) -> Path | None:
    """Rewrite the feed file atomically, if the settings name one."""
    if not settings.path:
        return None
    with database.transaction() as session:
        changes = recent_changes(session, OUTCOME_EVENTS, settings.limit)
    document = atom_document(changes, settings.title, now, settings.url)
    path = Path(settings.path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
        handle.write(document)
    # The temporary file is private (0600); a feed is meant to be read by the web server.
    os.chmod(handle.name, settings.mode)
    os.replace(handle.name, path)
    logger.info("atom feed written path=%s", path)
    return path
