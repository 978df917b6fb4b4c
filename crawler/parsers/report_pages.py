"""Lazy page text for report PDFs: full pypdf extraction on demand, and a cheap word hint per page.

The hint decodes a page's shown strings without layout, so a parser can skip pages that cannot
hold what it looks for. It is conservative: a page it cannot decode faithfully has no hint.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError

from crawler.errors import ParseError
from crawler.parsers.report_common import squash

Decoder = Callable[[bytes], str | None]
_READ_ERRORS = (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError)
_STRING = rb"\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\)"
_HEXSTR = rb"<[0-9A-Fa-f\s]*>"
# Whole arrays and dictionaries are single tokens, so a page costs few Python steps.
_TOKEN = re.compile(
    rb"\s*(?:(?P<str>" + _STRING + rb")|(?P<hex>" + _HEXSTR + rb")"
    rb"|(?P<array>\[(?:" + _STRING + rb"|" + _HEXSTR + rb"|[^\[\]()<>])*\])"
    rb"|<<(?:[^<>()]|" + _STRING + rb"|" + _HEXSTR + rb"|<<(?:[^<>]|" + _HEXSTR + rb")*>>)*>>"
    rb"|[\[\]]|<<|>>|(?P<name>/[^\s/\[\]()<>{}%]*)"
    rb"|(?:[+-]?(?:\d+\.?\d*|\.\d+)\s+)*(?P<op>[A-Za-z'\"*][A-Za-z0-9*]*)"
    rb"|[+-]?(?:\d+\.?\d*|\.\d+)|%[^\r\n]*)",
    re.DOTALL,
)
_LITERAL_BODY = re.compile(rb"\(((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*)\)", re.DOTALL)
_IN_ARRAY = re.compile(rb"(?P<str>" + _STRING + rb")|(?P<hex>" + _HEXSTR + rb")", re.DOTALL)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\r\n]|.)", re.DOTALL)
_MAX_FORM_DEPTH = 4
_SHOW = {b"Tj", b"TJ", b"'", b'"'}
_SIMPLE_ENCODINGS = {"/WinAnsiEncoding", "/MacRomanEncoding", "/StandardEncoding"}
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.DOTALL)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.DOTALL)
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(?:<([0-9A-Fa-f]*)>|\[([^\]]*)\])")
_HEX = re.compile(rb"<([0-9A-Fa-f]*)>")
_CODESPACE = re.compile(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>", re.DOTALL)


class PageSource:
    """A report's pages: each extracted at most once, and hinted cheaply before that."""

    def __init__(self, reader: PdfReader, limit: int) -> None:
        self._pages = list(reader.pages)[:limit]
        self._texts: dict[int, str] = {}
        self._hints: dict[int, str | None] = {}
        self._decoders: dict[int, Decoder | None] = {}

    def __len__(self) -> int:
        return len(self._pages)

    def text(self, index: int) -> str:
        """The page's text as pypdf extracts it; ParseError if pypdf cannot."""
        if index not in self._texts:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._texts[index] = self._pages[index].extract_text() or ""
            except _READ_ERRORS as exc:
                raise ParseError(f"unreadable PDF text: {type(exc).__name__}: {exc}") from exc
        return self._texts[index]

    def may_hold(self, index: int, guard: re.Pattern[str]) -> bool:
        """False only when the page certainly holds no text whose squashed form guard matches."""
        if index in self._texts:
            return guard.search(squash(self._texts[index])) is not None
        hint = self.hint(index)
        return hint is None or guard.search(hint) is not None

    def hint(self, index: int) -> str | None:
        """The page's text squashed, read cheaply; None when only full extraction can tell."""
        if index not in self._hints:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    shown = _shown_text(self._pages[index], self._decoder)
            except _READ_ERRORS:
                shown = None
            self._hints[index] = squash(shown) if shown is not None else None
        return self._hints[index]

    def _decoder(self, font: Any) -> Decoder | None:
        key = id(font)
        if key not in self._decoders:
            self._decoders[key] = _font_decoder(font)
        return self._decoders[key]


def _shown_text(page: PageObject, decoder_of: Callable[[Any], Decoder | None]) -> str | None:
    """The strings a page shows, in stream order; None if any cannot be decoded."""
    resources = page.get("/Resources")
    data = page.get_contents()
    if data is None:
        return ""
    walker = _Walker(resources.get_object() if resources is not None else {}, decoder_of, None)
    return walker.read(data.get_data(), 0)


