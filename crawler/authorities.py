"""The registry of English councils with children's services duties: 153 current, plus former ones.

Names are resolved through official names, short names, aliases and delivery bodies (trusts).
A name that fits more than one council resolves to none: a wrong council is worse than none.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources

from crawler.vocabulary import squash

_PREFIXES = re.compile(
    r"^(the )?(london borough of |royal borough of |metropolitan borough of |county borough of "
    r"|city and county of |county of |city of |borough of |council of the )+"
)
_SUFFIXES = re.compile(
    r"( (metropolitan|city|county|borough|district|unitary|town))*"
    r"( (council|corporation|authority|cc))?$"
)


@dataclass(frozen=True)
class Authority:
    """One council: current, or a former one kept so that history can be linked."""

    ons_code: str
    name: str
    short_name: str
    aliases: tuple[str, ...]
    region: str
    type: str
    ofsted_urn: str | None
    dfe_code: str | None
    status: str
    successors: tuple[str, ...]
    delivery_bodies: tuple[str, ...]

    @property
    def is_current(self) -> bool:
        return self.status == "current"

    def all_names(self) -> tuple[str, ...]:
        return (self.name, self.short_name, *self.aliases, *self.delivery_bodies)


def name_key(text: str) -> str:
    """Fold a council name for lookup: case, '&', punctuation and 'St.' all fold away."""
    text = squash(text).replace("&", " and ").replace("st.", "st")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def bare_key(text: str) -> str:
    """A name key without council-type words ('Southend City Council' -> 'southend')."""
    key = name_key(text)
    key = _PREFIXES.sub("", key + " ").strip() if not key.startswith("city of london") else key
    return _SUFFIXES.sub("", key).strip() or key


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def _row_to_authority(row: dict[str, str]) -> Authority:
    return Authority(
        ons_code=row["ons_code"],
        name=row["name"],
        short_name=row["short_name"],
        aliases=_split(row["aliases"]),
        region=row["region"],
        type=row["type"],
        ofsted_urn=row["ofsted_urn"] or None,
        dfe_code=row["dfe_code"] or None,
        status=row["status"],
        successors=_split(row["successors"]),
        delivery_bodies=_split(row["delivery_bodies"]),
    )


class AuthorityRegistry:
    """Look councils up by ONS code, Ofsted URN or any of their names."""

    def __init__(self, authorities: list[Authority]):
        self._all = authorities
        self._by_ons = {a.ons_code: a for a in authorities}
        self._exact: dict[str, set[str]] = defaultdict(set)
        self._bare: dict[str, set[str]] = defaultdict(set)
        for authority in authorities:
            for name in authority.all_names():
                self._exact[name_key(name)].add(authority.ons_code)
                self._bare[bare_key(name)].add(authority.ons_code)

    @classmethod
    @cache
    def load(cls) -> AuthorityRegistry:
        raw = resources.files("crawler").joinpath("data/authorities.csv").read_text("utf-8")
        return cls([_row_to_authority(row) for row in csv.DictReader(io.StringIO(raw))])

    def all(self) -> list[Authority]:
        return list(self._all)

    def current(self) -> list[Authority]:
        return [a for a in self._all if a.is_current]

    def by_ons(self, code: str) -> Authority | None:
        return self._by_ons.get(code)

    def by_urn(self, urn: str) -> Authority | None:
        matches = [a for a in self._all if a.ofsted_urn == urn]
        current = [a for a in matches if a.is_current]
        found = current or matches
        return found[0] if found else None

    def resolve(self, name: str) -> Authority | None:
        """The one council a name means, preferring a current council over a former one."""
        for index, key in ((self._exact, name_key(name)), (self._bare, bare_key(name))):
            codes = index.get(key)
            if codes:
                return self._pick(codes)
        return None

    def _pick(self, codes: set[str]) -> Authority | None:
        found = [self._by_ons[c] for c in sorted(codes)]
        current = [a for a in found if a.is_current]
        chosen = current if current else found
        return chosen[0] if len(chosen) == 1 else None

    def require(self, name: str) -> Authority:
        """Like resolve(), but a name that means no single council raises KeyError."""
        authority = self.resolve(name)
        if authority is None:
            raise KeyError(name)
        return authority
