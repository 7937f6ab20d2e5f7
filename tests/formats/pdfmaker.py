"""A minimal PDF writer for tests: Helvetica text, one line per string, one page per list."""

from __future__ import annotations


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(pages: list[list[str]], title: str) -> bytes:
    """A valid PDF 1.4 file whose text pypdf extracts line by line."""
    bodies: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    pages_id = 2 + 2 * len(pages)  # font, then a content and a page object per page
    page_ids = []
    for lines in pages:
        ops = " ".join(f"({_escape(line)}) Tj T*" for line in lines)
        stream = f"BT /F1 10 Tf 14 TL 50 780 Td {ops} ET".encode("latin-1")
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        bodies.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 1 0 R >> >> >>" % (pages_id, len(bodies))
        )
        page_ids.append(len(bodies))
    kids = " ".join(f"{p} 0 R" for p in page_ids).encode()
    bodies.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages)))
    assert len(bodies) == pages_id
    bodies.append(b"<< /Title (%s) >>" % _escape(title).encode("latin-1"))
    bodies.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        len(bodies),
        len(bodies) - 1,
        xref,
    )
    return bytes(out)
