"""Charts as plain SVG strings: no browser, no plotting library, identical in HTML and PDF.

Pure functions of counts; text is escaped, sizes are fixed so a report's layout is stable.
``drawn_title=False`` leaves the title to the page around the chart (its ``aria-label``
keeps it).

Right-to-left text (Arabic labels) is drawn already shaped and in display order: WeasyPrint
lays SVG text out glyph by glyph, without joining Arabic letters or reordering runs, so
the label is given as Arabic presentation forms (`arabic_reshaper`) in visual order
(`python-bidi`), and marked ``unicode-bidi: bidi-override`` left to right so that a browser,
which would otherwise reorder it a second time, draws it exactly as given as well.
"""

from __future__ import annotations

import unicodedata
from html import escape

import arabic_reshaper
from bidi import get_display

_BAR = "#2f6690"
_W, _ROW = 640, 22
_RTL = frozenset({"R", "AL"})


def _right_to_left(text: str) -> bool:
    return any(unicodedata.bidirectional(ch) in _RTL for ch in text)


def text(x: float, y: float, content: str, size: int, extra: str = "") -> str:
    """One SVG ``<text>`` drawn the same by WeasyPrint and by a browser, in any script."""
    attrs = f'x="{x}" y="{y}" font-size="{size}"{" " + extra if extra else ""}'
    if _right_to_left(content):
        shown = get_display(arabic_reshaper.reshape(content))
        attrs += ' direction="ltr" unicode-bidi="bidi-override"'
        return f"<text {attrs}>{escape(shown)}</text>"
    return f"<text {attrs}>{escape(content)}</text>"


def bar_chart(
    counts: dict[str, int],
    title: str,
    limit: int = 15,
    empty: str = "nothing in this period",
    drawn_title: bool = True,
) -> str:
    """Horizontal bars, largest first (at most ``limit`` rows)."""
    rows = list(counts.items())[:limit]
    top = max((n for _, n in rows), default=0) or 1
    label_w, height = 200, 30 + _ROW * max(len(rows), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        f'viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">',
    ]
    if drawn_title:
        parts.append(text(0, 16, title, 13, 'font-weight="bold"'))
    if not rows:
        parts.append(text(0, 44, empty, 12))
    for i, (label, n) in enumerate(rows):
        y = 26 + i * _ROW
        width = max(1, round((_W - label_w - 60) * n / top))
        parts += [
            text(label_w - 6, y + 14, label[:32], 11, 'text-anchor="end"'),
            f'<rect x="{label_w}" y="{y + 2}" width="{width}" height="{_ROW - 6}" fill="{_BAR}"/>',
            f'<text x="{label_w + width + 4}" y="{y + 14}" font-size="11">{n}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def column_chart(counts: dict[str, int], title: str, drawn_title: bool = True) -> str:
    """Vertical columns in the order given (days of a period), first and last labelled."""
    rows = list(counts.items())
    top = max((n for _, n in rows), default=0) or 1
    height, base, left = 200, 170, 40
    step = (_W - left - 10) / max(len(rows), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        f'viewBox="0 0 {_W} {height}" role="img" aria-label="{escape(title)}">',
        text(0, 16, title, 13, 'font-weight="bold"') if drawn_title else "",
        f'<line x1="{left}" y1="{base}" x2="{_W - 10}" y2="{base}" stroke="#555"/>',
        f'<text x="{left - 4}" y="34" font-size="10" text-anchor="end">{top}</text>',
    ]
    for i, (label, n) in enumerate(rows):
        h = (base - 30) * n / top
        x = left + i * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{max(step - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{_BAR}"><title>{escape(label)}: {n}</title></rect>'
        )
    if rows:
        parts += [
            text(left, base + 16, rows[0][0], 10),
            text(_W - 10, base + 16, rows[-1][0], 10, 'text-anchor="end"'),
        ]
    parts.append("</svg>")
    return "".join(parts)
