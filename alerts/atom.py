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


def atom_document(changes: list[DecidedChange], title: str, now: datetime) -> bytes:
    """Newest first; each entry's id is the alert's stable key, so readers never show it twice."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
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
    for source in change.payload.get("sources", []):
        ET.SubElement(entry, f"{{{ATOM}}}link", href=source["url"], rel="related")
    evidence = change.payload.get("outcome", {}).get("evidence", [])
    _text(entry, "summary", " ".join(evidence[:3]) or change.subject)
    return entry


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
    document = atom_document(changes, settings.title, now)
    path = Path(settings.path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as handle:
        handle.write(document)
    os.replace(handle.name, path)
    logger.info("atom feed written path=%s", path)
    return path
