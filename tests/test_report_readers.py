"""Readers the report tests use, and tests that the readers themselves read correctly.

- :func:`pdf_pages_text`: no PDF library is installed (pypdf, pdfminer) and poppler's
  pdftotext is not on every machine, so this reads a PDF's text the way a PDF viewer
  does: it inflates the content streams (and object streams) and maps the glyph codes
  of each text operator through the font's ToUnicode CMap. That map is exactly what
  makes text extractable, so reading text this way doubles as the extractability check.
  It handles what WeasyPrint writes (Type0 fonts with Identity-H hex strings).
- :func:`parse_html`: the verdict rows, images, references, style elements, meta tags
  and event-handler attributes of a report page (standard-library HTML parser).
"""

from __future__ import annotations

import re
import zlib
from html.parser import HTMLParser

from pipeline.report.pdf import render_pdf

# ----------------------------------------------------------------------- PDF text reader
_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
_STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream$", re.S)


def _pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, inflated stream or None), object streams unpacked."""
    objects = {}
    for number, body in _OBJECT.findall(pdf):
        match = _STREAM.match(body)
        head, data = (match.group(1), match.group(2)) if match else (body, None)
        if data is not None and b"/FlateDecode" in head:
            data = zlib.decompress(data)
        objects[int(number)] = (head, data)
    for head, data in list(objects.values()):
        if data is None or b"/ObjStm" not in head:
            continue
        first = int(re.search(rb"/First (\d+)", head).group(1))
        numbers = list(map(int, data[:first].split()))
        entries = list(zip(numbers[::2], numbers[1::2], strict=True))
        for i, (number, offset) in enumerate(entries):
            end = first + entries[i + 1][1] if i + 1 < len(entries) else len(data)
            objects[number] = (data[first + offset : end], None)
    return objects


def _to_unicode(cmap: bytes) -> dict[int, str]:
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, dst in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            for k, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(int(dst, 16) + k)
    return mapping


def pdf_pages_text(pdf: bytes) -> list[str]:
    """The text of each page, in page order (lines separated by newlines)."""
    objects = _pdf_objects(pdf)
    maps = {}
    for number, (head, _) in objects.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref and objects.get(int(ref.group(1)), (b"", None))[1] is not None:
            maps[number] = _to_unicode(objects[int(ref.group(1))][1])
    fonts = {
        name: maps[int(number)]
        for head, _ in objects.values()
        for name, number in re.findall(rb"/([A-Za-z0-9_.+-]+) (\d+) 0 R", head)
        if int(number) in maps
    }
    tree = next(h for h, _ in objects.values() if re.search(rb"/Type /Pages\b", h))
    kids = re.search(rb"/Kids \[([^\]]*)\]", tree).group(1)
    pages = []
    for number in (int(k) for k in re.findall(rb"(\d+) 0 R", kids)):
        content = re.search(rb"/Contents (\d+) 0 R", objects[number][0]).group(1)
        stream = objects[int(content)][1] or b""
        text, font = [], {}
        operators = rb"/([A-Za-z0-9_.+-]+) [\d.]+ Tf|\[(.*?)\] ?TJ|<([0-9a-fA-F]*)> ?Tj|( Tm\b)"
        for op in re.finditer(operators, stream, re.S):
            if op.group(1):
                font = fonts.get(op.group(1), {})
            elif op.group(4):
                text.append("\n")
            else:
                codes = (
                    re.findall(rb"<([0-9a-fA-F]*)>", op.group(2))
                    if op.group(2) is not None
                    else [op.group(3)]
                )
                for code in codes:
                    text.extend(
                        font.get(int(code[i : i + 4], 16), "?") for i in range(0, len(code), 4)
                    )
        pages.append("".join(text))
    return pages


# ------------------------------------------------------------------------- HTML reading
class _Page(HTMLParser):
    """Collects verdict rows, images, references and text of a report page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.images: list[dict] = []
        self.references: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self.meta: list[dict] = []
        self._in_verdicts = False
        self._cell: list[str] | None = None
        self._in_style = False
        self.handlers: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.lower().startswith("on")]
        for name, value in attrs:
            if (
                name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data")
                and value
            ):
                self.references.append((tag, name, value))
        if tag == "table" and attributes.get("id") == "verdicts":
            self._in_verdicts = True
        if self._in_verdicts and tag == "tr" and "data-claim" in attributes:
            self.rows.append(
                {"id": attributes["data-claim"], "verdict": attributes["data-verdict"], "cells": []}
            )
        if self._in_verdicts and tag == "td":
            self._cell = []
        if tag == "img":
            self.images.append(attributes)
        if tag == "style":
            self._in_style = True
            self.styles.append("")
        if tag == "meta":
            self.meta.append(attributes)

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_verdicts = False
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_style:
            self.styles[-1] += data


def parse_html(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def squash(text: str) -> str:
    """Text without any whitespace (line breaks in a PDF fall anywhere)."""
    return re.sub(r"\s+", "", text)


def test_pdf_reader_reads_text_and_pages_written_by_weasyprint():
    pdf = render_pdf(
        "<html><body><p>Migraine days changed by -2.52 (95% CI -3.43 to -1.62).</p>"
        '<p>Caf\u00e9 \u2264 50% \u2192 ok</p><h1 style="break-before: page">Second page</h1>'
        "<p>Bold <b>verdict</b></p></body></html>"
    )
    pages = pdf_pages_text(pdf)
    assert len(pages) == 2
    assert "changedby-2.52(95%CI-3.43to-1.62)" in squash(pages[0])
    assert "Caf\u00e9\u226450%\u2192ok" in squash(pages[0])
    assert squash(pages[1]) == "SecondpageBoldverdict"


def test_html_reader_finds_rows_references_and_handlers():
    page = parse_html(
        '<table id="verdicts"><tr data-claim="a" data-verdict="supported"><td>x &amp; y</td>'
        '<td><b>z</b></td></tr></table><img src="data:image/png;base64,AA" onerror="x()">'
        '<a href="http://example.org">link</a><style>p { color: red; }</style>'
    )
    assert page.rows == [{"id": "a", "verdict": "supported", "cells": ["x & y", "z"]}]
    assert page.references == [
        ("img", "src", "data:image/png;base64,AA"),
        ("a", "href", "http://example.org"),
    ]
    assert page.handlers == [("img", "onerror")]
    assert page.styles == ["p { color: red; }"]
