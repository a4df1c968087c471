"""QR codes of survey links (segno): SVG for screens and print, PNG for whoever needs a picture.

Error correction is at least M (15% of the code may be lost): a poster at a counter gets smudged,
folded and photographed at an angle. segno raises it to Q or H when that costs no extra size, so a
short link gets the stronger level for free while a long one keeps its modules large enough to scan.
"""

from __future__ import annotations

import io
from typing import Any

ERROR_LEVEL = "m"
BORDER = 4  # the quiet zone the standard asks for, in modules
PNG_SCALE = 12  # pixels per module: a version-8 code is 684 px wide
SVG_SCALE = 8


def qr_code(url: str) -> Any:
    import segno  # lazy: only the QR and poster routes pay for it

    return segno.make(url, error=ERROR_LEVEL, boost_error=True, micro=False)


def qr_svg(url: str, title: str = "") -> bytes:
    buffer = io.BytesIO()
    # a viewBox and no fixed size: the picture scales to whatever box shows or prints it; a white
    # background, so the code still scans on a dark page
    qr_code(url).save(
        buffer,
        kind="svg",
        scale=SVG_SCALE,
        border=BORDER,
        xmldecl=False,
        omitsize=True,
        light="#fff",
        title=title or None,
    )
    return buffer.getvalue()


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=PNG_SCALE, border=BORDER)
    return buffer.getvalue()


def dark_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The code's size in modules and its dark modules as horizontal runs (row, first column, length).

    The poster draws these as filled rectangles: a vector code, sharp at any print size.
    """
    matrix = qr_code(url).matrix
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x] & 1:
                start = x
                while x < len(row) and row[x] & 1:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return len(matrix), runs