class _Walker:
    """Follows one content stream's font changes and collects the strings it shows."""

    def __init__(
        self, resources: Any, decoder_of: Callable[[Any], Decoder | None], decode: Decoder | None
    ) -> None:
        self.resources = resources
        self.fonts = _resource(resources, "/Font")
        self.xobjects = _resource(resources, "/XObject")
        self.decoder_of = decoder_of
        self.decode = decode
        self.saved: list[Decoder | None] = []
        self.pieces: list[str] = []

    def read(self, raw: bytes, depth: int) -> str | None:
        operands: list[re.Match[bytes]] = []
        cursor = 0
        for token in _TOKEN.finditer(raw):
            if token.start() != cursor:
                return None
            cursor = token.end()
            operator = token.group("op")
            if operator is None:
                operands.append(token)
                continue
            if not self._apply(operator, operands, depth):
                return None
            operands = []
        return " ".join(self.pieces) if not raw[cursor:].strip() else None

    def _apply(self, operator: bytes, operands: list[re.Match[bytes]], depth: int) -> bool:
        """Carry out one operator; False once the text can no longer be known cheaply."""
        if operator == b"Tf":
            font = _named(self.fonts, operands)
            self.decode = self.decoder_of(font) if font is not None else None
        elif operator == b"q":
            # The font is part of the graphics state that q saves and Q restores.
            self.saved.append(self.decode)
        elif operator == b"Q" and self.saved:
            self.decode = self.saved.pop()
        elif operator in _SHOW:
            piece = _show(operands, self.decode)
            self.pieces.append(piece or "")
            return piece is not None
        elif operator == b"Do":
            return self._form(_named(self.xobjects, operands), depth)
        return operator != b"BI"

    def _form(self, xobject: Any, depth: int) -> bool:
        """A form XObject's text, read in place; images and other XObjects show none."""
        if xobject is None or xobject.get("/Subtype") != "/Form":
            return True
        if depth >= _MAX_FORM_DEPTH:
            return False
        resources = xobject.get("/Resources")
        resources = resources.get_object() if resources is not None else self.resources
        inner = _Walker(resources, self.decoder_of, self.decode).read(xobject.get_data(), depth + 1)
        self.pieces.append(inner or "")
        return inner is not None


def _resource(resources: Any, kind: str) -> dict[str, Any]:
    found = resources.get(kind)
    return dict(found.get_object()) if found is not None else {}


def _named(table: dict[str, Any], operands: list[re.Match[bytes]]) -> Any:
    for operand in operands:
        name = operand.group("name")
        if name is not None:
            found = table.get(name.decode("latin-1"))
            return found.get_object() if found is not None else None
    return None


def _show(operands: list[re.Match[bytes]], decode: Decoder | None) -> str | None:
    """The text of one show operator: its strings, decoded together in the current font."""
    raw = b"".join(_string_bytes(operand) for operand in operands)
    if not raw:
        return ""
    return decode(raw) if decode is not None else None


def _string_bytes(operand: re.Match[bytes]) -> bytes:
    """The bytes of a string operand, or of every string in an array operand, in order."""
    array = operand.group("array")
    if array is None:
        return _one_string(operand)
    if b"<" in array or b"\\" in array:
        return b"".join(_one_string(inner) for inner in _IN_ARRAY.finditer(array))
    return b"".join(_LITERAL_BODY.findall(array))


def _one_string(operand: re.Match[bytes]) -> bytes:
    literal, hexed = operand.group("str", "hex")
    if literal is not None:
        return _ESCAPE.sub(_unescape, literal[1:-1])
    if hexed is not None:
        digits = re.sub(rb"\s", b"", hexed[1:-1])
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("ascii"))
    return b""


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    if code[:1].isdigit():
        return bytes([int(code, 8) & 0xFF])
    if code in (b"\r\n", b"\r", b"\n"):
        return b""
    return _ESCAPES.get(code, code)


def _font_decoder(font: Any) -> Decoder | None:
    """How a font's string bytes become text, or None when only full extraction can tell."""
    to_unicode = font.get("/ToUnicode")
    if to_unicode is not None:
        return _cmap_decoder(to_unicode.get_object().get_data(), font.get("/Subtype"))
    encoding = font.get("/Encoding")
    if font.get("/Subtype") not in ("/Type1", "/TrueType", "/MMType1"):
        return None
    if encoding is None and font.get("/Subtype") != "/TrueType":
        return _latin
    return _latin if isinstance(encoding, str) and encoding in _SIMPLE_ENCODINGS else None


def _latin(raw: bytes) -> str:
    return raw.decode("cp1252", errors="replace")


def _cmap_decoder(cmap: bytes, subtype: object) -> Decoder:
    width_match = _CODESPACE.search(cmap)
    width = len(width_match.group(1)) // 2 if width_match else (2 if subtype == "/Type0" else 1)
    mapping = _cmap_entries(cmap)

    def decode(raw: bytes) -> str | None:
        out: list[str] = []
        for start in range(0, len(raw) - width + 1, width):
            char = mapping.get(int.from_bytes(raw[start : start + width], "big"))
            if char is None:
                return None
            out.append(char)
        return "".join(out)

    return decode


def _cmap_entries(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's code-to-text pairs from its bfchar and bfrange blocks."""
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        values = _HEX.findall(block)
        for source, target in zip(values[::2], values[1::2], strict=False):
            mapping[int(source, 16)] = _utf16(target)
    for block in _BFRANGE.findall(cmap):
        for low, high, target, targets in _RANGE.findall(block):
            codes = range(int(low, 16), min(int(high, 16), int(low, 16) + 0xFFFF) + 1)
            if targets:
                mapping.update(zip(codes, map(_utf16, _HEX.findall(targets)), strict=False))
                continue
            first = _utf16(target)
            for offset, code in enumerate(codes):
                mapping[code] = first[:-1] + chr(ord(first[-1]) + offset) if first else ""
    return mapping


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(hex_digits.decode("ascii")).decode("utf-16-be", errors="replace")
